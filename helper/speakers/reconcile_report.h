/* reconcile_report.h: what a speaker says and does when reconciliation's
 * verdict on a prefix changes: drift logged once and counted, stuck logged
 * and told to the engine (backend_hooks.stuck), recovery likewise. The
 * same words for every speaker; the speaker names itself and its repair. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "reconcile.h"

struct reconcile_report {
        const char *speaker; /* "bird": the log lines' prefix */
        const char *repair;  /* what a repair does: "rewriting the include files" */
        uint64_t stuck_after;
        const struct backend_hooks *hooks;
        uint64_t *drift_total; /* counted on each new drift */
};

/* Feeds one pass's verdict on p to its clock t (reconcile_note) and
 * reports the change; what: how it differs ("missing at BIRD"). Returns
 * differs. */
bool reconcile_judge(const struct reconcile_report *r, struct reconcile_track *t,
                     const struct prefix *p, bool differs, const char *what, uint64_t now);
