/* bird_render.h: the text of a BIRD include file of static routes, one per
 * address family, from the routes anycast-healthd wants announced. Pure:
 * no I/O, no clocks. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "prefix.h"

struct bird_route {
        struct prefix prefix;
        /* Attributes to render; NULL for none. Ignored when raw is set. */
        const struct attrs *attrs;
        /* Text after the prefix, verbatim, as found in a file we wrote
         * earlier (" blackhole { ... };"): routes adopted at start until the
         * engine decides them. NULL for rendered routes. */
        const char *raw;
};

/* Renders the include file for family (AF_INET or AF_INET6) from the
 * routes of that family in routes[0..n) (others are skipped), in the order
 * given. asn is prepended attrs->prepend times. An empty set gives a file
 * with a comment only. Returns 0 with *out a malloc'd NUL-terminated
 * string, -EINVAL (with *why set) when an attribute cannot be rendered
 * safely (bad community text, prepend without asn, MED out of range), or
 * -ENOMEM. */
int bird_render(int family, const struct bird_route *routes, size_t n, uint32_t asn, char **out,
                const char **why);

/* bird_render for the main file (canary false) or the canary file beside
 * it (canary true: routes on trial; only its comment differs). */
int bird_render_file(int family, bool canary, const struct bird_route *routes, size_t n,
                     uint32_t asn, char **out, const char **why);

/* Parses one line of a file bird_render wrote: "route PREFIX REST" with
 * REST ending in ';'. Returns 0 and fills *prefix and *rest_off (offset of
 * REST in line), or -EINVAL for comments, blank lines and anything else. */
int bird_render_parse_line(const char *line, struct prefix *prefix, size_t *rest_off);
