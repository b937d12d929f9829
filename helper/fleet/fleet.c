/* fleet.c: the fleet member (fleet.h) on the loop: lease, our keys, the
 * watch feeding the view, the floor's transactions, and starting over
 * whenever etcd stops answering. Requests go through etcd_http.c; bodies
 * are built and read by etcd_codec.c. Every reply carries the connection's
 * generation, so a reply to a connection given up is dropped unread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etcd_codec.h"
#include "etcd_http.h"
#include "event_priority.h"
#include "fleet.h"
#include "log.h"

#define USEC_PER_MSEC       1000ULL
#define REQUEST_TIMEOUT_MAX (2000ULL * USEC_PER_MSEC)
#define RETRY_MIN_USEC      (200ULL * USEC_PER_MSEC)
#define RETRY_MAX_USEC      (5000ULL * USEC_PER_MSEC)
#define PUTS_PER_TXN        64 /* etcd's --max-txn-ops is 128 by default */
#define TXNS_IN_FLIGHT      4
#define SERVICES_SEGMENT    "services/"

enum ask { ASK_NONE, ASK_INFLIGHT, ASK_GRANTED };

/* What this PoP says about one service. */
struct fsvc {
        char *name;
        bool announced, held;
        char state[FLEET_STATE_MAX];
        int64_t since;
        char *reason;
        bool published; /* publish() was called at least once */
        bool dirty;     /* not yet in etcd as it is */
        bool busy;      /* a put or the floor's transaction of it in flight */
        enum ask ask;
        struct fsvc *next;
};

enum conn {
        C_IDLE,
        C_GRANT,
        C_RANGE,
        C_WATCH,
        C_READY,
        C_RETRY,
        C_STOPPED,
};

struct req_ctx;

struct fleet {
        sd_event *e;
        const struct config *cfg;
        fleet_changed_fn changed;
        void *userdata;
        struct etcd_http *http;
        struct fleet_view *view;
        enum conn conn;
        uint64_t gen;
        size_t endpoint;
        int64_t lease_id, ttl;
        struct etcd_http_req *watch;
        char *watch_buf; /* a watch line is handed whole by etcd_http */
        sd_event_source *keepalive, *retry, *flush;
        uint64_t backoff_usec;
        uint64_t request_timeout_usec;
        bool was_ready;
        char problem[256];
        unsigned txns_in_flight;
        struct fsvc **buckets;
        size_t n_buckets, n_svcs;
        struct req_ctx *ctxs; /* every request in flight: freed with the fleet */
        struct fleet_stats stats;
        void (*stop_done)(void *);
        void *stop_ud;
};

enum req_kind { R_GRANT, R_KEEPALIVE, R_RANGE, R_WATCH, R_PUTS, R_ASK, R_REVOKE };

struct req_ctx {
        struct fleet *f;
        uint64_t gen;
        enum req_kind kind;
        struct fsvc **svcs; /* R_PUTS: the services put; R_ASK: one */
        size_t n;
        uint64_t started;
        struct req_ctx *prev, *next;
};

static void connect_next(struct fleet *f);
static void schedule_flush(struct fleet *f);

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static uint64_t hash(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static struct fsvc *svc_find(const struct fleet *f, const char *name)
{
        for (struct fsvc *s = f->buckets[hash(name) % f->n_buckets]; s; s = s->next)
                if (strcmp(s->name, name) == 0)
                        return s;
        return NULL;
}

static void svc_grow(struct fleet *f)
{
        size_t nb = f->n_buckets * 4;
        struct fsvc **b = calloc(nb, sizeof(*b));
        if (!b)
                return;
        for (size_t i = 0; i < f->n_buckets; i++) {
                struct fsvc *s = f->buckets[i];
                while (s) {
                        struct fsvc *next = s->next;
                        size_t k = hash(s->name) % nb;
                        s->next = b[k];
                        b[k] = s;
                        s = next;
                }
        }
        free(f->buckets);
        f->buckets = b;
        f->n_buckets = nb;
}

static struct fsvc *svc_get(struct fleet *f, const char *name)
{
        struct fsvc *s = svc_find(f, name);
        if (s)
                return s;
        if (f->n_svcs >= f->n_buckets)
                svc_grow(f);
        s = calloc(1, sizeof(*s));
        if (!s || !(s->name = strdup(name))) {
                free(s);
                return NULL;
        }
        size_t k = hash(name) % f->n_buckets;
        s->next = f->buckets[k];
        f->buckets[k] = s;
        f->n_svcs++;
        return s;
}

#define EACH_SVC(f, s)                                                                             \
        for (size_t b_ = 0; b_ < (f)->n_buckets; b_++)                                             \
                for (struct fsvc *s = (f)->buckets[b_]; s; s = s->next)

/* ---- requests ---- */

static struct req_ctx *ctx_new(struct fleet *f, enum req_kind kind)
{
        struct req_ctx *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->f = f;
        c->gen = f->gen;
        c->kind = kind;
        c->started = now_usec();
        c->next = f->ctxs;
        if (f->ctxs)
                f->ctxs->prev = c;
        f->ctxs = c;
        return c;
}

static void ctx_free(struct req_ctx *c)
{
        struct fleet *f = c->f;
        if (c->prev)
                c->prev->next = c->next;
        else
                f->ctxs = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c->svcs);
        free(c);
}

/* A reply's context is spent: the fleet it is for, or NULL when the
 * reply belongs to a connection given up since (a reconnect). */
static struct fleet *reply_fleet(void *userdata)
{
        struct req_ctx *c = userdata;
        struct fleet *f = c->f;
        bool stale = c->gen != f->gen;
        ctx_free(c);
        return stale ? NULL : f;
}

static const char *base_url(const struct fleet *f)
{
        return f->cfg->fleet.etcd[f->endpoint % f->cfg->fleet.n_etcd];
}

static int post(struct fleet *f, const char *path, char *body, struct req_ctx *c,
                etcd_http_done_fn done)
{
        char url[1024];
        if (!body || !c) {
                free(body);
                if (c)
                        ctx_free(c);
                return -ENOMEM;
        }
        snprintf(url, sizeof(url), "%s%s", base_url(f), path);
        int r = etcd_http_post(f->http, url, body, f->request_timeout_usec, done, c, NULL);
        free(body);
        if (r < 0)
                ctx_free(c);
        return r;
}

/* Why a reply is not an answer: transport, HTTP status or etcd's error. */
static const char *reply_problem(char *buf, size_t size, int err, long status, const char *body,
                                 size_t len)
{
        if (err < 0)
                snprintf(buf, size, "%s", strerror(-err));
        else if (status != 200)
                snprintf(buf, size, "HTTP %ld: %.*s", status, (int)(len > 160 ? 160 : len),
                         body ? body : "");
        else
                return NULL;
        return buf;
}

/* ---- readiness ---- */

static void set_problem(struct fleet *f, const char *what, const char *why)
{
        snprintf(f->problem, sizeof(f->problem), "%s: %s", what, why);
}

/* Gives the connection up: everything is rebuilt on the next. */
static void fail(struct fleet *f, const char *what, const char *why)
{
        if (f->conn == C_STOPPED || f->conn == C_RETRY)
                return;
        bool was_ready = f->conn == C_READY;
        f->gen++;
        if (f->watch) {
                etcd_http_cancel(f->http, f->watch);
                f->watch = NULL;
        }
        f->keepalive = sd_event_source_disable_unref(f->keepalive);
        fleet_view_clear(f->view);
        f->txns_in_flight = 0;
        EACH_SVC(f, s)
        {
                s->busy = false;
                if (s->ask == ASK_INFLIGHT)
                        s->ask = ASK_NONE;
                if (s->published)
                        s->dirty = true;
        }
        set_problem(f, what, why);
        if (was_ready || !f->was_ready) {
                /* once per change: the first failure after being ready, or
                 * the first since start */
                if (was_ready || f->stats.unreachable_total == 0)
                        log_warning("fleet: etcd %s unreachable (%s): %s; the view is cleared, "
                                    "floors decide as \"on_unreachable\": \"%s\" says",
                                    base_url(f), what, why,
                                    f->cfg->fleet.on_unreachable == FLEET_UNREACHABLE_HOLD
                                        ? "hold"
                                        : "local");
        }
        if (was_ready || f->stats.unreachable_total == 0)
                f->stats.unreachable_total++;
        f->was_ready = false;
        f->conn = C_RETRY;
        f->endpoint++;
        f->backoff_usec = f->backoff_usec ? f->backoff_usec * 2 : RETRY_MIN_USEC;
        if (f->backoff_usec > RETRY_MAX_USEC)
                f->backoff_usec = RETRY_MAX_USEC;
        sd_event_source_set_time_relative(f->retry, f->backoff_usec);
        sd_event_source_set_enabled(f->retry, SD_EVENT_ONESHOT);
        if (was_ready && f->changed)
                f->changed(f->userdata, NULL);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct fleet *f = userdata;
        if (f->conn == C_RETRY)
                connect_next(f);
        return 0;
}

/* ---- keepalive ---- */

static void on_keepalive(void *userdata, int err, long status, const char *body, size_t len)
{
        struct fleet *f = reply_fleet(userdata);
        if (!f)
                return;
        char buf[256], *msg = NULL;
        const char *why = reply_problem(buf, sizeof(buf), err, status, body, len);
        int64_t ttl = 0;
        if (!why) {
                int r = etcd_parse_keepalive(body, len, &ttl, &msg);
                if (r < 0) {
                        snprintf(buf, sizeof(buf), "%s", msg ? msg : strerror(-r));
                        why = buf;
                } else if (ttl <= 0) {
                        why = "the lease expired";
                }
        }
        free(msg);
        if (why) {
                fail(f, "lease keepalive", why);
                return;
        }
        sd_event_source_set_time_relative(f->keepalive, (uint64_t)f->ttl * 1000000ULL / 3);
        sd_event_source_set_enabled(f->keepalive, SD_EVENT_ONESHOT);
}

static int keepalive_fire(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct fleet *f = userdata;
        int r = post(f, "/v3/lease/keepalive", etcd_req_lease_keepalive(f->lease_id),
                     ctx_new(f, R_KEEPALIVE), on_keepalive);
        if (r < 0)
                fail(f, "lease keepalive", strerror(-r));
        return 0;
}

/* ---- our keys ---- */

static char *svc_value(const struct fsvc *s)
{
        return fleet_value(s->announced, s->held, s->state, s->since, s->reason);
}

static void on_puts(void *userdata, int err, long status, const char *body, size_t len)
{
        struct req_ctx *c = userdata;
        struct fleet *f = c->f;
        if (c->gen != f->gen) {
                ctx_free(c);
                return;
        }
        f->txns_in_flight--;
        char buf[256], *msg = NULL;
        const char *why = reply_problem(buf, sizeof(buf), err, status, body, len);
        if (!why) {
                struct etcd_header h;
                bool ok;
                struct etcd_kv *kvs = NULL;
                size_t n = 0;
                int r = etcd_parse_txn(body, len, &h, &ok, &kvs, &n, &msg);
                etcd_kvs_free(kvs, n);
                if (r < 0) {
                        snprintf(buf, sizeof(buf), "%s", msg ? msg : strerror(-r));
                        why = buf;
                }
        }
        free(msg);
        for (size_t i = 0; i < c->n; i++)
                c->svcs[i]->busy = false;
        ctx_free(c);
        if (why) {
                fail(f, "put", why);
                return;
        }
        f->stats.puts++;
        schedule_flush(f);
}

static void ask_send(struct fleet *f, struct fsvc *s);

/* One transaction of puts; the keys and values are freed here. */
static int send_puts(struct fleet *f, struct etcd_put *puts, struct fsvc **which, size_t n)
{
        struct req_ctx *c = ctx_new(f, R_PUTS);
        char *body = etcd_req_txn_puts(puts, n);
        for (size_t i = 0; i < n; i++) {
                free((char *)puts[i].key);
                free((char *)puts[i].value);
        }
        if (c && !(c->svcs = calloc(n, sizeof(*c->svcs)))) {
                ctx_free(c);
                c = NULL;
        }
        if (c) {
                memcpy(c->svcs, which, n * sizeof(*which));
                c->n = n;
        }
        int r = post(f, "/v3/kv/txn", body, c, on_puts);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                which[i]->busy = true;
                which[i]->dirty = false;
        }
        f->txns_in_flight++;
        return 0;
}

/* Puts every dirty service, PUTS_PER_TXN to a transaction, and sends the
 * floor questions that waited for a put of their service. */
static int flush_fire(sd_event_source *src, void *userdata)
{
        struct fleet *f = userdata;
        struct etcd_put puts[PUTS_PER_TXN];
        struct fsvc *which[PUTS_PER_TXN];
        size_t n = 0;
        int r = 0;

        sd_event_source_set_enabled(src, SD_EVENT_OFF);
        if (f->conn != C_READY)
                return 0;
        EACH_SVC(f, s)
        {
                if (f->txns_in_flight >= TXNS_IN_FLIGHT || r < 0)
                        break;
                if (s->busy)
                        continue;
                if (s->ask == ASK_INFLIGHT) {
                        ask_send(f, s);
                        if (f->conn != C_READY)
                                return 0;
                        continue;
                }
                if (!s->dirty)
                        continue;
                puts[n] = (struct etcd_put){
                    .key = fleet_key(f->cfg->fleet.prefix, s->name, f->cfg->pop),
                    .value = svc_value(s),
                    .lease_id = f->lease_id,
                };
                which[n++] = s;
                if (n == PUTS_PER_TXN) {
                        r = send_puts(f, puts, which, n);
                        n = 0;
                }
        }
        if (r >= 0 && n)
                r = send_puts(f, puts, which, n);
        else
                for (size_t i = 0; i < n; i++) {
                        free((char *)puts[i].key);
                        free((char *)puts[i].value);
                }
        if (r < 0)
                fail(f, "put", strerror(-r));
        return 0;
}

static void schedule_flush(struct fleet *f)
{
        if (f->conn == C_READY)
                sd_event_source_set_enabled(f->flush, SD_EVENT_ONESHOT);
}

void fleet_publish(struct fleet *f, const char *service, bool announced, bool held,
                   const char *state, int64_t since, const char *reason)
{
        struct fsvc *s = svc_get(f, service);
        if (!s) {
                log_err("fleet: out of memory publishing %s", service);
                return;
        }
        if (announced)
                s->ask = s->ask == ASK_INFLIGHT ? ASK_INFLIGHT : ASK_NONE;
        reason = reason ? reason : "";
        if (s->published && s->announced == announced && s->held == held &&
            strcmp(s->state, state) == 0 && s->since == since && s->reason &&
            strcmp(s->reason, reason) == 0)
                return;
        char *r = strdup(reason);
        if (!r) {
                log_err("fleet: out of memory publishing %s", service);
                return;
        }
        free(s->reason);
        s->reason = r;
        s->announced = announced;
        s->held = held;
        snprintf(s->state, sizeof(s->state), "%s", state);
        s->since = since;
        s->published = true;
        s->dirty = true;
        schedule_flush(f);
}

/* ---- the floor's question ---- */

static void on_ask(void *userdata, int err, long status, const char *body, size_t len)
{
        struct req_ctx *c = userdata;
        struct fleet *f = c->f;
        struct fsvc *s = c->svcs[0];
        if (c->gen != f->gen) {
                ctx_free(c);
                return;
        }
        f->txns_in_flight--;
        s->busy = false;
        f->stats.last_ask_usec = now_usec() - c->started;
        ctx_free(c);
        char buf[256], *msg = NULL;
        const char *why = reply_problem(buf, sizeof(buf), err, status, body, len);
        struct etcd_header h;
        bool ok = false;
        struct etcd_kv *kvs = NULL;
        size_t n = 0;
        if (!why) {
                int r = etcd_parse_txn(body, len, &h, &ok, &kvs, &n, &msg);
                if (r < 0) {
                        snprintf(buf, sizeof(buf), "%s", msg ? msg : strerror(-r));
                        why = buf;
                }
        }
        free(msg);
        if (why) {
                etcd_kvs_free(kvs, n);
                fail(f, "floor transaction", why);
                return;
        }
        char name[FLEET_NAME_MAX];
        if (ok) {
                s->ask = ASK_GRANTED;
                f->stats.granted++;
                log_info("fleet: %s: etcd agreed to the withdraw at revision %" PRId64
                         " in %.1f ms",
                         s->name, h.revision, (double)f->stats.last_ask_usec / 1000.0);
        } else {
                /* someone changed meanwhile: the else branch read the
                 * service's keys as they are now */
                s->ask = ASK_NONE;
                f->stats.refused++;
                fleet_view_forget(f->view, s->name);
                for (size_t i = 0; i < n; i++)
                        fleet_view_apply(f->view, kvs[i].key, kvs[i].value, kvs[i].mod_revision,
                                         name);
                log_info("fleet: %s: the floor's transaction lost a race (revision %" PRId64
                         "): deciding again with %u other PoPs announcing",
                         s->name, h.revision, fleet_view_announcing(f->view, s->name, f->cfg->pop));
        }
        etcd_kvs_free(kvs, n);
        if (s->dirty)
                schedule_flush(f);
        if (f->changed)
                f->changed(f->userdata, s->name);
}

/* Withdraw only if every other PoP the view counts as announcing is
 * unchanged since we saw it: of two PoPs asking at once, the first one
 * etcd applies changes its key and the second's compare fails. */
static void ask_send(struct fleet *f, struct fsvc *s)
{
        size_t n = 0;
        const struct fleet_entry *e = fleet_view_service(f->view, s->name, &n);
        struct etcd_cmp *cmps = calloc(n ? n : 1, sizeof(*cmps));
        char **keys = calloc(n ? n : 1, sizeof(*keys));
        size_t nc = 0;
        int r = -ENOMEM;
        if (!cmps || !keys)
                goto out;
        for (size_t i = 0; i < n; i++) {
                if (!e[i].announced || strcmp(e[i].pop, f->cfg->pop) == 0)
                        continue;
                if (!(keys[nc] = fleet_key(f->cfg->fleet.prefix, s->name, e[i].pop)))
                        goto out;
                cmps[nc] = (struct etcd_cmp){keys[nc], ETCD_CMP_MOD, e[i].mod_revision};
                nc++;
        }
        char *key = fleet_key(f->cfg->fleet.prefix, s->name, f->cfg->pop);
        char *value = svc_value(s);
        char *range = NULL;
        if (asprintf(&range, "%s" SERVICES_SEGMENT "%s/", f->cfg->fleet.prefix, s->name) < 0)
                range = NULL;
        char *body = key && value && range
                         ? etcd_req_txn_put(cmps, nc, key, value, f->lease_id, range)
                         : NULL;
        free(key);
        free(value);
        free(range);
        struct req_ctx *c = ctx_new(f, R_ASK);
        if (c && (c->svcs = calloc(1, sizeof(*c->svcs)))) {
                c->svcs[0] = s;
                c->n = 1;
        } else if (c) {
                ctx_free(c);
                c = NULL;
        }
        r = post(f, "/v3/kv/txn", body, c, on_ask);
        if (r >= 0) {
                s->busy = true;
                s->dirty = false;
                f->txns_in_flight++;
                f->stats.asks++;
        }
out:
        for (size_t i = 0; i < nc; i++)
                free(keys[i]);
        free(keys);
        free(cmps);
        if (r < 0)
                fail(f, "floor transaction", strerror(-r));
}

int fleet_ask_withdraw(struct fleet *f, const char *service, const char *state, const char *reason)
{
        struct fsvc *s = svc_get(f, service);
        if (!s)
                return -ENOMEM;
        if (s->ask == ASK_GRANTED)
                return 1;
        if (f->conn != C_READY)
                return -ENOTCONN;
        if (s->ask == ASK_INFLIGHT)
                return 0;
        /* what the transaction puts when it wins */
        char *r = strdup(reason ? reason : "");
        if (!r)
                return -ENOMEM;
        free(s->reason);
        s->reason = r;
        s->announced = false;
        s->held = false;
        snprintf(s->state, sizeof(s->state), "%s", state);
        s->since = (int64_t)time(NULL);
        s->published = true;
        s->ask = ASK_INFLIGHT;
        if (s->busy || f->txns_in_flight >= TXNS_IN_FLIGHT)
                schedule_flush(f); /* sent once its put is answered */
        else
                ask_send(f, s);
        return 0;
}

/* ---- the watch ---- */

static void on_watch_line(void *userdata, const char *line, size_t len)
{
        struct req_ctx *c = userdata;
        struct fleet *f = c->f;
        if (c->gen != f->gen || len == 0)
                return;
        struct etcd_watch_msg m;
        char *msg = NULL;
        int r = etcd_parse_watch_msg(line, len, &m, &msg);
        if (r < 0) {
                char buf[256];
                snprintf(buf, sizeof(buf), "%s", msg ? msg : strerror(-r));
                free(msg);
                fail(f, "watch", buf);
                return;
        }
        if (m.canceled) {
                char buf[256];
                if (m.compact_revision)
                        snprintf(buf, sizeof(buf), "cancelled: revision %" PRId64 " compacted",
                                 m.compact_revision);
                else
                        snprintf(buf, sizeof(buf), "cancelled: %s",
                                 m.cancel_reason ? m.cancel_reason : "no reason given");
                etcd_watch_msg_free(&m);
                fail(f, "watch", buf);
                return;
        }
        bool became_ready = false;
        if (m.created && f->conn == C_WATCH) {
                f->conn = C_READY;
                f->backoff_usec = 0;
                became_ready = true;
                f->problem[0] = '\0';
                log_notice("fleet: etcd %s ready: lease %" PRId64 " (%" PRId64
                           " s), watching %s" SERVICES_SEGMENT ", %s",
                           base_url(f), f->lease_id, f->ttl, f->cfg->fleet.prefix,
                           f->stats.unreachable_total ? "the view rebuilt" : "first view");
                f->was_ready = true;
                EACH_SVC(f, s)
                {
                        if (s->published)
                                s->dirty = true;
                }
                sd_event_source_set_time_relative(f->keepalive, (uint64_t)f->ttl * 1000000ULL / 3);
                sd_event_source_set_enabled(f->keepalive, SD_EVENT_ONESHOT);
                schedule_flush(f);
        }
        for (size_t i = 0; i < m.n_events; i++) {
                const struct etcd_event *ev = &m.events[i];
                char name[FLEET_NAME_MAX];
                r = fleet_view_apply(f->view, ev->kv.key,
                                     ev->type == ETCD_EV_PUT ? ev->kv.value : NULL,
                                     ev->kv.mod_revision, name);
                if (r == -EBADMSG)
                        log_warning("fleet: %s holds what is not a PoP's state; counted as not "
                                    "announcing",
                                    ev->kv.key);
                if (r > 0 && !became_ready && f->changed)
                        f->changed(f->userdata, name);
        }
        etcd_watch_msg_free(&m);
        if (became_ready && f->changed)
                f->changed(f->userdata, NULL);
}

static void on_watch_done(void *userdata, int err, long status, const char *body, size_t len)
{
        struct fleet *f = reply_fleet(userdata);
        if (!f)
                return;
        f->watch = NULL;
        char buf[256];
        const char *why = reply_problem(buf, sizeof(buf), err, status, body, len);
        fail(f, "watch", why ? why : "the stream ended");
}

/* ---- connecting: grant, range, watch ---- */

static void on_range(void *userdata, int err, long status, const char *body, size_t len)
{
        struct fleet *f = reply_fleet(userdata);
        if (!f)
                return;
        char buf[256], *msg = NULL;
        const char *why = reply_problem(buf, sizeof(buf), err, status, body, len);
        struct etcd_header h = {0};
        struct etcd_kv *kvs = NULL;
        size_t n = 0;
        if (!why) {
                int r = etcd_parse_range(body, len, &h, &kvs, &n, &msg);
                if (r < 0) {
                        snprintf(buf, sizeof(buf), "%s", msg ? msg : strerror(-r));
                        why = buf;
                }
        }
        free(msg);
        if (why) {
                etcd_kvs_free(kvs, n);
                fail(f, "range", why);
                return;
        }
        fleet_view_clear(f->view);
        char name[FLEET_NAME_MAX];
        for (size_t i = 0; i < n; i++)
                if (fleet_view_apply(f->view, kvs[i].key, kvs[i].value, kvs[i].mod_revision,
                                     name) == -EBADMSG)
                        log_warning("fleet: %s holds what is not a PoP's state; counted as not "
                                    "announcing",
                                    kvs[i].key);
        etcd_kvs_free(kvs, n);

        char *prefix = NULL, url[1024];
        if (asprintf(&prefix, "%s" SERVICES_SEGMENT, f->cfg->fleet.prefix) < 0) {
                fail(f, "watch", strerror(ENOMEM));
                return;
        }
        char *wbody = etcd_req_watch_prefix(prefix, h.revision + 1);
        free(prefix);
        struct req_ctx *wc = ctx_new(f, R_WATCH);
        if (!wbody || !wc) {
                free(wbody);
                if (wc)
                        ctx_free(wc);
                fail(f, "watch", strerror(ENOMEM));
                return;
        }
        snprintf(url, sizeof(url), "%s/v3/watch", base_url(f));
        f->conn = C_WATCH;
        int r = etcd_http_stream(f->http, url, wbody, f->request_timeout_usec, on_watch_line,
                                 on_watch_done, wc, &f->watch);
        free(wbody);
        if (r < 0) {
                ctx_free(wc);
                fail(f, "watch", strerror(-r));
        }
}

static void on_grant(void *userdata, int err, long status, const char *body, size_t len)
{
        struct fleet *f = reply_fleet(userdata);
        if (!f)
                return;
        char buf[256], *msg = NULL;
        const char *why = reply_problem(buf, sizeof(buf), err, status, body, len);
        if (!why) {
                int r = etcd_parse_lease_grant(body, len, &f->lease_id, &f->ttl, &msg);
                if (r < 0) {
                        snprintf(buf, sizeof(buf), "%s", msg ? msg : strerror(-r));
                        why = buf;
                } else if (f->ttl <= 0) {
                        why = "a lease without a TTL";
                }
        }
        free(msg);
        if (why) {
                fail(f, "lease grant", why);
                return;
        }
        char *prefix = NULL;
        if (asprintf(&prefix, "%s" SERVICES_SEGMENT, f->cfg->fleet.prefix) < 0)
                prefix = NULL;
        f->conn = C_RANGE;
        int r = post(f, "/v3/kv/range", prefix ? etcd_req_range_prefix(prefix) : NULL,
                     ctx_new(f, R_RANGE), on_range);
        free(prefix);
        if (r < 0)
                fail(f, "range", strerror(-r));
}

static void connect_next(struct fleet *f)
{
        f->gen++;
        f->conn = C_GRANT;
        f->lease_id = 0;
        int r = post(f, "/v3/lease/grant",
                     etcd_req_lease_grant((int64_t)(f->cfg->fleet.lease_usec / 1000000ULL)),
                     ctx_new(f, R_GRANT), on_grant);
        if (r < 0)
                fail(f, "lease grant", strerror(-r));
}

/* ---- lifetime ---- */

int fleet_new(sd_event *e, const struct config *cfg, fleet_changed_fn changed, void *userdata,
              struct fleet **out)
{
        struct fleet *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->e = sd_event_ref(e);
        f->cfg = cfg;
        f->changed = changed;
        f->userdata = userdata;
        f->n_buckets = 64;
        f->buckets = calloc(f->n_buckets, sizeof(*f->buckets));
        f->view = fleet_view_new(cfg->fleet.prefix);
        /* a lease must be refreshed well within its TTL: a keepalive may
         * take at most a third of it */
        f->request_timeout_usec = cfg->fleet.lease_usec / 3;
        if (f->request_timeout_usec > REQUEST_TIMEOUT_MAX)
                f->request_timeout_usec = REQUEST_TIMEOUT_MAX;
        snprintf(f->problem, sizeof(f->problem), "connecting");
        struct etcd_http_tls tls = {cfg->fleet.ca_file, cfg->fleet.cert_file, cfg->fleet.key_file};
        int r = f->buckets && f->view ? 0 : -ENOMEM;
        if (r >= 0)
                r = etcd_http_new(e, &tls, &f->http);
        if (r >= 0)
                r = sd_event_add_time(e, &f->retry, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_retry, f);
        if (r >= 0)
                r = sd_event_add_time(e, &f->keepalive, CLOCK_MONOTONIC, UINT64_MAX, 1000,
                                      keepalive_fire, f);
        if (r >= 0)
                r = sd_event_add_defer(e, &f->flush, flush_fire, f);
        if (r >= 0)
                r = sd_event_source_set_enabled(f->flush, SD_EVENT_OFF);
        /* below route work, with the other inputs of decisions */
        if (r >= 0)
                r = sd_event_source_set_priority(f->flush, EV_PRIO_RESULT);
        if (r >= 0)
                r = sd_event_source_set_priority(f->retry, EV_PRIO_RESULT);
        if (r >= 0)
                r = sd_event_source_set_priority(f->keepalive, EV_PRIO_RESULT);
        if (r < 0) {
                fleet_free(f);
                return r;
        }
        sd_event_source_set_enabled(f->retry, SD_EVENT_OFF);
        sd_event_source_set_enabled(f->keepalive, SD_EVENT_OFF);
        *out = f;
        return 0;
}

int fleet_start(struct fleet *f)
{
        log_info("fleet: PoP %s joins the fleet at %s (%zu etcd member%s), lease %" PRIu64 " s",
                 f->cfg->pop, f->cfg->fleet.prefix, f->cfg->fleet.n_etcd,
                 f->cfg->fleet.n_etcd == 1 ? "" : "s",
                 (uint64_t)(f->cfg->fleet.lease_usec / 1000000ULL));
        connect_next(f);
        return 0;
}

static void on_revoke(void *userdata, int err, long status, const char *body, size_t len)
{
        struct req_ctx *c = userdata;
        struct fleet *f = c->f;
        ctx_free(c);
        char buf[256];
        const char *why = reply_problem(buf, sizeof(buf), err, status, body, len);
        if (why)
                log_warning("fleet: revoking the lease: %s; our keys go when it expires", why);
        else
                log_info("fleet: lease revoked: our keys are gone");
        if (f->stop_done) {
                void (*done)(void *) = f->stop_done;
                f->stop_done = NULL;
                done(f->stop_ud);
        }
}

void fleet_stop(struct fleet *f, uint64_t timeout_usec, void (*done)(void *userdata),
                void *userdata)
{
        bool had_lease = f->lease_id != 0 && f->conn == C_READY;
        f->gen++;
        f->conn = C_STOPPED;
        if (f->watch) {
                etcd_http_cancel(f->http, f->watch);
                f->watch = NULL;
        }
        f->keepalive = sd_event_source_disable_unref(f->keepalive);
        f->retry = sd_event_source_disable_unref(f->retry);
        f->stop_done = done;
        f->stop_ud = userdata;
        if (had_lease) {
                struct req_ctx *c = ctx_new(f, R_REVOKE);
                char url[1024];
                char *body = etcd_req_lease_revoke(f->lease_id);
                snprintf(url, sizeof(url), "%s/v3/lease/revoke", base_url(f));
                if (c && body &&
                    etcd_http_post(f->http, url, body, timeout_usec, on_revoke, c, NULL) >= 0) {
                        free(body);
                        return;
                }
                free(body);
                if (c)
                        ctx_free(c);
        }
        f->stop_done = NULL;
        if (done)
                done(userdata);
}

void fleet_free(struct fleet *f)
{
        if (!f)
                return;
        etcd_http_free(f->http); /* no callback after this */
        while (f->ctxs)
                ctx_free(f->ctxs);
        sd_event_source_disable_unref(f->keepalive);
        sd_event_source_disable_unref(f->retry);
        sd_event_source_disable_unref(f->flush);
        for (size_t b = 0; f->buckets && b < f->n_buckets; b++) {
                struct fsvc *s = f->buckets[b];
                while (s) {
                        struct fsvc *next = s->next;
                        free(s->name);
                        free(s->reason);
                        free(s);
                        s = next;
                }
        }
        free(f->buckets);
        fleet_view_free(f->view);
        sd_event_unref(f->e);
        free(f);
}

/* ---- what the rest asks ---- */

bool fleet_ready(const struct fleet *f)
{
        return f->conn == C_READY;
}

const char *fleet_problem(const struct fleet *f)
{
        return f->conn == C_READY ? "" : f->problem;
}

const char *fleet_endpoint(const struct fleet *f)
{
        return base_url(f);
}

const struct fleet_view *fleet_view(const struct fleet *f)
{
        return f->view;
}

const char *fleet_pop(const struct fleet *f)
{
        return f->cfg->pop;
}

unsigned fleet_others_announcing(const struct fleet *f, const char *service)
{
        return f->conn == C_READY ? fleet_view_announcing(f->view, service, f->cfg->pop) : 0;
}

void fleet_stats(const struct fleet *f, struct fleet_stats *out)
{
        *out = f->stats;
}
