/* attrs.c: owning copies of a route's BGP attributes (attrs.h), for the
 * configuration (degraded and draining sets) and the backends' tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

void attrs_free(struct attrs *a)
{
        free(a->next_hop);
        strv_free(a->communities, a->n_communities);
        strv_free(a->large_communities, a->n_large_communities);
        *a = (struct attrs){.med = -1};
}

/* NULL-terminated, so a copy of an empty list is still an array. */
static int strv_dup(char **src, size_t n, char ***out)
{
        char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!(v[i] = strdup(src[i]))) {
                        strv_free(v, i);
                        return -ENOMEM;
                }
        }
        *out = v;
        return 0;
}

int attrs_copy(struct attrs *dst, const struct attrs *src)
{
        *dst = (struct attrs){.med = src->med, .prepend = src->prepend};
        if (src->next_hop && !(dst->next_hop = strdup(src->next_hop)))
                goto oom;
        if (strv_dup(src->communities, src->n_communities, &dst->communities) < 0)
                goto oom;
        dst->n_communities = src->n_communities;
        if (strv_dup(src->large_communities, src->n_large_communities, &dst->large_communities) < 0)
                goto oom;
        dst->n_large_communities = src->n_large_communities;
        return 0;
oom:
        attrs_free(dst);
        return -ENOMEM;
}
