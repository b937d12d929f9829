/* engine.c: schedules every check on the engine's clock (clock.h: fixed
 * rate, random start jitter), feeds results through the pure state
 * machine (policy/health.c) and the service plan (svc_plan.c: disable, drain,
 * dampening, degraded) and hands route changes to the backend, once per
 * change and per prefix. It also watches disable files (inotify on their
 * directories, polling where a directory does not exist yet) and ends
 * manual drains on time.
 * Status and manual actions live in engine_ctl.c, reload in
 * engine_reload.c, hooks and STATUS= in engine_notify.c, writing the state
 * file in engine_save.c. */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anycast-healthd-check.h"
#include "check_result.h"
#include "engine_canary.h"
#include "engine_floor.h"
#include "engine_internal.h"
#include "engine_notify.h"
#include "engine_save.h"
#include "event_priority.h"
#include "log.h"
#include "timerq.h"

#define TIMER_ACCURACY    1000ULL /* 1 ms: sd-event's 250 ms default would be our jitter */
#define DISABLE_POLL_USEC USEC_PER_SEC

static int commit_cb(sd_event_source *s, void *userdata)
{
        struct engine *en = userdata;

        ev_route_pending_set(false);
        if (en->dirty) {
                en->dirty = false;
                en->ops->commit(en->be);
        }
        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

/* Replaces *dst with a copy of src (NULL or "" clears it), only when it
 * changed: reasons live on the heap, not in fixed buffers per service. */
static void set_text(char **dst, const char *src)
{
        if (!src || !src[0]) {
                free(*dst);
                *dst = NULL;
                return;
        }
        if (*dst && strcmp(*dst, src) == 0)
                return;
        char *copy = strdup(src);
        if (!copy) {
                log_err("out of memory keeping a reason");
                return;
        }
        free(*dst);
        *dst = copy;
}

/* Asks the backend for each prefix whose route or attribute set changed. */
static void service_apply(struct service_rt *s, const struct svc_plan *plan, enum audience audience,
                          const char *reason)
{
        struct engine *en = s->en;
        bool sent = false;

        if (plan->action == ROUTE_NONE)
                return;
        /* The clock now, not the iteration's: the decision may come late
         * in a long dispatch, and the delay we report starts here. */
        uint64_t decided = engine_now(en);
        for (size_t i = 0; i < s->cfg->n_prefixes; i++) {
                struct prefix_rt *p = &s->pfx[i];
                bool announce = plan->action == ROUTE_ANNOUNCE;
                if (p->action == plan->action &&
                    (!announce || (p->attrs == plan->attrs && p->audience == audience)))
                        continue;
                p->action = plan->action;
                p->attrs = announce ? plan->attrs : ATTRS_NONE;
                p->audience = announce ? audience : AUDIENCE_NONE;
                struct route_update u = {
                    .prefix = &s->cfg->prefixes[i],
                    .action = plan->action,
                    .attrs = attr_set_attrs(s->cfg, p->attrs),
                    .service = s->cfg->name,
                    .reason = reason,
                    .decided_usec = decided,
                    .audience = p->audience,
                    .canary = &s->cfg->canary,
                };
                en->ops->update(en->be, &u);
                sent = true;
        }
        if (!sent)
                return;
        en->dirty = true;
        /* The commit runs in the next iteration, before anything else
         * pending (EV_PRIO_ROUTE); batches in progress end early. */
        sd_event_source_set_enabled(en->commit, SD_EVENT_ONESHOT);
        ev_route_pending_set(true);
}

void service_update(struct service_rt *s, const char *reason)
{
        struct engine *en = s->en;
        struct manual_entry *m = manual_state_find(&en->manual, s->cfg->name);
        bool manual_drain = m && m->drain_until_usec > engine_now_rt(en);
        struct svc_inputs in = {
            .health = s->health,
            .disabled = s->file_disabled || (m && !manual_drain),
            .on_disabled = s->cfg->on_disabled,
            .draining = manual_drain || s->shutdown_drain,
            .suppressed = s->cfg->dampening.enabled && s->damp.suppressed,
        };
        struct svc_plan plan = svc_plan(&in);
        char floor_reason[ENGINE_REASON_MAX + 160];
        if (!engine_floor(s, &in, &plan, &reason, floor_reason, sizeof(floor_reason))) {
                /* etcd is asked; until it answers the routes stay */
                set_text(&s->pending_reason, reason);
                return;
        }
        free(s->pending_reason);
        s->pending_reason = NULL;

        char file_reason[PATH_MAX + 16];
        const char *why_disabled = NULL;
        if (m && !manual_drain) {
                why_disabled = m->reason;
        } else if (s->file_disabled) {
                snprintf(file_reason, sizeof(file_reason), "disable file %s", s->cfg->disable_file);
                why_disabled = file_reason;
        }
        set_text(&s->disabled_reason, why_disabled);

        if (plan.state != s->state) {
                enum svc_state old = s->state;
                log_notice("service %s (pop %s): %s -> %s: %s", s->cfg->name, en->cfg->pop,
                           svc_state_name(old), svc_state_name(plan.state), reason);
                s->state = plan.state;
                s->since = engine_now(en);
                s->since_rt = engine_now_rt(en);
                s->transitions++;
                set_text(&s->reason, reason);
                engine_run_hooks(s, old, plan.state, reason);
                engine_status_changed(en);
        }
        service_apply(s, &plan, engine_canary_plan(s, &plan), reason);
        engine_fleet_publish(s);
}

/* ---- manual drain ---- */

static void drain_end(struct service_rt *s)
{
        struct engine *en = s->en;
        struct manual_entry *m = manual_state_find(&en->manual, s->cfg->name);

        s->drain_deadline = 0;
        if (m && m->drain_until_usec) {
                char reason[ENGINE_REASON_MAX];
                snprintf(reason, sizeof(reason), "drained: %s", m->reason);
                /* stays disabled: a plain disable from now on */
                manual_state_set(&en->manual, s->cfg->name, reason, m->since_usec, 0,
                                 m->by_withdraw_all);
                engine_save_manual(en);
                service_update(s, "drain time over: withdrawn");
        }
}

static void drain_end_fire(struct timerq_item *it, uint64_t now)
{
        drain_end(ENGINE_ITEM_OWNER(it, struct service_rt, drain_end));
}

void service_arm_drain(struct service_rt *s)
{
        struct engine *en = s->en;
        struct manual_entry *m = manual_state_find(&en->manual, s->cfg->name);
        uint64_t now_rt = engine_now_rt(en);

        if (!m || !m->drain_until_usec) {
                if (!s->shutdown_drain) {
                        timerq_cancel(en->timers, &s->drain_end);
                        s->drain_deadline = 0;
                }
                return;
        }
        /* A drain whose end passed (the daemon was down meanwhile) ends at once. */
        uint64_t left = m->drain_until_usec > now_rt ? m->drain_until_usec - now_rt : 0;
        s->drain_deadline = engine_now(en) + left;
        if (timerq_put(en->timers, &s->drain_end, s->drain_deadline) < 0) {
                log_err("service %s: cannot arm the drain timer; withdrawing now", s->cfg->name);
                drain_end(s);
        }
}

/* ---- dampening ---- */

static void damp_arm(struct service_rt *s)
{
        uint64_t at = dampening_reuse_at(&s->damp, &s->cfg->dampening);
        if (at == UINT64_MAX) {
                timerq_cancel(s->en->timers, &s->damp_reuse);
                return;
        }
        if (timerq_put(s->en->timers, &s->damp_reuse, at) < 0)
                log_err("service %s: cannot arm the dampening timer", s->cfg->name);
}

static void damp_reuse_fire(struct timerq_item *it, uint64_t now)
{
        struct service_rt *s = ENGINE_ITEM_OWNER(it, struct service_rt, damp_reuse);
        const struct dampening_cfg *c = &s->cfg->dampening;

        if (dampening_update(&s->damp, c, engine_now(s->en))) {
                char reason[128];
                snprintf(reason, sizeof(reason), "flap dampening: penalty %.0f fell below reuse %u",
                         s->damp.penalty, c->reuse);
                log_notice("service %s (pop %s): %s", s->cfg->name, s->en->cfg->pop, reason);
                service_update(s, reason);
        }
        damp_arm(s);
}

/* ---- canary ---- */

static void canary_end_fire(struct timerq_item *it, uint64_t now)
{
        struct service_rt *s = ENGINE_ITEM_OWNER(it, struct service_rt, canary_end);
        char reason[160];
        if (engine_canary_deadline(s, now, reason, sizeof(reason)))
                service_update(s, reason);
}

static bool announced_health(enum svc_state h)
{
        return h == SVC_UP || h == SVC_DEGRADED;
}

/* An up/down flap of the checks' verdict costs a penalty. */
static void damp_feed(struct service_rt *s, enum svc_state old, enum svc_state new_health)
{
        const struct dampening_cfg *c = &s->cfg->dampening;
        if (!c->enabled || old == SVC_UNKNOWN || new_health == SVC_UNKNOWN ||
            announced_health(old) == announced_health(new_health))
                return;
        if (dampening_transition(&s->damp, c, engine_now(s->en))) {
                log_warning("service %s (pop %s): flapping: penalty %.0f reached suppress %u; "
                            "withdrawn until it decays below %u",
                            s->cfg->name, s->en->cfg->pop, s->damp.penalty, c->suppress, c->reuse);
        }
        damp_arm(s);
}

static void service_set_health(struct service_rt *s, enum svc_state health, const char *reason)
{
        if (health == s->health)
                return;
        enum svc_state old = s->health;
        s->health = health;
        damp_feed(s, old, health);
        char r[ENGINE_REASON_MAX + 64];
        if (s->cfg->dampening.enabled && s->damp.suppressed)
                snprintf(r, sizeof(r), "%s (suppressed by flap dampening)", reason);
        else
                snprintf(r, sizeof(r), "%s", reason);
        service_update(s, r);
}

/* ---- checks ---- */

/* Folds one result in. event: an unsolicited report (host->report): a
 * failing one is an observation (the process died, the unit failed), not a
 * sample, so it takes the check down at once, as if "fall" results had
 * failed; a passing one counts once towards "rise" like any result. */
static void check_fold(struct check_rt *c, int result, const char *msg, bool event)
{
        struct service_rt *s = c->svc;
        const struct check_cfg *cfg = c->cfg;

        c->last_time_rt = engine_now_rt(s->en);
        if (result >= AHC_OK && result <= AHC_UNKNOWN)
                c->by_code[result]++;
        if (!event && msg && strncmp(msg, "timed out after ", 16) == 0)
                c->timeouts++;
        log_sanitise(c->last_msg, sizeof(c->last_msg), msg ? msg : "");
        struct check_hyst *h = &s->hyst[c->index];
        log_debug("service %s: check %s[%zu]: %s %s: %s", s->cfg->name, cfg->plugin, c->index,
                  event ? "reported" : "probed", check_result_label(result), c->last_msg);
        bool warned = h->warning;
        bool changed = check_hyst_feed(h, cfg->rise, event ? 1 : cfg->fall, result);
        /* A WARNING keeps the check up but makes the service degraded:
         * recombine when either moved. */
        if (!changed && warned == h->warning)
                return;

        char reason[512];
        const char *msg_or_code = c->last_msg[0] ? c->last_msg : check_result_label(result);
        const char *what = cfg->capacity ? "capacity check" : "check";
        if (changed && event && h->state == CHECK_DOWN) {
                snprintf(reason, sizeof(reason), "%s %s[%zu] failed (event): %s", what, cfg->plugin,
                         c->index, msg_or_code);
        } else if (changed) {
                unsigned need = h->state == CHECK_UP ? cfg->rise : cfg->fall;
                snprintf(reason, sizeof(reason), "%s %s[%zu] %s after %u result%s: %s", what,
                         cfg->plugin, c->index, h->state == CHECK_UP ? "passed" : "failed", need,
                         need == 1 ? "" : "s", msg_or_code);
        } else {
                snprintf(reason, sizeof(reason), "%s %s[%zu] %s: %s", what, cfg->plugin, c->index,
                         h->warning ? "warns" : "no longer warns", msg_or_code);
        }
        if (changed)
                log_info("service %s: %s %s[%zu] is now %s (%s: %s)", s->cfg->name, what,
                         cfg->plugin, c->index, h->state == CHECK_UP ? "up" : "down",
                         check_result_label(result), c->last_msg);
        enum svc_state health =
            service_combine(s->hyst, s->cfg->n_checks, s->cfg->combine, s->cfg->combine_n);
        service_set_health(s, health, reason);
}

static void check_result_cb(void *userdata, int result, const char *msg, uint64_t duration)
{
        struct check_rt *c = userdata;
        c->in_flight = false;
        c->last_duration = duration;
        duration_hist_add(&c->durations, duration);
        check_fold(c, result, msg, false);
}

static void check_report_cb(void *userdata, int result, const char *msg)
{
        check_fold(userdata, result, msg, true);
}

int engine_check_start(struct check_rt *c, uint64_t now)
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

static void check_tick(struct timerq_item *it, uint64_t now)
{
        struct check_rt *c = ENGINE_ITEM_OWNER(it, struct check_rt, tick);
        struct engine *en = c->svc->en;

        latency_hist_add(&en->stats, now > c->due ? now - c->due : 0);
        engine_check_start(c, now);

        /* Fixed rate: the next start is due one interval after this one was
         * due, so lateness does not accumulate; after a long stall skip
         * ahead rather than firing a burst. */
        c->due += c->cfg->interval_usec;
        if (c->due <= now)
                c->due = now + c->cfg->interval_usec;
        timerq_put(en->sched, &c->tick, c->due);
}

/* ---- disable files ---- */

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
        char reason[PATH_MAX + 64];
        snprintf(reason, sizeof(reason), "disable file %s %s", s->cfg->disable_file,
                 disabled ? "appeared" : "removed");
        log_notice("service %s (pop %s): %s by %s", s->cfg->name, s->en->cfg->pop,
                   disabled ? "disabled" : "enabled", reason);
        service_update(s, reason);
}

static int disable_dir_cb(sd_event_source *src, const struct inotify_event *ev, void *userdata)
{
        struct disable_dir *d = userdata;
        struct engine *en = d->en;

        /* Any change in the directory: re-stat the files that live there.
         * Cheap, and robust against editors that rename into place. */
        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = en->svcs[i];
                if (!s->cfg->disable_file || !s->disable_watched)
                        continue;
                const char *slash = strrchr(s->cfg->disable_file, '/');
                size_t dl = slash ? (size_t)(slash - s->cfg->disable_file) : 0;
                if (strlen(d->path) == dl && strncmp(d->path, s->cfg->disable_file, dl) == 0)
                        service_check_disabled(s);
        }
        return 0;
}

static void disable_poll_fire(struct timerq_item *it, uint64_t now)
{
        struct engine *en = ENGINE_ITEM_OWNER(it, struct engine, disable_poll);

        /* Re-queued first: a service_update below may end this dispatch. */
        timerq_put(en->timers, &en->disable_poll, now + DISABLE_POLL_USEC);
        for (size_t i = 0; i < en->n_svcs; i++)
                if (!en->svcs[i]->disable_watched)
                        service_check_disabled(en->svcs[i]);
}

void engine_unwatch_disable_files(struct engine *en)
{
        for (size_t i = 0; i < en->n_dirs; i++) {
                sd_event_source_disable_unref(en->dirs[i].src);
                free(en->dirs[i].path);
        }
        free(en->dirs);
        en->dirs = NULL;
        en->n_dirs = 0;
        if (en->timers)
                timerq_cancel(en->timers, &en->disable_poll);
}

int engine_watch_disable_files(struct engine *en)
{
        bool need_poll = false;

        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = en->svcs[i];
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
                int r =
                    timerq_put(en->timers, &en->disable_poll, engine_now(en) + DISABLE_POLL_USEC);
                if (r < 0)
                        return r;
        }
        /* Files that came or went while nothing watched them (a reload). */
        for (size_t i = 0; i < en->n_svcs; i++)
                service_check_disabled(en->svcs[i]);
        return 0;
}

/* ---- services ---- */

int service_rt_new(struct engine *en, const struct service_cfg *cfg, struct diag *d,
                   struct service_rt **out)
{
        struct service_rt *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->en = en;
        s->cfg = cfg;
        s->health = SVC_UNKNOWN;
        s->state = SVC_UNKNOWN;
        dampening_init(&s->damp);
        timerq_item_init(&s->drain_end, drain_end_fire);
        timerq_item_init(&s->damp_reuse, damp_reuse_fire);
        engine_canary_init(s, canary_end_fire);
        s->checks = calloc(cfg->n_checks ? cfg->n_checks : 1, sizeof(*s->checks));
        s->hyst = calloc(cfg->n_checks ? cfg->n_checks : 1, sizeof(*s->hyst));
        s->cst = calloc(cfg->n_checks ? cfg->n_checks : 1, sizeof(*s->cst));
        s->pfx = calloc(cfg->n_prefixes ? cfg->n_prefixes : 1, sizeof(*s->pfx));
        s->pst = calloc(cfg->n_prefixes ? cfg->n_prefixes : 1, sizeof(*s->pst));
        if (!s->checks || !s->hyst || !s->cst || !s->pfx || !s->pst) {
                service_rt_free(s);
                return -ENOMEM;
        }
        int ret = 0;
        for (size_t j = 0; j < cfg->n_checks; j++) {
                struct check_rt *c = &s->checks[j];
                c->svc = s;
                c->index = j;
                c->cfg = &cfg->checks[j];
                timerq_item_init(&c->tick, check_tick);
                check_hyst_init(&s->hyst[j]);
                s->hyst[j].capacity = c->cfg->capacity;
                int r = check_runner_new(en->plugins, cfg, j, d, &c->runner);
                if (r < 0 && ret == 0)
                        ret = r;
                if (r >= 0)
                        check_runner_set_report_fn(c->runner, check_report_cb, c);
        }
        if (ret < 0) {
                service_rt_free(s);
                return ret;
        }
        *out = s;
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

int service_rt_start(struct service_rt *s, uint64_t now)
{
        struct engine *en = s->en;

        s->since = now;
        s->since_rt = engine_now_rt(en);
        /* Disabled services are known at once: stating them does not wait
         * for checks. */
        if (s->cfg->disable_file && file_exists(s->cfg->disable_file)) {
                s->file_disabled = true;
                log_notice("service %s (pop %s): disabled by disable file %s", s->cfg->name,
                           en->cfg->pop, s->cfg->disable_file);
        }
        struct manual_entry *m = manual_state_find(&en->manual, s->cfg->name);
        if (!m && en->manual.withdraw_all) {
                /* a service that was not there when withdraw-all was given */
                if (manual_state_set(&en->manual, s->cfg->name, en->manual.withdraw_all_reason,
                                     engine_now_rt(en), 0, true) == 0) {
                        engine_save_manual(en);
                        m = manual_state_find(&en->manual, s->cfg->name);
                }
        }
        if (m)
                log_notice("service %s (pop %s): %s by the state file: %s", s->cfg->name,
                           en->cfg->pop, m->drain_until_usec ? "draining" : "disabled", m->reason);
        if (s->file_disabled || m)
                service_update(s, s->file_disabled ? "disable file present at start"
                                                   : "disabled in the state file");
        service_arm_drain(s);
        for (size_t j = 0; j < s->cfg->n_checks; j++) {
                struct check_rt *c = &s->checks[j];
                c->due = now + jitter(c->cfg->interval_usec);
                int r = timerq_put(en->sched, &c->tick, c->due);
                if (r < 0)
                        return r;
        }
        return 0;
}

void service_rt_free(struct service_rt *s)
{
        if (!s)
                return;
        for (size_t j = 0; s->checks && j < s->cfg->n_checks; j++) {
                if (s->en->sched)
                        timerq_cancel(s->en->sched, &s->checks[j].tick);
                check_runner_free(s->checks[j].runner);
        }
        if (s->en->timers) {
                timerq_cancel(s->en->timers, &s->drain_end);
                timerq_cancel(s->en->timers, &s->damp_reuse);
        }
        engine_canary_free(s);
        free(s->reason);
        free(s->disabled_reason);
        free(s->pending_reason);
        free(s->checks);
        free(s->hyst);
        free(s->cst);
        free(s->pfx);
        free(s->pst);
        free(s);
}

/* ---- engine ---- */

int engine_new(sd_event *e, struct clock *clk, const struct config *cfg,
               struct plugin_host *plugins, const struct backend_ops *ops, struct backend *backend,
               struct diag *d, struct engine **out)
{
        struct engine *en = calloc(1, sizeof(*en));
        if (!en)
                return -ENOMEM;
        en->e = sd_event_ref(e);
        en->clk = clk;
        en->cfg = cfg;
        timerq_item_init(&en->disable_poll, disable_poll_fire);
        engine_notify_init(en);
        engine_save_init(en);
        /* Not queued from the start (engine_free cancels it); engine_ctl.c
         * gives it its function when a stop drains. */
        timerq_item_init(&en->shutdown_end, NULL);
        en->plugins = plugins;
        en->ops = ops;
        en->be = backend;
        latency_hist_init(&en->stats);
        latency_hist_init(&en->route_stats);
        int r = timerq_new(e, clk, TIMER_ACCURACY, &en->sched);
        if (r >= 0)
                r = timerq_set_priority(en->sched, EV_PRIO_CHECK_START);
        /* Drain ends, dampening reuse and the disable-file poll decide
         * routes: they are results, not check starts (event_priority.h). */
        if (r >= 0)
                r = timerq_new(e, clk, TIMER_ACCURACY, &en->timers);
        if (r >= 0)
                r = timerq_set_priority(en->timers, EV_PRIO_RESULT);
        if (r < 0) {
                engine_free(en);
                return r;
        }

        /* Manual state first: a corrupt file must stop us before anything
         * could be announced that an operator had disabled. */
        char err[512] = "";
        r = manual_state_load(cfg->state_file, &en->manual, err, sizeof(err));
        if (r < 0) {
                log_err("state file %s: %s: %s. Refusing to start: it may hold manual "
                        "disables that must not be lost. Repair it, or move it away to "
                        "forget every manual disable and drain",
                        cfg->state_file,
                        r == -EBADMSG                  ? "corrupt"
                        : r == -EISDIR || r == -EINVAL ? "unusable"
                                                       : strerror(-r),
                        err);
                engine_free(en);
                return r == -EBADMSG ? -EBADMSG : r;
        }
        r = hook_runner_new(e, &en->hooks);
        if (r < 0) {
                engine_free(en);
                return r;
        }
        r = engine_canary_supported(cfg, ops, d);
        if (r < 0) {
                engine_free(en);
                return r;
        }
        en->svcs = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*en->svcs));
        if (!en->svcs) {
                engine_free(en);
                return -ENOMEM;
        }
        int ret = 0;
        for (size_t i = 0; i < cfg->n_services; i++) {
                r = service_rt_new(en, &cfg->services[i], d, &en->svcs[en->n_svcs]);
                if (r < 0) {
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                en->n_svcs++;
        }
        if (ret < 0) {
                engine_free(en);
                return ret;
        }
        r = sd_event_add_defer(e, &en->commit, commit_cb, en);
        if (r < 0) {
                engine_free(en);
                return r;
        }
        /* Ahead of everything else pending (event_priority.h): a decided
         * change must not wait behind check I/O. Results folded in one
         * dispatch still leave together. */
        sd_event_source_set_priority(en->commit, EV_PRIO_ROUTE);
        sd_event_source_set_enabled(en->commit, SD_EVENT_OFF);
        *out = en;
        return 0;
}

int engine_start(struct engine *en)
{
        uint64_t now = engine_now(en);
        srandom((unsigned)(now ^ (uint64_t)getpid()));

        if (en->manual.withdraw_all)
                log_notice("withdraw-all is in force (state file): %s",
                           en->manual.withdraw_all_reason);
        for (size_t i = 0; i < en->n_svcs; i++) {
                int r = service_rt_start(en->svcs[i], now);
                if (r < 0)
                        return r;
        }
        en->started = true;
        engine_status_changed(en);
        return engine_watch_disable_files(en);
}

const struct latency_hist *engine_get_stats(const struct engine *en)
{
        return &en->stats;
}

const struct latency_hist *engine_get_route_stats(const struct engine *en)
{
        return &en->route_stats;
}

const struct duration_hist *engine_route_delay(const struct engine *en)
{
        return &en->route_delay;
}

void engine_note_route_sent(struct engine *en, uint64_t delay_usec)
{
        latency_hist_add(&en->route_stats, delay_usec);
        duration_hist_add(&en->route_delay, delay_usec);
}

void engine_reset_stats(struct engine *en)
{
        latency_hist_init(&en->stats);
        latency_hist_init(&en->route_stats);
}

const struct config *engine_config(const struct engine *en)
{
        return en->cfg;
}

void engine_free(struct engine *en)
{
        if (!en)
                return;
        for (size_t i = 0; i < en->n_svcs; i++)
                service_rt_free(en->svcs[i]);
        free(en->svcs);
        engine_unwatch_disable_files(en);
        sd_event_source_disable_unref(en->commit);
        if (en->timers) {
                timerq_cancel(en->timers, &en->notify_due);
                timerq_cancel(en->timers, &en->shutdown_end);
                timerq_cancel(en->timers, &en->save_retry);
        }
        hook_runner_free(en->hooks);
        manual_state_free(&en->manual);
        config_free(en->owned_cfg);
        timerq_free(en->timers);
        timerq_free(en->sched);
        sd_event_unref(en->e);
        free(en);
}
