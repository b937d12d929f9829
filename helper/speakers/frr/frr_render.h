/* frr_render.h: the vty commands that make FRR hold what we want, from
 * what it holds now. Pure: no I/O, no clocks.
 *
 * Per announced prefix P with attribute set A:
 *   staticd: `ip route P blackhole` (`ipv6 route ...`), so that zebra knows
 *            P and bgpd's import-check passes;
 *   bgpd:    `route-map ahd-H permit 10` with A's sets (H a hash of them:
 *            one route-map per attribute set, shared by every prefix with
 *            that set), then under `router bgp ASN` / `address-family ipv4
 *            unicast` (ipv6) `network P route-map ahd-H`.
 * An attribute change re-issues `network P route-map ahd-H2`: bgpd swaps
 * the attributes in place (one UPDATE, no withdraw). A withdraw is `no
 * network P`, then `no ip route P blackhole`. Route-maps no prefix uses any
 * more are removed at the end of the batch. Never `write`. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attrs.h"
#include "prefix.h"

/* "ahd-" and 16 hex digits */
#define FRR_RM_NAME_MAX 24
#define FRR_RM_PREFIX   "ahd-"

enum frr_daemon { FRR_STATICD = 0, FRR_BGPD = 1 };
enum frr_held { HELD_NO = 0, HELD_YES, HELD_UNKNOWN };

/* One prefix we speak about: what we want and what FRR holds. */
struct frr_route {
        struct prefix prefix;
        bool want;                     /* announce */
        struct attrs attrs;            /* when want */
        char rm[FRR_RM_NAME_MAX];      /* route-map for attrs, when want */
        enum frr_held net_held;        /* a `network P` in bgpd */
        char held_rm[FRR_RM_NAME_MAX]; /* its route-map, when net_held is HELD_YES */
        enum frr_held static_held;     /* the blackhole static in staticd */
};

/* The route-maps of ours bgpd holds. */
struct frr_rm_set {
        char (*v)[FRR_RM_NAME_MAX];
        size_t n;
};
bool frr_rm_set_has(const struct frr_rm_set *s, const char *name);
int frr_rm_set_add(struct frr_rm_set *s, const char *name);
void frr_rm_set_del(struct frr_rm_set *s, const char *name);
void frr_rm_set_free(struct frr_rm_set *s);

enum frr_cmd_kind {
        CMD_FRAME,      /* configure terminal, router bgp, address-family, exit, end */
        CMD_STATIC_ADD, /* route = index */
        CMD_STATIC_DEL,
        CMD_STATIC_COMMIT, /* XFRR_end_configuration: staticd commits the statics
                              above it in one transaction; a refusal undoes them all */
        CMD_NETWORK,       /* network P route-map M */
        CMD_NO_NETWORK,    /* status 13 "Can't find static route specified": done */
        CMD_RM_DEFINE,     /* route-map N permit 10 (name = the route-map) */
        CMD_RM_SET,        /* one set line of the route-map being defined */
        CMD_RM_DELETE,     /* no route-map N: skipped when the batch had a failure */
};

struct frr_cmd {
        enum frr_daemon daemon;
        enum frr_cmd_kind kind;
        size_t route; /* index into the routes planned from; SIZE_MAX none */
        char rm[FRR_RM_NAME_MAX];
        char text[160];
};

struct frr_batch {
        struct frr_cmd *v;
        size_t n, cap;
};
void frr_batch_free(struct frr_batch *b);

/* The name of the route-map for attribute set a (asn: whose number
 * prepend repeats): FRR_RM_PREFIX and a 64-bit hash of the set clauses, so
 * the same set always gets the same name (also across restarts). */
void frr_rm_name(const struct attrs *a, uint32_t asn, char out[FRR_RM_NAME_MAX]);

/* The `set` lines for a, in order: metric, community additive,
 * large-community additive, as-path prepend. Returns the number of lines
 * (at most 4) with lines[i] filled, or -EINVAL (with *why) when a value
 * cannot be rendered safely (bad community, prepend without asn or above
 * 32, MED out of range). */
int frr_rm_sets(const struct attrs *a, uint32_t asn, char lines[4][160], const char **why);

/* Appends to out the commands that take FRR from what routes[] say it
 * holds to what they want, for bgp_asn's `router bgp`: staticd adds first,
 * then bgpd (route-maps, networks by family, route-map deletes), then
 * staticd deletes. held: our route-maps in bgpd. A route whose attributes
 * cannot be rendered is skipped with *bad set to its index (the caller
 * logs it) - it stays as FRR holds it.
 *
 * staticd's adds and its deletes are each one northbound transaction
 * (between XFRR_start_configuration and XFRR_end_configuration, as vtysh
 * -f does): staticd otherwise commits every command on its own, and each
 * commit costs as much as the whole configuration it holds (500 statics:
 * 2.3 s with none held, 21 s with 1,500; in one transaction 0.2 s).
 * FRR_PLAN_STATICS_EACH sends them one by one instead, so that a
 * transaction staticd refused can be retried with the culprit alone
 * refused. Returns 0 or -ENOMEM. */
enum { FRR_PLAN_STATICS_EACH = 1 };
int frr_plan(const struct frr_route *routes, size_t n, const struct frr_rm_set *held,
             uint32_t bgp_asn, uint32_t prepend_asn, unsigned flags, struct frr_batch *out,
             size_t *bad);

/* What `show running-config` of bgpd says of ours: every `network P
 * route-map ahd-...` under `router bgp N` (no vrf) and every `route-map
 * ahd-...`. Calls network(P, userdata) and route_map(name, userdata) for
 * each; returns the ASN of `router bgp` (0 when none). Pure. */
uint32_t frr_parse_running(const char *text, void (*network)(const struct prefix *, void *),
                           void (*route_map)(const char *, void *), void *userdata);
