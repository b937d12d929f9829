/* tcp.c: a TCP connect check. OK when the handshake completes ("connected
 * in N ms"), CRITICAL with the reason when refused or unreachable. Options:
 * host (IP address), port (1..65535), source (optional IP address to bind). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "anycast-healthd-check.h"

struct tcp {
        const struct ahc_host *host;
        struct sockaddr_storage dst, src;
        socklen_t dst_len, src_len; /* src_len 0: no source */
        char dst_text[INET6_ADDRSTRLEN + 16];
        /* the probe in flight */
        struct ahc_probe *probe;
        int fd;
        struct ahc_io *io;
        uint64_t started;
};

static int parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        memset(ss, 0, sizeof(*ss));
        if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons(port);
                *len = sizeof(*in);
                return 0;
        }
        if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                *len = sizeof(*in6);
                return 0;
        }
        return -EINVAL;
}

static void tcp_end(struct tcp *t)
{
        t->host->io_free(t->io);
        t->io = NULL;
        if (t->fd >= 0) {
                /* Close with a reset, as load balancers' checks do: a graceful
                 * close would leave a TIME_WAIT entry per probe on this host,
                 * and at thousands of checks a second those exhaust the
                 * ephemeral ports. */
                struct linger lg = {.l_onoff = 1, .l_linger = 0};
                setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
                close(t->fd);
        }
        t->fd = -1;
        t->probe = NULL;
}

static void report(struct tcp *t, int err)
{
        struct ahc_probe *p = t->probe;
        char msg[256];
        enum ahc_result res = AHC_OK;
        if (err == 0) {
                uint64_t ms = (t->host->now_usec() - t->started) / 1000;
                snprintf(msg, sizeof(msg), "connected in %llu ms", (unsigned long long)ms);
        } else {
                res = AHC_CRITICAL;
                snprintf(msg, sizeof(msg), "%s: %s", t->dst_text, strerror(err));
        }
        tcp_end(t);
        t->host->probe_done(p, res, msg);
}

static void on_ready(void *userdata, int fd, uint32_t revents)
{
        struct tcp *t = userdata;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err == 0 && (revents & (AHC_IO_ERR | AHC_IO_HUP)))
                err = ECONNRESET;
        report(t, err);
}

static int tcp_probe(void *instance, struct ahc_probe *probe)
{
        struct tcp *t = instance;
        t->probe = probe;
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
        if (connect(t->fd, (struct sockaddr *)&t->dst, t->dst_len) == 0) {
                report(t, 0);
                return 0;
        }
        if (errno != EINPROGRESS) {
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
        static const char *const known[] = {"host", "port", "source", NULL};
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
        else if (parse_addr(addr, (uint16_t)port, &t->dst, &t->dst_len) < 0)
                r = host->opt_error(opts, "host", "\"%s\" is not an IP address", addr);
        else
                snprintf(t->dst_text, sizeof(t->dst_text),
                         t->dst.ss_family == AF_INET6 ? "[%s]:%lld" : "%s:%lld", addr, port);

        const char *src;
        int sr = host->opt_string(opts, "source", &src);
        if (sr == -EINVAL)
                r = sr;
        else if (sr == 0 && parse_addr(src, 0, &t->src, &t->src_len) < 0)
                r = host->opt_error(opts, "source", "\"%s\" is not an IP address", src);
        else if (sr == 0 && hr == 0 && t->dst_len && t->src.ss_family != t->dst.ss_family)
                r = host->opt_error(opts, "source", "\"%s\" is not of the family of \"%s\"", src,
                                    addr);
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
