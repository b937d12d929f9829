/* prefix.h: IPv4/IPv6 prefixes: parsing, formatting, containment. Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PREFIX_STRLEN 64

struct prefix {
        int family; /* AF_INET or AF_INET6 */
        uint8_t len;
        uint8_t addr[16]; /* network byte order; IPv4 uses the first 4 */
};

/* Parses "addr/len". Returns 0, or -EINVAL with *why set to a static
 * human-readable reason ("host bits set", "prefix length out of range"...). */
int prefix_parse(const char *s, struct prefix *out, const char **why);
/* Writes the canonical text form ("2001:db8::/32"). */
void prefix_format(const struct prefix *p, char buf[PREFIX_STRLEN]);
/* The same for a prefix that may not have come from prefix_parse, for
 * text that must not carry a malformed one (a speaker's command): -EINVAL
 * with buf "?" when p is NULL, its family is neither AF_INET nor AF_INET6
 * or its length does not fit the family; else 0. */
int prefix_format_checked(const struct prefix *p, char buf[PREFIX_STRLEN]);
/* True when inner lies entirely within outer (same family). */
bool prefix_contains(const struct prefix *outer, const struct prefix *inner);
bool prefix_equal(const struct prefix *a, const struct prefix *b);
/* A total order (family, address, length) for sorted tables and files. */
int prefix_cmp(const struct prefix *a, const struct prefix *b);
