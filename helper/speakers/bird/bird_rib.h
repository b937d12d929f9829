/* bird_rib.h: reading back what BIRD holds of ours, for reconciliation.
 * One query lists the routes of our static protocols (the snippet's
 * anycast_healthd4 and anycast_healthd6) in every table; each listed
 * route's line begins with its prefix, in BIRD 2 and BIRD 3 alike:
 *   1007-Table master4:
 *    203.0.113.81/32      blackhole [anycast_healthd4 17:26:54.987] * (200)
 *    2001:db8:53::53/128  blackhole [anycast_healthd6 17:26:54.987] * (200)
 * Table headers, blank lines, further routes of the same prefix (printed
 * without it) and attribute lines are not route lines. Pure.
 * Routes on trial (canary) come from the snippet's anycast_healthd_canary4
 * and anycast_healthd_canary6: bird_rib_read tells them apart by the
 * protocol in brackets, and reads a further route of the same prefix
 * (" blackhole [anycast_healthd_canary4 ...]" under the prefix's line) as
 * that prefix's. */
#pragma once
#include <stdbool.h>

#include "bird_ctl.h"
#include "prefix.h"

/* The query: routes whose protocol is one of ours, all tables. */
#define BIRD_RIB_QUERY "show route where proto ~ \"anycast_healthd*\""

/* The name every canary protocol of the snippet begins with. */
#define BIRD_RIB_CANARY_PROTO "anycast_healthd_canary"

/* 1 and *out set when l lists a route (a route listing line, code 1007,
 * or its continuation, whose text begins with a prefix); 0 otherwise. */
int bird_rib_route_line(const struct birdctl_line *l, struct prefix *out);

/* Reads a listing line by line, remembering the last prefix printed. */
struct bird_rib_reader {
        struct prefix last;
        bool have_last;
};

/* 1 when l lists a route of one of our protocols, with *out its prefix and
 * *canary whether the protocol is a canary one (anycast_healthd_canary*);
 * 0 otherwise. A route line without a protocol in brackets counts as the
 * main protocol's. Start with a zeroed reader. */
int bird_rib_read(struct bird_rib_reader *rd, const struct birdctl_line *l, struct prefix *out,
                  bool *canary);
