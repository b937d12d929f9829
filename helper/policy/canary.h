/* canary.h: a service's canary ("canary": { "neighbors", "time" }) as a
 * pure timeline: who should hear a service's announcement now (nobody,
 * the canary neighbours only, everyone) and when to ask again. No clocks,
 * no I/O: the engine keeps one struct canary per service, calls
 * canary_step() when the plan changes and when the deadline it was given
 * passes, and tells the speaker the audience; time is any monotonic µs.
 *
 * Why the rules are what they are:
 * - A trial counts only unbroken time of an announce the checks raised (UP
 *   or DEGRADED). A withdraw ends it; the next announce starts a fresh one
 *   with the full time, so a flapping service never reaches everyone on
 *   the strength of its good moments. An attribute change (UP <-> DEGRADED)
 *   is the same verdict, so it keeps the trial and its deadline.
 * - Nothing but a passed trial widens a route that was on trial. A plan
 *   that says nothing (ROUTE_NONE: unknown, disabled with "keep"), the
 *   floor's hold (SVC_HELD) or a drain keeps the audience as it is and
 *   stops the trial; the checks must vouch again, from the start.
 * - Fleet invariant: the fleet may hold or delay an announcement, never
 *   make one. So the canary only narrows what the checks raised: a
 *   withdraw is AUDIENCE_NONE whatever came before, and a held plan never
 *   gets an audience wider than the one it had (from nothing it stays
 *   nothing: the floor never holds a route this PoP did not announce;
 *   routes the speaker kept at restart it had, see below).
 * - Restart with routes kept by the speaker (on_exit "keep"): the previous
 *   daemon had them announced to everyone, and a restart with unchanged
 *   health causes no churn (DESIGN.md), so the first announce must not
 *   narrow them to the canaries. The engine knows what the speaker holds
 *   (what it adopted at start, reconciliation), this file does not: it passes
 *   held_everywhere. The flag counts only until this daemon first
 *   announces or withdraws the service itself; after that the speaker
 *   holds what we asked, and a stale flag must not skip a trial.
 * - A deadline step before the deadline is a stale or early timer (the
 *   window restarted since it was armed): it changes nothing. One at or
 *   after the deadline promotes: a busy loop fires late, and the trial
 *   has passed all the same.
 * - Without a canary (time 0 or no neighbours) every announce goes to
 *   everyone at once, as before; a reload that removes the canary ends a
 *   trial in progress at the next plan step. A new time applies to a
 *   trial in progress from its start.
 * The audience is per service, as the plan is: all of a service's prefixes
 * share one verdict of its checks. It never goes from everyone to the
 * canaries (only to none), so a speaker never has to take a route back
 * from the other peers while leaving it with the canaries. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "svc_plan.h"

/* Who should hear the service's announcement. Ordered: a wider audience
 * compares greater. */
enum audience {
        AUDIENCE_NONE = 0, /* withdrawn everywhere, or never announced */
        AUDIENCE_CANARIES, /* announced to canary.neighbors only */
        AUDIENCE_EVERYONE, /* announced to every peer */
};

struct canary {
        enum audience audience;
        uint64_t since_usec;    /* start of the trial in progress */
        uint64_t deadline_usec; /* end of the trial in progress; 0: no trial runs */
        bool decided;           /* this daemon has announced or withdrawn since start */
};

enum canary_event {
        CANARY_PLAN,     /* the service's plan changed (or a reload may have changed time) */
        CANARY_DEADLINE, /* a timer armed for a returned deadline fired */
};

struct canary_in {
        enum canary_event event;
        uint64_t now_usec;
        /* CANARY_PLAN only: */
        struct svc_plan plan;
        uint64_t time_usec;   /* canary.time; 0 when time is 0 or there are no neighbours */
        bool held_everywhere; /* the speaker already announces it to everyone, from before we
                                 started (on_exit "keep"); see above */
};

struct canary_out {
        enum audience audience; /* for every prefix of the service, with plan.attrs */
        uint64_t deadline_usec; /* call again with CANARY_DEADLINE then; 0: no timer */
};

/* A service at start: nothing announced by us, no trial. */
void canary_init(struct canary *c);
/* Applies one event to c and returns the audience and deadline now. With
 * a ROUTE_NONE plan the engine sends nothing, as today; the audience is
 * what we last asked for. */
struct canary_out canary_step(struct canary *c, const struct canary_in *in);
/* "none", "canaries", "everyone" (for status, logs and metrics). */
const char *audience_name(enum audience a);
