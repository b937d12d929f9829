/* crash.c (test only): segfaults in probe. With option "trigger" (a path)
 * it crashes only while that file exists, removing it first: one crash per
 * trigger, so a test can watch the worker come back. Not loop-safe. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "anycast-healthd-check.h"

struct crash {
        const struct ahc_host *host;
        const char *trigger;
};

static int crash_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"trigger", NULL};
        static struct crash c;
        c.host = host;
        c.trigger = NULL;
        if (host->opt_only(opts, known) < 0 ||
            host->opt_string(opts, "trigger", &c.trigger) == -EINVAL)
                return -EINVAL;
        *instance = &c;
        return 0;
}

static int crash_probe(void *instance, struct ahc_probe *probe)
{
        struct crash *c = instance;
        if (!c->trigger || unlink(c->trigger) == 0) {
                /* a real fault on a page we may not touch (a NULL store
                 * would be caught by UBSan in sanitizer builds first) */
                volatile int *page =
                    mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                *page = 1;
                raise(SIGSEGV); /* should the write not fault */
        }
        c->host->probe_done(probe, AHC_OK, "did not crash");
        return 0;
}

static void crash_destroy(void *instance)
{
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "crash",
    .create = crash_create,
    .probe = crash_probe,
    .destroy = crash_destroy,
};
