/* test_floor.c: the floor decision (policy/floor.c): when a withdraw the
 * checks asked for may go ahead, must be agreed by etcd, or is held. */
#include <check.h>
#include <stdlib.h>

#include "floor.h"

static struct floor_in base(void)
{
        return (struct floor_in){
            .min_pops = 1,
            .health_withdraw = true,
            .announced = true,
            .fleet_ok = true,
            .on_unreachable = FLEET_UNREACHABLE_LOCAL,
            .others_announcing = 1,
        };
}

START_TEST(enough_others_ask_etcd)
{
        struct floor_in in = base();
        ck_assert_int_eq(floor_decide(&in), FLOOR_ASK);
        in.min_pops = 2;
        in.others_announcing = 3;
        ck_assert_int_eq(floor_decide(&in), FLOOR_ASK);
        in.others_announcing = 2;
        ck_assert_int_eq(floor_decide(&in), FLOOR_ASK);
}
END_TEST

START_TEST(the_last_ones_are_held)
{
        struct floor_in in = base();
        in.others_announcing = 0;
        ck_assert_int_eq(floor_decide(&in), FLOOR_HOLD);
        in.min_pops = 3;
        in.others_announcing = 2;
        ck_assert_int_eq(floor_decide(&in), FLOOR_HOLD);
        ck_assert_str_eq(floor_verdict_name(FLOOR_HOLD), "hold");
}
END_TEST

START_TEST(not_the_floors_business)
{
        struct floor_in in = base();
        in.others_announcing = 0;
        in.min_pops = 0;
        ck_assert_int_eq(floor_decide(&in), FLOOR_PASS);
        in = base();
        in.others_announcing = 0;
        in.health_withdraw = false; /* disable, drain, withdraw-all */
        ck_assert_int_eq(floor_decide(&in), FLOOR_PASS);
        in = base();
        in.others_announcing = 0;
        in.announced = false; /* never raised here: the fleet raises nothing */
        ck_assert_int_eq(floor_decide(&in), FLOOR_PASS);
}
END_TEST

START_TEST(etcd_away)
{
        struct floor_in in = base();
        in.fleet_ok = false;
        in.others_announcing = 5; /* a stale view counts for nothing */
        ck_assert_int_eq(floor_decide(&in), FLOOR_PASS);
        in.on_unreachable = FLEET_UNREACHABLE_HOLD;
        ck_assert_int_eq(floor_decide(&in), FLOOR_HOLD);
        in.others_announcing = 0;
        ck_assert_int_eq(floor_decide(&in), FLOOR_HOLD);
        in.on_unreachable = FLEET_UNREACHABLE_LOCAL;
        ck_assert_int_eq(floor_decide(&in), FLOOR_PASS);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("floor");
        TCase *tc = tcase_create("decide");
        tcase_add_test(tc, enough_others_ask_etcd);
        tcase_add_test(tc, the_last_ones_are_held);
        tcase_add_test(tc, not_the_floors_business);
        tcase_add_test(tc, etcd_away);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
