/* latency_hist.h: how late checks start against their schedule, or how
 * long a decided route change takes to leave for the speaker, as a
 * histogram (10 µs buckets up to 100 ms, 1 ms buckets up to 10 s, then one
 * overflow bucket) so p50/p99 cost O(1) memory whatever the number of
 * events, and stay readable when the machine is saturated. Pure. */
#pragma once
#include <stdint.h>

#define LATENCY_HIST_FINE_USEC    10       /* bucket width below FINE_LIMIT */
#define LATENCY_HIST_FINE_LIMIT   100000   /* 100 ms */
#define LATENCY_HIST_COARSE_USEC  1000     /* bucket width up to COARSE_LIMIT */
#define LATENCY_HIST_COARSE_LIMIT 10000000 /* 10 s */
#define LATENCY_HIST_BUCKETS                                                                       \
        (LATENCY_HIST_FINE_LIMIT / LATENCY_HIST_FINE_USEC +                                        \
         (LATENCY_HIST_COARSE_LIMIT - LATENCY_HIST_FINE_LIMIT) / LATENCY_HIST_COARSE_USEC + 1)

struct latency_hist {
        uint64_t count;
        uint64_t max_usec;
        uint64_t sum_usec;
        uint32_t buckets[LATENCY_HIST_BUCKETS];
};

void latency_hist_init(struct latency_hist *s);
void latency_hist_add(struct latency_hist *s, uint64_t usec);
/* The q-quantile (0..1) in µs: its bucket's upper bound, never above the
 * maximum seen (so beyond 10 s, the maximum); 0 when empty. */
uint64_t latency_hist_quantile(const struct latency_hist *s, double q);
