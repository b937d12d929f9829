/* frr_backend.c: FRR as a sidecar. Desired routes become `network P
 * route-map ahd-H` statements under `router bgp ASN`, one route-map per
 * attribute set, and a blackhole static per prefix so that bgpd's
 * import-check passes (frr_render.h has the commands). They are applied in
 * batches over bgpd's and staticd's vty sockets, spoken directly
 * (frr_vty.h): a command on an open connection costs FRR ~0.1-0.6 ms,
 * where one `vtysh -c ...` per batch costs ~65 ms of fork, exec and
 * connecting to every daemon before the first command. Never `write`: our
 * statements live only in FRR's running config.
 *
 * What FRR holds is tracked per prefix (network statement and its
 * route-map, static) and per route-map; a batch is the difference between
 * that and what we want, so an attribute change is one re-issued `network
 * P route-map OTHER` (bgpd replaces the route: one UPDATE, no withdraw).
 * A new connection to a daemon (the first, or after it closed: FRR
 * restarted) forgets what that daemon held, so the next batch asserts
 * everything anew. Both connections stay open between batches, so a
 * restart shows up as EOF at once and the re-assert follows as soon as
 * the daemon answers again (connect retried with backoff).
 *
 * Bursts: as for BIRD, batches are at least one window apart (frr.coalesce,
 * 20 ms by default): a change after a quiet window goes out at the next
 * loop iteration, changes within a window wait for its end. One batch in
 * flight; changes meanwhile go into the next. A command FRR refuses is
 * logged with FRR's text, its prefix is FAILED and retried with backoff on
 * fresh connections (so the vty node is known again). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attrs.h"
#include "event_priority.h"
#include "frr_backend.h"
#include "frr_config.h"
#include "frr_render.h"
#include "frr_rib.h"
#include "frr_vty.h"
#include "frr_withdraw.h"
#include "log.h"
#include "prefix.h"
#include "prom_text.h"
#include "reconcile_report.h"
#include "timerq.h"

#define COALESCE_DEFAULT_USEC  (20 * 1000ULL)
#define COALESCE_ACCURACY_USEC 1000ULL
#define COMMAND_TIMEOUT_USEC   (10 * 1000 * 1000ULL)
#define BACKOFF_MIN_USEC       (200 * 1000ULL)
#define BACKOFF_MAX_USEC       (5 * 1000 * 1000ULL)

static const char *const daemon_name[2] = {"staticd", "bgpd"};

struct entry {
        struct frr_route r;
        uint64_t gen, sent_gen, confirmed_gen, failed_gen;
        bool failed;               /* a command of the batch in flight failed or was not sent */
        struct reconcile_track rc; /* in bgpd's table as asked? */
};

enum link_state { LINK_UNKNOWN, LINK_UP, LINK_DOWN };

struct backend {
        sd_event *event;
        struct clock *clk;
        char *dir; /* frr.socket_dir */
        struct frrvty *vty[2];
        uint32_t bgp_asn, prepend_asn;
        uint64_t coalesce_usec;
        /* Every prefix we were told about, in the order first seen; never
         * removed, so that the batch in flight can name them by index. */
        struct entry *e;
        size_t n, cap;
        struct frr_rm_set held; /* our route-maps in bgpd */
        uint64_t gen;
        bool dirty;
        /* the batch in flight */
        struct frr_batch batch;
        size_t pos;
        bool inflight;
        bool refused;  /* a command of it was refused */
        int batch_err; /* a transport error cut it short */
        /* staticd refused a transaction: send the statics one by one until
         * a batch goes through, so that only the culprit is refused */
        bool statics_each;
        size_t planned_n;
        uint64_t batch_started;
        uint64_t decided_usec;
        /* scheduling */
        sd_event_source *apply_now;
        struct timerq *window;
        struct timerq_item window_end;
        uint64_t last_send_usec;
        struct timerq *timers;
        struct timerq_item retry_timer;
        uint64_t backoff_usec;
        enum link_state link;
        int link_err;
        bool stopping;
        void (*done)(void *);
        void *done_userdata;
        struct backend_hooks hooks;
        struct frr_stats stats;
        /* Reconciliation (its section below). */
        uint64_t reconcile_interval, stuck_after; /* 0: off */
        struct timerq_item reconcile_due;
        int querying;                /* 0: no; 1: the IPv4 listing, 2: the IPv6 one */
        uint64_t query_gen;          /* b->gen when the pass began */
        struct reconcile_set listed; /* our prefixes bgpd listed */
        uint64_t drift_total, passes, last_repair;
};

#define OWNER(it, member) ((struct backend *)((char *)(it)-offsetof(struct backend, member)))

static void apply(struct backend *b);
static void reconcile_soon(struct backend *b);
static void on_reconcile_due(struct timerq_item *it, uint64_t now);

const struct frr_stats *backend_frr_stats(const struct backend *b)
{
        return &b->stats;
}

/* ---- entries ---- */

static struct entry *find(struct backend *b, const struct prefix *p)
{
        for (size_t i = 0; i < b->n; i++)
                if (prefix_cmp(&b->e[i].r.prefix, p) == 0)
                        return &b->e[i];
        return NULL;
}

static struct entry *find_or_add(struct backend *b, const struct prefix *p)
{
        struct entry *x = find(b, p);
        if (x)
                return x;
        if (b->n == b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 16;
                struct entry *v = reallocarray(b->e, cap, sizeof(*v));
                if (!v)
                        return NULL;
                b->e = v;
                b->cap = cap;
        }
        x = &b->e[b->n++];
        /* What a daemon before us left in FRR is unknown: the first decision
         * is asserted either way. */
        *x = (struct entry){.r = {.prefix = *p,
                                  .attrs = {.med = -1},
                                  .net_held = HELD_UNKNOWN,
                                  .static_held = HELD_UNKNOWN}};
        return x;
}

static bool strv_equal(char **a, size_t na, char **b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

static bool attrs_equal(const struct attrs *a, const struct attrs *b)
{
        return a->med == b->med && a->prepend == b->prepend &&
               strv_equal(a->communities, a->n_communities, b->communities, b->n_communities) &&
               strv_equal(a->large_communities, a->n_large_communities, b->large_communities,
                          b->n_large_communities);
}

/* A new connection to d: what it held is unknown now. */
static void forget(struct backend *b, enum frr_daemon d)
{
        for (size_t i = 0; i < b->n; i++) {
                if (d == FRR_BGPD)
                        b->e[i].r.net_held = HELD_UNKNOWN;
                else
                        b->e[i].r.static_held = HELD_UNKNOWN;
        }
        if (d == FRR_BGPD)
                frr_rm_set_free(&b->held);
}

/* ---- link state ---- */

static void link_up(struct backend *b)
{
        b->stats.reachable = true;
        if (b->link != LINK_UP)
                log_notice("frr: FRR answers on %s and %s", frrvty_path(b->vty[FRR_BGPD]),
                           frrvty_path(b->vty[FRR_STATICD]));
        b->link = LINK_UP;
        b->link_err = 0;
}

static void link_down(struct backend *b, enum frr_daemon d, int err)
{
        b->stats.reachable = false;
        b->stats.unreachable++;
        const char *path = frrvty_path(b->vty[d]);
        if (err == -EACCES)
                snprintf(b->stats.last_error, sizeof(b->stats.last_error),
                         "permission denied on %s: join group frrvty", path);
        else
                snprintf(b->stats.last_error, sizeof(b->stats.last_error), "%s: %s", path,
                         strerror(-err));
        int state = err == -ECONNREFUSED ? -ENOENT : err;
        if (b->link == LINK_DOWN && b->link_err == state)
                return;
        b->link = LINK_DOWN;
        b->link_err = state;
        switch (err) {
        case -EACCES:
                log_err("frr: cannot connect to %s's vty socket: %s (add the daemon's user to "
                        "that group, e.g. SupplementaryGroups=frrvty, and restart it)",
                        daemon_name[d], b->stats.last_error);
                break;
        case -ENOENT:
        case -ECONNREFUSED:
                log_warning("frr: %s is not running (%s: %s); retrying", daemon_name[d], path,
                            strerror(-err));
                break;
        case -ECONNRESET:
                log_warning("frr: lost the connection to %s on %s (FRR restarted?); "
                            "re-asserting everything once it answers",
                            daemon_name[d], path);
                break;
        case -ETIMEDOUT:
                log_warning("frr: %s did not answer on %s in time; retrying", daemon_name[d], path);
                break;
        default:
                log_warning("frr: %s's vty socket %s: %s; retrying", daemon_name[d], path,
                            strerror(-err));
        }
}

/* ---- scheduling ---- */

static bool apply_scheduled(const struct backend *b)
{
        int on = SD_EVENT_OFF;
        if (b->apply_now)
                sd_event_source_get_enabled(b->apply_now, &on);
        return on != SD_EVENT_OFF || timerq_item_queued(&b->window_end);
}

static void maybe_done(struct backend *b)
{
        if (!b->stopping || !b->done || b->inflight || b->querying)
                return;
        if (b->dirty && b->link != LINK_DOWN)
                return;
        void (*done)(void *) = b->done;
        b->done = NULL;
        done(b->done_userdata);
}

static void on_retry(struct timerq_item *it, uint64_t now)
{
        apply(OWNER(it, retry_timer));
}

static void retry_later(struct backend *b)
{
        if (b->stopping || timerq_item_queued(&b->retry_timer))
                return;
        b->backoff_usec = b->backoff_usec ? b->backoff_usec * 2 : BACKOFF_MIN_USEC;
        if (b->backoff_usec > BACKOFF_MAX_USEC)
                b->backoff_usec = BACKOFF_MAX_USEC;
        if (timerq_put(b->timers, &b->retry_timer, clock_now(b->clk) + b->backoff_usec) < 0)
                log_err("frr: cannot arm the retry timer");
}

static void on_window_end(struct timerq_item *it, uint64_t now)
{
        apply(OWNER(it, window_end));
}

static int on_apply_now(sd_event_source *s, void *userdata)
{
        sd_event_source_set_enabled(s, SD_EVENT_OFF);
        apply(userdata);
        return 0;
}

static void schedule(struct backend *b)
{
        if (apply_scheduled(b) || b->inflight || b->querying || timerq_item_queued(&b->retry_timer))
                return; /* the running round, its end or the retry picks the change up */
        uint64_t now = clock_now(b->clk);
        uint64_t at = b->last_send_usec + b->coalesce_usec;
        if (!b->last_send_usec || at <= now) {
                /* a defer: a timer due now would wait behind the next poll */
                if (sd_event_source_set_enabled(b->apply_now, SD_EVENT_ONESHOT) >= 0)
                        return;
        } else if (timerq_put(b->window, &b->window_end, at) >= 0) {
                return;
        }
        log_err("frr: cannot arm the coalescing timer; applying now");
        apply(b);
}

/* ---- the batch ---- */

static void send_next(struct backend *b);

static void batch_end(struct backend *b)
{
        b->inflight = false;
        uint64_t now = clock_now(b->clk);
        duration_hist_add(&b->stats.batch_duration, now - b->batch_started);
        for (size_t i = 0; i < b->planned_n; i++) {
                struct entry *x = &b->e[i];
                if (x->failed || b->batch_err)
                        x->failed_gen = x->failed ? x->sent_gen : x->failed_gen;
                if (!x->failed && x->sent_gen > x->confirmed_gen)
                        x->confirmed_gen = x->sent_gen;
                x->failed = false;
        }
        size_t nc = b->batch.n;
        frr_batch_free(&b->batch);
        if (b->batch_err || b->refused) {
                /* start again on fresh connections: the vty node is known
                 * there, and everything is asserted anew */
                for (int d = 0; d < 2; d++)
                        frrvty_close(b->vty[d]);
        }
        /* the clock in the line: what a change cost FRR (test/bench/frr) */
        log_debug("frr: batch #%" PRIu64 " answered at %llu us", b->stats.batches,
                  (unsigned long long)now);
        log_info("frr: batch #%" PRIu64 " done: %zu commands in %.1f ms%s", b->stats.batches, nc,
                 (double)(now - b->batch_started) / 1000.0,
                 b->batch_err ? " (cut short)"
                 : b->refused ? " (FRR refused some)"
                              : "");
        if (!b->batch_err && !b->refused) {
                b->statics_each = false;
                b->backoff_usec = 0;
                b->stats.last_error[0] = '\0';
        }
        bool again = b->batch_err || b->refused;
        if (b->stopping) {
                if (b->dirty && !again) {
                        apply(b);
                        return;
                }
                maybe_done(b);
                return;
        }
        if (again) {
                b->dirty = true;
                retry_later(b);
        } else if (b->dirty) {
                schedule(b);
        }
        b->stats.in_sync = !b->dirty;
        reconcile_soon(b); /* after each applied change: is it what bgpd holds? */
}

static int make_clients(struct backend *b);

/* staticd refused the transaction that ends at b->pos: none of its
 * statics is known to be held (or gone) any more. */
static void undo_transaction(struct backend *b)
{
        for (size_t i = b->pos; i-- > 0;) {
                const struct frr_cmd *c = &b->batch.v[i];
                if (c->daemon != FRR_STATICD || c->kind == CMD_FRAME)
                        break;
                if (c->route == SIZE_MAX)
                        continue;
                b->e[c->route].r.static_held = HELD_UNKNOWN;
                b->e[c->route].failed = true;
        }
        b->statics_each = true;
}

static void on_reply(struct frrvty *v, const struct frrvty_reply *r, void *userdata)
{
        struct backend *b = userdata;
        struct frr_cmd *c = &b->batch.v[b->pos];
        struct entry *x = c->route != SIZE_MAX ? &b->e[c->route] : NULL;
        if (r->error) {
                b->batch_err = r->error;
                link_down(b, c->daemon, r->error);
                for (size_t i = b->pos; i < b->batch.n; i++)
                        if (b->batch.v[i].route != SIZE_MAX)
                                b->e[b->batch.v[i].route].failed = true;
                batch_end(b);
                return;
        }
        b->stats.replies++;
        bool ok = r->status == FRRVTY_SUCCESS;
        /* `no network P` of a P bgpd does not have: done */
        if (c->kind == CMD_NO_NETWORK && r->status == FRRVTY_WARNING_CONFIG_FAILED &&
            strstr(r->text, "Can't find"))
                ok = true;
        if (!ok) {
                b->stats.refused++;
                char text[256];
                snprintf(text, sizeof(text), "%s", r->text);
                text[strcspn(text, "\n")] = '\0';
                snprintf(b->stats.last_error, sizeof(b->stats.last_error),
                         "%s refused \"%s\": %s (status %d)", daemon_name[c->daemon], c->text, text,
                         r->status);
                if (!b->refused)
                        log_err("frr: %s", b->stats.last_error);
                else
                        log_debug("frr: %s", b->stats.last_error);
                b->refused = true;
                if (x)
                        x->failed = true;
                if (c->kind == CMD_STATIC_COMMIT)
                        undo_transaction(b);
        } else {
                switch (c->kind) {
                case CMD_STATIC_ADD:
                        x->r.static_held = HELD_YES;
                        break;
                case CMD_STATIC_DEL:
                        x->r.static_held = HELD_NO;
                        break;
                case CMD_NETWORK:
                        x->r.net_held = HELD_YES;
                        snprintf(x->r.held_rm, sizeof(x->r.held_rm), "%s", c->rm);
                        break;
                case CMD_NO_NETWORK:
                        x->r.net_held = HELD_NO;
                        x->r.held_rm[0] = '\0';
                        break;
                case CMD_RM_DEFINE:
                        frr_rm_set_add(&b->held, c->rm);
                        break;
                case CMD_RM_DELETE:
                        frr_rm_set_del(&b->held, c->rm);
                        break;
                default:
                        break;
                }
        }
        b->pos++;
        send_next(b);
}

static void send_next(struct backend *b)
{
        while (b->pos < b->batch.n) {
                struct frr_cmd *c = &b->batch.v[b->pos];
                /* a route-map still named where a change failed stays */
                if (c->kind == CMD_RM_DELETE && b->refused) {
                        b->pos++;
                        continue;
                }
                b->stats.commands++;
                log_debug("frr: %s: %s", daemon_name[c->daemon], c->text);
                int r =
                    frrvty_command(b->vty[c->daemon], c->text, COMMAND_TIMEOUT_USEC, on_reply, b);
                if (r < 0) {
                        struct frrvty_reply rep = {.error = r, .status = -1, .text = ""};
                        on_reply(b->vty[c->daemon], &rep, b);
                }
                return;
        }
        link_up(b);
        batch_end(b);
}

static void apply(struct backend *b)
{
        if (b->inflight || b->querying || !b->dirty) {
                maybe_done(b);
                return;
        }
        if (make_clients(b) < 0) {
                retry_later(b);
                return;
        }
        for (int d = 0; d < 2; d++) {
                int r = frrvty_connect(b->vty[d]);
                if (r < 0) {
                        link_down(b, d, r);
                        if (b->stopping) {
                                maybe_done(b);
                                return;
                        }
                        retry_later(b);
                        return;
                }
                if (r == 1) {
                        forget(b, d);
                        if (d == FRR_BGPD) {
                                b->stats.reasserts++;
                                log_info("frr: new connection to bgpd: asserting all %zu "
                                         "prefixes",
                                         b->n);
                        }
                }
        }
        b->dirty = false;
        size_t bad = SIZE_MAX;
        struct frr_batch batch = {0};
        struct frr_route *rt = calloc(b->n ? b->n : 1, sizeof(*rt));
        if (!rt) {
                b->dirty = true;
                retry_later(b);
                return;
        }
        for (size_t i = 0; i < b->n; i++)
                rt[i] = b->e[i].r;
        int r = frr_plan(rt, b->n, &b->held, b->bgp_asn, b->prepend_asn,
                         b->statics_each ? FRR_PLAN_STATICS_EACH : 0, &batch, &bad);
        free(rt);
        if (r < 0) {
                frr_batch_free(&batch);
                b->dirty = true;
                retry_later(b);
                return;
        }
        if (bad != SIZE_MAX) {
                char p[PREFIX_STRLEN];
                prefix_format(&b->e[bad].r.prefix, p);
                log_err("frr: not announcing %s: its attributes cannot be rendered", p);
        }
        for (size_t i = 0; i < b->n; i++) {
                b->e[i].sent_gen = b->e[i].gen;
                b->e[i].failed = false;
        }
        b->planned_n = b->n;
        if (batch.n == 0) {
                for (size_t i = 0; i < b->n; i++)
                        if (b->e[i].gen > b->e[i].confirmed_gen)
                                b->e[i].confirmed_gen = b->e[i].gen;
                b->stats.in_sync = true;
                maybe_done(b);
                return;
        }
        b->batch = batch;
        b->pos = 0;
        b->inflight = true;
        b->refused = false;
        b->batch_err = 0;
        b->stats.batches++;
        b->stats.in_sync = false;
        b->batch_started = clock_now(b->clk);
        b->last_send_usec = b->batch_started;
        size_t nn = 0, nw = 0;
        for (size_t i = 0; i < batch.n; i++) {
                nn += batch.v[i].kind == CMD_NETWORK;
                nw += batch.v[i].kind == CMD_NO_NETWORK;
        }
        log_info("frr: batch #%" PRIu64 ": %zu commands, %zu network, %zu no network",
                 b->stats.batches, batch.n, nn, nw);
        if (b->decided_usec && b->hooks.route_sent) {
                uint64_t now = clock_now(b->clk);
                b->hooks.route_sent(b->hooks.userdata,
                                    now > b->decided_usec ? now - b->decided_usec : 0);
        }
        b->decided_usec = 0;
        send_next(b);
}

/* ---- backend_ops ---- */

static void on_lost(struct frrvty *v, int error, void *userdata)
{
        struct backend *b = userdata;
        enum frr_daemon d = v == b->vty[FRR_BGPD] ? FRR_BGPD : FRR_STATICD;
        link_down(b, d, error);
        if (b->stopping)
                return;
        /* it forgot our commands if it restarted: assert everything on the
         * next connection */
        b->dirty = true;
        schedule(b);
}

static char *socket_path(const char *dir, const char *name)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%s.vty", dir, name) < 0)
                return NULL;
        return p;
}

static void frr_free(struct backend *b);

static int make_clients(struct backend *b)
{
        const char *dir = b->dir;
        for (int d = 0; d < 2; d++) {
                if (b->vty[d])
                        continue;
                char *path = socket_path(dir, daemon_name[d]);
                if (!path)
                        return -ENOMEM;
                int r = frrvty_new(b->event, b->clk, path, &b->vty[d]);
                free(path);
                if (r < 0)
                        return r;
                frrvty_set_lost(b->vty[d], on_lost, b);
        }
        return 0;
}

static enum route_confirm frr_confirmed(struct backend *b, const struct prefix *p)
{
        struct entry *x = find(b, p);
        if (!x)
                return CONFIRM_NONE;
        if (x->rc.state == RECONCILE_STUCK)
                return CONFIRM_STUCK;
        if (x->rc.state == RECONCILE_DRIFT)
                return CONFIRM_DRIFT;
        if (x->gen <= x->confirmed_gen)
                return CONFIRM_CONFIRMED;
        if (x->gen <= x->failed_gen)
                return CONFIRM_FAILED;
        return CONFIRM_PENDING;
}

static void frr_update(struct backend *b, const struct route_update *u)
{
        char p[PREFIX_STRLEN];
        prefix_format(u->prefix, p);
        struct entry *x = find(b, u->prefix);
        if (u->action == ROUTE_WITHDRAW) {
                if (x && !x->r.want && x->gen)
                        return;
                if (!x && !(x = find_or_add(b, u->prefix))) {
                        log_err("frr: out of memory for %s", p);
                        return;
                }
                x->r.want = false;
                attrs_free(&x->r.attrs);
                x->r.rm[0] = '\0';
                log_debug("frr: withdraw %s at %llu us (%s: %s)", p,
                          (unsigned long long)clock_now(b->clk), u->service ? u->service : "-",
                          u->reason ? u->reason : "-");
        } else if (u->action == ROUTE_ANNOUNCE) {
                static const struct attrs none = {.med = -1};
                const struct attrs *a = u->attrs ? u->attrs : &none;
                if (x && x->r.want && attrs_equal(&x->r.attrs, a))
                        return;
                struct attrs copy;
                if (attrs_copy(&copy, a) < 0 || (!x && !(x = find_or_add(b, u->prefix)))) {
                        log_err("frr: out of memory for %s", p);
                        return;
                }
                attrs_free(&x->r.attrs);
                x->r.attrs = copy;
                x->r.want = true;
                frr_rm_name(&x->r.attrs, b->prepend_asn, x->r.rm);
                log_debug("frr: announce %s with %s at %llu us (%s: %s)", p, x->r.rm,
                          (unsigned long long)clock_now(b->clk), u->service ? u->service : "-",
                          u->reason ? u->reason : "-");
        } else {
                return;
        }
        x->gen = ++b->gen;
        if (u->decided_usec && (!b->decided_usec || u->decided_usec < b->decided_usec))
                b->decided_usec = u->decided_usec;
        b->dirty = true;
        b->stats.in_sync = false;
        if (!b->stopping)
                schedule(b);
}

static void frr_commit(struct backend *b)
{
        if (b->dirty && !b->stopping)
                schedule(b);
}

static void frr_stop(struct backend *b, bool withdraw, void (*done)(void *), void *userdata)
{
        b->stopping = true;
        b->done = done;
        b->done_userdata = userdata;
        if (withdraw) {
                for (size_t i = 0; i < b->n; i++) {
                        struct entry *x = &b->e[i];
                        if (!x->r.want)
                                continue;
                        x->r.want = false;
                        attrs_free(&x->r.attrs);
                        x->r.rm[0] = '\0';
                        x->gen = ++b->gen;
                        b->dirty = true;
                }
        }
        if (b->apply_now)
                sd_event_source_set_enabled(b->apply_now, SD_EVENT_OFF);
        timerq_cancel(b->window, &b->window_end);
        timerq_cancel(b->timers, &b->retry_timer);
        timerq_cancel(b->timers, &b->reconcile_due);
        apply(b);
}

static void frr_free(struct backend *b)
{
        if (!b)
                return;
        for (int d = 0; d < 2; d++)
                frrvty_free(b->vty[d]);
        if (b->window)
                timerq_cancel(b->window, &b->window_end);
        if (b->timers) {
                timerq_cancel(b->timers, &b->retry_timer);
                timerq_cancel(b->timers, &b->reconcile_due);
        }
        reconcile_set_free(&b->listed);
        sd_event_source_disable_unref(b->apply_now);
        timerq_free(b->window);
        timerq_free(b->timers);
        for (size_t i = 0; i < b->n; i++)
                attrs_free(&b->e[i].r.attrs);
        free(b->e);
        frr_batch_free(&b->batch);
        frr_rm_set_free(&b->held);
        free(b->dir);
        sd_event_unref(b->event);
        free(b);
}

static int frr_create(sd_event *e, struct clock *clk, const struct config *cfg,
                      const struct backend_hooks *hooks, struct backend **out)
{
        const struct frr_settings *st = frr_settings(cfg);
        if (!st->socket_dir)
                return -EINVAL;
        if (!frr_bgp_asn(cfg)) {
                log_err("frr: no ASN for `router bgp`: set \"asn\" or \"frr.asn\"");
                return -EINVAL;
        }
        struct backend *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->event = sd_event_ref(e);
        b->clk = clk;
        timerq_item_init(&b->window_end, on_window_end);
        timerq_item_init(&b->retry_timer, on_retry);
        timerq_item_init(&b->reconcile_due, on_reconcile_due);
        b->reconcile_interval = cfg->reconcile.interval_usec;
        b->stuck_after = cfg->reconcile.stuck_after_usec;
        if (hooks)
                b->hooks = *hooks;
        b->bgp_asn = frr_bgp_asn(cfg);
        /* prepend repeats the ASN bgpd puts first on the wire */
        b->prepend_asn = b->bgp_asn;
        b->coalesce_usec = st->coalesce_usec ? st->coalesce_usec : COALESCE_DEFAULT_USEC;
        int r = -ENOMEM;
        b->dir = strdup(st->socket_dir);
        if (!b->dir)
                goto fail;
        r = timerq_new(e, clk, COALESCE_ACCURACY_USEC, &b->window);
        if (r >= 0)
                r = timerq_set_priority(b->window, EV_PRIO_ROUTE);
        if (r >= 0)
                r = timerq_new(e, clk, 1000, &b->timers);
        if (r >= 0)
                r = timerq_set_priority(b->timers, EV_PRIO_SPEAKER);
        if (r >= 0)
                r = sd_event_add_defer(e, &b->apply_now, on_apply_now, b);
        if (r >= 0)
                r = sd_event_source_set_priority(b->apply_now, EV_PRIO_ROUTE);
        if (r >= 0)
                r = sd_event_source_set_enabled(b->apply_now, SD_EVENT_OFF);
        if (r >= 0)
                r = make_clients(b);
        if (r < 0)
                goto fail;
        /* Connect now: reports early whether FRR is reachable, and an open
         * connection is how a restart is noticed. */
        for (int d = 0; d < 2; d++) {
                r = frrvty_connect(b->vty[d]);
                if (r < 0)
                        link_down(b, d, r); /* the first change retries */
        }
        if (b->reconcile_interval)
                timerq_put(b->timers, &b->reconcile_due, clock_now(clk) + b->reconcile_interval);
        *out = b;
        return 0;
fail:
        log_err("frr: cannot start the FRR backend: %s", strerror(-r));
        frr_free(b);
        return r;
}

static enum on_action frr_on_exit(const struct config *cfg)
{
        return frr_settings(cfg)->on_exit;
}

static void frr_counters(const struct backend *b, struct speaker_counters *out)
{
        const struct frr_stats *st = &b->stats;
        uint64_t stuck = 0;
        for (size_t i = 0; i < b->n; i++)
                stuck += b->e[i].rc.state == RECONCILE_STUCK;
        *out = (struct speaker_counters){
            .commands = st->commands,
            .acks = st->replies,
            .errors = st->refused + st->unreachable,
            .reconcile_passes = b->passes,
            .drift = b->drift_total,
            .stuck = stuck,
        };
}

static void frr_metrics(const struct backend *b, FILE *f, const char *pop)
{
        const struct frr_stats *st = &b->stats;
        prom_counter(f, "frr_batches_total", "Batches of vty commands sent to FRR.", pop, NULL,
                     st->batches);
        prom_counter(f, "frr_commands_refused_total", "vty commands FRR refused.", pop, NULL,
                     st->refused);
        prom_counter(f, "frr_unreachable_total", "Batches cut short: FRR not reachable.", pop, NULL,
                     st->unreachable);
        prom_counter(f, "frr_reasserts_total",
                     "Times everything was asserted anew on a new bgpd connection.", pop, NULL,
                     st->reasserts);
        prom_gauge(f, "frr_in_sync", "1 when FRR confirmed everything asked of it.", pop,
                   st->in_sync);
        prom_head(f, "frr_batch_duration_seconds", "histogram",
                  "Time from a batch's first command to FRR's last answer.");
        prom_histogram(f, "frr_batch_duration_seconds", pop, NULL, NULL, NULL, &st->batch_duration);
}

/* Read at start: the sockets, the ASN and the window; on_exit is read when
 * the daemon stops. */
static bool frr_needs_restart(const struct config *a, const struct config *b)
{
        const struct frr_settings *x = frr_settings(a), *y = frr_settings(b);
        return strcmp(x->socket_dir, y->socket_dir) != 0 || frr_bgp_asn(a) != frr_bgp_asn(b) ||
               x->coalesce_usec != y->coalesce_usec;
}

/* ---- reconciliation ----
 *
 * What bgpd really holds: every reconcile.interval, and a second after each
 * clean batch, one listing per family of the routes bgpd originates itself,
 *   show bgp ipv4 unicast regexp ^(ASN_)*$ json
 * (an AS path empty or only our own ASN, prepends included: our networks,
 * and no route learnt from a peer), read as JSON ("routes": prefix -> its
 * paths). A prefix we announce that bgpd does not list with a valid path,
 * or one we withdrew that it lists, is drift: logged once, counted, and
 * repaired by forgetting what we believe bgpd and staticd hold for it, so
 * the next batch asserts it anew (`no network` typed into vtysh, an import
 * check that fails because its static went). Still wrong stuck_after after
 * first seen: stuck, repaired once per interval from then on. Only
 * prefixes FRR answered for are judged, and only when no change was made
 * while the listings ran. */

#define RECONCILE_SOON_USEC  (1000 * 1000ULL)
#define RECONCILE_RETRY_USEC (1000 * 1000ULL)

static void reconcile_at(struct backend *b, uint64_t at)
{
        if (!b->reconcile_interval || b->stopping)
                return;
        if (timerq_item_queued(&b->reconcile_due) && b->reconcile_due.due <= at)
                return;
        timerq_put(b->timers, &b->reconcile_due, at);
}

static void reconcile_soon(struct backend *b)
{
        reconcile_at(b, clock_now(b->clk) + RECONCILE_SOON_USEC);
}

static void query(struct backend *b);

static bool judge(struct backend *b, struct entry *x, bool differs, const char *what, uint64_t now)
{
        const struct reconcile_report r = {"frr", "asserting it again", b->stuck_after, &b->hooks,
                                           &b->drift_total};
        return reconcile_judge(&r, &x->rc, &x->r.prefix, differs, what, now);
}

static void judge_all(struct backend *b)
{
        uint64_t now = clock_now(b->clk);
        reconcile_set_seal(&b->listed);
        b->passes++;
        bool repair = false, stuck_repair = false;
        for (size_t i = 0; i < b->n; i++) {
                struct entry *x = &b->e[i];
                if (x->gen > x->confirmed_gen && x->gen > x->failed_gen)
                        continue; /* FRR has not answered for its newest state */
                bool held = reconcile_set_has(&b->listed, &x->r.prefix);
                bool bad = x->r.want ? judge(b, x, !held, "missing from bgpd's table", now)
                                     : judge(b, x, held, "in bgpd's table, withdrawn by us", now);
                if (!bad)
                        continue;
                if (x->rc.state == RECONCILE_STUCK && now < b->last_repair + b->reconcile_interval)
                        continue;
                stuck_repair |= x->rc.state == RECONCILE_STUCK;
                x->r.net_held = HELD_UNKNOWN;
                x->r.static_held = HELD_UNKNOWN;
                repair = true;
        }
        if (stuck_repair)
                b->last_repair = now;
        reconcile_set_clear(&b->listed);
        if (repair) {
                b->dirty = true;
                schedule(b);
        }
}

static void on_query_reply(struct frrvty *v, const struct frrvty_reply *r, void *userdata)
{
        struct backend *b = userdata;
        int af = b->querying;
        uint64_t now = clock_now(b->clk);
        b->querying = 0;
        if (r->error) {
                link_down(b, FRR_BGPD, r->error);
        } else if (r->status != FRRVTY_SUCCESS) {
                log_warning("frr: reconcile: bgpd refused its listing (status %d): %.120s",
                            r->status, r->text);
        } else if (frr_rib_collect(r->text, r->len, &b->listed) < 0) {
                log_warning("frr: reconcile: bgpd's listing is not the JSON expected");
        } else if (b->gen != b->query_gen || b->stopping) {
                reconcile_at(b, now + RECONCILE_RETRY_USEC); /* changed meanwhile */
        } else if (af == 1) {
                b->querying = 2;
                query(b);
                return;
        } else {
                judge_all(b);
        }
        reconcile_set_clear(&b->listed);
        if (b->dirty)
                schedule(b);
        maybe_done(b);
}

static void query(struct backend *b)
{
        char cmd[96];
        frr_rib_query(b->querying == 1 ? AF_INET : AF_INET6, b->bgp_asn, cmd, sizeof(cmd));
        int r = frrvty_command(b->vty[FRR_BGPD], cmd, COMMAND_TIMEOUT_USEC, on_query_reply, b);
        if (r < 0) {
                struct frrvty_reply rep = {.error = r, .status = -1, .text = ""};
                on_query_reply(b->vty[FRR_BGPD], &rep, b);
        }
}

static void on_reconcile_due(struct timerq_item *it, uint64_t now)
{
        struct backend *b = OWNER(it, reconcile_due);
        if (b->stopping)
                return;
        reconcile_at(b, now + b->reconcile_interval);
        if (b->inflight || b->querying || apply_scheduled(b) || b->dirty || b->link == LINK_DOWN ||
            frrvty_busy(b->vty[FRR_BGPD])) {
                if (b->link != LINK_DOWN)
                        reconcile_at(b, now + RECONCILE_RETRY_USEC);
                return;
        }
        b->querying = 1;
        b->query_gen = b->gen;
        reconcile_set_clear(&b->listed);
        query(b);
}

const struct backend_ops backend_frr_ops = {
    .name = "frr",
    .usage = "drive FRR: network statements in bgpd over its vty socket",
    .on_exit = frr_on_exit,
    .withdraw_all = frr_withdraw_all_action,
    .needs_restart = frr_needs_restart,
    .counters = frr_counters,
    .metrics = frr_metrics,
    .create = frr_create,
    .update = frr_update,
    .commit = frr_commit,
    .stop = frr_stop,
    .free = frr_free,
    .confirmed = frr_confirmed,
};
