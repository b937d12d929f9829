/* manual_state.h: the operator's manual state (disables, drains,
 * withdraw-all, with reasons and times), kept in a JSON file written
 * atomically so a restart or a crash never brings a disabled service back.
 *
 * {"version": 1,
 *  "withdraw_all": {"reason": "...", "since_usec": N},        (optional)
 *  "services": {"dns": {"reason": "...", "since_usec": N,
 *                       "drain_until_usec": N,                (optional)
 *                       "withdraw_all": true}}}               (optional)
 * A service listed is disabled; with drain_until_usec in the future it is
 * draining until then. Times are CLOCK_REALTIME microseconds. Entries for
 * services not in the configuration are kept (the service may come back). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct manual_entry {
        char *service;
        char *reason;
        uint64_t since_usec;
        uint64_t drain_until_usec; /* 0: a plain disable */
        bool by_withdraw_all;      /* set by withdraw-all, cleared with it */
};

struct manual_state {
        bool withdraw_all;
        char *withdraw_all_reason;
        uint64_t withdraw_all_since_usec;
        struct manual_entry *entries; /* in no particular order */
        size_t n;
        /* private: capacity of entries, and an open-addressing index of
         * them by service (entry index + 1, 0 empty) so that a file of
         * 40,000 entries loads, and 10,000 services find theirs, in
         * linear time */
        size_t cap;
        size_t *slots;
        size_t n_slots; /* 0 or a power of two, at least twice n */
};

void manual_state_free(struct manual_state *st);
/* Parses text. Returns 0, or -EBADMSG with a reason in err (which names
 * the line and column for JSON syntax errors). st is empty on error. */
int manual_state_parse(const char *text, size_t len, struct manual_state *st, char *err,
                       size_t errlen);
/* Reads path: a missing file is an empty state (0). -EBADMSG (err set) for
 * a corrupt or oversized file, -EISDIR or -EINVAL (err says what it is) for
 * something other than a regular file in its place, another negative errno
 * when it cannot be read. */
int manual_state_load(const char *path, struct manual_state *st, char *err, size_t errlen);
/* The JSON text (malloc'd), or NULL on no memory. */
char *manual_state_dump(const struct manual_state *st);
/* Writes beside path, fsyncs, renames into place, fsyncs the directory. */
int manual_state_save(const char *path, const struct manual_state *st);

struct manual_entry *manual_state_find(struct manual_state *st, const char *service);
/* Adds or replaces the entry for service. -ENOMEM. */
int manual_state_set(struct manual_state *st, const char *service, const char *reason,
                     uint64_t since_usec, uint64_t drain_until_usec, bool by_withdraw_all);
/* Removes the entry; true when there was one. The last entry takes its
 * place in entries (a loop over entries that removes stays at its index). */
bool manual_state_remove(struct manual_state *st, const char *service);
