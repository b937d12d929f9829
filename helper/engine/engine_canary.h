/* engine_canary.h: a service's canary between its plan and its routes
 * (policy/canary.h decides; this file keeps the timer, logs and refuses
 * a canary the speaker cannot send). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "canary.h"
#include "config.h"
#include "diag.h"
#include "svc_plan.h"
#include "timerq.h"

struct service_rt;

/* -EINVAL (each service reported to d at its "canary") when a service has
 * a canary and the speaker cannot announce to some neighbours only. */
int engine_canary_supported(const struct config *cfg, const struct backend_ops *ops,
                            struct diag *d);
/* fire: engine.c's, for the end of a trial (it calls
 * engine_canary_deadline(), then service_update() when that says so). */
void engine_canary_init(struct service_rt *s, timerq_fire_fn fire);
/* A trial's timer fired at now: true when the service now goes to
 * everyone (reason says why, for service_update()). */
bool engine_canary_deadline(struct service_rt *s, uint64_t now, char *reason, size_t size);
/* A service built by a reload took over its prefixes' routes: its canary
 * starts from the audience they had, so a reload never narrows a route. */
void engine_canary_adopt(struct service_rt *s);
/* The audience of the service's announcement under plan (called once per
 * decision, after the floor); arms or cancels the end of a trial. */
enum audience engine_canary_plan(struct service_rt *s, const struct svc_plan *plan);
void engine_canary_free(struct service_rt *s);
