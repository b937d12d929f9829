/* canary.c: the canary timeline (canary.h). */
#include "canary.h"

/* What a plan means for the trial. */
enum verdict {
        V_WITHDRAW, /* the route goes, from everyone */
        V_QUIET,    /* ROUTE_NONE: leave the speaker as it is */
        V_HOLD,     /* announced, but not because the checks say so: never widened */
        V_DRAIN,    /* the checks are up but the route is on its way out */
        V_UP,       /* the checks raised it: a trial may run */
};

static enum verdict verdict(const struct svc_plan *p)
{
        switch (p->action) {
        case ROUTE_WITHDRAW:
                return V_WITHDRAW;
        case ROUTE_ANNOUNCE:
                break;
        default:
                return V_QUIET;
        }
        switch (p->state) {
        case SVC_UP:
        case SVC_DEGRADED:
                return V_UP;
        case SVC_DRAINING:
                /* svc_plan announces a drain only while the checks are up */
                return V_DRAIN;
        default:
                /* SVC_HELD and anything svc_plan may grow: the fleet's word
                 * (or an unknown one) must not reach more peers */
                return V_HOLD;
        }
}

static struct canary_out out(const struct canary *c)
{
        return (struct canary_out){c->audience, c->deadline_usec};
}

static void stop_trial(struct canary *c)
{
        c->since_usec = 0;
        c->deadline_usec = 0;
}

static void set_audience(struct canary *c, enum audience a)
{
        c->audience = a;
        stop_trial(c);
}

/* The deadline of a trial that began at since; never 0 (0 means none) and
 * never wrapped past the end of time. */
static uint64_t deadline_of(uint64_t since, uint64_t time_usec)
{
        uint64_t d = since > UINT64_MAX - time_usec ? UINT64_MAX : since + time_usec;
        return d ? d : 1;
}

static void plan_step(struct canary *c, const struct canary_in *in)
{
        enum verdict v = verdict(&in->plan);
        bool restart_kept = in->held_everywhere && !c->decided;

        if (in->plan.action != ROUTE_NONE)
                c->decided = true;
        switch (v) {
        case V_WITHDRAW:
                set_audience(c, AUDIENCE_NONE);
                return;
        case V_QUIET:
                stop_trial(c);
                return;
        case V_HOLD:
                /* Holding what the speaker kept for everyone is no widening. */
                if (restart_kept)
                        set_audience(c, AUDIENCE_EVERYONE);
                else
                        stop_trial(c);
                return;
        case V_DRAIN:
                if (restart_kept || in->time_usec == 0)
                        set_audience(c, AUDIENCE_EVERYONE);
                else if (c->audience == AUDIENCE_NONE)
                        set_audience(
                            c, AUDIENCE_CANARIES); /* an announce after down: canaries first */
                else
                        stop_trial(c); /* a route on its way out is not worth widening */
                return;
        case V_UP:
                break;
        }
        if (restart_kept || in->time_usec == 0 || c->audience == AUDIENCE_EVERYONE) {
                set_audience(c, AUDIENCE_EVERYONE);
                return;
        }
        if (c->audience == AUDIENCE_NONE || c->deadline_usec == 0) {
                /* from nothing, or from a trial something stopped: afresh */
                c->audience = AUDIENCE_CANARIES;
                c->since_usec = in->now_usec;
        }
        /* From since, not from the old deadline: a reload's new time
         * applies to the trial in progress. */
        c->deadline_usec = deadline_of(c->since_usec, in->time_usec);
        if (in->now_usec >= c->deadline_usec)
                set_audience(c, AUDIENCE_EVERYONE);
}

static void deadline_step(struct canary *c, uint64_t now)
{
        if (c->audience == AUDIENCE_CANARIES && c->deadline_usec != 0 && now >= c->deadline_usec)
                set_audience(c, AUDIENCE_EVERYONE);
}

void canary_init(struct canary *c)
{
        *c = (struct canary){.audience = AUDIENCE_NONE};
}

struct canary_out canary_step(struct canary *c, const struct canary_in *in)
{
        if (in->event == CANARY_PLAN)
                plan_step(c, in);
        else if (in->event == CANARY_DEADLINE)
                deadline_step(c, in->now_usec);
        return out(c);
}

const char *audience_name(enum audience a)
{
        switch (a) {
        case AUDIENCE_NONE:
                return "none";
        case AUDIENCE_CANARIES:
                return "canaries";
        case AUDIENCE_EVERYONE:
                return "everyone";
        }
        return "invalid";
}
