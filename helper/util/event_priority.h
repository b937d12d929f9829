/* event_priority.h: the loop's priority order, written down once.
 *
 * sd-event dispatches one pending source per iteration, the one with the
 * highest priority (lowest number) first, and polls for new events only
 * once nothing is pending. So priority decides what waits while the loop
 * is busy: under load (thousands of check results a second, 100 % CPU) a
 * source below a steady stream of pending work runs late, and a defer
 * source at idle priority never runs at all (that is how a decided
 * withdraw once sat unsent for more than 20 s).
 *
 * The order, from what must never wait to what may be late:
 *  1. EV_PRIO_ROUTE: the commit of decided route changes to the speaker
 *     and the speaker's output. A decision leaves the daemon in the next
 *     iteration, ahead of everything else pending.
 *  2. EV_PRIO_SPEAKER: the speaker's input (acks, events and replies: a
 *     speaker whose output we do not drain may freeze), its retry and
 *     coalescing timers, the stop signals (a stop withdraws), the loop's
 *     own liveness tick (a speaker's watchdog).
 *  3. EV_PRIO_RESULT: check results (plugin I/O, workers, children), disable
 *     files, drains, dampening, hooks, the control socket: the inputs of
 *     decisions, in arrival order among themselves.
 *  4. EV_PRIO_CHECK_START: starting checks. A start may be late under
 *     overload; a late start delays one result, never a decided change.
 *  5. EV_PRIO_BULK: metrics scrapes and other bulk output: served when the
 *     loop has a moment, never in the way of the above.
 *
 * Priority orders sources, not the work inside one dispatch: the plugin
 * I/O set hands out up to a thousand events per dispatch and a timer queue
 * fires every item due. So whoever queues route work from inside such a
 * batch also raises ev_route_pending(); batch handlers look at it after
 * each item and return early (their sources are level-triggered or due
 * again at once, so nothing is lost), and the commit clears it.
 */
#pragma once
#include <stdbool.h>
#include <systemd/sd-event.h>

enum {
        EV_PRIO_ROUTE = SD_EVENT_PRIORITY_IMPORTANT,
        EV_PRIO_SPEAKER = SD_EVENT_PRIORITY_IMPORTANT + 10,
        EV_PRIO_RESULT = SD_EVENT_PRIORITY_NORMAL,
        EV_PRIO_CHECK_START = SD_EVENT_PRIORITY_NORMAL + 10,
        EV_PRIO_BULK = SD_EVENT_PRIORITY_NORMAL + 20,
};

void ev_route_pending_set(bool pending);
bool ev_route_pending(void);
