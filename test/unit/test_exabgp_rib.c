/* test_exabgp_rib.c: adj-rib-out lines in ExaBGP 4.2's and 5.0's text
 * forms (4.2's from its rib.py, "neighbor %s %s %s"), and lines that are
 * not routes of ours. */
#include <check.h>
#include <stdlib.h>

#include "exabgp_rib.h"

static const char *route_of(const char *line)
{
        static char buf[PREFIX_STRLEN];
        struct prefix p;
        if (exabgp_rib_line(line, &p) != 1)
                return NULL;
        prefix_format(&p, buf);
        return buf;
}

START_TEST(both_forms)
{
        ck_assert_str_eq(
            route_of("neighbor 192.0.2.2 ipv4 unicast 203.0.113.53/32 next-hop 192.0.2.10"),
            "203.0.113.53/32");
        ck_assert_str_eq(route_of("192.0.2.2 ipv4 unicast 203.0.113.53/32 next-hop 192.0.2.10"),
                         "203.0.113.53/32");
        ck_assert_str_eq(route_of("neighbor 2001:db8::2 ipv6 unicast 2001:db8:53::53/128 "
                                  "next-hop 2001:db8::10"),
                         "2001:db8:53::53/128");
        ck_assert_str_eq(route_of("2001:db8::2 ipv6 unicast 2001:db8:53::/48"), "2001:db8:53::/48");
        /* an IPv4 session may carry IPv6 routes */
        ck_assert_str_eq(route_of("192.0.2.2 ipv6 unicast 2001:db8:53::/48"), "2001:db8:53::/48");
}
END_TEST

START_TEST(not_routes)
{
        const char *lines[] = {
            "done",
            "error",
            "{ \"exabgp\": \"4.0.1\", \"type\": \"state\" }",
            "neighbor 192.0.2.2 up",
            "neighbor 192.0.2.2 ipv4 flow destination-ipv4 203.0.113.0/24",
            "neighbor 192.0.2.2 ipv4 unicast",
            "neighbor 192.0.2.2 ipv4 unicast 203.0.113.53/33",
            "neighbor 192.0.2.2 ipv4 unicast 2001:db8::/32",
            "neighbor host.example ipv4 unicast 203.0.113.53/32",
            "neighbor 192.0.2.2 ipv4 multicast 203.0.113.53/32",
            "",
            "neighbor",
            "neighbor 192.0.2.2 ipv4 unicast "
            "203.0.113.53/"
            "32xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        };
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
                ck_assert_msg(route_of(lines[i]) == NULL, "taken as a route: %s", lines[i]);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("exabgp_rib");
        TCase *tc = tcase_create("exabgp_rib");
        tcase_add_test(tc, both_forms);
        tcase_add_test(tc, not_routes);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
