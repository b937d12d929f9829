/* metrics_render.h: the Prometheus text exposition (format 0.0.4) of the
 * engine's snapshot and the backend's counters, as a pure function. Every
 * series carries pop="..."; the metric names are listed in README.md. */
#pragma once
#include <stddef.h>

#include "backend_bird.h"
#include "backend_exabgp.h"
#include "engine_ctl.h"

struct metrics_backend {
        const char *name;                  /* "exabgp" or "bird" */
        const struct exabgp_stats *exabgp; /* set for ExaBGP */
        const struct bird_stats *bird;     /* set for BIRD */
};

/* Returns the text (malloc'd, NUL-terminated), its length in *len. */
char *metrics_render(const char *pop, const struct service_status *svcs, size_t n,
                     const struct metrics_backend *be, size_t *len);
