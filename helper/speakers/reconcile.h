/* reconcile.h: what the speaker really holds against what we asked,
 * speaker-neutral and pure (no I/O, no clock).
 *
 * A speaker reads its table once per pass (one query, not one per
 * prefix), turns the answer into the sorted set of our prefixes it holds
 * (reconcile_set) and asks, for every prefix it manages, whether it is
 * held. A prefix held but not wanted, or wanted but not held, differs: the
 * speaker repairs it (re-sends, re-applies) and feeds the verdict to the
 * prefix's drift clock (reconcile_note), which says when a difference that
 * repairs do not end has become "stuck". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

enum reconcile_state {
        RECONCILE_OK = 0, /* held as asked (or not checked yet) */
        RECONCILE_DRIFT,  /* differed at the last pass; repaired, not yet seen right */
        RECONCILE_STUCK,  /* differs for stuck_after and more, repairs or not */
};

enum reconcile_event {
        RECONCILE_SAME = 0,     /* no change of state */
        RECONCILE_DRIFTED,      /* OK -> DRIFT: log once, count, repair */
        RECONCILE_BECAME_STUCK, /* DRIFT -> STUCK: log, hook, gauge */
        RECONCILE_RECOVERED,    /* DRIFT or STUCK -> OK */
};

/* Per prefix; zeroed is "OK, never differed". */
struct reconcile_track {
        uint64_t since; /* when the current difference was first seen */
        enum reconcile_state state;
};

/* One pass's verdict for one prefix at now; stuck_after: how long a
 * difference may last before it is stuck (a first difference is always
 * DRIFTED first, so it is counted and repaired once). A prefix that
 * differs again keeps its first sighting: repairs that do not hold do not
 * reset it. */
enum reconcile_event reconcile_note(struct reconcile_track *t, bool differs, uint64_t now,
                                    uint64_t stuck_after);

const char *reconcile_state_name(enum reconcile_state s);

/* The prefixes a speaker said it holds, sorted (prefix_cmp) and unique. */
struct reconcile_set {
        struct prefix *v;
        size_t n, cap;
};

/* Adds p (in any order); -ENOMEM. */
int reconcile_set_add(struct reconcile_set *s, const struct prefix *p);
/* Sorts and drops duplicates: after the last add, before the first has. */
void reconcile_set_seal(struct reconcile_set *s);
bool reconcile_set_has(const struct reconcile_set *s, const struct prefix *p);
void reconcile_set_clear(struct reconcile_set *s);
void reconcile_set_free(struct reconcile_set *s);
