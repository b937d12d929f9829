/* test_timerq.c: many deadlines on one timer: order, moves, cancels, items
 * re-queued from their own callback, all on a real sd-event loop. */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "event_priority.h"
#include "fake_clock.h"
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
        ck_assert_int_eq(timerq_new(e, clock_system(), 1, &q), 0);
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
        ck_assert_int_eq(timerq_new(e, clock_system(), 1, &q), 0);
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

/* On a stepped clock each item fires at its own deadline, not at the
 * step's end; a pending route change ends a dispatch (the rest fire once
 * the commit ran, at the same instant). */
static struct fake_clock fc;
static uint64_t fired_at[4];
static sd_event_source *commit;

static void on_fire_at(struct timerq_item *it, uint64_t now)
{
        struct rec *r = (struct rec *)it;
        fired_at[r->id] = now;
        fired[n_fired++] = r->id;
        if (r->id == 1) {
                /* as the engine does: the commit is the next thing to run */
                ev_route_pending_set(true);
                sd_event_source_set_enabled(commit, SD_EVENT_ONESHOT);
        }
}

static int on_commit(sd_event_source *s, void *userdata)
{
        ev_route_pending_set(false);
        return 0;
}

START_TEST(stepped_clock_fires_each_at_its_deadline)
{
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        fake_clock_init(&fc, e);
        ck_assert_int_eq(timerq_new(e, &fc.clock, 1, &q), 0);
        static struct rec recs[4];
        uint64_t t0 = fc.mono;
        const uint64_t at[4] = {t0 + 5000, t0 + 700, t0 + 700, t0 + 123456};
        n_fired = 0;
        for (int i = 0; i < 4; i++) {
                recs[i].id = i;
                timerq_item_init(&recs[i].it, on_fire_at);
                ck_assert_int_eq(timerq_put(q, &recs[i].it, at[i]), 0);
        }
        ck_assert_uint_eq(timerq_next_due(q), t0 + 700);
        ck_assert_int_ge(sd_event_add_defer(e, &commit, on_commit, NULL), 0);
        sd_event_source_set_enabled(commit, SD_EVENT_OFF);
        fake_clock_advance(&fc, 699);
        ck_assert_uint_eq(n_fired, 0);
        /* item 1 raises a route change: item 2, due too, waits for the
         * commit, then fires at the same instant */
        ck_assert_uint_eq(timerq_run_due(q, t0 + 700), 1);
        ck_assert(ev_route_pending());
        fake_clock_advance(&fc, 1);
        ck_assert(!ev_route_pending());
        ck_assert_uint_eq(n_fired, 2);
        ck_assert_uint_eq(fired_at[2], t0 + 700);
        fake_clock_advance(&fc, 1000000);
        ck_assert_uint_eq(n_fired, 4);
        ck_assert_uint_eq(fired_at[0], t0 + 5000);
        ck_assert_uint_eq(fired_at[3], t0 + 123456);
        ck_assert_uint_eq(fc.mono, t0 + 1000700);
        ck_assert_uint_eq(timerq_next_due(q), UINT64_MAX);
        sd_event_source_disable_unref(commit);
        timerq_free(q);
        ck_assert_uint_eq(fc.n_queues, 0);
        sd_event_unref(e);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("timerq");
        TCase *tc = tcase_create("timerq");
        tcase_add_test(tc, fires_in_deadline_order);
        tcase_add_test(tc, requeue_from_callback);
        tcase_add_test(tc, stepped_clock_fires_each_at_its_deadline);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
