/* bird_rib.c: the route lines of BIRD's listing (bird_rib.h). */
#include <string.h>

#include "bird_rib.h"

#define CODE_ROUTE_LIST 1007

int bird_rib_route_line(const struct birdctl_line *l, struct prefix *out)
{
        if (l->code != CODE_ROUTE_LIST || l->kind == BIRDCTL_LINE_ASYNC)
                return 0;
        const char *t = l->text;
        size_t n = strcspn(t, " \t");
        char tok[PREFIX_STRLEN];
        if (n == 0 || n >= sizeof(tok) || !memchr(t, '/', n))
                return 0;
        memcpy(tok, t, n);
        tok[n] = '\0';
        const char *why;
        return prefix_parse(tok, out, &why) == 0 ? 1 : 0;
}
