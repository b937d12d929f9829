/* health.c: rise/fall hysteresis, check combination and the route a service
 * state asks for. Pure functions; the engine owns clocks and I/O. */
#include "anycast-healthd-check.h"
#include "health.h"

void check_hyst_init(struct check_hyst *h)
{
        *h = (struct check_hyst){.state = CHECK_UNKNOWN, .last_result = -1};
}

static bool result_passes(int result)
{
        return result == AHC_OK || result == AHC_WARNING;
}

bool check_hyst_feed(struct check_hyst *h, unsigned rise, unsigned fall, int result)
{
        enum check_state before = h->state;

        h->last_result = result;
        if (result_passes(result)) {
                h->ok_run++;
                h->fail_run = 0;
                h->warning = result == AHC_WARNING;
                if (h->state != CHECK_UP && h->ok_run >= rise)
                        h->state = CHECK_UP;
        } else {
                h->fail_run++;
                h->ok_run = 0;
                h->warning = false;
                if (h->state != CHECK_DOWN && h->fail_run >= fall)
                        h->state = CHECK_DOWN;
        }
        return h->state != before;
}

const char *svc_state_name(enum svc_state s)
{
        switch (s) {
        case SVC_UNKNOWN:
                return "unknown";
        case SVC_UP:
                return "up";
        case SVC_DEGRADED:
                return "degraded";
        case SVC_DOWN:
                return "down";
        case SVC_DISABLED:
                return "disabled";
        case SVC_DRAINING:
                return "draining";
        case SVC_HELD:
                return "held";
        }
        return "invalid";
}

const char *route_action_name(enum route_action a)
{
        switch (a) {
        case ROUTE_NONE:
                return "none";
        case ROUTE_ANNOUNCE:
                return "announce";
        case ROUTE_WITHDRAW:
                return "withdraw";
        }
        return "invalid";
}

enum svc_state service_combine(const struct check_hyst *checks, size_t n, enum combine_mode mode,
                               unsigned at_least)
{
        size_t up = 0, down = 0, deciding = 0;
        bool warning = false, cap_unknown = false;

        for (size_t i = 0; i < n; i++) {
                if (checks[i].capacity) {
                        if (checks[i].state == CHECK_DOWN || checks[i].warning)
                                warning = true;
                        else if (checks[i].state == CHECK_UNKNOWN)
                                cap_unknown = true;
                        continue;
                }
                deciding++;
                if (checks[i].state == CHECK_UP) {
                        up++;
                        warning |= checks[i].warning;
                } else if (checks[i].state == CHECK_DOWN) {
                        down++;
                }
        }

        size_t need;
        switch (mode) {
        case COMBINE_ANY:
                need = 1;
                break;
        case COMBINE_AT_LEAST:
                need = at_least ? at_least : 1;
                break;
        case COMBINE_ALL:
        default:
                need = deciding;
                break;
        }
        n = deciding;
        if (n == 0 || need > n)
                return SVC_DOWN; /* cannot be satisfied; config validation forbids it */

        /* Down as soon as the undecided checks can no longer reach the
         * quorum: with "all" one down check is enough, with "any" all must be
         * down. Up only once the quorum is proven; until then unknown. */
        if (n - down < need)
                return SVC_DOWN;
        if (up >= need)
                return cap_unknown ? SVC_UNKNOWN : warning ? SVC_DEGRADED : SVC_UP;
        return SVC_UNKNOWN;
}
