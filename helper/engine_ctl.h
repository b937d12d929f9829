/* engine_ctl.h: what the operator-facing edges (control socket, metrics,
 * sd_notify STATUS) may ask of the engine: a read-only snapshot of every
 * service, and the manual actions. The engine implements it; the control
 * socket and the metrics server only call it. Snapshot strings and arrays
 * are owned by the engine and valid until the next return to the event loop.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duration_hist.h"
#include "state.h"

struct engine;

/* Where a prefix stands with the speaker. */
enum route_confirm {
        CONFIRM_NONE = 0,  /* nothing asked of the speaker yet */
        CONFIRM_PENDING,   /* asked, not yet confirmed */
        CONFIRM_CONFIRMED, /* the speaker confirmed (ExaBGP "done", BIRD "Reconfigured") */
        CONFIRM_FAILED,    /* the speaker refused; being retried */
};

struct prefix_status {
        char prefix[64];
        enum route_action action; /* ROUTE_NONE: nothing asked yet */
        const char *as_what;      /* "up", "degraded", "draining": attribute set used */
        enum route_confirm confirm;
};

struct check_status {
        const char *plugin;
        enum check_state state;
        int last_result; /* AHC_*, -1 before the first */
        const char *last_message;
        uint64_t last_duration_usec;
        uint64_t last_time_usec;      /* CLOCK_REALTIME of the last result, 0 before */
        uint64_t results_by_code[4]; /* counts of AHC_OK..AHC_UNKNOWN since start/reload */
        uint64_t timeouts;
        struct duration_hist durations; /* every result's duration since start/reload */
};

struct service_status {
        const char *name;
        enum svc_state state;   /* effective: disabled/draining override health */
        enum svc_state health;  /* from checks alone */
        uint64_t since_usec;    /* CLOCK_REALTIME of the last state change */
        uint64_t transitions;   /* state changes since start/reload */
        const char *reason;     /* why it is in this state */
        bool disabled;          /* manually or by disable file */
        const char *disabled_reason;
        uint64_t drain_remaining_usec; /* SVC_DRAINING: time until the withdraw */
        double dampening_penalty;      /* 0 when dampening is off */
        bool dampening_suppressed;
        const struct prefix_status *prefixes;
        size_t n_prefixes;
        const struct check_status *checks;
        size_t n_checks;
};

/* Number of services, and the i-th one's snapshot (i < count). */
size_t engine_service_count(struct engine *en);
int engine_service_status(struct engine *en, size_t i, struct service_status *out);
/* Index of a service by name, or -ENOENT. */
int engine_service_find(struct engine *en, const char *name);

/* Manual actions; each returns 0, -ENOENT for an unknown service, or another
 * negative errno. Disable and drain persist in the state file. */
int engine_disable(struct engine *en, const char *service, const char *reason);
int engine_enable(struct engine *en, const char *service);
int engine_drain(struct engine *en, const char *service, const char *reason);
int engine_check_now(struct engine *en, const char *service);
/* Emergency: withdraw every prefix and keep them withdrawn until enabled
 * again per service or the flag is cleared (persisted). */
int engine_withdraw_all(struct engine *en, const char *reason);
