/* engine_ctl.h: what the operator-facing edges (control socket, metrics,
 * the clean stop) may ask of the engine: a read-only snapshot of every
 * service, and the manual actions. The engine implements it; the control
 * socket and the metrics server only call it. Snapshot strings and arrays
 * are owned by the engine and valid until the next return to the event loop.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h" /* enum route_confirm */
#include "canary.h"  /* enum audience */
#include "duration_hist.h"
#include "health.h"

struct engine;

struct prefix_status {
        char prefix[64];
        enum route_action action; /* ROUTE_NONE: nothing asked yet */
        const char *as_what;      /* "up", "degraded", "draining": attribute set used;
                                   * "none" unless announced */
        enum route_confirm confirm;
        enum audience audience; /* of an announce: everyone, or the canaries on trial */
};

struct check_status {
        const char *plugin;
        enum check_state state;
        int last_result; /* AHC_*, -1 before the first */
        const char *last_message;
        uint64_t last_duration_usec;
        uint64_t last_time_usec;     /* CLOCK_REALTIME of the last result, 0 before */
        uint64_t results_by_code[4]; /* counts of AHC_OK..AHC_UNKNOWN since start/reload */
        uint64_t timeouts;
        struct duration_hist durations; /* every result's duration since start/reload */
};

struct service_status {
        const char *name;
        enum svc_state state;  /* effective: disabled/draining override health */
        enum svc_state health; /* from checks alone */
        uint64_t since_usec;   /* CLOCK_REALTIME of the last state change */
        uint64_t transitions;  /* state changes since start/reload */
        const char *reason;    /* why it is in this state */
        bool disabled;         /* manually or by disable file */
        const char *disabled_reason;
        uint64_t drain_remaining_usec; /* SVC_DRAINING: time until the withdraw */
        double dampening_penalty;      /* 0 when dampening is off */
        bool dampening_suppressed;
        const struct prefix_status *prefixes;
        size_t n_prefixes;
        const struct check_status *checks;
        size_t n_checks;
        /* PoPs announcing it in the fleet's view, this one included as it
         * is here; -1 without a fleet or while the view is not ready */
        int fleet_announcing;
};

/* Number of services, and the i-th one's snapshot (i < count). */
size_t engine_service_count(struct engine *en);
int engine_service_status(struct engine *en, size_t i, struct service_status *out);
/* Index of a service by name, or -ENOENT. */
int engine_service_find(struct engine *en, const char *name);

/* Manual actions; each returns 0, -ENOENT for an unknown service, another
 * negative errno, or ENGINE_UNSAVED. Disable and drain persist in the
 * state file: when writing it fails the action still takes effect (the
 * operator wants the route gone now) and ENGINE_UNSAVED is returned: the
 * change would not survive a restart yet. The engine retries the write
 * (1 s, doubling to 30 s) until it succeeds; engine_state_file_error()
 * says why it fails meanwhile (also for an action that found nothing to
 * change while an earlier change is still unsaved).
 * engine_disable: withdraws (or keeps, with on_disabled "keep") at once.
 * engine_enable: clears a manual disable or drain (also one set by
 * withdraw-all); -EALREADY when there was none; -EBUSY when the service's
 * disable file still disables it (the manual state is cleared anyway).
 * engine_drain: announces with the draining attributes (GRACEFUL_SHUTDOWN
 * 65535:0 and the degraded prepend) for the service's drain.time, then
 * withdraws and stays disabled until enabled; a service that is not
 * announced is disabled at once. -EALREADY when already draining or
 * disabled.
 * engine_check_now: starts every check of the service not already running. */
#define ENGINE_UNSAVED 1
int engine_disable(struct engine *en, const char *service, const char *reason);
int engine_enable(struct engine *en, const char *service);
int engine_drain(struct engine *en, const char *service, const char *reason);
int engine_check_now(struct engine *en, const char *service);
/* Emergency: withdraw every prefix and keep them withdrawn until enabled
 * again per service (persisted); it ends once the last service it withdrew
 * is enabled. Services added by a later reload are disabled too while it
 * stands. */
int engine_withdraw_all(struct engine *en, const char *reason);
/* 0 when the state file holds the manual state in memory, else the
 * negative errno of the write that keeps failing (being retried). */
int engine_state_file_error(struct engine *en);
/* Whether withdraw-all is in force, and why (NULL when not). */
const char *engine_withdraw_all_reason(struct engine *en);

/* Starts draining, for a clean stop, every announced service whose
 * drain.on_shutdown is set (not persisted). done(userdata) follows once the
 * longest drain has run (from the loop; at once when nothing drains).
 * Returns the time that takes in microseconds. */
uint64_t engine_shutdown_drain(struct engine *en, void (*done)(void *), void *userdata);
