/* test_frr_rib.c: reading bgpd's listing of what it originates, from
 * replies recorded from FRR 8.4 (Debian 12) in the lab's pop4 with the
 * FRR sidecar test's services: web with prepend 2 (path "65004 65004"),
 * dns without (path ""). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frr_rib.h"

/* show bgp ipv4 unicast regexp ^(65004_)*$ json */
static const char listing4[] =
    "{\n"
    " \"vrfId\": 0,\n"
    " \"vrfName\": \"default\",\n"
    " \"tableVersion\": 2,\n"
    " \"routerId\": \"192.0.2.14\",\n"
    " \"defaultLocPrf\": 100,\n"
    " \"localAS\": 65004,\n"
    " \"routes\": { \"203.0.113.53/32\": "
    "[{\"valid\":true,\"bestpath\":true,\"selectionReason\":\"First path "
    "received\",\"pathFrom\":\"external\",\"prefix\":\"203.0.113.53\",\"prefixLen\":32,\"network\":"
    "\"203.0.113.53/"
    "32\",\"version\":2,\"metric\":100,\"weight\":32768,\"peerId\":\"(unspec)\",\"path\":\"\","
    "\"origin\":\"IGP\",\"nexthops\":[{\"ip\":\"0.0.0.0\",\"hostname\":\"pop4\",\"afi\":\"ipv4\","
    "\"used\":true}]}]\n"
    ",\"203.0.113.81/32\": [{\"valid\":true,\"bestpath\":true,\"selectionReason\":\"First path "
    "received\",\"pathFrom\":\"external\",\"prefix\":\"203.0.113.81\",\"prefixLen\":32,\"network\":"
    "\"203.0.113.81/"
    "32\",\"version\":1,\"metric\":77,\"weight\":32768,\"peerId\":\"(unspec)\",\"path\":\"65004 "
    "65004\",\"origin\":\"IGP\",\"nexthops\":[{\"ip\":\"0.0.0.0\",\"hostname\":\"pop4\",\"afi\":"
    "\"ipv4\",\"used\":true}]}]\n"
    " }  } \n";

/* show bgp ipv6 unicast regexp ^(65004_)*$ json */
static const char listing6[] =
    "{\n"
    " \"vrfId\": 0,\n"
    " \"vrfName\": \"default\",\n"
    " \"tableVersion\": 2,\n"
    " \"routerId\": \"192.0.2.14\",\n"
    " \"defaultLocPrf\": 100,\n"
    " \"localAS\": 65004,\n"
    " \"routes\": { \"2001:db8:53::53/128\": "
    "[{\"valid\":true,\"bestpath\":true,\"selectionReason\":\"First path "
    "received\",\"pathFrom\":\"external\",\"prefix\":\"2001:db8:53::53\",\"prefixLen\":128,"
    "\"network\":\"2001:db8:53::53/"
    "128\",\"version\":2,\"metric\":100,\"weight\":32768,\"peerId\":\"(unspec)\",\"path\":\"\","
    "\"origin\":\"IGP\",\"nexthops\":[{\"ip\":\"::\",\"hostname\":\"pop4\",\"afi\":\"ipv6\","
    "\"scope\":\"global\",\"used\":true}]}]\n"
    ",\"2001:db8:81::/64\": [{\"valid\":true,\"bestpath\":true,\"selectionReason\":\"First path "
    "received\",\"pathFrom\":\"external\",\"prefix\":\"2001:db8:81::\",\"prefixLen\":64,"
    "\"network\":\"2001:db8:81::/"
    "64\",\"version\":1,\"metric\":77,\"weight\":32768,\"peerId\":\"(unspec)\",\"path\":\"65004 "
    "65004\",\"origin\":\"IGP\",\"nexthops\":[{\"ip\":\"::\",\"hostname\":\"pop4\",\"afi\":"
    "\"ipv6\",\"scope\":\"global\",\"used\":true}]}]\n"
    " }  } \n";

static bool has(const struct reconcile_set *s, const char *text)
{
        struct prefix p;
        const char *why;
        ck_assert_int_eq(prefix_parse(text, &p, &why), 0);
        return reconcile_set_has(s, &p);
}

static int collect(const char *text, struct reconcile_set *s)
{
        int r = frr_rib_collect(text, strlen(text), s);
        reconcile_set_seal(s);
        return r;
}

START_TEST(query_per_family)
{
        char buf[96];
        frr_rib_query(AF_INET, 65004, buf, sizeof(buf));
        ck_assert_str_eq(buf, "show bgp ipv4 unicast regexp ^(65004_)*$ json");
        frr_rib_query(AF_INET6, 4200000000u, buf, sizeof(buf));
        ck_assert_str_eq(buf, "show bgp ipv6 unicast regexp ^(4200000000_)*$ json");
}
END_TEST

START_TEST(recorded_listings)
{
        struct reconcile_set s = {0};
        ck_assert_int_eq(frr_rib_collect(listing4, strlen(listing4), &s), 0);
        ck_assert_int_eq(collect(listing6, &s), 0);
        ck_assert_uint_eq(s.n, 4);
        ck_assert(has(&s, "203.0.113.53/32"));
        ck_assert(has(&s, "203.0.113.81/32"));
        ck_assert(has(&s, "2001:db8:53::53/128"));
        ck_assert(has(&s, "2001:db8:81::/64"));
        ck_assert(!has(&s, "203.0.113.82/32"));
        reconcile_set_free(&s);
}
END_TEST

/* The recorded listing with web's path made invalid, as bgpd lists a
 * network whose static (import-check) is gone: not held. */
START_TEST(invalid_path_is_not_held)
{
        char *text = strdup(listing4);
        char *web = strstr(text, "\"203.0.113.81/32\": [{\"valid\":true");
        ck_assert_ptr_nonnull(web);
        memcpy(strstr(web, "true"), "null", 4);
        struct reconcile_set s = {0};
        ck_assert_int_eq(collect(text, &s), 0);
        ck_assert_uint_eq(s.n, 1);
        ck_assert(has(&s, "203.0.113.53/32"));
        ck_assert(!has(&s, "203.0.113.81/32"));
        reconcile_set_free(&s);
        free(text);
}
END_TEST

START_TEST(empty_listing)
{
        struct reconcile_set s = {0};
        ck_assert_int_eq(collect("{\"vrfId\": 0, \"localAS\": 65004, \"routes\": {  }  }", &s), 0);
        ck_assert_uint_eq(s.n, 0);
        reconcile_set_free(&s);
}
END_TEST

START_TEST(not_a_listing)
{
        const char *const bad[] = {"",
                                   "% Unknown command: show bgp",
                                   "[1, 2]",
                                   "{\"routes\": []}",
                                   "{\"vrfId\": 0}",
                                   "{\"routes\": {\"203.0.113.1/32\": [{\"valid\":true}]",
                                   NULL};
        for (size_t i = 0; bad[i]; i++) {
                struct reconcile_set s = {0};
                ck_assert_int_eq(collect(bad[i], &s), -EBADMSG);
                reconcile_set_free(&s);
        }
}
END_TEST

/* Keys that are not prefixes, and paths of the wrong shape, are skipped:
 * bgpd's own words are never taken for a route. */
START_TEST(odd_entries_skipped)
{
        struct reconcile_set s = {0};
        ck_assert_int_eq(collect("{\"routes\": {\"not a prefix\": [{\"valid\":true}],"
                                 "\"203.0.113.2/32\": {\"valid\":true},"
                                 "\"203.0.113.3/32\": [{\"valid\":\"true\"}],"
                                 "\"203.0.113.4/32\": [{\"valid\":false},{\"valid\":true}]}}",
                                 &s),
                         0);
        ck_assert_uint_eq(s.n, 1);
        ck_assert(has(&s, "203.0.113.4/32"));
        reconcile_set_free(&s);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("frr_rib");
        TCase *tc = tcase_create("frr_rib");
        tcase_add_test(tc, query_per_family);
        tcase_add_test(tc, recorded_listings);
        tcase_add_test(tc, invalid_path_is_not_held);
        tcase_add_test(tc, empty_listing);
        tcase_add_test(tc, not_a_listing);
        tcase_add_test(tc, odd_entries_skipped);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
