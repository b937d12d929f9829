/* event_priority.c: the one flag behind ev_route_pending() (see
 * event_priority.h). The loop is single-threaded: a plain bool. */
#include "event_priority.h"

static bool route_pending;

void ev_route_pending_set(bool pending)
{
        route_pending = pending;
}

bool ev_route_pending(void)
{
        return route_pending;
}
