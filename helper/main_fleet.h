/* main_fleet.h: main.c's wiring of the fleet member (main_fleet.c). */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "engine.h"

struct fleet;

/* Without a "fleet" block: 0 and *out NULL. Otherwise creates and starts
 * the member and plugs it into *en (read again on every piece of news, so
 * it may be set after this returns). Negative errno, logged. */
int daemon_fleet_start(sd_event *e, const struct config *cfg, struct engine **en,
                       struct fleet **out);
/* The fleet view as `anycast-healthctl fleet` shows it; NULL with err for
 * a service neither here nor in the view. */
json_t *daemon_fleet_json(const struct fleet *f, struct engine *en, const char *service,
                          uint64_t now_usec, char *err, size_t errlen);
