/* v1.c (test only): a plugin as it was written and compiled against ABI 1.0,
 * built against the frozen copy of that header in abi-v1/. It answers
 * option "code" with "message" plus the size of the host struct it was
 * given. With V1_LOOP_SAFE it answers from a host timer and stamps
 * now_usec (the last 1.0 host field, so a shifted layout would show). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "anycast-healthd-check.h"

#ifdef AHC_HOST_HAS
#error "v1.c must be built against the ABI 1.0 header in abi-v1/"
#endif

struct v1 {
        const struct ahc_host *host;
        long long code;
        const char *message;
        struct ahc_timer *timer;
        struct ahc_probe *probe;
        uint64_t started;
};

static int v1_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"code", "message", NULL};
        struct v1 *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->host = host;
        v->message = "v1";
        int ret = host->opt_only(opts, known);
        if (host->opt_int(opts, "code", &v->code) == -EINVAL ||
            host->opt_string(opts, "message", &v->message) == -EINVAL)
                ret = -EINVAL;
        if (ret < 0) {
                free(v);
                return ret;
        }
        *instance = v;
        return 0;
}

static void answer(struct v1 *v, struct ahc_probe *p)
{
        char msg[128];
        uint64_t now = v->host->now_usec();
        snprintf(msg, sizeof(msg), "%s (host struct %u bytes, abi %u, clock %s)", v->message,
                 v->host->size, v->host->abi_version,
                 now >= v->started && now - v->started < 10000000 ? "ok" : "bad");
        v->host->probe_done(p, (enum ahc_result)v->code, msg);
}

static __attribute__((unused)) void on_timer(void *userdata)
{
        struct v1 *v = userdata;
        v->host->timer_free(v->timer);
        v->timer = NULL;
        struct ahc_probe *p = v->probe;
        v->probe = NULL;
        answer(v, p);
}

static int v1_probe(void *instance, struct ahc_probe *probe)
{
        struct v1 *v = instance;
        v->started = v->host->now_usec();
#ifdef V1_LOOP_SAFE
        v->probe = probe;
        return v->host->timer_add(1000, on_timer, v, &v->timer);
#else
        answer(v, probe);
        return 0;
#endif
}

static void v1_cancel(void *instance, struct ahc_probe *probe)
{
        struct v1 *v = instance;
        v->host->timer_free(v->timer);
        v->timer = NULL;
        v->probe = NULL;
}

static void v1_destroy(void *instance)
{
        struct v1 *v = instance;
        v->host->timer_free(v->timer);
        free(v);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = V1_NAME,
#ifdef V1_LOOP_SAFE
    .flags = AHC_PLUGIN_LOOP_SAFE,
#endif
    .create = v1_create,
    .probe = v1_probe,
    .cancel = v1_cancel,
    .destroy = v1_destroy,
};
