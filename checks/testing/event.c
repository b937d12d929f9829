/* event.c (test only): unsolicited reports (ABI 1.1 host->report). Loop-
 * safe: reports option "code" with "event N" every "every_ms" (default 10)
 * "count" times (default 3), starting after create; polls answer OK
 * "polled". Built with EVENT_WORKER (as eventw) it runs in a worker and
 * reports "code" from within each probe before answering OK. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "anycast-healthd-check.h"

struct ev {
        const struct ahc_host *host;
        struct ahc_check *check;
        long long code, every_ms, count, sent;
        struct ahc_timer *timer;
};

static __attribute__((unused)) void on_timer(void *userdata)
{
        struct ev *e = userdata;
        e->host->timer_free(e->timer);
        e->timer = NULL;
        char msg[32];
        snprintf(msg, sizeof(msg), "event %lld", ++e->sent);
        e->host->report(e->check, (enum ahc_result)e->code, msg);
        if (e->sent < e->count)
                e->host->timer_add((uint64_t)e->every_ms * 1000, on_timer, e, &e->timer);
}

static int ev_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"code", "every_ms", "count", NULL};
        if (!AHC_HOST_HAS(host, report))
                return host->opt_error(opts, NULL, "this daemon cannot take reports");
        struct ev *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->host = host;
        e->code = AHC_CRITICAL;
        e->every_ms = 10;
        e->count = 3;
        int ret = host->opt_only(opts, known);
        if (host->opt_int(opts, "code", &e->code) == -EINVAL ||
            host->opt_int(opts, "every_ms", &e->every_ms) == -EINVAL ||
            host->opt_int(opts, "count", &e->count) == -EINVAL)
                ret = -EINVAL;
        if (ret < 0) {
                free(e);
                return ret;
        }
        e->check = host->check(opts);
#ifndef EVENT_WORKER
        int r = host->timer_add((uint64_t)e->every_ms * 1000, on_timer, e, &e->timer);
        if (r < 0 && r != -ENOTCONN) {
                free(e);
                return r;
        }
#endif
        *instance = e;
        return 0;
}

static int ev_probe(void *instance, struct ahc_probe *probe)
{
        struct ev *e = instance;
#ifdef EVENT_WORKER
        e->host->report(e->check, (enum ahc_result)e->code, "from worker");
#endif
        e->host->probe_done(probe, AHC_OK, "polled");
        return 0;
}

static void ev_cancel(void *instance, struct ahc_probe *probe)
{
}

static void ev_destroy(void *instance)
{
        struct ev *e = instance;
        e->host->timer_free(e->timer);
        free(e);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
#ifdef EVENT_WORKER
    .name = "eventw",
#else
    .name = "event",
    .flags = AHC_PLUGIN_LOOP_SAFE,
#endif
    .create = ev_create,
    .probe = ev_probe,
    .cancel = ev_cancel,
    .destroy = ev_destroy,
};
