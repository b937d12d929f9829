/* bird_withdraw.h: `anycast-healthd --withdraw-all`, the stop action for a
 * daemon that died without a clean stop (crash, SIGKILL, watchdog): empty
 * our include files and make BIRD load them, so a PoP whose health checker
 * is gone stops advertising (fail-closed). The shipped systemd unit runs it
 * as ExecStopPost=. */
#pragma once
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"

/* How long --withdraw-all waits for BIRD's answer to `configure`. BIRD
 * needs ~135 ms for 100,000 static routes; this bounds a wedged BIRD. */
#define BIRD_WITHDRAW_TIMEOUT_USEC (10 * 1000 * 1000ULL)

/* Writes both include files and both canary files beside them
 * (bird_canary_path) empty (as the backend writes them: beside,
 * fsync, rename, mode 0644), whatever they held, then sends `configure`
 * over BIRD's control socket and runs e until the answer or timeout_usec.
 * Returns 0 when BIRD took the files (0003, or 0004/0005: accepted and
 * being applied; `configure status` is then asked until it says 0003 or
 * timeout_usec is over, and the log says whether it did); 1 when BIRD is not running (socket
 * missing or refusing): nothing is announced then and BIRD loads the empty files when it starts;
 * -EREMOTEIO when BIRD refused the configuration; another negative errno
 * when a file could not be written (the other is still emptied and BIRD
 * still asked) or BIRD did not answer. Logs the outcome once. */
int bird_withdraw_all(sd_event *e, const struct config *cfg, uint64_t timeout_usec);

/* The BIRD row's withdraw_all (speakers.h has the whole --withdraw-all):
 * bird_withdraw_all on a loop of its own. EXIT_SUCCESS when BIRD took the
 * empty files or is not running (it loads them when it starts). */
int bird_withdraw_all_action(const struct config *cfg);
