/* async.c (test only): a loop-safe plugin answering option "code" (default
 * 0) with "message" after "delay_ms" on a host timer. "sync": answer from
 * within probe(). "late": on cancel keep the timer and answer anyway (an
 * ABI violation the host must shrug off). */
#include <errno.h>
#include <stdlib.h>

#include "anycast-healthd-check.h"

struct async {
        const struct ahc_host *host;
        long long code, delay_ms;
        const char *message;
        bool sync, late;
        struct ahc_timer *timer;
        struct ahc_probe *probe;
};

static int async_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"code", "message", "delay_ms", "sync", "late", NULL};
        struct async *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->host = host;
        a->message = "";
        int ret = host->opt_only(opts, known);
        if (host->opt_int(opts, "code", &a->code) == -EINVAL ||
            host->opt_string(opts, "message", &a->message) == -EINVAL ||
            host->opt_int(opts, "delay_ms", &a->delay_ms) == -EINVAL ||
            host->opt_bool(opts, "sync", &a->sync) == -EINVAL ||
            host->opt_bool(opts, "late", &a->late) == -EINVAL)
                ret = -EINVAL;
        if (ret < 0) {
                free(a);
                return ret;
        }
        *instance = a;
        return 0;
}

static void on_timer(void *userdata)
{
        struct async *a = userdata;
        a->host->timer_free(a->timer);
        a->timer = NULL;
        struct ahc_probe *p = a->probe;
        a->probe = NULL;
        a->host->probe_done(p, (enum ahc_result)a->code, a->message);
}

static int async_probe(void *instance, struct ahc_probe *probe)
{
        struct async *a = instance;
        if (a->sync) {
                a->host->probe_done(probe, (enum ahc_result)a->code, a->message);
                return 0;
        }
        if (a->timer) /* a late answer still pending: drop it */
                a->host->timer_free(a->timer);
        a->probe = probe;
        return a->host->timer_add((uint64_t)a->delay_ms * 1000, on_timer, a, &a->timer);
}

static void async_cancel(void *instance, struct ahc_probe *probe)
{
        struct async *a = instance;
        if (a->late)
                return;
        a->host->timer_free(a->timer);
        a->timer = NULL;
        a->probe = NULL;
}

static void async_destroy(void *instance)
{
        struct async *a = instance;
        a->host->timer_free(a->timer);
        free(a);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "async",
    .flags = AHC_PLUGIN_LOOP_SAFE,
    .create = async_create,
    .probe = async_probe,
    .cancel = async_cancel,
    .destroy = async_destroy,
};
