/* plugin_loop.h: the event-loop services of struct ahc_host (io, timers,
 * child processes) on sd-event, for loop-safe plugins in the daemon. The
 * ABI passes no context to them, so they act on one process-wide loop. */
#pragma once
#include <systemd/sd-event.h>

#include "anycast-healthd-check.h"

/* Sets the loop (NULL: the services fail with -ENOTCONN). */
void plugin_loop_set(sd_event *e);
sd_event *plugin_loop_get(void);

int plugin_loop_io_add(int fd, uint32_t events, ahc_io_cb cb, void *userdata, struct ahc_io **out);
int plugin_loop_io_set_events(struct ahc_io *io, uint32_t events);
void plugin_loop_io_free(struct ahc_io *io);
int plugin_loop_timer_add(uint64_t usec_from_now, ahc_timer_cb cb, void *userdata,
                          struct ahc_timer **out);
void plugin_loop_timer_free(struct ahc_timer *t);
int plugin_loop_child_add(pid_t pid, ahc_child_cb cb, void *userdata, struct ahc_child **out);
void plugin_loop_child_free(struct ahc_child *c);
uint64_t plugin_loop_now_usec(void);
