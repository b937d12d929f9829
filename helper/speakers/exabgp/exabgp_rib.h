/* exabgp_rib.h: reading ExaBGP's adj-rib-out back, for reconciliation.
 * `show adj-rib out` answers one line per route and neighbor, then the
 * command's ack. The text forms differ by version:
 *   4.2: neighbor 192.0.2.2 ipv4 unicast 203.0.113.53/32 next-hop 192.0.2.10
 *   5.0: 192.0.2.2 ipv4 unicast 203.0.113.53/32 next-hop 192.0.2.10
 * (4.2's rib.py writes "neighbor %s %s %s" % (ip, family, nlri); 5.0 drops
 * the word). Only unicast routes of ipv4 and ipv6 are ours. Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "prefix.h"

#define EXABGP_RIB_QUERY "show adj-rib out"

/* 1 with *out set when line (without its newline) lists a unicast route in
 * either form; 0 for any other line (acks, JSON events, other families). */
int exabgp_rib_line(const char *line, struct prefix *out);
/* As exabgp_rib_line, also giving the neighbour's address as ExaBGP wrote
 * it into peer[size] (peer NULL: not wanted). */
int exabgp_rib_line_peer(const char *line, struct prefix *out, char *peer, size_t size);
