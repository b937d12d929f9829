/* dampening.h: route flap dampening as pure arithmetic. Each up/down
 * transition adds a penalty; the penalty decays exponentially with a
 * half-life; at or above the suppress threshold the service stays
 * withdrawn until the penalty has decayed below the reuse threshold. No
 * clocks: the caller passes the time (any monotonic microseconds). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct dampening {
        double penalty; /* as of at_usec */
        uint64_t at_usec;
        bool suppressed;
};

void dampening_init(struct dampening *d);
/* The penalty decayed to now (never below 0; now before at_usec: no decay). */
double dampening_penalty_at(const struct dampening *d, const struct dampening_cfg *c, uint64_t now);
/* One transition at now: decay, add the penalty, cap at max_penalty, and
 * suppress at or above the threshold. Returns true when suppressed changed. */
bool dampening_transition(struct dampening *d, const struct dampening_cfg *c, uint64_t now);
/* Decays to now and lifts the suppression once below reuse. Returns true
 * when suppressed changed. */
bool dampening_update(struct dampening *d, const struct dampening_cfg *c, uint64_t now);
/* When a suppressed penalty falls below reuse (rounded up to a whole µs,
 * so dampening_update at that time lifts it); UINT64_MAX when not
 * suppressed. */
uint64_t dampening_reuse_at(const struct dampening *d, const struct dampening_cfg *c);
