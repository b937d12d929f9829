/* test_engine.c: the engine with scripted check runners, a recording
 * backend and a stepped clock (engine_harness.h). Asserts what reaches the
 * backend: nothing before rise/fall decide, one update per change, one
 * commit per batch, disable files honoured at start and at run time,
 * unsolicited reports. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycast-healthd-check.h"
#include "engine_harness.h"

/* Two services, each one check every 20 ms, rise 3, fall 2; a with a v4
 * and a v6 prefix. */
static void start_two(const char *extra_a)
{
        harness_write("d.json", "{ \"pop\": \"t1\", \"allowed_prefixes\": [\"203.0.113.0/24\", "
                                "\"2001:db8::/32\"] }");
        char a[512];
        snprintf(a, sizeof(a),
                 "{ \"prefixes\": [\"203.0.113.1/32\", \"2001:db8:1::/48\"], %s"
                 "\"checks\": [{\"plugin\": \"x\", \"interval\": \"20ms\", \"timeout\": "
                 "\"10ms\", \"rise\": 3, \"fall\": 2}] }",
                 extra_a);
        harness_write("services.d/a.json", a);
        harness_write("services.d/b.json",
                      "{ \"prefixes\": [\"203.0.113.2/32\"], \"checks\": [{\"plugin\": \"x\", "
                      "\"interval\": \"20ms\", \"timeout\": \"10ms\", \"rise\": 3, \"fall\": 2}] "
                      "}");
        harness_start();
}

static void script_all(const int *r, size_t n)
{
        harness_script("*", r, n, false);
}

START_TEST(nothing_before_rise)
{
        int s[] = {AHC_OK};
        script_all(s, 1);
        /* Two results per service (start jitter must not give one service
         * three while the other has one): still below rise. */
        harness_probe_cap(2);
        start_two("");
        HARNESS_RUN_UNTIL(h.probes >= 4);
        /* and a long while later, still nothing answered past the cap */
        harness_advance(1000 * HARNESS_MS);
        ck_assert_uint_eq(h.probes, 4);
        ck_assert_uint_eq(h.n, 0);
        ck_assert_uint_eq(h.commits, 0);
}
END_TEST

START_TEST(announce_after_rise_once)
{
        int s[] = {AHC_OK};
        script_all(s, 1);
        start_two("");
        HARNESS_RUN_UNTIL(h.probes >= 20); /* ten rounds: rise reached, and more */
        ck_assert_uint_eq(h.n, 3);         /* a: v4 + v6, b: v4; each once */
        bool a4 = false, a6 = false, b4 = false;
        for (size_t i = 0; i < h.n; i++) {
                a4 |= harness_line_is(i, "announce 203.0.113.1/32 a");
                a6 |= harness_line_is(i, "announce 2001:db8:1::/48 a");
                b4 |= harness_line_is(i, "announce 203.0.113.2/32 b");
        }
        ck_assert(a4 && a6 && b4);
        ck_assert_uint_ge(h.commits, 1);
        /* the third result of a service announces it: 60 ms at most after
         * its first start, which is within its first interval (jitter) */
        ck_assert_int_eq(harness_status("a").state, SVC_UP);
}
END_TEST

START_TEST(down_start_is_stated_then_flaps_follow)
{
        /* fall (2) failures, then rise (3) passes, then fall failures. */
        int s[] = {AHC_CRITICAL, AHC_UNKNOWN,  AHC_OK,       AHC_OK,
                   AHC_OK,       AHC_CRITICAL, AHC_CRITICAL, AHC_CRITICAL};
        script_all(s, 8);
        start_two("");
        HARNESS_RUN_UNTIL(h.probes >= 30);
        /* Per service: withdraw (start, stated once known), announce, withdraw. */
        unsigned w = 0, a = 0;
        for (size_t i = 0; i < h.n; i++) {
                if (strstr(h.log[i], " b") && strncmp(h.log[i], "withdraw", 8) == 0)
                        w++;
                if (strstr(h.log[i], " b") && strncmp(h.log[i], "announce", 8) == 0)
                        a++;
        }
        ck_assert_uint_eq(w, 2);
        ck_assert_uint_eq(a, 1);
        ck_assert_uint_eq(h.n, 9);
}
END_TEST

START_TEST(disable_file_at_start_and_runtime)
{
        int s[] = {AHC_OK};
        script_all(s, 1);
        /* relative: under services.d, where the service file is */
        start_two("\"disable_file\": \"disabled-a\", ");
        HARNESS_RUN_UNTIL(h.probes >= 20);
        /* Not disabled yet: announced. */
        ck_assert_uint_eq(h.n, 3);
        harness_write("services.d/disabled-a", "");
        /* inotify: seen without time passing */
        fake_clock_settle(&h.clock);
        ck_assert_uint_eq(h.n, 5);
        ck_assert_str_eq(h.log[3], "withdraw 203.0.113.1/32 a");
        ck_assert_str_eq(h.log[4], "withdraw 2001:db8:1::/48 a");
        harness_remove("services.d/disabled-a");
        fake_clock_settle(&h.clock);
        ck_assert_uint_eq(h.n, 7);
        ck_assert(harness_line_is(5, "announce 203.0.113.1/32 a"));

        /* at start: stated withdrawn before any check ran */
        harness_stop();
        harness_write("services.d/disabled-a", "");
        harness_start();
        ck_assert_uint_eq(h.probes, 0);
        ck_assert_uint_eq(h.n, 2);
        ck_assert_str_eq(h.log[0], "withdraw 203.0.113.1/32 a");
        ck_assert_int_eq(harness_status("a").state, SVC_DISABLED);
}
END_TEST

/* An unsolicited failing report takes the check down at once (fall 2 is
 * not waited for); a passing one counts once towards rise (3). */
START_TEST(event_down_bypasses_fall)
{
        int s[] = {AHC_OK};
        script_all(s, 1);
        start_two("");
        HARNESS_RUN_UNTIL(h.probes >= 20);
        ck_assert_uint_eq(h.n, 3);
        unsigned probes_before = h.probes;
        ck_assert(harness_report("a", AHC_CRITICAL, "process 42 exited"));
        fake_clock_settle(&h.clock);
        /* withdrawn after one report, without a probe in between */
        ck_assert_uint_eq(h.probes, probes_before);
        ck_assert_uint_eq(h.n, 5);
        ck_assert_str_eq(h.log[3], "withdraw 203.0.113.1/32 a");
        ck_assert_str_eq(h.log[4], "withdraw 2001:db8:1::/48 a");
}
END_TEST

START_TEST(event_up_counts_once)
{
        int s[] = {AHC_CRITICAL};
        script_all(s, 1);
        start_two("");
        HARNESS_RUN_UNTIL(h.probes >= 10);
        ck_assert_uint_eq(h.n, 3); /* both withdrawn, stated once known */
        /* Reports reach the engine synchronously here (the fake runner has
         * no queue), and the time stands still: no probe comes between. */
        ck_assert(harness_report("a", AHC_OK, "unit active"));
        ck_assert(harness_report("a", AHC_OK, "unit active"));
        ck_assert_uint_eq(h.n, 3); /* 2 of rise 3: nothing yet */
        ck_assert(harness_report("a", AHC_OK, "unit active"));
        ck_assert_uint_eq(h.n, 5);
        ck_assert(harness_line_is(3, "announce 203.0.113.1/32 a"));
}
END_TEST

/* Fixed rate: each check starts once per interval, whatever the fake
 * time step; the first start falls within the first interval (jitter). */
START_TEST(fixed_rate_schedule)
{
        int s[] = {AHC_OK};
        script_all(s, 1);
        start_two("");
        harness_advance(20 * HARNESS_MS);
        ck_assert_uint_eq(h.probes, 2); /* each service once in its first 20 ms */
        harness_advance(1000 * HARNESS_MS);
        /* 50 intervals each, 51 when a start fell on the very boundary */
        ck_assert_uint_ge(h.probes, 2 + 2 * 50);
        ck_assert_uint_le(h.probes, 2 + 2 * 51);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("engine");
        TCase *tc = tcase_create("engine");
        tcase_add_checked_fixture(tc, harness_setup, harness_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, nothing_before_rise);
        tcase_add_test(tc, announce_after_rise_once);
        tcase_add_test(tc, down_start_is_stated_then_flaps_follow);
        tcase_add_test(tc, disable_file_at_start_and_runtime);
        tcase_add_test(tc, event_down_bypasses_fall);
        tcase_add_test(tc, event_up_counts_once);
        tcase_add_test(tc, fixed_rate_schedule);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
