/* duration.h: the one duration syntax of the daemon file, service files
 * and plugin options. */
#pragma once
#include <stdint.h>

/* Parses "500ms", "2s", "1.5s", "1m", "1h", "250us" into microseconds: digits,
 * an optional fraction, a unit (us ms s m h); no sign, no spaces. -EINVAL on
 * bad input, -ERANGE when it does not fit 64 bits; *usec untouched then. */
int parse_duration(const char *s, uint64_t *usec);
