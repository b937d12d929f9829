/* exabgp_backend.c: the ExaBGP backend, the I/O edge on sd-event.
 *
 * ExaBGP runs us as its process: it reads API commands from our stdout and
 * writes acks and JSON events to our stdin. Two rules shape this file:
 * - our stdout is non-blocking with an output queue, so an ExaBGP that
 *   reads slowly never stalls the daemon's loop;
 * - stdin is read whatever happens, because ExaBGP writes to us blocking and
 *   freezes (sessions and all) once our stdin pipe is full.
 * With acks on, every command gets exactly one "done" or "error", in order:
 * they are matched FIFO to the commands written. A refused command is
 * retried with backoff while it is still what we want for its prefix; a
 * command superseded by a newer one is never resent, so no withdraw goes out
 * that the engine did not ask for (ExaBGP puts every withdraw on the wire).
 *
 * exabgp.api picks the syntax (exabgp_render.c). With 6 the first line we
 * write is exabgp_session_start()'s, which sets ExaBGP's acks for us to
 * exabgp.ack whatever ExaBGP was configured with; its "done" (acks on) is
 * matched FIFO like any other, against an entry that states no route. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "config_canary.h"
#include "exabgp_backend.h"
#include "exabgp_config.h"
#include "event_priority.h"
#include "timerq.h"
#include "exabgp_proto.h"
#include "exabgp_render.h"
#include "exabgp_rib.h"
#include "log.h"
#include "prefix.h"
#include "reconcile_report.h"
#include "exabgp_watchdog.h"

#define BACKOFF_INITIAL_USEC (1ULL * 1000 * 1000)
#define BACKOFF_MAX_USEC     (30ULL * 1000 * 1000)
/* Pending acks beyond this mean ExaBGP does not ack (api.ack false while
 * exabgp.ack is true): stop remembering the oldest. */
#define MAX_PENDING_ACKS   65536
#define READS_PER_DISPATCH 16
#define GARBAGE_WARNINGS   5
#define NEIGHBORS_MAX      1024
/* How long a stop waits for ExaBGP to answer the commands already written. */
#define STOP_WAIT_USEC (2ULL * 1000 * 1000)
/* The last lines before _exit: time for the log writer to put them out. */
#define LOG_FLUSH_USEC (500ULL * 1000)

struct route {
        struct backend *b;
        struct prefix prefix;
        char *service;
        enum route_action desired;
        char *cmd;             /* the command for desired, without newline */
        uint64_t gen;          /* bumped whenever desired changes */
        uint64_t decided_usec; /* when the engine decided desired; 0 once reported */
        enum exabgp_route_sync sync;
        unsigned failures;
        uint64_t backoff_usec;
        struct timerq_item retry;  /* on b->timers */
        struct reconcile_track rc; /* in ExaBGP's adj-rib-out as asked? */
        /* The canary. audience: of desired ROUTE_ANNOUNCE; trial: with
         * AUDIENCE_CANARIES, its neighbours (our copies). heard: the
         * canary neighbours that got an announce since the last withdraw,
         * heard_all: a plain announce went out since then; a withdraw goes
         * to heard only, unless heard_all (or nothing is known). */
        enum audience audience;
        struct canary_cfg trial;
        struct canary_cfg heard;
        bool heard_all;
        /* the listing: held by a neighbour of trial; by others (with
         * AUDIENCE_CANARIES: these, to withdraw it from) */
        bool seen_canary, seen_other;
        struct canary_cfg others;
};

/* A command queued or written, oldest first. */
struct sent {
        struct route *route; /* NULL: a line of our own, no route's (session start, query) */
        bool query;          /* the reconciliation's listing */
        bool aux;            /* a repair's withdraw from some peers: its ack changes nothing */
        uint64_t gen;
        uint64_t end; /* output stream offset just past its newline */
        uint64_t decided_usec;
        char *cmd;
};

struct neighbor {
        char peer[64];
        enum exabgp_peer_state state;
};

struct backend {
        sd_event *e;
        struct clock *clk;
        struct timerq *timers; /* retries and the stop's bound */
        struct backend_hooks hooks;
        char *pop;
        uint32_t asn;
        bool ack;
        enum exabgp_api api;

        int in_fd, out_fd;
        sd_event_source *in_src, *out_src;
        struct exabgp_lines lines;
        char rbuf[64 * 1024];

        char *obuf; /* bytes [ooff, olen) still to write */
        size_t olen, ooff, ocap;
        bool mid_line; /* the pipe has taken part of a line, not yet its end */
        uint64_t queued_total, written_total;

        /* sent[head, n): awaiting write or ack; sent[head, wcur) are written */
        struct sent *sent;
        size_t sent_head, sent_wcur, sent_n, sent_cap;

        struct route **routes; /* sorted by prefix */
        size_t n_routes, cap_routes;

        struct neighbor *nbrs; /* sorted by peer */
        size_t n_nbrs, cap_nbrs;
        bool warned_nbrs;

        uint64_t backoff_initial, backoff_max;
        bool gone, stopping;
        void (*stop_done)(void *);
        void *stop_userdata;
        uint64_t stop_wait_usec;
        struct timerq_item stop_timer; /* bounds the wait for the last acks */
        bool stop_wait_over;
        unsigned garbage;
        bool warned_acks, warned_unexpected_ack;
        /* ExaBGP 6's "error: WHY" before the "error" it explains; "" once
         * the next ack has taken it */
        char refusal[256];
        struct exabgp_stats stats;

        /* Reconciliation (its section below). */
        uint64_t reconcile_interval, stuck_after; /* 0: off */
        struct timerq_item reconcile_due;
        bool querying;             /* the listing's lines are coming */
        uint64_t changes;          /* route changes queued so far */
        uint64_t query_changes;    /* changes when the listing was asked for */
        struct reconcile_set held; /* our prefixes ExaBGP listed */
        uint64_t drift_total, passes, last_repair;
        uint64_t query_busy, query_busy_max; /* loop time reading the listing */

        /* The watchdog's thread reads routes and the output stream when it
         * fires: everything that changes them holds the lock (taken at the
         * backend's entry points; recursive, as they call each other). */
        pthread_mutex_t lock;
        struct loop_watchdog *watchdog;
        uint64_t watchdog_usec;
};

const struct exabgp_stats *backend_exabgp_stats(const struct backend *b)
{
        return &b->stats;
}

const char *exabgp_route_sync_name(enum exabgp_route_sync s)
{
        switch (s) {
        case EXABGP_SYNC_QUEUED:
                return "queued";
        case EXABGP_SYNC_WRITTEN:
                return "sent";
        case EXABGP_SYNC_CONFIRMED:
                return "confirmed by speaker";
        case EXABGP_SYNC_REJECTED:
                return "rejected by speaker";
        }
        return "?";
}

static const char *action_word(enum route_action a)
{
        return a == ROUTE_ANNOUNCE ? "announce" : "withdraw";
}

/* ---- routes ---- */

/* Index of p in routes, or where it would go (*found false). */
static size_t route_find(struct backend *b, const struct prefix *p, bool *found)
{
        size_t lo = 0, hi = b->n_routes;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = prefix_cmp(&b->routes[mid]->prefix, p);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

/* IPv4 prefixes compare by memcmp over all 16 bytes: zero the unused ones
 * whatever the caller left there. */
static struct prefix prefix_key(const struct prefix *p)
{
        struct prefix k = *p;
        if (k.family == AF_INET)
                memset(k.addr + 4, 0, sizeof(k.addr) - 4);
        return k;
}

static void on_retry(struct timerq_item *it, uint64_t now);

static struct route *route_get(struct backend *b, const struct prefix *p)
{
        struct prefix key = prefix_key(p);
        bool found;
        size_t i = route_find(b, &key, &found);
        if (found)
                return b->routes[i];
        if (b->n_routes == b->cap_routes) {
                size_t cap = b->cap_routes ? b->cap_routes * 2 : 16;
                struct route **n = realloc(b->routes, cap * sizeof(*n));
                if (!n)
                        return NULL;
                b->routes = n;
                b->cap_routes = cap;
        }
        struct route *r = calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        r->b = b;
        r->prefix = key;
        r->desired = ROUTE_NONE;
        r->backoff_usec = b->backoff_initial;
        timerq_item_init(&r->retry, on_retry);
        memmove(b->routes + i + 1, b->routes + i, (b->n_routes - i) * sizeof(*b->routes));
        b->routes[i] = r;
        b->n_routes++;
        return r;
}

static void peers_clear(struct canary_cfg *c)
{
        for (size_t i = 0; i < c->n_neighbors; i++)
                free(c->neighbors[i]);
        free(c->neighbors);
        *c = (struct canary_cfg){0};
}

/* Adds those of from[0..n) not yet in c; -ENOMEM leaves c as it was. */
static int peers_add(struct canary_cfg *c, char *const *from, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (canary_cfg_has(c, from[i]))
                        continue;
                char **nv = realloc(c->neighbors, (c->n_neighbors + 2) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                c->neighbors = nv;
                if (!(nv[c->n_neighbors] = strdup(from[i])))
                        return -ENOMEM;
                nv[++c->n_neighbors] = NULL;
        }
        return 0;
}

static void route_free(struct route *r)
{
        timerq_cancel(r->b->timers, &r->retry);
        peers_clear(&r->trial);
        peers_clear(&r->heard);
        peers_clear(&r->others);
        free(r->service);
        free(r->cmd);
        free(r);
}

/* ---- output ---- */

static void speaker_gone(struct backend *b, const char *why);
static void read_input(struct backend *b, int fd);
static void reconcile_soon(struct backend *b);
static void on_listing_done(struct backend *b, bool ok);
static void on_reconcile_due(struct timerq_item *it, uint64_t now);

static void sent_compact(struct backend *b)
{
        if (b->sent_head == b->sent_n) {
                b->sent_head = b->sent_wcur = b->sent_n = 0;
        } else if (b->sent_head > b->sent_cap / 2) {
                memmove(b->sent, b->sent + b->sent_head,
                        (b->sent_n - b->sent_head) * sizeof(*b->sent));
                b->sent_wcur -= b->sent_head;
                b->sent_n -= b->sent_head;
                b->sent_head = 0;
        }
}

static void sent_pop(struct backend *b)
{
        free(b->sent[b->sent_head].cmd);
        b->sent_head++;
        if (b->sent_wcur < b->sent_head)
                b->sent_wcur = b->sent_head;
        sent_compact(b);
}

static int obuf_append(struct backend *b, const char *s, size_t n)
{
        if (b->ooff > 0 && b->ooff == b->olen)
                b->ooff = b->olen = 0;
        if (b->olen + n > b->ocap) {
                if (b->ooff > 0) {
                        memmove(b->obuf, b->obuf + b->ooff, b->olen - b->ooff);
                        b->olen -= b->ooff;
                        b->ooff = 0;
                }
                if (b->olen + n > b->ocap) {
                        size_t cap = b->ocap ? b->ocap : 4096;
                        while (cap < b->olen + n)
                                cap *= 2;
                        char *nb = realloc(b->obuf, cap);
                        if (!nb)
                                return -ENOMEM;
                        b->obuf = nb;
                        b->ocap = cap;
                }
        }
        memcpy(b->obuf + b->olen, s, n);
        b->olen += n;
        b->queued_total += n;
        return 0;
}

/* Queues cmd as one line: r's current command, or with r NULL a line of
 * our own. */
static int enqueue_line(struct backend *b, struct route *r, const char *cmd)
{
        if (b->gone)
                return -EPIPE;
        if (b->sent_n == b->sent_cap) {
                size_t cap = b->sent_cap ? b->sent_cap * 2 : 64;
                struct sent *n = realloc(b->sent, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                b->sent = n;
                b->sent_cap = cap;
        }
        char *copy = strdup(cmd);
        if (!copy)
                return -ENOMEM;
        size_t len = strlen(cmd);
        if (obuf_append(b, cmd, len) < 0 || obuf_append(b, "\n", 1) < 0) {
                /* the partial line would corrupt the stream: take it back */
                free(copy);
                log_err("exabgp: out of memory queueing '%s'", cmd);
                return -ENOMEM;
        }
        b->sent[b->sent_n++] = (struct sent){.route = r,
                                             .gen = r ? r->gen : 0,
                                             .end = b->queued_total,
                                             .decided_usec = r ? r->decided_usec : 0,
                                             .cmd = copy};
        if (r) {
                r->decided_usec = 0; /* a retry is not a new decision */
                r->sync = EXABGP_SYNC_QUEUED;
        }
        return 0;
}

static int enqueue(struct backend *b, struct route *r)
{
        return enqueue_line(b, r, r->cmd);
}

/* Moves commands the pipe has taken from "queued" to "written". */
static void mark_written(struct backend *b)
{
        uint64_t now = 0;
        while (b->sent_wcur < b->sent_n && b->sent[b->sent_wcur].end <= b->written_total) {
                struct sent *s = &b->sent[b->sent_wcur];
                if (s->route && s->route->gen == s->gen && s->route->sync == EXABGP_SYNC_QUEUED)
                        s->route->sync = EXABGP_SYNC_WRITTEN;
                if (s->decided_usec && b->hooks.route_sent) {
                        if (!now)
                                now = clock_now(b->clk);
                        b->hooks.route_sent(b->hooks.userdata,
                                            now > s->decided_usec ? now - s->decided_usec : 0);
                }
                b->sent_wcur++;
                b->stats.commands++;
        }
        if (!b->ack) {
                /* nothing will ever answer: forget what is written */
                while (b->sent_head < b->sent_wcur)
                        sent_pop(b);
        } else if (b->sent_n - b->sent_head > MAX_PENDING_ACKS) {
                if (!b->warned_acks) {
                        log_warning("exabgp: %d commands without an ack: is ExaBGP's api.ack "
                                    "off? Set exabgp.ack to false to match",
                                    MAX_PENDING_ACKS);
                        b->warned_acks = true;
                }
                while (b->sent_n - b->sent_head > MAX_PENDING_ACKS && b->sent_head < b->sent_wcur)
                        sent_pop(b);
        }
}

/* A stop is complete once ExaBGP has everything and, with acks on, has
 * answered it (bounded by stop_wait_usec). Waiting for the answers matters:
 * ExaBGP sends acks to the process *name*, so an ack still owed when we exit
 * reaches the instance ExaBGP respawns and would shift its FIFO by one. */
static void maybe_stop_done(struct backend *b)
{
        if (!b->stop_done)
                return;
        if (!b->gone && b->ooff < b->olen)
                return;
        if (!b->gone && b->ack && b->sent_head < b->sent_n && !b->stop_wait_over)
                return;
        void (*done)(void *) = b->stop_done;
        b->stop_done = NULL;
        timerq_cancel(b->timers, &b->stop_timer);
        done(b->stop_userdata);
}

static void on_stop_timer(struct timerq_item *it, uint64_t now)
{
        struct backend *b = (struct backend *)((char *)it - offsetof(struct backend, stop_timer));
        if (b->sent_head < b->sent_n)
                log_warning("exabgp: stopping without ExaBGP's answer to %zu command(s)",
                            b->sent_n - b->sent_head);
        b->stop_wait_over = true;
        maybe_stop_done(b);
}

static void flush(struct backend *b)
{
        while (!b->gone && b->ooff < b->olen) {
                ssize_t n = write(b->out_fd, b->obuf + b->ooff, b->olen - b->ooff);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        if (errno == EPIPE) {
                                speaker_gone(b, "ExaBGP closed our stdout");
                        } else {
                                log_err("exabgp: writing commands failed: %m");
                                speaker_gone(b, "writing to ExaBGP failed");
                        }
                        return;
                }
                b->ooff += (size_t)n;
                b->written_total += (uint64_t)n;
                b->mid_line = b->obuf[b->ooff - 1] != '\n';
        }
        mark_written(b);
        if (b->ooff == b->olen)
                b->ooff = b->olen = 0;
        if (b->out_src)
                sd_event_source_set_enabled(b->out_src,
                                            b->ooff < b->olen ? SD_EVENT_ON : SD_EVENT_OFF);
        maybe_stop_done(b);
}

static int on_out(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct backend *b = userdata;
        pthread_mutex_lock(&b->lock);
        flush(b);
        pthread_mutex_unlock(&b->lock);
        return 0;
}

/* ---- acks and events ---- */

static void on_retry(struct timerq_item *it, uint64_t now)
{
        struct route *r = (struct route *)((char *)it - offsetof(struct route, retry));
        struct backend *b = r->b;

        pthread_mutex_lock(&b->lock);
        if (!b->gone && !b->stopping) {
                log_debug("exabgp: retrying '%s' (attempt %u)", r->cmd, r->failures + 1);
                if (enqueue(b, r) == 0)
                        flush(b);
        }
        pthread_mutex_unlock(&b->lock);
}

static void schedule_retry(struct backend *b, struct route *r)
{
        if (b->gone || b->stopping || timerq_item_queued(&r->retry))
                return;
        int ret = timerq_put(b->timers, &r->retry, clock_now(b->clk) + r->backoff_usec);
        if (ret < 0) {
                log_err("exabgp: cannot schedule a retry of '%s': %s", r->cmd, strerror(-ret));
                return;
        }
        r->backoff_usec =
            r->backoff_usec * 2 > b->backoff_max ? b->backoff_max : r->backoff_usec * 2;
}

/* ": WHY" when ExaBGP said why it refused, else "". */
static const char *why(const struct backend *b, char *buf, size_t size)
{
        snprintf(buf, size, "%s%s", b->refusal[0] ? ": " : "", b->refusal);
        return buf;
}

static void on_ack(struct backend *b, bool ok)
{
        char reason[sizeof(b->refusal) + 2];
        why(b, reason, sizeof(reason));
        b->refusal[0] = '\0'; /* it explains this ack and no later one */
        if (!b->ack) {
                log_debug("exabgp: ignoring an ack (exabgp.ack is false)");
                return;
        }
        if (b->sent_head == b->sent_n) {
                if (!b->warned_unexpected_ack) {
                        log_warning("exabgp: got '%s' with no command awaiting an ack",
                                    ok ? "done" : "error");
                        b->warned_unexpected_ack = true;
                }
                return;
        }
        struct sent *s = &b->sent[b->sent_head];
        struct route *r = s->route;
        char pfx[PREFIX_STRLEN];

        if (ok)
                b->stats.acks_done++;
        else
                b->stats.acks_error++;

        if (s->aux) {
                if (!ok)
                        log_warning("exabgp: ExaBGP refused '%s'%s", s->cmd, reason);
        } else if (s->query) {
                /* popped first: the pass may queue repairs */
                sent_pop(b);
                on_listing_done(b, ok);
                maybe_stop_done(b);
                return;
        } else if (!r) {
                /* our session start: an ExaBGP that does not know it does
                 * not know the rest of API 6 either */
                if (ok)
                        log_debug("exabgp: ExaBGP accepted '%s'", s->cmd);
                else
                        log_err("exabgp: ExaBGP refused '%s'%s: exabgp.api is 6, is this "
                                "ExaBGP 6 with exabgp.api.version 6 or unset?",
                                s->cmd, reason);
        } else if (r->gen != s->gen) {
                /* superseded: whatever became of it, it is not retried */
                if (!ok)
                        log_warning("exabgp: ExaBGP refused '%s'%s (already superseded)", s->cmd,
                                    reason);
        } else if (ok) {
                if (r->failures > 0) {
                        prefix_format_checked(&r->prefix, pfx);
                        log_notice("exabgp: ExaBGP accepted %s %s after %u refusals",
                                   action_word(r->desired), pfx, r->failures);
                }
                r->sync = EXABGP_SYNC_CONFIRMED;
                r->failures = 0;
                r->backoff_usec = b->backoff_initial;
                reconcile_soon(b); /* after each applied change */
        } else {
                r->failures++;
                r->sync = EXABGP_SYNC_REJECTED;
                if (r->failures == 1)
                        log_err("exabgp: ExaBGP refused '%s'%s (service %s, pop %s)%s", s->cmd,
                                reason, r->service ? r->service : "?", b->pop,
                                b->stopping ? "" : "; retrying with backoff");
                else
                        log_debug("exabgp: ExaBGP refused '%s' again (%u times)%s", s->cmd,
                                  r->failures, reason);
                schedule_retry(b, r);
        }
        sent_pop(b);
        maybe_stop_done(b);
}

/* The neighbor table only de-duplicates state logs, but its keys come from
 * ExaBGP's events: sorted for a binary search, and bounded, so a stream of
 * made-up peers can neither grow it nor slow each event down. */
static struct neighbor *neighbor_get(struct backend *b, const char *peer)
{
        size_t lo = 0, hi = b->n_nbrs;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(b->nbrs[mid].peer, peer);
                if (c == 0)
                        return &b->nbrs[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (b->n_nbrs >= NEIGHBORS_MAX) {
                if (!b->warned_nbrs)
                        log_warning("exabgp: more than %d neighbors; not tracking the state of "
                                    "more",
                                    NEIGHBORS_MAX);
                b->warned_nbrs = true;
                return NULL;
        }
        if (b->n_nbrs == b->cap_nbrs) {
                size_t cap = b->cap_nbrs ? b->cap_nbrs * 2 : 8;
                struct neighbor *n = realloc(b->nbrs, cap * sizeof(*n));
                if (!n)
                        return NULL;
                b->nbrs = n;
                b->cap_nbrs = cap;
        }
        memmove(b->nbrs + lo + 1, b->nbrs + lo, (b->n_nbrs - lo) * sizeof(*b->nbrs));
        b->stats.neighbors = ++b->n_nbrs;
        struct neighbor *nb = &b->nbrs[lo];
        *nb = (struct neighbor){.state = EXABGP_PEER_UNKNOWN};
        snprintf(nb->peer, sizeof(nb->peer), "%s", peer);
        return nb;
}

static void on_state(struct backend *b, const struct exabgp_msg *m)
{
        struct neighbor *nb = neighbor_get(b, m->peer);
        if (!nb)
                return;
        if (nb->state == m->state)
                return;
        nb->state = m->state;
        const char *peer = m->peer[0] ? m->peer : "?";
        switch (m->state) {
        case EXABGP_PEER_UP:
                log_notice("exabgp: neighbor %s up", peer);
                break;
        case EXABGP_PEER_DOWN:
                log_warning("exabgp: neighbor %s down%s%s", peer, m->reason[0] ? ": " : "",
                            m->reason);
                break;
        case EXABGP_PEER_CONNECTED:
                log_info("exabgp: neighbor %s connected", peer);
                break;
        case EXABGP_PEER_UNKNOWN:
                log_info("exabgp: neighbor %s in an unknown state", peer);
                break;
        }
}

/* Which neighbour the listing shows holding p: what a route on trial is
 * judged by. */
static void listed_at(struct backend *b, const struct prefix *p, const char *peer)
{
        struct prefix key = prefix_key(p);
        bool found;
        size_t i = route_find(b, &key, &found);
        if (!found)
                return;
        struct route *r = b->routes[i];
        if (r->audience == AUDIENCE_CANARIES && canary_cfg_has(&r->trial, peer)) {
                r->seen_canary = true;
                return;
        }
        r->seen_other = true;
        unsigned char bin[16];
        /* only an address goes into a command (exabgp_rib_line checked it) */
        if (r->audience == AUDIENCE_CANARIES && !canary_cfg_has(&r->others, peer) &&
            (inet_pton(AF_INET, peer, bin) == 1 || inet_pton(AF_INET6, peer, bin) == 1)) {
                char *one[] = {(char *)peer};
                if (peers_add(&r->others, one, 1) < 0)
                        log_err("exabgp: reconcile: out of memory for the listing");
        }
}

static void on_line(void *userdata, char *line, size_t len)
{
        struct backend *b = userdata;
        struct exabgp_msg m;

        if (b->gone)
                return;
        exabgp_classify(line, len, &m);
        switch (m.kind) {
        case EXABGP_MSG_EMPTY:
        case EXABGP_MSG_IGNORED:
                break;
        case EXABGP_MSG_DONE:
                on_ack(b, true);
                break;
        case EXABGP_MSG_ERROR:
                on_ack(b, false);
                break;
        case EXABGP_MSG_REFUSAL:
                /* not an ack: the "error" that follows is */
                snprintf(b->refusal, sizeof(b->refusal), "%s", m.reason);
                break;
        case EXABGP_MSG_STATE:
                on_state(b, &m);
                break;
        case EXABGP_MSG_SHUTDOWN:
                speaker_gone(b, "ExaBGP is shutting down");
                break;
        case EXABGP_MSG_GARBAGE:
                if (b->querying) {
                        struct prefix p;
                        char peer[64];
                        if (exabgp_rib_line_peer(line, &p, peer, sizeof(peer)) == 1) {
                                if (reconcile_set_add(&b->held, &p) < 0)
                                        log_err("exabgp: reconcile: out of memory for the "
                                                "listing");
                                listed_at(b, &p, peer);
                                break;
                        }
                }
                b->garbage++;
                log_msg(b->garbage <= GARBAGE_WARNINGS ? LOG_WARNING : LOG_DEBUG,
                        "exabgp: ignoring a line that is neither an ack nor an event: %.120s",
                        line);
                break;
        }
}

static int on_in(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct backend *b = userdata;
        pthread_mutex_lock(&b->lock);
        /* what reading a listing costs the loop (the system's clock: a
         * measurement, not a timer; test/bench/reconcile) */
        bool timed = b->querying;
        uint64_t t0 = timed ? clock_now(clock_system()) : 0;
        read_input(b, fd);
        if (timed) {
                uint64_t d = clock_now(clock_system()) - t0;
                b->query_busy += d;
                if (d > b->query_busy_max)
                        b->query_busy_max = d;
        }
        pthread_mutex_unlock(&b->lock);
        return 0; /* more may be waiting: the loop calls us again */
}

static void read_input(struct backend *b, int fd)
{
        for (int i = 0; i < READS_PER_DISPATCH && !b->gone; i++) {
                ssize_t n = read(fd, b->rbuf, sizeof(b->rbuf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        log_err("exabgp: reading from ExaBGP failed: %m");
                        speaker_gone(b, "reading from ExaBGP failed");
                        return;
                }
                if (n == 0) {
                        speaker_gone(b, "ExaBGP closed our stdin");
                        return;
                }
                int dropped = exabgp_lines_feed(&b->lines, b->rbuf, (size_t)n, on_line, b);
                if (dropped < 0)
                        log_err("exabgp: out of memory reading ExaBGP's output");
                else if (dropped > 0)
                        log_warning("exabgp: dropped %d line(s) longer than %d bytes", dropped,
                                    EXABGP_LINE_MAX);
        }
}

static void speaker_gone(struct backend *b, const char *why)
{
        if (b->gone)
                return;
        b->gone = true;
        log_notice("exabgp: %s", why);
        if (b->in_src)
                sd_event_source_set_enabled(b->in_src, SD_EVENT_OFF);
        if (b->out_src)
                sd_event_source_set_enabled(b->out_src, SD_EVENT_OFF);
        for (size_t i = 0; i < b->n_routes; i++)
                timerq_cancel(b->timers, &b->routes[i]->retry);
        if (b->hooks.speaker_gone)
                b->hooks.speaker_gone(b->hooks.userdata, why);
        maybe_stop_done(b);
}

/* ---- backend_ops ---- */

static int set_nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

static void exabgp_free(struct backend *b)
{
        if (!b)
                return;
        loop_watchdog_free(b->watchdog);
        sd_event_source_disable_unref(b->in_src);
        sd_event_source_disable_unref(b->out_src);
        if (b->timers) {
                timerq_cancel(b->timers, &b->stop_timer);
                timerq_cancel(b->timers, &b->reconcile_due);
        }
        reconcile_set_free(&b->held);
        while (b->sent_head < b->sent_n)
                free(b->sent[b->sent_head++].cmd);
        free(b->sent);
        for (size_t i = 0; i < b->n_routes; i++)
                route_free(b->routes[i]);
        free(b->routes);
        free(b->nbrs);
        free(b->obuf);
        free(b->pop);
        exabgp_lines_free(&b->lines);
        timerq_free(b->timers);
        pthread_mutex_destroy(&b->lock);
        sd_event_unref(b->e);
        free(b);
}

/* ---- the watchdog: a wedged loop fails closed ---- */

/* Writes all of [p, p + n) to the non-blocking fd by the deadline. */
static int write_all_by(int fd, const char *p, size_t n, uint64_t deadline)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w > 0) {
                        p += w;
                        n -= (size_t)w;
                        continue;
                }
                if (w < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                uint64_t now = clock_now(clock_system());
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                poll(&pfd, 1, (int)((deadline - now) / 1000) + 1);
        }
        return 0;
}

/* ExaBGP sends acks to the process name: answers still owed when we end
 * would reach the daemon it respawns and shift its FIFO. Read (bounded) until
 * `owed` acks have come. */
static void drain_acks(struct backend *b, size_t owed, uint64_t deadline)
{
        char line[16];
        size_t len = 0;
        bool skip = false;
        /* the loop may hold the start of a line already */
        if (b->lines.len < sizeof(line) && !b->lines.discarding) {
                memcpy(line, b->lines.buf, b->lines.len);
                len = b->lines.len;
        } else {
                skip = true;
        }
        char buf[4096];
        while (owed > 0) {
                uint64_t now = clock_now(clock_system());
                if (now >= deadline)
                        return;
                struct pollfd pfd = {.fd = b->in_fd, .events = POLLIN};
                if (poll(&pfd, 1, (int)((deadline - now) / 1000) + 1) <= 0)
                        continue;
                ssize_t n = read(b->in_fd, buf, sizeof(buf));
                if (n == 0)
                        return;
                for (ssize_t i = 0; i < n && owed > 0; i++) {
                        if (buf[i] != '\n') {
                                if (len < sizeof(line) - 1)
                                        line[len++] = buf[i];
                                else
                                        skip = true;
                                continue;
                        }
                        if (len && line[len - 1] == '\r')
                                len--;
                        line[len] = '\0';
                        if (!skip && (strcmp(line, "done") == 0 || strcmp(line, "error") == 0))
                                owed--;
                        len = 0;
                        skip = false;
                }
        }
}

/* Runs on the watchdog's thread with the loop wedged: withdraws every route
 * ExaBGP may hold for us and ends the process, so that ExaBGP starts a fresh
 * daemon (it restarts a dead helper, never a hung one). The output lock
 * keeps our lines whole: a line the pipe took only part of is completed
 * first. Writing more withdraws than needed is harmless; fewer is not. */
static void watchdog_fired(void *userdata)
{
        struct backend *b = userdata;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        if (pthread_mutex_timedlock(&b->lock, &ts) != 0) {
                log_crit("exabgp: the event loop has not turned for %llu ms and holds the output; "
                         "exiting without withdrawing",
                         (unsigned long long)(b->watchdog_usec / 1000));
                log_async_flush(LOG_FLUSH_USEC);
                _exit(EXIT_FAILURE);
        }
        size_t n = 0;
        for (size_t i = 0; i < b->n_routes; i++)
                n += b->routes[i]->desired == ROUTE_ANNOUNCE ||
                     b->routes[i]->sync == EXABGP_SYNC_QUEUED;
        log_crit("exabgp: the event loop has not turned for %llu ms: withdrawing %zu route%s and "
                 "exiting, so that ExaBGP starts a fresh daemon (exabgp.watchdog)",
                 (unsigned long long)(b->watchdog_usec / 1000), n, n == 1 ? "" : "s");
        if (b->gone) {
                log_async_flush(LOG_FLUSH_USEC);
                _exit(EXIT_FAILURE);
        }
        /* The system's clock, not b->clk: the watchdog is about real time
         * passing while the loop (and any clock it drives) stands still. */
        uint64_t deadline = clock_now(clock_system()) + STOP_WAIT_USEC;
        int r = 0;
        size_t owed = b->ack ? b->sent_n - b->sent_head : 0;
        if (b->mid_line && b->ooff < b->olen) {
                const char *nl = memchr(b->obuf + b->ooff, '\n', b->olen - b->ooff);
                size_t rest = nl ? (size_t)(nl - (b->obuf + b->ooff)) + 1 : b->olen - b->ooff;
                r = write_all_by(b->out_fd, b->obuf + b->ooff, rest, deadline);
                if (r == 0 && !nl)
                        r = write_all_by(b->out_fd, "\n", 1, deadline);
        }
        for (size_t i = 0; r == 0 && i < b->n_routes; i++) {
                struct route *rt = b->routes[i];
                if (rt->desired != ROUTE_ANNOUNCE && rt->sync != EXABGP_SYNC_QUEUED)
                        continue;
                struct route_update u = {.prefix = &rt->prefix, .action = ROUTE_WITHDRAW};
                char *cmd = NULL;
                if (exabgp_render(&u, b->asn, b->api, &cmd) < 0)
                        continue;
                size_t len = strlen(cmd);
                cmd[len] = '\n'; /* over the NUL: written by length */
                r = write_all_by(b->out_fd, cmd, len + 1, deadline);
                free(cmd);
                owed += b->ack;
        }
        if (r < 0)
                log_crit("exabgp: writing the withdraws failed: %s", strerror(-r));
        else if (owed)
                drain_acks(b, owed, deadline);
        log_async_flush(LOG_FLUSH_USEC);
        _exit(EXIT_FAILURE);
}

int backend_exabgp_create_fds(sd_event *e, struct clock *clk, const struct config *cfg,
                              const struct backend_hooks *hooks, int in_fd, int out_fd,
                              struct backend **out)
{
        int r;

        *out = NULL;
        struct backend *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&b->lock, &ma);
        pthread_mutexattr_destroy(&ma);
        b->e = sd_event_ref(e);
        b->clk = clk;
        timerq_item_init(&b->stop_timer, on_stop_timer);
        timerq_item_init(&b->reconcile_due, on_reconcile_due);
        b->reconcile_interval = cfg->reconcile.interval_usec;
        b->stuck_after = cfg->reconcile.stuck_after_usec;
        if (hooks)
                b->hooks = *hooks;
        b->watchdog_usec = exabgp_settings(cfg)->watchdog_usec;
        /* the config may be replaced on reload: keep what we need */
        b->pop = strdup(cfg->pop ? cfg->pop : "");
        b->asn = cfg->asn;
        b->ack = exabgp_settings(cfg)->ack;
        b->api = exabgp_settings(cfg)->api;
        b->in_fd = in_fd;
        b->out_fd = out_fd;
        b->backoff_initial = BACKOFF_INITIAL_USEC;
        b->backoff_max = BACKOFF_MAX_USEC;
        b->stop_wait_usec = STOP_WAIT_USEC;
        exabgp_lines_init(&b->lines);
        if (!b->pop) {
                r = -ENOMEM;
                goto fail;
        }
        r = timerq_new(e, clk, 1000, &b->timers);
        if (r >= 0)
                r = timerq_set_priority(b->timers, EV_PRIO_SPEAKER);
        if (r < 0)
                goto fail;

        if ((r = set_nonblock(in_fd)) < 0 || (r = set_nonblock(out_fd)) < 0) {
                log_err("exabgp: cannot make ExaBGP's pipes non-blocking: %s", strerror(-r));
                goto fail;
        }
        r = sd_event_add_io(e, &b->in_src, in_fd, EPOLLIN, on_in, b);
        if (r >= 0)
                r = sd_event_add_io(e, &b->out_src, out_fd, EPOLLOUT, on_out, b);
        if (r < 0) {
                log_err("exabgp: cannot watch stdin/stdout (%s): in ExaBGP mode both must be "
                        "pipes from ExaBGP",
                        strerror(-r));
                goto fail;
        }
        sd_event_source_set_description(b->in_src, "exabgp-in");
        sd_event_source_set_description(b->out_src, "exabgp-out");
        /* event_priority.h: our commands leave first; ExaBGP's output is
         * drained next, or ExaBGP blocks writing to us and freezes. */
        r = sd_event_source_set_priority(b->out_src, EV_PRIO_ROUTE);
        if (r >= 0)
                r = sd_event_source_set_priority(b->in_src, EV_PRIO_SPEAKER);
        if (r < 0)
                goto fail;
        r = sd_event_source_set_enabled(b->out_src, SD_EVENT_OFF);
        if (r < 0)
                goto fail;
        /* Ahead of any route. Written by the loop (on_out), not here: a
         * pipe already closed would call hooks.speaker_gone before our
         * caller has the backend. */
        const char *start = exabgp_session_start(b->api, b->ack);
        if (start) {
                r = enqueue_line(b, NULL, start);
                if (r >= 0)
                        r = sd_event_source_set_enabled(b->out_src, SD_EVENT_ON);
                if (r < 0)
                        goto fail;
                log_debug("exabgp: > %s", start);
        }
        if (b->reconcile_interval && !b->ack) {
                /* the listing ends with its ack: without acks, no end */
                log_warning("exabgp: reconcile needs exabgp.ack: not reading ExaBGP's "
                            "adj-rib-out back");
                b->reconcile_interval = 0;
        }
        if (b->reconcile_interval)
                timerq_put(b->timers, &b->reconcile_due, clock_now(clk) + b->reconcile_interval);
        if (b->watchdog_usec) {
                r = loop_watchdog_new(e, b->watchdog_usec, watchdog_fired, b, &b->watchdog);
                if (r < 0) {
                        log_err("exabgp: cannot start the watchdog: %s", strerror(-r));
                        goto fail;
                }
        }
        *out = b;
        return 0;
fail:
        exabgp_free(b);
        return r;
}

/* The API pipes, once exabgp_prepare took them from fds 0 and 1. */
static int api_in = -1, api_out = -1;

/* The API pipes move to private close-on-exec descriptors and fds 0/1
 * become /dev/null: nothing else (a plugin's printf, a forked child) can
 * write into ExaBGP's command stream or keep its pipes open. Runs before
 * plugins are loaded. */
static int exabgp_prepare(void)
{
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nul < 0) {
                log_err("exabgp: cannot open /dev/null: %m");
                return -errno;
        }
        api_in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        api_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (api_in < 0 || api_out < 0 || dup2(nul, STDIN_FILENO) < 0 ||
            dup2(nul, STDOUT_FILENO) < 0) {
                int r = -errno;
                log_err("cannot set up ExaBGP API descriptors: %s", strerror(-r));
                close(nul);
                return r;
        }
        close(nul);
        return 0;
}

static int exabgp_create(sd_event *e, struct clock *clk, const struct config *cfg,
                         const struct backend_hooks *hooks, struct backend **out)
{
        int in = api_in >= 0 ? api_in : STDIN_FILENO, o = api_out >= 0 ? api_out : STDOUT_FILENO;
        int r = backend_exabgp_create_fds(e, clk, cfg, hooks, in, o, out);
        if (r >= 0)
                api_in = api_out = -1; /* the backend owns them now */
        return r;
}

static enum on_action exabgp_on_exit(const struct config *cfg)
{
        return exabgp_settings(cfg)->on_exit;
}

static void exabgp_counters(const struct backend *b, struct speaker_counters *out)
{
        const struct exabgp_stats *st = backend_exabgp_stats(b);
        uint64_t stuck = 0;
        for (size_t i = 0; i < b->n_routes; i++)
                stuck += b->routes[i]->rc.state == RECONCILE_STUCK;
        *out = (struct speaker_counters){.commands = st->commands,
                                         .acks = st->acks_done + st->acks_error,
                                         .errors = st->acks_error,
                                         .reconcile_passes = b->passes,
                                         .drift = b->drift_total,
                                         .stuck = stuck};
}

/* Read at start: ack, api and the watchdog; on_exit is read when we stop. */
static bool exabgp_needs_restart(const struct config *a, const struct config *b)
{
        const struct exabgp_settings *x = exabgp_settings(a), *y = exabgp_settings(b);
        return x->ack != y->ack || x->api != y->api || x->watchdog_usec != y->watchdog_usec;
}

/* ExaBGP runs us as its process: only ExaBGP holds our routes and nothing
 * outside it can change them. It restarts a daemon that died (the new one
 * decides every route again), and stopping ExaBGP closes its sessions,
 * which withdraws everything. There is nothing to undo. */
static int exabgp_withdraw_all(const struct config *cfg)
{
        log_err("withdraw-all is for the BIRD backend. In ExaBGP mode anycast-healthd is "
                "ExaBGP's process: ExaBGP restarts it when it dies, and stopping ExaBGP "
                "withdraws every route; no stop action is needed");
        return EXIT_FAILURE;
}

void backend_exabgp_set_backoff(struct backend *b, uint64_t initial_usec, uint64_t max_usec)
{
        b->backoff_initial = initial_usec;
        b->backoff_max = max_usec < initial_usec ? initial_usec : max_usec;
        for (size_t i = 0; i < b->n_routes; i++)
                if (b->routes[i]->failures == 0)
                        b->routes[i]->backoff_usec = initial_usec;
}

void backend_exabgp_set_stop_wait(struct backend *b, uint64_t usec)
{
        b->stop_wait_usec = usec;
}

static void log_change(struct backend *b, const struct route *r, const char *service,
                       const char *reason)
{
        char pfx[PREFIX_STRLEN];
        prefix_format_checked(&r->prefix, pfx);
        log_info("%s %s service=%s pop=%s reason=\"%s\"", action_word(r->desired), pfx,
                 service ? service : "?", b->pop, reason ? reason : "");
        log_debug("exabgp: > %s", r->cmd);
}

static void update_locked(struct backend *b, const struct route_update *u);

static bool on_trial(const struct route_update *u)
{
        return u->action == ROUTE_ANNOUNCE && u->audience == AUDIENCE_CANARIES;
}

/* A withdraw reaches whoever may hold r: the canaries that heard it while
 * on trial, or everyone once a plain announce went out (or when we know of
 * none). ExaBGP 4.2 puts a withdraw on the wire even to a peer that never
 * had the route (rib/outgoing.py: "an extra withdrawal is harmless"), and
 * answers done either way: addressing it keeps a failed trial invisible to
 * the other peers. */
static int render_withdraw(struct backend *b, const struct route *r, char **cmd)
{
        struct route_update w = {.prefix = &r->prefix, .action = ROUTE_WITHDRAW};
        if (!r->heard_all && r->heard.n_neighbors)
                return exabgp_render_to(&w, r->heard.neighbors, r->heard.n_neighbors, b->asn,
                                        b->api, cmd);
        return exabgp_render_to(&w, NULL, 0, b->asn, b->api, cmd);
}

static int render_update(struct backend *b, const struct route_update *u, char **cmd)
{
        if (u->action == ROUTE_WITHDRAW) {
                struct prefix key = prefix_key(u->prefix);
                bool found;
                size_t i = route_find(b, &key, &found);
                if (found && b->routes[i]->desired == ROUTE_WITHDRAW) {
                        /* the same again: a no-op, not a wider withdraw */
                        *cmd = strdup(b->routes[i]->cmd);
                        return *cmd ? 0 : -ENOMEM;
                }
                if (found)
                        return render_withdraw(b, b->routes[i], cmd);
        }
        return exabgp_render(u, b->asn, b->api, cmd);
}

/* Who heard what, once u's command is r's. */
static int note_audience(struct route *r, const struct route_update *u)
{
        if (u->action == ROUTE_WITHDRAW) {
                peers_clear(&r->trial);
                peers_clear(&r->heard);
                r->heard_all = false;
                r->audience = AUDIENCE_NONE;
                return 0;
        }
        if (!on_trial(u)) {
                peers_clear(&r->trial);
                r->heard_all = true;
                r->audience = AUDIENCE_EVERYONE;
                return 0;
        }
        struct canary_cfg t = {0};
        if (peers_add(&t, u->canary->neighbors, u->canary->n_neighbors) < 0 ||
            peers_add(&r->heard, u->canary->neighbors, u->canary->n_neighbors) < 0) {
                peers_clear(&t);
                return -ENOMEM;
        }
        peers_clear(&r->trial);
        r->trial = t;
        r->audience = AUDIENCE_CANARIES;
        return 0;
}

static void exabgp_update(struct backend *b, const struct route_update *u)
{
        pthread_mutex_lock(&b->lock);
        update_locked(b, u);
        pthread_mutex_unlock(&b->lock);
}

static void update_locked(struct backend *b, const struct route_update *u)
{
        char pfx[PREFIX_STRLEN];
        char *cmd = NULL;

        prefix_format_checked(u->prefix, pfx);
        if (b->stopping) {
                log_debug("exabgp: stopping, ignoring %s %s", action_word(u->action), pfx);
                return;
        }
        if (u->action != ROUTE_ANNOUNCE && u->action != ROUTE_WITHDRAW)
                return;
        int ret = render_update(b, u, &cmd);
        if (ret < 0) {
                log_err("exabgp: cannot express %s %s for service %s as an ExaBGP command: %s",
                        action_word(u->action), pfx, u->service ? u->service : "?", strerror(-ret));
                return;
        }
        struct route *r = route_get(b, u->prefix);
        b->changes++;
        if (!r) {
                free(cmd);
                log_err("exabgp: out of memory tracking %s", pfx);
                return;
        }
        if (r->desired == u->action && strcmp(r->cmd, cmd) == 0) {
                free(cmd);
                return;
        }
        if (u->service && (!r->service || strcmp(r->service, u->service) != 0)) {
                char *s = strdup(u->service);
                if (s) {
                        free(r->service);
                        r->service = s;
                }
        }
        if (note_audience(r, u) < 0) {
                free(cmd);
                log_err("exabgp: out of memory tracking %s", pfx);
                return;
        }
        free(r->cmd);
        r->cmd = cmd;
        r->desired = u->action;
        r->decided_usec = u->decided_usec;
        r->gen++;
        r->failures = 0;
        r->backoff_usec = b->backoff_initial;
        timerq_cancel(b->timers, &r->retry);
        log_change(b, r, u->service, u->reason);
        if (enqueue(b, r) < 0)
                r->sync = EXABGP_SYNC_QUEUED;
}

static void exabgp_commit(struct backend *b)
{
        pthread_mutex_lock(&b->lock);
        flush(b);
        pthread_mutex_unlock(&b->lock);
}

static void stop_locked(struct backend *b, bool withdraw, void (*done)(void *), void *userdata);

static void exabgp_stop(struct backend *b, bool withdraw, void (*done)(void *), void *userdata)
{
        pthread_mutex_lock(&b->lock);
        stop_locked(b, withdraw, done, userdata);
        pthread_mutex_unlock(&b->lock);
}

static void stop_locked(struct backend *b, bool withdraw, void (*done)(void *), void *userdata)
{
        b->stopping = true;
        timerq_cancel(b->timers, &b->reconcile_due);
        b->stop_done = done;
        b->stop_userdata = userdata;
        for (size_t i = 0; i < b->n_routes; i++) {
                struct route *r = b->routes[i];
                timerq_cancel(b->timers, &r->retry);
                if (!withdraw || r->desired != ROUTE_ANNOUNCE || b->gone)
                        continue;
                struct route_update u = {.prefix = &r->prefix, .action = ROUTE_WITHDRAW};
                char *cmd = NULL;
                if (render_withdraw(b, r, &cmd) < 0) {
                        log_err("exabgp: cannot render a withdraw while stopping");
                        continue;
                }
                note_audience(r, &u);
                free(r->cmd);
                r->cmd = cmd;
                r->desired = ROUTE_WITHDRAW;
                r->gen++;
                r->failures = 0;
                log_change(b, r, r->service, "daemon stopping");
                enqueue(b, r);
        }
        if (done && b->ack && !b->gone && !timerq_item_queued(&b->stop_timer)) {
                int ret =
                    timerq_put(b->timers, &b->stop_timer, clock_now(b->clk) + b->stop_wait_usec);
                if (ret < 0)
                        b->stop_wait_over = true; /* cannot bound the wait: do not wait */
        }
        flush(b);
}

int backend_exabgp_route_status(struct backend *b, const struct prefix *p,
                                struct exabgp_route_status *st)
{
        struct prefix key = prefix_key(p);
        bool found;
        size_t i = route_find(b, &key, &found);
        if (!found)
                return -ENOENT;
        const struct route *r = b->routes[i];
        *st = (struct exabgp_route_status){.desired = r->desired,
                                           .sync = r->sync,
                                           .failures = r->failures,
                                           .reconcile = r->rc.state};
        return 0;
}

/* With acks off nothing ever confirms: such routes stay "pending". */
static enum route_confirm exabgp_confirmed(struct backend *b, const struct prefix *p)
{
        struct exabgp_route_status st;
        if (backend_exabgp_route_status(b, p, &st) < 0)
                return CONFIRM_NONE;
        if (st.reconcile == RECONCILE_STUCK)
                return CONFIRM_STUCK;
        if (st.reconcile == RECONCILE_DRIFT)
                return CONFIRM_DRIFT;
        switch (st.sync) {
        case EXABGP_SYNC_QUEUED:
        case EXABGP_SYNC_WRITTEN:
                return CONFIRM_PENDING;
        case EXABGP_SYNC_CONFIRMED:
                return CONFIRM_CONFIRMED;
        case EXABGP_SYNC_REJECTED:
                return CONFIRM_FAILED;
        }
        return CONFIRM_NONE;
}

/* ---- reconciliation ----
 *
 * What ExaBGP really holds: its adj-rib-out, listed by one command every
 * reconcile.interval and a second after each change it acked (`show
 * adj-rib out`, `rib show out` with api 6; both text forms, exabgp_rib.h),
 * its lines ended by the command's ack. `done` alone does not prove a
 * route is held: ExaBGP also answers it for a command it logged and
 * skipped, and another process of the same ExaBGP may withdraw ours. A
 * route we announce and ExaBGP does not list for any neighbor, or one we
 * withdrew that it lists, is drift: logged once, counted, its command sent
 * again. Still wrong reconcile.stuck_after after first seen: stuck, and
 * re-sent once per interval from then on. Only prefixes we have asked for
 * are judged (ExaBGP's own static routes are not ours), only once ExaBGP
 * acked their newest command, and only when nothing was queued while the
 * listing ran. */

#define RECONCILE_SOON_USEC  (1000 * 1000ULL)
#define RECONCILE_RETRY_USEC (1000 * 1000ULL)

static void reconcile_at(struct backend *b, uint64_t at)
{
        if (!b->reconcile_interval || b->stopping || b->gone)
                return;
        if (timerq_item_queued(&b->reconcile_due) && b->reconcile_due.due <= at)
                return;
        timerq_put(b->timers, &b->reconcile_due, at);
}

static void reconcile_soon(struct backend *b)
{
        reconcile_at(b, clock_now(b->clk) + RECONCILE_SOON_USEC);
}

static void on_reconcile_due(struct timerq_item *it, uint64_t now)
{
        struct backend *b =
            (struct backend *)((char *)it - offsetof(struct backend, reconcile_due));
        pthread_mutex_lock(&b->lock);
        reconcile_at(b, now + b->reconcile_interval);
        if (!b->querying && !b->gone && !b->stopping) {
                b->querying = true;
                b->query_changes = b->changes;
                reconcile_set_clear(&b->held);
                for (size_t i = 0; i < b->n_routes; i++) {
                        struct route *r = b->routes[i];
                        r->seen_canary = r->seen_other = false;
                        peers_clear(&r->others);
                }
                const char *cmd = b->api == EXABGP_API_6 ? "rib show out" : EXABGP_RIB_QUERY;
                if (enqueue_line(b, NULL, cmd) == 0) {
                        b->sent[b->sent_n - 1].query = true;
                        flush(b);
                } else {
                        b->querying = false;
                }
        }
        pthread_mutex_unlock(&b->lock);
}

static bool judge(struct backend *b, struct route *r, bool differs, const char *what, uint64_t now)
{
        const struct reconcile_report rep = {"exabgp", "sending its command again", b->stuck_after,
                                             &b->hooks, &b->drift_total};
        return reconcile_judge(&rep, &r->rc, &r->prefix, differs, what, now);
}

/* Sends r's command again; a route on trial is first withdrawn from the
 * other neighbours holding it (only), a withdrawn one from everyone. */
static void repair(struct backend *b, struct route *r, bool trial)
{
        if (trial && r->others.n_neighbors) {
                struct route_update w = {.prefix = &r->prefix, .action = ROUTE_WITHDRAW};
                char *cmd = NULL;
                if (exabgp_render_to(&w, r->others.neighbors, r->others.n_neighbors, b->asn, b->api,
                                     &cmd) == 0 &&
                    enqueue_line(b, NULL, cmd) == 0)
                        b->sent[b->sent_n - 1].aux = true;
                free(cmd);
                if (r->seen_canary)
                        return;
        }
        if (r->desired == ROUTE_WITHDRAW) {
                struct route_update w = {.prefix = &r->prefix, .action = ROUTE_WITHDRAW};
                char *cmd = NULL;
                if (exabgp_render_to(&w, NULL, 0, b->asn, b->api, &cmd) == 0) {
                        free(r->cmd);
                        r->cmd = cmd;
                }
        }
        r->gen++; /* the re-send is the command awaited now */
        enqueue(b, r);
}

static void on_listing_done(struct backend *b, bool ok)
{
        uint64_t now = clock_now(b->clk);
        uint64_t t0 = clock_now(clock_system());
        b->querying = false;
        reconcile_set_seal(&b->held);
        size_t listed = b->held.n;
        if (!ok) {
                log_warning("exabgp: reconcile: ExaBGP refused '%s'",
                            b->api == EXABGP_API_6 ? "rib show out" : EXABGP_RIB_QUERY);
        } else if (b->changes != b->query_changes || b->stopping) {
                /* changed while listing: judge a quiet RIB */
                reconcile_at(b, now + RECONCILE_RETRY_USEC);
        } else {
                b->passes++;
                bool stuck = false;
                for (size_t i = 0; i < b->n_routes; i++) {
                        struct route *r = b->routes[i];
                        if (r->sync != EXABGP_SYNC_CONFIRMED || timerq_item_queued(&r->retry))
                                continue; /* not answered for its newest command yet */
                        bool held = reconcile_set_has(&b->held, &r->prefix);
                        bool bad;
                        bool trial =
                            r->desired == ROUTE_ANNOUNCE && r->audience == AUDIENCE_CANARIES;
                        if (trial)
                                /* on trial: at the canaries, and only there */
                                bad = judge(b, r, !r->seen_canary || r->seen_other,
                                            !r->seen_canary
                                                ? "on trial, missing from the canary neighbours' "
                                                  "adj-rib-out"
                                                : "on trial, in a non-canary neighbour's "
                                                  "adj-rib-out",
                                            now);
                        else if (r->desired == ROUTE_ANNOUNCE)
                                bad = judge(b, r, !held, "missing from ExaBGP's adj-rib-out", now);
                        else
                                bad = judge(b, r, held, "in ExaBGP's adj-rib-out, withdrawn by us",
                                            now);
                        if (!bad)
                                continue;
                        /* re-sent while drifting; once stuck, once per interval */
                        if (r->rc.state == RECONCILE_STUCK &&
                            now < b->last_repair + b->reconcile_interval) {
                                stuck = true;
                                continue;
                        }
                        repair(b, r, trial);
                        stuck |= r->rc.state == RECONCILE_STUCK;
                }
                if (stuck && now >= b->last_repair + b->reconcile_interval)
                        b->last_repair = now;
                flush(b);
        }
        reconcile_set_clear(&b->held);
        uint64_t judging = clock_now(clock_system()) - t0;
        log_debug("exabgp: reconcile pass %" PRIu64 ": %zu of our routes listed by ExaBGP, %zu "
                  "asked; loop time %.2f ms (reading %.2f, judging %.2f), longest step %.2f ms",
                  b->passes, listed, b->n_routes, (double)(b->query_busy + judging) / 1000.0,
                  (double)b->query_busy / 1000.0, (double)judging / 1000.0,
                  (double)(judging > b->query_busy_max ? judging : b->query_busy_max) / 1000.0);
        b->query_busy = b->query_busy_max = 0;
}

const struct backend_ops backend_exabgp_ops = {
    .name = "exabgp",
    /* .canary: not yet; the backend sends canary lines, but no real-upstream test shows them */
    .usage = "drive ExaBGP: run as its process (API on stdout/stdin)",
    .prepare = exabgp_prepare,
    .on_exit = exabgp_on_exit,
    .withdraw_all = exabgp_withdraw_all,
    .needs_restart = exabgp_needs_restart,
    .counters = exabgp_counters,
    .create = exabgp_create,
    .update = exabgp_update,
    .commit = exabgp_commit,
    .stop = exabgp_stop,
    .free = exabgp_free,
    .confirmed = exabgp_confirmed,
};
