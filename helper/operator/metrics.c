/* metrics.c: libmicrohttpd in "external polling" mode with its own epoll
 * set (MHD_USE_EPOLL, no thread): the loop watches that one descriptor and
 * calls MHD_run() when it is readable or when MHD's timeout expires. MHD
 * does non-blocking I/O with bounded connections and timeouts, so a slow
 * scraper never blocks the loop. A scrape is rendered a chunk at a time as
 * MHD asks for body data (metrics_render.h's cursor), so neither its
 * memory nor the loop time of one MHD_run grows with the number of
 * services; a few scrapes run at once, the others get a quick 503. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "backend.h"
#include "config_operator.h"
#include "engine.h"
#include "engine_ctl.h"
#include "engine_fleet.h"
#include "log.h"
#include "event_priority.h"
#include "metrics.h"
#include "metrics_render.h"

/* Room for idle keep-alive connections of a few scrapers plus a burst;
 * one address may not take them all. */
#define MAX_CONNECTIONS    256
#define MAX_PER_IP         128
#define CONNECTION_TIMEOUT 10 /* seconds without progress */
#define CONNECTION_MEMORY  (32 * 1024)
#define MAX_SCRAPES        4
#define RENDER_CHUNK       (64 * 1024)
#define BLOCK_SIZE         (64 * 1024)
/* However MHD ends up (see run()), it is run at least this often. */
#define HEARTBEAT_USEC (1000ULL * 1000ULL)

struct metrics {
        sd_event *e;
        const struct config *cfg;
        struct engine *en;
        const struct backend_ops *ops;
        struct backend *be;
        struct MHD_Daemon *mhd;
        sd_event_source *io, *timer;
        unsigned scrapes; /* responses being sent */
};

struct scrape {
        struct metrics *m;
        struct metrics_cursor cur;
};

void metrics_set_config(struct metrics *m, const struct config *cfg)
{
        if (m)
                m->cfg = cfg;
}

static int engine_get(void *userdata, size_t i, struct service_status *out)
{
        return engine_service_status(userdata, i, out);
}

/* Called by MHD_run when the connection wants more body: the engine's
 * snapshot and the backend's counters are read anew each time, since they
 * are only valid until the loop turns (and a reload may change them). */
static ssize_t scrape_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct scrape *sc = cls;
        struct metrics *m = sc->m;
        struct metrics_backend mb = {0};
        int unsaved = engine_state_file_error(m->en);
        struct engine_fleet_status fl;
        bool fleet = engine_fleet_status(m->en, &fl);
        struct metrics_source src = {.pop = m->cfg->pop,
                                     .n = engine_service_count(m->en),
                                     .get = engine_get,
                                     .userdata = m->en,
                                     .state_file_error = &unsaved,
                                     .fleet = fleet ? &fl : NULL};
        if (m->be) {
                mb = (struct metrics_backend){
                    .ops = m->ops, .be = m->be, .route_delay = engine_route_delay(m->en)};
                src.be = &mb;
        }
        ssize_t n = metrics_cursor_read(&sc->cur, &src, buf, max);
        if (n < 0) {
                log_warning("metrics: cannot render a scrape: %s", strerror((int)-n));
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        return n > 0 ? n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void scrape_free(void *cls)
{
        struct scrape *sc = cls;
        sc->m->scrapes--;
        metrics_cursor_clear(&sc->cur);
        free(sc);
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
        if (m->scrapes >= MAX_SCRAPES) {
                static const char busy[] = "busy: too many scrapes in progress, try again\n";
                return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", (char *)busy,
                             sizeof(busy) - 1, MHD_RESPMEM_PERSISTENT);
        }
        struct scrape *sc = calloc(1, sizeof(*sc));
        if (!sc)
                return MHD_NO;
        sc->m = m;
        metrics_cursor_init(&sc->cur, RENDER_CHUNK);
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_SIZE,
                                                                   scrape_read, sc, scrape_free);
        if (!r) {
                free(sc);
                return MHD_NO;
        }
        m->scrapes++; /* scrape_free gives it back, when MHD is done with r */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8");
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
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
        uint64_t usec = HEARTBEAT_USEC, now = 0;
        if (MHD_get_timeout(m->mhd, &ms) == MHD_YES && ms * 1000ULL < usec)
                usec = ms * 1000ULL;
        sd_event_now(m->e, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(m->timer, now + usec);
        sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

static unsigned connections(struct metrics *m)
{
        const union MHD_DaemonInfo *i =
            MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        return i ? i->num_connections : 0;
}

/* At the connection limit MHD takes its listening socket out of its epoll
 * set, and puts it back only at the start of a later MHD_run. When the
 * connections that make room again close inside a run (timeouts, the last
 * reply sent), nothing wakes the loop for that later run: the set holds no
 * descriptor and MHD reports no timeout, so the port stayed dead until a
 * restart. Hence: run again while a run closed connections, and never let
 * the timer go quiet (the heartbeat also covers MHD's stop after EMFILE). */
static void run(struct metrics *m)
{
        for (int i = 0; i < 4; i++) {
                unsigned before = connections(m);
                MHD_run(m->mhd);
                if (connections(m) >= before)
                        break;
        }
        rearm(m);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        run(userdata);
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
        m->mhd = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, m, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_PER_IP,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY, MHD_OPTION_END);
        if (!m->mhd) {
                log_err("metrics: cannot listen on %s (in use? wrong address?)",
                        cfg->metrics.listen);
                free(m);
                return -EADDRNOTAVAIL;
        }
        const union MHD_DaemonInfo *fdi = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        r = fdi ? sd_event_add_io(e, &m->io, fdi->epoll_fd, EPOLLIN, on_io, m) : -EINVAL;
        if (r >= 0)
                r = sd_event_add_time(e, &m->timer, CLOCK_MONOTONIC, 0, 1, on_timer, m);
        /* Scrapes are bulk output: never ahead of checks or routes
         * (event_priority.h). */
        if (r >= 0)
                r = sd_event_source_set_priority(m->io, EV_PRIO_BULK);
        if (r >= 0)
                r = sd_event_source_set_priority(m->timer, EV_PRIO_BULK);
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
