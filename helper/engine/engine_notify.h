/* engine_notify.h: what the engine tells the outside about transitions
 * (engine_notify.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "health.h"
#include "prefix.h"

struct engine;
struct service_rt;

/* "12 up, 1 degraded, 0 down, 1 disabled" (plus draining and unknown when
 * any): the STATUS= line the engine sends to systemd on changes. */
void engine_status_line(struct engine *en, char *buf, size_t size);
/* Prepares the rate limit's timer item (engine_new). */
void engine_notify_init(struct engine *en);
/* Queues a STATUS= update (rate-limited). */
void engine_status_changed(struct engine *en);
/* Reconciliation's verdict on prefix p (backend_hooks.stuck): logged for
 * the service that has it, and its on_change hook runs with
 * NEW_STATE=stuck (OLD_STATE its state), or OLD_STATE=stuck once right
 * again. */
void engine_note_stuck(struct engine *en, const struct prefix *p, bool stuck, const char *why);
/* Runs the hooks for a transition. */
void engine_run_hooks(struct service_rt *s, enum svc_state old, enum svc_state new_state,
                      const char *reason);
