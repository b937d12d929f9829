/* duration_hist.h: a fixed-bucket histogram of durations in the shape
 * Prometheus wants (cumulative "le" buckets, a sum and a count), for check
 * durations and speaker round trips. Pure; O(1) memory. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define DURATION_HIST_BUCKETS 12

/* Upper bounds of the finite buckets, in microseconds, ascending:
 * 1ms 5ms 10ms 25ms 50ms 100ms 250ms 500ms 1s 2.5s 5s 10s (then +Inf). */
extern const uint64_t duration_hist_bounds_usec[DURATION_HIST_BUCKETS];

struct duration_hist {
        uint64_t le[DURATION_HIST_BUCKETS]; /* cumulative: results <= bound */
        uint64_t count;                     /* all results, the +Inf bucket */
        uint64_t sum_usec;
};

void duration_hist_add(struct duration_hist *h, uint64_t usec);
