/* test_bird_rib.c: route lines of BIRD's listing, from replies recorded
 * from BIRD 2.0.12 and BIRD 3.1.8 (plain and `all`), line by line through
 * the control protocol's parser as the client sees them. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bird_rib.h"

/* Parses raw protocol lines as bird_ctl does (continuations get the code
 * they continue) and collects the prefixes of route lines. */
static size_t routes_of(const char *const *lines, char out[][PREFIX_STRLEN], size_t max)
{
        size_t n = 0;
        int last = -1;
        for (size_t i = 0; lines[i]; i++) {
                struct birdctl_line l;
                ck_assert_int_eq(birdctl_parse_line(lines[i], &l), 0);
                if (l.kind == BIRDCTL_LINE_CONT)
                        l.code = last;
                else
                        last = l.code;
                struct prefix p;
                if (bird_rib_route_line(&l, &p)) {
                        ck_assert_uint_lt(n, max);
                        prefix_format(&p, out[n++]);
                }
        }
        return n;
}

START_TEST(bird2_listing)
{
        const char *const lines[] = {
            "1007-Table master4:",
            " 203.0.113.81/32      blackhole [anycast_healthd4 17:26:54.987] * (200)",
            " 203.0.113.53/32      blackhole [anycast_healthd4 17:26:54.987] * (200)",
            "                      blackhole [anycast_healthd4 17:26:55.001] (200)",
            " ",
            " Table master6:",
            " 2001:db8:53::53/128  blackhole [anycast_healthd6 17:26:54.987] * (200)",
            "0000 ",
            NULL};
        char got[8][PREFIX_STRLEN];
        ck_assert_uint_eq(routes_of(lines, got, 8), 3);
        ck_assert_str_eq(got[0], "203.0.113.81/32");
        ck_assert_str_eq(got[1], "203.0.113.53/32");
        ck_assert_str_eq(got[2], "2001:db8:53::53/128");
}
END_TEST

START_TEST(bird2_listing_all)
{
        const char *const lines[] = {"1007-Table master4:",
                                     " 203.0.113.81/32      blackhole [anycast_healthd4 "
                                     "17:27:13.754] * (200)",
                                     "1008-\tType: static univ",
                                     "1007-203.0.113.53/32      blackhole [anycast_healthd4 "
                                     "17:27:13.754] * (200)",
                                     "1008-\tType: static univ",
                                     "1012-\tBGP.med: 77",
                                     "1007-",
                                     " Table master6:",
                                     " 2001:db8:53::53/128  blackhole [anycast_healthd6 "
                                     "17:27:13.754] * (200)",
                                     "1008-\tType: static univ",
                                     "0000 ",
                                     NULL};
        char got[8][PREFIX_STRLEN];
        ck_assert_uint_eq(routes_of(lines, got, 8), 3);
        ck_assert_str_eq(got[1], "203.0.113.53/32");
        ck_assert_str_eq(got[2], "2001:db8:53::53/128");
}
END_TEST

START_TEST(bird3_listing_all)
{
        const char *const lines[] = {
            "1007-Table master4:",
            " 203.0.113.53/32      blackhole [anycast_healthd4 17:27:05.593] * (200)",
            "1012-\tpreference: 200",
            " \tsource: static",
            " \tbgp_med: 77",
            "1008-\tInternal route handling values: 0L 2G 0S id 1",
            "1007-203.0.113.81/32      blackhole [anycast_healthd4 17:27:05.593] * (200)",
            "1012-\tpreference: 200",
            " \tsource: static",
            "1008-\tInternal route handling values: 0L 2G 0S id 2",
            "1007-",
            " Table master6:",
            " 2001:db8:53::53/128  blackhole [anycast_healthd6 17:27:05.593] * (200)",
            "0000 ",
            NULL};
        char got[8][PREFIX_STRLEN];
        ck_assert_uint_eq(routes_of(lines, got, 8), 3);
        ck_assert_str_eq(got[0], "203.0.113.53/32");
        ck_assert_str_eq(got[1], "203.0.113.81/32");
}
END_TEST

/* Routes on trial: the canary protocol named in brackets tells them
 * apart, and a further route of the same prefix (printed without it)
 * belongs to the prefix above it, in plain and `all` listings. */
struct seen {
        char prefix[PREFIX_STRLEN];
        bool canary;
};

static size_t read_all(const char *const *lines, struct seen *out, size_t max)
{
        struct bird_rib_reader rd = {0};
        size_t n = 0;
        int last = -1;
        for (size_t i = 0; lines[i]; i++) {
                struct birdctl_line l;
                ck_assert_int_eq(birdctl_parse_line(lines[i], &l), 0);
                if (l.kind == BIRDCTL_LINE_CONT)
                        l.code = last;
                else
                        last = l.code;
                struct prefix p;
                bool canary;
                if (bird_rib_read(&rd, &l, &p, &canary)) {
                        ck_assert_uint_lt(n, max);
                        prefix_format(&p, out[n].prefix);
                        out[n++].canary = canary;
                }
        }
        return n;
}

START_TEST(canary_routes)
{
        const char *const lines[] = {
            "1007-Table master4:",
            " 203.0.113.81/32      blackhole [anycast_healthd_canary4 17:26:54.987] * (200)",
            " 203.0.113.53/32      blackhole [anycast_healthd4 17:26:54.987] * (200)",
            "                      blackhole [anycast_healthd_canary4 17:26:55.001] (200)",
            "1008-\tType: static univ",
            "1007-                     blackhole [anycast_healthd_canary4 17:26:55.002] (200)",
            " ",
            " Table master6:",
            "                      blackhole [anycast_healthd6 17:26:55.001] (200)",
            " 2001:db8:53::53/128  blackhole [anycast_healthd_canary6 17:26:54.987] * (200)",
            "1007-",
            "                      blackhole [anycast_healthd6 17:26:55.001] (200)",
            "0000 ",
            NULL};
        struct seen got[8];
        ck_assert_uint_eq(read_all(lines, got, 8), 5);
        ck_assert_str_eq(got[0].prefix, "203.0.113.81/32");
        ck_assert(got[0].canary);
        ck_assert_str_eq(got[1].prefix, "203.0.113.53/32");
        ck_assert(!got[1].canary);
        /* the further routes of 203.0.113.53/32, after an attribute line too */
        ck_assert_str_eq(got[2].prefix, "203.0.113.53/32");
        ck_assert(got[2].canary);
        ck_assert_str_eq(got[3].prefix, "203.0.113.53/32");
        ck_assert(got[3].canary);
        /* a table header and an empty line forget the prefix above */
        ck_assert_str_eq(got[4].prefix, "2001:db8:53::53/128");
        ck_assert(got[4].canary);
}
END_TEST

/* Not route lines: other codes, errors, text that only looks like one. */
START_TEST(not_routes)
{
        const char *const lines[] = {"0001 BIRD 2.0.12 ready.",
                                     "8001 Protocol not found",
                                     "9001 syntax error, unexpected '/'",
                                     "1007-203.0.113.53/33 blackhole",
                                     "1007-203.0.113.1/24 blackhole",
                                     "1007-bogus/32 x",
                                     "1007-/32",
                                     "+203.0.113.7/32 async",
                                     "1002-203.0.113.8/32 is not a route listing",
                                     NULL};
        char got[8][PREFIX_STRLEN];
        ck_assert_uint_eq(routes_of(lines, got, 8), 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("bird_rib");
        TCase *tc = tcase_create("bird_rib");
        tcase_add_test(tc, bird2_listing);
        tcase_add_test(tc, bird2_listing_all);
        tcase_add_test(tc, bird3_listing_all);
        tcase_add_test(tc, not_routes);
        tcase_add_test(tc, canary_routes);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
