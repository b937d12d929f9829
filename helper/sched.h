/* sched.h: many deadlines on one sd-event timer. sd-event dispatches one
 * source per loop iteration, so 10,000 checks a second as 10,000 timer
 * sources cost 10,000 iterations (each an epoll_wait and a timerfd update).
 * A binary heap of items behind a single timer fires every item that is due
 * in one dispatch instead. Items are embedded in their owner's struct. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct sched;
struct sched_item;

/* now: CLOCK_MONOTONIC µs of this dispatch. The item is no longer queued
 * when this runs; it may put itself (or any item) back. */
typedef void (*sched_fire_fn)(struct sched_item *it, uint64_t now);

struct sched_item {
        uint64_t due; /* CLOCK_MONOTONIC µs */
        size_t idx;   /* position in the heap; SIZE_MAX when not queued */
        sched_fire_fn fire;
};

void sched_item_init(struct sched_item *it, sched_fire_fn fire);
static inline bool sched_item_queued(const struct sched_item *it)
{
        return it->idx != (size_t)-1;
}

/* accuracy_usec: how late the shared timer may fire (sd-event coalesces
 * wakeups within it). */
int sched_new(sd_event *e, uint64_t accuracy_usec, struct sched **out);
/* Every item must be cancelled (or never queued) before the free. */
void sched_free(struct sched *s);
/* Queues the item at due, or moves it there if already queued. */
int sched_put(struct sched *s, struct sched_item *it, uint64_t due);
void sched_cancel(struct sched *s, struct sched_item *it);
size_t sched_count(const struct sched *s);
