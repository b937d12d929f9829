/* timerq.c: a binary min-heap of deadlines behind one sd-event timer (or
 * behind a clock that fires it itself, in tests). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "event_priority.h"
#include "timerq.h"

#define NOT_QUEUED ((size_t)-1)

struct timerq {
        sd_event *e;
        struct clock *clk;
        sd_event_source *timer; /* NULL when clk drives the queue */
        struct timerq_item **heap;
        size_t n, cap;
        uint64_t armed; /* what the timer is set to; UINT64_MAX when off */
        bool dispatching;
};

void timerq_item_init(struct timerq_item *it, timerq_fire_fn fire)
{
        *it = (struct timerq_item){.due = 0, .idx = NOT_QUEUED, .fire = fire};
}

static void swap(struct timerq *s, size_t a, size_t b)
{
        struct timerq_item *t = s->heap[a];
        s->heap[a] = s->heap[b];
        s->heap[b] = t;
        s->heap[a]->idx = a;
        s->heap[b]->idx = b;
}

static void sift_up(struct timerq *s, size_t i)
{
        while (i > 0) {
                size_t p = (i - 1) / 2;
                if (s->heap[p]->due <= s->heap[i]->due)
                        break;
                swap(s, i, p);
                i = p;
        }
}

static void sift_down(struct timerq *s, size_t i)
{
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < s->n && s->heap[l]->due < s->heap[m]->due)
                        m = l;
                if (r < s->n && s->heap[r]->due < s->heap[m]->due)
                        m = r;
                if (m == i)
                        return;
                swap(s, i, m);
                i = m;
        }
}

static void heap_remove(struct timerq *s, struct timerq_item *it)
{
        size_t i = it->idx;
        s->n--;
        if (i != s->n) {
                s->heap[i] = s->heap[s->n];
                s->heap[i]->idx = i;
                sift_down(s, i);
                sift_up(s, i);
        }
        it->idx = NOT_QUEUED;
}

/* Points the shared timer at the earliest item (not while dispatching:
 * the dispatch re-arms once at its end). */
static void rearm(struct timerq *s)
{
        if (s->dispatching || !s->timer)
                return;
        if (s->n == 0) {
                if (s->armed != UINT64_MAX)
                        sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
                s->armed = UINT64_MAX;
                return;
        }
        if (s->armed == s->heap[0]->due)
                return;
        s->armed = s->heap[0]->due;
        sd_event_source_set_time(s->timer, s->armed);
        sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

size_t timerq_run_due(struct timerq *s, uint64_t now)
{
        size_t fired = 0;

        s->dispatching = true;
        /* Items still due after a route change fire in the next dispatch
         * (the timer is rearmed for now), after the commit. */
        while (s->n > 0 && s->heap[0]->due <= now && !ev_route_pending()) {
                struct timerq_item *it = s->heap[0];
                heap_remove(s, it);
                it->fire(it, now);
                fired++;
        }
        s->dispatching = false;
        rearm(s);
        return fired;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct timerq *s = userdata;
        uint64_t now = usec;

        /* The iteration's time, read once: cheaper than the clock per item,
         * and the same CLOCK_MONOTONIC. */
        if (sd_event_now(s->e, CLOCK_MONOTONIC, &now) < 0)
                now = usec;
        s->armed = UINT64_MAX; /* a ONESHOT timer is off once it fired */
        timerq_run_due(s, now);
        return 0;
}

int timerq_new(sd_event *e, struct clock *clk, uint64_t accuracy_usec, struct timerq **out)
{
        struct timerq *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->e = sd_event_ref(e);
        s->clk = clk;
        s->armed = UINT64_MAX;
        if (clk->attach) {
                int r = clk->attach(clk, s);
                if (r < 0) {
                        s->clk = NULL;
                        timerq_free(s);
                        return r;
                }
                *out = s;
                return 0;
        }
        int r = sd_event_add_time(e, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, accuracy_usec,
                                  on_timer, s);
        if (r < 0) {
                timerq_free(s);
                return r;
        }
        sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        *out = s;
        return 0;
}

int timerq_set_priority(struct timerq *s, int64_t priority)
{
        return s->timer ? sd_event_source_set_priority(s->timer, priority) : 0;
}

void timerq_free(struct timerq *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                s->heap[i]->idx = NOT_QUEUED;
        free(s->heap);
        if (s->clk && s->clk->detach)
                s->clk->detach(s->clk, s);
        sd_event_source_disable_unref(s->timer);
        sd_event_unref(s->e);
        free(s);
}

int timerq_put(struct timerq *s, struct timerq_item *it, uint64_t due)
{
        if (timerq_item_queued(it)) {
                uint64_t old = it->due;
                it->due = due;
                if (due < old)
                        sift_up(s, it->idx);
                else
                        sift_down(s, it->idx);
        } else {
                if (s->n == s->cap) {
                        size_t cap = s->cap ? s->cap * 2 : 64;
                        struct timerq_item **h = realloc(s->heap, cap * sizeof(*h));
                        if (!h)
                                return -ENOMEM;
                        s->heap = h;
                        s->cap = cap;
                }
                it->due = due;
                it->idx = s->n;
                s->heap[s->n++] = it;
                sift_up(s, it->idx);
        }
        rearm(s);
        return 0;
}

void timerq_cancel(struct timerq *s, struct timerq_item *it)
{
        if (!timerq_item_queued(it))
                return;
        heap_remove(s, it);
        rearm(s);
}

size_t timerq_count(const struct timerq *s)
{
        return s->n;
}

uint64_t timerq_next_due(const struct timerq *s)
{
        return s->n ? s->heap[0]->due : UINT64_MAX;
}
