/* engine_floor.h: the floor between a service's plan and its routes,
 * and this PoP's state told to the fleet (engine_floor.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct engine;
struct service_rt;
struct svc_inputs;
struct svc_plan;

/* Whether any of the service's prefixes is announced here. */
bool engine_floor_announced(const struct service_rt *s);
/* The floor between the plan and the routes. Returns
 * false while etcd is asked (nothing changes until it answers); may turn
 * the plan into a hold (*reason then says why, in buf). */
bool engine_floor(struct service_rt *s, struct svc_inputs *in, struct svc_plan *plan,
                  const char **reason, char *buf, size_t size);
/* Logs, per service with a floor announced here, how many other PoPs
 * announce it: a withdraw-all is obeyed, but the log says what it left. */
void engine_floor_note_withdraw_all(struct engine *en);
/* Tells the fleet this PoP's state of the service (after its routes). */
void engine_fleet_publish(struct service_rt *s);
/* PoPs announcing s in the fleet's view, counting this one as it is here;
 * -1 without a fleet or while the view is not ready. */
int engine_fleet_announcing(const struct service_rt *s);
