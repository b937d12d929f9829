/* bird_config.h: the daemon file's "bird" block (README.md, "Wiring it
 * into BIRD"), which this speaker parses itself. */
#pragma once
#include <stdint.h>

#include "config.h"

struct bird_settings {
        char *socket;     /* "socket": BIRD's control socket */
        char *include_v4; /* "include_v4", "include_v6": our include files */
        char *include_v6;
        enum on_action on_exit; /* "on_exit": what a clean stop does */
        /* "coalesce": updates within this window become one write and one
         * configure; 0: the default (20 ms). */
        uint64_t coalesce_usec;
};

extern const struct speaker_block bird_block;
/* c's "bird" settings (the defaults when the file has no block). */
const struct bird_settings *bird_settings(const struct config *c);

/* The canary include file beside include (routes on trial, read by the
 * snippet's anycast_healthd_canary4/6): "-canary" before the name's last
 * extension, "/d/routes4.conf" -> "/d/routes4-canary.conf" ("/d/r4" ->
 * "/d/r4-canary"). Malloc'd; NULL when out of memory. */
char *bird_canary_path(const char *include);
