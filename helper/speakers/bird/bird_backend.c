/* bird_backend.c: BIRD as a sidecar. Desired routes become one include file
 * of static routes per address family; a change is written beside the old
 * file, fsync'd and renamed into place, then applied with `configure` over
 * BIRD's control socket. When BIRD refuses it, the last file BIRD accepted
 * is put back at once, so BIRD is never left a file it cannot load at its
 * next start.
 *
 * Canary: a route on trial (AUDIENCE_CANARIES) goes to the canary include
 * file beside the main one (bird_canary_path(): routes4-canary.conf),
 * which the snippet's anycast_healthd_canary4/6 read and only the filter
 * anycast_healthd_canary_export, set on the canary peers, exports. BIRD's
 * config, not the service's "neighbors", decides who is a canary peer.
 * The promotion moves the line from the canary file to the main one: both
 * written, then one configure; a refusal restores both. The four files
 * (two families, main and canary) are one unit for everything below.
 *
 * Why write, rename, then configure (and not `configure check` first):
 * BIRD reads our file from its real path, so a check could only test the
 * new text after the rename anyway; a failed `configure` keeps BIRD's
 * running config exactly like a failed check does, so a check would double
 * the time BIRD's main loop is blocked without adding safety. The rendered
 * text is safe by construction (bird_render re-validates every value), and
 * the restore covers the rest; only a BIRD start inside the few
 * milliseconds between a refused rename and its restore could see a bad
 * file. `configure check` is sent once at start, to report early whether
 * BIRD is reachable and its whole configuration loads.
 *
 * Bursts: configures are at least one coalescing window apart
 * (bird.coalesce in the daemon file, 20 ms by default). A change after a quiet
 * window goes out at the next loop iteration (a lone change does not wait);
 * changes within a window of the last configure wait for its end and then
 * go out together: one write and one configure per window. Only one command
 * is in flight; changes meanwhile wait for the next round.
 * BIRD away (no socket, refused, reset, busy, timeout): the files are still
 * kept current, configure is retried with backoff, each state change is
 * logged once.
 *
 * Answers are read by their codes, never their text (bird_ctl.h): 0003
 * "Reconfigured" confirms the files at once (BIRD 2's usual answer). BIRD
 * 3 reconfigures asynchronously and often answers 0004 "in progress" (0005
 * when another reconfiguration is still running, which BIRD 2 can answer
 * too): the files parsed, so they are the new last good ones, but the
 * routes are confirmed only once `configure status` says 0003 "up and
 * running". It is asked after 5 ms, then ever less often (up to once a
 * second) for at most a minute, on the speaker's timers; a change
 * meanwhile is configured as usual and its answer restarts the wait.
 * Status answers that cannot confirm (shutting down, an error code, none
 * known, the minute over) end the wait unconfirmed: configure again with
 * backoff. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "attrs.h"
#include "bird_backend.h"
#include "bird_config.h"
#include "bird_render.h"
#include "bird_rib.h"
#include "bird_ctl.h"
#include "bird_withdraw.h"
#include "event_priority.h"
#include "timerq.h"
#include "file_read.h"
#include "log.h"
#include "prefix.h"
#include "prom_text.h"
#include "reconcile_report.h"

#define COALESCE_DEFAULT_USEC  (20 * 1000ULL)
#define COALESCE_ACCURACY_USEC 1000ULL
#define COMMAND_TIMEOUT_USEC   (10 * 1000 * 1000ULL)
#define BACKOFF_MIN_USEC       (200 * 1000ULL)
#define BACKOFF_MAX_USEC       (30 * 1000 * 1000ULL)
/* `configure status` after 0004/0005: first after STATUS_POLL_MIN, each
 * next one twice as late, capped; given up after STATUS_WAIT_MAX. */
#define STATUS_POLL_MIN_USEC (5 * 1000ULL)
#define STATUS_POLL_MAX_USEC (1000 * 1000ULL)
#define STATUS_WAIT_MAX_USEC (60 * 1000 * 1000ULL)

/* The include files: main IPv4, main IPv6, canary IPv4, canary IPv6. */
#define N_FAM 4

struct route_entry {
        struct prefix prefix;
        uint64_t gen; /* b->gen when last changed */
        struct attrs attrs;
        char *raw;                 /* adopted from the file we found at start; NULL once decided */
        bool canary;               /* on trial: in the canary file (AUDIENCE_CANARIES) */
        struct reconcile_track rc; /* held by BIRD as asked? */
};

struct fam {
        int family;
        bool canary; /* the canary file: routes on trial */
        char *path;
        char *disk;    /* what the file at path holds now (NULL: unknown) */
        char *good;    /* what BIRD accepted last (NULL: unknown) */
        int write_err; /* the last write's error, 0 after a success */
};

enum link_state { LINK_UNKNOWN, LINK_UP, LINK_DOWN };

struct backend {
        sd_event *event;
        struct birdctl *ctl;
        char *socket;
        uint32_t asn;
        uint64_t coalesce_usec;
        /* IPv4, IPv6, then their canary files (routes on trial, the
         * snippet's anycast_healthd_canary4/6): every write, restore and
         * configure covers all four. */
        struct fam fam[N_FAM];
        struct route_entry *routes; /* sorted: family, address, length */
        size_t n_routes, cap_routes;
        bool dirty;          /* routes changed since the files were rendered */
        bool need_configure; /* the files differ from what BIRD confirmed */
        bool recheck;        /* completion unconfirmed: configure again after a backoff */
        bool awaiting;       /* BIRD parsed the last configure and applies it: ask
                              * `configure status` until it is done */
        /* The next apply: a defer when due now, the window's end otherwise. */
        sd_event_source *apply_now;
        struct timerq *window; /* at EV_PRIO_ROUTE: its end applies routes */
        struct timerq_item window_end;
        uint64_t last_send_usec; /* when the last configure went out; 0: none yet */
        uint64_t decided_usec;   /* the oldest decision not yet carried by a configure; 0: none */
        struct backend_hooks hooks;
        struct timerq *timers; /* at EV_PRIO_SPEAKER */
        struct timerq_item retry_timer;
        uint64_t backoff_usec;
        struct timerq_item status_timer; /* the next `configure status` */
        uint64_t status_delay_usec;      /* the wait before it */
        uint64_t awaiting_since;         /* clk's µs of the answer that started the wait */
        int awaiting_code;               /* that answer's code (0004, 0005) */
        enum link_state link;
        int link_err;
        bool stopping;
        void (*done)(void *);
        void *done_userdata;
        struct bird_stats stats;
        /* Per-prefix confirmation: every update bumps gen; the files
         * rendered hold everything up to written_gen; BIRD confirmed (or
         * refused) files up to confirmed_gen (failed_gen). */
        uint64_t gen, written_gen, inflight_gen, confirmed_gen, failed_gen;
        struct withdrawn {
                struct prefix prefix;
                uint64_t gen;
                struct reconcile_track rc; /* not held by BIRD, as asked? */
        } * wd;
        size_t n_wd;
        /* Reconciliation (see its section below). */
        uint64_t reconcile_interval, stuck_after; /* 0: off */
        struct timerq_item reconcile_due;
        uint64_t reconcile_gen;    /* b->gen when it was asked for */
        struct reconcile_set held; /* our prefixes BIRD listed (main protocols) */
        struct reconcile_set held_canary; /* ... and in the canary protocols */
        struct bird_rib_reader rib;       /* the listing being read */
        struct withdrawn *extra;   /* listed, never asked for by us: someone else's line */
        size_t n_extra;
        uint64_t drift_total, passes;
        uint64_t last_repair;       /* when a pass last rewrote and configured */
        uint64_t configure_started; /* clk's µs of the configure in flight */
        struct clock *clk;
};

static void apply(struct backend *b);
static void reconcile_soon(struct backend *b);
static void on_reconcile_due(struct timerq_item *it, uint64_t now);

/* For the debug lines that time a change through to BIRD's answer
 * (test/bench/bird): the clock now, not the loop iteration's. */
static unsigned long long mono_usec(const struct backend *b)
{
        return (unsigned long long)clock_now(b->clk);
}

static bool apply_scheduled(const struct backend *b)
{
        int on = SD_EVENT_OFF;
        if (b->apply_now)
                sd_event_source_get_enabled(b->apply_now, &on);
        return on != SD_EVENT_OFF || timerq_item_queued(&b->window_end);
}

static void unschedule(struct backend *b)
{
        if (b->apply_now)
                sd_event_source_set_enabled(b->apply_now, SD_EVENT_OFF);
        if (b->window)
                timerq_cancel(b->window, &b->window_end);
        if (b->timers) {
                timerq_cancel(b->timers, &b->retry_timer);
                timerq_cancel(b->timers, &b->status_timer);
        }
}

const struct bird_stats *backend_bird_stats(const struct backend *b)
{
        return &b->stats;
}

/* ---- desired routes ---- */

/* Index of p, or where it would go (with *found false). */
static size_t route_find(const struct backend *b, const struct prefix *p, bool *found)
{
        size_t lo = 0, hi = b->n_routes;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = prefix_cmp(&b->routes[mid].prefix, p);
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

static bool strv_equal(char **a, size_t na, char **b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

/* Equal as far as the include file is concerned (next_hop is not rendered). */
static bool attrs_equal(const struct attrs *a, const struct attrs *b)
{
        return a->med == b->med && a->prepend == b->prepend &&
               strv_equal(a->communities, a->n_communities, b->communities, b->n_communities) &&
               strv_equal(a->large_communities, a->n_large_communities, b->large_communities,
                          b->n_large_communities);
}

static void route_remove(struct backend *b, size_t i)
{
        attrs_free(&b->routes[i].attrs);
        free(b->routes[i].raw);
        memmove(&b->routes[i], &b->routes[i + 1], (b->n_routes - i - 1) * sizeof(b->routes[0]));
        b->n_routes--;
}

static int route_insert(struct backend *b, size_t i, const struct prefix *p)
{
        if (b->n_routes == b->cap_routes) {
                size_t cap = b->cap_routes ? b->cap_routes * 2 : 16;
                struct route_entry *r = reallocarray(b->routes, cap, sizeof(*r));
                if (!r)
                        return -ENOMEM;
                b->routes = r;
                b->cap_routes = cap;
        }
        memmove(&b->routes[i + 1], &b->routes[i], (b->n_routes - i) * sizeof(b->routes[0]));
        b->routes[i] = (struct route_entry){.prefix = *p, .attrs = {.med = -1}};
        b->n_routes++;
        return 0;
}

/* ---- files ---- */

/* Include files are ours, but a FIFO put in their place must not stall
 * the start (file_read.h). */
#define INCLUDE_FILE_MAX (64 << 20)

static int fam_write(struct backend *b, struct fam *f, const char *text)
{
        int r = bird_write_atomic(f->path, text);
        if (r < 0) {
                b->stats.write_failed++;
                snprintf(b->stats.last_error, sizeof(b->stats.last_error), "writing %s: %s",
                         f->path, strerror(-r));
                /* Retried with backoff: say it once, not every round. */
                if (r != f->write_err)
                        log_err("bird: cannot write %s: %s; BIRD keeps its current routes, "
                                "retrying",
                                f->path, strerror(-r));
                else
                        log_debug("bird: still cannot write %s: %s", f->path, strerror(-r));
                f->write_err = r;
                return r;
        }
        if (f->write_err) {
                log_notice("bird: %s written again", f->path);
                f->write_err = 0;
        }
        char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        free(f->disk);
        f->disk = copy;
        b->stats.writes++;
        return 0;
}

static bool text_equal(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

/* Renders every file (both families, main and canary) and writes those
 * that changed. All four are written before the one configure that
 * follows: a promotion (canary file to main file) is one configure.
 * Returns <0 when a write failed (the old file stays). */
static int write_files(struct backend *b)
{
        struct bird_route *rt = calloc(b->n_routes ? b->n_routes : 1, sizeof(*rt));
        if (!rt)
                return -ENOMEM;
        int ret = 0;
        for (int k = 0; k < N_FAM; k++) {
                struct fam *f = &b->fam[k];
                size_t n = 0;
                for (size_t i = 0; i < b->n_routes; i++) {
                        const struct route_entry *e = &b->routes[i];
                        if (e->canary == f->canary && e->prefix.family == f->family)
                                rt[n++] = (struct bird_route){e->prefix, &e->attrs, e->raw};
                }
                char *text = NULL;
                const char *why = NULL;
                int r = bird_render_file(f->family, f->canary, rt, n, b->asn, &text, &why);
                if (r == -EINVAL) {
                        /* The config validates attributes; this guards the
                         * file BIRD must be able to load, so skip the bad
                         * routes rather than the whole family. */
                        size_t m = 0;
                        for (size_t i = 0; i < n; i++) {
                                char *one = NULL;
                                const char *w = NULL;
                                if (bird_render(f->family, &rt[i], 1, b->asn, &one, &w) == 0) {
                                        rt[m++] = rt[i];
                                        free(one);
                                        continue;
                                }
                                char p[PREFIX_STRLEN];
                                prefix_format(&rt[i].prefix, p);
                                log_err("bird: not announcing %s: %s", p, w);
                                b->stats.render_failed++;
                        }
                        n = m;
                        r = bird_render_file(f->family, f->canary, rt, n, b->asn, &text, &why);
                }
                if (r < 0) {
                        ret = r;
                        continue;
                }
                if (!text_equal(text, f->disk)) {
                        r = fam_write(b, f, text);
                        if (r < 0)
                                ret = r;
                        else
                                b->need_configure = true;
                }
                free(text);
        }
        free(rt);
        return ret;
}

/* Puts the last accepted text back where BIRD refused the new one. */
static void restore_good(struct backend *b)
{
        for (int k = 0; k < N_FAM; k++) {
                struct fam *f = &b->fam[k];
                if (!f->good || text_equal(f->good, f->disk))
                        continue;
                if (fam_write(b, f, f->good) == 0) {
                        b->stats.restores++;
                        log_notice("bird: restored the last good %s", f->path);
                }
        }
}

static void mark_good(struct backend *b)
{
        for (int k = 0; k < N_FAM; k++) {
                struct fam *f = &b->fam[k];
                if (!f->disk || text_equal(f->disk, f->good))
                        continue;
                char *copy = strdup(f->disk);
                if (!copy)
                        continue;
                free(f->good);
                f->good = copy;
        }
}

/* ---- link state ---- */

static void socket_group(const char *path, char *buf, size_t size)
{
        struct stat st;
        snprintf(buf, size, "bird");
        if (stat(path, &st) < 0)
                return;
        struct group *g = getgrgid(st.st_gid);
        if (g)
                snprintf(buf, size, "%s", g->gr_name);
        else
                snprintf(buf, size, "%u", (unsigned)st.st_gid);
}

static void link_up(struct backend *b)
{
        b->stats.reachable = true;
        if (b->link != LINK_UP)
                log_notice("bird: BIRD answers on %s", b->socket);
        b->link = LINK_UP;
        b->link_err = 0;
}

static void link_down(struct backend *b, int err)
{
        b->stats.reachable = false;
        b->stats.unreachable++;
        if (err == -EACCES) {
                char grp[64];
                socket_group(b->socket, grp, sizeof(grp));
                snprintf(b->stats.last_error, sizeof(b->stats.last_error),
                         "permission denied on %s: join group %s", b->socket, grp);
        } else {
                snprintf(b->stats.last_error, sizeof(b->stats.last_error), "%s: %s", b->socket,
                         strerror(-err));
        }
        /* No socket and a refused connect are one state: BIRD is not
         * running (a restart can show both). */
        int state = err == -ECONNREFUSED ? -ENOENT : err;
        if (b->link == LINK_DOWN && b->link_err == state)
                return;
        b->link = LINK_DOWN;
        b->link_err = state;
        switch (err) {
        case -EACCES:
                log_err("bird: cannot connect to BIRD's control socket: %s (add the daemon's "
                        "user to that group, e.g. SupplementaryGroups=, and restart it)",
                        b->stats.last_error);
                break;
        case -ENOENT:
        case -ECONNREFUSED:
                log_warning("bird: BIRD is not running (%s: %s); keeping the include files "
                            "current and retrying",
                            b->socket, strerror(-err));
                break;
        case -ECONNRESET:
                log_warning("bird: lost the connection to BIRD on %s (BIRD restarted?); "
                            "retrying",
                            b->socket);
                break;
        case -EAGAIN:
                log_warning("bird: BIRD is busy (%s accepts no connection); retrying", b->socket);
                break;
        case -ETIMEDOUT:
                log_warning("bird: BIRD did not answer on %s in time; retrying", b->socket);
                break;
        default:
                log_warning("bird: BIRD's control socket %s: %s; retrying", b->socket,
                            strerror(-err));
        }
}

/* ---- scheduling ---- */

static bool settled(const struct backend *b)
{
        return !b->dirty && !b->need_configure && !b->recheck && !b->awaiting &&
               !birdctl_busy(b->ctl);
}

static void maybe_done(struct backend *b)
{
        if (!b->stopping || !b->done || birdctl_busy(b->ctl))
                return;
        if (b->dirty || apply_scheduled(b))
                return;
        void (*done)(void *) = b->done;
        b->done = NULL;
        done(b->done_userdata);
}

#define OWNER(it, member) ((struct backend *)((char *)(it)-offsetof(struct backend, member)))

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
                log_err("bird: cannot arm the retry timer");
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
        if (apply_scheduled(b) || birdctl_busy(b->ctl))
                return; /* the running round or the reply picks the change up */
        uint64_t now = clock_now(b->clk);
        /* Leading edge: after a quiet window the change goes out in the
         * next loop iteration, with everything this dispatch produced, so
         * a lone change does not wait. Within a window of the last
         * configure it waits for the window to end: a burst costs one
         * configure per window. */
        uint64_t at = b->last_send_usec + b->coalesce_usec;
        if (!b->last_send_usec || at <= now) {
                /* A defer, not a timer due now: a timer is only seen once
                 * the loop has polled again, behind everything pending. */
                if (sd_event_source_set_enabled(b->apply_now, SD_EVENT_ONESHOT) >= 0)
                        return;
        } else if (timerq_put(b->window, &b->window_end, at) >= 0) {
                return;
        }
        log_err("bird: cannot arm the coalescing timer; applying now");
        apply(b);
}

/* BIRD runs the files as they are now: everything sent so far counts. */
static void confirm_applied(struct backend *b)
{
        b->awaiting = false;
        b->backoff_usec = 0;
        b->stats.last_error[0] = '\0';
        if (b->inflight_gen > b->confirmed_gen)
                b->confirmed_gen = b->inflight_gen;
}

/* The wait for `configure status` ended without a confirmation: configure
 * again after a backoff (the answer to that starts a new wait). */
static void unconfirmed(struct backend *b)
{
        b->awaiting = false;
        timerq_cancel(b->timers, &b->status_timer);
        b->recheck = true;
        retry_later(b);
}

static void status_later(struct backend *b)
{
        if (timerq_put(b->timers, &b->status_timer, clock_now(b->clk) + b->status_delay_usec) < 0) {
                log_err("bird: cannot arm the configure status timer");
                unconfirmed(b);
                return;
        }
        b->status_delay_usec *= 2;
        if (b->status_delay_usec > STATUS_POLL_MAX_USEC)
                b->status_delay_usec = STATUS_POLL_MAX_USEC;
}

/* After the reply to a configure or a status: stop, or the next round for
 * changes made meanwhile. */
static void after_reply(struct backend *b, bool answered)
{
        if (b->stopping) {
                /* One final round for changes made meanwhile, no retries
                 * and no wait for `configure status`. With BIRD away only
                 * the files can be made right: BIRD reads them when it
                 * comes back. */
                b->awaiting = false;
                timerq_cancel(b->timers, &b->status_timer);
                if (b->dirty && answered) {
                        apply(b);
                        return;
                }
                if (b->dirty) {
                        b->dirty = false;
                        write_files(b);
                }
                b->recheck = false;
                maybe_done(b);
                return;
        }
        b->stats.in_sync = settled(b);
        if (b->dirty && !timerq_item_queued(&b->retry_timer))
                schedule(b);
        /* After each answer BIRD gave (confirmation or refusal): is what
         * it holds what we asked? */
        if (answered)
                reconcile_soon(b);
}

static void on_status_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata)
{
        struct backend *b = userdata;
        b->stats.status_polls++;
        if (b->stopping) {
                after_reply(b, !r->error);
                return;
        }
        if (r->error) {
                /* BIRD may have restarted: configure again once it is back. */
                link_down(b, r->error);
                b->awaiting = false;
                b->need_configure = true;
                retry_later(b);
                after_reply(b, false);
                return;
        }
        link_up(b);
        double ms = (double)(clock_now(b->clk) - b->awaiting_since) / 1000.0;
        switch (birdctl_status_answer(r)) {
        case BIRDCTL_STATUS_DONE:
                log_info("bird: configure %" PRIu64 " applied: configure status answered 0003 "
                         "%.1f ms after %04d",
                         b->stats.configures, ms, b->awaiting_code);
                confirm_applied(b);
                break;
        case BIRDCTL_STATUS_PROGRESS:
                if (clock_now(b->clk) - b->awaiting_since < STATUS_WAIT_MAX_USEC) {
                        log_debug("bird: configure status: %04d, asking again in %.1f ms",
                                  r->codes[0], (double)b->status_delay_usec / 1000.0);
                        status_later(b);
                        break;
                }
                snprintf(b->stats.last_error, sizeof(b->stats.last_error),
                         "BIRD still reconfiguring after %.0f s", ms / 1000.0);
                log_warning("bird: BIRD still reconfiguring %.0f s after %04d; configuring "
                            "again",
                            ms / 1000.0, b->awaiting_code);
                unconfirmed(b);
                break;
        case BIRDCTL_STATUS_SHUTDOWN:
                log_warning("bird: BIRD is shutting down; configuring again when it is back");
                unconfirmed(b);
                break;
        case BIRDCTL_STATUS_REFUSED:
        case BIRDCTL_STATUS_UNKNOWN:
                snprintf(b->stats.last_error, sizeof(b->stats.last_error),
                         "configure status answered %04d %s", r->code, r->text);
                log_warning("bird: cannot confirm configure %" PRIu64 ": configure status "
                            "answered %04d %s; configuring again later",
                            b->stats.configures, r->code, r->text);
                unconfirmed(b);
                break;
        }
        after_reply(b, true);
}

static void on_status_timer(struct timerq_item *it, uint64_t now)
{
        struct backend *b = OWNER(it, status_timer);
        if (!b->awaiting || b->stopping || birdctl_busy(b->ctl))
                return; /* a configure went out meanwhile: its answer decides */
        int r =
            birdctl_command(b->ctl, "configure status", COMMAND_TIMEOUT_USEC, on_status_reply, b);
        if (r < 0) {
                struct birdctl_reply rep = {.error = r, .code = -1, .text = "", .all = ""};
                on_status_reply(b->ctl, &rep, b);
        }
}

static void on_configure_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata)
{
        struct backend *b = userdata;
        if (!r->error)
                duration_hist_add(&b->stats.configure_duration,
                                  mono_usec(b) - b->configure_started);
        log_debug("bird: configure answered %04d at %llu us%s", r->error ? 0 : r->code,
                  mono_usec(b), r->error ? " (no reply)" : "");
        /* One line per answer, with its time: what a change cost BIRD
         * (test/bench/overload reads it). */
        if (!r->error)
                log_info("bird: answer to configure %" PRIu64 ": %04d in %.1f ms",
                         b->stats.configures, r->code,
                         (double)(mono_usec(b) - b->configure_started) / 1000.0);
        b->awaiting = false;
        timerq_cancel(b->timers, &b->status_timer);
        enum birdctl_configure what =
            r->error ? BIRDCTL_CONFIGURE_REFUSED : birdctl_configure_answer(r->code);
        if (r->error) {
                link_down(b, r->error);
                retry_later(b);
        } else if (what == BIRDCTL_CONFIGURE_REFUSED) {
                link_up(b);
                b->stats.configure_failed++;
                /* The final line carries "file:line:col message". */
                snprintf(b->stats.last_error, sizeof(b->stats.last_error), "%04d %s", r->code,
                         r->text);
                log_err("bird: BIRD refused the new include files: %04d %s", r->code, r->text);
                /* BIRD kept its running config; make the files match it
                 * again, then try the desired state later. While stopping
                 * there is no retry of the refused text, but changes the
                 * stop itself made (withdraw all) stay pending. */
                restore_good(b);
                if (b->inflight_gen > b->failed_gen)
                        b->failed_gen = b->inflight_gen;
                b->need_configure = false;
                b->recheck = false;
                if (!b->stopping)
                        b->dirty = true;
                retry_later(b);
        } else {
                link_up(b);
                b->stats.configure_ok++;
                /* Every 0xxx answer to `configure` means BIRD parsed the
                 * files: they are the last good ones. */
                mark_good(b);
                b->need_configure = false;
                b->recheck = false;
                if (what == BIRDCTL_CONFIGURE_DONE) {
                        confirm_applied(b);
                } else if (what == BIRDCTL_CONFIGURE_SHUTDOWN) {
                        log_warning("bird: BIRD is shutting down (%04d); configuring again "
                                    "when it is back",
                                    r->code);
                        b->recheck = true;
                        retry_later(b);
                } else if (!b->stopping) {
                        /* 0004, 0005: applied later; `configure status`
                         * says when. */
                        b->awaiting = true;
                        b->awaiting_code = r->code;
                        b->awaiting_since = clock_now(b->clk);
                        b->status_delay_usec = STATUS_POLL_MIN_USEC;
                        status_later(b);
                }
        }
        after_reply(b, !r->error);
}

static void send_configure(struct backend *b)
{
        /* A wait for `configure status` ends here: this answer decides. */
        timerq_cancel(b->timers, &b->status_timer);
        b->inflight_gen = b->written_gen;
        b->stats.in_sync = false;
        b->configure_started = mono_usec(b);
        b->last_send_usec = mono_usec(b); /* after rendering: the window is between sends */
        log_debug("bird: configure sent at %llu us (%zu routes)", mono_usec(b), b->n_routes);
        int r = birdctl_command(b->ctl, "configure", COMMAND_TIMEOUT_USEC, on_configure_reply, b);
        if (r == 0) {
                if (b->decided_usec && b->hooks.route_sent) {
                        uint64_t now = mono_usec(b);
                        b->hooks.route_sent(b->hooks.userdata,
                                            now > b->decided_usec ? now - b->decided_usec : 0);
                }
                b->decided_usec = 0;
                /* One line per configure sent: operators (and the tests)
                 * see what a burst of changes cost. */
                b->stats.configures++;
                size_t n4 = 0, trial = 0;
                for (size_t i = 0; i < b->n_routes; i++) {
                        n4 += b->routes[i].prefix.family == AF_INET;
                        trial += b->routes[i].canary;
                }
                if (trial)
                        log_info("bird: configure #%" PRIu64 ": %zu IPv4 and %zu IPv6 routes, "
                                 "%zu of them on trial (canary files)",
                                 b->stats.configures, n4, b->n_routes - n4, trial);
                else
                        log_info("bird: configure #%" PRIu64 ": %zu IPv4 and %zu IPv6 routes",
                                 b->stats.configures, n4, b->n_routes - n4);
        } else {
                struct birdctl_reply rep = {.error = r, .code = -1, .text = "", .all = ""};
                on_configure_reply(b->ctl, &rep, b);
        }
}

static void apply(struct backend *b)
{
        if (birdctl_busy(b->ctl))
                return; /* the reply schedules the next round */
        if (b->dirty) {
                b->dirty = false;
                b->written_gen = b->gen;
                if (write_files(b) < 0 && !b->stopping) {
                        b->dirty = true;
                        retry_later(b);
                }
        }
        if ((b->need_configure || b->recheck) && !timerq_item_queued(&b->retry_timer)) {
                send_configure(b);
                return;
        }
        b->stats.in_sync = settled(b);
        /* Nothing to configure: the files equal what BIRD accepted last. */
        bool all_good = true;
        for (int k = 0; k < N_FAM; k++)
                all_good &= text_equal(b->fam[k].disk, b->fam[k].good);
        if (b->stats.in_sync && all_good && b->written_gen > b->confirmed_gen)
                b->confirmed_gen = b->written_gen;
        maybe_done(b);
}

/* ---- startup ---- */

static bool prefix_configured(const struct config *cfg, const struct prefix *p)
{
        for (size_t i = 0; i < cfg->n_services; i++)
                for (size_t j = 0; j < cfg->services[i].n_prefixes; j++)
                        if (cfg->services[i].prefixes[j].family == p->family &&
                            cfg->services[i].prefixes[j].len == p->len &&
                            memcmp(cfg->services[i].prefixes[j].addr, p->addr, 16) == 0)
                                return true;
        return false;
}

/* Routes found in the file we wrote before stay until the engine decides
 * them: a restart with unchanged health causes no churn. Prefixes no longer
 * configured are dropped with the next write. */
static int adopt(struct backend *b, const struct config *cfg, const char *text, bool canary)
{
        const char *s = text;
        while (*s) {
                const char *nl = strchr(s, '\n');
                size_t len = nl ? (size_t)(nl - s) : strlen(s);
                char *line = strndup(s, len);
                if (!line)
                        return -ENOMEM;
                struct prefix p;
                size_t off;
                bool found;
                if (bird_render_parse_line(line, &p, &off) == 0 && prefix_configured(cfg, &p)) {
                        size_t i = route_find(b, &p, &found);
                        if (!found) {
                                char *raw = strdup(line + off);
                                if (!raw || route_insert(b, i, &p) < 0) {
                                        free(raw);
                                        free(line);
                                        return -ENOMEM;
                                }
                                b->routes[i].raw = raw;
                                b->routes[i].canary = canary;
                        }
                }
                free(line);
                s += len + (nl ? 1 : 0);
        }
        return 0;
}

static void on_check_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata)
{
        struct backend *b = userdata;
        if (r->error) {
                link_down(b, r->error);
        } else if (birdctl_code_is_error(r->code)) {
                link_up(b);
                snprintf(b->stats.last_error, sizeof(b->stats.last_error), "%04d %s", r->code,
                         r->text);
                log_err("bird: BIRD's configuration does not load as it is now: %04d %s", r->code,
                        r->text);
        } else {
                link_up(b);
                log_info("bird: BIRD's configuration checks out (%04d %s)", r->code, r->text);
        }
        if (b->dirty || b->stopping)
                apply(b);
}

static int fam_init(struct backend *b, struct fam *f, int family, bool canary, const char *path,
                    const struct config *cfg)
{
        f->family = family;
        f->canary = canary;
        f->path = strdup(path);
        if (!f->path)
                return -ENOMEM;
        char *text = NULL, whyr[128];
        size_t len;
        int r = file_read_regular(path, INCLUDE_FILE_MAX, &text, &len, whyr, sizeof(whyr));
        if (r == 0) {
                /* BIRD loaded this file if it runs; it is our fallback. */
                f->disk = text;
                f->good = strdup(text);
                if (!f->good)
                        return -ENOMEM;
                return adopt(b, cfg, text, canary);
        }
        if (r != -ENOENT) {
                log_err("bird: cannot read %s: %s", path, whyr);
                return r;
        }
        /* BIRD cannot start while an include file is missing: write an
         * empty one now. */
        const char *why;
        r = bird_render_file(family, canary, NULL, 0, 0, &text, &why);
        if (r < 0)
                return r;
        r = fam_write(b, f, text);
        if (r == 0) {
                f->good = text;
                text = NULL;
        }
        free(text);
        return r;
}

static void bird_free(struct backend *b);

static int bird_create(sd_event *e, struct clock *clk, const struct config *cfg,
                       const struct backend_hooks *hooks, struct backend **out)
{
        const struct bird_settings *st = bird_settings(cfg);
        if (!st->socket || !st->include_v4 || !st->include_v6)
                return -EINVAL;
        struct backend *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->event = sd_event_ref(e);
        b->clk = clk;
        timerq_item_init(&b->window_end, on_window_end);
        timerq_item_init(&b->retry_timer, on_retry);
        timerq_item_init(&b->status_timer, on_status_timer);
        timerq_item_init(&b->reconcile_due, on_reconcile_due);
        b->reconcile_interval = cfg->reconcile.interval_usec;
        b->stuck_after = cfg->reconcile.stuck_after_usec;
        if (hooks)
                b->hooks = *hooks;
        b->asn = cfg->asn;
        b->coalesce_usec = st->coalesce_usec ? st->coalesce_usec : COALESCE_DEFAULT_USEC;
        int r = -ENOMEM;
        b->socket = strdup(st->socket);
        if (!b->socket)
                goto fail;
        /* Accuracy 1 ms: the window is a few ms to a second, and sd-event's
         * default (250 ms) would stretch it by up to a quarter second. */
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
        if (r < 0)
                goto fail;
        r = birdctl_new(e, clk, st->socket, &b->ctl);
        if (r < 0)
                goto fail;
        /* The main files first: a prefix found in both (a file edited by
         * hand) is adopted as announced to everyone. */
        for (int k = 0; k < N_FAM; k++) {
                bool canary = k >= 2;
                const char *inc = k % 2 ? st->include_v6 : st->include_v4;
                char *path = canary ? bird_canary_path(inc) : strdup(inc);
                r = path ? fam_init(b, &b->fam[k], k % 2 ? AF_INET6 : AF_INET, canary, path, cfg)
                         : -ENOMEM;
                free(path);
                if (r < 0)
                        goto fail;
        }
        r = birdctl_command(b->ctl, "configure check", COMMAND_TIMEOUT_USEC, on_check_reply, b);
        if (r < 0)
                link_down(b, r); /* the first change retries */
        if (b->reconcile_interval)
                timerq_put(b->timers, &b->reconcile_due, clock_now(clk) + b->reconcile_interval);
        *out = b;
        return 0;
fail:
        log_err("bird: cannot start the BIRD backend: %s", strerror(-r));
        bird_free(b);
        return r;
}

/* ---- backend_ops ---- */

static struct withdrawn *find_withdrawn(struct backend *b, const struct prefix *p)
{
        for (size_t i = 0; i < b->n_wd; i++)
                if (prefix_cmp(&b->wd[i].prefix, p) == 0)
                        return &b->wd[i];
        return NULL;
}

static void note_withdrawn(struct backend *b, const struct prefix *p, uint64_t gen)
{
        struct withdrawn *w = find_withdrawn(b, p);
        if (!w) {
                struct withdrawn *n = reallocarray(b->wd, b->n_wd + 1, sizeof(*n));
                if (!n)
                        return;
                b->wd = n;
                w = &b->wd[b->n_wd++];
                /* all of it: a reused slot keeps a forgotten entry's clock */
                *w = (struct withdrawn){.prefix = *p};
        }
        w->gen = gen;
}

static void forget_withdrawn(struct backend *b, const struct prefix *p)
{
        struct withdrawn *w = find_withdrawn(b, p);
        if (w)
                *w = b->wd[--b->n_wd];
}

static enum route_confirm bird_confirmed(struct backend *b, const struct prefix *p)
{
        bool found;
        size_t i = route_find(b, p, &found);
        uint64_t gen;
        const struct reconcile_track *rc;
        if (found) {
                gen = b->routes[i].gen;
                rc = &b->routes[i].rc;
        } else {
                struct withdrawn *w = find_withdrawn(b, p);
                if (!w)
                        return CONFIRM_NONE;
                gen = w->gen;
                rc = &w->rc;
        }
        if (rc->state == RECONCILE_STUCK)
                return CONFIRM_STUCK;
        if (rc->state == RECONCILE_DRIFT)
                return CONFIRM_DRIFT;
        if (gen <= b->confirmed_gen)
                return CONFIRM_CONFIRMED;
        if (gen <= b->failed_gen)
                return CONFIRM_FAILED;
        return CONFIRM_PENDING;
}

static void bird_update(struct backend *b, const struct route_update *u)
{
        bool found;
        size_t i = route_find(b, u->prefix, &found);
        char p[PREFIX_STRLEN];
        prefix_format(u->prefix, p);
        if (u->action == ROUTE_WITHDRAW) {
                note_withdrawn(b, u->prefix, found ? ++b->gen : b->confirmed_gen);
                if (!found)
                        return;
                route_remove(b, i);
                log_debug("bird: withdraw %s at %llu us (%s: %s)", p, mono_usec(b),
                          u->service ? u->service : "-", u->reason ? u->reason : "-");
        } else if (u->action == ROUTE_ANNOUNCE) {
                static const struct attrs none = {.med = -1};
                const struct attrs *a = u->attrs ? u->attrs : &none;
                /* AUDIENCE_CANARIES: the canary file; anything else (the
                 * promotion among them) the main one */
                bool canary = u->audience == AUDIENCE_CANARIES;
                if (found && !b->routes[i].raw && attrs_equal(&b->routes[i].attrs, a) &&
                    b->routes[i].canary == canary)
                        return;
                struct attrs copy;
                if (attrs_copy(&copy, a) < 0) {
                        log_err("bird: out of memory for %s", p);
                        return;
                }
                if (!found && route_insert(b, i, u->prefix) < 0) {
                        attrs_free(&copy);
                        log_err("bird: out of memory for %s", p);
                        return;
                }
                attrs_free(&b->routes[i].attrs);
                free(b->routes[i].raw);
                b->routes[i].raw = NULL;
                b->routes[i].attrs = copy;
                b->routes[i].canary = canary;
                b->routes[i].gen = ++b->gen;
                forget_withdrawn(b, u->prefix);
                log_debug("bird: announce %s%s at %llu us (%s: %s)", p,
                          canary ? " to the canaries" : "", mono_usec(b),
                          u->service ? u->service : "-", u->reason ? u->reason : "-");
        } else {
                return;
        }
        if (u->decided_usec && (!b->decided_usec || u->decided_usec < b->decided_usec))
                b->decided_usec = u->decided_usec;
        b->dirty = true;
        b->stats.in_sync = false;
        if (!b->stopping)
                schedule(b);
}

static void bird_commit(struct backend *b)
{
        if (b->dirty && !b->stopping)
                schedule(b);
}

static void bird_stop(struct backend *b, bool withdraw, void (*done)(void *), void *userdata)
{
        b->stopping = true;
        b->done = done;
        b->done_userdata = userdata;
        timerq_cancel(b->timers, &b->reconcile_due);
        if (withdraw) {
                while (b->n_routes)
                        route_remove(b, b->n_routes - 1);
                b->dirty = true;
        }
        unschedule(b);
        b->recheck = false;
        b->awaiting = false;
        /* With BIRD away, only the files can be made right. */
        if (b->link == LINK_DOWN && !birdctl_busy(b->ctl) && b->dirty) {
                b->dirty = false;
                write_files(b);
                maybe_done(b);
                return;
        }
        apply(b);
}

static void bird_free(struct backend *b)
{
        if (!b)
                return;
        birdctl_free(b->ctl);
        unschedule(b);
        if (b->timers)
                timerq_cancel(b->timers, &b->reconcile_due);
        reconcile_set_free(&b->held);
        reconcile_set_free(&b->held_canary);
        free(b->extra);
        sd_event_source_disable_unref(b->apply_now);
        timerq_free(b->window);
        timerq_free(b->timers);
        while (b->n_routes)
                route_remove(b, b->n_routes - 1);
        free(b->routes);
        for (int k = 0; k < N_FAM; k++) {
                free(b->fam[k].path);
                free(b->fam[k].disk);
                free(b->fam[k].good);
        }
        free(b->socket);
        free(b->wd);
        sd_event_unref(b->event);
        free(b);
}

static enum on_action bird_on_exit(const struct config *cfg)
{
        return bird_settings(cfg)->on_exit;
}

static void bird_counters(const struct backend *b, struct speaker_counters *out)
{
        const struct bird_stats *st = &b->stats;
        uint64_t stuck = 0;
        for (size_t i = 0; i < b->n_routes; i++)
                stuck += b->routes[i].rc.state == RECONCILE_STUCK;
        for (size_t i = 0; i < b->n_wd; i++)
                stuck += b->wd[i].rc.state == RECONCILE_STUCK;
        for (size_t i = 0; i < b->n_extra; i++)
                stuck += b->extra[i].rc.state == RECONCILE_STUCK;
        *out = (struct speaker_counters){
            .commands = st->configures,
            .acks = st->configure_ok + st->configure_failed,
            .errors = st->configure_failed + st->unreachable,
            .reconcile_passes = b->passes,
            .drift = b->drift_total,
            .stuck = stuck,
        };
}

static void bird_metrics(const struct backend *b, FILE *f, const char *pop)
{
        const struct bird_stats *st = &b->stats;
        prom_counter(f, "bird_configures_total", "configure commands sent to BIRD.", pop, NULL,
                     st->configures);
        prom_counter(f, "bird_configure_failures_total", "configure commands BIRD refused.", pop,
                     NULL, st->configure_failed);
        prom_counter(f, "bird_unreachable_total", "BIRD commands without a reply.", pop, NULL,
                     st->unreachable);
        prom_gauge(f, "bird_in_sync", "1 when BIRD confirmed the include files as they are.", pop,
                   st->in_sync);
        prom_head(f, "bird_configure_duration_seconds", "histogram",
                  "Time from a configure command to BIRD's answer.");
        prom_histogram(f, "bird_configure_duration_seconds", pop, NULL, NULL, NULL,
                       &st->configure_duration);
}

/* Read at start: the socket, the include files and the window; on_exit is
 * read when the daemon stops. */
static bool bird_needs_restart(const struct config *a, const struct config *b)
{
        const struct bird_settings *x = bird_settings(a), *y = bird_settings(b);
        return strcmp(x->socket, y->socket) != 0 || strcmp(x->include_v4, y->include_v4) != 0 ||
               strcmp(x->include_v6, y->include_v6) != 0 || x->coalesce_usec != y->coalesce_usec;
}

/* ---- reconciliation ----
 *
 * What BIRD holds, read back: one listing of our static protocols' routes
 * (bird_rib.h) every reconcile.interval, and soon after each confirmed
 * configure. A route we asked for and BIRD does not list, or one BIRD lists
 * that we did not ask for (our include file edited or replaced and
 * configured by hand, a BIRD started with an old file), or one held by the
 * wrong protocol (a route on trial must be listed by the canary protocol
 * only, any other route by the main one only), is drift: logged
 * once, counted, and repaired by writing both files anew and configuring.
 * Still wrong reconcile.stuck_after after it was first seen: stuck.
 * A pass is judged only when no change was made from its query to its
 * answer, and a prefix only once BIRD answered for its newest state
 * (confirmed or refused): mid-change, BIRD's table is allowed to lag. A
 * BIRD that keeps refusing (configure retried with backoff) is judged:
 * that is what stuck is for. */

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

static void on_rib_line(struct birdctl *c, const struct birdctl_line *l, void *userdata)
{
        struct backend *b = userdata;
        struct prefix p;
        bool canary;
        if (bird_rib_read(&b->rib, l, &p, &canary) == 1 &&
            reconcile_set_add(canary ? &b->held_canary : &b->held, &p) < 0)
                log_err("bird: reconcile: out of memory for BIRD's listing");
}

static struct withdrawn *extra_find(struct backend *b, const struct prefix *p)
{
        for (size_t i = 0; i < b->n_extra; i++)
                if (prefix_cmp(&b->extra[i].prefix, p) == 0)
                        return &b->extra[i];
        return NULL;
}

/* Feeds one prefix's verdict to its clock; true when it differs. */
static bool judge(struct backend *b, struct reconcile_track *rc, const struct prefix *p,
                  bool differs, const char *what, uint64_t now)
{
        const struct reconcile_report r = {"bird", "rewriting the include files and configuring",
                                           b->stuck_after, &b->hooks, &b->drift_total};
        return reconcile_judge(&r, rc, p, differs, what, now);
}

/* Whether BIRD answered a configure carrying the change of generation gen. */
static bool answered(const struct backend *b, uint64_t gen)
{
        return gen <= b->confirmed_gen || gen <= b->failed_gen;
}

static void on_rib_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata)
{
        struct backend *b = userdata;
        uint64_t now = clock_now(b->clk);
        /* what a pass costs the loop (test/bench/reconcile reads it) */
        uint64_t t0 = clock_now(clock_system());
        size_t listed = 0;
        reconcile_set_seal(&b->held);
        reconcile_set_seal(&b->held_canary);
        listed = b->held.n + b->held_canary.n;
        if (r->error) {
                link_down(b, r->error);
        } else if (birdctl_code_is_error(r->code)) {
                link_up(b);
                log_warning("bird: reconcile: BIRD refused the listing: %04d %s", r->code, r->text);
        } else if (b->stopping) {
                /* the stop decides the files now */
        } else if (b->gen == b->reconcile_gen && !apply_scheduled(b)) {
                link_up(b);
                b->passes++;
                bool differs = false;
                for (size_t i = 0; i < b->n_routes; i++) {
                        struct route_entry *e = &b->routes[i];
                        /* a route adopted from the old file is not ours to
                         * judge yet, nor one BIRD has not answered for */
                        if (e->raw || !answered(b, e->gen))
                                continue;
                        /* On trial: in the canary protocol, which only the
                         * canary peers export, and not in the main one. */
                        const struct reconcile_set *want = e->canary ? &b->held_canary : &b->held;
                        const struct reconcile_set *other = e->canary ? &b->held : &b->held_canary;
                        const char *what = NULL;
                        if (reconcile_set_has(other, &e->prefix))
                                what = e->canary ? "held for every peer while on trial"
                                                 : "held for the canary peers only";
                        else if (!reconcile_set_has(want, &e->prefix))
                                what = e->canary ? "missing at BIRD's canary protocol"
                                                 : "missing at BIRD";
                        differs |= judge(b, &e->rc, &e->prefix, what != NULL, what, now);
                }
                for (size_t i = 0; i < b->n_wd; i++) {
                        struct withdrawn *w = &b->wd[i];
                        if (!answered(b, w->gen))
                                continue;
                        bool bad = reconcile_set_has(&b->held, &w->prefix) ||
                                   reconcile_set_has(&b->held_canary, &w->prefix);
                        differs |=
                            judge(b, &w->rc, &w->prefix, bad, "held by BIRD, withdrawn by us", now);
                }
                /* Listed but neither announced nor withdrawn by us. */
                for (size_t i = 0; i < b->held.n + b->held_canary.n; i++) {
                        const struct prefix *p =
                            i < b->held.n ? &b->held.v[i] : &b->held_canary.v[i - b->held.n];
                        bool found;
                        if (i >= b->held.n && reconcile_set_has(&b->held, p))
                                continue; /* in both: judged once */
                        route_find(b, p, &found);
                        if (found || find_withdrawn(b, p))
                                continue;
                        struct withdrawn *x = extra_find(b, p);
                        if (!x) {
                                struct withdrawn *n =
                                    reallocarray(b->extra, b->n_extra + 1, sizeof(*n));
                                if (!n)
                                        continue;
                                b->extra = n;
                                x = &b->extra[b->n_extra++];
                                *x = (struct withdrawn){.prefix = *p};
                        }
                        differs |= judge(b, &x->rc, p, true, "held by BIRD, never asked for", now);
                }
                for (size_t i = 0; i < b->n_extra;) {
                        struct withdrawn *x = &b->extra[i];
                        if (reconcile_set_has(&b->held, &x->prefix) ||
                            reconcile_set_has(&b->held_canary, &x->prefix)) {
                                i++;
                                continue;
                        }
                        judge(b, &x->rc, &x->prefix, false, NULL, now);
                        *x = b->extra[--b->n_extra];
                }
                /* Repaired while drifting; once stuck, once per interval:
                 * a speaker that keeps refusing is not hammered. */
                bool drifting = false, stuck = false;
                for (size_t i = 0; i < b->n_routes; i++) {
                        drifting |= b->routes[i].rc.state == RECONCILE_DRIFT;
                        stuck |= b->routes[i].rc.state == RECONCILE_STUCK;
                }
                for (size_t i = 0; i < b->n_wd; i++) {
                        drifting |= b->wd[i].rc.state == RECONCILE_DRIFT;
                        stuck |= b->wd[i].rc.state == RECONCILE_STUCK;
                }
                for (size_t i = 0; i < b->n_extra; i++) {
                        drifting |= b->extra[i].rc.state == RECONCILE_DRIFT;
                        stuck |= b->extra[i].rc.state == RECONCILE_STUCK;
                }
                if (differs &&
                    (drifting || (stuck && now >= b->last_repair + b->reconcile_interval))) {
                        b->last_repair = now;
                        /* Our belief of what the files hold may be what is
                         * wrong: forget it, so both are written anew. */
                        for (int k = 0; k < N_FAM; k++) {
                                free(b->fam[k].disk);
                                b->fam[k].disk = NULL;
                        }
                        b->dirty = true;
                        b->need_configure = true;
                        schedule(b);
                }
        } else {
                /* changed while listing: judge a quiet table */
                reconcile_at(b, now + RECONCILE_RETRY_USEC);
        }
        reconcile_set_clear(&b->held);
        reconcile_set_clear(&b->held_canary);
        uint64_t judging = clock_now(clock_system()) - t0;
        log_debug("bird: reconcile pass %" PRIu64 ": %zu of our routes listed by BIRD, %zu "
                  "asked; loop time %.2f ms (reading %.2f, judging %.2f), longest step %.2f ms",
                  b->passes, listed, b->n_routes, (double)(r->busy_usec + judging) / 1000.0,
                  (double)r->busy_usec / 1000.0, (double)judging / 1000.0,
                  (double)(judging > r->busy_max_usec ? judging : r->busy_max_usec) / 1000.0);
        if (b->dirty)
                schedule(b);
        maybe_done(b);
}

static void on_reconcile_due(struct timerq_item *it, uint64_t now)
{
        struct backend *b = OWNER(it, reconcile_due);
        if (b->stopping)
                return;
        reconcile_at(b, now + b->reconcile_interval);
        if (birdctl_busy(b->ctl) || apply_scheduled(b) || b->link == LINK_DOWN) {
                /* mid-change or BIRD away: the next quiet moment will do */
                if (b->link != LINK_DOWN)
                        reconcile_at(b, now + RECONCILE_RETRY_USEC);
                return;
        }
        b->reconcile_gen = b->gen;
        reconcile_set_clear(&b->held);
        reconcile_set_clear(&b->held_canary);
        b->rib = (struct bird_rib_reader){0};
        int r = birdctl_command_lines(b->ctl, BIRD_RIB_QUERY, COMMAND_TIMEOUT_USEC, on_rib_line,
                                      on_rib_reply, b);
        if (r < 0)
                link_down(b, r);
}

const struct backend_ops backend_bird_ops = {
    .name = "bird",
    .canary = true,
    .usage = "drive BIRD: write include files, configure over its socket",
    .on_exit = bird_on_exit,
    .withdraw_all = bird_withdraw_all_action,
    .needs_restart = bird_needs_restart,
    .counters = bird_counters,
    .metrics = bird_metrics,
    .create = bird_create,
    .update = bird_update,
    .commit = bird_commit,
    .stop = bird_stop,
    .free = bird_free,
    .confirmed = bird_confirmed,
};
