/* config_fleet.h: the "fleet" block beyond parsing it (config_fleet.c). */
#pragma once
#include <stdbool.h>

#include "config.h"

/* Whether two "fleet" blocks say the same (a reload cannot change it). */
bool config_fleet_equal(const struct fleet_cfg *a, const struct fleet_cfg *b);
