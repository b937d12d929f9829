/* engine.c: schedules every check on the sd-event loop (monotonic clock,
 * fixed rate, random start jitter), feeds results through the pure state
 * machine (state.c) and hands route changes to the backend, once per change.
 * It also watches disable files (inotify on their directories, polling
 * where a directory does not exist yet). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "anycast-healthd-check.h"
#include "backend_bird.h"
#include "backend_exabgp.h"
#include "engine.h"
#include "engine_ctl.h"
#include "engine_stats.h"
#include "log.h"
#include "state.h"

#define USEC_PER_SEC      1000000ULL
#define TIMER_ACCURACY    1000ULL /* 1 ms: sd-event's 250 ms default would be our jitter */
#define DISABLE_POLL_USEC USEC_PER_SEC

struct service_rt;

struct check_rt {
        struct service_rt *svc;
        size_t index;
        const struct check_cfg *cfg;
        struct check_runner *runner;
        sd_event_source *timer;
        uint64_t due; /* when the current/next probe is scheduled to start */
        uint64_t started;
        bool in_flight;
        uint64_t last_duration;
        char last_msg[256];
        /* engine_ctl (interim, ops-io) */
        uint64_t last_time_rt;
        uint64_t results[4];
        struct duration_hist durations;
};

struct service_rt {
        struct engine *en;
        const struct service_cfg *cfg;
        struct check_rt *checks;
        struct check_hyst *hyst; /* per check, contiguous for service_combine() */
        enum svc_state health;
        bool disabled;
        bool disable_watched; /* an inotify watch covers its disable file */
        enum route_action route; /* last asked of the backend */
        uint64_t since;          /* CLOCK_MONOTONIC of the last state change */
        /* engine_ctl (interim, ops-io) */
        bool file_disabled, manual_disabled;
        char manual_reason[256];
        char reason[512];
        uint64_t since_rt, transitions;
        struct prefix_status *pst;
        struct check_status *cst;
};

struct disable_dir {
        struct engine *en;
        char *path;
        sd_event_source *src;
};

struct engine {
        sd_event *e;
        const struct config *cfg;
        struct plugin_host *plugins;
        const struct backend_ops *ops;
        struct backend *be;
        struct service_rt *svcs;
        size_t n_svcs;
        struct disable_dir *dirs;
        size_t n_dirs;
        sd_event_source *disable_poll;
        sd_event_source *commit;
        bool dirty;
        struct engine_stats stats;
};

static uint64_t now_usec(sd_event *e)
{
        uint64_t t = 0;
        sd_event_now(e, CLOCK_MONOTONIC, &t);
        return t;
}

static const char *result_name(int r)
{
        switch (r) {
        case AHC_OK:
                return "OK";
        case AHC_WARNING:
                return "WARNING";
        case AHC_CRITICAL:
                return "CRITICAL";
        case AHC_UNKNOWN:
                return "UNKNOWN";
        }
        return "INVALID";
}

static int commit_cb(sd_event_source *s, void *userdata)
{
        struct engine *en = userdata;

        if (en->dirty) {
                en->dirty = false;
                en->ops->commit(en->be);
        }
        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

/* Asks the backend for the service's new route, if it changed. */
static void service_apply(struct service_rt *s, const char *reason)
{
        struct engine *en = s->en;
        enum route_action want =
                service_route(s->health, s->disabled, s->cfg->on_disabled, s->route);

        if (want == s->route || want == ROUTE_NONE)
                return;
        s->route = want;
        for (size_t i = 0; i < s->cfg->n_prefixes; i++) {
                struct route_update u = {
                        .prefix = &s->cfg->prefixes[i],
                        .action = want,
                        .attrs = &s->cfg->announce,
                        .service = s->cfg->name,
                        .reason = reason,
                };
                en->ops->update(en->be, &u);
        }
        en->dirty = true;
        /* Commit once after everything this loop iteration produced. */
        sd_event_source_set_enabled(en->commit, SD_EVENT_ONESHOT);
}

static void ctl_note_change(struct service_rt *s, const char *reason);

static void service_set_state(struct service_rt *s, enum svc_state health, const char *reason)
{
        if (health == s->health)
                return;
        log_notice("service %s (pop %s): %s -> %s: %s", s->cfg->name, s->en->cfg->pop,
                   svc_state_name(s->health), svc_state_name(health), reason);
        s->health = health;
        s->since = now_usec(s->en->e);
        ctl_note_change(s, reason);
        service_apply(s, reason);
}

static int check_timer_cb(sd_event_source *src, uint64_t usec, void *userdata);
static void ctl_note_result(struct check_rt *c, int result, uint64_t duration);

static void check_result_cb(void *userdata, int result, const char *msg, uint64_t duration)
{
        struct check_rt *c = userdata;
        struct service_rt *s = c->svc;
        const struct check_cfg *cfg = c->cfg;

        c->in_flight = false;
        c->last_duration = duration;
        ctl_note_result(c, result, duration);
        snprintf(c->last_msg, sizeof(c->last_msg), "%s", msg ? msg : "");
        struct check_hyst *h = &s->hyst[c->index];
        log_debug("service %s: check %s[%zu]: %s in %llu us: %s", s->cfg->name, cfg->plugin,
                  c->index, result_name(result), (unsigned long long)duration, c->last_msg);
        bool warned = h->warning;
        bool changed = check_hyst_feed(h, cfg->rise, cfg->fall, result);
        /* A WARNING keeps the check up but makes the service degraded:
         * recombine when either moved. */
        if (!changed && warned == h->warning)
                return;

        char reason[512];
        const char *msg_or_code = c->last_msg[0] ? c->last_msg : result_name(result);
        if (changed) {
                unsigned need = h->state == CHECK_UP ? cfg->rise : cfg->fall;
                snprintf(reason, sizeof(reason), "check %s[%zu] %s after %u result%s: %s",
                         cfg->plugin, c->index, h->state == CHECK_UP ? "passed" : "failed", need,
                         need == 1 ? "" : "s", msg_or_code);
        } else {
                snprintf(reason, sizeof(reason), "check %s[%zu] %s: %s", cfg->plugin, c->index,
                         h->warning ? "warns" : "no longer warns", msg_or_code);
        }
        if (changed)
                log_info("service %s: check %s[%zu] is now %s (%s: %s)", s->cfg->name,
                         cfg->plugin, c->index, h->state == CHECK_UP ? "up" : "down",
                         result_name(result), c->last_msg);
        enum svc_state health =
                service_combine(s->hyst, s->cfg->n_checks, s->cfg->combine, s->cfg->combine_n);
        service_set_state(s, health, reason);
}

static int check_start(struct check_rt *c, uint64_t now)
{
        if (c->in_flight)
                return -EBUSY; /* the host's timeout ends every probe; be safe anyway */
        int r = check_runner_start(c->runner, c->cfg->timeout_usec, check_result_cb, c);
        if (r < 0) {
                log_err("service %s: cannot start check %s[%zu]: %s", c->svc->cfg->name,
                        c->cfg->plugin, c->index, strerror(-r));
                return r;
        }
        c->in_flight = true;
        c->started = now;
        return 0;
}

static int check_timer_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct check_rt *c = userdata;
        struct engine *en = c->svc->en;
        uint64_t now = now_usec(en->e);

        engine_stats_add(&en->stats, now > c->due ? now - c->due : 0);
        check_start(c, now);

        /* Fixed rate: the next start is due one interval after this one was
         * due, so lateness does not accumulate; after a long stall skip
         * ahead rather than firing a burst. */
        c->due += c->cfg->interval_usec;
        if (c->due <= now)
                c->due = now + c->cfg->interval_usec;
        sd_event_source_set_time(src, c->due);
        return sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

static bool file_exists(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0;
}

static void service_check_disabled(struct service_rt *s)
{
        if (!s->cfg->disable_file)
                return;
        bool disabled = file_exists(s->cfg->disable_file);
        if (disabled == s->file_disabled)
                return;
        s->file_disabled = disabled;
        s->disabled = disabled || s->manual_disabled;
        char reason[PATH_MAX + 64];
        snprintf(reason, sizeof(reason), "disable file %s %s", s->cfg->disable_file,
                 disabled ? "appeared" : "removed");
        log_notice("service %s (pop %s): %s by %s", s->cfg->name, s->en->cfg->pop,
                   disabled ? "disabled" : "enabled", reason);
        s->since = now_usec(s->en->e);
        ctl_note_change(s, reason);
        service_apply(s, reason);
}

static int disable_dir_cb(sd_event_source *src, const struct inotify_event *ev, void *userdata)
{
        struct disable_dir *d = userdata;
        struct engine *en = d->en;

        /* Any change in the directory: re-stat the files that live there.
         * Cheap, and robust against editors that rename into place. */
        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = &en->svcs[i];
                if (!s->cfg->disable_file || !s->disable_watched)
                        continue;
                const char *slash = strrchr(s->cfg->disable_file, '/');
                size_t dl = slash ? (size_t)(slash - s->cfg->disable_file) : 0;
                if (strlen(d->path) == dl && strncmp(d->path, s->cfg->disable_file, dl) == 0)
                        service_check_disabled(s);
        }
        return 0;
}

static int disable_poll_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct engine *en = userdata;

        for (size_t i = 0; i < en->n_svcs; i++)
                if (!en->svcs[i].disable_watched)
                        service_check_disabled(&en->svcs[i]);
        sd_event_source_set_time(src, usec + DISABLE_POLL_USEC);
        return 0;
}

static int watch_disable_files(struct engine *en)
{
        bool need_poll = false;

        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = &en->svcs[i];
                if (!s->cfg->disable_file)
                        continue;
                char *dir = strdup(s->cfg->disable_file);
                if (!dir)
                        return -ENOMEM;
                char *slash = strrchr(dir, '/');
                if (slash && slash != dir)
                        *slash = '\0';
                else if (slash)
                        slash[1] = '\0';
                size_t j;
                for (j = 0; j < en->n_dirs; j++)
                        if (strcmp(en->dirs[j].path, dir) == 0)
                                break;
                if (j < en->n_dirs) {
                        s->disable_watched = en->dirs[j].src != NULL;
                        need_poll |= !s->disable_watched;
                        free(dir);
                        continue;
                }
                struct disable_dir *nd = realloc(en->dirs, (en->n_dirs + 1) * sizeof(*nd));
                if (!nd) {
                        free(dir);
                        return -ENOMEM;
                }
                en->dirs = nd;
                struct disable_dir *d = &en->dirs[en->n_dirs++];
                *d = (struct disable_dir){.en = en, .path = dir};
                int r = sd_event_add_inotify(en->e, &d->src, dir,
                                             IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
                                                     IN_CLOSE_WRITE | IN_ATTRIB | IN_ONLYDIR,
                                             disable_dir_cb, d);
                if (r < 0) {
                        log_info("service %s: cannot watch %s (%s); polling its disable file",
                                 s->cfg->name, dir, strerror(-r));
                        d->src = NULL;
                }
                s->disable_watched = d->src != NULL;
                need_poll |= !s->disable_watched;
        }
        if (need_poll) {
                int r = sd_event_add_time_relative(en->e, &en->disable_poll, CLOCK_MONOTONIC,
                                                   DISABLE_POLL_USEC, TIMER_ACCURACY,
                                                   disable_poll_cb, en);
                if (r < 0)
                        return r;
                sd_event_source_set_enabled(en->disable_poll, SD_EVENT_ON);
        }
        return 0;
}

int engine_new(sd_event *e, const struct config *cfg, struct plugin_host *plugins,
               const struct backend_ops *ops, struct backend *backend, struct diag *d,
               struct engine **out)
{
        struct engine *en = calloc(1, sizeof(*en));
        if (!en)
                return -ENOMEM;
        en->e = sd_event_ref(e);
        en->cfg = cfg;
        en->plugins = plugins;
        en->ops = ops;
        en->be = backend;
        engine_stats_init(&en->stats);
        en->svcs = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*en->svcs));
        if (!en->svcs) {
                engine_free(en);
                return -ENOMEM;
        }
        en->n_svcs = cfg->n_services;

        int ret = 0;
        for (size_t i = 0; i < cfg->n_services; i++) {
                struct service_rt *s = &en->svcs[i];
                s->en = en;
                s->cfg = &cfg->services[i];
                s->health = SVC_UNKNOWN;
                s->route = ROUTE_NONE;
                s->checks = calloc(s->cfg->n_checks, sizeof(*s->checks));
                s->hyst = calloc(s->cfg->n_checks, sizeof(*s->hyst));
                if (!s->checks || !s->hyst) {
                        engine_free(en);
                        return -ENOMEM;
                }
                for (size_t j = 0; j < s->cfg->n_checks; j++) {
                        struct check_rt *c = &s->checks[j];
                        c->svc = s;
                        c->index = j;
                        c->cfg = &s->cfg->checks[j];
                        check_hyst_init(&s->hyst[j]);
                        int r = check_runner_new(plugins, s->cfg, j, d, &c->runner);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
        }
        if (ret < 0) {
                engine_free(en);
                return ret;
        }
        int r = sd_event_add_defer(e, &en->commit, commit_cb, en);
        if (r < 0) {
                engine_free(en);
                return r;
        }
        /* Run after every result of this iteration has been folded in. */
        sd_event_source_set_priority(en->commit, SD_EVENT_PRIORITY_IDLE);
        sd_event_source_set_enabled(en->commit, SD_EVENT_OFF);
        *out = en;
        return 0;
}

/* Uniform in [0, n): start times spread so a thousand checks with one
 * interval do not fire together. */
static uint64_t jitter(uint64_t n)
{
        if (n == 0)
                return 0;
        uint64_t x = ((uint64_t)random() << 31) ^ (uint64_t)random();
        return x % n;
}

int engine_start(struct engine *en)
{
        uint64_t now = now_usec(en->e);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        srandom((unsigned)(ts.tv_nsec ^ getpid()));

        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = &en->svcs[i];
                s->since = now;
                ctl_note_change(s, "starting: waiting for checks");
                s->transitions = 0;
                /* Disabled services are known at once: stating them does not
                 * wait for checks. */
                if (s->cfg->disable_file && file_exists(s->cfg->disable_file)) {
                        s->disabled = s->file_disabled = true;
                        log_notice("service %s (pop %s): disabled by disable file %s",
                                   s->cfg->name, en->cfg->pop, s->cfg->disable_file);
                        service_apply(s, "disable file present at start");
                }
                for (size_t j = 0; j < s->cfg->n_checks; j++) {
                        struct check_rt *c = &s->checks[j];
                        c->due = now + jitter(c->cfg->interval_usec);
                        int r = sd_event_add_time(en->e, &c->timer, CLOCK_MONOTONIC, c->due,
                                                  TIMER_ACCURACY, check_timer_cb, c);
                        if (r < 0)
                                return r;
                }
        }
        return watch_disable_files(en);
}

const struct engine_stats *engine_get_stats(const struct engine *en)
{
        return &en->stats;
}

void engine_free(struct engine *en)
{
        if (!en)
                return;
        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = &en->svcs[i];
                if (!s->checks) {
                        free(s->hyst);
                        continue;
                }
                for (size_t j = 0; j < s->cfg->n_checks; j++) {
                        sd_event_source_disable_unref(s->checks[j].timer);
                        check_runner_free(s->checks[j].runner);
                }
                free(s->checks);
                free(s->hyst);
                free(s->pst);
                free(s->cst);
        }
        free(en->svcs);
        for (size_t i = 0; i < en->n_dirs; i++) {
                sd_event_source_disable_unref(en->dirs[i].src);
                free(en->dirs[i].path);
        }
        free(en->dirs);
        sd_event_source_disable_unref(en->disable_poll);
        sd_event_source_disable_unref(en->commit);
        sd_event_unref(en->e);
        free(en);
}

/* ---- engine_ctl.h: interim implementation (ops-io branch) ----
 * Enough of the snapshot and of disable/enable/check for the control socket
 * and metrics to run for real before the engine side of issue 5 lands. When
 * merging with that side, drop this block and the lines marked "engine_ctl
 * (interim, ops-io)" in favour of its implementation; keep feeding
 * duration_hist_add() per result (check_status.durations). */

static uint64_t realtime_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static void ctl_note_change(struct service_rt *s, const char *reason)
{
        s->since_rt = realtime_now();
        s->transitions++;
        snprintf(s->reason, sizeof(s->reason), "%.*s", (int)sizeof(s->reason) - 1, reason ? reason : "");
}

static void ctl_note_result(struct check_rt *c, int result, uint64_t duration)
{
        c->last_time_rt = realtime_now();
        if (result >= AHC_OK && result <= AHC_UNKNOWN)
                c->results[result]++;
        duration_hist_add(&c->durations, duration);
}

size_t engine_service_count(struct engine *en)
{
        return en->n_svcs;
}

int engine_service_find(struct engine *en, const char *name)
{
        for (size_t i = 0; i < en->n_svcs; i++)
                if (strcmp(en->svcs[i].cfg->name, name) == 0)
                        return (int)i;
        return -ENOENT;
}

static enum route_confirm ctl_confirm(struct engine *en, const struct prefix *p)
{
        if (en->ops == &backend_exabgp_ops) {
                struct exabgp_route_status st;
                if (backend_exabgp_route_status(en->be, p, &st) < 0)
                        return CONFIRM_NONE;
                switch (st.sync) {
                case EXABGP_SYNC_QUEUED:
                case EXABGP_SYNC_WRITTEN:
                        return CONFIRM_PENDING;
                case EXABGP_SYNC_CONFIRMED:
                        return CONFIRM_CONFIRMED;
                case EXABGP_SYNC_REJECTED:
                        return CONFIRM_FAILED;
                }
        } else if (en->ops == &backend_bird_ops) {
                return backend_bird_stats(en->be)->in_sync ? CONFIRM_CONFIRMED : CONFIRM_PENDING;
        }
        return CONFIRM_NONE;
}

int engine_service_status(struct engine *en, size_t i, struct service_status *out)
{
        if (i >= en->n_svcs)
                return -ENOENT;
        struct service_rt *s = &en->svcs[i];
        if (!s->pst)
                s->pst = calloc(s->cfg->n_prefixes ? s->cfg->n_prefixes : 1, sizeof(*s->pst));
        if (!s->cst)
                s->cst = calloc(s->cfg->n_checks ? s->cfg->n_checks : 1, sizeof(*s->cst));
        if (!s->pst || !s->cst)
                return -ENOMEM;
        for (size_t j = 0; j < s->cfg->n_prefixes; j++) {
                struct prefix_status *p = &s->pst[j];
                prefix_format(&s->cfg->prefixes[j], p->prefix);
                p->action = s->route;
                p->as_what = s->route == ROUTE_ANNOUNCE ? "up" : NULL;
                p->confirm = s->route == ROUTE_NONE ? CONFIRM_NONE
                                                    : ctl_confirm(en, &s->cfg->prefixes[j]);
        }
        for (size_t j = 0; j < s->cfg->n_checks; j++) {
                struct check_rt *c = &s->checks[j];
                s->cst[j] = (struct check_status){
                        .plugin = c->cfg->plugin,
                        .state = s->hyst[j].state,
                        .last_result = s->hyst[j].last_result,
                        .last_message = c->last_msg,
                        .last_duration_usec = c->last_duration,
                        .last_time_usec = c->last_time_rt,
                        .durations = c->durations,
                };
                memcpy(s->cst[j].results_by_code, c->results, sizeof(c->results));
        }
        *out = (struct service_status){
                .name = s->cfg->name,
                .state = s->disabled ? SVC_DISABLED : s->health,
                .health = s->health,
                .since_usec = s->since_rt,
                .transitions = s->transitions,
                .reason = s->reason,
                .disabled = s->disabled,
                .disabled_reason = s->manual_disabled ? s->manual_reason
                                   : s->file_disabled ? "disable file"
                                                      : NULL,
                .prefixes = s->pst,
                .n_prefixes = s->cfg->n_prefixes,
                .checks = s->cst,
                .n_checks = s->cfg->n_checks,
        };
        return 0;
}

static int ctl_set_manual(struct engine *en, const char *service, bool on, const char *why)
{
        int i = engine_service_find(en, service);
        if (i < 0)
                return i;
        struct service_rt *s = &en->svcs[i];
        if (on)
                snprintf(s->manual_reason, sizeof(s->manual_reason), "%s", why);
        if (s->manual_disabled == on)
                return 0;
        s->manual_disabled = on;
        s->disabled = s->file_disabled || s->manual_disabled;
        char reason[512];
        snprintf(reason, sizeof(reason), "%s by the operator%s%s", on ? "disabled" : "enabled",
                 on ? ": " : "", on ? why : "");
        log_notice("service %s (pop %s): %s", s->cfg->name, en->cfg->pop, reason);
        s->since = now_usec(en->e);
        ctl_note_change(s, reason);
        service_apply(s, reason);
        return 0;
}

int engine_disable(struct engine *en, const char *service, const char *reason)
{
        return ctl_set_manual(en, service, true, reason);
}

int engine_enable(struct engine *en, const char *service)
{
        return ctl_set_manual(en, service, false, NULL);
}

int engine_drain(struct engine *en, const char *service, const char *reason)
{
        return engine_service_find(en, service) < 0 ? -ENOENT : -EOPNOTSUPP;
}

int engine_check_now(struct engine *en, const char *service)
{
        int i = engine_service_find(en, service);
        if (i < 0)
                return i;
        struct service_rt *s = &en->svcs[i];
        uint64_t now = now_usec(en->e);
        for (size_t j = 0; j < s->cfg->n_checks; j++)
                if (!s->checks[j].in_flight)
                        check_start(&s->checks[j], now);
        return 0;
}

int engine_withdraw_all(struct engine *en, const char *reason)
{
        return -EOPNOTSUPP;
}
