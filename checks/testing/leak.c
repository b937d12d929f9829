/* leak.c (test only): each probe allocates option "mb" MiB (default 32),
 * touches every page and never frees it. Aborts when memory runs out, as
 * a real leaking program would crash. Not loop-safe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycast-healthd-check.h"

static const struct ahc_host *host;
static long long mb = 32, total;

static int leak_create(const struct ahc_host *h, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"mb", NULL};
        host = h;
        if (h->opt_only(opts, known) < 0 || h->opt_int(opts, "mb", &mb) == -EINVAL)
                return -EINVAL;
        if (mb < 1)
                return h->opt_error(opts, "mb", "must be at least 1");
        *instance = &mb;
        return 0;
}

static int leak_probe(void *instance, struct ahc_probe *probe)
{
        size_t n = (size_t)mb << 20;
        char *p = malloc(n);
        if (!p)
                abort();
        memset(p, 0x5a, n);
        total += mb;
        char msg[64];
        snprintf(msg, sizeof(msg), "holding %lld MiB (%p)", total, (void *)p);
        host->probe_done(probe, AHC_OK, msg);
        return 0;
}

static void leak_destroy(void *instance)
{
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "leak",
    .create = leak_create,
    .probe = leak_probe,
    .destroy = leak_destroy,
};
