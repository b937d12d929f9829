/* timerq.h: many deadlines on one sd-event timer. sd-event dispatches one
 * source per loop iteration, so 10,000 checks a second as 10,000 timer
 * sources cost 10,000 iterations (each an epoll_wait and a timerfd update).
 * A binary heap of items behind a single timer fires every item that is due
 * in one dispatch instead. Items are embedded in their owner's struct. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "clock.h"

struct timerq;
struct timerq_item;

/* now: CLOCK_MONOTONIC µs of this dispatch. The item is no longer queued
 * when this runs; it may put itself (or any item) back. */
typedef void (*timerq_fire_fn)(struct timerq_item *it, uint64_t now);

struct timerq_item {
        uint64_t due; /* CLOCK_MONOTONIC µs */
        size_t idx;   /* position in the heap; SIZE_MAX when not queued */
        timerq_fire_fn fire;
};

void timerq_item_init(struct timerq_item *it, timerq_fire_fn fire);
static inline bool timerq_item_queued(const struct timerq_item *it)
{
        return it->idx != (size_t)-1;
}

/* Deadlines are on clk's monotonic time. With the system clock the queue
 * arms one sd-event timer; accuracy_usec is how late it may fire (sd-event
 * coalesces wakeups within it). A clock that drives queues itself
 * (clock.h) fires them through timerq_run_due() instead. */
int timerq_new(sd_event *e, struct clock *clk, uint64_t accuracy_usec, struct timerq **out);
/* sd-event priority of the shared timer (default SD_EVENT_PRIORITY_NORMAL). */
int timerq_set_priority(struct timerq *s, int64_t priority);
/* Every item must be cancelled (or never queued) before the free. */
void timerq_free(struct timerq *s);
/* Queues the item at due, or moves it there if already queued. */
int timerq_put(struct timerq *s, struct timerq_item *it, uint64_t due);
void timerq_cancel(struct timerq *s, struct timerq_item *it);
size_t timerq_count(const struct timerq *s);
/* The earliest deadline queued, UINT64_MAX when none. */
uint64_t timerq_next_due(const struct timerq *s);
/* Fires the items due at now, as the timer's dispatch does (and, like it,
 * stops early once a route change is pending). Returns how many fired. */
size_t timerq_run_due(struct timerq *s, uint64_t now);
