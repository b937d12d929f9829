/* config.h: the daemon file and service files, parsed and validated.
 * Keys are the contract in README.md ("Configuration" and the sections it
 * points to); every problem becomes a diag entry "file:line:column: message"
 * naming the key. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "attrs.h"
#include "diag.h"
#include "prefix.h"

struct jsonpos;
struct cfile;

/* A speaker's block of the daemon file ("NAME": { ... }), which the speaker
 * parses itself: the loader knows speakers only through these, registered
 * once with config_set_speakers() before anything is loaded. */
struct speaker_block {
        const char *name; /* the block's key and the "backend" value */
        /* Its settings before the file (defaults); never NULL (aborts on
         * no memory, as config loading does). */
        void *(*defaults)(void);
        /* Reads block (an object) into settings; every problem through
         * cfg_err() (config_block.h), at the key's line/column. */
        void (*parse)(struct cfile *f, json_t *block, void *settings);
        void (*free)(void *settings);
};
#define CONFIG_SPEAKERS_MAX 8
/* The speakers the loader accepts, in the order "backend" lists them in
 * its messages. Kept by reference: the table must outlive every load. */
void config_set_speakers(const struct speaker_block *const *blocks, size_t n);

enum combine_mode { COMBINE_ALL, COMBINE_ANY, COMBINE_AT_LEAST };
enum on_action { ON_WITHDRAW, ON_KEEP };

/* A command run on state transitions (hooks.c): argv, no shell. */
struct hooks_cfg {
        char **on_change; /* NULL-terminated argv; NULL: none */
        uint64_t timeout_usec;
};

/* Route flap dampening (dampening.c); off unless the block is given. */
struct dampening_cfg {
        bool enabled;
        unsigned penalty; /* added per up/down transition */
        uint64_t half_life_usec;
        unsigned suppress;    /* withdrawn at or above this */
        unsigned reuse;       /* announced again below this */
        unsigned max_penalty; /* the penalty never grows past this */
};

struct drain_cfg {
        uint64_t time_usec; /* announce with GRACEFUL_SHUTDOWN this long, then withdraw */
        bool on_shutdown;   /* drain before a clean stop withdraws */
};

/* "floor" (fleet mode): a health-driven withdraw that would leave fewer
 * than min_pops PoPs announcing the service is held. 0: no floor. */
struct floor_cfg {
        unsigned min_pops;
};

/* "canary": an announce after down or unknown goes to these neighbours
 * only, for time, before everyone hears it (policy/canary.h). No block:
 * n_neighbors 0, every announce goes to everyone at once. */
struct canary_cfg {
        char **neighbors; /* canonical IPv4/IPv6 text (inet_ntop), NULL-terminated */
        size_t n_neighbors;
        uint64_t time_usec;
};

/* "fleet": the daemon shares its services' state through etcd v3. */
enum fleet_unreachable { FLEET_UNREACHABLE_LOCAL, FLEET_UNREACHABLE_HOLD };
struct fleet_cfg {
        bool enabled; /* the block is in the daemon file */
        char **etcd;  /* client URLs ("http://192.0.2.66:2379"), NULL-terminated */
        size_t n_etcd;
        char *prefix;        /* every key of ours starts with it; ends with '/' */
        uint64_t lease_usec; /* whole seconds: etcd's TTL */
        enum fleet_unreachable on_unreachable;
        char *ca_file, *cert_file, *key_file; /* "tls"; NULL: not given */
};

struct check_cfg {
        char *plugin;       /* plugin name, file plugin_dir/NAME.so */
        json_t *options;    /* the "options" object (owned ref); {} if absent */
        char *options_path; /* jsonpos path of the options, "checks[1].options" */
        uint64_t interval_usec;
        uint64_t timeout_usec;
        unsigned rise, fall;
        bool capacity;    /* failing makes the service degraded, not down */
        int line, column; /* where the check object starts */
};

struct service_cfg {
        char *name;
        char *file;          /* the service file */
        struct jsonpos *pos; /* positions in file, for plugin option errors */
        struct prefix *prefixes;
        size_t n_prefixes;
        struct check_cfg *checks;
        size_t n_checks;
        enum combine_mode combine;
        unsigned combine_n; /* COMBINE_AT_LEAST */
        char *disable_file; /* NULL: none */
        enum on_action on_disabled;
        struct attrs announce;
        struct attrs degraded; /* while degraded (config_operating.c documents the defaults) */
        struct attrs draining; /* degraded plus GRACEFUL_SHUTDOWN 65535:0; derived */
        struct drain_cfg drain;
        struct dampening_cfg dampening;
        struct hooks_cfg hooks; /* on_change NULL: the daemon's hooks apply */
        struct floor_cfg floor;
        struct canary_cfg canary;
        char *raw; /* the service object as canonical JSON text (sorted keys,
                    * compact): a reload compares it to tell changes. Text, not
                    * the parsed tree: a tenth of the memory at 10,000 services */
};

struct config {
        char *file;
        char *pop;
        char *backend; /* "backend": a speaker's name; NULL: not set */
        char *services_dir;
        char *plugin_dir;
        struct prefix *allowed;
        size_t n_allowed;
        uint32_t asn; /* 0: unset; required when a service prepends */
        /* Every known speaker's settings, from its block or its defaults
         * (config_speaker()). */
        struct config_speaker {
                const struct speaker_block *def;
                void *settings;
        } speakers[CONFIG_SPEAKERS_MAX];
        size_t n_speakers;
        char *state_file;       /* manual disables, drains, withdraw-all */
        struct hooks_cfg hooks; /* for services without their own */
        struct {
                char *socket;    /* control socket path */
                char *group;     /* may use the socket; NULL: root and the daemon's user only */
                bool configured; /* the block is in the file: failing to serve it is fatal */
        } control;
        struct {
                char *listen; /* "ADDRESS:PORT" of the Prometheus endpoint; "": off */
                bool configured;
        } metrics;
        /* "reconcile": reading back what the speaker holds of ours. */
        struct {
                uint64_t interval_usec;    /* between passes; 0: off */
                uint64_t stuck_after_usec; /* still wrong this long after first seen: stuck */
        } reconcile;
        struct fleet_cfg fleet;
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
/* Frees the services' position indexes once every check's options were
 * validated (they only place errors; later problems are logged without a
 * position). Saves about a kilobyte per service. */
void config_drop_positions(struct config *c);
/* The settings of the speaker called name (its parse's type), NULL when no
 * such speaker is registered. */
void *config_speaker(const struct config *c, const char *name);
/* For configurations built by hand (tests): adds or replaces the settings
 * of def's speaker; config_free will call def->free on them. */
void config_speaker_put(struct config *c, const struct speaker_block *def, void *settings);
