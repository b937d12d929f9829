/* test_canary.c: the canary timeline (policy/canary.c): an announce after
 * down or unknown goes to the canaries for exactly `time`, then to
 * everyone; failing withdraws; flaps, holds and drains restart or stop the
 * trial; a restart with routes kept stays with everyone; and neither the
 * fleet nor a withdraw ever gets a wider audience. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "canary.h"

#define SEC  1000000ULL
#define T0   (1000 * SEC) /* an engine clock well past boot */
#define TIME (30 * SEC)

static const struct svc_plan UP = {SVC_UP, ROUTE_ANNOUNCE, ATTRS_UP};
static const struct svc_plan DEGRADED = {SVC_DEGRADED, ROUTE_ANNOUNCE, ATTRS_DEGRADED};
static const struct svc_plan DOWN = {SVC_DOWN, ROUTE_WITHDRAW, ATTRS_NONE};
static const struct svc_plan UNKNOWN = {SVC_UNKNOWN, ROUTE_NONE, ATTRS_NONE};
static const struct svc_plan HELD = {SVC_HELD, ROUTE_ANNOUNCE, ATTRS_DEGRADED};
static const struct svc_plan DRAINING = {SVC_DRAINING, ROUTE_ANNOUNCE, ATTRS_DRAINING};

static struct canary_out plan_t(struct canary *c, struct svc_plan p, uint64_t now, uint64_t time,
                                bool kept)
{
        struct canary_in in = {
            .event = CANARY_PLAN,
            .now_usec = now,
            .plan = p,
            .time_usec = time,
            .held_everywhere = kept,
        };
        return canary_step(c, &in);
}

static struct canary_out plan(struct canary *c, struct svc_plan p, uint64_t now)
{
        return plan_t(c, p, now, TIME, false);
}

static struct canary_out tick(struct canary *c, uint64_t now)
{
        struct canary_in in = {.event = CANARY_DEADLINE, .now_usec = now};
        return canary_step(c, &in);
}

#define EXPECT(o, aud, dl)                                                                         \
        do {                                                                                       \
                struct canary_out _o = (o);                                                        \
                ck_assert_str_eq(audience_name(_o.audience), audience_name(aud));                  \
                ck_assert_uint_eq(_o.deadline_usec, (dl));                                         \
        } while (0)

START_TEST(first_announce_is_a_canary_then_everyone_at_exactly_time)
{
        struct canary c;
        canary_init(&c);
        EXPECT(plan(&c, UNKNOWN, T0 - 5 * SEC), AUDIENCE_NONE, 0);
        EXPECT(plan(&c, UP, T0), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(tick(&c, T0 + TIME - 1), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(tick(&c, T0 + TIME), AUDIENCE_EVERYONE, 0);
        /* once there, a stray timer changes nothing */
        EXPECT(tick(&c, T0 + TIME + 1), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(failing_in_the_canary_withdraws_and_recovery_starts_afresh)
{
        struct canary c;
        canary_init(&c);
        EXPECT(plan(&c, UP, T0), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(plan(&c, DOWN, T0 + 10 * SEC), AUDIENCE_NONE, 0);
        /* the timer armed for the old trial fires: nothing to promote */
        EXPECT(tick(&c, T0 + TIME), AUDIENCE_NONE, 0);
        uint64_t back = T0 + 100 * SEC;
        EXPECT(plan(&c, UP, back), AUDIENCE_CANARIES, back + TIME);
        EXPECT(tick(&c, back + TIME - 1), AUDIENCE_CANARIES, back + TIME);
        EXPECT(tick(&c, back + TIME), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(failing_after_everyone_withdraws_and_the_next_announce_is_a_canary)
{
        struct canary c;
        canary_init(&c);
        plan(&c, UP, T0);
        EXPECT(tick(&c, T0 + TIME), AUDIENCE_EVERYONE, 0);
        EXPECT(plan(&c, DOWN, T0 + 3600 * SEC), AUDIENCE_NONE, 0);
        uint64_t back = T0 + 3700 * SEC;
        EXPECT(plan(&c, UP, back), AUDIENCE_CANARIES, back + TIME);
        EXPECT(tick(&c, back + TIME), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(attribute_change_in_the_canary_keeps_it_and_its_deadline)
{
        struct canary c;
        canary_init(&c);
        EXPECT(plan(&c, UP, T0), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(plan(&c, DEGRADED, T0 + 5 * SEC), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(plan(&c, UP, T0 + 6 * SEC), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(plan(&c, DEGRADED, T0 + 7 * SEC), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(tick(&c, T0 + TIME - 1), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(tick(&c, T0 + TIME), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(attribute_change_while_everyone_stays_everyone)
{
        struct canary c;
        canary_init(&c);
        plan(&c, UP, T0);
        tick(&c, T0 + TIME);
        EXPECT(plan(&c, DEGRADED, T0 + 40 * SEC), AUDIENCE_EVERYONE, 0);
        EXPECT(plan(&c, UP, T0 + 41 * SEC), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(flap_inside_the_window_restarts_it)
{
        struct canary c;
        canary_init(&c);
        EXPECT(plan(&c, UP, T0), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(plan(&c, DOWN, T0 + 10 * SEC), AUDIENCE_NONE, 0);
        EXPECT(plan(&c, UP, T0 + 12 * SEC), AUDIENCE_CANARIES, T0 + 42 * SEC);
        /* the first trial's deadline is early for the second */
        EXPECT(tick(&c, T0 + TIME), AUDIENCE_CANARIES, T0 + 42 * SEC);
        EXPECT(tick(&c, T0 + 42 * SEC - 1), AUDIENCE_CANARIES, T0 + 42 * SEC);
        EXPECT(tick(&c, T0 + 42 * SEC), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(no_canary_is_everyone_at_once)
{
        struct canary c;
        canary_init(&c);
        /* time 0, or no neighbours: the engine passes 0 */
        EXPECT(plan_t(&c, UP, T0, 0, false), AUDIENCE_EVERYONE, 0);
        EXPECT(plan_t(&c, DOWN, T0 + SEC, 0, false), AUDIENCE_NONE, 0);
        EXPECT(plan_t(&c, DEGRADED, T0 + 2 * SEC, 0, false), AUDIENCE_EVERYONE, 0);
        EXPECT(plan_t(&c, DOWN, T0 + 3 * SEC, 0, false), AUDIENCE_NONE, 0);
        EXPECT(plan_t(&c, DRAINING, T0 + 4 * SEC, 0, false), AUDIENCE_EVERYONE, 0);
        /* a reload that removes the canary ends a trial at the next plan step */
        canary_init(&c);
        EXPECT(plan(&c, UP, T0), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(plan_t(&c, UP, T0 + SEC, 0, false), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(early_deadline_changes_nothing)
{
        struct canary c;
        canary_init(&c);
        plan(&c, UP, T0);
        struct canary before = c;
        EXPECT(tick(&c, T0), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(tick(&c, T0 + 1), AUDIENCE_CANARIES, T0 + TIME);
        EXPECT(tick(&c, T0 + TIME - 1), AUDIENCE_CANARIES, T0 + TIME);
        ck_assert_int_eq(memcmp(&before, &c, sizeof(c)), 0);
}
END_TEST

START_TEST(late_deadline_promotes)
{
        struct canary c;
        canary_init(&c);
        plan(&c, UP, T0);
        EXPECT(tick(&c, T0 + TIME + 3600 * SEC), AUDIENCE_EVERYONE, 0);
        /* a plan step that comes late (no timer fired yet) promotes too */
        canary_init(&c);
        plan(&c, UP, T0);
        EXPECT(plan(&c, DEGRADED, T0 + TIME + 1), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(restart_with_routes_kept_stays_everyone)
{
        struct canary c;
        canary_init(&c);
        /* unknown at start: nothing sent, the flag not used up */
        EXPECT(plan_t(&c, UNKNOWN, T0, TIME, true), AUDIENCE_NONE, 0);
        EXPECT(plan_t(&c, UP, T0 + 2 * SEC, TIME, true), AUDIENCE_EVERYONE, 0);
        /* a manual drain kept across the restart is not narrowed either */
        canary_init(&c);
        EXPECT(plan_t(&c, DRAINING, T0, TIME, true), AUDIENCE_EVERYONE, 0);
        /* nor a hold of what the speaker kept */
        canary_init(&c);
        EXPECT(plan_t(&c, HELD, T0, TIME, true), AUDIENCE_EVERYONE, 0);
        /* without the flag the same start is a canary */
        canary_init(&c);
        EXPECT(plan_t(&c, UP, T0, TIME, false), AUDIENCE_CANARIES, T0 + TIME);
}
END_TEST

START_TEST(kept_flag_counts_only_until_we_decide)
{
        struct canary c;
        canary_init(&c);
        EXPECT(plan_t(&c, DOWN, T0, TIME, true), AUDIENCE_NONE, 0);
        /* a stale flag after our own withdraw does not skip the trial */
        EXPECT(plan_t(&c, UP, T0 + 50 * SEC, TIME, true), AUDIENCE_CANARIES, T0 + 80 * SEC);
        EXPECT(plan_t(&c, DOWN, T0 + 60 * SEC, TIME, true), AUDIENCE_NONE, 0);
        EXPECT(plan_t(&c, UP, T0 + 70 * SEC, TIME, true), AUDIENCE_CANARIES, T0 + 100 * SEC);
}
END_TEST

/* c brought to one of the four places a plan can find it. */
enum place { AT_NONE, AT_TRIAL, AT_STOPPED_TRIAL, AT_EVERYONE, N_PLACES };

static void bring(struct canary *c, enum place at)
{
        canary_init(c);
        if (at == AT_NONE)
                return;
        plan(c, UP, T0);
        if (at == AT_STOPPED_TRIAL)
                plan(c, UNKNOWN, T0 + SEC);
        if (at == AT_EVERYONE)
                tick(c, T0 + TIME);
}

START_TEST(withdraw_is_none_from_anywhere)
{
        static const enum svc_state states[] = {SVC_UNKNOWN,  SVC_UP,       SVC_DEGRADED, SVC_DOWN,
                                                SVC_DISABLED, SVC_DRAINING, SVC_HELD};
        for (int at = 0; at < N_PLACES; at++) {
                for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
                        for (int kept = 0; kept < 2; kept++) {
                                struct canary c;
                                bring(&c, at);
                                struct svc_plan w = {states[i], ROUTE_WITHDRAW, ATTRS_NONE};
                                EXPECT(plan_t(&c, w, T0 + 100 * SEC, TIME, kept), AUDIENCE_NONE, 0);
                                /* and no timer brings it back */
                                EXPECT(tick(&c, T0 + 3600 * SEC), AUDIENCE_NONE, 0);
                        }
                }
        }
}
END_TEST

START_TEST(the_fleet_never_widens)
{
        static const enum audience had[N_PLACES] = {AUDIENCE_NONE, AUDIENCE_CANARIES,
                                                    AUDIENCE_CANARIES, AUDIENCE_EVERYONE};
        for (int at = 0; at < N_PLACES; at++) {
                struct canary c;
                bring(&c, at);
                /* held: kept as it was, a trial stopped, never promoted */
                EXPECT(plan(&c, HELD, T0 + 2 * SEC + (at == AT_EVERYONE ? TIME : 0)), had[at], 0);
                EXPECT(tick(&c, T0 + TIME), had[at], 0);
                EXPECT(tick(&c, T0 + 3600 * SEC), had[at], 0);
                EXPECT(plan(&c, HELD, T0 + 3601 * SEC), had[at], 0);
        }
        /* the checks vouch again: a held canary starts a fresh trial */
        struct canary c;
        bring(&c, AT_TRIAL);
        plan(&c, HELD, T0 + 2 * SEC);
        EXPECT(plan(&c, UP, T0 + 9 * SEC), AUDIENCE_CANARIES, T0 + 9 * SEC + TIME);
}
END_TEST

START_TEST(quiet_and_drain_stop_the_trial)
{
        struct canary c;
        bring(&c, AT_TRIAL);
        /* disabled with "keep" (or unknown again): nothing sent, no promotion */
        EXPECT(plan(&c, UNKNOWN, T0 + 5 * SEC), AUDIENCE_CANARIES, 0);
        EXPECT(tick(&c, T0 + TIME), AUDIENCE_CANARIES, 0);
        EXPECT(plan(&c, UP, T0 + 50 * SEC), AUDIENCE_CANARIES, T0 + 50 * SEC + TIME);

        bring(&c, AT_TRIAL);
        EXPECT(plan(&c, DRAINING, T0 + 5 * SEC), AUDIENCE_CANARIES, 0);
        EXPECT(tick(&c, T0 + TIME), AUDIENCE_CANARIES, 0);
        /* an announce after down that is draining: canaries, never further */
        bring(&c, AT_NONE);
        EXPECT(plan(&c, DRAINING, T0), AUDIENCE_CANARIES, 0);
        EXPECT(tick(&c, T0 + 3600 * SEC), AUDIENCE_CANARIES, 0);
        bring(&c, AT_EVERYONE);
        EXPECT(plan(&c, DRAINING, T0 + 40 * SEC), AUDIENCE_EVERYONE, 0);
        bring(&c, AT_EVERYONE);
        EXPECT(plan(&c, UNKNOWN, T0 + 40 * SEC), AUDIENCE_EVERYONE, 0);
        bring(&c, AT_NONE);
        EXPECT(plan(&c, UNKNOWN, T0), AUDIENCE_NONE, 0);
}
END_TEST

START_TEST(reload_time_applies_to_the_trial_in_progress)
{
        struct canary c;
        bring(&c, AT_TRIAL);
        EXPECT(plan_t(&c, UP, T0 + 10 * SEC, 20 * SEC, false), AUDIENCE_CANARIES, T0 + 20 * SEC);
        EXPECT(plan_t(&c, UP, T0 + 11 * SEC, 60 * SEC, false), AUDIENCE_CANARIES, T0 + 60 * SEC);
        /* a time that has already passed since the trial began */
        EXPECT(plan_t(&c, UP, T0 + 12 * SEC, 5 * SEC, false), AUDIENCE_EVERYONE, 0);
}
END_TEST

START_TEST(deadlines_are_never_zero_or_wrapped)
{
        struct canary c;
        canary_init(&c);
        EXPECT(plan(&c, UP, 0), AUDIENCE_CANARIES, TIME);
        canary_init(&c);
        EXPECT(plan(&c, UP, UINT64_MAX - 5), AUDIENCE_CANARIES, UINT64_MAX);
        EXPECT(tick(&c, UINT64_MAX - 1), AUDIENCE_CANARIES, UINT64_MAX);
        EXPECT(tick(&c, UINT64_MAX), AUDIENCE_EVERYONE, 0);
        ck_assert_str_eq(audience_name(AUDIENCE_NONE), "none");
        ck_assert_str_eq(audience_name((enum audience)99), "invalid");
}
END_TEST

/* Random plans and timers against the rules as a model states them: a
 * withdraw is none; the audience widens only on an announce the checks
 * raised or a deadline that passed; everyone never narrows to the
 * canaries; a canary's deadline is the start of the
 * current unbroken run of UP/DEGRADED plans plus time, and everyone is
 * reached only after that run lasted time. */
START_TEST(random_sequences_keep_the_rules)
{
        static const struct svc_plan *const plans[] = {&UP,      &DEGRADED, &DOWN,
                                                       &UNKNOWN, &HELD,     &DRAINING};
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        for (int run = 0; run < 200; run++) {
                uint64_t time = run % 10 == 0 ? 0 : (uint64_t)(run % 7 + 1) * SEC;
                struct canary c;
                canary_init(&c);
                struct canary_out last = {AUDIENCE_NONE, 0};
                uint64_t now = T0;
                bool in_run = false; /* the last plans were all UP/DEGRADED since run_start */
                uint64_t run_start = 0;
                for (int i = 0; i < 300; i++) {
                        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                        uint64_t r = seed >> 33;
                        now += r % (3 * SEC);
                        struct canary_out o;
                        bool raised = false;
                        if (r % 3 == 0) {
                                o = tick(&c, now);
                                ck_assert(o.audience <= last.audience ||
                                          (last.deadline_usec && now >= last.deadline_usec));
                        } else {
                                const struct svc_plan *p = plans[(r >> 8) % 6];
                                bool up = p->action == ROUTE_ANNOUNCE &&
                                          (p->state == SVC_UP || p->state == SVC_DEGRADED);
                                if (up && !in_run)
                                        run_start = now;
                                in_run = up;
                                raised = p->action == ROUTE_ANNOUNCE && p->state != SVC_HELD;
                                o = plan_t(&c, *p, now, time, false);
                                if (p->action == ROUTE_WITHDRAW)
                                        ck_assert_int_eq(o.audience, AUDIENCE_NONE);
                                if (!raised)
                                        ck_assert(o.audience <= last.audience);
                        }
                        if (o.audience == AUDIENCE_CANARIES && o.deadline_usec) {
                                ck_assert(in_run);
                                ck_assert_uint_eq(o.deadline_usec, run_start + time);
                                ck_assert_uint_lt(now, o.deadline_usec);
                        } else {
                                ck_assert_uint_eq(o.deadline_usec, 0);
                        }
                        /* a speaker never narrows everyone to the canaries */
                        ck_assert(!(last.audience == AUDIENCE_EVERYONE &&
                                    o.audience == AUDIENCE_CANARIES));
                        if (time && o.audience == AUDIENCE_EVERYONE &&
                            last.audience != AUDIENCE_EVERYONE) {
                                ck_assert(in_run);
                                ck_assert_uint_ge(now - run_start, time);
                        }
                        last = o;
                }
        }
}
END_TEST

int main(void)
{
        Suite *s = suite_create("canary");
        TCase *tc = tcase_create("timeline");
        tcase_add_test(tc, first_announce_is_a_canary_then_everyone_at_exactly_time);
        tcase_add_test(tc, failing_in_the_canary_withdraws_and_recovery_starts_afresh);
        tcase_add_test(tc, failing_after_everyone_withdraws_and_the_next_announce_is_a_canary);
        tcase_add_test(tc, attribute_change_in_the_canary_keeps_it_and_its_deadline);
        tcase_add_test(tc, attribute_change_while_everyone_stays_everyone);
        tcase_add_test(tc, flap_inside_the_window_restarts_it);
        tcase_add_test(tc, no_canary_is_everyone_at_once);
        tcase_add_test(tc, early_deadline_changes_nothing);
        tcase_add_test(tc, late_deadline_promotes);
        tcase_add_test(tc, restart_with_routes_kept_stays_everyone);
        tcase_add_test(tc, kept_flag_counts_only_until_we_decide);
        tcase_add_test(tc, quiet_and_drain_stop_the_trial);
        tcase_add_test(tc, reload_time_applies_to_the_trial_in_progress);
        tcase_add_test(tc, deadlines_are_never_zero_or_wrapped);
        suite_add_tcase(s, tc);
        TCase *inv = tcase_create("invariants");
        tcase_add_test(inv, withdraw_is_none_from_anywhere);
        tcase_add_test(inv, the_fleet_never_widens);
        tcase_add_test(inv, random_sequences_keep_the_rules);
        suite_add_tcase(s, inv);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
