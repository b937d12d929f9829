/* exabgp_render.h: ExaBGP text API command lines for one route, in either
 * of the two API syntaxes ExaBGP has. Pure. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

/* ExaBGP's own numbering (its exabgp.api.version): 4 is the syntax of
 * ExaBGP 4.x, which 5.0 keeps; 6 is ExaBGP 6's target-first syntax. */
enum exabgp_api {
        EXABGP_API_4 = 4,
        EXABGP_API_6 = 6,
};

/* Renders u as one command line, without the trailing newline. API 4:
 *   announce route 203.0.113.53/32 next-hop self med 100 as-path [ 65001 65001 ]
 *            community [ 65001:53 ] large-community [ 65001:0:53 ]
 *   withdraw route 203.0.113.53/32
 * API 6 names the peers first, "*" for all of them:
 *   peer * announce route 203.0.113.53/32 next-hop self med 100 ...
 *   peer * withdraw route 203.0.113.53/32
 * asn is our own AS number, used only when attrs->prepend > 0. On success
 * returns 0 and *out is a malloc'd string. Returns -EINVAL when a token
 * could break the line (whitespace, brackets, newline in an attribute), when
 * prepend > 0 but asn is 0, for an action other than announce/withdraw, or
 * for an api other than 4 and 6; -ENOMEM on allocation failure. */
int exabgp_render(const struct route_update *u, uint32_t asn, enum exabgp_api api, char **out);
/* exabgp_render also names the peers of an announce with audience
 * AUDIENCE_CANARIES: u->canary's neighbours (-EINVAL when it has none: a
 * trial is never widened to everyone); every other line is for all peers.
 *   API 4: neighbor 192.0.2.1 , neighbor 192.0.2.5 announce route ...
 *   API 6: peer [ 192.0.2.1 , 192.0.2.5 ] announce route ...
 * exabgp_render_to renders u (its audience ignored) for peers[0..n_peers)
 * only, or for every peer when peers is NULL: how a withdraw reaches only
 * the neighbours that heard a route on trial. -EINVAL also for n_peers 0
 * with peers, or a peer that is not an IPv4/IPv6 address. */
int exabgp_render_to(const struct route_update *u, char *const *peers, size_t n_peers, uint32_t asn,
                     enum exabgp_api api, char **out);

/* The command that sets ExaBGP's acks for our process to what we expect,
 * written once before any route, or NULL when the API has none we send.
 * API 6: "session ack enable" (answered "done") when ack, else "session ack
 * silence" (answered nothing); API 4: NULL, the acks are ExaBGP's api.ack. */
const char *exabgp_session_start(enum exabgp_api api, bool ack);
