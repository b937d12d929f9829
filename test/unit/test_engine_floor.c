/* test_engine_floor.c: the floor in the engine (engine_floor.c) with a
 * scripted fleet behind the seam: the last PoP holds (announced with the
 * degraded attributes, state held), a withdraw goes only once etcd
 * agreed, a lost race holds, etcd away decides as on_unreachable says,
 * recovery ends the hold, the operator's disable is not held, and every
 * state reaches the fleet. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycast-healthd-check.h"
#include "engine_harness.h"

/* ---- the scripted fleet ---- */

static struct {
        bool ready;
        unsigned others;
        int ask_answer; /* what ask_withdraw returns */
        unsigned asks;
        char last_publish[256];
        unsigned publishes;
} fl;

static bool f_ready(void *ctx)
{
        return fl.ready;
}

static unsigned f_others(void *ctx, const char *service)
{
        return fl.others;
}

static int f_ask(void *ctx, const char *service, const char *state, const char *reason)
{
        fl.asks++;
        return fl.ask_answer;
}

static void f_publish(void *ctx, const char *service, bool announced, bool held, const char *state,
                      int64_t since, const char *reason)
{
        snprintf(fl.last_publish, sizeof(fl.last_publish), "%s announced=%d held=%d %s", service,
                 announced, held, state);
        fl.publishes++;
}

static void start(const char *on_unreachable, unsigned min_pops)
{
        char text[512];
        snprintf(text, sizeof(text),
                 "{ \"pop\": \"t1\", \"asn\": 65001, \"state_file\": \"state.json\", "
                 "\"fleet\": {\"etcd\": [\"http://192.0.2.66:2379\"], \"on_unreachable\": \"%s\"}, "
                 "\"allowed_prefixes\": [\"203.0.113.0/24\"] }",
                 on_unreachable);
        harness_write("d.json", text);
        snprintf(text, sizeof(text),
                 "{ \"prefixes\": [\"203.0.113.1/32\"], \"floor\": {\"min_pops\": %u}, "
                 "\"checks\": [{\"plugin\": \"x\", \"interval\": \"10ms\", \"timeout\": "
                 "\"5ms\", \"rise\": 2, \"fall\": 2}] }",
                 min_pops);
        harness_write("services.d/a.json", text);
        harness_start();
        struct engine_fleet seam = {
            .ctx = &fl,
            .ready = f_ready,
            .others_announcing = f_others,
            .ask_withdraw = f_ask,
            .publish = f_publish,
            .on_unreachable = strcmp(on_unreachable, "hold") == 0 ? FLEET_UNREACHABLE_HOLD
                                                                  : FLEET_UNREACHABLE_LOCAL,
        };
        engine_set_fleet(h.en, &seam);
}

static void setup(void)
{
        harness_setup();
        memset(&fl, 0, sizeof(fl));
        fl.ready = true;
        fl.ask_answer = 1;
}

/* up for a while, then down for good */
static void script_up_then_down(void)
{
        static const int s[] = {AHC_OK, AHC_OK, AHC_OK, AHC_OK, AHC_CRITICAL};
        harness_script("a", s, 5, false);
}

#define count     harness_count
#define RUN_UNTIL HARNESS_RUN_UNTIL

START_TEST(the_last_pop_is_held)
{
        script_up_then_down();
        fl.others = 0;
        start("local", 1);
        RUN_UNTIL(harness_status("a").state == SVC_HELD);
        /* announced, then the same prefix again with the degraded prepend */
        ck_assert_uint_eq(count("withdraw"), 0);
        ck_assert_str_eq(h.log[0], "announce 203.0.113.1/32 a prepend=0 med=-1 gshut=0");
        ck_assert_str_eq(h.log[1], "announce 203.0.113.1/32 a prepend=3 med=-1 gshut=0");
        struct service_status st = harness_status("a");
        ck_assert_ptr_nonnull(strstr(st.reason, "held by the floor"));
        ck_assert_ptr_nonnull(strstr(st.reason, "min_pops 1"));
        ck_assert_str_eq(fl.last_publish, "a announced=1 held=1 held");
        ck_assert_uint_eq(fl.asks, 0);

        /* another PoP announces again: etcd is asked, agrees, the hold ends */
        fl.others = 1;
        engine_fleet_changed(h.en, "a");
        harness_advance(HARNESS_MS);
        ck_assert_uint_eq(fl.asks, 1);
        ck_assert_uint_eq(count("withdraw 203.0.113.1/32 a"), 1);
        st = harness_status("a");
        ck_assert_int_eq(st.state, SVC_DOWN);
        ck_assert_ptr_nonnull(strstr(st.reason, "floor released"));
        ck_assert_str_eq(fl.last_publish, "a announced=0 held=0 down");
}
END_TEST

START_TEST(withdraw_waits_for_etcd)
{
        script_up_then_down();
        fl.others = 2;
        fl.ask_answer = 0; /* asked; the answer comes later */
        start("local", 1);
        RUN_UNTIL(fl.asks > 0);
        harness_advance(50 * HARNESS_MS);
        ck_assert_uint_eq(count("withdraw"), 0);
        ck_assert_int_eq(harness_status("a").state, SVC_UP); /* unchanged until answered */

        /* etcd agreed */
        fl.ask_answer = 1;
        engine_fleet_changed(h.en, "a");
        harness_advance(HARNESS_MS);
        ck_assert_uint_eq(count("withdraw 203.0.113.1/32 a"), 1);
        struct service_status st = harness_status("a");
        ck_assert_int_eq(st.state, SVC_DOWN);
        /* the reason is the checks', kept while etcd was asked */
        ck_assert_ptr_null(strstr(st.reason, "fleet:"));
}
END_TEST

START_TEST(a_lost_race_holds)
{
        script_up_then_down();
        fl.others = 1;
        fl.ask_answer = 0;
        start("local", 1);
        RUN_UNTIL(fl.asks > 0);
        /* the other PoP withdrew first: etcd refused, the view now shows none */
        fl.others = 0;
        engine_fleet_changed(h.en, "a");
        harness_advance(HARNESS_MS);
        ck_assert_int_eq(harness_status("a").state, SVC_HELD);
        ck_assert_uint_eq(count("withdraw"), 0);
        ck_assert_uint_eq(count("prepend=3"), 1);
}
END_TEST

START_TEST(etcd_away_local_withdraws)
{
        script_up_then_down();
        fl.ready = false;
        fl.others = 5; /* not trusted while not ready */
        start("local", 1);
        RUN_UNTIL(count("withdraw") == 1);
        ck_assert_int_eq(harness_status("a").state, SVC_DOWN);
        ck_assert_uint_eq(fl.asks, 0);
}
END_TEST

START_TEST(etcd_away_hold_holds)
{
        script_up_then_down();
        fl.ready = false;
        start("hold", 1);
        RUN_UNTIL(harness_status("a").state == SVC_HELD);
        ck_assert_ptr_nonnull(strstr(harness_status("a").reason, "etcd unreachable"));
        /* etcd back with one other PoP announcing: released */
        fl.ready = true;
        fl.others = 1;
        engine_fleet_changed(h.en, NULL);
        harness_advance(HARNESS_MS);
        ck_assert_uint_eq(count("withdraw"), 1);
}
END_TEST

START_TEST(etcd_lost_while_asking)
{
        script_up_then_down();
        fl.others = 1;
        fl.ask_answer = -ENOTCONN;
        start("local", 1);
        RUN_UNTIL(count("withdraw") == 1);
        ck_assert_uint_eq(fl.asks, 1);
}
END_TEST

START_TEST(recovery_ends_the_hold)
{
        static const int s[] = {AHC_OK,       AHC_OK, AHC_CRITICAL, AHC_CRITICAL,
                                AHC_CRITICAL, AHC_OK, AHC_OK};
        harness_script("a", s, 7, false);
        fl.others = 0;
        start("local", 1);
        RUN_UNTIL(harness_status("a").state == SVC_HELD);
        RUN_UNTIL(harness_status("a").state == SVC_UP);
        ck_assert_uint_eq(count("withdraw"), 0);
        ck_assert_uint_eq(count("announce"), 3); /* up, held (degraded), up */
        ck_assert_str_eq(h.log[2], "announce 203.0.113.1/32 a prepend=0 med=-1 gshut=0");
        ck_assert_str_eq(fl.last_publish, "a announced=1 held=0 up");
}
END_TEST

START_TEST(operator_disable_is_not_held)
{
        static const int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        fl.others = 0;
        start("local", 1);
        RUN_UNTIL(count("announce") == 1);
        char why[256] = "";
        ck_assert_int_eq(engine_floor_manual(h.en, "a", why, sizeof(why)), 1);
        ck_assert_ptr_nonnull(strstr(why, "min_pops 1"));
        fl.others = 1;
        ck_assert_int_eq(engine_floor_manual(h.en, "a", why, sizeof(why)), 0);
        fl.ready = false;
        ck_assert_int_eq(engine_floor_manual(h.en, "a", why, sizeof(why)), 1);
        ck_assert_ptr_nonnull(strstr(why, "unreachable"));
        ck_assert_int_eq(engine_floor_manual(h.en, "nope", why, sizeof(why)), -ENOENT);

        /* forced (the control socket asked no more): withdrawn, not held */
        fl.ready = true;
        fl.others = 0;
        ck_assert_int_ge(engine_disable(h.en, "a", "maintenance"), 0);
        harness_advance(HARNESS_MS);
        ck_assert_uint_eq(count("withdraw"), 1);
        ck_assert_int_eq(harness_status("a").state, SVC_DISABLED);
        ck_assert_uint_eq(fl.asks, 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("engine_floor");
        TCase *tc = tcase_create("floor");
        tcase_add_checked_fixture(tc, setup, harness_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, the_last_pop_is_held);
        tcase_add_test(tc, withdraw_waits_for_etcd);
        tcase_add_test(tc, a_lost_race_holds);
        tcase_add_test(tc, etcd_away_local_withdraws);
        tcase_add_test(tc, etcd_away_hold_holds);
        tcase_add_test(tc, etcd_lost_while_asking);
        tcase_add_test(tc, recovery_ends_the_hold);
        tcase_add_test(tc, operator_disable_is_not_held);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
