/* svc_plan.h: what a service's prefixes should be, from everything that
 * decides it: health from the checks, manual or file disable, a drain in
 * progress, flap dampening. Pure: the engine feeds it and applies the plan. */
#pragma once
#include <stdbool.h>

#include "config.h"
#include "health.h"

/* Which attribute set an announce uses. */
enum attr_set { ATTRS_NONE = 0, ATTRS_UP, ATTRS_DEGRADED, ATTRS_DRAINING };

struct svc_inputs {
        enum svc_state health; /* from service_combine(): UNKNOWN, UP, DEGRADED, DOWN */
        bool disabled;         /* manually, by withdraw-all, or by the disable file */
        enum on_action on_disabled;
        bool draining;   /* a drain is in progress */
        bool suppressed; /* flap dampening holds it withdrawn */
        bool held;       /* the fleet's floor keeps a health-driven withdraw from happening */
};

struct svc_plan {
        enum svc_state state;     /* effective state, for status and hooks */
        enum route_action action; /* ROUTE_NONE: leave the prefixes as they are */
        enum attr_set attrs;      /* for ROUTE_ANNOUNCE */
};

/* Precedence: disabled, draining, held (over a withdraw that suppressed or
 * health asks for), suppressed, then health. */
struct svc_plan svc_plan(const struct svc_inputs *in);
const char *attr_set_name(enum attr_set a);
/* The service's attributes for a set (NULL for ATTRS_NONE). */
const struct attrs *attr_set_attrs(const struct service_cfg *s, enum attr_set a);
