/* frr_backend.h: what the FRR backend exposes beyond backend_ops: counters
 * for status, metrics and tests. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "duration_hist.h"

struct frr_stats {
        uint64_t batches;     /* batches started */
        uint64_t commands;    /* vty commands sent (enable not counted) */
        uint64_t replies;     /* answers to them */
        uint64_t refused;     /* commands FRR answered with a nonzero status */
        uint64_t unreachable; /* batches cut short: no socket, reset, timeout */
        uint64_t reasserts;   /* times everything was asserted anew (a new connection) */
        bool reachable;       /* the last batch got its replies */
        bool in_sync;         /* FRR confirmed everything we want */
        char last_error[512];
        struct duration_hist batch_duration;
};

/* b must come from backend_frr_ops.create. */
const struct frr_stats *backend_frr_stats(const struct backend *b);
