/* exabgp_watchdog.c: the heartbeat timer on the loop and the thread that
 * watches it (see exabgp_watchdog.h for why there is a thread at all). The
 * thread touches nothing of the daemon but one atomic counter until it
 * fires. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "event_priority.h"
#include "log.h"
#include "exabgp_watchdog.h"

void watchdog_clock_init(struct watchdog_clock *c, uint64_t timeout_usec, uint64_t step_usec,
                         uint64_t now, uint64_t beat)
{
        /* A look may come late on a loaded machine; ten steps late is no
         * longer lateness but a stopped process. */
        *c = (struct watchdog_clock){.timeout_usec = timeout_usec,
                                     .gap_usec = 10 * step_usec,
                                     .last_look = now,
                                     .last_beat = beat};
}

bool watchdog_clock_look(struct watchdog_clock *c, uint64_t now, uint64_t beat)
{
        uint64_t dt = now > c->last_look ? now - c->last_look : 0;
        c->last_look = now;
        if (beat != c->last_beat) {
                c->last_beat = beat;
                c->stalled_usec = 0;
                return false;
        }
        if (dt <= c->gap_usec)
                c->stalled_usec += dt;
        return c->stalled_usec >= c->timeout_usec;
}

struct loop_watchdog {
        sd_event_source *beat_src;
        pthread_t thread;
        bool thread_started;
        atomic_uint_fast64_t beat;
        atomic_bool quit;
        uint64_t timeout_usec, step_usec, beat_usec;
        void (*fire)(void *);
        void *userdata;
};

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int on_beat(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct loop_watchdog *w = userdata;
        atomic_fetch_add(&w->beat, 1);
        return sd_event_source_set_time(s, usec + w->beat_usec);
}

static void *watch(void *arg)
{
        struct loop_watchdog *w = arg;
        struct watchdog_clock c;
        watchdog_clock_init(&c, w->timeout_usec, w->step_usec, mono_usec(), atomic_load(&w->beat));
        struct timespec step = {.tv_sec = (time_t)(w->step_usec / 1000000),
                                .tv_nsec = (long)(w->step_usec % 1000000) * 1000};
        while (!atomic_load(&w->quit)) {
                nanosleep(&step, NULL);
                if (atomic_load(&w->quit))
                        break;
                if (watchdog_clock_look(&c, mono_usec(), atomic_load(&w->beat))) {
                        w->fire(w->userdata);
                        break;
                }
        }
        return NULL;
}

int loop_watchdog_new(sd_event *e, uint64_t timeout_usec, void (*fire)(void *userdata),
                      void *userdata, struct loop_watchdog **out)
{
        struct loop_watchdog *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->timeout_usec = timeout_usec;
        /* Beats well inside the timeout, looks well inside a beat. */
        w->beat_usec = timeout_usec / 10 < 250000 ? timeout_usec / 10 : 250000;
        w->step_usec = w->beat_usec / 5 ? w->beat_usec / 5 : 1;
        w->fire = fire;
        w->userdata = userdata;
        atomic_init(&w->beat, 0);
        atomic_init(&w->quit, false);
        int r = sd_event_add_time_relative(e, &w->beat_src, CLOCK_MONOTONIC, w->beat_usec, 1000,
                                           on_beat, w);
        if (r >= 0)
                r = sd_event_source_set_priority(w->beat_src, EV_PRIO_SPEAKER);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->beat_src, SD_EVENT_ON);
        if (r >= 0) {
                /* The thread must not take signals meant for the loop's
                 * signalfd: block everything while it is created. */
                sigset_t all, old;
                sigfillset(&all);
                pthread_sigmask(SIG_BLOCK, &all, &old);
                r = -pthread_create(&w->thread, NULL, watch, w);
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                w->thread_started = r == 0;
        }
        if (r < 0) {
                loop_watchdog_free(w);
                return r;
        }
        *out = w;
        return 0;
}

void loop_watchdog_free(struct loop_watchdog *w)
{
        if (!w)
                return;
        atomic_store(&w->quit, true);
        if (w->thread_started)
                pthread_join(w->thread, NULL);
        sd_event_source_disable_unref(w->beat_src);
        free(w);
}
