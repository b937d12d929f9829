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

/* The protocol named in "... [NAME 17:26:54.987] ...": canary or not. */
static bool canary_proto(const char *t)
{
        const char *br = strchr(t, '[');
        return br && strncmp(br + 1, BIRD_RIB_CANARY_PROTO, strlen(BIRD_RIB_CANARY_PROTO)) == 0;
}

int bird_rib_read(struct bird_rib_reader *rd, const struct birdctl_line *l, struct prefix *out,
                  bool *canary)
{
        if (l->code != CODE_ROUTE_LIST || l->kind == BIRDCTL_LINE_ASYNC)
                return 0; /* attribute lines (1008, 1012) keep the last prefix */
        if (bird_rib_route_line(l, out)) {
                rd->last = *out;
                rd->have_last = true;
                *canary = canary_proto(l->text);
                return 1;
        }
        /* a further route of the last prefix: blanks, then its text */
        const char *t = l->text;
        size_t ws = strspn(t, " \t");
        if (ws > 0 && rd->have_last && t[ws] && strchr(t + ws, '[')) {
                *out = rd->last;
                *canary = canary_proto(t + ws);
                return 1;
        }
        rd->have_last = false; /* a table header, a blank line */
        return 0;
}
