/* config_canary.c: a service's "canary" block: the neighbours an announce
 * after down or unknown goes to first, and for how long. Fleet mode or
 * not: a canary only narrows who hears what the checks raised. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_canary.h"
#include "config_internal.h"

#define CANARY_NEIGHBORS_MAX 64
#define CANARY_TIME_DEFAULT  30000000ULL
#define CANARY_TIME_MAX      (24ULL * 3600 * 1000000ULL)

static const char *const canary_keys[] = {"neighbors", "time", NULL};

/* The address in the form the speakers print it (inet_ntop), so that
 * "2001:DB8::1" and "2001:db8::1" are one neighbour. */
static int canonical(const char *text, char *out, size_t size)
{
        unsigned char a[16];
        if (inet_pton(AF_INET, text, a) == 1)
                return inet_ntop(AF_INET, a, out, (socklen_t)size) ? 0 : -1;
        if (inet_pton(AF_INET6, text, a) == 1)
                return inet_ntop(AF_INET6, a, out, (socklen_t)size) ? 0 : -1;
        return -1;
}

static void parse_neighbors(struct cfile *f, json_t *o, struct canary_cfg *cc)
{
        json_t *arr;
        char path[CFG_PATH_MAX];
        int r = cfg_array(f, o, "canary", "neighbors", &arr);
        if (r == 0)
                cfg_err(f, "canary",
                        "\"canary\" needs \"neighbors\": the addresses of the BGP neighbours "
                        "that hear an announce first");
        if (r <= 0)
                return;
        size_t n = json_array_size(arr);
        if (n == 0 || n > CANARY_NEIGHBORS_MAX) {
                cfg_err(f, "canary.neighbors", "\"neighbors\" must list 1 to %d addresses, not %zu",
                        CANARY_NEIGHBORS_MAX, n);
                return;
        }
        cc->neighbors = xcalloc(n + 1, sizeof(*cc->neighbors));
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_array_get(arr, i);
                char buf[INET6_ADDRSTRLEN];
                cfg_idx(path, "canary.neighbors", i);
                if (!json_is_string(v)) {
                        cfg_err(f, path, "a neighbour is an IP address string, not %s",
                                cfg_type_name(v));
                        continue;
                }
                if (canonical(json_string_value(v), buf, sizeof(buf)) < 0) {
                        cfg_err(f, path, "\"%.64s\" is not an IPv4 or IPv6 address",
                                json_string_value(v));
                        continue;
                }
                bool dup = false;
                for (size_t k = 0; k < cc->n_neighbors; k++)
                        dup |= strcmp(cc->neighbors[k], buf) == 0;
                if (dup) {
                        cfg_err(f, path, "neighbour %s is listed twice", buf);
                        continue;
                }
                cc->neighbors[cc->n_neighbors++] = xstrdup(buf);
        }
}

void config_canary_service(struct cfile *f, struct service_cfg *s)
{
        json_t *o;
        const char *text;
        struct canary_cfg *cc = &s->canary;

        *cc = (struct canary_cfg){0};
        if (cfg_object(f, f->root, "", "canary", &o) <= 0)
                return;
        cfg_only_keys(f, o, "canary", "\"canary\"", canary_keys);
        cc->time_usec = CANARY_TIME_DEFAULT;
        if (cfg_duration(f, o, "canary", "time", &cc->time_usec, &text) > 0 &&
            (cc->time_usec < 1000000ULL || cc->time_usec > CANARY_TIME_MAX)) {
                cfg_err(f, "canary.time", "\"time\" (%s) must be between 1s and 24h", text);
                cc->time_usec = CANARY_TIME_DEFAULT;
        }
        parse_neighbors(f, o, cc);
}

void config_canary_service_clear(struct service_cfg *s)
{
        struct canary_cfg *cc = &s->canary;
        for (size_t i = 0; cc->neighbors && i < cc->n_neighbors; i++)
                free(cc->neighbors[i]);
        free(cc->neighbors);
        *cc = (struct canary_cfg){0};
}

bool canary_cfg_has(const struct canary_cfg *cc, const char *addr)
{
        char buf[INET6_ADDRSTRLEN];
        if (!cc || canonical(addr, buf, sizeof(buf)) < 0)
                return false;
        for (size_t i = 0; i < cc->n_neighbors; i++)
                if (strcmp(cc->neighbors[i], buf) == 0)
                        return true;
        return false;
}
