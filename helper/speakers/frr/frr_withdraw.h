/* frr_withdraw.h: `anycast-healthd --withdraw-all` for FRR: the stop
 * action for a daemon that died without a clean stop. Reads bgpd's running
 * config and removes every `network P route-map ahd-...` and every
 * `route-map ahd-...`, then the blackhole statics of those prefixes and of
 * every prefix the configuration names. */
#pragma once
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"

#define FRR_WITHDRAW_TIMEOUT_USEC (10 * 1000 * 1000ULL)

/* Returns 0 when FRR took it all, 1 when bgpd is not running (nothing of
 * ours is announced; an FRR start forgets our commands), a negative errno
 * when FRR refused a command or did not answer. Logs the outcome. */
int frr_withdraw_all(sd_event *e, const struct config *cfg, uint64_t timeout_usec);
/* The FRR row's withdraw_all: frr_withdraw_all on a loop of its own. */
int frr_withdraw_all_action(const struct config *cfg);
