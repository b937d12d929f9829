/* reconcile.c: the drift clock and the held-prefix set of reconcile.h. */
#include <errno.h>
#include <stdlib.h>

#include "reconcile.h"

enum reconcile_event reconcile_note(struct reconcile_track *t, bool differs, uint64_t now,
                                    uint64_t stuck_after)
{
        if (!differs) {
                bool was = t->state != RECONCILE_OK;
                *t = (struct reconcile_track){0};
                return was ? RECONCILE_RECOVERED : RECONCILE_SAME;
        }
        if (t->state == RECONCILE_OK) {
                t->state = RECONCILE_DRIFT;
                t->since = now;
                return RECONCILE_DRIFTED;
        }
        if (t->state == RECONCILE_DRIFT && now >= t->since + stuck_after) {
                t->state = RECONCILE_STUCK;
                return RECONCILE_BECAME_STUCK;
        }
        return RECONCILE_SAME;
}

const char *reconcile_state_name(enum reconcile_state s)
{
        switch (s) {
        case RECONCILE_OK:
                return "confirmed";
        case RECONCILE_DRIFT:
                return "drift";
        case RECONCILE_STUCK:
                return "stuck";
        }
        return "?";
}

int reconcile_set_add(struct reconcile_set *s, const struct prefix *p)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                struct prefix *v = reallocarray(s->v, cap, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                s->v = v;
                s->cap = cap;
        }
        /* the key only: a prefix from a parser may carry bytes past its length */
        struct prefix k = {.family = p->family, .len = p->len};
        size_t bytes = (p->len + 7u) / 8u;
        for (size_t i = 0; i < bytes && i < sizeof(k.addr); i++)
                k.addr[i] = p->addr[i];
        if (p->len % 8 && bytes <= sizeof(k.addr))
                k.addr[bytes - 1] &= (uint8_t)(0xffu << (8 - p->len % 8));
        s->v[s->n++] = k;
        return 0;
}

static int cmp(const void *a, const void *b)
{
        return prefix_cmp(a, b);
}

void reconcile_set_seal(struct reconcile_set *s)
{
        if (s->n < 2)
                return;
        qsort(s->v, s->n, sizeof(*s->v), cmp);
        size_t w = 1;
        for (size_t r = 1; r < s->n; r++)
                if (prefix_cmp(&s->v[r], &s->v[w - 1]) != 0)
                        s->v[w++] = s->v[r];
        s->n = w;
}

bool reconcile_set_has(const struct reconcile_set *s, const struct prefix *p)
{
        size_t lo = 0, hi = s->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = prefix_cmp(&s->v[mid], p);
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

void reconcile_set_clear(struct reconcile_set *s)
{
        s->n = 0;
}

void reconcile_set_free(struct reconcile_set *s)
{
        free(s->v);
        *s = (struct reconcile_set){0};
}
