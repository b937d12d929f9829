/* engine.h: turns configuration into scheduled checks on the loop, feeds
 * results through the state machine and hands route changes to a backend. */
#pragma once
#include <systemd/sd-event.h>

#include "backend.h"
#include "config.h"
#include "diag.h"
#include "engine_stats.h"
#include "plugin_host.h"

struct engine;

/* Builds a runner for every check (plugin problems go to d). The engine
 * borrows cfg, plugins and backend; they must outlive it. */
int engine_new(sd_event *e, const struct config *cfg, struct plugin_host *plugins,
               const struct backend_ops *ops, struct backend *backend, struct diag *d,
               struct engine **out);
/* Schedules every check (with start jitter) and starts watching disable files. */
int engine_start(struct engine *en);
const struct engine_stats *engine_get_stats(const struct engine *en);
void engine_free(struct engine *en);
