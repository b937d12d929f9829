/* frr_rib.h: reading back what bgpd holds of ours, for reconciliation.
 * One listing per address family of the routes bgpd originates itself:
 * `show bgp ipv4|ipv6 unicast regexp ^(ASN_)*$ json` (an AS path of only
 * our own number, prepends included; FRR 8.4 has no self-originate
 * filter). The JSON is {"routes": {"P": [path, ...], ...}, ...}; a prefix
 * is held when one of its paths is "valid": true (a `network` whose static
 * is gone stays listed, invalid, and is not announced). Pure. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "reconcile.h"

/* The listing's command for family (AF_INET or AF_INET6) and our ASN. */
void frr_rib_query(int family, uint32_t asn, char *buf, size_t size);

/* Adds to out every prefix of the listing text[0..len) with a valid path.
 * Returns 0, -EBADMSG when text is not such a listing (out may hold some
 * of it then) or -ENOMEM. */
int frr_rib_collect(const char *text, size_t len, struct reconcile_set *out);
