/* svc_plan.c: the effective state and the route of a service (svc_plan.h). */
#include "svc_plan.h"

struct svc_plan svc_plan(const struct svc_inputs *in)
{
        if (in->disabled)
                return (struct svc_plan){
                    .state = SVC_DISABLED,
                    /* keep: leave whatever the speaker has */
                    .action = in->on_disabled == ON_KEEP ? ROUTE_NONE : ROUTE_WITHDRAW,
                };
        if (in->draining) {
                struct svc_plan p = {.state = SVC_DRAINING};
                if (in->health == SVC_UP || in->health == SVC_DEGRADED) {
                        p.action = ROUTE_ANNOUNCE;
                        p.attrs = ATTRS_DRAINING;
                } else if (in->health == SVC_DOWN || in->suppressed) {
                        p.action = ROUTE_WITHDRAW;
                }
                return p;
        }
        /* Held: still announced, de-preferred, so the PoPs that are well
         * take the traffic wherever they can. */
        if (in->held && (in->suppressed || in->health == SVC_DOWN))
                return (struct svc_plan){SVC_HELD, ROUTE_ANNOUNCE, ATTRS_DEGRADED};
        if (in->suppressed)
                return (struct svc_plan){.state = SVC_DOWN, .action = ROUTE_WITHDRAW};
        switch (in->health) {
        case SVC_UP:
                return (struct svc_plan){SVC_UP, ROUTE_ANNOUNCE, ATTRS_UP};
        case SVC_DEGRADED:
                return (struct svc_plan){SVC_DEGRADED, ROUTE_ANNOUNCE, ATTRS_DEGRADED};
        case SVC_DOWN:
                return (struct svc_plan){SVC_DOWN, ROUTE_WITHDRAW, ATTRS_NONE};
        default:
                /* Not proven either way: say nothing, so a restarted daemon
                 * leaves the speaker's routes as they were. */
                return (struct svc_plan){SVC_UNKNOWN, ROUTE_NONE, ATTRS_NONE};
        }
}

const char *attr_set_name(enum attr_set a)
{
        switch (a) {
        case ATTRS_UP:
                return "up";
        case ATTRS_DEGRADED:
                return "degraded";
        case ATTRS_DRAINING:
                return "draining";
        case ATTRS_NONE:
                break;
        }
        return "none";
}

const struct attrs *attr_set_attrs(const struct service_cfg *s, enum attr_set a)
{
        switch (a) {
        case ATTRS_UP:
                return &s->announce;
        case ATTRS_DEGRADED:
                return &s->degraded;
        case ATTRS_DRAINING:
                return &s->draining;
        case ATTRS_NONE:
                break;
        }
        return NULL;
}
