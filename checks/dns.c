/* dns.c: asks a DNS server one question and checks the answer's rcode and,
 * optionally, that a given rdata is among the answers. Options: name
 * (required), type (default "A"), class (default "IN"), server (an IP
 * address, required), port (default 53), source (an IP address to send
 * from), expect_rcode (default "NOERROR"; "NXDOMAIN", "REFUSED", ... by
 * name), expect_answer (an answer's rdata in presentation form, e.g.
 * "192.0.2.1", or one of its fields; names compare without case or the
 * final dot, quotes around TXT strings do not count).
 *
 * ldns builds and parses the packets; the I/O is ours, on the host's loop.
 * Queries go over UDP on a channel: one connected, non-blocking socket per
 * server (and source address) that every dns check of the process asking
 * that server shares, each query with an ID unique on its channel. At
 * thousands of checks a second that is one socket and one wake-up for a
 * whole burst of answers, instead of a socket, a bind, a connect and an
 * epoll registration per probe. An ICMP error on a channel (nothing
 * listens) fails the queries in flight to that server at once. The price
 * is a fixed source port per server, so an answer is told from a forgery
 * by its ID and question only: fine for checking a server next door, not
 * meant for resolving across the Internet. A truncated answer is asked
 * again over TCP, on a connection of the probe's own. The query carries no EDNS, as the simplest
 * clients send it, so a large answer is truncated at 512 bytes and TCP is exercised exactly when
 * those clients would need it. Replies with another ID or question are ignored (stray or spoofed),
 * as is anything but the server's address (the socket is connected). The timeout is the host's. */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "anycast-healthd-check.h"
#include "check_net.h"

#define TCP_MAX (2 + 65535)
#define BUCKETS 1024

struct dns;

/* A UDP socket to one server, shared by every check that asks it. */
struct chan {
        struct chan *next;
        struct sockaddr_storage dst, src;
        socklen_t dst_len, src_len;
        int fd;
        struct ahc_io *io;
        unsigned users;            /* checks holding it */
        struct dns *busy[BUCKETS]; /* queries in flight, by ID */
};

static struct chan *chans;

struct dns {
        const struct ahc_host *host;
        ldns_pkt *query;
        ldns_rdf *qname;
        ldns_rr_type qtype;
        ldns_rr_class qclass;
        ldns_pkt_rcode expect_rcode;
        const char *expect_answer; /* NULL: any answer */
        const char *name;
        struct sockaddr_storage dst, src;
        socklen_t dst_len, src_len;
        char dst_text[INET6_ADDRSTRLEN + 16];

        struct chan *chan; /* from the first probe on */

        /* the probe in flight */
        struct ahc_probe *probe;
        uint64_t started;
        bool tcp;
        bool on_chan;      /* a UDP query in flight, listed in chan->busy */
        struct dns *hnext; /* next in the bucket */
        int fd;            /* TCP */
        struct ahc_io *io;
        uint16_t id;
        uint8_t *buf; /* tcp: length-prefixed query, then the reply */
        size_t buf_len, buf_off;
};

static void chan_forget(struct chan *c, struct dns *d)
{
        for (struct dns **pp = &c->busy[d->id % BUCKETS]; *pp; pp = &(*pp)->hnext)
                if (*pp == d) {
                        *pp = d->hnext;
                        break;
                }
        d->on_chan = false;
}

static void close_socket(struct dns *d)
{
        if (d->on_chan)
                chan_forget(d->chan, d);
        d->host->io_free(d->io);
        d->io = NULL;
        if (d->fd >= 0) {
                if (d->tcp)
                        check_reset_on_close(d->fd);
                close(d->fd);
        }
        d->fd = -1;
        free(d->buf);
        d->buf = NULL;
        d->buf_len = d->buf_off = 0;
}

static void done(struct dns *d, enum ahc_result res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void done(struct dns *d, enum ahc_result res, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        struct ahc_probe *p = d->probe;
        close_socket(d);
        d->probe = NULL;
        d->host->probe_done(p, res, msg);
}

static void fail_errno(struct dns *d, const char *what, int err)
{
        done(d, AHC_CRITICAL, "%s: %s%s: %s", d->dst_text, d->tcp ? "tcp " : "", what,
             strerror(err));
}

/* ---- matching answers ---- */

/* a equals b, ignoring case, one final dot and quotes around a string */
static bool text_eq(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la >= 2 && a[0] == '"' && a[la - 1] == '"') {
                a++;
                la -= 2;
        }
        if (la > 1 && a[la - 1] == '.')
                la--;
        if (lb > 1 && b[lb - 1] == '.')
                lb--;
        return la == lb && strncasecmp(a, b, la) == 0;
}

static bool rr_matches(const ldns_rr *rr, const char *want)
{
        char whole[4096];
        size_t len = 0;
        bool hit = false;
        whole[0] = '\0';
        for (size_t i = 0; i < ldns_rr_rd_count(rr) && !hit; i++) {
                char *f = ldns_rdf2str(ldns_rr_rdf(rr, i));
                if (!f)
                        continue;
                hit = text_eq(f, want);
                int n = snprintf(whole + len, sizeof(whole) - len, "%s%s", i ? " " : "", f);
                if (n > 0 && (size_t)n < sizeof(whole) - len)
                        len += (size_t)n;
                free(f);
        }
        return hit || text_eq(whole, want);
}

/* ---- the reply ---- */

/* Whether pkt answers our query (ID, QR, question). */
static bool is_ours(const struct dns *d, const ldns_pkt *pkt)
{
        if (ldns_pkt_id(pkt) != d->id || !ldns_pkt_qr(pkt))
                return false;
        const ldns_rr_list *q = ldns_pkt_question(pkt);
        if (ldns_rr_list_rr_count(q) != 1)
                return false;
        const ldns_rr *rr = ldns_rr_list_rr(q, 0);
        return ldns_rr_get_type(rr) == d->qtype && ldns_rr_get_class(rr) == d->qclass &&
               ldns_dname_compare(ldns_rr_owner(rr), d->qname) == 0;
}

static int start_tcp(struct dns *d);

static void rcode_text(ldns_pkt_rcode rcode, char *out, size_t size)
{
        char *s = ldns_pkt_rcode2str(rcode);
        snprintf(out, size, "%s", s ? s : "?");
        free(s);
}

/* Returns false when the packet is not ours and we keep waiting. */
static bool handle_reply(struct dns *d, const uint8_t *wire, size_t len)
{
        ldns_pkt *pkt = NULL;
        if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
                return d->tcp ? (done(d, AHC_CRITICAL, "%s: malformed reply over tcp", d->dst_text),
                                 true)
                              : false; /* UDP: maybe someone else's garbage */
        if (!is_ours(d, pkt)) {
                ldns_pkt_free(pkt);
                if (d->tcp)
                        done(d, AHC_CRITICAL, "%s: reply over tcp does not match the query",
                             d->dst_text);
                return d->tcp;
        }
        if (!d->tcp && ldns_pkt_tc(pkt)) {
                ldns_pkt_free(pkt);
                int r = start_tcp(d);
                if (r < 0)
                        fail_errno(d, "connect", -r);
                return true;
        }
        unsigned long long ms = (d->host->now_usec() - d->started) / 1000;
        const char *via = d->tcp ? " over tcp" : "";
        char got[32], want[32];
        ldns_pkt_rcode rcode = ldns_pkt_get_rcode(pkt);
        rcode_text(rcode, got, sizeof(got));
        ldns_rr_list *an = ldns_pkt_answer(pkt);
        size_t n = ldns_rr_list_rr_count(an);
        if (rcode != d->expect_rcode) {
                rcode_text(d->expect_rcode, want, sizeof(want));
                done(d, AHC_CRITICAL, "%s for %s (expected %s) in %llu ms%s", got, d->name, want,
                     ms, via);
        } else if (d->expect_answer) {
                bool hit = false;
                for (size_t i = 0; i < n && !hit; i++)
                        hit = rr_matches(ldns_rr_list_rr(an, i), d->expect_answer);
                if (hit)
                        done(d, AHC_OK, "%s, answer %s in %llu ms%s", got, d->expect_answer, ms,
                             via);
                else
                        done(d, AHC_CRITICAL, "%s, but %s not among %zu answers for %s%s", got,
                             d->expect_answer, n, d->name, via);
        } else {
                done(d, AHC_OK, "%s, %zu answer%s in %llu ms%s", got, n, n == 1 ? "" : "s", ms,
                     via);
        }
        ldns_pkt_free(pkt);
        return true;
}

/* ---- udp channels ---- */

static struct dns *chan_find(struct chan *c, uint16_t id)
{
        struct dns *d = c->busy[id % BUCKETS];
        while (d && d->id != id)
                d = d->hnext;
        return d;
}

/* Fails every query in flight on the channel (an ICMP error). */
static void chan_fail(struct chan *c, int err)
{
        for (size_t b = 0; b < BUCKETS; b++)
                while (c->busy[b])
                        fail_errno(c->busy[b], "receive", err);
}

static void on_chan(void *userdata, int fd, uint32_t revents)
{
        struct chan *c = userdata;
        uint8_t wire[4096];
        /* Everything that is there: one wake-up per burst of answers.
         * Bounded all the same, so a flood cannot hold the loop. */
        for (int i = 0; i < 8192; i++) {
                ssize_t n = recv(fd, wire, sizeof(wire), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        chan_fail(c, errno);
                        continue;
                }
                if (n < 2)
                        continue;
                struct dns *d = chan_find(c, (uint16_t)(wire[0] << 8 | wire[1]));
                if (d)
                        handle_reply(d, wire, (size_t)n); /* not ours: d keeps waiting */
        }
}

static int new_socket(struct dns *d, int type)
{
        d->fd = socket(d->dst.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (d->fd < 0)
                return -errno;
        if (d->src_len && bind(d->fd, (struct sockaddr *)&d->src, d->src_len) < 0)
                return -errno;
        if (connect(d->fd, (struct sockaddr *)&d->dst, d->dst_len) < 0 && errno != EINPROGRESS)
                return -errno;
        return 0;
}

static void chan_put(struct chan *c, const struct ahc_host *host)
{
        if (!c || --c->users > 0)
                return;
        for (struct chan **pp = &chans; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        host->io_free(c->io);
        if (c->fd >= 0)
                close(c->fd);
        free(c);
}

/* The channel to d's server from d's source, made on first use. */
static int chan_get(struct dns *d)
{
        struct chan *c;
        for (c = chans; c; c = c->next)
                if (c->dst_len == d->dst_len && c->src_len == d->src_len &&
                    memcmp(&c->dst, &d->dst, d->dst_len) == 0 &&
                    memcmp(&c->src, &d->src, d->src_len) == 0)
                        break;
        if (!c) {
                c = calloc(1, sizeof(*c));
                if (!c)
                        return -ENOMEM;
                c->dst = d->dst;
                c->src = d->src;
                c->dst_len = d->dst_len;
                c->src_len = d->src_len;
                c->users = 1;
                c->next = chans;
                chans = c;
                int r = new_socket(d, SOCK_DGRAM);
                c->fd = d->fd;
                d->fd = -1;
                /* room for a burst of answers between two wake-ups */
                int size = 1 << 20;
                if (r >= 0)
                        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
                if (r >= 0)
                        r = d->host->io_add(c->fd, AHC_IO_IN, on_chan, c, &c->io);
                if (r < 0) {
                        chan_put(c, d->host);
                        return r;
                }
        } else {
                c->users++;
        }
        d->chan = c;
        return 0;
}

/* ---- tcp ---- */

static void on_tcp(void *userdata, int fd, uint32_t revents)
{
        struct dns *d = userdata;
        if (d->buf_off < d->buf_len) { /* still sending the query */
                ssize_t n = send(fd, d->buf + d->buf_off, d->buf_len - d->buf_off, MSG_NOSIGNAL);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (n < 0) {
                        int err = errno, soerr = 0;
                        socklen_t sl = sizeof(soerr);
                        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                        fail_errno(d, "send", soerr ? soerr : err);
                        return;
                }
                d->buf_off += (size_t)n;
                if (d->buf_off < d->buf_len)
                        return;
                d->buf_len = d->buf_off = 0; /* now the reply */
                if (d->host->io_set_events(d->io, AHC_IO_IN) < 0)
                        fail_errno(d, "receive", EIO);
                return;
        }
        for (;;) {
                ssize_t n = recv(fd, d->buf + d->buf_len, TCP_MAX - d->buf_len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        fail_errno(d, "receive", errno);
                        return;
                }
                d->buf_len += (size_t)n;
                size_t want = d->buf_len >= 2 ? 2 + ((size_t)d->buf[0] << 8 | d->buf[1]) : 0;
                if (want && d->buf_len >= want) {
                        handle_reply(d, d->buf + 2, want - 2);
                        return;
                }
                if (n == 0) {
                        done(d, AHC_CRITICAL, "%s: tcp connection closed before the reply",
                             d->dst_text);
                        return;
                }
        }
}

static int start_tcp(struct dns *d)
{
        close_socket(d);
        d->tcp = true;
        uint8_t *wire = NULL;
        size_t len = 0;
        if (ldns_pkt2wire(&wire, d->query, &len) != LDNS_STATUS_OK)
                return -ENOMEM;
        d->buf = malloc(TCP_MAX);
        if (!d->buf) {
                free(wire);
                return -ENOMEM;
        }
        d->buf[0] = (uint8_t)(len >> 8);
        d->buf[1] = (uint8_t)len;
        memcpy(d->buf + 2, wire, len);
        free(wire);
        d->buf_len = 2 + len;
        d->buf_off = 0;
        int r = new_socket(d, SOCK_STREAM);
        if (r >= 0)
                r = d->host->io_add(d->fd, AHC_IO_OUT, on_tcp, d, &d->io);
        return r;
}

/* ---- the plugin ---- */

static int dns_probe(void *instance, struct ahc_probe *probe)
{
        struct dns *d = instance;
        int r = d->chan ? 0 : chan_get(d);
        if (r < 0)
                return r;
        struct chan *c = d->chan;
        d->probe = probe;
        d->started = d->host->now_usec();
        d->tcp = false;
        /* an ID no other query on this channel has */
        do {
                if (getrandom(&d->id, sizeof(d->id), GRND_NONBLOCK) != sizeof(d->id))
                        d->id = (uint16_t)(d->id * 31421u + 6927u);
        } while (chan_find(c, d->id));
        ldns_pkt_set_id(d->query, d->id);

        uint8_t *wire = NULL;
        size_t len = 0;
        if (ldns_pkt2wire(&wire, d->query, &len) != LDNS_STATUS_OK) {
                d->probe = NULL;
                return -ENOMEM;
        }
        d->hnext = c->busy[d->id % BUCKETS];
        c->busy[d->id % BUCKETS] = d;
        d->on_chan = true;
        ssize_t n = send(c->fd, wire, len, 0);
        int err = errno;
        free(wire);
        if (n < 0) /* e.g. a refusal an earlier query drew */
                fail_errno(d, "send", err);
        return 0;
}

static void dns_cancel(void *instance, struct ahc_probe *probe)
{
        struct dns *d = instance;
        if (d->probe != probe)
                return;
        close_socket(d);
        d->probe = NULL;
}

static void dns_destroy(void *instance)
{
        struct dns *d = instance;
        close_socket(d);
        chan_put(d->chan, d->host);
        ldns_pkt_free(d->query); /* owns qname */
        free(d);
}

static int parse_rcode(const char *s, ldns_pkt_rcode *out)
{
        const ldns_lookup_table *t = ldns_lookup_by_name(ldns_rcodes, s);
        if (!t)
                return -EINVAL;
        *out = (ldns_pkt_rcode)t->id;
        return 0;
}

/* Reads a string option; *out stays as it is when the key is absent. */
static int opt_str(const struct ahc_host *host, struct ahc_opts *opts, const char *key,
                   const char **out, int r)
{
        int s = host->opt_string(opts, key, out);
        return s == -EINVAL ? s : r;
}

static int dns_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"name",         "type",          "class",
                                            "server",       "port",          "source",
                                            "expect_rcode", "expect_answer", NULL};
        int r = host->opt_only(opts, known);
        struct dns *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->host = host;
        d->fd = -1;

        const char *type = "A", *class = "IN", *rcode = "NOERROR", *server = NULL;
        const char *source = NULL;
        r = opt_str(host, opts, "type", &type, r);
        r = opt_str(host, opts, "class", &class, r);
        r = opt_str(host, opts, "expect_rcode", &rcode, r);
        r = opt_str(host, opts, "expect_answer", &d->expect_answer, r);
        r = opt_str(host, opts, "source", &source, r);
        int nr = host->opt_string(opts, "name", &d->name);
        if (nr == -ENOENT)
                r = host->opt_error(opts, NULL, "\"name\" is required");
        else if (nr < 0)
                r = nr;
        else if (!(d->qname = ldns_dname_new_frm_str(d->name)))
                r = host->opt_error(opts, "name", "\"%s\" is not a domain name", d->name);
        if (!(d->qtype = ldns_get_rr_type_by_name(type)))
                r = host->opt_error(opts, "type", "\"%s\" is not a record type", type);
        if (!(d->qclass = ldns_get_rr_class_by_name(class)))
                r = host->opt_error(opts, "class", "\"%s\" is not a class", class);
        if (parse_rcode(rcode, &d->expect_rcode) < 0)
                r = host->opt_error(opts, "expect_rcode", "\"%s\" is not an rcode", rcode);
        if (d->expect_answer && !d->expect_answer[0])
                r = host->opt_error(opts, "expect_answer", "must not be empty");

        long long port = 53;
        int pr = host->opt_int(opts, "port", &port);
        if (pr == -EINVAL)
                r = pr;
        else if (port < 1 || port > 65535)
                r = host->opt_error(opts, "port", "must be between 1 and 65535, not %lld", port);
        int sr = host->opt_string(opts, "server", &server);
        if (sr == -ENOENT)
                r = host->opt_error(opts, NULL, "\"server\" is required");
        else if (sr < 0)
                r = sr;
        else if (check_parse_addr(server, (uint16_t)port, &d->dst, &d->dst_len) < 0)
                r = host->opt_error(opts, "server", "\"%s\" is not an IP address", server);
        else
                snprintf(d->dst_text, sizeof(d->dst_text),
                         d->dst.ss_family == AF_INET6 ? "[%s]:%lld" : "%s:%lld", server, port);
        if (source && check_parse_addr(source, 0, &d->src, &d->src_len) < 0)
                r = host->opt_error(opts, "source", "\"%s\" is not an IP address", source);
        else if (source && d->dst_len && d->src.ss_family != d->dst.ss_family)
                r = host->opt_error(opts, "source", "\"%s\" is not of the family of \"%s\"", source,
                                    server);

        if (r >= 0 && !(d->query = ldns_pkt_query_new(d->qname, d->qtype, d->qclass, LDNS_RD)))
                r = -ENOMEM;
        if (r < 0) {
                if (!d->query)
                        ldns_rdf_deep_free(d->qname);
                dns_destroy(d);
                return r;
        }
        *instance = d;
        return 0;
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "dns",
    .description = "asks a DNS server a question over UDP (TCP when truncated)",
    .flags = AHC_PLUGIN_LOOP_SAFE,
    .create = dns_create,
    .probe = dns_probe,
    .cancel = dns_cancel,
    .destroy = dns_destroy,
};
