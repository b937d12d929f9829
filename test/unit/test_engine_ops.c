/* test_engine_ops.c: the engine's operating features with scripted check
 * runners, a recording backend and a stepped clock (engine_harness.h): degraded
 * attributes and the re-announce between up and degraded, manual disable
 * surviving a restart through the state file, a corrupt state file
 * refusing to start, the drain timeline, reload without churn, flap
 * dampening, hooks, withdraw-all and the STATUS= line. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anycast-healthd-check.h"
#include "engine_harness.h"
#include "engine_notify.h"
#include "prefix.h"
#include "engine_reload.h"
#include "manual_state.h"

/* A service NAME with prefix 203.0.113.N/32, one check every 10 ms, rise 2,
 * fall 2, plus extra keys. */
static void write_service(const char *name, int n, const char *extra)
{
        char text[1024], file[64];
        snprintf(text, sizeof(text),
                 "{ \"prefixes\": [\"203.0.113.%d/32\"], %s%s"
                 "\"checks\": [{\"plugin\": \"x\", \"interval\": \"10ms\", \"timeout\": "
                 "\"5ms\", \"rise\": 2, \"fall\": 2}] }",
                 n, extra, extra[0] ? ", " : "");
        snprintf(file, sizeof(file), "services.d/%s.json", name);
        harness_write(file, text);
}

static void write_daemon(const char *daemon_extra)
{
        char text[512];
        snprintf(text, sizeof(text),
                 "{ \"pop\": \"t1\", \"asn\": 65001, \"state_file\": \"state.json\", %s"
                 "\"allowed_prefixes\": [\"203.0.113.0/24\"] }",
                 daemon_extra);
        harness_write("d.json", text);
}

#define count     harness_count
#define status_of harness_status
#define RUN_UNTIL HARNESS_RUN_UNTIL

static void run_ms(unsigned ms)
{
        harness_advance(ms * HARNESS_MS);
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(degraded_reannounces_with_degraded_attrs)
{
        /* up, then warnings, then up again */
        int s[] = {AHC_OK,      AHC_OK,      AHC_OK,      AHC_WARNING,
                   AHC_WARNING, AHC_WARNING, AHC_WARNING, AHC_OK};
        harness_script("a", s, 8, false);
        write_daemon("");
        write_service("a", 1, "\"announce\": {\"med\": 10}");
        harness_start();
        RUN_UNTIL(count("announce 203.0.113.1/32 a prepend=0 med=10") == 2 &&
                  count("prepend=3") == 1 && count("announce") == 3);
        /* default degraded: announce's attrs plus 3 prepends (asn set) */
        ck_assert_str_eq(h.log[0], "announce 203.0.113.1/32 a prepend=0 med=10 gshut=0");
        ck_assert_str_eq(h.log[1], "announce 203.0.113.1/32 a prepend=3 med=10 gshut=0");
        ck_assert_str_eq(h.log[2], "announce 203.0.113.1/32 a prepend=0 med=10 gshut=0");
        ck_assert_uint_eq(count("withdraw"), 0);
        struct service_status st = status_of("a");
        ck_assert_int_eq(st.state, SVC_UP);
        ck_assert_uint_eq(st.transitions, 3); /* unknown->up->degraded->up */
        ck_assert_str_eq(st.prefixes[0].as_what, "up");
}
END_TEST

START_TEST(degraded_block_and_capacity_check)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        write_daemon("");
        /* the capacity check (also scripted OK) is then made to fail by a
         * second script below; here its block sets MED and no extra prepend */
        write_service("a", 1,
                      "\"announce\": {\"med\": 10}, \"degraded\": {\"med\": 500, \"prepend\": 1, "
                      "\"communities\": [\"65001:666\"]}");
        harness_start();
        RUN_UNTIL(count("announce") == 1);
        ck_assert_str_eq(h.log[0], "announce 203.0.113.1/32 a prepend=0 med=10 gshut=0");
        ck_assert_int_eq(h.cfg->services[0].degraded.med, 500);
        ck_assert_uint_eq(h.cfg->services[0].degraded.prepend, 1);
        ck_assert_str_eq(h.cfg->services[0].degraded.communities[0], "65001:666");
        /* draining = degraded + 65535:0 */
        ck_assert_uint_eq(h.cfg->services[0].draining.n_communities, 2);
        ck_assert_str_eq(h.cfg->services[0].draining.communities[1], "65535:0");
}
END_TEST

START_TEST(disable_survives_restart)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        harness_script("b", s, 1, false);
        write_daemon("");
        write_service("a", 1, "");
        write_service("b", 2, "");
        harness_start();
        RUN_UNTIL(count("announce") == 2);
        ck_assert_int_eq(engine_disable(h.en, "a", "maintenance CHG-1"), 0);
        ck_assert_int_eq(engine_disable(h.en, "nope", "x"), -ENOENT);
        run_ms(30);
        ck_assert_uint_eq(count("withdraw 203.0.113.1/32 a"), 1);
        struct service_status st = status_of("a");
        ck_assert_int_eq(st.state, SVC_DISABLED);
        ck_assert(st.disabled);
        ck_assert_str_eq(st.disabled_reason, "maintenance CHG-1");
        /* the file holds it */
        struct manual_state ms;
        char err[256], path[256];
        snprintf(path, sizeof(path), "%s/state.json", h.dir);
        ck_assert_int_eq(manual_state_load(path, &ms, err, sizeof(err)), 0);
        ck_assert_ptr_nonnull(manual_state_find(&ms, "a"));
        ck_assert_str_eq(manual_state_find(&ms, "a")->reason, "maintenance CHG-1");
        manual_state_free(&ms);

        /* restart: a is stated withdrawn at once and never announced */
        harness_stop();
        harness_start();
        ck_assert_uint_eq(h.n, 1);
        ck_assert_str_eq(h.log[0], "withdraw 203.0.113.1/32 a");
        RUN_UNTIL(count("announce 203.0.113.2/32 b") == 1 && h.probes >= 20);
        ck_assert_uint_eq(count("/32 a"), 1);
        ck_assert_int_eq(status_of("a").state, SVC_DISABLED);

        /* enable brings it back and clears the file */
        ck_assert_int_eq(engine_enable(h.en, "a"), 0);
        ck_assert_int_eq(engine_enable(h.en, "a"), -EALREADY);
        run_ms(30);
        ck_assert_uint_eq(count("announce 203.0.113.1/32 a"), 1);
        ck_assert_int_eq(manual_state_load(path, &ms, err, sizeof(err)), 0);
        ck_assert_uint_eq(ms.n, 0);
        manual_state_free(&ms);
}
END_TEST

/* on_disabled keep: a disable leaves the announced route alone, also once
 * the checks say down; enabling again lets health withdraw it. */
START_TEST(disable_keep_holds_route)
{
        int ok[] = {AHC_OK}, bad[] = {AHC_CRITICAL};
        harness_script("a", ok, 1, false);
        write_daemon("");
        write_service("a", 1, "\"on_disabled\": \"keep\"");
        harness_start();
        RUN_UNTIL(count("announce 203.0.113.1/32 a") == 1);
        ck_assert_int_eq(engine_disable(h.en, "a", "maintenance"), 0);
        harness_script("a", bad, 1, false);
        RUN_UNTIL(status_of("a").health == SVC_DOWN);
        run_ms(30);
        ck_assert_int_eq(status_of("a").state, SVC_DISABLED);
        ck_assert_uint_eq(count("withdraw"), 0);
        ck_assert_uint_eq(h.n, 1);
        ck_assert_int_eq(engine_enable(h.en, "a"), 0);
        RUN_UNTIL(count("withdraw 203.0.113.1/32 a") == 1);
        ck_assert_int_eq(status_of("a").state, SVC_DOWN);
}
END_TEST

/* The state file cannot be written (a directory took its place): the
 * disable applies, the answer says it is not saved and why, and the
 * retry writes it once the path is free again, with no further action. */
START_TEST(unsaved_disable_is_retried)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        write_daemon("");
        write_service("a", 1, "");
        harness_start();
        RUN_UNTIL(count("announce") == 1);
        char path[256], err[256], line[256];
        snprintf(path, sizeof(path), "%s/state.json", h.dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);

        ck_assert_int_eq(engine_disable(h.en, "a", "maintenance"), ENGINE_UNSAVED);
        ck_assert_int_eq(engine_state_file_error(h.en), -EISDIR);
        run_ms(30);
        ck_assert_uint_eq(count("withdraw 203.0.113.1/32 a"), 1);
        ck_assert_int_eq(status_of("a").state, SVC_DISABLED);
        engine_status_line(h.en, line, sizeof(line));
        ck_assert_msg(strstr(line, "state file unsaved (Is a directory)"), "%s", line);
        /* asking again changes nothing and still tells the truth */
        ck_assert_int_eq(engine_disable(h.en, "a", "maintenance"), ENGINE_UNSAVED);

        ck_assert_int_eq(rmdir(path), 0);
        RUN_UNTIL(engine_state_file_error(h.en) == 0);
        struct manual_state ms;
        ck_assert_int_eq(manual_state_load(path, &ms, err, sizeof(err)), 0);
        ck_assert_ptr_nonnull(manual_state_find(&ms, "a"));
        ck_assert_str_eq(manual_state_find(&ms, "a")->reason, "maintenance");
        manual_state_free(&ms);
        engine_status_line(h.en, line, sizeof(line));
        ck_assert_ptr_null(strstr(line, "unsaved"));
        ck_assert_int_eq(engine_enable(h.en, "a"), 0);
}
END_TEST

START_TEST(corrupt_state_file_refuses_start)
{
        write_daemon("");
        write_service("a", 1, "");
        harness_write("state.json", "{\"version\": 1, \"services\": {\"a\": {\"reason\": ");
        ck_assert_int_eq(harness_try_start(), -EBADMSG);
        ck_assert_ptr_null(h.en);
}
END_TEST

START_TEST(drain_timeline)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        write_daemon("");
        write_service("a", 1, "\"drain\": {\"time\": \"300ms\"}");
        harness_start();
        RUN_UNTIL(count("announce") == 1);
        ck_assert_int_eq(engine_drain(h.en, "a", "deploy"), 0);
        ck_assert_int_eq(engine_drain(h.en, "a", "again"), -EALREADY);
        run_ms(20);
        /* 1: re-announced with GRACEFUL_SHUTDOWN and the degraded prepend */
        ck_assert_uint_eq(h.n, 2);
        ck_assert_str_eq(h.log[1], "announce 203.0.113.1/32 a prepend=3 med=-1 gshut=1");
        struct service_status st = status_of("a");
        ck_assert_int_eq(st.state, SVC_DRAINING);
        ck_assert_uint_eq(st.drain_remaining_usec, 280000);
        ck_assert_str_eq(st.prefixes[0].as_what, "draining");
        /* 2: withdrawn when the drain time is over, not a moment before */
        run_ms(279);
        ck_assert_uint_eq(count("withdraw"), 0);
        run_ms(1);
        ck_assert_uint_eq(count("withdraw"), 1);
        ck_assert_str_eq(h.log[2], "withdraw 203.0.113.1/32 a");
        st = status_of("a");
        ck_assert_int_eq(st.state, SVC_DISABLED);
        ck_assert_str_eq(st.disabled_reason, "drained: deploy");
        run_ms(50);
        ck_assert_uint_eq(h.n, 3);
        /* a drained service stays withdrawn across a restart */
        harness_stop();
        harness_start();
        run_ms(100);
        ck_assert_uint_eq(count("announce"), 0);
        ck_assert_int_eq(engine_enable(h.en, "a"), 0);
        RUN_UNTIL(count("announce 203.0.113.1/32 a prepend=0") == 1);
}
END_TEST

START_TEST(drain_of_unannounced_disables_at_once)
{
        int s[] = {AHC_CRITICAL};
        harness_script("a", s, 1, false);
        write_daemon("");
        write_service("a", 1, "");
        harness_start();
        RUN_UNTIL(count("withdraw") == 1);
        ck_assert_int_eq(engine_drain(h.en, "a", "x"), 0);
        ck_assert_int_eq(status_of("a").state, SVC_DISABLED);
}
END_TEST

static void set_flag(void *u)
{
        *(bool *)u = true;
}

START_TEST(shutdown_drain)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        harness_script("b", s, 1, false);
        write_daemon("");
        write_service("a", 1, "\"drain\": {\"time\": \"200ms\", \"on_shutdown\": true}");
        write_service("b", 2, "");
        harness_start();
        RUN_UNTIL(count("announce") == 2);
        static bool done;
        done = false;
        ck_assert_uint_eq(engine_shutdown_drain(h.en, set_flag, &done), 200000);
        run_ms(20);
        ck_assert(!done);
        ck_assert_uint_eq(count("announce 203.0.113.1/32 a prepend=3 med=-1 gshut=1"), 1);
        ck_assert_uint_eq(count("203.0.113.2/32"), 1); /* b: no drain configured */
        run_ms(179);
        ck_assert(!done);
        run_ms(1);
        ck_assert(done);
        /* not persisted: a restart would not keep it withdrawn */
        char path[256];
        struct manual_state ms;
        char err[128];
        snprintf(path, sizeof(path), "%s/state.json", h.dir);
        ck_assert_int_eq(manual_state_load(path, &ms, err, sizeof(err)), 0);
        ck_assert_uint_eq(ms.n, 0);
}
END_TEST

START_TEST(reload_without_churn)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        harness_script("b", s, 1, false);
        harness_script("c", s, 1, false);
        harness_script("d", s, 1, false);
        write_daemon("");
        write_service("a", 1, "");
        write_service("b", 2, "\"announce\": {\"med\": 1}");
        write_service("c", 3, "");
        harness_start();
        RUN_UNTIL(count("announce") == 3);
        struct service_status before = status_of("a");
        uint64_t a_since = before.since_usec, a_trans = before.transitions;
        uint64_t a_ok = before.checks[0].results_by_code[AHC_OK];

        /* a unchanged, b changed (MED), c removed, d added */
        write_service("b", 2, "\"announce\": {\"med\": 2}");
        harness_remove("services.d/c.json");
        write_service("d", 4, "");
        size_t mark = h.n;
        struct diag d = {0};
        ck_assert_int_eq(engine_reload_file(h.en, &d), 0);
        diag_free(&d);
        /* at once: only c's withdraw */
        ck_assert_uint_eq(h.n, mark + 1);
        ck_assert_str_eq(h.log[mark], "withdraw 203.0.113.3/32 c");
        ck_assert_int_eq(engine_service_find(h.en, "c"), -ENOENT);
        ck_assert_int_eq(status_of("b").state, SVC_UNKNOWN);
        ck_assert_int_eq(status_of("d").state, SVC_UNKNOWN);
        /* after rise: b with its new MED, d announced, a untouched */
        RUN_UNTIL(count("announce 203.0.113.2/32 b prepend=0 med=2") == 1 &&
                  count("announce 203.0.113.4/32 d") == 1);
        run_ms(50);
        ck_assert_uint_eq(count("203.0.113.1/32"), 1);
        struct service_status after = status_of("a");
        ck_assert_uint_eq(after.since_usec, a_since);
        ck_assert_uint_eq(after.transitions, a_trans);
        /* its counters kept counting from where they were */
        ck_assert_uint_gt(after.checks[0].results_by_code[AHC_OK], a_ok);
        ck_assert_int_eq(after.state, SVC_UP);
        ck_assert_uint_eq(count("withdraw"), 1);
}
END_TEST

START_TEST(reload_rejects_bad_config)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        write_daemon("");
        write_service("a", 1, "");
        harness_start();
        RUN_UNTIL(count("announce") == 1);
        /* a JSON error, then a plugin that refuses its options */
        write_service("b", 2, "\"nonsense\": 1");
        struct diag d = {0};
        ck_assert_int_eq(engine_reload_file(h.en, &d), -EINVAL);
        ck_assert_ptr_nonnull(diag_find(&d, "unknown key \"nonsense\""));
        diag_free(&d);
        harness_write(
            "services.d/b.json",
            "{ \"prefixes\": [\"203.0.113.2/32\"], \"checks\": [{\"plugin\": \"broken\"}] }");
        d = (struct diag){0};
        ck_assert_int_lt(engine_reload_file(h.en, &d), 0);
        ck_assert_ptr_nonnull(diag_find(&d, "refuses its options"));
        diag_free(&d);
        /* the old configuration runs on, untouched */
        ck_assert_uint_eq(engine_service_count(h.en), 1);
        ck_assert_ptr_eq(engine_config(h.en), h.cfg);
        run_ms(50);
        ck_assert_uint_eq(h.n, 1);
        ck_assert_int_eq(status_of("a").state, SVC_UP);
}
END_TEST

START_TEST(dampening_suppresses_flaps)
{
        /* up 2, down 2, up 2, down 2 ... with rise = fall = 2 */
        int s[] = {AHC_OK, AHC_OK, AHC_CRITICAL, AHC_CRITICAL};
        harness_script("a", s, 4, true);
        write_daemon("");
        write_service("a", 1,
                      "\"dampening\": {\"penalty\": 1000, \"suppress\": 2500, \"reuse\": 800, "
                      "\"half_life\": \"1h\", \"max_penalty\": 5000}");
        harness_start();
        /* transitions: unknown->up (no penalty), up->down 1000, down->up 2000,
         * up->down 3000: suppressed, from then on withdrawn */
        RUN_UNTIL(status_of("a").dampening_suppressed);
        size_t mark = h.n;
        run_ms(300);
        for (size_t i = mark; i < h.n; i++)
                ck_assert_msg(strncmp(h.log[i], "announce", 8) != 0,
                              "announced while suppressed: %s", h.log[i]);
        struct service_status st = status_of("a");
        ck_assert_int_eq(st.state, SVC_DOWN);
        ck_assert(st.dampening_penalty >= 2500);
        ck_assert(st.dampening_penalty <= 5000);
}
END_TEST

START_TEST(dampening_reuse_after_decay)
{
        /* three flaps, then healthy for good */
        int s[] = {AHC_OK, AHC_OK,       AHC_CRITICAL, AHC_CRITICAL, AHC_OK,
                   AHC_OK, AHC_CRITICAL, AHC_CRITICAL, AHC_OK};
        harness_script("a", s, 9, false);
        write_daemon("");
        write_service("a", 1,
                      "\"dampening\": {\"penalty\": 1000, \"suppress\": 2500, \"reuse\": 2000, "
                      "\"half_life\": \"1s\", \"max_penalty\": 5000}");
        harness_start();
        RUN_UNTIL(status_of("a").dampening_suppressed);
        /* 3000 -> below 2000 within about 0.6 s: then announced again */
        RUN_UNTIL(!status_of("a").dampening_suppressed && status_of("a").state == SVC_UP);
        ck_assert_str_eq(h.log[h.n - 1], "announce 203.0.113.1/32 a prepend=0 med=-1 gshut=0");
}
END_TEST

START_TEST(hooks_run_with_environment)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        write_daemon("");
        char extra[512];
        snprintf(extra, sizeof(extra),
                 "\"hooks\": {\"on_change\": [\"/bin/sh\", \"-c\", \"echo \\\"$SERVICE|$PREFIXES|"
                 "$OLD_STATE|$NEW_STATE|$POP|$REASON|$NOTIFY_SOCKET\\\" >> %s/hook.out; echo "
                 "stdout-is-not-ours\"], \"timeout\": \"5s\"}",
                 h.dir);
        write_service("a", 1, extra);
        setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
        harness_start();
        RUN_UNTIL(count("announce") == 1);
        char path[256], line[512] = "";
        snprintf(path, sizeof(path), "%s/hook.out", h.dir);
        for (int i = 0; i < 500; i++) {
                FILE *f = fopen(path, "r");
                if (f) {
                        bool got = fgets(line, sizeof(line), f) != NULL;
                        fclose(f);
                        if (got)
                                break;
                }
                harness_run_real(10);
        }
        unsetenv("NOTIFY_SOCKET");
        ck_assert_msg(strncmp(line, "a|203.0.113.1/32|unknown|up|t1|check x[0] passed", 48) == 0,
                      "hook wrote: %s", line);
        /* no notify socket handed down */
        ck_assert(strstr(line, "|\n") != NULL);
}
END_TEST

/* Reconciliation's stuck verdict reaches the service's hook: NEW_STATE
 * stuck with what differs, then OLD_STATE stuck once right again; the
 * prefix alone in PREFIXES. */
START_TEST(stuck_prefix_runs_the_hook)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        write_daemon("");
        char extra[512];
        snprintf(extra, sizeof(extra),
                 "\"prefixes\": [\"203.0.113.1/32\", \"203.0.113.9/32\"], "
                 "\"hooks\": {\"on_change\": [\"/bin/sh\", \"-c\", \"echo \\\"$PREFIXES|"
                 "$OLD_STATE|$NEW_STATE|$REASON\\\" >> %s/hook.out\"]}",
                 h.dir);
        /* write_service's own prefix key comes first; this one replaces it */
        char text[1024];
        snprintf(text, sizeof(text),
                 "{ %s, \"checks\": [{\"plugin\": \"x\", \"interval\": \"10ms\", "
                 "\"timeout\": \"5ms\", \"rise\": 2, \"fall\": 2}] }",
                 extra);
        harness_write("services.d/a.json", text);
        harness_start();
        RUN_UNTIL(count("announce") == 2);
        struct prefix p;
        const char *why;
        ck_assert_int_eq(prefix_parse("203.0.113.9/32", &p, &why), 0);
        char path[256], lines[3][256] = {"", "", ""};
        snprintf(path, sizeof(path), "%s/hook.out", h.dir);
        int n = 0;
        /* hooks run side by side: one at a time, for their order */
        for (int want = 1; want <= 3; want++) {
                if (want == 2)
                        engine_note_stuck(h.en, &p, true, "missing at the speaker");
                if (want == 3)
                        engine_note_stuck(h.en, &p, false, NULL);
                for (int i = 0; i < 500 && n < want; i++) {
                        harness_run_real(10);
                        FILE *f = fopen(path, "r");
                        if (!f)
                                continue;
                        for (n = 0; n < 3 && fgets(lines[n], sizeof(lines[n]), f);)
                                n++;
                        fclose(f);
                }
                ck_assert_int_eq(n, want);
        }
        ck_assert_msg(strncmp(lines[0], "203.0.113.1/32 203.0.113.9/32|unknown|up|", 41) == 0,
                      "%s", lines[0]);
        ck_assert_str_eq(lines[1], "203.0.113.9/32|up|stuck|missing at the speaker\n");
        ck_assert_str_eq(lines[2], "203.0.113.9/32|stuck|up|the speaker holds it as asked again\n");
        /* not a prefix of ours: nothing */
        ck_assert_int_eq(prefix_parse("198.51.100.0/24", &p, &why), 0);
        engine_note_stuck(h.en, &p, true, "x");
        harness_run_real(100);
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        n = 0;
        char buf[256];
        while (fgets(buf, sizeof(buf), f))
                n++;
        fclose(f);
        ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(hook_timeout_kills_group)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        write_daemon("");
        char extra[512];
        snprintf(extra, sizeof(extra),
                 "\"hooks\": {\"on_change\": [\"/bin/sh\", \"-c\", \"sleep 30 & echo $! > "
                 "%s/child.pid; wait\"], \"timeout\": \"200ms\"}",
                 h.dir);
        write_service("a", 1, extra);
        harness_start();
        RUN_UNTIL(count("announce") == 1);
        harness_run_real(1600); /* timeout + TERM grace: real processes, real time */
        char path[256];
        snprintf(path, sizeof(path), "%s/child.pid", h.dir);
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        int pid = 0;
        ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
        fclose(f);
        /* the grandchild in the group is gone too (reaped by init or a zombie
         * of the killed shell at most) */
        char proc[64], st[256] = "";
        snprintf(proc, sizeof(proc), "/proc/%d/stat", pid);
        f = fopen(proc, "r");
        if (f) {
                ck_assert_ptr_nonnull(fgets(st, sizeof(st), f));
                fclose(f);
                ck_assert_msg(strstr(st, ") Z ") != NULL, "grandchild still running: %s", st);
        }
}
END_TEST

/* a and b up and announced; c (203.0.113.3/32) scripted up for a reload
 * to add. */
static void start_a_b_then_c(void)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        harness_script("b", s, 1, false);
        harness_script("c", s, 1, false);
        write_daemon("");
        write_service("a", 1, "");
        write_service("b", 2, "");
        harness_start();
        RUN_UNTIL(count("announce") == 2);
}

START_TEST(withdraw_all_enable_one_by_one)
{
        start_a_b_then_c();
        ck_assert_int_eq(engine_disable(h.en, "b", "own reason"), 0);
        ck_assert_int_eq(engine_withdraw_all(h.en, "incident 7"), 0);
        run_ms(20);
        ck_assert_uint_eq(count("withdraw 203.0.113.1/32 a"), 1);
        char line[256];
        engine_status_line(h.en, line, sizeof(line));
        ck_assert_str_eq(line, "0 up, 0 degraded, 0 down, 2 disabled");
        ck_assert_str_eq(engine_withdraw_all_reason(h.en), "withdraw-all: incident 7");
        /* a service added by reload while it stands is disabled too */
        write_service("c", 3, "");
        struct diag d = {0};
        ck_assert_int_eq(engine_reload_file(h.en, &d), 0);
        diag_free(&d);
        run_ms(100);
        ck_assert_uint_eq(count("announce 203.0.113.3/32"), 0);
        ck_assert_int_eq(status_of("c").state, SVC_DISABLED);
        /* enabled one by one: a and c come back, b keeps its own disable,
         * and the withdraw-all stands until the last service it withdrew
         * (c, which it disabled when the reload added it) is enabled */
        ck_assert_int_eq(engine_enable(h.en, "a"), 0);
        ck_assert_str_eq(engine_withdraw_all_reason(h.en), "withdraw-all: incident 7");
        ck_assert_int_eq(engine_enable(h.en, "c"), 0);
        ck_assert_ptr_null(engine_withdraw_all_reason(h.en));
        RUN_UNTIL(count("announce 203.0.113.1/32") == 2 && count("announce 203.0.113.3/32") == 1);
        ck_assert_int_eq(status_of("b").state, SVC_DISABLED);
        ck_assert_str_eq(status_of("b").disabled_reason, "own reason");
}
END_TEST

/* Enabling every service a withdraw-all withdrew ends it: a service added
 * by a reload afterwards is announced, not disabled. */
START_TEST(withdraw_all_ends_when_all_are_enabled)
{
        start_a_b_then_c();
        ck_assert_int_eq(engine_withdraw_all(h.en, "incident 8"), 0);
        run_ms(20);
        ck_assert_int_eq(engine_enable(h.en, "a"), 0);
        /* one still withdrawn by it: it stands */
        ck_assert_str_eq(engine_withdraw_all_reason(h.en), "withdraw-all: incident 8");
        ck_assert_int_eq(engine_enable(h.en, "b"), 0);
        ck_assert_ptr_null(engine_withdraw_all_reason(h.en));
        RUN_UNTIL(count("announce 203.0.113.1/32") == 2 && count("announce 203.0.113.2/32") == 2);
        write_service("c", 3, "");
        struct diag d = {0};
        ck_assert_int_eq(engine_reload_file(h.en, &d), 0);
        diag_free(&d);
        RUN_UNTIL(count("announce 203.0.113.3/32") == 1);
        ck_assert_int_eq(status_of("c").state, SVC_UP);
}
END_TEST

START_TEST(check_now_runs_checks)
{
        int s[] = {AHC_OK};
        harness_script("a", s, 1, false);
        write_daemon("");
        harness_write("services.d/a.json",
                      "{ \"prefixes\": [\"203.0.113.1/32\"], \"checks\": [{\"plugin\": \"x\", "
                      "\"interval\": \"1h\", \"timeout\": \"1s\", \"rise\": 1}] }");
        harness_start();
        /* the first probe is due at a random point within the hour */
        unsigned before = h.probes;
        ck_assert_int_eq(engine_check_now(h.en, "a"), 0);
        run_ms(20);
        ck_assert_uint_eq(h.probes, before + 1);
        ck_assert_int_eq(status_of("a").state, SVC_UP);
        ck_assert_int_eq(engine_check_now(h.en, "zzz"), -ENOENT);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("engine_ops");
        TCase *tc = tcase_create("ops");
        tcase_add_checked_fixture(tc, harness_setup, harness_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, degraded_reannounces_with_degraded_attrs);
        tcase_add_test(tc, degraded_block_and_capacity_check);
        tcase_add_test(tc, disable_survives_restart);
        tcase_add_test(tc, disable_keep_holds_route);
        tcase_add_test(tc, unsaved_disable_is_retried);
        tcase_add_test(tc, corrupt_state_file_refuses_start);
        tcase_add_test(tc, drain_timeline);
        tcase_add_test(tc, drain_of_unannounced_disables_at_once);
        tcase_add_test(tc, shutdown_drain);
        tcase_add_test(tc, reload_without_churn);
        tcase_add_test(tc, reload_rejects_bad_config);
        tcase_add_test(tc, dampening_suppresses_flaps);
        tcase_add_test(tc, dampening_reuse_after_decay);
        tcase_add_test(tc, hooks_run_with_environment);
        tcase_add_test(tc, stuck_prefix_runs_the_hook);
        tcase_add_test(tc, hook_timeout_kills_group);
        tcase_add_test(tc, withdraw_all_enable_one_by_one);
        tcase_add_test(tc, withdraw_all_ends_when_all_are_enabled);
        tcase_add_test(tc, check_now_runs_checks);
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
