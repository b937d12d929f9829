/* engine_save.c: writing the manual state file (engine_save.h), retried
 * on the loop until it succeeds: an operator's disable must survive a
 * restart, and a full disk must not make the action fail. */
#include <string.h>
#include <systemd/sd-event.h>

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
                        if (en->save_retry)
                                sd_event_source_set_enabled(en->save_retry, SD_EVENT_OFF);
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

static int save_retry_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct engine *en = userdata;
        if (save_now(en) == ENGINE_UNSAVED) {
                en->save_backoff =
                    en->save_backoff * 2 > SAVE_RETRY_MAX ? SAVE_RETRY_MAX : en->save_backoff * 2;
                sd_event_source_set_time_relative(src, en->save_backoff);
                sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        }
        return 0;
}

int engine_save_manual(struct engine *en)
{
        if (save_now(en) == 0)
                return 0;
        int r = 0, on = SD_EVENT_OFF;
        if (en->save_retry && sd_event_source_get_enabled(en->save_retry, &on) >= 0 &&
            on != SD_EVENT_OFF)
                return ENGINE_UNSAVED; /* a retry is pending: keep its backoff */
        en->save_backoff = SAVE_RETRY_FIRST;
        if (en->save_retry) {
                r = sd_event_source_set_time_relative(en->save_retry, en->save_backoff);
                if (r >= 0)
                        r = sd_event_source_set_enabled(en->save_retry, SD_EVENT_ONESHOT);
        } else {
                r = sd_event_add_time_relative(en->e, &en->save_retry, CLOCK_MONOTONIC,
                                               en->save_backoff, 100000, save_retry_cb, en);
        }
        if (r < 0)
                log_err("cannot arm the state file retry: %s; the next manual action writes it",
                        strerror(-r));
        return ENGINE_UNSAVED;
}
