/* engine_notify.h: what the engine tells the outside about transitions
 * (engine_notify.c). */
#pragma once
#include <stddef.h>

struct engine;

/* "12 up, 1 degraded, 0 down, 1 disabled" (plus draining and unknown when
 * any): the STATUS= line the engine sends to systemd on changes. */
void engine_status_line(struct engine *en, char *buf, size_t size);
