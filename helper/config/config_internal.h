/* config_internal.h: shared by the config_*.c files only: what the loader's
 * parts tell each other. The parse helpers are in config_block.h. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "config_block.h"
#include "diag.h"

/* What went wrong in the daemon file, so service files are not blamed for it. */
struct daemon_faults {
        bool asn;          /* "asn" given but invalid */
        bool allowed;      /* "allowed_prefixes" missing or invalid */
        bool services_dir; /* "services_dir" invalid: nothing to read */
};

/* Parses one service file into *s (freed with service_cfg_clear, also on
 * problems). c holds the daemon settings and the services loaded before
 * this one (names and prefixes must be unique); problems go to d. */
void config_service_load(const struct config *c, const struct daemon_faults *faults,
                         const char *file, struct service_cfg *s, struct diag *d);
void service_cfg_clear(struct service_cfg *s);

/* config_operating.c: the operating keys. Daemon: "state_file", "hooks",
 * "reconcile". Service
 * (after "announce"): "degraded", "drain", "dampening", "hooks", and the
 * checks' "capacity" rules. */
void config_operating_daemon(struct cfile *f, struct config *c);
void config_operating_service(struct cfile *f, const struct config *c,
                              const struct daemon_faults *faults, struct service_cfg *s);
void config_operating_daemon_clear(struct config *c);
void config_operating_service_clear(struct service_cfg *s);
/* config_canary.c: a service's "canary" block. */
void config_canary_service(struct cfile *f, struct service_cfg *s);
void config_canary_service_clear(struct service_cfg *s);
/* config_fleet.c: the daemon's "fleet" block and each service's "floor". */
void config_fleet_daemon(struct cfile *f, struct config *c);
void config_fleet_daemon_clear(struct config *c);
void config_fleet_service(struct cfile *f, const struct config *c, struct service_cfg *s);
/* Deep copy; never fails (aborts on no memory, as config loading does). */
