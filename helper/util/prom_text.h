/* prom_text.h: pieces of the Prometheus text exposition (format 0.0.4)
 * shared by the operator's metrics and each speaker's own families: names
 * get the anycast_healthd_ prefix, every series carries pop="...". */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "duration_hist.h"

#define PROM_PREFIX "anycast_healthd_"

/* ,name="value" (no comma when first); escapes \, " and newline. */
void prom_label(FILE *f, const char *name, const char *value, bool first);
/* # HELP and # TYPE of a family. */
void prom_head(FILE *f, const char *name, const char *type, const char *help);
/* PREFIX name{pop="..",service=".." (service NULL: none); the caller adds
 * labels and closes with "} value". */
void prom_open_series(FILE *f, const char *name, const char *pop, const char *service);
/* usec as seconds with six decimals. */
void prom_seconds(FILE *f, uint64_t usec);
/* A one-series family: counter or gauge, with backend="..." when backend
 * is not NULL. */
void prom_counter(FILE *f, const char *name, const char *help, const char *pop, const char *backend,
                  uint64_t v);
void prom_gauge(FILE *f, const char *name, const char *help, const char *pop, int64_t v);
/* The series of one histogram (no HELP/TYPE: several may share a family);
 * labels(f, arg), when not NULL, adds labels after pop and service. */
void prom_histogram(FILE *f, const char *name, const char *pop, const char *service,
                    void (*labels)(FILE *f, const void *arg), const void *arg,
                    const struct duration_hist *h);
