/* health.h: the health state machine as pure functions: per-check rise/fall
 * hysteresis, combining checks into a service state, and the route a
 * service state asks for. No clocks, no I/O: the engine feeds it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum check_state { CHECK_UNKNOWN = 0, CHECK_UP, CHECK_DOWN };

struct check_hyst {
        enum check_state state;
        unsigned ok_run;   /* consecutive passing results */
        unsigned fail_run; /* consecutive failing results */
        bool warning;      /* the last result was WARNING (passing, degraded) */
        int last_result;   /* last AHC_* code, -1 before the first */
        bool capacity;     /* a capacity check: down degrades the service (set by the owner) */
};

void check_hyst_init(struct check_hyst *h);
/* Feeds one result (AHC_OK, AHC_WARNING pass; AHC_CRITICAL, AHC_UNKNOWN
 * and anything else fail). Returns true when h->state changed. */
bool check_hyst_feed(struct check_hyst *h, unsigned rise, unsigned fall, int result);

enum svc_state {
        SVC_UNKNOWN = 0, /* not yet decided: nothing is sent */
        SVC_UP,
        SVC_DEGRADED, /* up, but a check warns: announced, de-preferred */
        SVC_DOWN,
        SVC_DISABLED, /* the operator disabled it */
        SVC_DRAINING,
        SVC_HELD, /* down, but the fleet's floor keeps it announced (degraded) */
};
const char *svc_state_name(enum svc_state s);

/* Combines check states into UNKNOWN, UP, DEGRADED or DOWN. Only checks
 * that are not capacity checks count for the quorum; a capacity check that
 * is down (or warns) makes an otherwise up service DEGRADED, and one not
 * yet decided keeps it UNKNOWN. */
enum svc_state service_combine(const struct check_hyst *checks, size_t n, enum combine_mode mode,
                               unsigned at_least);

enum route_action { ROUTE_NONE = 0, ROUTE_ANNOUNCE, ROUTE_WITHDRAW };
const char *route_action_name(enum route_action a);
