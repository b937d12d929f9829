/* fake_systemd.h: a stand-in for systemd's D-Bus interface on a private bus,
 * for testing the systemd check where no systemd runs as PID 1. It owns
 * org.freedesktop.systemd1 and serves what the plugin uses: Manager.GetUnit,
 * Manager.LoadUnit, Manager.Subscribe, and per unit an object at systemd's
 * path with org.freedesktop.systemd1.Unit Id, LoadState, ActiveState and
 * SubState, emitting PropertiesChanged (with values) when a state is set. */
#pragma once
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

struct fake_systemd;

/* Connects to the bus at address, attached to e, and requests the name
 * (synchronously: the name is ours when this returns 0). */
int fake_systemd_new(sd_event *e, const char *address, struct fake_systemd **out);
void fake_systemd_free(struct fake_systemd *f);
/* Creates the unit (LoadState "loaded") or changes its state; emits
 * PropertiesChanged and flushes, so the signal has left when this returns. */
int fake_systemd_set(struct fake_systemd *f, const char *unit, const char *active, const char *sub);
/* How many Subscribe calls arrived. */
unsigned fake_systemd_subscribers(const struct fake_systemd *f);

/* Starts dbus-daemon on a private socket in dir; *address gets its address
 * (free it), *pid the daemon. Returns 0 or a negative errno. */
int fake_bus_start(const char *dir, char **address, pid_t *pid);
void fake_bus_stop(pid_t pid);
