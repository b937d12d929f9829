/* prefix.c: IPv4/IPv6 prefixes for allowed ranges and announcements. Pure:
 * strict parsing (no host bits, no bare addresses) so a typo cannot widen
 * what the daemon announces. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

static int parse_len(const char *s, unsigned max, unsigned *out)
{
        unsigned v = 0;
        size_t n = strlen(s);

        if (n == 0 || n > 3)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v > max)
                return -ERANGE;
        *out = v;
        return 0;
}

static bool host_bits_set(const uint8_t *addr, unsigned bytes, unsigned len)
{
        for (unsigned i = 0; i < bytes; i++) {
                unsigned first = i * 8;
                uint8_t mask;
                if (first + 8 <= len)
                        continue;
                mask = first >= len ? 0xff : (uint8_t)(0xff >> (len - first));
                if (addr[i] & mask)
                        return true;
        }
        return false;
}

int prefix_parse(const char *s, struct prefix *out, const char **why)
{
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash = strchr(s, '/');
        struct prefix p = {0};
        unsigned len, max;
        int r;

        *why = NULL;
        if (!slash) {
                *why = "missing prefix length (\"/N\")";
                return -EINVAL;
        }
        if ((size_t)(slash - s) >= sizeof(buf) || slash == s) {
                *why = "not an IPv4 or IPv6 address";
                return -EINVAL;
        }
        memcpy(buf, s, (size_t)(slash - s));
        buf[slash - s] = '\0';
        if (inet_pton(AF_INET, buf, p.addr) == 1) {
                p.family = AF_INET;
                max = 32;
        } else if (inet_pton(AF_INET6, buf, p.addr) == 1) {
                p.family = AF_INET6;
                max = 128;
        } else {
                *why = "not an IPv4 or IPv6 address";
                return -EINVAL;
        }
        r = parse_len(slash + 1, max, &len);
        if (r == -ERANGE) {
                *why = "prefix length out of range";
                return -EINVAL;
        }
        if (r < 0) {
                *why = "prefix length is not a number";
                return -EINVAL;
        }
        p.len = (uint8_t)len;
        if (host_bits_set(p.addr, max / 8, len)) {
                *why = "host bits set";
                return -EINVAL;
        }
        *out = p;
        return 0;
}

void prefix_format(const struct prefix *p, char buf[PREFIX_STRLEN])
{
        char a[INET6_ADDRSTRLEN];

        if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
                strcpy(a, "?");
        snprintf(buf, PREFIX_STRLEN, "%s/%u", a, p->len);
}

int prefix_format_checked(const struct prefix *p, char buf[PREFIX_STRLEN])
{
        if (!p || (p->family != AF_INET && p->family != AF_INET6) ||
            p->len > (p->family == AF_INET ? 32 : 128)) {
                snprintf(buf, PREFIX_STRLEN, "?");
                return -EINVAL;
        }
        prefix_format(p, buf);
        return 0;
}

bool prefix_contains(const struct prefix *outer, const struct prefix *inner)
{
        unsigned full, rest;

        if (outer->family != inner->family || outer->len > inner->len)
                return false;
        full = outer->len / 8;
        rest = outer->len % 8;
        if (memcmp(outer->addr, inner->addr, full) != 0)
                return false;
        if (rest) {
                uint8_t mask = (uint8_t)(0xff << (8 - rest));
                if ((outer->addr[full] & mask) != (inner->addr[full] & mask))
                        return false;
        }
        return true;
}

bool prefix_equal(const struct prefix *a, const struct prefix *b)
{
        return a->family == b->family && a->len == b->len &&
               memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

int prefix_cmp(const struct prefix *a, const struct prefix *b)
{
        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;
        int c = memcmp(a->addr, b->addr, sizeof(a->addr));
        if (c)
                return c;
        return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}
