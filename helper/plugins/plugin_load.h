/* plugin_load.h: finding, checking and loading check plugins by name.
 * A plugin is plugin_dir/NAME.so; it is loaded once and never unloaded
 * (collectd's rule: code a check may still point into never goes away). */
#pragma once
#include <stddef.h>

#include "anycast-healthd-check.h"

struct loaded_plugin;

struct plugin_registry {
        char *dir;
        struct loaded_plugin *list;
};

int plugin_registry_init(struct plugin_registry *reg, const char *dir);
void plugin_registry_done(struct plugin_registry *reg);

/* Returns 0 with *out set, or a negative errno with a one-line reason in
 * err (e.g. `plugin "x": ABI version 7, this daemon speaks 1`). */
int plugin_load(struct plugin_registry *reg, const char *name, const struct ahc_plugin **out,
                char *err, size_t errsz);
