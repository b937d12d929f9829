/* hang.c (test only): blocks forever in probe. With option "trigger" (a
 * path) it hangs only while that file exists, removing it first. Not
 * loop-safe: runs in a worker, which the host must kill at the timeout. */
#include <errno.h>
#include <unistd.h>

#include "anycast-healthd-check.h"

struct hang {
        const struct ahc_host *host;
        const char *trigger;
};

static int hang_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"trigger", NULL};
        static struct hang h;
        h.host = host;
        h.trigger = NULL;
        if (host->opt_only(opts, known) < 0 ||
            host->opt_string(opts, "trigger", &h.trigger) == -EINVAL)
                return -EINVAL;
        *instance = &h;
        return 0;
}

static int hang_probe(void *instance, struct ahc_probe *probe)
{
        struct hang *h = instance;
        if (!h->trigger || unlink(h->trigger) == 0)
                for (;;)
                        pause();
        h->host->probe_done(probe, AHC_OK, "did not hang");
        return 0;
}

static void hang_destroy(void *instance)
{
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "hang",
    .create = hang_create,
    .probe = hang_probe,
    .destroy = hang_destroy,
};
