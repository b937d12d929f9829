/* engine_fleet.c: the fleet's news entering the engine (a service's
 * entries changed, an answer from etcd, readiness), the floor against an
 * operator's disable or drain, and the member's counters for metrics. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine_fleet.h"
#include "engine_floor.h"
#include "engine_internal.h"

bool engine_fleet_status(struct engine *en, struct engine_fleet_status *out)
{
        *out = (struct engine_fleet_status){0};
        const struct engine_fleet *fl = &en->fleet;
        if (!fl->ctx)
                return false;
        if (fl->status)
                fl->status(fl->ctx, out);
        else
                out->ready = fl->ready(fl->ctx);
        return true;
}

void engine_set_fleet(struct engine *en, const struct engine_fleet *fleet)
{
        en->fleet = fleet ? *fleet : (struct engine_fleet){0};
}

static void recheck(struct service_rt *s)
{
        const struct engine_fleet *fl = &s->en->fleet;
        /* only a hold or a withdraw waiting for etcd can change */
        if (s->cfg->floor.min_pops == 0 ||
            !(s->state == SVC_HELD || s->health == SVC_DOWN || s->damp.suppressed))
                return;
        char why[ENGINE_REASON_MAX];
        if (s->pending_reason) /* copied: service_update() frees it */
                snprintf(why, sizeof(why), "%s", s->pending_reason);
        else if (fl->ready(fl->ctx)) {
                unsigned n = fl->others_announcing(fl->ctx, s->cfg->name);
                snprintf(why, sizeof(why), "fleet: %u other PoP%s announce%s", n, n == 1 ? "" : "s",
                         n == 1 ? "s" : "");
        } else
                snprintf(why, sizeof(why), "fleet: etcd unreachable");
        service_update(s, why);
}

void engine_fleet_changed(struct engine *en, const char *service)
{
        if (!en->fleet.ctx || !en->started)
                return;
        if (service) {
                int i = engine_service_find(en, service);
                if (i >= 0)
                        recheck(en->svcs[i]);
                return;
        }
        for (size_t i = 0; i < en->n_svcs; i++) {
                recheck(en->svcs[i]);
                engine_fleet_publish(en->svcs[i]);
        }
}

int engine_floor_manual(struct engine *en, const char *service, char *why, size_t size)
{
        int i = engine_service_find(en, service);
        if (i < 0)
                return i;
        struct service_rt *s = en->svcs[i];
        const struct engine_fleet *fl = &en->fleet;
        unsigned min_pops = s->cfg->floor.min_pops;
        if (!fl->ctx || min_pops == 0 || !engine_floor_announced(s))
                return 0;
        if (!fl->ready(fl->ctx)) {
                snprintf(why, size,
                         "service %s has a floor (min_pops %u) and etcd is unreachable: how "
                         "many other PoPs announce it cannot be told",
                         service, min_pops);
                return 1;
        }
        unsigned others = fl->others_announcing(fl->ctx, service);
        if (others >= min_pops)
                return 0;
        snprintf(why, size,
                 "withdrawing %s here would leave %u PoP%s announcing it, below its floor "
                 "(min_pops %u)",
                 service, others, others == 1 ? "" : "s", min_pops);
        return 1;
}
