/* result.c (test only): returns option "code" (0..3, default 0) with
 * option "message", after blocking "sleep_ms" milliseconds. Not loop-safe,
 * so it runs in a worker; it is the well-behaved worker plugin of tests. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "anycast-healthd-check.h"

struct result {
        const struct ahc_host *host;
        long long code, sleep_ms;
        const char *message;
};

static int result_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"code", "message", "sleep_ms", NULL};
        struct result *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->host = host;
        r->message = "";
        int ret = host->opt_only(opts, known);
        if (host->opt_int(opts, "code", &r->code) == -EINVAL)
                ret = -EINVAL;
        else if (r->code < 0 || r->code > 3)
                ret = host->opt_error(opts, "code", "must be 0, 1, 2 or 3");
        if (host->opt_string(opts, "message", &r->message) == -EINVAL)
                ret = -EINVAL;
        if (host->opt_int(opts, "sleep_ms", &r->sleep_ms) == -EINVAL)
                ret = -EINVAL;
        if (ret < 0) {
                free(r);
                return ret;
        }
        host->log(opts, AHC_LOG_DEBUG, "created, code %lld", r->code);
        *instance = r;
        return 0;
}

static int result_probe(void *instance, struct ahc_probe *probe)
{
        struct result *r = instance;
        if (r->sleep_ms > 0) {
                struct timespec ts = {r->sleep_ms / 1000, (r->sleep_ms % 1000) * 1000000};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        r->host->probe_done(probe, (enum ahc_result)r->code, r->message);
        return 0;
}

static void result_destroy(void *instance)
{
        free(instance);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "result",
    .create = result_create,
    .probe = result_probe,
    .destroy = result_destroy,
};
