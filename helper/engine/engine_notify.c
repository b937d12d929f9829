/* engine_notify.c: telling the outside about transitions: the operator's
 * hooks (argv from the config, the transition in the environment) and the
 * one-line STATUS= for systemd, at most once a second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "engine_internal.h"
#include "engine_notify.h"
#include "log.h"

#define STATUS_MIN_INTERVAL_USEC 1000000ULL

void engine_status_line(struct engine *en, char *buf, size_t size)
{
        size_t n[SVC_HELD + 1] = {0};
        for (size_t i = 0; i < en->n_svcs; i++)
                if (en->svcs[i]->state <= SVC_HELD)
                        n[en->svcs[i]->state]++;
        int w = snprintf(buf, size, "%zu up, %zu degraded, %zu down, %zu disabled", n[SVC_UP],
                         n[SVC_DEGRADED], n[SVC_DOWN], n[SVC_DISABLED]);
        if (w < 0 || (size_t)w >= size)
                return;
        if (n[SVC_DRAINING])
                w += snprintf(buf + w, size - (size_t)w, ", %zu draining", n[SVC_DRAINING]);
        if (w >= 0 && (size_t)w < size && n[SVC_HELD])
                w += snprintf(buf + w, size - (size_t)w, ", %zu held by the floor", n[SVC_HELD]);
        if (w >= 0 && (size_t)w < size && n[SVC_UNKNOWN])
                w += snprintf(buf + w, size - (size_t)w, ", %zu unknown", n[SVC_UNKNOWN]);
        if (w >= 0 && (size_t)w < size && en->save_error)
                snprintf(buf + w, size - (size_t)w, ", state file unsaved (%s)",
                         strerror(-en->save_error));
}

static void send_status(struct engine *en)
{
        char line[256];
        engine_status_line(en, line, sizeof(line));
        en->notify_last = engine_now(en);
        sd_notifyf(0, "STATUS=%s%s%s", line, en->manual.withdraw_all ? "; WITHDRAW-ALL: " : "",
                   en->manual.withdraw_all ? en->manual.withdraw_all_reason : "");
}

static void notify_due_fire(struct timerq_item *it, uint64_t now)
{
        send_status(ENGINE_ITEM_OWNER(it, struct engine, notify_due));
}

void engine_notify_init(struct engine *en)
{
        timerq_item_init(&en->notify_due, notify_due_fire);
}

void engine_status_changed(struct engine *en)
{
        if (!en->started)
                return;
        uint64_t now = engine_now(en);
        if (en->notify_last == 0 || now >= en->notify_last + STATUS_MIN_INTERVAL_USEC) {
                timerq_cancel(en->timers, &en->notify_due);
                send_status(en);
                return;
        }
        /* Rate-limited: one update when the interval is over carries all. */
        if (!timerq_item_queued(&en->notify_due))
                timerq_put(en->timers, &en->notify_due, en->notify_last + STATUS_MIN_INTERVAL_USEC);
}

static char *env_var(const char *k, const char *v)
{
        char *r;
        return asprintf(&r, "%s=%s", k, v) < 0 ? NULL : r;
}

/* Runs s's on_change hook; prefixes: the PREFIXES value. */
static void run_hook(struct service_rt *s, const char *prefixes, const char *old,
                     const char *new_state, const char *reason)
{
        struct engine *en = s->en;
        const struct hooks_cfg *h = s->cfg->hooks.on_change ? &s->cfg->hooks : &en->cfg->hooks;
        if (!h->on_change)
                return;
        char *env[7] = {
            env_var("SERVICE", s->cfg->name),
            env_var("PREFIXES", prefixes),
            env_var("OLD_STATE", old),
            env_var("NEW_STATE", new_state),
            env_var("REASON", reason ? reason : ""),
            env_var("POP", en->cfg->pop),
            NULL,
        };
        bool ok = true;
        for (size_t i = 0; i < 6; i++)
                ok &= env[i] != NULL;
        if (ok) {
                char label[128];
                snprintf(label, sizeof(label), "%s for %s", h->on_change[0], s->cfg->name);
                hook_run(en->hooks, h->on_change, env, h->timeout_usec, label);
        } else {
                log_err("service %s: out of memory for its hook", s->cfg->name);
        }
        for (size_t i = 0; i < 6; i++)
                free(env[i]);
}

void engine_run_hooks(struct service_rt *s, enum svc_state old, enum svc_state new_state,
                      const char *reason)
{
        const struct hooks_cfg *h = s->cfg->hooks.on_change ? &s->cfg->hooks : &s->en->cfg->hooks;
        if (!h->on_change)
                return;
        char *prefixes = NULL;
        size_t plen = 0;
        FILE *f = open_memstream(&prefixes, &plen);
        if (!f)
                return;
        for (size_t i = 0; i < s->cfg->n_prefixes; i++) {
                char p[PREFIX_STRLEN];
                prefix_format(&s->cfg->prefixes[i], p);
                fprintf(f, "%s%s", i ? " " : "", p);
        }
        if (fclose(f) != 0) {
                free(prefixes);
                return;
        }
        run_hook(s, prefixes, svc_state_name(old), svc_state_name(new_state), reason);
        free(prefixes);
}

void engine_note_stuck(struct engine *en, const struct prefix *p, bool stuck, const char *why)
{
        char text[PREFIX_STRLEN];
        prefix_format(p, text);
        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = en->svcs[i];
                for (size_t j = 0; j < s->cfg->n_prefixes; j++) {
                        if (!prefix_equal(&s->cfg->prefixes[j], p))
                                continue;
                        const char *state = svc_state_name(s->state);
                        if (stuck)
                                log_warning("service %s (pop %s): %s is stuck at the speaker: %s",
                                            s->cfg->name, en->cfg->pop, text, why);
                        else
                                log_notice("service %s (pop %s): %s is right at the speaker again",
                                           s->cfg->name, en->cfg->pop, text);
                        run_hook(s, text, stuck ? state : "stuck", stuck ? "stuck" : state,
                                 stuck ? why : "the speaker holds it as asked again");
                        engine_status_changed(en);
                        return;
                }
        }
        /* not a prefix of any service (a reload removed it): the speaker logged it */
}
