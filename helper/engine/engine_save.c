/* engine_save.c: writing the manual state file (engine_save.h), retried
 * on the loop until it succeeds: an operator's disable must survive a
 * restart, and a full disk must not make the action fail. */
#include <string.h>

#include "engine_internal.h"
#include "engine_notify.h"
#include "engine_save.h"
#include "log.h"

#define SAVE_RETRY_FIRST (1000 * 1000ULL)
#define SAVE_RETRY_MAX   (30 * 1000 * 1000ULL)

/* Writes the state file; logs the first failure of an outage and the
 * recovery. Returns 0 or ENGINE_UNSAVED. */
static int save_now(struct engine *en)
{
        int r = manual_state_save(en->cfg->state_file, &en->manual);
        if (r == 0) {
                if (en->save_error) {
                        log_notice("state file %s saved: the manual state survives a restart "
                                   "again",
                                   en->cfg->state_file);
                        en->save_error = 0;
                        timerq_cancel(en->timers, &en->save_retry);
                        engine_status_changed(en);
                }
                return 0;
        }
        /* Once per outage: a retry every few seconds must not flood the log. */
        if (!en->save_error) {
                log_err("cannot write the state file %s: %s; the manual state is applied but "
                        "will NOT survive a restart until a write succeeds (retrying)",
                        en->cfg->state_file, strerror(-r));
                en->save_error = r;
                engine_status_changed(en);
        }
        en->save_error = r;
        return ENGINE_UNSAVED;
}

static void save_retry_fire(struct timerq_item *it, uint64_t now)
{
        struct engine *en = ENGINE_ITEM_OWNER(it, struct engine, save_retry);
        if (save_now(en) == ENGINE_UNSAVED) {
                en->save_backoff =
                    en->save_backoff * 2 > SAVE_RETRY_MAX ? SAVE_RETRY_MAX : en->save_backoff * 2;
                timerq_put(en->timers, &en->save_retry, now + en->save_backoff);
        }
}

void engine_save_init(struct engine *en)
{
        timerq_item_init(&en->save_retry, save_retry_fire);
}

int engine_save_manual(struct engine *en)
{
        if (save_now(en) == 0)
                return 0;
        if (timerq_item_queued(&en->save_retry))
                return ENGINE_UNSAVED; /* a retry is pending: keep its backoff */
        en->save_backoff = SAVE_RETRY_FIRST;
        int r = timerq_put(en->timers, &en->save_retry, engine_now(en) + en->save_backoff);
        if (r < 0)
                log_err("cannot arm the state file retry: %s; the next manual action writes it",
                        strerror(-r));
        return ENGINE_UNSAVED;
}
