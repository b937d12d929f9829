/* attrs.h: a route's BGP attributes (struct attrs), and owning copies of
 * them for the configuration (degraded and draining sets) and the
 * backends' tables. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* BGP attributes a route is announced with. */
struct attrs {
        char *next_hop;     /* "self" or an address */
        int64_t med;        /* -1 when unset */
        char **communities; /* "65001:53" */
        size_t n_communities;
        char **large_communities; /* "65001:0:53" */
        size_t n_large_communities;
        unsigned prepend; /* extra copies of the daemon's asn */
};

/* Frees what a holds and resets it to no attributes (med -1). */
void attrs_free(struct attrs *a);
/* A deep copy into dst (which holds nothing yet); -ENOMEM leaves dst empty. */
int attrs_copy(struct attrs *dst, const struct attrs *src);
