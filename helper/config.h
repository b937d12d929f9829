/* config.h: the daemon file and service files, parsed and validated.
 * Keys are the contract in DESIGN.md; every problem becomes a diag entry
 * "file:line:column: message" naming the key. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "diag.h"
#include "prefix.h"

struct jsonpos;

enum backend_kind { BACKEND_NONE = 0, BACKEND_EXABGP, BACKEND_BIRD };
enum combine_mode { COMBINE_ALL, COMBINE_ANY, COMBINE_AT_LEAST };
enum on_action { ON_WITHDRAW, ON_KEEP };

/* BGP attributes a route is announced with. */
struct attrs {
        char *next_hop;                /* "self" or an address */
        int64_t med;                   /* -1 when unset */
        char **communities;            /* "65001:53" */
        size_t n_communities;
        char **large_communities;      /* "65001:0:53" */
        size_t n_large_communities;
        unsigned prepend;              /* extra copies of the daemon's asn */
};

struct check_cfg {
        char *plugin;          /* plugin name, file plugin_dir/NAME.so */
        json_t *options;       /* the "options" object (owned ref); {} if absent */
        char *options_path;    /* jsonpos path of the options, "checks[1].options" */
        uint64_t interval_usec;
        uint64_t timeout_usec;
        unsigned rise, fall;
        int line, column;      /* where the check object starts */
};

struct service_cfg {
        char *name;
        char *file;            /* the service file */
        struct jsonpos *pos;   /* positions in file, for plugin option errors */
        struct prefix *prefixes;
        size_t n_prefixes;
        struct check_cfg *checks;
        size_t n_checks;
        enum combine_mode combine;
        unsigned combine_n;    /* COMBINE_AT_LEAST */
        char *disable_file;    /* NULL: none */
        enum on_action on_disabled;
        struct attrs announce;
        json_t *raw;           /* the whole service object, to tell changes on reload */
};

struct config {
        char *file;
        char *pop;
        enum backend_kind backend;
        char *services_dir;
        char *plugin_dir;
        struct prefix *allowed;
        size_t n_allowed;
        uint32_t asn;          /* 0: unset; required when a service prepends */
        struct {
                bool ack;
                enum on_action on_exit;
        } exabgp;
        struct {
                char *socket;
                char *include_v4;
                char *include_v6;
                enum on_action on_exit;
                /* Updates within this window become one write and one
                 * configure; 0: the default (20 ms). Not a config key yet. */
                uint64_t coalesce_usec;
        } bird;
        struct service_cfg *services;
        size_t n_services;
};

/* Loads the daemon file at path and every services_dir/ *.json (sorted by
 * name; hidden files skipped). Returns 0 with *out set when no problem was
 * found; otherwise -EINVAL, every problem found in any file added to d,
 * and *out NULL. Paths in the result are absolute. Running out of memory
 * aborts, as in diag.c. */
int config_load(const char *path, struct config **out, struct diag *d);
/* Like config_load, for the daemon file alone: no service is read
 * (n_services 0). For actions that need only the daemon's own settings and
 * must work while a service file is broken (--withdraw-all). */
int config_load_daemon(const char *path, struct config **out, struct diag *d);
void config_free(struct config *c);
/* Parses "500ms", "2s", "1.5s", "1m", "1h", "250us" into microseconds: digits,
 * an optional fraction, a unit (us ms s m h); no sign, no spaces. -EINVAL on
 * bad input, -ERANGE when it does not fit 64 bits; *usec untouched then. */
int parse_duration(const char *s, uint64_t *usec);
const char *backend_kind_name(enum backend_kind k);
