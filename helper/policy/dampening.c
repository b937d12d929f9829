/* dampening.c: penalty arithmetic for flap dampening (see dampening.h).
 * penalty(t) = penalty(t0) * 2^(-(t - t0) / half_life). */
#include <math.h>

#include "dampening.h"

void dampening_init(struct dampening *d)
{
        *d = (struct dampening){0};
}

double dampening_penalty_at(const struct dampening *d, const struct dampening_cfg *c, uint64_t now)
{
        if (d->penalty <= 0 || now <= d->at_usec || c->half_life_usec == 0)
                return d->penalty > 0 ? d->penalty : 0;
        double halves = (double)(now - d->at_usec) / (double)c->half_life_usec;
        return d->penalty * exp2(-halves);
}

static void decay(struct dampening *d, const struct dampening_cfg *c, uint64_t now)
{
        d->penalty = dampening_penalty_at(d, c, now);
        if (now > d->at_usec)
                d->at_usec = now;
}

bool dampening_transition(struct dampening *d, const struct dampening_cfg *c, uint64_t now)
{
        bool before = d->suppressed;

        decay(d, c, now);
        d->penalty += c->penalty;
        if (d->penalty > c->max_penalty)
                d->penalty = c->max_penalty;
        if (d->penalty >= c->suppress)
                d->suppressed = true;
        return d->suppressed != before;
}

bool dampening_update(struct dampening *d, const struct dampening_cfg *c, uint64_t now)
{
        bool before = d->suppressed;

        decay(d, c, now);
        if (d->suppressed && d->penalty < c->reuse)
                d->suppressed = false;
        return d->suppressed != before;
}

uint64_t dampening_reuse_at(const struct dampening *d, const struct dampening_cfg *c)
{
        if (!d->suppressed)
                return UINT64_MAX;
        if (d->penalty < c->reuse)
                return d->at_usec;
        /* penalty * 2^(-t/h) < reuse  <=>  t > h * log2(penalty / reuse) */
        double t = (double)c->half_life_usec * log2(d->penalty / (double)c->reuse);
        return d->at_usec + (uint64_t)ceil(t) + 1;
}
