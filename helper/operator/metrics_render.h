/* metrics_render.h: the Prometheus text exposition (format 0.0.4) of the
 * engine's snapshot and the backend's counters, pure. Every series carries
 * pop="..."; the metric names are listed in README.md. A cursor renders it
 * in bounded chunks, so the text of 10,000 services never sits in memory
 * at once nor is rendered in one turn of the loop. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "backend.h"
#include "engine_ctl.h"
#include "engine_fleet.h"

/* The speaker: its counters and families come through its ops. */
struct metrics_backend {
        const struct backend_ops *ops;
        const struct backend *be;
        /* decision -> the speaker's channel (engine.h); NULL: not rendered */
        const struct duration_hist *route_delay;
};

/* The whole text at once (malloc'd, NUL-terminated), its length in *len;
 * NULL when out of memory. */
char *metrics_render(const char *pop, const struct service_status *svcs, size_t n,
                     const struct metrics_backend *be, size_t *len);

/* Where the services come from. n and get are read on every call, so the
 * caller may rebuild the source between chunks (the engine's snapshot is
 * only valid until the loop turns); a get that fails skips the service. */
struct metrics_source {
        const char *pop;
        size_t n;
        int (*get)(void *userdata, size_t i, struct service_status *out);
        void *userdata;
        const struct metrics_backend *be; /* NULL: no backend counters */
        /* The state file's last write: 0 saved, a negative errno while
         * the change is applied but not saved (engine_ctl.h); NULL: not
         * rendered. */
        const int *state_file_error;
        /* The fleet member's counters; NULL: no fleet, not rendered. */
        const struct engine_fleet_status *fleet;
};

struct metrics_cursor {
        size_t family, service; /* the next unit to render */
        bool headed;            /* the family's HELP/TYPE is out */
        bool done;              /* every unit is rendered */
        size_t chunk;           /* render at least this much per refill */
        char *buf;              /* rendered, not yet read: buf[off..len) */
        size_t len, off;
};

/* chunk: bytes to render at a time (a refill may exceed it by one
 * service's series of one family). */
void metrics_cursor_init(struct metrics_cursor *c, size_t chunk);
/* Copies up to max bytes of the text into out: their number, 0 at the end,
 * or -ENOMEM. Concatenated, the reads equal metrics_render's text. */
ssize_t metrics_cursor_read(struct metrics_cursor *c, const struct metrics_source *src, char *out,
                            size_t max);
/* Frees what the cursor holds (it may be dropped before the end). */
void metrics_cursor_clear(struct metrics_cursor *c);
