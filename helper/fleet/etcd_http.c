/* etcd_http.c: the fleet's HTTP client for etcd's v3 JSON gateway, on
 * libcurl's multi interface driven by sd-event (see etcd_http.h).
 *
 * libcurl's rules shape it: its callbacks (socket, timer, write) run
 * inside curl_multi_* calls, and from there libcurl refuses to be called
 * again (add, remove: CURLM_RECURSIVE_API_CALL). So user code never runs
 * inside libcurl: the write callback only buffers, finished transfers are
 * collected after curl_multi_socket_action returns, and a defer source
 * hands lines and ends to the callers, one request at a time. A callback
 * may then do anything, etcd_http_free included: a request whose callback
 * runs is "busy" and its memory outlives a cancel or free until the
 * callback returns, and a client freed from a callback leaves its last
 * steps to the dispatcher that called it.
 *
 * Ownership: the client owns its requests (h->reqs), its curl multi and
 * easy handles, the io sources for curl's sockets (h->socks), its timer and
 * its defer source. A request's easy handle is freed as soon as curl is
 * done with it; its buffer when its done() returns. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "etcd_http.h"
#include "event_priority.h"
#include "log.h"

/* A watch is quiet for as long as nothing changes: TCP keepalive is what
 * notices an etcd that vanished (host down, path cut) without a FIN or RST,
 * after about KEEPIDLE + KEEPCNT * KEEPINTVL seconds. */
#define KEEPIDLE_S  10L
#define KEEPINTVL_S 5L
#define KEEPCNT     3

/* A socket curl asked us to watch. */
struct sock {
        struct sock *next, *prev;
        struct etcd_http *h;
        sd_event_source *io;
        curl_socket_t fd;
};

struct etcd_http_req {
        struct etcd_http *h;
        struct etcd_http_req *next, *prev;   /* h->reqs: in flight */
        struct etcd_http_req *rnext, *rprev; /* h->ready: has work for dispatch */
        bool ready;
        CURL *easy; /* while curl works on it */
        bool stream;
        bool lines;        /* a stream with a 2xx status: body to line() */
        bool status_known; /* streams: looked at the status (first write) */
        etcd_http_line_fn line;
        etcd_http_done_fn done;
        void *userdata;

        /* The reply. For lines: buf[off, line_end) holds complete lines not
         * yet handed out, buf[line_end, len) the start of the next one. */
        char *buf;
        size_t len, cap, off, line_end;

        bool finished; /* curl is done: err and status are final */
        int err;       /* negative errno; the write callback's own first */
        long status;

        bool busy;    /* its callback runs */
        bool in_done; /* its done() runs: no longer in flight */
        bool dead;    /* cancelled while busy: freed when the callback returns */
        char errbuf[CURL_ERROR_SIZE];
};

struct etcd_http {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer, *defer;
        struct curl_slist *headers;
        char *tls[3]; /* ca_file, cert_file, key_file (copies) */
        struct sock *socks;
        struct etcd_http_req *reqs, *ready, *ready_tail;
        size_t n_reqs;
        bool dispatching; /* inside on_dispatch: it finishes a free */
        bool freed;
};

/* ---- curl's global state ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_code = CURLE_FAILED_INIT;

/* Once per process and never undone: curl_global_cleanup would pull
 * OpenSSL's state from under the http check plugin, which shares it. */
static void global_init(void)
{
        global_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- lists ---- */

static void ready_remove(struct etcd_http_req *r)
{
        struct etcd_http *h = r->h;
        if (!r->ready)
                return;
        if (r->rprev)
                r->rprev->rnext = r->rnext;
        else
                h->ready = r->rnext;
        if (r->rnext)
                r->rnext->rprev = r->rprev;
        else
                h->ready_tail = r->rprev;
        r->rnext = r->rprev = NULL;
        r->ready = false;
}

/* Work for on_dispatch, in the order it came (FIFO: a stream's lines and
 * the replies keep their arrival order among requests). */
static void ready_add(struct etcd_http_req *r)
{
        struct etcd_http *h = r->h;
        if (r->ready)
                return;
        r->ready = true;
        r->rnext = NULL;
        r->rprev = h->ready_tail;
        if (h->ready_tail)
                h->ready_tail->rnext = r;
        else
                h->ready = r;
        h->ready_tail = r;
        if (!h->freed)
                sd_event_source_set_enabled(h->defer, SD_EVENT_ON);
}

static void reqs_unlink(struct etcd_http_req *r)
{
        struct etcd_http *h = r->h;
        if (r->prev)
                r->prev->next = r->next;
        else
                h->reqs = r->next;
        if (r->next)
                r->next->prev = r->prev;
        r->next = r->prev = NULL;
        h->n_reqs--;
}

static void req_memfree(struct etcd_http_req *r)
{
        free(r->buf);
        free(r);
}

static void easy_drop(struct etcd_http_req *r)
{
        if (!r->easy)
                return;
        if (r->h->multi)
                curl_multi_remove_handle(r->h->multi, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
}

/* Ends a request in flight without a callback. A busy one (its line()
 * runs) is only marked: the dispatcher frees it when the callback returns. */
static void req_kill(struct etcd_http_req *r)
{
        ready_remove(r);
        reqs_unlink(r);
        easy_drop(r);
        if (r->busy)
                r->dead = true;
        else
                req_memfree(r);
}

/* ---- results ---- */

static int map_error(CURLcode code, long os_errno, int own)
{
        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                /* the connect's own errno: ECONNREFUSED, EHOSTUNREACH,
                 * ENETUNREACH, EADDRNOTAVAIL ... */
                return os_errno > 0 && os_errno < 4096 ? -(int)os_errno : -ECONNREFUSED;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
                return os_errno > 0 && os_errno < 4096 ? -(int)os_errno : -ECONNRESET;
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
                return -ECONNRESET;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                /* endpoints are addresses: a name that does not resolve is
                 * a host we cannot reach */
                return -EHOSTUNREACH;
        case CURLE_WRITE_ERROR:
                return own < 0 ? own : -EIO;
        case CURLE_FILESIZE_EXCEEDED:
                return -EMSGSIZE;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EINVAL;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CLIENTCERT:
        case CURLE_USE_SSL_FAILED:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_BAD_CONTENT_ENCODING:
                return -EPROTO;
        default:
                return own < 0 ? own : -EIO;
        }
}

/* Takes finished transfers from curl; called after every
 * curl_multi_socket_action, outside curl's callbacks, so removing the
 * handles is allowed. Their ends are handed out by on_dispatch. */
static void collect(struct etcd_http *h)
{
        CURLMsg *m;
        int left;
        while (h->multi && (m = curl_multi_info_read(h->multi, &left))) {
                if (m->msg != CURLMSG_DONE)
                        continue;
                /* m dies with the removal: read it first */
                CURL *easy = m->easy_handle;
                CURLcode code = m->data.result;
                struct etcd_http_req *r = NULL;
                long os_errno = 0;
                curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
                curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
                curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
                r->err = map_error(code, os_errno, r->err);
                if (r->err < 0) {
                        char *url = NULL, clean[CURL_ERROR_SIZE + 64];
                        curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
                        log_sanitise(clean, sizeof(clean),
                                     r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
                        log_debug("etcd_http: %s: %s (%s)", url ? url : "?", clean,
                                  strerror(-r->err));
                        r->status = 0;
                }
                easy_drop(r);
                r->finished = true;
                ready_add(r);
        }
}

/* ---- curl on the loop ---- */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct etcd_http *h = userdata;
        int running;
        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        collect(h);
        return 0;
}

/* curl's wish for a timeout: -1 none, else in timeout_ms (0: at once,
 * which is the next loop iteration: never call back into curl from here). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
        struct etcd_http *h = userp;
        if (timeout_ms < 0)
                return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (sd_event_source_set_time_relative(h->timer, (uint64_t)timeout_ms * 1000) < 0 ||
            sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct sock *s = userdata;
        struct etcd_http *h = s->h; /* s may go inside socket_action */
        int running, flags = 0;
        if (revents & EPOLLIN)
                flags |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(h->multi, fd, flags, &running);
        collect(h);
        return 0;
}

static void sock_free(struct sock *s)
{
        struct etcd_http *h = s->h;
        sd_event_source_disable_unref(s->io);
        if (s->prev)
                s->prev->next = s->next;
        else
                h->socks = s->next;
        if (s->next)
                s->next->prev = s->prev;
        free(s);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct etcd_http *h = userp;
        struct sock *s = socketp;
        if (what == CURL_POLL_REMOVE) {
                if (s) {
                        curl_multi_assign(h->multi, fd, NULL);
                        sock_free(s);
                }
                return 0;
        }
        uint32_t events =
            (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
        if (!s) {
                s = calloc(1, sizeof(*s));
                if (!s)
                        return -1;
                if (sd_event_add_io(h->event, &s->io, fd, events, on_io, s) < 0) {
                        free(s);
                        return -1;
                }
                sd_event_source_set_priority(s->io, EV_PRIO_RESULT);
                s->h = h;
                s->fd = fd;
                s->next = h->socks;
                if (h->socks)
                        h->socks->prev = s;
                h->socks = s;
                curl_multi_assign(h->multi, fd, s);
        } else if (sd_event_source_set_io_events(s->io, events) < 0) {
                return -1;
        }
        /* CURL_POLL_NONE: no interest; a level-triggered HUP must not spin */
        return sd_event_source_set_enabled(s->io, events ? SD_EVENT_ON : SD_EVENT_OFF) < 0 ? -1 : 0;
}

/* ---- the reply ---- */

static bool buf_reserve(struct etcd_http_req *r, size_t add)
{
        size_t need = r->len + add + 1; /* + NUL */
        if (need <= r->cap)
                return true;
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < need)
                cap *= 2;
        char *b = realloc(r->buf, cap);
        if (!b)
                return false;
        r->buf = b;
        r->cap = cap;
        return true;
}

/* Buffers only (see the top): lines are handed out by on_dispatch. A 0
 * return fails the transfer (CURLE_WRITE_ERROR) with r->err. */
static size_t on_write(char *data, size_t size, size_t n, void *userdata)
{
        struct etcd_http_req *r = userdata;
        size_t len = size * n;
        if (r->stream && !r->status_known) {
                long status = 0;
                curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
                r->status_known = true;
                r->lines = status >= 200 && status < 300;
        }
        if (len > ETCD_HTTP_BODY_MAX - r->len) {
                r->err = -EMSGSIZE;
                return 0;
        }
        if (!buf_reserve(r, len)) {
                r->err = -ENOMEM;
                return 0;
        }
        memcpy(r->buf + r->len, data, len);
        r->len += len;
        r->buf[r->len] = '\0';
        if (!r->lines)
                return len;
        const char *nl = memrchr(r->buf + r->len - len, '\n', len);
        if (nl) {
                r->line_end = (size_t)(nl - r->buf) + 1;
                ready_add(r);
        }
        if (r->len - r->line_end > ETCD_HTTP_LINE_MAX) {
                r->err = -EMSGSIZE;
                return 0;
        }
        return len;
}

/* Hands out r's complete lines and, once curl is done, its end. false
 * when r is gone (done, cancelled or its client freed from a callback). */
static bool deliver(struct etcd_http *h, struct etcd_http_req *r)
{
        while (r->lines && r->off < r->line_end) {
                char *l = r->buf + r->off;
                char *nl = memchr(l, '\n', r->line_end - r->off); /* there is one */
                size_t n = (size_t)(nl - l);
                *nl = '\0';
                r->off += n + 1;
                r->busy = true;
                r->line(r->userdata, l, n);
                r->busy = false;
                if (r->dead) {
                        req_memfree(r);
                        return false;
                }
        }
        if (r->off) {
                /* keep only the unfinished line: the buffer stays near one line */
                memmove(r->buf, r->buf + r->off, r->len - r->off);
                r->len -= r->off;
                r->line_end -= r->off;
                r->off = 0;
                r->buf[r->len] = '\0';
        }
        if (!r->finished)
                return true;
        reqs_unlink(r);
        r->busy = r->in_done = true;
        bool body = r->err == 0 && r->len;
        r->done(r->userdata, r->err, r->err < 0 ? 0 : r->status, body ? r->buf : NULL,
                body ? r->len : 0);
        req_memfree(r);
        return false;
}

static void final_free(struct etcd_http *h)
{
        sd_event_source_disable_unref(h->defer);
        sd_event_unref(h->event);
        free(h);
}

/* The only place user callbacks run. One request at a time, in arrival
 * order; it yields to decided route changes (event_priority.h) and runs
 * again in the next iteration for the rest. */
static int on_dispatch(sd_event_source *s, void *userdata)
{
        struct etcd_http *h = userdata;
        h->dispatching = true;
        while (h->ready && !h->freed) {
                struct etcd_http_req *r = h->ready;
                ready_remove(r);
                deliver(h, r);
                if (ev_route_pending())
                        break;
        }
        h->dispatching = false;
        if (h->freed) {
                final_free(h);
                return 0;
        }
        sd_event_source_set_enabled(h->defer, h->ready ? SD_EVENT_ON : SD_EVENT_OFF);
        return 0;
}

/* ---- requests ---- */

static long usec_to_ms(uint64_t usec)
{
        uint64_t ms = usec / 1000 + (usec % 1000 ? 1 : 0); /* never 0 for a bound */
        return ms > LONG_MAX ? LONG_MAX : (long)ms;
}

/* The stream's keepalive probe count: curl 7.88 sets only idle and
 * interval. */
static int sockopt_keepcnt(void *userdata, curl_socket_t fd, curlsocktype purpose)
{
        int cnt = KEEPCNT;
        if (purpose == CURLSOCKTYPE_IPCXN)
                (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
        return CURL_SOCKOPT_OK;
}

static int easy_setup(struct etcd_http *h, struct etcd_http_req *r, CURL *e, const char *url,
                      const char *body, uint64_t timeout_usec)
{
        CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                              \
        do {                                                                                       \
                if (c == CURLE_OK)                                                                 \
                        c = curl_easy_setopt(e, opt, val);                                         \
        } while (0)
        SET(CURLOPT_URL, url);
        SET(CURLOPT_PRIVATE, r);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROXY, "");
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        /* one request per connection, no multiplexing surprises; etcd's
         * gateway speaks it on every listener */
        SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        SET(CURLOPT_HTTPHEADER, h->headers);
        SET(CURLOPT_USERAGENT, "anycast-healthd");
        SET(CURLOPT_ERRORBUFFER, r->errbuf);
        SET(CURLOPT_WRITEFUNCTION, on_write);
        SET(CURLOPT_WRITEDATA, r);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        SET(CURLOPT_COPYPOSTFIELDS, body);
        SET(CURLOPT_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_SSL_VERIFYHOST, 2L);
        if (h->tls[0])
                SET(CURLOPT_CAINFO, h->tls[0]);
        if (h->tls[1])
                SET(CURLOPT_SSLCERT, h->tls[1]);
        if (h->tls[2])
                SET(CURLOPT_SSLKEY, h->tls[2]);
        if (r->stream) {
                if (timeout_usec)
                        SET(CURLOPT_CONNECTTIMEOUT_MS, usec_to_ms(timeout_usec));
                SET(CURLOPT_TCP_KEEPALIVE, 1L);
                SET(CURLOPT_TCP_KEEPIDLE, KEEPIDLE_S);
                SET(CURLOPT_TCP_KEEPINTVL, KEEPINTVL_S);
                SET(CURLOPT_SOCKOPTFUNCTION, sockopt_keepcnt);
        } else {
                if (timeout_usec) {
                        SET(CURLOPT_TIMEOUT_MS, usec_to_ms(timeout_usec));
                        SET(CURLOPT_CONNECTTIMEOUT_MS, usec_to_ms(timeout_usec));
                }
                /* refuses a declared oversize reply before reading it */
                SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ETCD_HTTP_BODY_MAX);
        }
#undef SET
        if (c == CURLE_OK)
                return 0;
        return c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

static int start(struct etcd_http *h, bool stream, const char *url, const char *body,
                 uint64_t timeout_usec, etcd_http_line_fn line, etcd_http_done_fn done,
                 void *userdata, struct etcd_http_req **out)
{
        if (!h || h->freed || !url || !body || !done || (stream && !line))
                return -EINVAL;
        struct etcd_http_req *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->h = h;
        r->stream = stream;
        r->line = line;
        r->done = done;
        r->userdata = userdata;
        CURL *e = curl_easy_init();
        if (!e) {
                free(r);
                return -ENOMEM;
        }
        int ret = easy_setup(h, r, e, url, body, timeout_usec);
        if (ret < 0) {
                curl_easy_cleanup(e);
                free(r);
                return ret;
        }
        /* curl only sets its timer here (to 0): the transfer starts from
         * the loop, so done() cannot run inside this call */
        CURLMcode mc = curl_multi_add_handle(h->multi, e);
        if (mc != CURLM_OK) {
                curl_easy_cleanup(e);
                free(r);
                return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        }
        r->easy = e;
        r->next = h->reqs;
        if (h->reqs)
                h->reqs->prev = r;
        h->reqs = r;
        h->n_reqs++;
        if (out)
                *out = r;
        return 0;
}

int etcd_http_post(struct etcd_http *h, const char *url, const char *body, uint64_t timeout_usec,
                   etcd_http_done_fn done, void *userdata, struct etcd_http_req **req)
{
        return start(h, false, url, body, timeout_usec, NULL, done, userdata, req);
}

int etcd_http_stream(struct etcd_http *h, const char *url, const char *body,
                     uint64_t connect_timeout_usec, etcd_http_line_fn line, etcd_http_done_fn done,
                     void *userdata, struct etcd_http_req **req)
{
        return start(h, true, url, body, connect_timeout_usec, line, done, userdata, req);
}

void etcd_http_cancel(struct etcd_http *h, struct etcd_http_req *req)
{
        if (!req || req->in_done || req->dead)
                return;
        req_kill(req);
}

size_t etcd_http_in_flight(const struct etcd_http *h)
{
        return h ? h->n_reqs : 0;
}

/* ---- the client ---- */

int etcd_http_new(sd_event *e, const struct etcd_http_tls *tls, struct etcd_http **out)
{
        if (!e || !out)
                return -EINVAL;
        pthread_once(&global_once, global_init);
        if (global_code != CURLE_OK)
                return -ENOMEM;
        struct etcd_http *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->event = sd_event_ref(e);
        int r = 0;
        const char *paths[3] = {tls ? tls->ca_file : NULL, tls ? tls->cert_file : NULL,
                                tls ? tls->key_file : NULL};
        for (size_t i = 0; i < 3; i++)
                if (paths[i] && !(h->tls[i] = strdup(paths[i])))
                        r = -ENOMEM;

        struct curl_slist *l = NULL;
        /* "Expect:" off: curl would wait up to a second for "100 Continue"
         * before sending a body over 1 KiB (a transaction of many keys) */
        if (r == 0 && (!(l = curl_slist_append(NULL, "Content-Type: application/json")) ||
                       !(h->headers = curl_slist_append(l, "Expect:")))) {
                curl_slist_free_all(l);
                r = -ENOMEM;
        }
        if (r == 0 && !(h->multi = curl_multi_init()))
                r = -ENOMEM;
        if (r == 0) {
                curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
                curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
                curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
                curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
                r = sd_event_add_time(e, &h->timer, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_timer, h);
        }
        if (r >= 0)
                r = sd_event_source_set_priority(h->timer, EV_PRIO_RESULT);
        if (r >= 0)
                r = sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_defer(e, &h->defer, on_dispatch, h);
        if (r >= 0)
                r = sd_event_source_set_priority(h->defer, EV_PRIO_RESULT);
        if (r >= 0)
                r = sd_event_source_set_enabled(h->defer, SD_EVENT_OFF);
        if (r < 0) {
                etcd_http_free(h);
                return r;
        }
        *out = h;
        return 0;
}

void etcd_http_free(struct etcd_http *h)
{
        if (!h || h->freed)
                return;
        h->freed = true;
        while (h->reqs)
                req_kill(h->reqs);
        if (h->multi)
                curl_multi_cleanup(h->multi); /* may still report sockets closed */
        h->multi = NULL;
        while (h->socks)
                sock_free(h->socks);
        h->timer = sd_event_source_disable_unref(h->timer);
        curl_slist_free_all(h->headers);
        h->headers = NULL;
        for (size_t i = 0; i < 3; i++) {
                free(h->tls[i]);
                h->tls[i] = NULL;
        }
        if (h->dispatching) {
                /* called from a callback: on_dispatch finishes (the busy
                 * request's memory, the defer source, h) when it returns */
                sd_event_source_set_enabled(h->defer, SD_EVENT_OFF);
                return;
        }
        final_free(h);
}
