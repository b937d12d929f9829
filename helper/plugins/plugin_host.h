/* plugin_host.h: loading check plugins and running their probes.
 * Loop-safe plugins run inside the daemon on its sd-event loop; every other
 * plugin runs in a supervised worker process per check, so a crash, a hang
 * or a leak there costs that check a failed result, never the daemon. The
 * host owns the timeout: a probe always ends in exactly one result. */
#pragma once
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "diag.h"

struct plugin_host;
struct check_runner;

/* Opens the plugin registry for plugin_dir. e may be NULL for validation
 * only (--check-config): then no probe can be started. With a loop, blocks
 * SIGCHLD (sd-event's child watches need it) and serves the loop services
 * of struct ahc_host: one host with a loop per process. */
int plugin_host_new(sd_event *e, const char *plugin_dir, struct plugin_host **out);
void plugin_host_free(struct plugin_host *h);
/* How much a worker may grow beyond the daemon's size at fork (RLIMIT_AS,
 * and resident memory checked after each probe); default 256 MiB. */
void plugin_host_set_worker_memory_limit(struct plugin_host *h, uint64_t bytes);

/* Loads the check's plugin (once per plugin) and builds a runner: checks the
 * ABI, that the file lies inside plugin_dir, and lets the plugin validate
 * its options. Every problem goes to d with the service file's position.
 * Returns 0 or a negative errno. */
int check_runner_new(struct plugin_host *h, const struct service_cfg *svc, size_t check_index,
                     struct diag *d, struct check_runner **out);
/* Cancels a probe in flight (no callback follows), kills and reaps the
 * runner's worker, destroys the plugin instance. */
void check_runner_free(struct check_runner *r);

/* result: AHC_* code; msg: first line of the plugin's message (may be "").
 * duration_usec: from start to result. */
typedef void (*check_result_fn)(void *userdata, int result, const char *msg,
                                uint64_t duration_usec);

/* Starts one probe with a deadline. Exactly one callback follows, never from
 * within this call. Returns 0, or -EBUSY when a probe is still in flight. */
int check_runner_start(struct check_runner *r, uint64_t timeout_usec, check_result_fn cb,
                       void *userdata);

/* Unsolicited results (host->report, ABI 1.1): result, message. Delivered
 * from the loop, never from within a plugin call; see check_runner_set_report_fn. */
typedef void (*check_report_fn)(void *userdata, int result, const char *msg);

/* Sets the persistent receiver of the runner's unsolicited reports (NULL:
 * they are dropped). Independent of any probe in flight: a report neither
 * ends nor replaces the probe. Reports queued before a receiver was set are
 * delivered to it. */
void check_runner_set_report_fn(struct check_runner *r, check_report_fn fn, void *userdata);

/* The runner's worker process, or -1 (loop-safe plugin, or none running). */
pid_t check_runner_worker_pid(const struct check_runner *r);
