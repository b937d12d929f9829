/* frr_config.h: the daemon file's "frr" block (README.md, "Wiring it into
 * FRR"), which this speaker parses itself. */
#pragma once
#include <stdint.h>

#include "config.h"

struct frr_settings {
        char *socket_dir; /* "socket_dir": where bgpd.vty and staticd.vty are */
        /* "asn": the `router bgp` ASN our network statements go under; 0:
         * the daemon's "asn". */
        uint32_t asn;
        enum on_action on_exit; /* "on_exit": what a clean stop does */
        /* "coalesce": updates within this window become one batch; 0: the
         * default (20 ms). */
        uint64_t coalesce_usec;
};

extern const struct speaker_block frr_block;
/* c's "frr" settings (the defaults when the file has no block). */
const struct frr_settings *frr_settings(const struct config *c);
/* The ASN of `router bgp`: "frr.asn", else the daemon's "asn"; 0 when
 * neither is set. */
uint32_t frr_bgp_asn(const struct config *c);
