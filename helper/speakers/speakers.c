/* speakers.c: the one place that lists the speakers, and the part of
 * --withdraw-all that is the same for all of them. */
#include <stdlib.h>
#include <string.h>

#include "bird_backend.h"
#include "diag.h"
#include "exabgp_backend.h"
#include "log.h"
#include "speakers.h"

static const struct backend_ops *const table[] = {&backend_exabgp_ops, &backend_bird_ops};

const struct backend_ops *speaker_at(size_t i)
{
        return i < sizeof(table) / sizeof(table[0]) ? table[i] : NULL;
}

const struct backend_ops *speaker_by_kind(enum backend_kind kind)
{
        if (kind == BACKEND_NONE)
                return NULL;
        const char *name = backend_kind_name(kind);
        for (size_t i = 0; speaker_at(i); i++)
                if (strcmp(speaker_at(i)->name, name) == 0)
                        return speaker_at(i);
        return NULL;
}

enum backend_kind speaker_kind(const struct backend_ops *ops)
{
        for (int k = BACKEND_NONE + 1; strcmp(backend_kind_name((enum backend_kind)k), "none") != 0;
             k++)
                if (strcmp(backend_kind_name((enum backend_kind)k), ops->name) == 0)
                        return (enum backend_kind)k;
        return BACKEND_NONE;
}

int speaker_withdraw_all_main(const char *config_path, enum backend_kind force)
{
        const char *result = getenv("SERVICE_RESULT");
        if (result && strcmp(result, "success") == 0) {
                log_info("withdraw-all: the daemon stopped cleanly (SERVICE_RESULT=success) "
                         "and did what on_exit says; nothing to do");
                return EXIT_SUCCESS;
        }
        struct diag d = {0};
        struct config *cfg = NULL;
        int r = config_load_daemon(config_path, &cfg, &d);
        if (r < 0) {
                diag_print(&d, stderr);
                log_err("withdraw-all: configuration %s has %zu problem%s; cannot find what to "
                        "withdraw",
                        config_path, d.n, d.n == 1 ? "" : "s");
                diag_free(&d);
                return EXIT_FAILURE;
        }
        diag_free(&d);
        const struct backend_ops *sp =
            speaker_by_kind(force != BACKEND_NONE ? force : cfg->backend);
        int ret = EXIT_FAILURE;
        if (!sp) {
                log_err("%s: no backend: set \"backend\" or pass the speaker's option "
                        "(anycast-healthd --help)",
                        config_path);
        } else {
                if (result)
                        log_notice("withdraw-all: the daemon did not stop cleanly "
                                   "(SERVICE_RESULT=%s); withdrawing every route",
                                   result);
                ret = sp->withdraw_all(cfg);
        }
        config_free(cfg);
        return ret;
}
