/* config_attrs.h: the attribute keys of "announce" and "degraded", parsed
 * the same way for both: config_service.c reads announce, and
 * config_operating.c the degraded block that starts from it. */
#pragma once
#include <jansson.h>

#include "attrs.h"
#include "config_internal.h"

/* "prepend" may add at most this many copies of the daemon's asn; the
 * degraded default (announce's plus 3) stops there too. */
#define PREPEND_MAX 10

/* Parses the attribute keys of block (announce, degraded) present in o
 * into a, which holds the defaults. */
void cfg_parse_attrs(struct cfile *f, const struct config *c, const struct daemon_faults *faults,
                     json_t *o, const char *block, struct attrs *a);
