/* engine_reload.h: switching the engine to a new configuration
 * (engine_reload.c). */
#pragma once

struct config;
struct diag;
struct engine;

/* Reload without churn. Validates newcfg (every changed check's plugin
 * options; problems go to d) and, when it is good, switches to it:
 * services whose definition did not change keep their state, counters and
 * check runners and send nothing; removed services' prefixes are withdrawn
 * (unless another service now holds them); new and changed services start
 * unknown and send nothing until their checks decide (a changed service's
 * prefixes stay as they were meanwhile). Daemon settings the backend
 * copied at start (backend, asn, the speaker's own block: needs_restart in
 * backend.h) need a restart: a change is
 * logged. Takes ownership of newcfg in every case. Returns 0, or -EINVAL
 * (or another negative errno) with the old configuration still running. */
int engine_reload(struct engine *en, struct config *newcfg, struct diag *d);
/* Loads the daemon file the running configuration came from and calls
 * engine_reload(); logs the outcome and every problem. What SIGHUP and the
 * control socket's "reload" call. */
int engine_reload_file(struct engine *en, struct diag *d);
