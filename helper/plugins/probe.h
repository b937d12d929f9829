/* probe.h: `anycast-healthd --probe SERVICE`: run one service's checks once,
 * through the real plugin host (workers included), and print each result.
 * For plugin authors and for operators debugging a check. */
#pragma once
#include <stdio.h>

/* Exit codes: the worst result code of the service's checks (0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN), or PROBE_EXIT_ERROR when the probe
 * could not run (bad configuration, unknown service, a check that does not
 * load). */
#define PROBE_EXIT_ERROR 4

/* Loads config_path, runs every check of service once (concurrently, each
 * with its own timeout) and prints one line per check to out:
 * "checks[N] PLUGIN RESULT DURATION MESSAGE", plus a line per unsolicited
 * report that arrives meanwhile. Problems go to err. */
int probe_service(const char *config_path, const char *service, FILE *out, FILE *err);
