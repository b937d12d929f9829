/* config_attrs.c: the BGP attribute keys of a service's "announce" and
 * "degraded" blocks (config_attrs.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config_attrs.h"

static const char *const announce_keys[] = {
    "next_hop", "med", "communities", "large_communities", "prepend", NULL,
};

/* Parses "A:B" (parts 2) or "A:B:C" (parts 3) of decimals up to max each;
 * writes the canonical form. */
static bool parse_community(const char *s, int parts, uint32_t max, char *out, size_t outlen)
{
        size_t w = 0;

        for (int k = 0; k < parts; k++) {
                uint64_t v = 0;
                int digits = 0;
                for (; *s >= '0' && *s <= '9'; s++, digits++) {
                        v = v * 10 + (uint64_t)(*s - '0');
                        if (v > max)
                                return false;
                }
                if (!digits || (k < parts - 1 ? *s != ':' : *s != '\0'))
                        return false;
                if (k < parts - 1)
                        s++;
                w += (size_t)snprintf(out + w, outlen - w, "%s%llu", k ? ":" : "",
                                      (unsigned long long)v);
        }
        return true;
}

static void parse_communities(struct cfile *f, json_t *o, const char *block, const char *key,
                              int parts, uint32_t max, char ***out, size_t *n_out)
{
        json_t *arr, *v;
        size_t i;
        char path[CFG_PATH_MAX], buf[CFG_PATH_MAX];

        if (cfg_array(f, o, block, key, &arr) <= 0)
                return;
        for (size_t k = 0; k < *n_out; k++)
                free((*out)[k]);
        free(*out);
        *n_out = 0;
        *out = xcalloc(json_array_size(arr), sizeof(**out));
        json_array_foreach(arr, i, v)
        {
                char canon[64];
                cfg_idx(path, cfg_key(buf, block, key), i);
                if (!json_is_string(v)) {
                        cfg_err(f, path, "\"%s\" items must be strings, not %s", key,
                                cfg_type_name(v));
                        continue;
                }
                if (!parse_community(json_string_value(v), parts, max, canon, sizeof(canon))) {
                        cfg_err(f, path,
                                parts == 2 ? "\"%s\": bad community \"%s\" (want A:B, each "
                                             "0..65535)"
                                           : "\"%s\": bad large community \"%s\" (want A:B:C, "
                                             "each 0..4294967295)",
                                key, json_string_value(v));
                        continue;
                }
                (*out)[(*n_out)++] = xstrdup(canon);
        }
}

void cfg_parse_attrs(struct cfile *f, const struct config *c, const struct daemon_faults *faults,
                     json_t *o, const char *block, struct attrs *a)
{
        const char *nh;
        int64_t n;
        char p[CFG_PATH_MAX];

        cfg_only_keys(f, o, block, block[0] == 'a' ? "\"announce\"" : "\"degraded\"",
                      announce_keys);
        if (cfg_string(f, o, block, "next_hop", &nh) > 0) {
                unsigned char addr[16];
                char canon[INET6_ADDRSTRLEN];
                if (strcmp(nh, "self") == 0) {
                        free(a->next_hop);
                        a->next_hop = xstrdup("self");
                } else if (inet_pton(AF_INET, nh, addr) == 1) {
                        free(a->next_hop);
                        a->next_hop = xstrdup(inet_ntop(AF_INET, addr, canon, sizeof(canon)));
                } else if (inet_pton(AF_INET6, nh, addr) == 1) {
                        free(a->next_hop);
                        a->next_hop = xstrdup(inet_ntop(AF_INET6, addr, canon, sizeof(canon)));
                } else {
                        cfg_err(f, cfg_key(p, block, "next_hop"),
                                "\"next_hop\" must be \"self\" or an IP address, not \"%s\"", nh);
                }
        }
        if (cfg_int(f, o, block, "med", 0, UINT32_MAX, &n) > 0)
                a->med = n;
        parse_communities(f, o, block, "communities", 2, 65535, &a->communities, &a->n_communities);
        parse_communities(f, o, block, "large_communities", 3, UINT32_MAX, &a->large_communities,
                          &a->n_large_communities);
        if (cfg_int(f, o, block, "prepend", 0, PREPEND_MAX, &n) > 0) {
                a->prepend = (unsigned)n;
                if (n > 0 && c->asn == 0 && !faults->asn)
                        cfg_err(f, cfg_key(p, block, "prepend"),
                                "\"prepend\" (%lld) needs \"asn\" (our AS number) in the daemon "
                                "file %s",
                                (long long)n, c->file);
        }
}
