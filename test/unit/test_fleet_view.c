/* test_fleet_view.c: the fleet view (fleet/fleet_view.c) as etcd's keys
 * build it: puts, deletes, counting who announces, and values that are
 * not ours to read counting as not announcing. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_view.h"

#define P "/ahd/"

static int put(struct fleet_view *v, const char *svc, const char *pop, bool announced, int64_t rev,
               char name[FLEET_NAME_MAX])
{
        char *k = fleet_key(P, svc, pop);
        char *val = fleet_value(announced, false, announced ? "up" : "down", 1764806400, "test");
        int r = fleet_view_apply(v, k, val, rev, name);
        free(k);
        free(val);
        return r;
}

START_TEST(counts_who_announces)
{
        struct fleet_view *v = fleet_view_new(P);
        char name[FLEET_NAME_MAX];
        ck_assert_int_eq(put(v, "dns", "pop2", true, 5, name), 1);
        ck_assert_str_eq(name, "dns");
        ck_assert_int_eq(put(v, "dns", "pop1", true, 6, name), 1);
        ck_assert_int_eq(put(v, "dns", "pop3", false, 7, name), 1);
        ck_assert_int_eq(put(v, "web", "pop1", true, 8, name), 1);
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", NULL), 2);
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", "pop1"), 1);
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", "pop3"), 2);
        ck_assert_uint_eq(fleet_view_announcing(v, "nothing", NULL), 0);

        size_t n;
        const struct fleet_entry *e = fleet_view_service(v, "dns", &n);
        ck_assert_uint_eq(n, 3);
        /* sorted by PoP */
        ck_assert_str_eq(e[0].pop, "pop1");
        ck_assert_str_eq(e[1].pop, "pop2");
        ck_assert_str_eq(e[2].pop, "pop3");
        ck_assert_int_eq(e[1].mod_revision, 5);
        ck_assert_str_eq(e[2].state, "down");
        ck_assert_str_eq(e[2].reason, "test");
        ck_assert_int_eq(e[2].since, 1764806400);

        /* the same value again changes nothing, but its revision is kept */
        ck_assert_int_eq(put(v, "dns", "pop2", true, 9, name), 0);
        e = fleet_view_service(v, "dns", &n);
        ck_assert_int_eq(e[1].mod_revision, 9);
        /* older than what the view holds (a transaction's range got ahead
         * of the watch): ignored */
        ck_assert_int_eq(put(v, "dns", "pop2", false, 4, name), 0);
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", NULL), 2);

        /* a PoP's lease expired: its key is deleted */
        char *k = fleet_key(P, "dns", "pop2");
        ck_assert_int_eq(fleet_view_apply(v, k, NULL, 10, name), 1);
        ck_assert_int_eq(fleet_view_apply(v, k, NULL, 10, name), 0);
        free(k);
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", NULL), 1);

        /* the last PoP of a service gone: the service is gone */
        k = fleet_key(P, "web", "pop1");
        ck_assert_int_eq(fleet_view_apply(v, k, NULL, 11, name), 1);
        ck_assert_str_eq(name, "web");
        free(k);
        ck_assert_ptr_null(fleet_view_service(v, "web", &n));
        ck_assert_uint_eq(n, 0);

        fleet_view_forget(v, "dns");
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", NULL), 0);
        ck_assert_int_eq(put(v, "dns", "pop1", true, 1, name), 1);
        fleet_view_clear(v);
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", NULL), 0);
        fleet_view_free(v);
}
END_TEST

START_TEST(foreign_keys_and_values)
{
        struct fleet_view *v = fleet_view_new(P);
        char name[FLEET_NAME_MAX];
        const char *good = "{\"announced\":true,\"state\":\"up\"}";
        /* another fleet's prefix, other key shapes */
        ck_assert_int_eq(fleet_view_apply(v, "/other/services/dns/pop1", good, 1, name), 0);
        ck_assert_int_eq(fleet_view_apply(v, P "services/dns", good, 1, name), 0);
        ck_assert_int_eq(fleet_view_apply(v, P "services/dns/", good, 1, name), 0);
        ck_assert_int_eq(fleet_view_apply(v, P "services//pop1", good, 1, name), 0);
        ck_assert_int_eq(fleet_view_apply(v, P "services/dns/pop1/x", good, 1, name), 0);
        ck_assert_int_eq(fleet_view_apply(v, P "lock/dns/pop1", good, 1, name), 0);
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", NULL), 0);

        ck_assert_int_eq(fleet_view_apply(v, P "services/dns/pop1", good, 1, name), 1);
        ck_assert_uint_eq(fleet_view_announcing(v, "dns", NULL), 1);
        /* a value we cannot read replaces what was there: not announcing */
        const char *bad[] = {
            "",
            "not json",
            "[]",
            "{\"announced\":\"yes\",\"state\":\"up\"}",
            "{\"state\":\"up\"}",
            "{\"announced\":true}",
            "{\"announced\":true,\"state\":\"a-state-name-far-too-long\"}",
            "{\"announced\":true,\"state\":\"up\",\"since\":\"x\"}",
            "{\"announced\":true,\"state\":\"up\",\"announced\":false}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_int_eq(fleet_view_apply(v, P "services/dns/pop1", bad[i], 2, name),
                                 -EBADMSG);
                ck_assert_uint_eq(fleet_view_announcing(v, "dns", NULL), 0);
                ck_assert_int_eq(fleet_view_apply(v, P "services/dns/pop1", good, 1, name), 1);
        }
        fleet_view_free(v);
}
END_TEST

static void count_each(void *ud, const char *service, const struct fleet_entry *e, size_t n)
{
        (void)service;
        (void)e;
        *(size_t *)ud += n;
}

START_TEST(many_services)
{
        struct fleet_view *v = fleet_view_new(P);
        char name[FLEET_NAME_MAX], svc[32];
        for (int i = 0; i < 5000; i++) {
                snprintf(svc, sizeof(svc), "s%05d", i);
                ck_assert_int_eq(put(v, svc, "pop1", i % 2 == 0, i + 1, name), 1);
                ck_assert_int_eq(put(v, svc, "pop2", true, i + 1, name), 1);
        }
        for (int i = 0; i < 5000; i++) {
                snprintf(svc, sizeof(svc), "s%05d", i);
                ck_assert_uint_eq(fleet_view_announcing(v, svc, NULL), i % 2 == 0 ? 2 : 1);
        }
        size_t total = 0;
        fleet_view_each(v, count_each, &total);
        ck_assert_uint_eq(total, 10000);
        fleet_view_free(v);
}
END_TEST

START_TEST(value_round_trip)
{
        char *val = fleet_value(true, true, "held", 42, "floor: \"quoted\"");
        ck_assert_ptr_nonnull(val);
        struct fleet_view *v = fleet_view_new(P);
        char name[FLEET_NAME_MAX];
        ck_assert_int_eq(fleet_view_apply(v, P "services/a/b", val, 3, name), 1);
        size_t n;
        const struct fleet_entry *e = fleet_view_service(v, "a", &n);
        ck_assert(e[0].announced && e[0].held);
        ck_assert_str_eq(e[0].state, "held");
        ck_assert_str_eq(e[0].reason, "floor: \"quoted\"");
        free(val);
        fleet_view_free(v);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("fleet_view");
        TCase *tc = tcase_create("view");
        tcase_add_test(tc, counts_who_announces);
        tcase_add_test(tc, foreign_keys_and_values);
        tcase_add_test(tc, many_services);
        tcase_add_test(tc, value_round_trip);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
