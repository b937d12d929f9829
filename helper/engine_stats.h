/* engine_stats.h: how late checks start against their schedule, or how
 * long a decided route change takes to leave for the speaker, as a
 * histogram (10 µs buckets up to 100 ms, 1 ms buckets up to 10 s, then one
 * overflow bucket) so p50/p99 cost O(1) memory whatever the number of
 * events, and stay readable when the machine is saturated. Pure. */
#pragma once
#include <stdint.h>

#define ENGINE_STATS_FINE_USEC    10       /* bucket width below FINE_LIMIT */
#define ENGINE_STATS_FINE_LIMIT   100000   /* 100 ms */
#define ENGINE_STATS_COARSE_USEC  1000     /* bucket width up to COARSE_LIMIT */
#define ENGINE_STATS_COARSE_LIMIT 10000000 /* 10 s */
#define ENGINE_STATS_BUCKETS                                                                       \
        (ENGINE_STATS_FINE_LIMIT / ENGINE_STATS_FINE_USEC +                                        \
         (ENGINE_STATS_COARSE_LIMIT - ENGINE_STATS_FINE_LIMIT) / ENGINE_STATS_COARSE_USEC + 1)

struct engine_stats {
        uint64_t count;
        uint64_t max_usec;
        uint64_t sum_usec;
        uint32_t buckets[ENGINE_STATS_BUCKETS];
};

void engine_stats_init(struct engine_stats *s);
void engine_stats_add(struct engine_stats *s, uint64_t usec);
/* The q-quantile (0..1) in µs: its bucket's upper bound, never above the
 * maximum seen (so beyond 10 s, the maximum); 0 when empty. */
uint64_t engine_stats_quantile(const struct engine_stats *s, double q);
