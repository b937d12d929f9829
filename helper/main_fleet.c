/* main_fleet.c: ties the fleet member (fleet/) to the engine and the
 * operator edges: the engine's fleet seam, the fleet's news handed to the
 * engine, and the fleet view for `anycast-healthctl fleet`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine_ctl.h"
#include "engine_fleet.h"
#include "fleet.h"
#include "log.h"
#include "main_fleet.h"

static bool seam_ready(void *ctx)
{
        return fleet_ready(ctx);
}

static unsigned seam_others(void *ctx, const char *service)
{
        return fleet_others_announcing(ctx, service);
}

static int seam_ask(void *ctx, const char *service, const char *state, const char *reason)
{
        return fleet_ask_withdraw(ctx, service, state, reason);
}

static void seam_publish(void *ctx, const char *service, bool announced, bool held,
                         const char *state, int64_t since, const char *reason)
{
        fleet_publish(ctx, service, announced, held, state, since, reason);
}

static void seam_status(void *ctx, struct engine_fleet_status *out)
{
        struct fleet_stats st;
        fleet_stats(ctx, &st);
        *out = (struct engine_fleet_status){
            .ready = fleet_ready(ctx),
            .unreachable_total = st.unreachable_total,
            .granted = st.granted,
            .refused = st.refused,
            .last_ask_usec = st.last_ask_usec,
        };
}

static void changed(void *userdata, const char *service)
{
        struct engine **en = userdata;
        if (*en)
                engine_fleet_changed(*en, service);
}

int daemon_fleet_start(sd_event *e, const struct config *cfg, struct engine **en,
                       struct fleet **out)
{
        *out = NULL;
        if (!cfg->fleet.enabled)
                return 0;
        struct fleet *f;
        int r = fleet_new(e, cfg, changed, en, &f);
        if (r < 0) {
                log_err("fleet: cannot start: %s", strerror(-r));
                return r;
        }
        struct engine_fleet seam = {
            .ctx = f,
            .ready = seam_ready,
            .others_announcing = seam_others,
            .ask_withdraw = seam_ask,
            .publish = seam_publish,
            .status = seam_status,
            .on_unreachable = cfg->fleet.on_unreachable,
        };
        engine_set_fleet(*en, &seam);
        fleet_start(f);
        *out = f;
        return 0;
}

static json_t *service_json(const struct fleet *f, const char *name, unsigned min_pops)
{
        size_t n = 0;
        const struct fleet_entry *e =
            fleet_ready(f) ? fleet_view_service(fleet_view(f), name, &n) : NULL;
        json_t *pops = json_array();
        unsigned announcing = 0;
        for (size_t i = 0; i < n; i++) {
                announcing += e[i].announced;
                json_array_append_new(
                    pops, json_pack("{s:s, s:b, s:b, s:s, s:I, s:s}", "pop", e[i].pop, "announced",
                                    e[i].announced, "held", e[i].held, "state", e[i].state, "since",
                                    (json_int_t)e[i].since, "reason", e[i].reason));
        }
        return json_pack("{s:s, s:i, s:i, s:o}", "name", name, "min_pops", (int)min_pops,
                         "announcing", (int)announcing, "pops", pops);
}

struct each_ctx {
        const struct fleet *f;
        struct engine *en;
        json_t *services;
};

/* Services the view knows that this PoP does not serve: shown too, with
 * no floor of ours. */
static void each_foreign(void *ud, const char *service, const struct fleet_entry *e, size_t n)
{
        struct each_ctx *c = ud;
        if (engine_service_find(c->en, service) < 0)
                json_array_append_new(c->services, service_json(c->f, service, 0));
}

json_t *daemon_fleet_json(const struct fleet *f, struct engine *en, const char *service,
                          uint64_t now_usec, char *err, size_t errlen)
{
        const struct config *cfg = engine_config(en);
        json_t *services = json_array();
        if (service) {
                int i = engine_service_find(en, service);
                size_t n = 0;
                if (i < 0 && !(fleet_ready(f) && fleet_view_service(fleet_view(f), service, &n))) {
                        snprintf(err, errlen,
                                 "unknown service \"%s\" (neither here nor in the "
                                 "fleet view)",
                                 service);
                        json_decref(services);
                        return NULL;
                }
                json_array_append_new(
                    services,
                    service_json(f, service, i >= 0 ? cfg->services[i].floor.min_pops : 0));
        } else {
                for (size_t i = 0; i < cfg->n_services; i++)
                        json_array_append_new(services,
                                              service_json(f, cfg->services[i].name,
                                                           cfg->services[i].floor.min_pops));
                if (fleet_ready(f)) {
                        struct each_ctx c = {f, en, services};
                        fleet_view_each(fleet_view(f), each_foreign, &c);
                }
        }
        json_t *fl =
            json_pack("{s:b, s:s, s:s, s:s, s:I, s:s}", "ready", fleet_ready(f), "endpoint",
                      fleet_endpoint(f), "problem", fleet_problem(f), "prefix", cfg->fleet.prefix,
                      "lease_s", (json_int_t)(cfg->fleet.lease_usec / 1000000ULL), "on_unreachable",
                      cfg->fleet.on_unreachable == FLEET_UNREACHABLE_HOLD ? "hold" : "local");
        return json_pack("{s:s, s:I, s:o, s:o}", "pop", fleet_pop(f), "now",
                         (json_int_t)(now_usec / 1000000ULL), "fleet", fl, "services", services);
}
