/* config_fleet.c: the daemon file's "fleet" block (etcd cluster, key
 * prefix, lease, what to do while etcd cannot be reached, TLS) and each
 * service's "floor". Fleet mode changes only when the daemon may withdraw,
 * never what it may announce, so nothing here widens allowed_prefixes. */
#include <stdlib.h>
#include <string.h>

#include "config_fleet.h"
#include "config_internal.h"

#define FLEET_PREFIX_DEFAULT "/anycast-healthd/"
#define FLEET_PREFIX_MAX     200
#define FLEET_LEASE_DEFAULT  (10ULL * 1000000ULL)
#define FLEET_LEASE_MIN      (2ULL * 1000000ULL)
#define FLEET_LEASE_MAX      (300ULL * 1000000ULL)
#define FLEET_ETCD_MAX       16
#define FLOOR_MIN_POPS_MAX   1000

static const char *const fleet_keys[] = {"etcd", "prefix", "lease", "on_unreachable", "tls", NULL};
static const char *const tls_keys[] = {"ca_file", "cert_file", "key_file", NULL};
static const char *const floor_keys[] = {"min_pops", NULL};

/* An etcd client URL as libcurl will be handed it: scheme, host, port,
 * nothing else (the daemon appends the gateway's paths). */
static const char *url_problem(const char *u, bool *https)
{
        const char *rest;
        if (strncmp(u, "http://", 7) == 0) {
                rest = u + 7;
                *https = false;
        } else if (strncmp(u, "https://", 8) == 0) {
                rest = u + 8;
                *https = true;
        } else {
                return "must start with http:// or https://";
        }
        if (!rest[0] || rest[0] == ':' || rest[0] == '/')
                return "names no host";
        for (const char *p = rest; *p; p++) {
                if (*p == '/' && p[1])
                        return "must not have a path (the daemon adds /v3/...)";
                if (*p == '?' || *p == '#' || *p == '@' || (unsigned char)*p <= ' ')
                        return "must be scheme://host:port only";
        }
        return NULL;
}

/* Pop names are part of etcd keys and of the fleet view other PoPs show. */
static bool pop_name_ok(const char *s)
{
        if (!s[0] || strlen(s) > 64)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

static void parse_etcd(struct cfile *f, json_t *o, struct fleet_cfg *fl, bool *any_https,
                       bool *any_http)
{
        json_t *a;
        char p[CFG_PATH_MAX];

        if (cfg_array(f, o, "fleet", "etcd", &a) <= 0) {
                if (!json_object_get(o, "etcd"))
                        cfg_err(f, "fleet",
                                "\"fleet\" needs \"etcd\": the client URLs of the "
                                "etcd cluster");
                return;
        }
        size_t n = json_array_size(a);
        if (n == 0 || n > FLEET_ETCD_MAX) {
                cfg_err(f, "fleet.etcd", "\"etcd\" must list 1 to %d client URLs, not %zu",
                        FLEET_ETCD_MAX, n);
                return;
        }
        fl->etcd = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_array_get(a, i);
                const char *path = cfg_idx(p, "fleet.etcd", i);
                if (!json_is_string(v)) {
                        cfg_err(f, path, "must be a string (a client URL), not %s",
                                cfg_type_name(v));
                        continue;
                }
                bool https;
                const char *why = url_problem(json_string_value(v), &https);
                if (why) {
                        cfg_err(f, path, "\"%s\" %s", json_string_value(v), why);
                        continue;
                }
                *(https ? any_https : any_http) = true;
                size_t len = strlen(json_string_value(v));
                char *u = xstrdup(json_string_value(v));
                if (len && u[len - 1] == '/')
                        u[len - 1] = '\0';
                fl->etcd[fl->n_etcd++] = u;
        }
}

static void parse_tls(struct cfile *f, json_t *o, struct fleet_cfg *fl, bool any_http)
{
        json_t *t;
        if (cfg_object(f, o, "fleet", "tls", &t) <= 0)
                return;
        cfg_only_keys(f, t, "fleet.tls", "\"fleet.tls\"", tls_keys);
        cfg_path(f, t, "fleet.tls", "ca_file", &fl->ca_file);
        cfg_path(f, t, "fleet.tls", "cert_file", &fl->cert_file);
        cfg_path(f, t, "fleet.tls", "key_file", &fl->key_file);
        if (!fl->cert_file != !fl->key_file)
                cfg_err(f, fl->cert_file ? "fleet.tls.cert_file" : "fleet.tls.key_file",
                        "\"cert_file\" and \"key_file\" go together (the client certificate "
                        "and its key)");
        if (any_http)
                cfg_err(f, "fleet.tls",
                        "\"tls\" is given but an \"etcd\" URL is http://: use "
                        "https:// for every member");
}

void config_fleet_daemon(struct cfile *f, struct config *c)
{
        struct fleet_cfg *fl = &c->fleet;
        json_t *o;
        const char *s, *text;
        bool any_https = false, any_http = false;

        fl->prefix = xstrdup(FLEET_PREFIX_DEFAULT);
        fl->lease_usec = FLEET_LEASE_DEFAULT;
        fl->on_unreachable = FLEET_UNREACHABLE_LOCAL;
        if (cfg_object(f, f->root, "", "fleet", &o) <= 0)
                return;
        fl->enabled = true;
        cfg_only_keys(f, o, "fleet", "\"fleet\"", fleet_keys);
        parse_etcd(f, o, fl, &any_https, &any_http);
        if (cfg_string(f, o, "fleet", "prefix", &s) > 0) {
                size_t len = strlen(s);
                bool ok = len >= 2 && len <= FLEET_PREFIX_MAX && s[0] == '/' && s[len - 1] == '/';
                for (size_t i = 0; ok && i < len; i++)
                        ok = (unsigned char)s[i] > ' ' && s[i] != 0x7f;
                if (ok) {
                        free(fl->prefix);
                        fl->prefix = xstrdup(s);
                } else {
                        cfg_err(f, "fleet.prefix",
                                "\"prefix\" (\"%s\") must start and end with '/', hold no "
                                "spaces or control characters and be at most %d bytes",
                                s, FLEET_PREFIX_MAX);
                }
        }
        uint64_t usec;
        if (cfg_duration(f, o, "fleet", "lease", &usec, &text) > 0) {
                if (usec < FLEET_LEASE_MIN || usec > FLEET_LEASE_MAX || usec % 1000000ULL)
                        cfg_err(f, "fleet.lease",
                                "\"lease\" (%s) must be whole seconds from 2s to 5min "
                                "(etcd's lease TTL)",
                                text);
                else
                        fl->lease_usec = usec;
        }
        if (cfg_string(f, o, "fleet", "on_unreachable", &s) > 0) {
                if (strcmp(s, "local") == 0)
                        fl->on_unreachable = FLEET_UNREACHABLE_LOCAL;
                else if (strcmp(s, "hold") == 0)
                        fl->on_unreachable = FLEET_UNREACHABLE_HOLD;
                else
                        cfg_err(f, "fleet.on_unreachable",
                                "\"on_unreachable\" must be \"local\" or \"hold\", not \"%s\"", s);
        }
        parse_tls(f, o, fl, any_http);
        if (!pop_name_ok(c->pop))
                cfg_err(f, json_object_get(f->root, "pop") ? "pop" : "fleet",
                        "in fleet mode \"pop\" (\"%s\") names this PoP to the others: 1 to 64 "
                        "letters, digits, '-', '_' or '.'",
                        c->pop);
}

void config_fleet_daemon_clear(struct config *c)
{
        struct fleet_cfg *fl = &c->fleet;
        for (size_t i = 0; fl->etcd && i < fl->n_etcd; i++)
                free(fl->etcd[i]);
        free(fl->etcd);
        free(fl->prefix);
        free(fl->ca_file);
        free(fl->cert_file);
        free(fl->key_file);
        *fl = (struct fleet_cfg){0};
}

void config_fleet_service(struct cfile *f, const struct config *c, struct service_cfg *s)
{
        json_t *o;
        int64_t n;

        s->floor.min_pops = 0;
        if (cfg_object(f, f->root, "", "floor", &o) <= 0)
                return;
        cfg_only_keys(f, o, "floor", "\"floor\"", floor_keys);
        if (cfg_int(f, o, "floor", "min_pops", 1, FLOOR_MIN_POPS_MAX, &n) > 0)
                s->floor.min_pops = (unsigned)n;
        else if (!json_object_get(o, "min_pops"))
                cfg_err(f, "floor",
                        "\"floor\" needs \"min_pops\": how many PoPs must keep "
                        "announcing");
        if (!c->fleet.enabled)
                cfg_err(f, "floor",
                        "\"floor\" needs fleet mode: the daemon file %s has no \"fleet\" block, "
                        "so no other PoP is known",
                        c->file);
}

static bool same_str(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

bool config_fleet_equal(const struct fleet_cfg *a, const struct fleet_cfg *b)
{
        if (a->enabled != b->enabled || a->n_etcd != b->n_etcd || a->lease_usec != b->lease_usec ||
            a->on_unreachable != b->on_unreachable || !same_str(a->prefix, b->prefix) ||
            !same_str(a->ca_file, b->ca_file) || !same_str(a->cert_file, b->cert_file) ||
            !same_str(a->key_file, b->key_file))
                return false;
        for (size_t i = 0; i < a->n_etcd; i++)
                if (!same_str(a->etcd[i], b->etcd[i]))
                        return false;
        return true;
}
