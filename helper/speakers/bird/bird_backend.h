/* bird_backend.h: what the BIRD sidecar backend exposes beyond backend_ops:
 * counters for status and metrics. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "atomic_file.h"
#include "backend.h"
#include "duration_hist.h"

struct bird_stats {
        uint64_t writes;           /* include files renamed into place (restores included) */
        uint64_t configures;       /* `configure` commands sent */
        uint64_t configure_ok;     /* answered 0003, or 0004/0005 (applied later) */
        uint64_t status_polls;     /* `configure status` answers (and failures) after 0004/0005 */
        uint64_t configure_failed; /* BIRD refused the configuration (8xxx/9xxx) */
        uint64_t restores;         /* last good file put back after a refusal */
        uint64_t unreachable;      /* commands without a reply: no socket, reset, timeout */
        uint64_t render_failed;    /* routes that could not be rendered safely */
        uint64_t write_failed;     /* include file writes that failed */
        bool reachable;            /* the last command got a reply */
        bool in_sync;              /* BIRD confirmed the include files as they are now */
        char last_error[512];      /* BIRD's message or the transport error, "" if none */
        struct duration_hist configure_duration; /* configure sent to reply (any reply) */
};

/* Writes text to path the way the backend does: a temporary file beside
 * it, mode 0644 (BIRD runs as its own user and must read it), fsync'd,
 * renamed into place, the directory fsync'd. Returns 0 or a negative
 * errno; on failure the old file stays as it was. */
static inline int bird_write_atomic(const char *path, const char *text)
{
        /* BIRD runs as its own user: it must be able to read the file. */
        return atomic_write_file(path, text, 0644);
}

/* b must come from backend_bird_ops.create. */
const struct bird_stats *backend_bird_stats(const struct backend *b);
