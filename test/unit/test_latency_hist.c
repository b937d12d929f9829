/* test_latency_hist.c: the lateness/delay histogram's quantiles, in its
 * fine range, its coarse range (a saturated machine) and beyond. */
#include <check.h>
#include <stdlib.h>

#include "latency_hist.h"

static struct latency_hist st;

START_TEST(empty_is_zero)
{
        latency_hist_init(&st);
        ck_assert_uint_eq(latency_hist_quantile(&st, 0.5), 0);
}
END_TEST

START_TEST(fine_range_is_within_ten_microseconds)
{
        latency_hist_init(&st);
        for (uint64_t i = 1; i <= 1000; i++)
                latency_hist_add(&st, i * 50); /* 50 us .. 50 ms */
        uint64_t p50 = latency_hist_quantile(&st, 0.5), p99 = latency_hist_quantile(&st, 0.99);
        ck_assert_uint_ge(p50, 25050);
        ck_assert_uint_le(p50, 25060);
        ck_assert_uint_ge(p99, 49550);
        ck_assert_uint_le(p99, 49560);
        ck_assert_uint_eq(st.max_usec, 50000);
}
END_TEST

/* Checks 1.2 s late: the figure must say 1.2 s, not only "over 100 ms". */
START_TEST(coarse_range_is_within_a_millisecond)
{
        latency_hist_init(&st);
        for (int i = 0; i < 90; i++)
                latency_hist_add(&st, 1200500);
        for (int i = 0; i < 10; i++)
                latency_hist_add(&st, 5000000);
        uint64_t p50 = latency_hist_quantile(&st, 0.5);
        ck_assert_uint_ge(p50, 1200500);
        ck_assert_uint_le(p50, 1201000);
        ck_assert_uint_eq(latency_hist_quantile(&st, 0.99), 5000000);
}
END_TEST

START_TEST(beyond_the_range_is_the_maximum)
{
        latency_hist_init(&st);
        latency_hist_add(&st, 10);
        latency_hist_add(&st, 30000000);
        ck_assert_uint_eq(latency_hist_quantile(&st, 0.99), 30000000);
        ck_assert_uint_le(latency_hist_quantile(&st, 0.0), 20); /* its bucket's bound */
}
END_TEST

int main(void)
{
        Suite *s = suite_create("latency_hist");
        TCase *tc = tcase_create("latency_hist");
        tcase_add_test(tc, empty_is_zero);
        tcase_add_test(tc, fine_range_is_within_ten_microseconds);
        tcase_add_test(tc, coarse_range_is_within_a_millisecond);
        tcase_add_test(tc, beyond_the_range_is_the_maximum);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
