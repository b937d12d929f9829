/* bird_render.c: include-file text for BIRD's static protocol. Every value
 * that ends up in the file is re-validated here, because BIRD refuses a
 * file it cannot parse at its next start: only digits we formatted
 * ourselves ever reach the file. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bird_render.h"

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

static bool attrs_empty(const struct attrs *a)
{
        return !a || (a->med < 0 && a->n_communities == 0 && a->n_large_communities == 0 &&
                      a->prepend == 0);
}

static int render_attrs(FILE *f, const struct attrs *a, uint32_t asn, const char **why)
{
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
        fputs(" {", f);
        for (unsigned i = 0; i < a->prepend; i++)
                fprintf(f, " bgp_path.prepend(%" PRIu32 ");", asn);
        /* MED reaches eBGP peers only because the snippet's export filter
         * re-sets it (see bird-snippets/anycast-healthd.conf). */
        if (a->med >= 0)
                fprintf(f, " bgp_med = %" PRId64 ";", a->med);
        for (size_t i = 0; i < a->n_communities; i++) {
                uint64_t v[2];
                if (parse_numbers(a->communities[i], 2, UINT16_MAX, v) < 0) {
                        *why = "bad community";
                        return -EINVAL;
                }
                fprintf(f, " bgp_community.add((%" PRIu64 ",%" PRIu64 "));", v[0], v[1]);
        }
        for (size_t i = 0; i < a->n_large_communities; i++) {
                uint64_t v[3];
                if (parse_numbers(a->large_communities[i], 3, UINT32_MAX, v) < 0) {
                        *why = "bad large community";
                        return -EINVAL;
                }
                fprintf(f, " bgp_large_community.add((%" PRIu64 ",%" PRIu64 ",%" PRIu64 "));", v[0],
                        v[1], v[2]);
        }
        fputs(" }", f);
        return 0;
}

/* A raw tail may only be what bird_render writes: one line, ending in ';'. */
static bool raw_ok(const char *raw)
{
        size_t len = strlen(raw);
        return len > 0 && raw[len - 1] == ';' && !strpbrk(raw, "\n\r\"");
}

int bird_render(int family, const struct bird_route *routes, size_t n, uint32_t asn, char **out,
                const char **why)
{
        return bird_render_file(family, false, routes, n, asn, out, why);
}

int bird_render_file(int family, bool canary, const struct bird_route *routes, size_t n,
                     uint32_t asn, char **out, const char **why)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        /* Ours alone: without a lock per call, 10,000 routes render in
         * half the time, and every change re-renders the whole file. */
        __fsetlocking(f, FSETLOCKING_BYCALLER);
        const char *fam = family == AF_INET ? "IPv4" : "IPv6";
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
                count += routes[i].prefix.family == family;
        if (canary)
                fprintf(f,
                        "# anycast-healthd: %zu %s route%s on trial, for BIRD's canary static "
                        "protocol\n# (exported to canary peers only). Written by "
                        "anycast-healthd; changes here are overwritten.\n",
                        count, fam, count == 1 ? "" : "s");
        else
                fprintf(f,
                        "# anycast-healthd: %zu %s route%s for BIRD's static protocol.\n"
                        "# Written by anycast-healthd; changes here are overwritten.\n",
                        count, fam, count == 1 ? "" : "s");
        int r = 0;
        *why = NULL;
        for (size_t i = 0; i < n && r == 0; i++) {
                const struct bird_route *rt = &routes[i];
                if (rt->prefix.family != family)
                        continue;
                char p[PREFIX_STRLEN];
                prefix_format(&rt->prefix, p);
                if (rt->raw) {
                        if (!raw_ok(rt->raw)) {
                                *why = "bad adopted route text";
                                r = -EINVAL;
                                break;
                        }
                        fputs("route ", f);
                        fputs(p, f);
                        fputs(rt->raw, f);
                        fputc('\n', f);
                        continue;
                }
                fputs("route ", f);
                fputs(p, f);
                fputs(" blackhole", f);
                if (!attrs_empty(rt->attrs))
                        r = render_attrs(f, rt->attrs, asn, why);
                fputs(";\n", f);
        }
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *out = buf;
        return 0;
}

int bird_render_parse_line(const char *line, struct prefix *prefix, size_t *rest_off)
{
        if (strncmp(line, "route ", 6) != 0)
                return -EINVAL;
        const char *s = line + 6;
        const char *sp = strchr(s, ' ');
        const char *semi = strchr(s, ';');
        if (!sp || !semi || sp > semi)
                return -EINVAL;
        char text[PREFIX_STRLEN];
        size_t plen = (size_t)(sp - s);
        if (plen >= sizeof(text))
                return -EINVAL;
        memcpy(text, s, plen);
        text[plen] = '\0';
        char *slash = strchr(text, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        struct prefix p = {0};
        p.family = strchr(text, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(p.family, text, p.addr) != 1)
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long l = strtoul(slash + 1, &end, 10);
        if (errno || *end || end == slash + 1 || l > (p.family == AF_INET ? 32u : 128u))
                return -EINVAL;
        p.len = (uint8_t)l;
        *prefix = p;
        *rest_off = (size_t)(sp - line);
        return 0;
}
