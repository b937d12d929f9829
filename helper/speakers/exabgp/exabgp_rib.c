/* exabgp_rib.c: the route lines of ExaBGP's adj-rib-out (exabgp_rib.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "exabgp_rib.h"

#define TOKENS    5
#define TOKEN_MAX 64

/* Splits the first TOKENS space-separated words; returns how many. */
static int words(const char *line, char w[TOKENS][TOKEN_MAX])
{
        int n = 0;
        const char *p = line;
        while (n < TOKENS) {
                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                size_t len = strcspn(p, " ");
                if (len >= TOKEN_MAX)
                        return -1;
                memcpy(w[n], p, len);
                w[n][len] = '\0';
                n++;
                p += len;
        }
        return n;
}

static bool is_address(const char *s)
{
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int exabgp_rib_line(const char *line, struct prefix *out)
{
        return exabgp_rib_line_peer(line, out, NULL, 0);
}

int exabgp_rib_line_peer(const char *line, struct prefix *out, char *peer, size_t size)
{
        char w[TOKENS][TOKEN_MAX];
        int n = words(line, w);
        int i = 0;
        if (n > 0 && strcmp(w[0], "neighbor") == 0)
                i = 1;
        if (n < i + 4 || !is_address(w[i]) || strcmp(w[i + 2], "unicast") != 0)
                return 0;
        int family;
        if (strcmp(w[i + 1], "ipv4") == 0)
                family = AF_INET;
        else if (strcmp(w[i + 1], "ipv6") == 0)
                family = AF_INET6;
        else
                return 0;
        const char *why;
        if (prefix_parse(w[i + 3], out, &why) < 0 || out->family != family)
                return 0;
        if (peer && size)
                snprintf(peer, size, "%s", w[i]);
        return 1;
}
