/* engine_reload.c: switching to a new configuration without route churn.
 * Like a routing daemon's reconfigure: a service whose definition (its whole
 * service file, service_cfg.raw) did not change keeps its runtime as is -
 * check runners, timers, hysteresis, counters, dampening - and only its
 * config pointers move to the new configuration. Everything else is built
 * fresh and validated before anything is touched, so a bad configuration
 * leaves the running one alone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_fleet.h"
#include "engine_canary.h"
#include "engine_internal.h"
#include "engine_notify.h"
#include "engine_reload.h"
#include "log.h"

static struct service_rt *find_old(struct engine *en, const char *name)
{
        for (size_t i = 0; i < en->n_svcs; i++)
                if (strcmp(en->svcs[i]->cfg->name, name) == 0)
                        return en->svcs[i];
        return NULL;
}

static bool held_by(const struct config *c, const struct prefix *p)
{
        for (size_t i = 0; i < c->n_services; i++)
                for (size_t j = 0; j < c->services[i].n_prefixes; j++)
                        if (prefix_equal(&c->services[i].prefixes[j], p))
                                return true;
        return false;
}

/* What was last asked for p by any old service that is going away. */
static bool old_route(struct service_rt **old, size_t n, const bool *kept, const struct prefix *p,
                      struct prefix_rt *out)
{
        for (size_t i = 0; i < n; i++) {
                if (kept[i])
                        continue;
                for (size_t j = 0; j < old[i]->cfg->n_prefixes; j++)
                        if (prefix_equal(&old[i]->cfg->prefixes[j], p)) {
                                *out = old[i]->pfx[j];
                                return true;
                        }
        }
        return false;
}

static bool str_eq(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

static void warn_restart_only(const struct engine *en, const struct config *a,
                              const struct config *b)
{
        bool speaker = en->ops->needs_restart && en->ops->needs_restart(a, b);
        if (!str_eq(a->backend, b->backend) || a->asn != b->asn || speaker ||
            strcmp(a->pop, b->pop) != 0 || strcmp(a->plugin_dir, b->plugin_dir) != 0 ||
            strcmp(a->state_file, b->state_file) != 0 || !config_fleet_equal(&a->fleet, &b->fleet))
                log_warning("reload: pop, backend, asn, plugin_dir, state_file, the \"fleet\" "
                            "block and the \"%s\" block's settings (but on_exit) take effect "
                            "at the next restart",
                            en->ops->name);
}

int engine_reload(struct engine *en, struct config *newcfg, struct diag *d)
{
        const struct config *oldcfg = en->cfg;
        size_t n_old = en->n_svcs, n_new = newcfg->n_services;
        struct service_rt **nv = calloc(n_new ? n_new : 1, sizeof(*nv));
        bool *kept = calloc(n_old ? n_old : 1, sizeof(*kept));
        bool *reused = calloc(n_new ? n_new : 1, sizeof(*reused));
        int ret = 0;

        if (!nv || !kept || !reused) {
                ret = -ENOMEM;
                goto fail;
        }
        ret = engine_canary_supported(newcfg, en->ops, d);
        if (ret < 0)
                goto fail;
        /* 1. Build what is new or changed; touch nothing running yet. */
        for (size_t i = 0; i < n_new; i++) {
                const struct service_cfg *sc = &newcfg->services[i];
                struct service_rt *old = find_old(en, sc->name);
                if (old && strcmp(old->cfg->raw, sc->raw) == 0) {
                        nv[i] = old;
                        reused[i] = true;
                        continue;
                }
                int r = service_rt_new(en, sc, d, &nv[i]);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        if (ret < 0)
                goto fail;

        /* 2. Switch. */
        warn_restart_only(en, oldcfg, newcfg);
        for (size_t i = 0; i < n_old; i++)
                for (size_t k = 0; k < n_new; k++)
                        if (reused[k] && nv[k] == en->svcs[i])
                                kept[i] = true;
        size_t n_kept = 0, n_changed = 0, n_added = 0, n_removed = 0;
        for (size_t i = 0; i < n_new; i++) {
                struct service_rt *s = nv[i];
                const struct service_cfg *sc = &newcfg->services[i];
                if (reused[i]) {
                        s->cfg = sc;
                        for (size_t j = 0; j < sc->n_checks; j++)
                                s->checks[j].cfg = &sc->checks[j];
                        n_kept++;
                        continue;
                }
                /* Prefixes keep what the speaker has until the new service
                 * decides, as after a restart. */
                for (size_t j = 0; j < sc->n_prefixes; j++)
                        if (old_route(en->svcs, n_old, kept, &sc->prefixes[j], &s->pfx[j]))
                                /* the attributes may differ now: the next
                                 * announce goes to the backend, which drops
                                 * it when nothing changed */
                                s->pfx[j].attrs = ATTRS_NONE;
                engine_canary_adopt(s);
                if (find_old(en, sc->name)) {
                        log_notice("reload: service %s changed: its checks start over", sc->name);
                        n_changed++;
                } else {
                        log_notice("reload: service %s added", sc->name);
                        n_added++;
                }
        }
        for (size_t i = 0; i < n_old; i++) {
                struct service_rt *s = en->svcs[i];
                if (kept[i])
                        continue;
                bool renamed_away = true;
                for (size_t k = 0; k < n_new; k++)
                        if (strcmp(newcfg->services[k].name, s->cfg->name) == 0)
                                renamed_away = false;
                if (renamed_away) {
                        log_notice("reload: service %s removed", s->cfg->name);
                        n_removed++;
                }
                for (size_t j = 0; j < s->cfg->n_prefixes; j++) {
                        const struct prefix *p = &s->cfg->prefixes[j];
                        if (s->pfx[j].action != ROUTE_ANNOUNCE || held_by(newcfg, p))
                                continue;
                        struct route_update u = {
                            .prefix = p,
                            .action = ROUTE_WITHDRAW,
                            .service = s->cfg->name,
                            .reason = "service removed by a reload",
                        };
                        en->ops->update(en->be, &u);
                        en->dirty = true;
                }
                service_rt_free(s);
        }
        if (en->dirty)
                sd_event_source_set_enabled(en->commit, SD_EVENT_ONESHOT);
        free(en->svcs);
        en->svcs = nv;
        en->n_svcs = n_new;
        nv = NULL;
        en->cfg = newcfg;
        config_free(en->owned_cfg); /* the one before, if a reload gave it */
        en->owned_cfg = newcfg;
        /* Every runner is built: positions were only for their errors. */
        config_drop_positions(newcfg);

        /* 3. Start what is new. */
        uint64_t now = engine_now(en);
        for (size_t i = 0; i < n_new; i++) {
                if (reused[i])
                        continue;
                int r = service_rt_start(en->svcs[i], now);
                if (r < 0)
                        log_err("reload: cannot schedule the checks of %s: %s",
                                en->svcs[i]->cfg->name, strerror(-r));
        }
        engine_unwatch_disable_files(en);
        int r = engine_watch_disable_files(en);
        if (r < 0)
                log_err("reload: cannot watch disable files: %s", strerror(-r));
        engine_status_changed(en);
        log_notice("reloaded: %zu services unchanged, %zu changed, %zu added, %zu removed", n_kept,
                   n_changed, n_added, n_removed);
        free(kept);
        free(reused);
        return 0;
fail:
        for (size_t i = 0; nv && i < n_new; i++)
                if (!reused[i])
                        service_rt_free(nv[i]);
        free(nv);
        free(kept);
        free(reused);
        config_free(newcfg);
        return ret;
}

int engine_reload_file(struct engine *en, struct diag *d)
{
        struct config *nc = NULL;
        const char *file = en->cfg->file;
        size_t n0 = d->n;
        int r = config_load(file, &nc, d);
        if (r >= 0)
                r = engine_reload(en, nc, d);
        if (r < 0) {
                for (size_t i = n0; i < d->n; i++)
                        log_err("%s:%d:%d: %s", d->msgs[i].file, d->msgs[i].line, d->msgs[i].column,
                                d->msgs[i].text);
                log_err("reload of %s rejected (%zu problem%s): the running configuration stays",
                        en->cfg->file, d->n - n0, d->n - n0 == 1 ? "" : "s");
                return r < 0 ? r : -EINVAL;
        }
        return 0;
}
