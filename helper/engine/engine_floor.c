/* engine_floor.c: the fleet's floor between a service's plan and its
 * routes (policy/floor.c decides, the fleet seam in engine.h asks etcd),
 * and this PoP's state of each service told to the fleet. A withdraw the
 * checks asked for goes only once etcd agreed that enough other PoPs
 * announce; otherwise the service is held: announced, degraded. It uses
 * nothing of engine.c: the fleet's news re-enter the engine through
 * engine_fleet.c. */
#include <stdio.h>
#include <string.h>

#include "engine_floor.h"
#include "engine_internal.h"
#include "floor.h"
#include "log.h"

bool engine_floor_announced(const struct service_rt *s)
{
        /* a route on trial with the canaries keeps nobody else's floor */
        for (size_t i = 0; i < s->cfg->n_prefixes; i++)
                if (s->pfx[i].action == ROUTE_ANNOUNCE && s->pfx[i].audience == AUDIENCE_EVERYONE)
                        return true;
        return false;
}

bool engine_floor(struct service_rt *s, struct svc_inputs *in, struct svc_plan *plan,
                  const char **reason, char *buf, size_t size)
{
        struct engine *en = s->en;
        const struct engine_fleet *fl = &en->fleet;
        unsigned min_pops = s->cfg->floor.min_pops;

        if (!fl->ctx || min_pops == 0 || plan->action != ROUTE_WITHDRAW)
                return true;
        bool ready = fl->ready(fl->ctx);
        struct floor_in fi = {
            .min_pops = min_pops,
            .health_withdraw = !in->disabled && !in->draining,
            .announced = engine_floor_announced(s),
            .fleet_ok = ready,
            .on_unreachable = fl->on_unreachable,
            .others_announcing = ready ? fl->others_announcing(fl->ctx, s->cfg->name) : 0,
        };
        enum floor_verdict v = floor_decide(&fi);
        if (v == FLOOR_ASK) {
                int r =
                    fl->ask_withdraw(fl->ctx, s->cfg->name, svc_state_name(plan->state), *reason);
                if (r == 0)
                        return false; /* the answer comes as engine_fleet_changed() */
                if (r > 0) {
                        if (s->state == SVC_HELD) {
                                snprintf(buf, size,
                                         "floor released: %u other PoP%s announce%s (min_pops "
                                         "%u); %s",
                                         fi.others_announcing, fi.others_announcing == 1 ? "" : "s",
                                         fi.others_announcing == 1 ? "s" : "", min_pops, *reason);
                                *reason = buf;
                        }
                        return true;
                }
                /* etcd went away while asked: decide as if it were away */
                fi.fleet_ok = false;
                v = floor_decide(&fi);
        }
        if (v == FLOOR_PASS) {
                if (!fi.fleet_ok && fi.health_withdraw && fi.announced)
                        log_warning("service %s (pop %s): floor not applied: etcd unreachable, "
                                    "\"on_unreachable\": \"local\" withdraws as if alone",
                                    s->cfg->name, en->cfg->pop);
                return true;
        }
        in->held = true;
        *plan = svc_plan(in);
        if (fi.fleet_ok)
                snprintf(buf, size,
                         "held by the floor: withdrawing would leave %u PoP%s announcing "
                         "(min_pops %u); %s",
                         fi.others_announcing, fi.others_announcing == 1 ? "" : "s", min_pops,
                         *reason);
        else
                snprintf(buf, size, "held: etcd unreachable and \"on_unreachable\" is \"hold\"; %s",
                         *reason);
        *reason = buf;
        return true;
}

void engine_fleet_publish(struct service_rt *s)
{
        struct engine *en = s->en;
        if (!en->fleet.ctx)
                return;
        en->fleet.publish(en->fleet.ctx, s->cfg->name, engine_floor_announced(s),
                          s->state == SVC_HELD, svc_state_name(s->state),
                          (int64_t)(s->since_rt / USEC_PER_SEC), s->reason ? s->reason : "");
}

int engine_fleet_announcing(const struct service_rt *s)
{
        const struct engine_fleet *fl = &s->en->fleet;
        if (!fl->ctx || !fl->ready(fl->ctx))
                return -1;
        return (int)fl->others_announcing(fl->ctx, s->cfg->name) + engine_floor_announced(s);
}

void engine_floor_note_withdraw_all(struct engine *en)
{
        const struct engine_fleet *fl = &en->fleet;
        if (!fl->ctx)
                return;
        bool ready = fl->ready(fl->ctx);
        for (size_t i = 0; i < en->n_svcs; i++) {
                struct service_rt *s = en->svcs[i];
                if (s->cfg->floor.min_pops == 0 || !engine_floor_announced(s))
                        continue;
                if (ready)
                        log_warning("withdraw-all (pop %s): service %s: %u other PoPs announce it "
                                    "(floor min_pops %u); obeyed, it is an emergency",
                                    en->cfg->pop, s->cfg->name,
                                    fl->others_announcing(fl->ctx, s->cfg->name),
                                    s->cfg->floor.min_pops);
                else
                        log_warning("withdraw-all (pop %s): service %s: etcd unreachable, how "
                                    "many other PoPs announce it is unknown (floor min_pops %u); "
                                    "obeyed, it is an emergency",
                                    en->cfg->pop, s->cfg->name, s->cfg->floor.min_pops);
        }
}
