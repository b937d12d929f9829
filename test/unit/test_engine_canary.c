/* test_engine_canary.c: the canary in the engine (engine_canary.c) on a
 * stepped clock with the recording speaker: the first announce goes to
 * the canaries and to everyone exactly "time" later; a check failing on
 * trial withdraws it and recovery starts a new full trial; a reload never
 * narrows a route that everyone has; a speaker that cannot send to some
 * neighbours only makes a canary a start and reload error; a route on
 * trial keeps no one's floor (it is not published as announced). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycast-healthd-check.h"
#include "engine_harness.h"
#include "engine_reload.h"

#define count     harness_count
#define RUN_UNTIL HARNESS_RUN_UNTIL

static const char *const daemon_file =
    "{ \"pop\": \"t1\", \"asn\": 65001, \"state_file\": \"state.json\", "
    "\"allowed_prefixes\": [\"203.0.113.0/24\"] }";

/* checks every 10 ms, rise 2, fall 2; canary 1 s (interval given: a
 * change in it is a changed service for a reload) */
static void write_service(const char *interval)
{
        char text[512];
        snprintf(text, sizeof(text),
                 "{ \"prefixes\": [\"203.0.113.1/32\"], "
                 "\"canary\": {\"neighbors\": [\"192.0.2.1\"], \"time\": \"1s\"}, "
                 "\"checks\": [{\"plugin\": \"x\", \"interval\": \"%s\", \"timeout\": "
                 "\"5ms\", \"rise\": 2, \"fall\": 2}] }",
                 interval);
        harness_write("services.d/a.json", text);
}

static void start(void)
{
        harness_write("d.json", daemon_file);
        write_service("10ms");
        harness_start();
}

#define ON_TRIAL "announce 203.0.113.1/32 a prepend=0 med=-1 gshut=0 to=canaries"
#define TO_ALL   "announce 203.0.113.1/32 a prepend=0 med=-1 gshut=0"

START_TEST(to_everyone_exactly_time_after_the_canaries)
{
        start();
        RUN_UNTIL(h.n == 1);
        ck_assert_str_eq(h.log[0], ON_TRIAL);
        uint64_t t0 = h.clock.mono;
        /* the trial ends at t0 + 1 s: one ms before nothing has changed */
        harness_advance(1000 * HARNESS_MS - HARNESS_MS);
        ck_assert_uint_eq(h.n, 1);
        harness_advance(HARNESS_MS);
        ck_assert_uint_eq(h.n, 2);
        ck_assert_str_eq(h.log[1], TO_ALL);
        ck_assert_uint_eq(h.clock.mono - t0, 1000 * HARNESS_MS);
        /* and stays there: no further update while the checks agree */
        harness_advance(3000 * HARNESS_MS);
        ck_assert_uint_eq(h.n, 2);
        ck_assert_int_eq(harness_status("a").state, SVC_UP);
}
END_TEST

START_TEST(failing_on_trial_withdraws_and_recovery_starts_over)
{
        /* up after 2 results, down after 2 more, up again after 2 more */
        static const int s[] = {AHC_OK, AHC_OK, AHC_OK, AHC_CRITICAL, AHC_CRITICAL, AHC_OK, AHC_OK};
        harness_script("a", s, 7, false);
        start();
        RUN_UNTIL(h.n == 1);
        ck_assert_str_eq(h.log[0], ON_TRIAL);
        RUN_UNTIL(h.n == 2);
        ck_assert_str_eq(h.log[1], "withdraw 203.0.113.1/32 a");
        RUN_UNTIL(h.n == 3);
        ck_assert_str_eq(h.log[2], ON_TRIAL);
        uint64_t t1 = h.clock.mono;
        /* a fresh full second from the second announce, not from the first */
        harness_advance(1000 * HARNESS_MS - HARNESS_MS);
        ck_assert_uint_eq(h.n, 3);
        harness_advance(HARNESS_MS);
        ck_assert_uint_eq(h.n, 4);
        ck_assert_str_eq(h.log[3], TO_ALL);
        ck_assert_uint_eq(h.clock.mono - t1, 1000 * HARNESS_MS);
        ck_assert_uint_eq(count("to=canaries"), 2);
}
END_TEST

START_TEST(a_reload_never_narrows)
{
        start();
        RUN_UNTIL(h.n == 2);
        ck_assert_str_eq(h.log[1], TO_ALL);
        /* a changed service: its checks start over, its route is kept */
        write_service("20ms");
        struct diag d = {0};
        ck_assert_int_eq(engine_reload_file(h.en, &d), 0);
        diag_free(&d);
        harness_advance(3000 * HARNESS_MS);
        ck_assert_uint_eq(count("to=canaries"), 1);
        ck_assert_uint_eq(count("withdraw"), 0);
        ck_assert_int_eq(harness_status("a").state, SVC_UP);
}
END_TEST

START_TEST(a_speaker_without_canaries_refuses_it)
{
        harness_speaker_canary(false);
        harness_write("d.json", daemon_file);
        write_service("10ms");
        ck_assert_int_eq(harness_try_start(), -EINVAL);
        ck_assert_uint_eq(h.n, 0);
}
END_TEST

START_TEST(a_reload_adding_a_canary_the_speaker_cannot_send_is_refused)
{
        harness_speaker_canary(false);
        harness_write("d.json", daemon_file);
        harness_write("services.d/a.json",
                      "{ \"prefixes\": [\"203.0.113.1/32\"], \"checks\": [{\"plugin\": \"x\", "
                      "\"interval\": \"10ms\", \"timeout\": \"5ms\", \"rise\": 2}] }");
        harness_start();
        RUN_UNTIL(h.n == 1);
        ck_assert_str_eq(h.log[0], TO_ALL);
        write_service("10ms");
        struct diag d = {0};
        ck_assert_int_eq(engine_reload_file(h.en, &d), -EINVAL);
        ck_assert_ptr_nonnull(diag_find(&d, "cannot announce to some neighbours only"));
        diag_free(&d);
        harness_advance(100 * HARNESS_MS);
        ck_assert_uint_eq(h.n, 1);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("engine_canary");
        TCase *tc = tcase_create("canary");
        tcase_add_checked_fixture(tc, harness_setup, harness_teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, to_everyone_exactly_time_after_the_canaries);
        tcase_add_test(tc, failing_on_trial_withdraws_and_recovery_starts_over);
        tcase_add_test(tc, a_reload_never_narrows);
        tcase_add_test(tc, a_speaker_without_canaries_refuses_it);
        tcase_add_test(tc, a_reload_adding_a_canary_the_speaker_cannot_send_is_refused);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
