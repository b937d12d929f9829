/* test_dampening.c: flap dampening arithmetic: exponential decay with the
 * half-life, suppression at the threshold, reuse below the other, the cap,
 * and the time the reuse timer is armed for. */
#include <check.h>
#include <math.h>
#include <stdint.h>

#include "dampening.h"

#define S 1000000ULL

static const struct dampening_cfg cfg = {
    .enabled = true,
    .penalty = 1000,
    .half_life_usec = 60 * S,
    .suppress = 2000,
    .reuse = 750,
    .max_penalty = 4000,
};

START_TEST(decays_by_half_each_half_life)
{
        struct dampening d;
        dampening_init(&d);
        ck_assert(!dampening_transition(&d, &cfg, 10 * S));
        ck_assert_double_eq_tol(dampening_penalty_at(&d, &cfg, 10 * S), 1000, 1e-9);
        ck_assert_double_eq_tol(dampening_penalty_at(&d, &cfg, 70 * S), 500, 1e-6);
        ck_assert_double_eq_tol(dampening_penalty_at(&d, &cfg, 130 * S), 250, 1e-6);
        ck_assert_double_eq_tol(dampening_penalty_at(&d, &cfg, 40 * S), 1000 / sqrt(2), 1e-6);
        /* time going backwards does not grow it */
        ck_assert_double_eq_tol(dampening_penalty_at(&d, &cfg, 5 * S), 1000, 1e-9);
}
END_TEST

START_TEST(suppress_at_threshold_then_reuse_below)
{
        struct dampening d;
        dampening_init(&d);
        ck_assert(!dampening_transition(&d, &cfg, 0));
        ck_assert(!d.suppressed);
        ck_assert_uint_eq(dampening_reuse_at(&d, &cfg), UINT64_MAX);
        /* second flap at once: 2000 >= suppress */
        ck_assert(dampening_transition(&d, &cfg, 0));
        ck_assert(d.suppressed);
        /* 2000 -> 750 takes 60 s * log2(2000/750) = 84.9 s */
        uint64_t at = dampening_reuse_at(&d, &cfg);
        double expect = 60.0 * log2(2000.0 / 750.0) * S;
        ck_assert_uint_ge(at, (uint64_t)expect);
        ck_assert_uint_le(at, (uint64_t)expect + 10);
        /* just before: still suppressed; at: lifted */
        ck_assert(!dampening_update(&d, &cfg, at - 1000));
        ck_assert(d.suppressed);
        ck_assert(dampening_update(&d, &cfg, at));
        ck_assert(!d.suppressed);
        ck_assert(d.penalty < 750);
}
END_TEST

START_TEST(between_reuse_and_suppress_stays_suppressed)
{
        struct dampening d;
        dampening_init(&d);
        dampening_transition(&d, &cfg, 0);
        dampening_transition(&d, &cfg, 0); /* 2000: suppressed */
        /* one half-life: 1000, below suppress but above reuse */
        ck_assert(!dampening_update(&d, &cfg, 60 * S));
        ck_assert(d.suppressed);
        ck_assert_double_eq_tol(d.penalty, 1000, 1e-6);
        /* a flap meanwhile: 2000 again, and the reuse time moves out */
        uint64_t before = dampening_reuse_at(&d, &cfg);
        dampening_transition(&d, &cfg, 60 * S);
        ck_assert_uint_gt(dampening_reuse_at(&d, &cfg), before);
}
END_TEST

START_TEST(penalty_capped_at_max)
{
        struct dampening d;
        dampening_init(&d);
        for (int i = 0; i < 10; i++)
                dampening_transition(&d, &cfg, 0);
        ck_assert_double_eq_tol(d.penalty, 4000, 1e-9);
        /* from the cap, reuse after log2(4000/750) half-lives, not later */
        uint64_t at = dampening_reuse_at(&d, &cfg);
        ck_assert_uint_le(at, (uint64_t)(60.0 * log2(4000.0 / 750.0) * S) + 10);
}
END_TEST

START_TEST(below_suppress_never_suppressed)
{
        struct dampening d;
        dampening_init(&d);
        /* a flap each half-life: 1000, 1500, 1750, 1875... never 2000 */
        for (int i = 0; i < 20; i++) {
                dampening_transition(&d, &cfg, (uint64_t)i * 60 * S);
                ck_assert(!d.suppressed);
        }
        ck_assert(d.penalty < 2000);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("dampening");
        TCase *tc = tcase_create("arith");
        tcase_add_test(tc, decays_by_half_each_half_life);
        tcase_add_test(tc, suppress_at_threshold_then_reuse_below);
        tcase_add_test(tc, between_reuse_and_suppress_stays_suppressed);
        tcase_add_test(tc, penalty_capped_at_max);
        tcase_add_test(tc, below_suppress_never_suppressed);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
