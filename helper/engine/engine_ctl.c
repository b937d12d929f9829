/* engine_ctl.c: what the operator edges ask of the engine (engine_ctl.h):
 * status snapshots, manual disable/enable/drain/check/withdraw-all kept in
 * the state file, and the drain before a clean stop (a manual drain's
 * timer is engine.c's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "engine_floor.h"
#include "engine_internal.h"
#include "engine_notify.h"
#include "engine_save.h"
#include "log.h"

size_t engine_service_count(struct engine *en)
{
        return en->n_svcs;
}

int engine_service_find(struct engine *en, const char *name)
{
        if (!name)
                return -ENOENT;
        for (size_t i = 0; i < en->n_svcs; i++)
                if (strcmp(en->svcs[i]->cfg->name, name) == 0)
                        return (int)i;
        return -ENOENT;
}

static struct service_rt *find(struct engine *en, const char *name)
{
        int i = engine_service_find(en, name);
        return i < 0 ? NULL : en->svcs[i];
}

int engine_service_status(struct engine *en, size_t i, struct service_status *out)
{
        if (i >= en->n_svcs)
                return -ENOENT;
        struct service_rt *s = en->svcs[i];
        uint64_t now = engine_now(en);

        for (size_t j = 0; j < s->cfg->n_prefixes; j++) {
                struct prefix_status *p = &s->pst[j];
                prefix_format(&s->cfg->prefixes[j], p->prefix);
                p->action = s->pfx[j].action;
                p->as_what = attr_set_name(s->pfx[j].attrs);
                p->audience = s->pfx[j].audience;
                p->confirm = CONFIRM_NONE;
                if (p->action != ROUTE_NONE && en->ops->confirmed)
                        p->confirm = en->ops->confirmed(en->be, &s->cfg->prefixes[j]);
        }
        for (size_t j = 0; j < s->cfg->n_checks; j++) {
                const struct check_rt *c = &s->checks[j];
                struct check_status *k = &s->cst[j];
                *k = (struct check_status){
                    .plugin = c->cfg->plugin,
                    .state = s->hyst[j].state,
                    .last_result = s->hyst[j].last_result,
                    .last_message = c->last_msg,
                    .last_duration_usec = c->last_duration,
                    .last_time_usec = c->last_time_rt,
                    .timeouts = c->timeouts,
                    .durations = c->durations,
                };
                memcpy(k->results_by_code, c->by_code, sizeof(k->results_by_code));
        }
        const struct dampening_cfg *dc = &s->cfg->dampening;
        *out = (struct service_status){
            .name = s->cfg->name,
            .state = s->state,
            .health = s->health,
            .since_usec = s->since_rt,
            .transitions = s->transitions,
            .reason = s->reason,
            .disabled = s->disabled_reason != NULL,
            .disabled_reason = s->disabled_reason,
            .drain_remaining_usec =
                s->state == SVC_DRAINING && s->drain_deadline > now ? s->drain_deadline - now : 0,
            .dampening_penalty = dc->enabled ? dampening_penalty_at(&s->damp, dc, now) : 0,
            .dampening_suppressed = dc->enabled && s->damp.suppressed,
            .prefixes = s->pst,
            .n_prefixes = s->cfg->n_prefixes,
            .checks = s->cst,
            .n_checks = s->cfg->n_checks,
            .fleet_announcing = engine_fleet_announcing(s),
        };
        return 0;
}

int engine_state_file_error(struct engine *en)
{
        return en->save_error;
}

/* What an action that changed nothing answers: the state may still be
 * unsaved from an earlier one. */
static int unchanged(struct engine *en)
{
        return en->save_error ? ENGINE_UNSAVED : 0;
}

/* ---- drain ---- */

int engine_drain(struct engine *en, const char *service, const char *reason)
{
        struct service_rt *s = find(en, service);
        if (!s)
                return -ENOENT;
        if (s->state == SVC_DRAINING || s->state == SVC_DISABLED)
                return -EALREADY;
        uint64_t now_rt = engine_now_rt(en);
        bool announced = false;
        for (size_t i = 0; i < s->cfg->n_prefixes; i++)
                announced |= s->pfx[i].action == ROUTE_ANNOUNCE;
        char text[ENGINE_REASON_MAX];
        /* The reason comes from a control client: logged, hooked, saved. */
        log_sanitise(text, sizeof(text), reason && reason[0] ? reason : "drained");
        int r;
        if (!announced) {
                r = manual_state_set(&en->manual, s->cfg->name, text, now_rt, 0, false);
                if (r < 0)
                        return r;
                log_notice("service %s (pop %s): drain requested but not announced: disabled "
                           "at once (%s)",
                           s->cfg->name, en->cfg->pop, text);
                int w = engine_save_manual(en);
                service_update(s, "drain requested while not announced");
                return w;
        }
        r = manual_state_set(&en->manual, s->cfg->name, text, now_rt,
                             now_rt + s->cfg->drain.time_usec, false);
        if (r < 0)
                return r;
        log_notice("service %s (pop %s): draining for %llu ms, then withdrawing: %s", s->cfg->name,
                   en->cfg->pop, (unsigned long long)(s->cfg->drain.time_usec / 1000), text);
        int w = engine_save_manual(en);
        service_arm_drain(s);
        char why[ENGINE_REASON_MAX + 16];
        snprintf(why, sizeof(why), "drain: %s", text);
        service_update(s, why);
        return w;
}

/* ---- shutdown drain ---- */

static void shutdown_end_fire(struct timerq_item *it, uint64_t now)
{
        struct engine *en = ENGINE_ITEM_OWNER(it, struct engine, shutdown_end);
        void (*done)(void *) = en->shutdown_done;
        en->shutdown_done = NULL;
        if (done)
                done(en->shutdown_userdata);
}

uint64_t engine_shutdown_drain(struct engine *en, void (*done)(void *), void *userdata)
{
        uint64_t longest = 0, now = engine_now(en);

        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = en->svcs[i];
                if (!s->cfg->drain.on_shutdown || s->state == SVC_DRAINING)
                        continue;
                bool announced = false;
                for (size_t j = 0; j < s->cfg->n_prefixes; j++)
                        announced |= s->pfx[j].action == ROUTE_ANNOUNCE;
                if (!announced)
                        continue;
                s->shutdown_drain = true;
                s->drain_deadline = now + s->cfg->drain.time_usec;
                if (s->cfg->drain.time_usec > longest)
                        longest = s->cfg->drain.time_usec;
                service_update(s, "daemon stopping: draining first");
        }
        en->shutdown_done = done;
        en->shutdown_userdata = userdata;
        if (longest)
                log_notice("draining before the stop: %llu ms",
                           (unsigned long long)(longest / 1000));
        /* From the loop, also with nothing to drain: the caller may still be
         * setting up around this call. */
        en->shutdown_end.fire = shutdown_end_fire;
        int r = timerq_put(en->timers, &en->shutdown_end, now + longest);
        if (r < 0) {
                log_err("cannot arm the shutdown drain timer: %s; stopping now", strerror(-r));
                en->shutdown_done = NULL;
                if (done)
                        done(userdata);
                return 0;
        }
        return longest;
}

/* ---- manual actions ---- */

int engine_disable(struct engine *en, const char *service, const char *reason)
{
        struct service_rt *s = find(en, service);
        if (!s)
                return -ENOENT;
        char text[ENGINE_REASON_MAX];
        log_sanitise(text, sizeof(text), reason && reason[0] ? reason : "disabled");
        struct manual_entry *m = manual_state_find(&en->manual, service);
        if (m && !m->drain_until_usec && strcmp(m->reason, text) == 0)
                return unchanged(en);
        int r = manual_state_set(&en->manual, service, text, engine_now_rt(en), 0, false);
        if (r < 0)
                return r;
        log_notice("service %s (pop %s): disabled by the operator: %s", service, en->cfg->pop,
                   text);
        int w = engine_save_manual(en);
        service_arm_drain(s);
        char why[ENGINE_REASON_MAX + 16];
        snprintf(why, sizeof(why), "disabled: %s", text);
        service_update(s, why);
        return w;
}

/* Ends a withdraw-all: the flag, and every entry it made (services
 * disabled on their own keep theirs). The caller saves and logs. */
static void withdraw_all_end(struct engine *en)
{
        en->manual.withdraw_all = false;
        free(en->manual.withdraw_all_reason);
        en->manual.withdraw_all_reason = NULL;
        for (size_t i = 0; i < en->manual.n;) {
                if (en->manual.entries[i].by_withdraw_all)
                        manual_state_remove(&en->manual, en->manual.entries[i].service);
                else
                        i++;
        }
}

/* A withdraw-all ends once every service it disabled was enabled again:
 * otherwise it would stand for ever (nothing else ends it), and services
 * added by a later reload would come up disabled. Entries left are of
 * services a reload removed meanwhile. */
static void withdraw_all_end_if_done(struct engine *en)
{
        if (!en->manual.withdraw_all)
                return;
        for (size_t i = 0; i < en->manual.n; i++)
                if (en->manual.entries[i].by_withdraw_all &&
                    find(en, en->manual.entries[i].service))
                        return;
        log_notice("withdraw-all over (pop %s): every service it withdrew was enabled again",
                   en->cfg->pop);
        withdraw_all_end(en);
        engine_status_changed(en);
}

int engine_enable(struct engine *en, const char *service)
{
        struct service_rt *s = find(en, service);
        if (!s)
                return -ENOENT;
        if (!manual_state_remove(&en->manual, service))
                return s->file_disabled ? -EBUSY : -EALREADY;
        log_notice("service %s (pop %s): enabled by the operator", service, en->cfg->pop);
        withdraw_all_end_if_done(en);
        int w = engine_save_manual(en);
        service_arm_drain(s);
        service_update(s, "enabled by the operator");
        if (w)
                return w;
        return s->file_disabled ? -EBUSY : 0;
}

int engine_check_now(struct engine *en, const char *service)
{
        struct service_rt *s = find(en, service);
        if (!s)
                return -ENOENT;
        uint64_t now = engine_now(en);
        for (size_t j = 0; j < s->cfg->n_checks; j++)
                if (!s->checks[j].in_flight)
                        engine_check_start(&s->checks[j], now);
        return 0;
}

int engine_withdraw_all(struct engine *en, const char *reason)
{
        char text[ENGINE_REASON_MAX];
        char clean[ENGINE_REASON_MAX];
        snprintf(text, sizeof(text), "withdraw-all: %s",
                 log_sanitise(clean, sizeof(clean) - 16, reason ? reason : ""));
        uint64_t now_rt = engine_now_rt(en);
        char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        free(en->manual.withdraw_all_reason);
        en->manual.withdraw_all = true;
        en->manual.withdraw_all_reason = copy;
        en->manual.withdraw_all_since_usec = now_rt;
        for (size_t i = 0; i < en->n_svcs; i++) {
                const char *name = en->svcs[i]->cfg->name;
                struct manual_entry *m = manual_state_find(&en->manual, name);
                if (m && !m->drain_until_usec)
                        continue; /* disabled on its own: stays so after the clear */
                if (manual_state_set(&en->manual, name, text, now_rt, 0, true) < 0)
                        return -ENOMEM;
        }
        log_warning("withdraw-all by the operator (pop %s): %s", en->cfg->pop, text);
        engine_floor_note_withdraw_all(en);
        int w = engine_save_manual(en);
        for (size_t i = 0; i < en->n_svcs; i++) {
                service_arm_drain(en->svcs[i]);
                service_update(en->svcs[i], text);
        }
        return w;
}

const char *engine_withdraw_all_reason(struct engine *en)
{
        return en->manual.withdraw_all ? en->manual.withdraw_all_reason : NULL;
}
