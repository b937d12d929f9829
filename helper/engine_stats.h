/* engine_stats.h: how late checks start against their schedule, as a
 * histogram (10 µs buckets up to 100 ms, then one overflow bucket) so
 * p50/p99 cost O(1) memory whatever the number of checks. Pure. */
#pragma once
#include <stdint.h>

#define ENGINE_STATS_BUCKET_USEC 10
#define ENGINE_STATS_BUCKETS     10001

struct engine_stats {
        uint64_t count;
        uint64_t max_usec;
        uint64_t sum_usec;
        uint32_t buckets[ENGINE_STATS_BUCKETS];
};

void engine_stats_init(struct engine_stats *s);
void engine_stats_add(struct engine_stats *s, uint64_t lateness_usec);
/* The q-quantile (0..1) in µs, bucket upper bound; 0 when empty. */
uint64_t engine_stats_quantile(const struct engine_stats *s, double q);
