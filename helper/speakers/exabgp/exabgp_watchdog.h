/* exabgp_watchdog.h: notices a wedged event loop from outside it.
 *
 * ExaBGP respawns a helper that died but never notices one that hangs: its
 * routes would stay announced for as long as the hang lasts. The loop
 * cannot watch itself, so this is the one thread of the daemon. The loop
 * bumps a counter from a timer at speaker priority; the thread looks at it
 * every few tens of milliseconds and calls fire() once the counter has not
 * moved for `timeout` of time in which the thread itself ran. Time the
 * whole process did not run (SIGSTOP, a suspended VM) does not count: the
 * loop was not wedged, it was stopped with us, and on SIGCONT it carries on
 * and sends what changed meanwhile. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* The stall accounting, pure: what the thread decides from one look. */
struct watchdog_clock {
        uint64_t timeout_usec;
        uint64_t gap_usec; /* a look later than this after the last: we were stopped too */
        uint64_t last_look;
        uint64_t last_beat;
        uint64_t stalled_usec; /* counted time without a beat */
};

void watchdog_clock_init(struct watchdog_clock *c, uint64_t timeout_usec, uint64_t step_usec,
                         uint64_t now, uint64_t beat);
/* One look at time now with the loop's counter at beat: true when the loop
 * has been wedged for the timeout. */
bool watchdog_clock_look(struct watchdog_clock *c, uint64_t now, uint64_t beat);

struct loop_watchdog;

/* Starts watching e (its heartbeat timer and the thread). fire(userdata)
 * runs on the watchdog's thread, at most once; it is expected to end the
 * process. Returns 0 or a negative errno. */
int loop_watchdog_new(sd_event *e, uint64_t timeout_usec, void (*fire)(void *userdata),
                      void *userdata, struct loop_watchdog **out);
void loop_watchdog_free(struct loop_watchdog *w);
