/* engine.h: turns configuration into scheduled checks on the loop, feeds
 * results through the state machine and hands route changes to a backend. */
#pragma once
#include <systemd/sd-event.h>

#include "backend.h"
#include "config.h"
#include "plugin_host.h"

struct engine;

int engine_new(sd_event *e, const struct config *cfg, struct plugin_host *plugins,
               const struct backend_ops *ops, struct backend *backend, struct engine **out);
/* Schedules every check (with start jitter) and starts watching disable files. */
int engine_start(struct engine *en);
void engine_free(struct engine *en);
