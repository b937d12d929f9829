/* exabgp_render.h: ExaBGP text API command lines for one route. Pure. */
#pragma once
#include <stdint.h>

#include "backend.h"

/* Renders u as one command line, without the trailing newline:
 *   announce route 203.0.113.53/32 next-hop self med 100 as-path [ 65001 65001 ]
 *            community [ 65001:53 ] large-community [ 65001:0:53 ]
 *   withdraw route 203.0.113.53/32
 * asn is our own AS number, used only when attrs->prepend > 0. On success
 * returns 0 and *out is a malloc'd string. Returns -EINVAL when a token
 * could break the line (whitespace, brackets, newline in an attribute), when
 * prepend > 0 but asn is 0, or for an action other than announce/withdraw;
 * -ENOMEM on allocation failure. */
int exabgp_render(const struct route_update *u, uint32_t asn, char **out);
