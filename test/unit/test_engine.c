/* test_engine.c: the engine on a real sd-event loop with scripted check
 * runners and a recording backend (this file defines check_runner_* so the
 * linker takes them instead of the plugin host's). Asserts what reaches the
 * backend: nothing before rise/fall decide, one update per change, one
 * commit per batch, disable files honoured at start and at run time. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anycast-healthd-check.h"
#include "config.h"
#include "engine.h"

/* ---- scripted check runners ------------------------------------------ */

#define MAX_RESULTS 64

struct check_runner {
        const char *service;
        size_t index;
        sd_event_source *defer;
        check_result_fn cb;
        void *userdata;
        unsigned probes;
        check_report_fn report;
        void *report_userdata;
};

/* Every runner, so a test can send unsolicited reports as a plugin would. */
static struct check_runner *runners[8];
static size_t n_runners;

/* results[n] is what probe n of every check returns; past the end, the last. */
static int script[MAX_RESULTS];
static size_t script_len;
static unsigned total_probes;
static unsigned probe_cap = ~0u; /* results per runner; later probes never answer */
static sd_event *loop;

static int runner_fire(sd_event_source *s, void *userdata)
{
        struct check_runner *r = userdata;
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (r->probes >= probe_cap)
                return 0;
        size_t i = r->probes < script_len ? r->probes : script_len - 1;
        r->probes++;
        total_probes++;
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
        r->cb(r->userdata, script[i], "scripted", 10);
        return 0;
}

int check_runner_new(struct plugin_host *h, const struct service_cfg *svc, size_t check_index,
                     struct diag *d, struct check_runner **out)
{
        struct check_runner *r = calloc(1, sizeof(*r));
        ck_assert_ptr_nonnull(r);
        r->service = svc->name;
        r->index = check_index;
        ck_assert_uint_lt(n_runners, 8);
        runners[n_runners++] = r;
        *out = r;
        return 0;
}

int check_runner_start(struct check_runner *r, uint64_t timeout_usec, check_result_fn cb,
                       void *userdata)
{
        r->cb = cb;
        r->userdata = userdata;
        if (!r->defer) {
                ck_assert_int_ge(sd_event_add_defer(loop, &r->defer, runner_fire, r), 0);
        }
        sd_event_source_set_enabled(r->defer, SD_EVENT_ONESHOT);
        return 0;
}

void check_runner_set_report_fn(struct check_runner *r, check_report_fn fn, void *userdata)
{
        r->report = fn;
        r->report_userdata = userdata;
}

static struct check_runner *runner_of(const char *service)
{
        for (size_t i = 0; i < n_runners; i++)
                if (runners[i] && strcmp(runners[i]->service, service) == 0)
                        return runners[i];
        ck_abort_msg("no runner for %s", service);
        return NULL;
}

void check_runner_free(struct check_runner *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < n_runners; i++)
                if (runners[i] == r)
                        runners[i] = NULL;
        sd_event_source_disable_unref(r->defer);
        free(r);
}

/* ---- recording backend ------------------------------------------------ */

struct backend {
        char log[256][96];
        size_t n;
        unsigned commits;
};
static struct backend rec;

static void rec_update(struct backend *b, const struct route_update *u)
{
        char p[PREFIX_STRLEN];
        prefix_format(u->prefix, p);
        ck_assert_uint_lt(b->n, 256);
        snprintf(b->log[b->n++], sizeof(b->log[0]), "%s %s %s",
                 u->action == ROUTE_ANNOUNCE ? "announce" : "withdraw", p, u->service);
}

static void rec_commit(struct backend *b)
{
        b->commits++;
}

static const struct backend_ops rec_ops = {
    .name = "recorder",
    .update = rec_update,
    .commit = rec_commit,
};

/* ---- fixture ------------------------------------------------------------ */

static char dir[64];
static struct config *cfg;
static struct engine *en;

static void write_file(const char *name, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

/* Two services, each one check every 20 ms, rise 3, fall 2. */
static void setup_config(const char *extra_a)
{
        strcpy(dir, "/tmp/ahd-engine-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        char path[256];
        snprintf(path, sizeof(path), "%s/services.d", dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        write_file("d.json", "{ \"pop\": \"t1\", \"allowed_prefixes\": [\"203.0.113.0/24\", "
                             "\"2001:db8::/32\"] }");
        char a[512];
        snprintf(a, sizeof(a),
                 "{ \"prefixes\": [\"203.0.113.1/32\", \"2001:db8:1::/48\"], %s"
                 "\"checks\": [{\"plugin\": \"x\", \"interval\": \"20ms\", \"timeout\": "
                 "\"10ms\", \"rise\": 3, \"fall\": 2}] }",
                 extra_a);
        write_file("services.d/a.json", a);
        write_file("services.d/b.json",
                   "{ \"prefixes\": [\"203.0.113.2/32\"], \"checks\": [{\"plugin\": \"x\", "
                   "\"interval\": \"20ms\", \"timeout\": \"10ms\", \"rise\": 3, \"fall\": 2}] }");
        struct diag d = {0};
        snprintf(path, sizeof(path), "%s/d.json", dir);
        int r = config_load(path, &cfg, &d);
        if (r < 0)
                diag_print(&d, stderr);
        ck_assert_int_eq(r, 0);
        diag_free(&d);
        memset(&rec, 0, sizeof(rec));
        total_probes = 0;
        n_runners = 0;
        ck_assert_int_ge(sd_event_new(&loop), 0);
        d = (struct diag){0};
        ck_assert_int_eq(engine_new(loop, cfg, NULL, &rec_ops, &rec, &d, &en), 0);
        ck_assert_int_eq(engine_start(en), 0);
}

static void teardown_config(void)
{
        engine_free(en);
        config_free(cfg);
        sd_event_unref(loop);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
}

/* Runs the loop until probes reached n (or a generous deadline). */
static void run_until_probes(unsigned n)
{
        for (int i = 0; i < 20000 && total_probes < n; i++)
                sd_event_run(loop, 1000);
        ck_assert_uint_ge(total_probes, n);
        /* Let the idle commit run. */
        for (int i = 0; i < 5; i++)
                sd_event_run(loop, 0);
}

static void set_script(const int *r, size_t n)
{
        memcpy(script, r, n * sizeof(int));
        script_len = n;
}

START_TEST(nothing_before_rise)
{
        int s[] = {AHC_OK, AHC_OK, AHC_OK, AHC_OK, AHC_OK, AHC_OK};
        set_script(s, 6);
        setup_config("");
        /* Two results per service (start jitter must not give one service
         * three while the other has one): still below rise. */
        probe_cap = 2;
        run_until_probes(4);
        probe_cap = ~0u;
        ck_assert_uint_eq(rec.n, 0);
        ck_assert_uint_eq(rec.commits, 0);
        teardown_config();
}
END_TEST

START_TEST(announce_after_rise_once)
{
        int s[] = {AHC_OK};
        set_script(s, 1);
        setup_config("");
        run_until_probes(20);        /* ten rounds: rise reached, and more */
        ck_assert_uint_eq(rec.n, 3); /* a: v4 + v6, b: v4; each once */
        bool a4 = false, a6 = false, b4 = false;
        for (size_t i = 0; i < rec.n; i++) {
                a4 |= strcmp(rec.log[i], "announce 203.0.113.1/32 a") == 0;
                a6 |= strcmp(rec.log[i], "announce 2001:db8:1::/48 a") == 0;
                b4 |= strcmp(rec.log[i], "announce 203.0.113.2/32 b") == 0;
        }
        ck_assert(a4 && a6 && b4);
        ck_assert_uint_ge(rec.commits, 1);
        teardown_config();
}
END_TEST

START_TEST(down_start_is_stated_then_flaps_follow)
{
        /* fall (2) failures, then rise (3) passes, then fall failures. */
        int s[] = {AHC_CRITICAL, AHC_UNKNOWN,  AHC_OK,       AHC_OK,
                   AHC_OK,       AHC_CRITICAL, AHC_CRITICAL, AHC_CRITICAL};
        set_script(s, 8);
        setup_config("");
        run_until_probes(30);
        /* Per service: withdraw (start, stated once known), announce, withdraw. */
        unsigned w = 0, a = 0;
        for (size_t i = 0; i < rec.n; i++) {
                if (strstr(rec.log[i], " b") && strncmp(rec.log[i], "withdraw", 8) == 0)
                        w++;
                if (strstr(rec.log[i], " b") && strncmp(rec.log[i], "announce", 8) == 0)
                        a++;
        }
        ck_assert_uint_eq(w, 2);
        ck_assert_uint_eq(a, 1);
        ck_assert_uint_eq(rec.n, 9);
        teardown_config();
}
END_TEST

START_TEST(disable_file_at_start_and_runtime)
{
        int s[] = {AHC_OK};
        set_script(s, 1);
        char extra[128];
        /* The fixture's dir is made inside setup; use a fixed name under it. */
        strcpy(extra, "\"disable_file\": \"disabled-a\", ");
        setup_config(extra);
        run_until_probes(20);
        /* Not disabled yet: announced. */
        size_t before = rec.n;
        ck_assert_uint_eq(before, 3);
        write_file("services.d/disabled-a", "");
        for (int i = 0; i < 200 && rec.n == before; i++)
                sd_event_run(loop, 10000);
        for (int i = 0; i < 5; i++)
                sd_event_run(loop, 0);
        ck_assert_uint_eq(rec.n, 5);
        ck_assert_str_eq(rec.log[3], "withdraw 203.0.113.1/32 a");
        ck_assert_str_eq(rec.log[4], "withdraw 2001:db8:1::/48 a");
        char path[256];
        snprintf(path, sizeof(path), "%s/services.d/disabled-a", dir);
        unlink(path);
        for (int i = 0; i < 200 && rec.n == 5; i++)
                sd_event_run(loop, 10000);
        ck_assert_uint_eq(rec.n, 7);
        ck_assert_str_eq(rec.log[5], "announce 203.0.113.1/32 a");
        teardown_config();
}
END_TEST

/* An unsolicited failing report takes the check down at once (fall 2 is
 * not waited for); a passing one counts once towards rise (3). */
START_TEST(event_down_bypasses_fall)
{
        int s[] = {AHC_OK};
        set_script(s, 1);
        setup_config("");
        run_until_probes(20);
        ck_assert_uint_eq(rec.n, 3);
        struct check_runner *a = runner_of("a");
        ck_assert_ptr_nonnull(a->report);
        unsigned probes_before = total_probes;
        a->report(a->report_userdata, AHC_CRITICAL, "process 42 exited");
        for (int i = 0; i < 5; i++)
                sd_event_run(loop, 0);
        /* withdrawn after one report, without a probe in between */
        ck_assert_uint_le(total_probes, probes_before + 2);
        ck_assert_uint_eq(rec.n, 5);
        ck_assert_str_eq(rec.log[3], "withdraw 203.0.113.1/32 a");
        ck_assert_str_eq(rec.log[4], "withdraw 2001:db8:1::/48 a");
        teardown_config();
}
END_TEST

START_TEST(event_up_counts_once)
{
        int s[] = {AHC_CRITICAL};
        set_script(s, 1);
        setup_config("");
        run_until_probes(10);
        ck_assert_uint_eq(rec.n, 3); /* both withdrawn, stated once known */
        /* Reports reach the engine synchronously here (the fake runner has
         * no queue), so no probe can come between these three. */
        struct check_runner *a = runner_of("a");
        a->report(a->report_userdata, AHC_OK, "unit active");
        a->report(a->report_userdata, AHC_OK, "unit active");
        ck_assert_uint_eq(rec.n, 3); /* 2 of rise 3: nothing yet */
        a->report(a->report_userdata, AHC_OK, "unit active");
        ck_assert_uint_eq(rec.n, 5);
        ck_assert_str_eq(rec.log[3], "announce 203.0.113.1/32 a");
        teardown_config();
}
END_TEST

int main(void)
{
        Suite *s = suite_create("engine");
        TCase *tc = tcase_create("engine");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, nothing_before_rise);
        tcase_add_test(tc, announce_after_rise_once);
        tcase_add_test(tc, down_start_is_stated_then_flaps_follow);
        tcase_add_test(tc, disable_file_at_start_and_runtime);
        tcase_add_test(tc, event_down_bypasses_fall);
        tcase_add_test(tc, event_up_counts_once);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
