/* frr_render.c: see frr_render.h. Every value that reaches a command is
 * re-validated and formatted by us: only digits, prefixes we formatted and
 * route-map names we made ever reach FRR. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frr_render.h"

/* ---- route-map sets ---- */

bool frr_rm_set_has(const struct frr_rm_set *s, const char *name)
{
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->v[i], name) == 0)
                        return true;
        return false;
}

int frr_rm_set_add(struct frr_rm_set *s, const char *name)
{
        if (frr_rm_set_has(s, name))
                return 0;
        char(*v)[FRR_RM_NAME_MAX] = reallocarray(s->v, s->n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        s->v = v;
        snprintf(s->v[s->n++], FRR_RM_NAME_MAX, "%s", name);
        return 0;
}

void frr_rm_set_del(struct frr_rm_set *s, const char *name)
{
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->v[i], name) == 0) {
                        memmove(s->v[i], s->v[s->n - 1], FRR_RM_NAME_MAX);
                        s->n--;
                        return;
                }
}

void frr_rm_set_free(struct frr_rm_set *s)
{
        free(s->v);
        s->v = NULL;
        s->n = 0;
}

void frr_batch_free(struct frr_batch *b)
{
        free(b->v);
        *b = (struct frr_batch){0};
}

/* ---- attributes ---- */

/* Parses "N:N" (n == 2) or "N:N:N" (n == 3) of decimal numbers each at
 * most max; no signs, spaces or empty parts. */
static int parse_numbers(const char *s, unsigned n, uint64_t max, uint64_t *v)
{
        for (unsigned i = 0; i < n; i++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                uint64_t x = 0;
                while (*s >= '0' && *s <= '9') {
                        x = x * 10 + (uint64_t)(*s - '0');
                        if (x > max)
                                return -EINVAL;
                        s++;
                }
                v[i] = x;
                if (i + 1 < n && *s++ != ':')
                        return -EINVAL;
        }
        return *s == '\0' ? 0 : -EINVAL;
}

/* Appends fmt to line (size 160); -EINVAL when it does not fit. */
__attribute__((format(printf, 2, 3))) static int append(char *line, const char *fmt, ...)
{
        size_t len = strlen(line);
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(line + len, 160 - len, fmt, ap);
        va_end(ap);
        return w < 0 || (size_t)w >= 160 - len ? -EINVAL : 0;
}

int frr_rm_sets(const struct attrs *a, uint32_t asn, char lines[4][160], const char **why)
{
        int n = 0;
        if (a->prepend > 0 && asn == 0) {
                *why = "prepend needs the daemon's asn";
                return -EINVAL;
        }
        if (a->prepend > 32) {
                *why = "prepend above 32";
                return -EINVAL;
        }
        if (a->med > (int64_t)UINT32_MAX) {
                *why = "MED out of range";
                return -EINVAL;
        }
        if (a->med >= 0)
                snprintf(lines[n++], 160, "set metric %" PRId64, a->med);
        if (a->n_communities) {
                char *l = lines[n++];
                snprintf(l, 160, "set community");
                for (size_t i = 0; i < a->n_communities; i++) {
                        uint64_t v[2];
                        if (parse_numbers(a->communities[i], 2, UINT16_MAX, v) < 0) {
                                *why = "bad community";
                                return -EINVAL;
                        }
                        if (append(l, " %" PRIu64 ":%" PRIu64, v[0], v[1]) < 0) {
                                *why = "too many communities";
                                return -EINVAL;
                        }
                }
                if (append(l, " additive") < 0) {
                        *why = "too many communities";
                        return -EINVAL;
                }
        }
        if (a->n_large_communities) {
                char *l = lines[n++];
                snprintf(l, 160, "set large-community");
                for (size_t i = 0; i < a->n_large_communities; i++) {
                        uint64_t v[3];
                        if (parse_numbers(a->large_communities[i], 3, UINT32_MAX, v) < 0) {
                                *why = "bad large community";
                                return -EINVAL;
                        }
                        if (append(l, " %" PRIu64 ":%" PRIu64 ":%" PRIu64, v[0], v[1], v[2]) < 0) {
                                *why = "too many large communities";
                                return -EINVAL;
                        }
                }
                if (append(l, " additive") < 0) {
                        *why = "too many large communities";
                        return -EINVAL;
                }
        }
        if (a->prepend) {
                char *l = lines[n++];
                snprintf(l, 160, "set as-path prepend");
                for (unsigned i = 0; i < a->prepend; i++)
                        if (append(l, " %" PRIu32, asn) < 0) {
                                *why = "prepend too long";
                                return -EINVAL;
                        }
        }
        return n;
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const char *s)
{
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 0x100000001b3ULL;
        }
        return h;
}

void frr_rm_name(const struct attrs *a, uint32_t asn, char out[FRR_RM_NAME_MAX])
{
        char lines[4][160];
        const char *why;
        uint64_t h = 0xcbf29ce484222325ULL;
        int n = frr_rm_sets(a, asn, lines, &why);
        for (int i = 0; i < n; i++) {
                h = fnv(h, lines[i]);
                h = fnv(h, "\n");
        }
        snprintf(out, FRR_RM_NAME_MAX, FRR_RM_PREFIX "%016" PRIx64, h);
}

/* ---- the plan ---- */

static struct frr_cmd *add(struct frr_batch *b, enum frr_daemon d, enum frr_cmd_kind k,
                           size_t route, const char *rm)
{
        if (b->n == b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 32;
                struct frr_cmd *v = reallocarray(b->v, cap, sizeof(*v));
                if (!v)
                        return NULL;
                b->v = v;
                b->cap = cap;
        }
        struct frr_cmd *c = &b->v[b->n++];
        *c = (struct frr_cmd){.daemon = d, .kind = k, .route = route};
        if (rm)
                snprintf(c->rm, sizeof(c->rm), "%s", rm);
        return c;
}

#define ADD(d, k, r, rm, ...)                                                                      \
        do {                                                                                       \
                struct frr_cmd *c_ = add(out, d, k, r, rm);                                        \
                if (!c_)                                                                           \
                        return -ENOMEM;                                                            \
                snprintf(c_->text, sizeof(c_->text), __VA_ARGS__);                                 \
        } while (0)

static const char *ip_word(int family)
{
        return family == AF_INET ? "ip" : "ipv6";
}

static bool rm_used(const struct frr_route *routes, size_t n, const char *name, const bool *skip)
{
        for (size_t i = 0; i < n; i++)
                if (routes[i].want && !skip[i] && strcmp(routes[i].rm, name) == 0)
                        return true;
        return false;
}

static int plan_static(const struct frr_route *routes, size_t n, bool adding, const bool *skip,
                       unsigned flags, struct frr_batch *out)
{
        bool framed = false;
        for (size_t i = 0; i < n; i++) {
                const struct frr_route *r = &routes[i];
                bool cmd = adding ? r->want && !skip[i] && r->static_held != HELD_YES
                                  : !r->want && r->static_held != HELD_NO;
                if (!cmd)
                        continue;
                if (!framed) {
                        ADD(FRR_STATICD, CMD_FRAME, SIZE_MAX, NULL, "configure terminal");
                        if (!(flags & FRR_PLAN_STATICS_EACH))
                                ADD(FRR_STATICD, CMD_FRAME, SIZE_MAX, NULL,
                                    "XFRR_start_configuration");
                }
                framed = true;
                char p[PREFIX_STRLEN];
                prefix_format(&r->prefix, p);
                if (adding)
                        ADD(FRR_STATICD, CMD_STATIC_ADD, i, NULL, "%s route %s blackhole",
                            ip_word(r->prefix.family), p);
                else
                        ADD(FRR_STATICD, CMD_STATIC_DEL, i, NULL, "no %s route %s blackhole",
                            ip_word(r->prefix.family), p);
        }
        if (framed && !(flags & FRR_PLAN_STATICS_EACH))
                ADD(FRR_STATICD, CMD_STATIC_COMMIT, SIZE_MAX, NULL, "XFRR_end_configuration");
        if (framed)
                ADD(FRR_STATICD, CMD_FRAME, SIZE_MAX, NULL, "end");
        return 0;
}

int frr_plan(const struct frr_route *routes, size_t n, const struct frr_rm_set *held,
             uint32_t bgp_asn, uint32_t prepend_asn, unsigned flags, struct frr_batch *out,
             size_t *bad)
{
        bool *skip = calloc(n ? n : 1, sizeof(*skip));
        if (!skip)
                return -ENOMEM;
        *bad = SIZE_MAX;
        char sets[4][160];
        const char *why;
        for (size_t i = 0; i < n; i++)
                if (routes[i].want && frr_rm_sets(&routes[i].attrs, prepend_asn, sets, &why) < 0) {
                        skip[i] = true;
                        *bad = i;
                }
        int r = plan_static(routes, n, true, skip, flags, out);
        if (r < 0)
                goto done;

        /* bgpd */
        bool any = false;
        r = -ENOMEM;
        struct frr_rm_set defined = {0};
        for (size_t i = 0; i < n; i++) {
                const struct frr_route *rt = &routes[i];
                bool need = rt->want && !skip[i] &&
                            (rt->net_held != HELD_YES || strcmp(rt->held_rm, rt->rm) != 0);
                if (!need || frr_rm_set_has(held, rt->rm) || frr_rm_set_has(&defined, rt->rm))
                        continue;
                if (!any)
                        ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL, "configure terminal");
                any = true;
                if (frr_rm_set_add(&defined, rt->rm) < 0)
                        goto done_rm;
                ADD(FRR_BGPD, CMD_RM_DEFINE, SIZE_MAX, rt->rm, "route-map %s permit 10", rt->rm);
                int k = frr_rm_sets(&rt->attrs, prepend_asn, sets, &why);
                for (int j = 0; j < k; j++)
                        ADD(FRR_BGPD, CMD_RM_SET, SIZE_MAX, rt->rm, "%.159s", sets[j]);
                ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL, "exit");
        }
        bool in_router = false;
        for (int f = 0; f < 2; f++) {
                int family = f == 0 ? AF_INET : AF_INET6;
                bool in_af = false;
                for (size_t i = 0; i < n; i++) {
                        const struct frr_route *rt = &routes[i];
                        if (rt->prefix.family != family)
                                continue;
                        bool net = rt->want && !skip[i] &&
                                   (rt->net_held != HELD_YES || strcmp(rt->held_rm, rt->rm) != 0);
                        bool nonet = !rt->want && rt->net_held != HELD_NO;
                        if (!net && !nonet)
                                continue;
                        if (!any)
                                ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL, "configure terminal");
                        any = true;
                        if (!in_router)
                                ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL, "router bgp %" PRIu32,
                                    bgp_asn);
                        in_router = true;
                        if (!in_af)
                                ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL,
                                    "address-family %s unicast",
                                    family == AF_INET ? "ipv4" : "ipv6");
                        in_af = true;
                        char p[PREFIX_STRLEN];
                        prefix_format(&rt->prefix, p);
                        if (net)
                                ADD(FRR_BGPD, CMD_NETWORK, i, rt->rm, "network %s route-map %s", p,
                                    rt->rm);
                        else
                                ADD(FRR_BGPD, CMD_NO_NETWORK, i, NULL, "no network %s", p);
                }
                if (in_af)
                        ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL, "exit-address-family");
        }
        if (in_router)
                ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL, "exit");
        for (size_t i = 0; i < held->n; i++) {
                if (rm_used(routes, n, held->v[i], skip))
                        continue;
                /* still named by a network statement we could not change */
                bool named = false;
                for (size_t j = 0; j < n; j++)
                        named |= routes[j].net_held == HELD_YES && skip[j] &&
                                 strcmp(routes[j].held_rm, held->v[i]) == 0;
                if (named)
                        continue;
                if (!any)
                        ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL, "configure terminal");
                any = true;
                ADD(FRR_BGPD, CMD_RM_DELETE, SIZE_MAX, held->v[i], "no route-map %s", held->v[i]);
        }
        if (any)
                ADD(FRR_BGPD, CMD_FRAME, SIZE_MAX, NULL, "end");
        r = plan_static(routes, n, false, skip, flags, out);
done_rm:
        frr_rm_set_free(&defined);
done:
        free(skip);
        return r;
}

/* ---- bgpd's running-config ---- */

uint32_t frr_parse_running(const char *text, void (*network)(const struct prefix *, void *),
                           void (*route_map)(const char *, void *), void *userdata)
{
        uint32_t asn = 0;
        bool in_router = false; /* inside `router bgp N` of the default VRF */
        const char *s = text;
        while (*s) {
                const char *nl = strchr(s, '\n');
                size_t len = nl ? (size_t)(nl - s) : strlen(s);
                char line[512];
                if (len < sizeof(line)) {
                        memcpy(line, s, len);
                        line[len] = '\0';
                        if (line[0] != ' ' && line[0] != '\0') {
                                unsigned long n;
                                char rest[16];
                                in_router = false;
                                char name[64];
                                if (sscanf(line, "router bgp %lu%15s", &n, rest) == 1) {
                                        in_router = true;
                                        if (!asn)
                                                asn = (uint32_t)n;
                                } else if (sscanf(line, "route-map %63s", name) == 1 &&
                                           strncmp(name, FRR_RM_PREFIX, strlen(FRR_RM_PREFIX)) ==
                                               0) {
                                        route_map(name, userdata);
                                }
                        } else if (in_router) {
                                char p[64], rm[64];
                                struct prefix pf;
                                const char *why;
                                if (sscanf(line, " network %63s route-map %63s", p, rm) == 2 &&
                                    strncmp(rm, FRR_RM_PREFIX, strlen(FRR_RM_PREFIX)) == 0 &&
                                    prefix_parse(p, &pf, &why) == 0)
                                        network(&pf, userdata);
                        }
                }
                s += len + (nl ? 1 : 0);
        }
        return asn;
}
