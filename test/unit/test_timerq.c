/* test_timerq.c: many deadlines on one timer: order, moves, cancels, items
 * re-queued from their own callback, all on a real sd-event loop. */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "timerq.h"

#define N 200

struct rec {
        struct timerq_item it;
        int id;
};

static int fired[N * 2];
static size_t n_fired;
static struct timerq *q;

static void on_fire(struct timerq_item *it, uint64_t now)
{
        struct rec *r = (struct rec *)it;
        ck_assert_uint_le(it->due, now);
        fired[n_fired++] = r->id;
}

static uint64_t mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static void run_until(sd_event *e, size_t n)
{
        for (int i = 0; i < 5000 && n_fired < n; i++)
                sd_event_run(e, 10000);
}

START_TEST(fires_in_deadline_order)
{
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(timerq_new(e, 1, &q), 0);
        static struct rec recs[N];
        uint64_t base = mono() + 20000;
        n_fired = 0;
        /* Deadlines in a scrambled order, 100 µs apart. */
        for (int i = 0; i < N; i++) {
                int slot = (i * 37) % N;
                recs[i].id = slot;
                timerq_item_init(&recs[i].it, on_fire);
                ck_assert_int_eq(timerq_put(q, &recs[i].it, base + (uint64_t)slot * 100), 0);
        }
        ck_assert_uint_eq(timerq_count(q), N);
        /* Move one to the very end, cancel another. */
        timerq_put(q, &recs[0].it, base + 1000000);
        recs[0].id = N + 1;
        timerq_cancel(q, &recs[1].it);
        ck_assert(!timerq_item_queued(&recs[1].it));
        run_until(e, N - 1);
        ck_assert_uint_eq(n_fired, N - 1);
        for (size_t i = 1; i < n_fired; i++)
                ck_assert_int_lt(fired[i - 1], fired[i]);
        ck_assert_int_eq(fired[n_fired - 1], N + 1);
        ck_assert_uint_eq(timerq_count(q), 0);
        timerq_free(q);
        sd_event_unref(e);
}
END_TEST

static struct rec again;
static void on_again(struct timerq_item *it, uint64_t now)
{
        fired[n_fired++] = 1;
        if (n_fired < 5)
                timerq_put(q, it, now + 1000);
}

START_TEST(requeue_from_callback)
{
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(timerq_new(e, 1, &q), 0);
        n_fired = 0;
        timerq_item_init(&again.it, on_again);
        timerq_put(q, &again.it, mono() + 1000);
        run_until(e, 5);
        ck_assert_uint_eq(n_fired, 5);
        ck_assert(!timerq_item_queued(&again.it));
        timerq_free(q);
        sd_event_unref(e);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("timerq");
        TCase *tc = tcase_create("timerq");
        tcase_add_test(tc, fires_in_deadline_order);
        tcase_add_test(tc, requeue_from_callback);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
