/* test_health.c: the state machine as pure functions. */
#include <check.h>
#include <stdlib.h>

#include "anycast-healthd-check.h"
#include "health.h"

static void feed_n(struct check_hyst *h, unsigned rise, unsigned fall, int result, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                check_hyst_feed(h, rise, fall, result);
}

START_TEST(starts_unknown_until_rise)
{
        struct check_hyst h;
        check_hyst_init(&h);
        ck_assert_int_eq(h.state, CHECK_UNKNOWN);
        ck_assert(!check_hyst_feed(&h, 3, 2, AHC_OK));
        ck_assert(!check_hyst_feed(&h, 3, 2, AHC_OK));
        ck_assert_int_eq(h.state, CHECK_UNKNOWN);
        ck_assert(check_hyst_feed(&h, 3, 2, AHC_OK));
        ck_assert_int_eq(h.state, CHECK_UP);
        ck_assert(!check_hyst_feed(&h, 3, 2, AHC_OK));
}
END_TEST

START_TEST(starts_unknown_until_fall)
{
        struct check_hyst h;
        check_hyst_init(&h);
        ck_assert(!check_hyst_feed(&h, 3, 2, AHC_CRITICAL));
        ck_assert_int_eq(h.state, CHECK_UNKNOWN);
        ck_assert(check_hyst_feed(&h, 3, 2, AHC_UNKNOWN));
        ck_assert_int_eq(h.state, CHECK_DOWN);
}
END_TEST

START_TEST(interrupted_runs_restart_counting)
{
        struct check_hyst h;
        check_hyst_init(&h);
        feed_n(&h, 3, 2, AHC_OK, 2);
        check_hyst_feed(&h, 3, 2, AHC_CRITICAL); /* one failure: below fall */
        ck_assert_int_eq(h.state, CHECK_UNKNOWN);
        feed_n(&h, 3, 2, AHC_OK, 2);
        ck_assert_int_eq(h.state, CHECK_UNKNOWN);
        check_hyst_feed(&h, 3, 2, AHC_OK);
        ck_assert_int_eq(h.state, CHECK_UP);
        /* Up: a single failure below fall keeps it up. */
        check_hyst_feed(&h, 3, 2, AHC_CRITICAL);
        ck_assert_int_eq(h.state, CHECK_UP);
        check_hyst_feed(&h, 3, 2, AHC_OK);
        check_hyst_feed(&h, 3, 2, AHC_CRITICAL);
        ck_assert_int_eq(h.state, CHECK_UP);
        ck_assert(check_hyst_feed(&h, 3, 2, AHC_CRITICAL));
        ck_assert_int_eq(h.state, CHECK_DOWN);
        /* Down: needs rise successes to come back. */
        feed_n(&h, 3, 2, AHC_OK, 2);
        ck_assert_int_eq(h.state, CHECK_DOWN);
        check_hyst_feed(&h, 3, 2, AHC_OK);
        ck_assert_int_eq(h.state, CHECK_UP);
}
END_TEST

START_TEST(rise_fall_of_one)
{
        struct check_hyst h;
        check_hyst_init(&h);
        ck_assert(check_hyst_feed(&h, 1, 1, AHC_OK));
        ck_assert_int_eq(h.state, CHECK_UP);
        ck_assert(check_hyst_feed(&h, 1, 1, AHC_CRITICAL));
        ck_assert_int_eq(h.state, CHECK_DOWN);
}
END_TEST

START_TEST(warning_passes_and_flags)
{
        struct check_hyst h;
        check_hyst_init(&h);
        feed_n(&h, 2, 2, AHC_WARNING, 2);
        ck_assert_int_eq(h.state, CHECK_UP);
        ck_assert(h.warning);
        check_hyst_feed(&h, 2, 2, AHC_OK);
        ck_assert(!h.warning);
        ck_assert_int_eq(h.last_result, AHC_OK);
        /* Out-of-range codes count as failures. */
        feed_n(&h, 2, 2, 42, 2);
        ck_assert_int_eq(h.state, CHECK_DOWN);
}
END_TEST

static struct check_hyst mk(enum check_state s, bool warning)
{
        struct check_hyst h;
        check_hyst_init(&h);
        h.state = s;
        h.warning = warning;
        return h;
}

START_TEST(combine_all)
{
        struct check_hyst c[3] = {mk(CHECK_UP, false), mk(CHECK_UP, false),
                                  mk(CHECK_UNKNOWN, false)};
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_UNKNOWN);
        c[2] = mk(CHECK_UP, false);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_UP);
        c[1] = mk(CHECK_UP, true);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_DEGRADED);
        c[0] = mk(CHECK_DOWN, false);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_DOWN);
        /* One down check decides "all" even while others are unknown. */
        struct check_hyst d[2] = {mk(CHECK_DOWN, false), mk(CHECK_UNKNOWN, false)};
        ck_assert_int_eq(service_combine(d, 2, COMBINE_ALL, 0), SVC_DOWN);
}
END_TEST

START_TEST(combine_any)
{
        struct check_hyst c[3] = {mk(CHECK_DOWN, false), mk(CHECK_UNKNOWN, false),
                                  mk(CHECK_DOWN, false)};
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ANY, 0), SVC_UNKNOWN);
        c[1] = mk(CHECK_UP, false);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ANY, 0), SVC_UP);
        c[1] = mk(CHECK_DOWN, false);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ANY, 0), SVC_DOWN);
}
END_TEST

START_TEST(combine_at_least)
{
        struct check_hyst c[4] = {mk(CHECK_UP, false), mk(CHECK_UP, false),
                                  mk(CHECK_UNKNOWN, false), mk(CHECK_UNKNOWN, false)};
        ck_assert_int_eq(service_combine(c, 4, COMBINE_AT_LEAST, 2), SVC_UP);
        ck_assert_int_eq(service_combine(c, 4, COMBINE_AT_LEAST, 3), SVC_UNKNOWN);
        c[2] = mk(CHECK_DOWN, false);
        ck_assert_int_eq(service_combine(c, 4, COMBINE_AT_LEAST, 3), SVC_UNKNOWN);
        c[3] = mk(CHECK_DOWN, false);
        /* Two down of four: three can no longer be reached. */
        ck_assert_int_eq(service_combine(c, 4, COMBINE_AT_LEAST, 3), SVC_DOWN);
        ck_assert_int_eq(service_combine(c, 4, COMBINE_AT_LEAST, 2), SVC_UP);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("state");
        TCase *tc = tcase_create("state");
        tcase_add_test(tc, starts_unknown_until_rise);
        tcase_add_test(tc, starts_unknown_until_fall);
        tcase_add_test(tc, interrupted_runs_restart_counting);
        tcase_add_test(tc, rise_fall_of_one);
        tcase_add_test(tc, warning_passes_and_flags);
        tcase_add_test(tc, combine_all);
        tcase_add_test(tc, combine_any);
        tcase_add_test(tc, combine_at_least);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
