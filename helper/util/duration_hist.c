/* duration_hist.c: see duration_hist.h. */
#include "duration_hist.h"

const uint64_t duration_hist_bounds_usec[DURATION_HIST_BUCKETS] = {
    1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void duration_hist_add(struct duration_hist *h, uint64_t usec)
{
        for (size_t i = 0; i < DURATION_HIST_BUCKETS; i++)
                if (usec <= duration_hist_bounds_usec[i])
                        h->le[i]++;
        h->count++;
        h->sum_usec += usec;
}
