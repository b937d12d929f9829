/* operator.h: the operator interface as main.c sees it: the control socket and
 * the metrics endpoint, started after the engine and stopped before it. */
#pragma once
#include <systemd/sd-event.h>

#include "backend.h"
#include "config.h"
#include "control.h"

struct engine;
struct operator_io;

/* Starts both (each logs its own errors). Failing to serve a block the
 * configuration names ("control", "metrics") is an error that stops the
 * daemon from starting; failing with the defaults is a warning. hooks may
 * be NULL. */
int operator_start(sd_event *e, const struct config *cfg, struct engine *en,
                   const struct backend_ops *bops, struct backend *be,
                   const struct control_hooks *hooks, struct operator_io **out);
/* After a successful reload. */
void operator_set_config(struct operator_io *o, const struct config *cfg);
void operator_stop(struct operator_io *o);
