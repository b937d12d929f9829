/* latency_hist.c: the lateness and delay histogram of latency_hist.h. */
#include <string.h>

#include "latency_hist.h"

#define FINE_BUCKETS (LATENCY_HIST_FINE_LIMIT / LATENCY_HIST_FINE_USEC)

void latency_hist_init(struct latency_hist *s)
{
        memset(s, 0, sizeof(*s));
}

static uint64_t bucket_of(uint64_t usec)
{
        if (usec < LATENCY_HIST_FINE_LIMIT)
                return usec / LATENCY_HIST_FINE_USEC;
        if (usec < LATENCY_HIST_COARSE_LIMIT)
                return FINE_BUCKETS + (usec - LATENCY_HIST_FINE_LIMIT) / LATENCY_HIST_COARSE_USEC;
        return LATENCY_HIST_BUCKETS - 1;
}

static uint64_t upper_bound(uint64_t b)
{
        if (b < FINE_BUCKETS)
                return (b + 1) * LATENCY_HIST_FINE_USEC;
        return LATENCY_HIST_FINE_LIMIT + (b - FINE_BUCKETS + 1) * LATENCY_HIST_COARSE_USEC;
}

void latency_hist_add(struct latency_hist *s, uint64_t usec)
{
        s->buckets[bucket_of(usec)]++;
        s->count++;
        s->sum_usec += usec;
        if (usec > s->max_usec)
                s->max_usec = usec;
}

uint64_t latency_hist_quantile(const struct latency_hist *s, double q)
{
        if (s->count == 0)
                return 0;
        uint64_t rank = (uint64_t)(q * (double)s->count);
        if (rank >= s->count)
                rank = s->count - 1;
        uint64_t seen = 0;
        for (uint64_t b = 0; b < LATENCY_HIST_BUCKETS; b++) {
                seen += s->buckets[b];
                if (seen > rank) {
                        if (b == LATENCY_HIST_BUCKETS - 1)
                                return s->max_usec;
                        uint64_t ub = upper_bound(b);
                        return ub < s->max_usec ? ub : s->max_usec;
                }
        }
        return s->max_usec;
}
