/* speakers.c: the one place that lists the speakers, and the part of
 * --withdraw-all that is the same for all of them. */
#include <stdlib.h>
#include <string.h>

#include "bird_backend.h"
#include "bird_config.h"
#include "diag.h"
#include "exabgp_backend.h"
#include "exabgp_config.h"
#include "frr_backend.h"
#include "frr_config.h"
#include "log.h"
#include "speakers.h"

static const struct backend_ops *const table[] = {&backend_exabgp_ops, &backend_bird_ops,
                                                      &backend_frr_ops};

const struct backend_ops *speaker_at(size_t i)
{
        return i < sizeof(table) / sizeof(table[0]) ? table[i] : NULL;
}

const struct backend_ops *speaker_by_name(const char *name)
{
        for (size_t i = 0; name && speaker_at(i); i++)
                if (strcmp(speaker_at(i)->name, name) == 0)
                        return speaker_at(i);
        return NULL;
}

void speakers_register(void)
{
        static const struct speaker_block *const blocks[] = {&exabgp_block, &bird_block, &frr_block};
        config_set_speakers(blocks, sizeof(blocks) / sizeof(blocks[0]));
}

int speaker_withdraw_all_main(const char *config_path, const char *force)
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
        const struct backend_ops *sp = speaker_by_name(force ? force : cfg->backend);
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
