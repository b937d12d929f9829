/* test_exabgp_watchdog.c: the watchdog's stall accounting (pure) and the
 * thread and heartbeat on a real loop. */
#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "exabgp_watchdog.h"

#define MS 1000ULL

/* timeout 1 s, looks every 50 ms: a gap over 500 ms is a stopped process */
START_TEST(stall_fires_after_the_timeout)
{
        struct watchdog_clock c;
        watchdog_clock_init(&c, 1000 * MS, 50 * MS, 0, 7);
        uint64_t t = 0;
        for (int i = 0; i < 19; i++) {
                t += 50 * MS;
                ck_assert(!watchdog_clock_look(&c, t, 7));
        }
        t += 50 * MS;
        ck_assert(watchdog_clock_look(&c, t, 7));
}
END_TEST

START_TEST(a_beat_resets_the_count)
{
        struct watchdog_clock c;
        watchdog_clock_init(&c, 1000 * MS, 50 * MS, 0, 0);
        uint64_t t = 0, beat = 0;
        for (int i = 0; i < 200; i++) {
                t += 50 * MS;
                if (i % 15 == 0)
                        beat++; /* a beat every 750 ms: slow, alive */
                ck_assert(!watchdog_clock_look(&c, t, beat));
        }
}
END_TEST

/* SIGSTOP for 10 s: the look after it comes 10 s late; that time is not the
 * loop's fault and must not count, nor may the loop's first beat after
 * SIGCONT be needed within the few looks left. */
START_TEST(time_stopped_with_the_process_does_not_count)
{
        struct watchdog_clock c;
        watchdog_clock_init(&c, 1000 * MS, 50 * MS, 0, 0);
        uint64_t t = 0;
        for (int i = 0; i < 10; i++)
                ck_assert(!watchdog_clock_look(&c, t += 50 * MS, 0));
        ck_assert(!watchdog_clock_look(&c, t += 10000 * MS, 0));
        for (int i = 0; i < 9; i++)
                ck_assert(!watchdog_clock_look(&c, t += 50 * MS, 0));
        /* still no beat: a real stall now, counted from where it stopped */
        ck_assert(watchdog_clock_look(&c, t += 50 * MS, 0));
}
END_TEST

/* Late looks on a loaded machine (below the gap) still count. */
START_TEST(late_looks_count)
{
        struct watchdog_clock c;
        watchdog_clock_init(&c, 1000 * MS, 50 * MS, 0, 0);
        ck_assert(!watchdog_clock_look(&c, 400 * MS, 0));
        ck_assert(!watchdog_clock_look(&c, 800 * MS, 0));
        ck_assert(watchdog_clock_look(&c, 1200 * MS, 0));
}
END_TEST

static atomic_int fired;

static void on_fire(void *userdata)
{
        atomic_fetch_add(&fired, 1);
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A turning loop keeps it quiet for many timeouts; a loop that stops
 * turning makes it fire once, after about the timeout. */
START_TEST(thread_fires_only_when_the_loop_stops)
{
        sd_event *e;
        ck_assert_int_eq(sd_event_new(&e), 0);
        struct loop_watchdog *w;
        atomic_store(&fired, 0);
        ck_assert_int_eq(loop_watchdog_new(e, 300 * MS, on_fire, NULL, &w), 0);
        uint64_t end = now_usec() + 1500 * MS;
        while (now_usec() < end)
                ck_assert_int_ge(sd_event_run(e, 20 * MS), 0);
        ck_assert_int_eq(atomic_load(&fired), 0);
        uint64_t t0 = now_usec();
        while (atomic_load(&fired) == 0 && now_usec() < t0 + 5000 * MS)
                usleep(10 * 1000);
        uint64_t took = now_usec() - t0;
        ck_assert_int_eq(atomic_load(&fired), 1);
        ck_assert_uint_ge(took, 250 * MS);
        usleep(700 * 1000);
        ck_assert_int_eq(atomic_load(&fired), 1);
        loop_watchdog_free(w);
        sd_event_unref(e);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("loop_watchdog");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, stall_fires_after_the_timeout);
        tcase_add_test(tc, a_beat_resets_the_count);
        tcase_add_test(tc, time_stopped_with_the_process_does_not_count);
        tcase_add_test(tc, late_looks_count);
        tcase_add_test(tc, thread_fires_only_when_the_loop_stops);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
