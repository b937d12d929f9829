/* engine_stats.c: check-start lateness histogram. */
#include <string.h>

#include "engine_stats.h"

void engine_stats_init(struct engine_stats *s)
{
        memset(s, 0, sizeof(*s));
}

void engine_stats_add(struct engine_stats *s, uint64_t lateness_usec)
{
        uint64_t b = lateness_usec / ENGINE_STATS_BUCKET_USEC;
        if (b >= ENGINE_STATS_BUCKETS)
                b = ENGINE_STATS_BUCKETS - 1;
        s->buckets[b]++;
        s->count++;
        s->sum_usec += lateness_usec;
        if (lateness_usec > s->max_usec)
                s->max_usec = lateness_usec;
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
                if (seen > rank)
                        return b == ENGINE_STATS_BUCKETS - 1 ? s->max_usec
                                                             : (b + 1) * ENGINE_STATS_BUCKET_USEC;
        }
        return s->max_usec;
}
