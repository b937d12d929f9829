/* engine_harness.c: the shared fixture, scripted runners and recording
 * backend of engine_harness.h. */
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
#include "prefix.h"

struct harness h;

/* ---- scripted check runners ------------------------------------------ */

#define MAX_SCRIPTS 16
#define MAX_SCRIPT  64
#define MAX_RUNNERS 64

struct script {
        char service[32];
        int results[MAX_SCRIPT];
        size_t len;
        bool cycle;
};
static struct script scripts[MAX_SCRIPTS];
static size_t n_scripts;
static unsigned probe_cap = ~0u;

struct check_runner {
        char service[32];
        sd_event_source *defer;
        check_result_fn cb;
        void *userdata;
        unsigned probes;
        check_report_fn report;
        void *report_userdata;
};
/* Every live runner, so that a test can report through one. */
static struct check_runner *runners[MAX_RUNNERS];

void harness_script(const char *service, const int *results, size_t n, bool cycle)
{
        ck_assert_uint_le(n, MAX_SCRIPT);
        struct script *sc = NULL;
        for (size_t i = 0; i < n_scripts; i++)
                if (strcmp(scripts[i].service, service) == 0)
                        sc = &scripts[i];
        if (!sc) {
                ck_assert_uint_lt(n_scripts, MAX_SCRIPTS);
                sc = &scripts[n_scripts++];
        }
        snprintf(sc->service, sizeof(sc->service), "%s", service);
        memcpy(sc->results, results, n * sizeof(int));
        sc->len = n;
        sc->cycle = cycle;
}

void harness_probe_cap(unsigned cap)
{
        probe_cap = cap;
}

static const struct script *script_of(const char *service)
{
        const struct script *any = NULL;
        for (size_t i = 0; i < n_scripts; i++) {
                if (scripts[i].len == 0)
                        continue;
                if (strcmp(scripts[i].service, service) == 0)
                        return &scripts[i];
                if (strcmp(scripts[i].service, "*") == 0)
                        any = &scripts[i];
        }
        return any;
}

static int runner_fire(sd_event_source *s, void *userdata)
{
        struct check_runner *r = userdata;
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (r->probes >= probe_cap)
                return 0;
        const struct script *sc = script_of(r->service);
        int result = AHC_OK;
        if (sc) {
                size_t k = sc->cycle ? r->probes % sc->len
                                     : (r->probes < sc->len ? r->probes : sc->len - 1);
                result = sc->results[k];
        }
        r->probes++;
        h.probes++;
        r->cb(r->userdata, result, "scripted", 10);
        return 0;
}

int check_runner_new(struct plugin_host *host, const struct service_cfg *svc, size_t check_index,
                     struct diag *d, struct check_runner **out)
{
        if (strcmp(svc->checks[check_index].plugin, "broken") == 0) {
                diag_add(d, svc->file, 1, 1, "plugin \"broken\" refuses its options");
                return -EINVAL;
        }
        struct check_runner *r = calloc(1, sizeof(*r));
        ck_assert_ptr_nonnull(r);
        snprintf(r->service, sizeof(r->service), "%s", svc->name);
        size_t i = 0;
        while (i < MAX_RUNNERS && runners[i])
                i++;
        ck_assert_uint_lt(i, MAX_RUNNERS);
        runners[i] = r;
        *out = r;
        return 0;
}

int check_runner_start(struct check_runner *r, uint64_t timeout_usec, check_result_fn cb,
                       void *userdata)
{
        r->cb = cb;
        r->userdata = userdata;
        if (!r->defer)
                ck_assert_int_ge(sd_event_add_defer(h.loop, &r->defer, runner_fire, r), 0);
        sd_event_source_set_enabled(r->defer, SD_EVENT_ONESHOT);
        return 0;
}

void check_runner_set_report_fn(struct check_runner *r, check_report_fn fn, void *userdata)
{
        r->report = fn;
        r->report_userdata = userdata;
}

void check_runner_free(struct check_runner *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < MAX_RUNNERS; i++)
                if (runners[i] == r)
                        runners[i] = NULL;
        sd_event_source_disable_unref(r->defer);
        free(r);
}

bool harness_report(const char *service, int result, const char *msg)
{
        for (size_t i = 0; i < MAX_RUNNERS; i++) {
                struct check_runner *r = runners[i];
                if (!r || strcmp(r->service, service) != 0)
                        continue;
                if (!r->report)
                        return false;
                r->report(r->report_userdata, result, msg);
                return true;
        }
        ck_abort_msg("no runner for %s", service);
        return false;
}

/* ---- recording backend ------------------------------------------------ */

struct backend {
        int unused;
};
static struct backend recorder;

static void rec_update(struct backend *b, const struct route_update *u)
{
        char p[PREFIX_STRLEN];
        prefix_format(u->prefix, p);
        ck_assert_uint_lt(h.n, HARNESS_LOG_MAX);
        char *line = h.log[h.n++];
        if (u->action == ROUTE_WITHDRAW) {
                snprintf(line, HARNESS_LINE_MAX, "withdraw %s %s", p, u->service);
                return;
        }
        bool gshut = false;
        for (size_t i = 0; i < u->attrs->n_communities; i++)
                gshut |= strcmp(u->attrs->communities[i], "65535:0") == 0;
        snprintf(line, HARNESS_LINE_MAX, "announce %s %s prepend=%u med=%lld gshut=%d%s", p,
                 u->service, u->attrs->prepend, (long long)u->attrs->med, gshut,
                 u->audience == AUDIENCE_CANARIES ? " to=canaries" : "");
}

static void rec_commit(struct backend *b)
{
        h.commits++;
}

static struct backend_ops rec_ops = {
    .name = "recorder",
    .canary = true,
    .update = rec_update,
    .commit = rec_commit,
};

size_t harness_count(const char *fragment)
{
        size_t n = 0;
        for (size_t i = 0; i < h.n; i++)
                n += strstr(h.log[i], fragment) != NULL;
        return n;
}

bool harness_line_is(size_t i, const char *what)
{
        size_t l = strlen(what);
        return i < h.n && strncmp(h.log[i], what, l) == 0 &&
               (h.log[i][l] == '\0' || h.log[i][l] == ' ');
}

void harness_dump(void)
{
        for (size_t i = 0; i < h.n; i++)
                fprintf(stderr, "  %s\n", h.log[i]);
}

/* ---- fixture ------------------------------------------------------------ */

void harness_setup(void)
{
        /* hooks are real children, reaped through sd-event */
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        n_scripts = 0;
        probe_cap = ~0u;
        memset(&h, 0, sizeof(h));
        rec_ops.canary = true;
        ck_assert_int_ge(sd_event_new(&h.loop), 0);
        fake_clock_init(&h.clock, h.loop);
        strcpy(h.dir, "/tmp/ahd-engine-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(h.dir));
        char path[128];
        snprintf(path, sizeof(path), "%s/services.d", h.dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
}

void harness_teardown(void)
{
        harness_stop();
        h.loop = sd_event_unref(h.loop);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", h.dir);
        ck_assert_int_eq(system(cmd), 0);
}

void harness_write(const char *name, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", h.dir, name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

void harness_remove(const char *name)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", h.dir, name);
        ck_assert_int_eq(unlink(path), 0);
}

struct config *harness_load(void)
{
        struct diag d = {0};
        char path[256];
        struct config *c = NULL;
        snprintf(path, sizeof(path), "%s/d.json", h.dir);
        int r = config_load(path, &c, &d);
        if (r < 0)
                diag_print(&d, stderr);
        ck_assert_int_eq(r, 0);
        diag_free(&d);
        return c;
}

void harness_speaker_canary(bool can)
{
        rec_ops.canary = can;
}

int harness_try_start(void)
{
        h.cfg = harness_load();
        h.n = 0;
        h.commits = 0;
        h.probes = 0;
        struct diag d = {0};
        int r = engine_new(h.loop, &h.clock.clock, h.cfg, NULL, &rec_ops, &recorder, &d, &h.en);
        if (r < 0) {
                diag_print(&d, stderr);
                h.en = NULL;
        }
        diag_free(&d);
        if (r < 0)
                return r;
        ck_assert_int_eq(engine_start(h.en), 0);
        fake_clock_settle(&h.clock);
        return 0;
}

void harness_start(void)
{
        ck_assert_int_eq(harness_try_start(), 0);
}

void harness_stop(void)
{
        engine_free(h.en);
        h.en = NULL;
        config_free(h.cfg);
        h.cfg = NULL;
}

void harness_advance(uint64_t usec)
{
        fake_clock_advance(&h.clock, usec);
}

void harness_run_real(unsigned ms)
{
        uint64_t t0, t;
        sd_event_now(h.loop, CLOCK_MONOTONIC, &t0);
        do {
                sd_event_run(h.loop, 5000);
                sd_event_now(h.loop, CLOCK_MONOTONIC, &t);
        } while (t < t0 + ms * 1000ULL);
        fake_clock_settle(&h.clock);
}

struct service_status harness_status(const char *service)
{
        struct service_status st;
        int i = engine_service_find(h.en, service);
        ck_assert_int_ge(i, 0);
        ck_assert_int_eq(engine_service_status(h.en, (size_t)i, &st), 0);
        return st;
}
