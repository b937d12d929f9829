/* exabgp_config.h: the daemon file's "exabgp" block (README.md, "Wiring it
 * into ExaBGP"), which this speaker parses itself. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "exabgp_render.h"

struct exabgp_settings {
        bool ack;               /* "ack": ExaBGP answers each command (api.ack) */
        enum exabgp_api api;    /* "api": the command syntax, 4 (default) or 6 */
        enum on_action on_exit; /* "on_exit": what a clean stop does */
        uint64_t watchdog_usec; /* "watchdog": 0 off */
};

extern const struct speaker_block exabgp_block;
/* c's "exabgp" settings (the defaults when the file has no block). */
const struct exabgp_settings *exabgp_settings(const struct config *c);
