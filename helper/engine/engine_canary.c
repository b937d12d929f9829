/* engine_canary.c: the canary of each service (the "canary" block) in the
 * engine: canary_step() at every decision and at the end of a trial, its
 * timer on en->timers (it decides routes), one log line per change of
 * audience. It uses nothing of engine.c: the timer's function is
 * engine.c's, which re-enters service_update() when a trial passed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine_canary.h"
#include "engine_internal.h"
#include "jsonpos.h"
#include "log.h"

int engine_canary_supported(const struct config *cfg, const struct backend_ops *ops, struct diag *d)
{
        int r = 0;
        for (size_t i = 0; i < cfg->n_services; i++) {
                const struct service_cfg *sc = &cfg->services[i];
                if (sc->canary.n_neighbors == 0 || ops->canary)
                        continue;
                int line = 0, col = 0;
                if (sc->pos)
                        jsonpos_lookup(sc->pos, "canary", &line, &col);
                diag_add(d, sc->file, line, col,
                         "\"canary\": the %s speaker cannot announce to some neighbours only; "
                         "remove the block or use a speaker that can",
                         ops->name);
                r = -EINVAL;
        }
        return r;
}

static uint64_t trial_usec(const struct service_rt *s)
{
        return s->cfg->canary.n_neighbors ? s->cfg->canary.time_usec : 0;
}

bool engine_canary_deadline(struct service_rt *s, uint64_t now, char *reason, size_t size)
{
        struct canary_in in = {.event = CANARY_DEADLINE, .now_usec = now};
        enum audience before = s->canary.audience;
        struct canary_out out = canary_step(&s->canary, &in);
        if (out.audience == before)
                return false;
        snprintf(reason, size, "canary passed: checks up for %.1f s on the canaries",
                 (double)trial_usec(s) / USEC_PER_SEC);
        log_notice("service %s (pop %s): %s: announced to every neighbour", s->cfg->name,
                   s->en->cfg->pop, reason);
        return true;
}

void engine_canary_init(struct service_rt *s, timerq_fire_fn fire)
{
        canary_init(&s->canary);
        timerq_item_init(&s->canary_end, fire);
}

void engine_canary_adopt(struct service_rt *s)
{
        enum audience a = AUDIENCE_NONE;
        for (size_t i = 0; i < s->cfg->n_prefixes; i++)
                if (s->pfx[i].action == ROUTE_ANNOUNCE && s->pfx[i].audience > a)
                        a = s->pfx[i].audience;
        s->canary.audience = a;
        s->canary.decided = true;
}

enum audience engine_canary_plan(struct service_rt *s, const struct svc_plan *plan)
{
        struct engine *en = s->en;
        struct canary_in in = {
            .event = CANARY_PLAN,
            .now_usec = engine_now(en),
            .plan = *plan,
            .time_usec = trial_usec(s),
            /* on_exit "keep": the previous daemon left its routes with
             * every neighbour; the first announce must not narrow them */
            .held_everywhere = en->ops->on_exit && en->ops->on_exit(en->cfg) == ON_KEEP,
        };
        enum audience before = s->canary.audience;
        struct canary_out out = canary_step(&s->canary, &in);
        if (out.deadline_usec) {
                if (timerq_put(en->timers, &s->canary_end, out.deadline_usec) < 0) {
                        /* without its end a trial would last for ever: the
                         * safe side is the canaries keeping it, said loudly */
                        log_err("service %s: cannot arm the canary timer: it stays with the "
                                "canaries until the next decision",
                                s->cfg->name);
                }
        } else {
                timerq_cancel(en->timers, &s->canary_end);
        }
        if (out.audience == AUDIENCE_CANARIES && before != AUDIENCE_CANARIES)
                log_notice("service %s (pop %s): canary: announced to %zu canary neighbour%s "
                           "(%s%s) only; to everyone after %.1f s of checks up",
                           s->cfg->name, en->cfg->pop, s->cfg->canary.n_neighbors,
                           s->cfg->canary.n_neighbors == 1 ? "" : "s", s->cfg->canary.neighbors[0],
                           s->cfg->canary.n_neighbors > 1 ? ", ..." : "",
                           (double)trial_usec(s) / USEC_PER_SEC);
        else if (before == AUDIENCE_CANARIES && out.audience == AUDIENCE_NONE)
                log_notice("service %s (pop %s): canary failed: withdrawn from the canaries, "
                           "the others never heard it",
                           s->cfg->name, en->cfg->pop);
        return out.audience;
}

void engine_canary_free(struct service_rt *s)
{
        if (s->en->timers)
                timerq_cancel(s->en->timers, &s->canary_end);
}
