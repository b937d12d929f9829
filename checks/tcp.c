/* tcp.c: a TCP connect check. OK when the handshake completes ("connected
 * in N ms"), CRITICAL with the reason when refused or unreachable. Options:
 * host (IP address), port (1..65535), source (optional IP address to bind),
 * and for banner checks send (a string written once connected, e.g.
 * "PING\r\n") and expect (a substring that must arrive within the
 * timeout, e.g. "+PONG" or an SMTP "220"); only the first 16 KiB read are
 * searched. Without send and expect the connect alone is the check. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <ctype.h>
#include <unistd.h>

#include "anycast-healthd-check.h"
#include "check_net.h"

#define READ_MAX (16 * 1024)

enum phase { CONNECTING, SENDING, READING };

struct tcp {
        const struct ahc_host *host;
        const char *send, *expect; /* NULL when not given */
        size_t send_len, expect_len;
        struct sockaddr_storage dst, src;
        socklen_t dst_len, src_len; /* src_len 0: no source */
        char dst_text[INET6_ADDRSTRLEN + 16];
        /* the probe in flight */
        struct ahc_probe *probe;
        int fd;
        struct ahc_io *io;
        uint64_t started;
        enum phase phase;
        size_t sent, got;
        char *buf; /* READ_MAX bytes while reading */
};

static void tcp_end(struct tcp *t)
{
        t->host->io_free(t->io);
        t->io = NULL;
        if (t->fd >= 0) {
                check_reset_on_close(t->fd);
                close(t->fd);
        }
        t->fd = -1;
        t->probe = NULL;
        free(t->buf);
        t->buf = NULL;
}

static uint64_t elapsed_ms(struct tcp *t)
{
        return (t->host->now_usec() - t->started) / 1000;
}

/* What arrived, printable and short, for a failure message. */
static void quote_got(const struct tcp *t, char *out, size_t size)
{
        size_t o = 0;
        for (size_t i = 0; i < t->got && o + 5 < size; i++) {
                unsigned char c = (unsigned char)t->buf[i];
                if (i == 64) {
                        o += (size_t)snprintf(out + o, size - o, "...");
                        break;
                }
                if (c == '\r' || c == '\n')
                        o += (size_t)snprintf(out + o, size - o, c == '\r' ? "\\r" : "\\n");
                else
                        out[o++] = isprint(c) ? (char)c : '.';
        }
        out[o] = '\0';
}

static void done(struct tcp *t, enum ahc_result res, const char *msg)
{
        struct ahc_probe *p = t->probe;
        tcp_end(t);
        t->host->probe_done(p, res, msg);
}

static void report(struct tcp *t, int err)
{
        char msg[256];
        if (err == 0)
                snprintf(msg, sizeof(msg), "connected in %llu ms",
                         (unsigned long long)elapsed_ms(t));
        else
                snprintf(msg, sizeof(msg), "%s: %s", t->dst_text, strerror(err));
        done(t, err ? AHC_CRITICAL : AHC_OK, msg);
}

static void fail_io(struct tcp *t, const char *what, int err)
{
        char msg[256];
        snprintf(msg, sizeof(msg), "%s: %s: %s", t->dst_text, what, strerror(err));
        done(t, AHC_CRITICAL, msg);
}

/* Reads what is there; reports when expect is found, the peer closed or
 * the buffer is full. */
static void read_some(struct tcp *t)
{
        char msg[512], got[160];
        for (;;) {
                ssize_t n = recv(t->fd, t->buf + t->got, READ_MAX - t->got, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        fail_io(t, "receive", errno);
                        return;
                }
                t->got += (size_t)n;
                if (memmem(t->buf, t->got, t->expect, t->expect_len)) {
                        snprintf(msg, sizeof(msg), "got \"%s\" in %llu ms", t->expect,
                                 (unsigned long long)elapsed_ms(t));
                        done(t, AHC_OK, msg);
                        return;
                }
                if (n == 0 || t->got == READ_MAX) {
                        quote_got(t, got, sizeof(got));
                        snprintf(msg, sizeof(msg), "%s: %s without \"%s\" (got \"%s\")",
                                 t->dst_text, n == 0 ? "connection closed" : "16 KiB received",
                                 t->expect, got);
                        done(t, AHC_CRITICAL, msg);
                        return;
                }
        }
}

/* Connected: writes what is left of send, then waits for expect. */
static void advance(struct tcp *t)
{
        t->phase = SENDING;
        while (t->sent < t->send_len) {
                ssize_t n = send(t->fd, t->send + t->sent, t->send_len - t->sent, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        if (t->host->io_set_events(t->io, AHC_IO_OUT) < 0)
                                fail_io(t, "send", EIO);
                        return;
                }
                if (n < 0) {
                        fail_io(t, "send", errno);
                        return;
                }
                t->sent += (size_t)n;
        }
        if (!t->expect) {
                char msg[256];
                snprintf(msg, sizeof(msg), "connected and sent %zu bytes in %llu ms", t->sent,
                         (unsigned long long)elapsed_ms(t));
                done(t, AHC_OK, msg);
                return;
        }
        t->phase = READING;
        if (!t->buf && !(t->buf = malloc(READ_MAX))) {
                fail_io(t, "receive", ENOMEM);
                return;
        }
        if (t->host->io_set_events(t->io, AHC_IO_IN) < 0) {
                fail_io(t, "receive", EIO);
                return;
        }
        read_some(t);
}

static void on_ready(void *userdata, int fd, uint32_t revents)
{
        struct tcp *t = userdata;
        if (t->phase == SENDING) {
                advance(t);
                return;
        }
        if (t->phase == READING) {
                read_some(t);
                return;
        }
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err == 0 && (revents & (AHC_IO_ERR | AHC_IO_HUP)) && !t->expect)
                err = ECONNRESET;
        if (err || (!t->send && !t->expect))
                report(t, err);
        else
                advance(t);
}

static int tcp_probe(void *instance, struct ahc_probe *probe)
{
        struct tcp *t = instance;
        t->probe = probe;
        t->phase = CONNECTING;
        t->sent = t->got = 0;
        t->started = t->host->now_usec();
        t->fd = socket(t->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (t->fd < 0) {
                int r = -errno;
                t->probe = NULL;
                return r;
        }
        if (t->src_len && bind(t->fd, (struct sockaddr *)&t->src, t->src_len) < 0) {
                char msg[256];
                snprintf(msg, sizeof(msg), "cannot bind source address: %s", strerror(errno));
                tcp_end(t);
                t->host->probe_done(probe, AHC_UNKNOWN, msg);
                return 0;
        }
        /* Even a connect that completes at once (loopback) goes through
         * on_ready: one path for the send/expect steps that follow. */
        if (connect(t->fd, (struct sockaddr *)&t->dst, t->dst_len) < 0 && errno != EINPROGRESS) {
                report(t, errno);
                return 0;
        }
        int r = t->host->io_add(t->fd, AHC_IO_OUT, on_ready, t, &t->io);
        if (r < 0) {
                tcp_end(t);
                return r;
        }
        return 0;
}

static void tcp_cancel(void *instance, struct ahc_probe *probe)
{
        struct tcp *t = instance;
        if (t->probe == probe)
                tcp_end(t);
}

static int tcp_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"host", "port", "source", "send", "expect", NULL};
        int r = host->opt_only(opts, known);
        struct tcp *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->host = host;
        t->fd = -1;

        long long port = 0;
        int pr = host->opt_int(opts, "port", &port);
        if (pr == -ENOENT)
                r = host->opt_error(opts, NULL, "\"port\" is required");
        else if (pr < 0)
                r = pr;
        else if (port < 1 || port > 65535)
                r = host->opt_error(opts, "port", "must be between 1 and 65535, not %lld", port);

        const char *addr;
        int hr = host->opt_string(opts, "host", &addr);
        if (hr == -ENOENT)
                r = host->opt_error(opts, NULL, "\"host\" is required");
        else if (hr < 0)
                r = hr;
        else if (check_parse_addr(addr, (uint16_t)port, &t->dst, &t->dst_len) < 0)
                r = host->opt_error(opts, "host", "\"%s\" is not an IP address", addr);
        else
                snprintf(t->dst_text, sizeof(t->dst_text),
                         t->dst.ss_family == AF_INET6 ? "[%s]:%lld" : "%s:%lld", addr, port);

        const char *src;
        int sr = host->opt_string(opts, "source", &src);
        if (sr == -EINVAL)
                r = sr;
        else if (sr == 0 && check_parse_addr(src, 0, &t->src, &t->src_len) < 0)
                r = host->opt_error(opts, "source", "\"%s\" is not an IP address", src);
        else if (sr == 0 && hr == 0 && t->dst_len && t->src.ss_family != t->dst.ss_family)
                r = host->opt_error(opts, "source", "\"%s\" is not of the family of \"%s\"", src,
                                    addr);
        int xr = host->opt_string(opts, "send", &t->send);
        if (xr == -EINVAL)
                r = xr;
        else if (xr == 0 && !t->send[0])
                r = host->opt_error(opts, "send", "must not be empty");
        else if (xr == 0)
                t->send_len = strlen(t->send);
        xr = host->opt_string(opts, "expect", &t->expect);
        if (xr == -EINVAL)
                r = xr;
        else if (xr == 0 && !t->expect[0])
                r = host->opt_error(opts, "expect", "must not be empty");
        else if (xr == 0)
                t->expect_len = strlen(t->expect);
        if (r < 0) {
                free(t);
                return r;
        }
        *instance = t;
        return 0;
}

static void tcp_destroy(void *instance)
{
        struct tcp *t = instance;
        tcp_end(t);
        free(t);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "tcp",
    .description = "connects to host:port over TCP",
    .flags = AHC_PLUGIN_LOOP_SAFE,
    .create = tcp_create,
    .probe = tcp_probe,
    .cancel = tcp_cancel,
    .destroy = tcp_destroy,
};
