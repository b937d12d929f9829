/* diskfree.c: an example check plugin for anycast-healthd. OK while the
 * file system holding "path" has at least "warning_percent" free, WARNING
 * (the service stays announced, de-preferred) below that, CRITICAL below
 * "critical_percent". Useful for a cache or log-heavy service that fails
 * badly on a full disk: move its traffic away before it does.
 *
 * It is a synchronous plugin: statvfs() can block (a hung NFS mount), so
 * it does not set AHC_PLUGIN_LOOP_SAFE and the daemon runs it in a worker
 * process of its own, where blocking costs only this check a timeout.
 *
 * Build (nothing but the public header, found by pkg-config):
 *   cc -O2 -Wall -shared -fPIC -fvisibility=hidden \
 *      $(pkg-config --cflags anycast-healthd-check) -o diskfree.so diskfree.c
 * Install diskfree.so into the daemon's plugin_dir and name it in a check:
 *   { "plugin": "diskfree", "options": { "path": "/var/cache/nginx",
 *     "warning_percent": 20, "critical_percent": 5 } }
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <anycast-healthd-check.h>

struct diskfree {
        const struct ahc_host *host;
        const char *path;
        long long warning, critical; /* percent free */
};

static int diskfree_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"path", "warning_percent", "critical_percent", NULL};
        struct diskfree *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->host = host;
        d->warning = 10;
        d->critical = 5;
        /* Report every problem (each lands at its key's file:line:column),
         * then fail once. */
        int ret = host->opt_only(opts, known);
        int rp = host->opt_string(opts, "path", &d->path);
        if (rp == -ENOENT)
                ret = host->opt_error(opts, NULL, "\"path\" is required");
        else if (rp < 0 || host->opt_int(opts, "warning_percent", &d->warning) == -EINVAL ||
                 host->opt_int(opts, "critical_percent", &d->critical) == -EINVAL)
                ret = -EINVAL;
        else if (d->critical < 0 || d->critical > 100)
                ret = host->opt_error(opts, "critical_percent", "must be 0..100");
        else if (d->warning < d->critical || d->warning > 100)
                ret = host->opt_error(opts, "warning_percent", "must be critical_percent..100");
        if (ret < 0) {
                free(d);
                return ret;
        }
        *instance = d;
        return 0;
}

static int diskfree_probe(void *instance, struct ahc_probe *probe)
{
        struct diskfree *d = instance;
        struct statvfs st;
        char msg[256];
        if (statvfs(d->path, &st) < 0) {
                snprintf(msg, sizeof(msg), "%s: %s", d->path, strerror(errno));
                d->host->probe_done(probe, AHC_UNKNOWN, msg);
                return 0;
        }
        double total = (double)st.f_blocks * st.f_frsize;
        double avail = (double)st.f_bavail * st.f_frsize;
        double pct = total > 0 ? 100.0 * avail / total : 0;
        enum ahc_result r = pct < d->critical  ? AHC_CRITICAL
                            : pct < d->warning ? AHC_WARNING
                                               : AHC_OK;
        snprintf(msg, sizeof(msg), "%s: %.1f%% free (%.0f MiB)", d->path, pct,
                 avail / (1024 * 1024));
        /* A worker plugin answers before probe() returns. */
        d->host->probe_done(probe, r, msg);
        return 0;
}

static void diskfree_destroy(void *instance)
{
        free(instance);
}

/* The one exported symbol. No cancel(): a worker's timeout kills the worker. */
AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "diskfree",
    .description = "free space on the file system holding a path",
    .create = diskfree_create,
    .probe = diskfree_probe,
    .destroy = diskfree_destroy,
};
