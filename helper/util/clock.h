/* clock.h: the time seam. The engine and the speakers read the time and
 * arm their timers (timerq.h) through a struct clock, never the system's
 * clocks directly, so that tests can step time instead of sleeping. The
 * daemon passes clock_system(); test/unit/fakes/fake_clock.c is the other
 * implementation. */
#pragma once
#include <stdint.h>

struct timerq;

struct clock {
        uint64_t (*now)(const struct clock *c);    /* CLOCK_MONOTONIC µs */
        uint64_t (*now_rt)(const struct clock *c); /* CLOCK_REALTIME µs */
        /* NULL for the system clock: a timer queue then arms an sd-event
         * timer. A clock that sets them drives the queues itself: it is told
         * of every queue made on it and fires their due items (timerq_run_due)
         * when its time moves. attach returns 0 or negative errno. */
        int (*attach)(struct clock *c, struct timerq *q);
        void (*detach)(struct clock *c, struct timerq *q);
};

/* The system's clocks (vDSO clock_gettime, not the loop's iteration time:
 * a decision late in a long dispatch must read the time it was made). */
struct clock *clock_system(void);

static inline uint64_t clock_now(const struct clock *c)
{
        return c->now(c);
}

static inline uint64_t clock_now_rt(const struct clock *c)
{
        return c->now_rt(c);
}
