/* floor.c: the floor decision (floor.h). */
#include "floor.h"

enum floor_verdict floor_decide(const struct floor_in *in)
{
        /* Only a withdraw the checks asked for is held: an operator's
         * disable or drain is refused earlier (or forced), and a prefix
         * this PoP does not announce is never raised by the fleet. */
        if (in->min_pops == 0 || !in->health_withdraw || !in->announced)
                return FLOOR_PASS;
        if (!in->fleet_ok)
                return in->on_unreachable == FLEET_UNREACHABLE_HOLD ? FLOOR_HOLD : FLOOR_PASS;
        return in->others_announcing >= in->min_pops ? FLOOR_ASK : FLOOR_HOLD;
}

const char *floor_verdict_name(enum floor_verdict v)
{
        switch (v) {
        case FLOOR_PASS:
                return "pass";
        case FLOOR_ASK:
                return "ask";
        case FLOOR_HOLD:
                return "hold";
        }
        return "invalid";
}
