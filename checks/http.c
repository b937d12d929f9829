/* http.c: an HTTP(S) check on libcurl's multi interface, driven by the
 * host's loop. Options: url (required), method (default GET), body (request
 * body), expect_status (array of codes, default [200]), body_contains or
 * body_regex (POSIX extended, over the first 64 KiB), headers (object of
 * name -> value), tls_verify (default true), ca_file, client_cert,
 * client_key, sni (the TLS server name and name verified, when the URL
 * names an address), resolve ("HOST:PORT:ADDRESS": connect there for that
 * host and port, e.g. to the anycast address on this host), source (local
 * address) or interface, keepalive (default true).
 *
 * One multi handle serves every http check of the process: one timer, one
 * socket table, one connection cache. At 10,000 checks a second that is
 * what keeps it cheap: an idle keep-alive connection to a target is reused
 * by whichever check goes there next, so the connection count follows the
 * concurrency, not the number of checks. curl only reuses a connection
 * whose target, local address and TLS settings match, so checks cannot see
 * each other's connections with other settings. For the same reason
 * `resolve` is passed as CURLOPT_CONNECT_TO, which is part of that match,
 * and not as CURLOPT_RESOLVE, which writes into the DNS cache that all
 * checks share and would redirect other checks of the same host name.
 *
 * Host names in URLs are resolved by libcurl's own resolver (a thread in
 * Debian's build) and never block the loop; IP addresses need none. The
 * timeout is the host's (cancel); CURLOPT_TIMEOUT_MS is only a backstop. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "anycast-healthd-check.h"
#include "check_net.h"

#define BODY_MAX      (64 * 1024)
#define BACKSTOP_MS   (120 * 1000L)
#define EXPECT_MAX    16
#define REQ_HDR_MAX   32
#define EASY_IDLE_MAX 1024

struct http {
        const struct ahc_host *host;
        CURL *easy;  /* only while a probe is in flight (see easy_build) */
        bool shared; /* holds a reference on the shared multi handle */
        /* The request, validated at create and applied to an easy handle
         * at each probe (taken from a shared idle pool): an easy handle
         * costs ~7 KiB, so one per check is 70 MiB at 10,000 checks. Strings point into the
         * options, which live as long as the check. */
        bool head, verify, keepalive;
        const char *method_custom, *post_body, *tls_path[3];
        char *local; /* CURLOPT_INTERFACE: "host!ADDR" or "if!NAME" */
        char *url;   /* after sni rewriting */
        struct curl_slist *headers, *connect_to;
        bool has_regex;
        regex_t regex;
        const char *body_contains, *body_regex;
        long expect[EXPECT_MAX];
        size_t n_expect;
        bool keep_body;
        char errbuf[CURL_ERROR_SIZE];

        /* the probe in flight */
        struct ahc_probe *probe;
        uint64_t started;
        char *body;
        size_t body_len;
};

/* A socket curl asked us to watch. */
struct sock {
        struct sock *next, **pprev;
        struct ahc_io *io;
        curl_socket_t fd;
};

/* What every http check of the process shares. */
static struct {
        const struct ahc_host *host;
        CURLM *multi;
        struct ahc_timer *timer;
        struct sock *socks;
        long users;
        /* Idle easy handles, reused (curl_easy_reset) by the next probe: as
         * many as were ever in flight at once, not one per check. */
        CURL *idle[EASY_IDLE_MAX];
        size_t n_idle;
} g;

static int easy_build(struct http *h);
static void easy_drop(struct http *h);

/* ---- results ---- */

static void finish(struct http *h, CURLcode code)
{
        char msg[512];
        enum ahc_result res = AHC_CRITICAL;
        unsigned long long ms = (h->host->now_usec() - h->started) / 1000;
        long status = 0;
        curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);

        bool status_ok = false;
        for (size_t i = 0; i < h->n_expect; i++)
                status_ok |= status == h->expect[i];
        if (code != CURLE_OK) {
                snprintf(msg, sizeof(msg), "%s",
                         h->errbuf[0] ? h->errbuf : curl_easy_strerror(code));
        } else if (!status_ok) {
                char want[EXPECT_MAX * 5 + 1] = "";
                size_t off = 0;
                for (size_t i = 0; i < h->n_expect; i++)
                        off += (size_t)snprintf(want + off, sizeof(want) - off, "%s%ld",
                                                i ? "," : "", h->expect[i]);
                snprintf(msg, sizeof(msg), "HTTP %ld (expected %s) in %llu ms", status, want, ms);
        } else if (h->body_contains && (!h->body || !memmem(h->body, h->body_len, h->body_contains,
                                                            strlen(h->body_contains)))) {
                snprintf(msg, sizeof(msg), "HTTP %ld in %llu ms, but the body lacks \"%s\"", status,
                         ms, h->body_contains);
        } else if (h->has_regex && regexec(&h->regex, h->body ? h->body : "", 0, NULL, 0) != 0) {
                snprintf(msg, sizeof(msg), "HTTP %ld in %llu ms, but the body does not match /%s/",
                         status, ms, h->body_regex);
        } else {
                res = AHC_OK;
                snprintf(msg, sizeof(msg), "HTTP %ld in %llu ms", status, ms);
        }
        easy_drop(h); /* drain() already removed it from the multi handle */
        struct ahc_probe *p = h->probe;
        h->probe = NULL;
        free(h->body);
        h->body = NULL;
        h->body_len = 0;
        h->host->probe_done(p, res, msg);
}

/* Collects finished transfers; called after every curl_multi_socket_action. */
static void drain(void)
{
        CURLMsg *m;
        int left;
        while (g.multi && (m = curl_multi_info_read(g.multi, &left))) {
                if (m->msg != CURLMSG_DONE)
                        continue;
                struct http *h = NULL;
                CURLcode code = m->data.result;
                CURL *easy = m->easy_handle;
                curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h);
                curl_multi_remove_handle(g.multi, easy);
                if (h && h->probe)
                        finish(h, code);
        }
}

/* ---- curl on the host's loop ---- */

static void on_timer(void *userdata)
{
        int running;
        g.host->timer_free(g.timer);
        g.timer = NULL;
        curl_multi_socket_action(g.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        drain();
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
        g.host->timer_free(g.timer);
        g.timer = NULL;
        if (timeout_ms < 0)
                return 0;
        return g.host->timer_add((uint64_t)timeout_ms * 1000, on_timer, NULL, &g.timer) < 0 ? -1
                                                                                            : 0;
}

static void on_io(void *userdata, int fd, uint32_t revents)
{
        int running, flags = 0;
        if (revents & AHC_IO_IN)
                flags |= CURL_CSELECT_IN;
        if (revents & AHC_IO_OUT)
                flags |= CURL_CSELECT_OUT;
        if (revents & (AHC_IO_ERR | AHC_IO_HUP))
                flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(g.multi, fd, flags, &running);
        drain();
}

static void sock_free(struct sock *s)
{
        g.host->io_free(s->io);
        *s->pprev = s->next;
        if (s->next)
                s->next->pprev = s->pprev;
        free(s);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct sock *s = socketp;
        if (what == CURL_POLL_REMOVE) {
                if (s) {
                        curl_multi_assign(g.multi, fd, NULL);
                        sock_free(s);
                }
                return 0;
        }
        uint32_t events =
            (what & CURL_POLL_IN ? AHC_IO_IN : 0) | (what & CURL_POLL_OUT ? AHC_IO_OUT : 0);
        if (s)
                return g.host->io_set_events(s->io, events) < 0 ? -1 : 0;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -1;
        if (g.host->io_add(fd, events, on_io, s, &s->io) < 0) {
                free(s);
                return -1;
        }
        s->fd = fd;
        s->next = g.socks;
        s->pprev = &g.socks;
        if (g.socks)
                g.socks->pprev = &s->next;
        g.socks = s;
        curl_multi_assign(g.multi, fd, s);
        return 0;
}

/* The shared multi handle, made with the first check and freed with the
 * last. Its connection cache may keep one connection per check. */
static int shared_get(const struct ahc_host *host)
{
        if (!g.multi) {
                static bool global_done;
                if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -ENOMEM;
                global_done = true;
                g.host = host;
                g.multi = curl_multi_init();
                if (!g.multi)
                        return -ENOMEM;
                curl_multi_setopt(g.multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
                curl_multi_setopt(g.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        }
        g.users++;
        curl_multi_setopt(g.multi, CURLMOPT_MAXCONNECTS, g.users);
        return 0;
}

static void shared_put(void)
{
        if (--g.users > 0) {
                curl_multi_setopt(g.multi, CURLMOPT_MAXCONNECTS, g.users);
                return;
        }
        while (g.n_idle)
                curl_easy_cleanup(g.idle[--g.n_idle]);
        curl_multi_cleanup(g.multi);
        g.multi = NULL;
        g.host->timer_free(g.timer);
        g.timer = NULL;
        while (g.socks)
                sock_free(g.socks);
}

/* ---- probes ---- */

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
        struct http *h = userdata;
        size_t len = size * n;
        if (!h->keep_body || h->body_len >= BODY_MAX)
                return len; /* read and dropped: the match looks at the head only */
        if (!h->body && !(h->body = malloc(BODY_MAX + 1)))
                return 0; /* fails the transfer */
        size_t take = len < BODY_MAX - h->body_len ? len : BODY_MAX - h->body_len;
        memcpy(h->body + h->body_len, data, take);
        h->body_len += take;
        h->body[h->body_len] = '\0';
        return len;
}

/* keepalive false: close with a reset rather than leave a TIME_WAIT entry
 * on this host per probe. */
static int sockopt_linger(void *userdata, curl_socket_t fd, curlsocktype purpose)
{
        check_reset_on_close(fd);
        return CURL_SOCKOPT_OK;
}

static int http_probe(void *instance, struct ahc_probe *probe)
{
        struct http *h = instance;
        h->probe = probe;
        h->started = h->host->now_usec();
        h->errbuf[0] = '\0';
        int r = easy_build(h);
        if (r < 0) {
                h->probe = NULL;
                return r;
        }
        CURLMcode mc = curl_multi_add_handle(g.multi, h->easy);
        if (mc != CURLM_OK) {
                easy_drop(h);
                h->probe = NULL;
                h->host->log(NULL, AHC_LOG_ERR, "http: cannot start a transfer: %s",
                             curl_multi_strerror(mc));
                return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        }
        /* Start it now (on a kept-alive connection that sends the request)
         * rather than one loop turn later from curl's zero timeout. */
        int running;
        curl_multi_socket_action(g.multi, CURL_SOCKET_TIMEOUT, 0, &running);
        drain();
        return 0;
}

static void http_cancel(void *instance, struct ahc_probe *probe)
{
        struct http *h = instance;
        if (h->probe != probe)
                return;
        curl_multi_remove_handle(g.multi, h->easy);
        easy_drop(h);
        h->probe = NULL;
        free(h->body);
        h->body = NULL;
        h->body_len = 0;
}

static void http_destroy(void *instance)
{
        struct http *h = instance;
        if (h->probe)
                http_cancel(h, h->probe);
        easy_drop(h);
        if (h->shared)
                shared_put();
        free(h->local);
        curl_slist_free_all(h->headers);
        curl_slist_free_all(h->connect_to);
        if (h->has_regex)
                regfree(&h->regex);
        free(h->url);
        free(h);
}

/* ---- options ---- */

struct opts_ctx {
        const struct ahc_host *host;
        struct ahc_opts *opts;
        int r;
};

/* noinline: inlined, gcc 12 takes the result for a pointer to v itself */
__attribute__((noinline)) static const char *str(struct opts_ctx *c, const char *key)
{
        const char *v = NULL;
        if (c->host->opt_string(c->opts, key, &v) == -EINVAL)
                c->r = -EINVAL;
        return v;
}

static void err(struct opts_ctx *c, const char *key, const char *what, const char *value)
{
        c->r = c->host->opt_error(c->opts, key, "%s%s%s%s", value ? "\"" : "", value ? value : "",
                                  value ? "\" " : "", what);
}

static bool has_ctl(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static int add_slist(struct curl_slist **list, const char *s)
{
        struct curl_slist *n = curl_slist_append(*list, s);
        if (!n)
                return -ENOMEM;
        *list = n;
        return 0;
}

/* Host and port of a URL; the host as curl prints it ("[::1]" for IPv6). */
static int url_target(CURLU *u, char **host, long *port)
{
        char *p = NULL;
        if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
                return -EINVAL;
        if (curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
                return -EINVAL;
        *port = strtol(p, NULL, 10);
        curl_free(p);
        return 0;
}

/* resolve "HOST:PORT:ADDRESS" (ADDRESS an IP, IPv6 in brackets or not). */
static int parse_resolve(const char *s, char *host, size_t hsz, long *port, char *addr, size_t asz)
{
        const char *c1 = strchr(s, ':');
        if (!c1 || c1 == s || (size_t)(c1 - s) >= hsz)
                return -EINVAL;
        char *end;
        *port = strtol(c1 + 1, &end, 10);
        if (end == c1 + 1 || *end != ':' || *port < 1 || *port > 65535)
                return -EINVAL;
        const char *a = end + 1;
        size_t alen = strlen(a);
        if (alen && a[0] == '[' && a[alen - 1] == ']') {
                a++;
                alen -= 2;
        }
        char plain[64];
        unsigned char bin[16];
        if (alen == 0 || alen >= sizeof(plain))
                return -EINVAL;
        memcpy(plain, a, alen);
        plain[alen] = '\0';
        bool v6 = inet_pton(AF_INET6, plain, bin) == 1;
        if (!v6 && inet_pton(AF_INET, plain, bin) != 1)
                return -EINVAL;
        snprintf(host, hsz, "%.*s", (int)(c1 - s), s);
        snprintf(addr, asz, v6 ? "[%s]" : "%s", plain);
        return 0;
}

/* url, sni and resolve: the URL curl fetches and where it connects. */
static void setup_target(struct opts_ctx *c, struct http *h)
{
        const char *url = NULL, *sni = str(c, "sni"), *resolve = str(c, "resolve");
        int ur = c->host->opt_string(c->opts, "url", &url);
        if (ur == -ENOENT) {
                c->r = c->host->opt_error(c->opts, NULL, "\"url\" is required");
                return;
        }
        if (ur < 0) {
                c->r = ur;
                return;
        }
        CURLU *u = curl_url();
        char *scheme = NULL, *uhost = NULL;
        long uport = 0;
        if (!u)
                c->r = -ENOMEM;
        else if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
                 curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
                 url_target(u, &uhost, &uport) < 0)
                err(c, "url", "is not a URL", url);
        else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
                err(c, "url", "is neither http nor https", url);

        char rhost[256], raddr[64];
        long rport = 0;
        if (resolve &&
            parse_resolve(resolve, rhost, sizeof(rhost), &rport, raddr, sizeof(raddr)) < 0)
                err(c, "resolve", "is not HOST:PORT:ADDRESS (an IP address)", resolve);
        if (sni && (!sni[0] || strpbrk(sni, ":/[]@ ") || has_ctl(sni)))
                err(c, "sni", "is not a host name", sni);

        if (c->r >= 0) {
                char *to = NULL;
                const char *target = uhost;
                if (resolve && strcasecmp(rhost, uhost) == 0 && rport == uport)
                        target = raddr;
                if (sni) {
                        /* curl sends and verifies the URL's host name: make it
                         * the SNI and connect where the URL pointed. */
                        if (curl_url_set(u, CURLUPART_HOST, sni, 0) != CURLUE_OK)
                                err(c, "sni", "is not a host name", sni);
                        else if (asprintf(&to, "%s:%ld:%s:%ld", sni, uport, target, uport) < 0)
                                c->r = -ENOMEM;
                } else if (resolve) {
                        if (asprintf(&to, "%s:%ld:%s:%ld", rhost, rport, raddr, rport) < 0)
                                c->r = -ENOMEM;
                }
                if (to && add_slist(&h->connect_to, to) < 0)
                        c->r = -ENOMEM;
                free(to);
                if (c->r >= 0 && curl_url_get(u, CURLUPART_URL, &h->url, 0) != CURLUE_OK)
                        c->r = -ENOMEM;
        }
        curl_free(scheme);
        curl_free(uhost);
        curl_url_cleanup(u);
}

static void setup_checks(struct opts_ctx *c, struct http *h)
{
        const long long *codes = NULL;
        size_t n = 0;
        int er = AHC_HOST_HAS(c->host, opt_intv)
                     ? c->host->opt_intv(c->opts, "expect_status", &codes, &n)
                     : -ENOENT;
        if (er == -EINVAL)
                c->r = er;
        else if (er == 0 && (n == 0 || n > EXPECT_MAX))
                c->r = c->host->opt_error(c->opts, "expect_status",
                                          "must list 1 to %d status codes", EXPECT_MAX);
        for (size_t i = 0; er == 0 && i < n && i < EXPECT_MAX; i++) {
                if (codes[i] < 100 || codes[i] > 599)
                        c->r = c->host->opt_error(c->opts, "expect_status",
                                                  "%lld is not an HTTP status code", codes[i]);
                h->expect[i] = (long)codes[i];
        }
        h->n_expect = er == 0 ? (n < EXPECT_MAX ? n : EXPECT_MAX) : 1;
        if (er != 0)
                h->expect[0] = 200;

        h->body_contains = str(c, "body_contains");
        h->body_regex = str(c, "body_regex");
        if (h->body_contains && h->body_regex)
                err(c, "body_regex", "and \"body_contains\" exclude each other", NULL);
        else if (h->body_contains && !h->body_contains[0])
                err(c, "body_contains", "must not be empty", NULL);
        if (h->body_regex && !h->body_contains) {
                int rr = regcomp(&h->regex, h->body_regex, REG_EXTENDED | REG_NOSUB);
                if (rr != 0) {
                        char why[128];
                        regerror(rr, &h->regex, why, sizeof(why));
                        c->r = c->host->opt_error(c->opts, "body_regex",
                                                  "\"%s\" is not a regular expression: %s",
                                                  h->body_regex, why);
                } else {
                        h->has_regex = true;
                }
        }
        h->keep_body = h->body_contains || h->has_regex;
}

static void setup_request(struct opts_ctx *c, struct http *h)
{
        const char *method = str(c, "method"), *body = str(c, "body");
        if (method &&
            (!method[0] || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method)))
                err(c, "method", "is not an HTTP method (upper case letters)", method);
        bool head = method && strcmp(method, "HEAD") == 0;
        if (body && (head || !method || strcmp(method, "GET") == 0))
                err(c, "body", "needs a method that sends one, such as \"POST\"", NULL);
        h->head = head;
        h->post_body = body;
        if (method && !head && strcmp(method, "GET") != 0 && !(body && strcmp(method, "POST") == 0))
                h->method_custom = method;

        const char *const *kv = NULL;
        size_t n = 0;
        int hr = AHC_HOST_HAS(c->host, opt_strmap)
                     ? c->host->opt_strmap(c->opts, "headers", &kv, &n)
                     : -ENOENT;
        if (hr == -EINVAL)
                c->r = hr;
        if (n > REQ_HDR_MAX)
                c->r = c->host->opt_error(c->opts, "headers", "at most %d headers", REQ_HDR_MAX);
        for (size_t i = 0; hr == 0 && i < n; i++) {
                const char *name = kv[2 * i], *value = kv[2 * i + 1];
                if (!name[0] || strpbrk(name, ": ") || has_ctl(name)) {
                        err(c, "headers", "is not a header name", name);
                        continue;
                }
                if (has_ctl(value)) {
                        err(c, "headers", "has a control character in its value", name);
                        continue;
                }
                char *line = NULL;
                /* "Name;" is curl's way to send a header with an empty value */
                if (asprintf(&line, value[0] ? "%s: %s" : "%s;", name, value) < 0 ||
                    add_slist(&h->headers, line) < 0)
                        c->r = -ENOMEM;
                free(line);
        }
}

static void setup_tls_and_net(struct opts_ctx *c, struct http *h)
{
        bool verify = true, keepalive = true;
        if (c->host->opt_bool(c->opts, "tls_verify", &verify) == -EINVAL)
                c->r = -EINVAL;
        if (c->host->opt_bool(c->opts, "keepalive", &keepalive) == -EINVAL)
                c->r = -EINVAL;
        static const char *const files[] = {"ca_file", "client_cert", "client_key"};
        const char *path[3];
        for (size_t i = 0; i < 3; i++) {
                path[i] = str(c, files[i]);
                if (path[i] && path[i][0] != '/')
                        err(c, files[i], "is not an absolute path", path[i]);
        }
        if (path[2] && !path[1])
                err(c, "client_key", "needs \"client_cert\"", NULL);
        const char *source = str(c, "source"), *ifname = str(c, "interface");
        unsigned char bin[16];
        if (source && inet_pton(AF_INET, source, bin) != 1 && inet_pton(AF_INET6, source, bin) != 1)
                err(c, "source", "is not an IP address", source);
        if (ifname && (!ifname[0] || strlen(ifname) >= 16 || strpbrk(ifname, "/ ")))
                err(c, "interface", "is not an interface name", ifname);
        if (source && ifname)
                err(c, "interface", "and \"source\" exclude each other", NULL);
        if (c->r < 0)
                return;

        h->verify = verify;
        h->keepalive = keepalive;
        for (size_t i = 0; i < 3; i++)
                h->tls_path[i] = path[i];
        if ((source && asprintf(&h->local, "host!%s", source) < 0) ||
            (ifname && asprintf(&h->local, "if!%s", ifname) < 0)) {
                h->local = NULL;
                c->r = -ENOMEM;
        }
}

/* A fresh easy handle for one probe, from the validated request. */
static int easy_build(struct http *h)
{
        CURL *e;
        if (g.n_idle) {
                e = g.idle[--g.n_idle];
                curl_easy_reset(e);
        } else if (!(e = curl_easy_init())) {
                return -ENOMEM;
        }
        if (h->head)
                curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        if (h->post_body) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->post_body);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(h->post_body));
        }
        if (h->method_custom)
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method_custom);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, h->verify ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, h->verify ? 2L : 0L);
        if (h->tls_path[0])
                curl_easy_setopt(e, CURLOPT_CAINFO, h->tls_path[0]);
        if (h->tls_path[1])
                curl_easy_setopt(e, CURLOPT_SSLCERT, h->tls_path[1]);
        if (h->tls_path[2])
                curl_easy_setopt(e, CURLOPT_SSLKEY, h->tls_path[2]);
        if (h->local)
                curl_easy_setopt(e, CURLOPT_INTERFACE, h->local);
        if (!h->keepalive) {
                curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
                curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
                curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, sockopt_linger);
        }
        curl_easy_setopt(e, CURLOPT_URL, h->url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, h);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROXY, ""); /* no *_proxy from the environment */
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is a status */
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, BACKSTOP_MS);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "anycast-healthd");
        if (h->headers)
                curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
        if (h->connect_to)
                curl_easy_setopt(e, CURLOPT_CONNECT_TO, h->connect_to);
        h->easy = e;
        return 0;
}

static void easy_drop(struct http *h)
{
        if (!h->easy)
                return;
        if (g.n_idle < EASY_IDLE_MAX)
                g.idle[g.n_idle++] = h->easy;
        else
                curl_easy_cleanup(h->easy);
        h->easy = NULL;
}

static int http_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {
            "url",        "method",  "body",       "expect_status", "body_contains",
            "body_regex", "headers", "tls_verify", "ca_file",       "client_cert",
            "client_key", "sni",     "resolve",    "source",        "interface",
            "keepalive",  NULL};
        struct opts_ctx c = {.host = host, .opts = opts, .r = host->opt_only(opts, known)};
        struct http *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->host = host;
        int r = shared_get(host);
        if (r < 0) {
                free(h);
                return r;
        }
        h->shared = true;
        setup_target(&c, h);
        setup_checks(&c, h);
        setup_request(&c, h);
        setup_tls_and_net(&c, h);
        if (c.r < 0) {
                http_destroy(h);
                return c.r;
        }
        *instance = h;
        return 0;
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "http",
    .description = "fetches a URL over HTTP or HTTPS and checks status and body",
    .flags = AHC_PLUGIN_LOOP_SAFE,
    .create = http_create,
    .probe = http_probe,
    .cancel = http_cancel,
    .destroy = http_destroy,
};
