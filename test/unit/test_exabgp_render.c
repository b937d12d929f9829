/* test_exabgp_render.c: ExaBGP command lines for every attribute shape, in
 * the 4.x syntax and in ExaBGP 6's (its "peer <selector> announce|withdraw
 * route ..." grammar, reactor/api/dispatch/v6.py and command/announce.py). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exabgp_render.h"

static struct prefix pfx(const char *addr, unsigned len)
{
        struct prefix p = {0};
        p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        p.len = (uint8_t)len;
        ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
        return p;
}

static char *render_api(const struct prefix *p, enum route_action a, const struct attrs *at,
                        uint32_t asn, enum exabgp_api api, int *ret)
{
        struct route_update u = {.prefix = p, .action = a, .attrs = at, .service = "dns"};
        char *out = (char *)0x1;
        *ret = exabgp_render(&u, asn, api, &out);
        if (*ret < 0)
                ck_assert_ptr_null(out);
        return out;
}

static char *render(const struct prefix *p, enum route_action a, const struct attrs *at,
                    uint32_t asn, int *ret)
{
        return render_api(p, a, at, asn, EXABGP_API_4, ret);
}

static char *comms[] = {"65001:53", "65001:666"};
static char *large[] = {"65001:0:53"};

START_TEST(ipv4_every_attribute)
{
        struct prefix p = pfx("203.0.113.53", 32);
        struct attrs a = {.next_hop = "self",
                          .med = 100,
                          .communities = comms,
                          .n_communities = 2,
                          .large_communities = large,
                          .n_large_communities = 1,
                          .prepend = 2};
        int r;
        char *s = render(&p, ROUTE_ANNOUNCE, &a, 65001, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "announce route 203.0.113.53/32 next-hop self med 100 "
                            "as-path [ 65001 65001 65001 ] community [ 65001:53 65001:666 ] "
                            "large-community [ 65001:0:53 ]");
        free(s);
}
END_TEST

START_TEST(ipv6_every_attribute)
{
        struct prefix p = pfx("2001:db8:53::", 48);
        struct attrs a = {.next_hop = "2001:db8::1",
                          .med = 0,
                          .communities = comms,
                          .n_communities = 1,
                          .large_communities = large,
                          .n_large_communities = 1,
                          .prepend = 1};
        int r;
        char *s = render(&p, ROUTE_ANNOUNCE, &a, 4200000001u, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "announce route 2001:db8:53::/48 next-hop 2001:db8::1 med 0 "
                            "as-path [ 4200000001 4200000001 ] community [ 65001:53 ] "
                            "large-community [ 65001:0:53 ]");
        free(s);
}
END_TEST

START_TEST(no_attributes)
{
        struct prefix p = pfx("2001:db8::53", 128);
        struct attrs a = {.next_hop = NULL, .med = -1};
        int r;
        /* next-hop defaults to self: ExaBGP silently drops an IPv4 route
         * without one */
        char *s = render(&p, ROUTE_ANNOUNCE, &a, 0, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "announce route 2001:db8::53/128 next-hop self");
        free(s);
}
END_TEST

START_TEST(med_only)
{
        struct prefix p = pfx("198.51.100.0", 24);
        struct attrs a = {.next_hop = "self", .med = 4294967295};
        int r;
        char *s = render(&p, ROUTE_ANNOUNCE, &a, 65001, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "announce route 198.51.100.0/24 next-hop self med 4294967295");
        free(s);
}
END_TEST

START_TEST(withdraw)
{
        struct prefix p4 = pfx("203.0.113.53", 32), p6 = pfx("2001:db8:53::53", 128);
        int r;
        char *s = render(&p4, ROUTE_WITHDRAW, NULL, 0, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "withdraw route 203.0.113.53/32");
        free(s);
        s = render(&p6, ROUTE_WITHDRAW, NULL, 0, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "withdraw route 2001:db8:53::53/128");
        free(s);
}
END_TEST

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

START_TEST(prepend_counts)
{
        struct prefix p = pfx("203.0.113.1", 32);
        for (unsigned prepend = 0; prepend <= 5; prepend++) {
                struct attrs a = {.next_hop = "self", .med = -1, .prepend = prepend};
                int r;
                char *s = render(&p, ROUTE_ANNOUNCE, &a, 64500, &r);
                ck_assert_int_eq(r, 0);
                if (prepend == 0) {
                        /* ExaBGP adds our AS itself when no path is given */
                        ck_assert_ptr_null(strstr(s, "as-path"));
                } else {
                        ck_assert_ptr_nonnull(strstr(s, " as-path [ 64500"));
                        ck_assert_uint_eq(count(s, " 64500"), prepend + 1);
                        ck_assert_ptr_nonnull(strstr(s, "64500 ]"));
                }
                free(s);
        }
}
END_TEST

START_TEST(refuses_bad_input)
{
        struct prefix p = pfx("203.0.113.1", 32);
        int r;
        struct attrs a = {.next_hop = "self", .med = -1, .prepend = 1};
        ck_assert_ptr_null(render(&p, ROUTE_ANNOUNCE, &a, 0, &r)); /* prepend without asn */
        ck_assert_int_eq(r, -EINVAL);

        char *inject[] = {"65001:1\nwithdraw route 203.0.113.9/32"};
        struct attrs b = {.next_hop = "self", .med = -1, .communities = inject, .n_communities = 1};
        ck_assert_ptr_null(render(&p, ROUTE_ANNOUNCE, &b, 65001, &r));
        ck_assert_int_eq(r, -EINVAL);

        char *bracket[] = {"65001:1 ]"};
        struct attrs c = {
            .next_hop = "self", .med = -1, .large_communities = bracket, .n_large_communities = 1};
        ck_assert_ptr_null(render(&p, ROUTE_ANNOUNCE, &c, 65001, &r));
        ck_assert_int_eq(r, -EINVAL);

        struct attrs d = {.next_hop = "self med 1", .med = -1};
        ck_assert_ptr_null(render(&p, ROUTE_ANNOUNCE, &d, 65001, &r));
        ck_assert_int_eq(r, -EINVAL);

        ck_assert_ptr_null(render(&p, ROUTE_NONE, &d, 65001, &r));
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_null(render(&p, ROUTE_ANNOUNCE, NULL, 65001, &r));
        ck_assert_int_eq(r, -EINVAL);

        struct prefix bad = p;
        bad.len = 33;
        ck_assert_ptr_null(render(&bad, ROUTE_WITHDRAW, NULL, 0, &r));
        ck_assert_int_eq(r, -EINVAL);
}
END_TEST

/* API 6: the same route words after "peer * ", for both families and
 * both actions; the 4.x line is not a suffix match by accident. */
START_TEST(api6_every_attribute)
{
        struct prefix p4 = pfx("203.0.113.53", 32), p6 = pfx("2001:db8:53::", 48);
        struct attrs a = {.next_hop = "self",
                          .med = 100,
                          .communities = comms,
                          .n_communities = 2,
                          .large_communities = large,
                          .n_large_communities = 1,
                          .prepend = 2};
        int r;
        char *s = render_api(&p4, ROUTE_ANNOUNCE, &a, 65001, EXABGP_API_6, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "peer * announce route 203.0.113.53/32 next-hop self med 100 "
                            "as-path [ 65001 65001 65001 ] community [ 65001:53 65001:666 ] "
                            "large-community [ 65001:0:53 ]");
        free(s);
        struct attrs b = {.next_hop = "2001:db8::1", .med = -1};
        s = render_api(&p6, ROUTE_ANNOUNCE, &b, 0, EXABGP_API_6, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "peer * announce route 2001:db8:53::/48 next-hop 2001:db8::1");
        free(s);
        s = render_api(&p4, ROUTE_WITHDRAW, NULL, 0, EXABGP_API_6, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "peer * withdraw route 203.0.113.53/32");
        free(s);
        s = render_api(&p6, ROUTE_WITHDRAW, NULL, 0, EXABGP_API_6, &r);
        ck_assert_int_eq(r, 0);
        ck_assert_str_eq(s, "peer * withdraw route 2001:db8:53::/48");
        free(s);
}
END_TEST

START_TEST(api6_refuses_what_4_refuses)
{
        struct prefix p = pfx("203.0.113.1", 32);
        int r;
        struct attrs a = {.next_hop = "self", .med = -1, .prepend = 1};
        ck_assert_ptr_null(render_api(&p, ROUTE_ANNOUNCE, &a, 0, EXABGP_API_6, &r));
        ck_assert_int_eq(r, -EINVAL);
        char *inject[] = {"65001:1\npeer * withdraw route 203.0.113.9/32"};
        struct attrs b = {.next_hop = "self", .med = -1, .communities = inject, .n_communities = 1};
        ck_assert_ptr_null(render_api(&p, ROUTE_ANNOUNCE, &b, 65001, EXABGP_API_6, &r));
        ck_assert_int_eq(r, -EINVAL);
}
END_TEST

/* Only 4 and 6 are syntaxes: anything else renders nothing rather than
 * falling back to one of them. */
START_TEST(unknown_api_refused)
{
        struct prefix p = pfx("203.0.113.1", 32);
        struct attrs a = {.next_hop = "self", .med = -1};
        int r;
        for (int api = 0; api <= 7; api++) {
                if (api == EXABGP_API_4 || api == EXABGP_API_6)
                        continue;
                ck_assert_ptr_null(render_api(&p, ROUTE_ANNOUNCE, &a, 0, (enum exabgp_api)api, &r));
                ck_assert_int_eq(r, -EINVAL);
                ck_assert_ptr_null(
                    render_api(&p, ROUTE_WITHDRAW, NULL, 0, (enum exabgp_api)api, &r));
                ck_assert_int_eq(r, -EINVAL);
        }
}
END_TEST

START_TEST(session_start)
{
        ck_assert_str_eq(exabgp_session_start(EXABGP_API_6, true), "session ack enable");
        ck_assert_str_eq(exabgp_session_start(EXABGP_API_6, false), "session ack silence");
        /* 4.x: ExaBGP's api.ack decides, and 4.2 has no such command */
        ck_assert_ptr_null(exabgp_session_start(EXABGP_API_4, true));
        ck_assert_ptr_null(exabgp_session_start(EXABGP_API_4, false));
}
END_TEST

static char *canaries2[] = {"192.0.2.1", "2001:db8::9", NULL};

START_TEST(canary_lines_name_the_neighbours)
{
        struct prefix p = pfx("203.0.113.53", 32);
        struct attrs a = {.next_hop = "self", .med = -1};
        struct canary_cfg cc = {.neighbors = canaries2, .n_neighbors = 2, .time_usec = 1};
        struct route_update u = {.prefix = &p,
                                 .action = ROUTE_ANNOUNCE,
                                 .attrs = &a,
                                 .audience = AUDIENCE_CANARIES,
                                 .canary = &cc};
        char *s = NULL;
        ck_assert_int_eq(exabgp_render(&u, 65001, EXABGP_API_4, &s), 0);
        ck_assert_str_eq(s, "neighbor 192.0.2.1 , neighbor 2001:db8::9 announce route "
                            "203.0.113.53/32 next-hop self");
        free(s);
        ck_assert_int_eq(exabgp_render(&u, 65001, EXABGP_API_6, &s), 0);
        ck_assert_str_eq(s, "peer [ 192.0.2.1 , 2001:db8::9 ] announce route 203.0.113.53/32 "
                            "next-hop self");
        free(s);
        /* one canary */
        cc.n_neighbors = 1;
        ck_assert_int_eq(exabgp_render(&u, 65001, EXABGP_API_4, &s), 0);
        ck_assert_str_eq(s, "neighbor 192.0.2.1 announce route 203.0.113.53/32 next-hop self");
        free(s);
        /* promoted: the plain line */
        u.audience = AUDIENCE_EVERYONE;
        ck_assert_int_eq(exabgp_render(&u, 65001, EXABGP_API_4, &s), 0);
        ck_assert_str_eq(s, "announce route 203.0.113.53/32 next-hop self");
        free(s);
        /* a trial without neighbours is never widened */
        u.audience = AUDIENCE_CANARIES;
        cc.n_neighbors = 0;
        ck_assert_int_eq(exabgp_render(&u, 65001, EXABGP_API_4, &s), -EINVAL);
        ck_assert_ptr_null(s);
        u.canary = NULL;
        ck_assert_int_eq(exabgp_render(&u, 65001, EXABGP_API_4, &s), -EINVAL);
        /* a withdraw from some peers only; a peer that is no address is refused */
        struct route_update w = {.prefix = &p, .action = ROUTE_WITHDRAW};
        ck_assert_int_eq(exabgp_render_to(&w, canaries2, 2, 0, EXABGP_API_4, &s), 0);
        ck_assert_str_eq(s, "neighbor 192.0.2.1 , neighbor 2001:db8::9 withdraw route "
                            "203.0.113.53/32");
        free(s);
        ck_assert_int_eq(exabgp_render_to(&w, canaries2, 1, 0, EXABGP_API_6, &s), 0);
        ck_assert_str_eq(s, "peer [ 192.0.2.1 ] withdraw route 203.0.113.53/32");
        free(s);
        char *bad[] = {"192.0.2.1 announce", NULL};
        ck_assert_int_eq(exabgp_render_to(&w, bad, 1, 0, EXABGP_API_4, &s), -EINVAL);
        char *name[] = {"upstream", NULL};
        ck_assert_int_eq(exabgp_render_to(&w, name, 1, 0, EXABGP_API_4, &s), -EINVAL);
        ck_assert_int_eq(exabgp_render_to(&w, canaries2, 0, 0, EXABGP_API_4, &s), -EINVAL);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("exabgp_render");
        TCase *tc = tcase_create("render");
        tcase_add_test(tc, ipv4_every_attribute);
        tcase_add_test(tc, ipv6_every_attribute);
        tcase_add_test(tc, no_attributes);
        tcase_add_test(tc, med_only);
        tcase_add_test(tc, withdraw);
        tcase_add_test(tc, prepend_counts);
        tcase_add_test(tc, refuses_bad_input);
        tcase_add_test(tc, api6_every_attribute);
        tcase_add_test(tc, api6_refuses_what_4_refuses);
        tcase_add_test(tc, unknown_api_refused);
        tcase_add_test(tc, session_start);
        tcase_add_test(tc, canary_lines_name_the_neighbours);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
