/* engine_stats.c: the lateness and delay histogram of engine_stats.h. */
#include <string.h>

#include "engine_stats.h"

#define FINE_BUCKETS (ENGINE_STATS_FINE_LIMIT / ENGINE_STATS_FINE_USEC)

void engine_stats_init(struct engine_stats *s)
{
        memset(s, 0, sizeof(*s));
}

static uint64_t bucket_of(uint64_t usec)
{
        if (usec < ENGINE_STATS_FINE_LIMIT)
                return usec / ENGINE_STATS_FINE_USEC;
        if (usec < ENGINE_STATS_COARSE_LIMIT)
                return FINE_BUCKETS + (usec - ENGINE_STATS_FINE_LIMIT) / ENGINE_STATS_COARSE_USEC;
        return ENGINE_STATS_BUCKETS - 1;
}

static uint64_t upper_bound(uint64_t b)
{
        if (b < FINE_BUCKETS)
                return (b + 1) * ENGINE_STATS_FINE_USEC;
        return ENGINE_STATS_FINE_LIMIT + (b - FINE_BUCKETS + 1) * ENGINE_STATS_COARSE_USEC;
}

void engine_stats_add(struct engine_stats *s, uint64_t usec)
{
        s->buckets[bucket_of(usec)]++;
        s->count++;
        s->sum_usec += usec;
        if (usec > s->max_usec)
                s->max_usec = usec;
}

uint64_t engine_stats_quantile(const struct engine_stats *s, double q)
{
        if (s->count == 0)
                return 0;
        uint64_t rank = (uint64_t)(q * (double)s->count);
        if (rank >= s->count)
                rank = s->count - 1;
        uint64_t seen = 0;
        for (uint64_t b = 0; b < ENGINE_STATS_BUCKETS; b++) {
                seen += s->buckets[b];
                if (seen > rank) {
                        if (b == ENGINE_STATS_BUCKETS - 1)
                                return s->max_usec;
                        uint64_t ub = upper_bound(b);
                        return ub < s->max_usec ? ub : s->max_usec;
                }
        }
        return s->max_usec;
}
