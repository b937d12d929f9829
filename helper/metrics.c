/* metrics.c: libmicrohttpd in "external polling" mode with its own epoll
 * set (MHD_USE_EPOLL, no thread): the loop watches that one descriptor and
 * calls MHD_run() when it is readable or when MHD's timeout expires. MHD
 * does non-blocking I/O with bounded connections and timeouts, so a slow
 * scraper never blocks the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "backend_bird.h"
#include "backend_exabgp.h"
#include "config_control.h"
#include "engine_ctl.h"
#include "log.h"
#include "metrics.h"
#include "metrics_render.h"

#define MAX_CONNECTIONS    16
#define CONNECTION_TIMEOUT 10 /* seconds */

struct metrics {
        sd_event *e;
        const struct config *cfg;
        struct engine *en;
        const struct backend_ops *ops;
        struct backend *be;
        struct MHD_Daemon *mhd;
        sd_event_source *io, *timer;
};

void metrics_set_config(struct metrics *m, const struct config *cfg)
{
        if (m)
                m->cfg = cfg;
}

static char *render(struct metrics *m, size_t *len)
{
        size_t n = engine_service_count(m->en), got = 0;
        struct service_status *st = calloc(n ? n : 1, sizeof(*st));
        if (!st)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (engine_service_status(m->en, i, &st[got]) >= 0)
                        got++;
        struct metrics_backend mb = {0}, *pmb = NULL;
        if (m->be && m->ops == &backend_exabgp_ops) {
                mb = (struct metrics_backend){.name = "exabgp",
                                              .exabgp = backend_exabgp_stats(m->be)};
                pmb = &mb;
        } else if (m->be && m->ops == &backend_bird_ops) {
                mb = (struct metrics_backend){.name = "bird", .bird = backend_bird_stats(m->be)};
                pmb = &mb;
        }
        char *text = metrics_render(m->cfg->pop, st, got, pmb, len);
        free(st);
        return text;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
        if (!r) {
                if (mode == MHD_RESPMEM_MUST_FREE)
                        free(body);
                return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        enum MHD_Result ret = MHD_queue_response(conn, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
        struct metrics *m = cls;
        static const char not_found[] = "not found: try /metrics\n";
        static const char bad_method[] = "only GET and HEAD\n";

        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
                return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", (char *)bad_method,
                             sizeof(bad_method) - 1, MHD_RESPMEM_PERSISTENT);
        if (strcmp(url, "/metrics") != 0)
                return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", (char *)not_found,
                             sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
        size_t len = 0;
        char *text = render(m, &len);
        if (!text)
                return MHD_NO;
        return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
                     MHD_RESPMEM_MUST_FREE);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char buf[512];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        size_t n = strlen(buf);
        while (n && buf[n - 1] == '\n')
                buf[--n] = '\0';
        log_warning("metrics: %s", buf);
}

static void rearm(struct metrics *m)
{
        MHD_UNSIGNED_LONG_LONG ms = 0;
        if (MHD_get_timeout(m->mhd, &ms) == MHD_YES) {
                uint64_t now = 0;
                sd_event_now(m->e, CLOCK_MONOTONIC, &now);
                sd_event_source_set_time(m->timer, now + ms * 1000ULL);
                sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
        } else {
                sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct metrics *m = userdata;
        MHD_run(m->mhd);
        rearm(m);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        return on_io(NULL, -1, 0, userdata);
}

int metrics_new(sd_event *e, const struct config *cfg, struct engine *en,
                const struct backend_ops *ops, struct backend *be, struct metrics **out)
{
        struct sockaddr_storage sa;
        socklen_t salen;
        const char *why;
        int r;

        *out = NULL;
        if (!cfg->metrics.listen || !cfg->metrics.listen[0]) {
                log_info("metrics: off (metrics.listen is empty)");
                return 0;
        }
        if (parse_listen_address(cfg->metrics.listen, &sa, &salen, &why) < 0) {
                log_err("metrics: listen \"%s\": %s", cfg->metrics.listen, why);
                return -EINVAL;
        }
        struct metrics *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        *m = (struct metrics){.e = e, .cfg = cfg, .en = en, .ops = ops, .be = be};
        unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        if (sa.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_EXTERNAL_LOGGER,
                                  mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
                                  MHD_OPTION_END);
        if (!m->mhd) {
                log_err("metrics: cannot listen on %s (in use? wrong address?)",
                        cfg->metrics.listen);
                free(m);
                return -EADDRNOTAVAIL;
        }
        const union MHD_DaemonInfo *fdi = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        r = fdi ? sd_event_add_io(e, &m->io, fdi->epoll_fd, EPOLLIN, on_io, m) : -EINVAL;
        if (r >= 0)
                r = sd_event_add_time(e, &m->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, m);
        if (r < 0) {
                log_err("metrics: cannot watch the HTTP server: %s", strerror(-r));
                metrics_free(m);
                return r;
        }
        rearm(m);
        const union MHD_DaemonInfo *pi = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
        char host[INET6_ADDRSTRLEN] = "?";
        if (sa.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof(host));
        else
                inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof(host));
        log_notice("metrics: serving http://%s%s%s:%u/metrics", sa.ss_family == AF_INET6 ? "[" : "",
                   host, sa.ss_family == AF_INET6 ? "]" : "", pi ? (unsigned)pi->port : 0u);
        *out = m;
        return 0;
}

void metrics_free(struct metrics *m)
{
        if (!m)
                return;
        sd_event_source_disable_unref(m->io);
        sd_event_source_disable_unref(m->timer);
        if (m->mhd)
                MHD_stop_daemon(m->mhd);
        free(m);
}
