/* engine.h: turns configuration into scheduled checks on the loop, feeds
 * results through the state machine and hands route changes to a backend.
 * Decided changes reach the backend ahead of all other work on the loop:
 * the loop's priority order is written down in event_priority.h. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "backend.h"
#include "clock.h"
#include "config.h"
#include "diag.h"
#include "latency_hist.h"
#include "plugin_host.h"

struct engine;

/* Reads the manual state file (a corrupt one fails with -EBADMSG, logged:
 * refusing to start is the fail-safe) and builds a runner for every check
 * (plugin problems go to d). The engine reads the time and arms its timers
 * on clk (clock_system() in the daemon). It borrows clk, cfg, plugins and
 * backend; they must outlive it. A configuration installed by engine_reload() is
 * the engine's own (engine_reload.h). */
int engine_new(sd_event *e, struct clock *clk, const struct config *cfg,
               struct plugin_host *plugins, const struct backend_ops *ops, struct backend *backend,
               struct diag *d, struct engine **out);
/* Schedules every check (with start jitter) and starts watching disable files. */
int engine_start(struct engine *en);
/* Check-start lateness since the last reset (SIGUSR1). */
const struct latency_hist *engine_get_stats(const struct engine *en);
/* Decision to the speaker's channel for route changes since the last reset
 * (fine buckets, for the SIGUSR1 line), and since start (for metrics). */
const struct latency_hist *engine_get_route_stats(const struct engine *en);
const struct duration_hist *engine_route_delay(const struct engine *en);
/* The backend's report (backend_hooks.route_sent) that a change left. */
void engine_note_route_sent(struct engine *en, uint64_t delay_usec);
/* Resets both "since the last reset" windows. */
void engine_reset_stats(struct engine *en);
/* The configuration in use: the one given to engine_new, or the newest
 * one a reload installed. */
const struct config *engine_config(const struct engine *en);
void engine_free(struct engine *en);
