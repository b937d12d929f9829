/* metrics.h: the Prometheus endpoint (config "metrics"): GET /metrics over
 * HTTP, served by libmicrohttpd driven from the daemon's sd-event loop (one
 * I/O source on its epoll descriptor plus one timer), rendered on each
 * scrape from the engine's snapshot and the backend's counters. */
#pragma once
#include <systemd/sd-event.h>

#include "backend.h"
#include "config.h"

struct engine;
struct metrics;

/* Listens on cfg->metrics.listen; with "" (off) returns 0 and *out NULL.
 * ops/be name the backend whose counters are exported (either may be NULL). */
int metrics_new(sd_event *e, const struct config *cfg, struct engine *en,
                const struct backend_ops *ops, struct backend *be, struct metrics **out);
void metrics_set_config(struct metrics *m, const struct config *cfg);
void metrics_free(struct metrics *m);
