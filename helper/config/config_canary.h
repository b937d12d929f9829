/* config_canary.h: what the speakers ask of a service's "canary" block
 * (parsed in config_canary.c). */
#pragma once
#include <stdbool.h>

#include "config.h"

/* Whether addr (any spelling of an IP address) is one of cc's neighbours. */
bool canary_cfg_has(const struct canary_cfg *cc, const char *addr);
