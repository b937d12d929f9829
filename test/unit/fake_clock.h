/* fake_clock.h: a clock (clock.h) whose time moves only when a test moves
 * it. Timer queues made on it are fired by fake_clock_advance() at their
 * own deadlines, in order, with the loop's pending work (defer sources,
 * I/O that is ready) run after each, so a test steps through an hour of
 * timers in microseconds of real time and sees every intermediate state. */
#pragma once
#include <stdint.h>
#include <systemd/sd-event.h>

#include "clock.h"

#define FAKE_CLOCK_MAX_QUEUES 16

struct fake_clock {
        struct clock clock; /* first: &fc->clock is what the code under test gets */
        uint64_t mono, real;
        sd_event *loop;
        struct timerq *queues[FAKE_CLOCK_MAX_QUEUES];
        size_t n_queues;
};

/* Starts at a monotonic time of 1000 s and the real time of now. */
void fake_clock_init(struct fake_clock *fc, sd_event *loop);
/* Runs what the loop has pending now (without waiting and without moving
 * time) until nothing is left. */
void fake_clock_settle(struct fake_clock *fc);
/* Moves time forward by usec: every item due on the way fires at its own
 * deadline, the loop settling after each. */
void fake_clock_advance(struct fake_clock *fc, uint64_t usec);
