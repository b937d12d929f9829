/* fleet_view.h: what every PoP of the fleet says about each service, as
 * etcd holds it: one key per service and PoP,
 *   PREFIX "services/" SERVICE "/" POP  ->  {"announced": true, "held": false,
 *                                            "state": "up", "since": 1764806400,
 *                                            "reason": "..."}
 * kept current from a range and then a watch. Pure: no I/O, no clock. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLEET_STATE_MAX 16

struct fleet_entry {
        char *pop;
        bool announced; /* the PoP announces the service (held included) */
        bool held;      /* announced only because of the floor */
        char state[FLEET_STATE_MAX];
        int64_t since; /* Unix time in seconds of the PoP's last state change */
        char *reason;
        int64_t mod_revision; /* etcd's: the floor's transaction compares it */
};

struct fleet_view;

struct fleet_view *fleet_view_new(const char *prefix);
void fleet_view_free(struct fleet_view *v);
/* Forgets everything (etcd away: the view is rebuilt, never half-trusted). */
void fleet_view_clear(struct fleet_view *v);

/* A key put (value JSON text) or deleted (value NULL). Returns 1 when the
 * service's entries changed (its name copied into service, FLEET_NAME_MAX
 * bytes), 0 when nothing changed or the key is not a service key under
 * the prefix, -EBADMSG when the value is not ours to read (the entry is
 * dropped: an unreadable PoP counts as not announcing), -ENOMEM. */
#define FLEET_NAME_MAX 256
int fleet_view_apply(struct fleet_view *v, const char *key, const char *value, int64_t mod_revision,
                     char service[FLEET_NAME_MAX]);

/* Drops every entry of service (before applying a fresh range of it). */
void fleet_view_forget(struct fleet_view *v, const char *service);

/* PoPs announcing service, except_pop (may be NULL) not counted. */
unsigned fleet_view_announcing(const struct fleet_view *v, const char *service,
                               const char *except_pop);
/* The service's entries, sorted by PoP name; NULL when none. */
const struct fleet_entry *fleet_view_service(const struct fleet_view *v, const char *service,
                                             size_t *n);
/* Every service in the view, in no particular order: calls fn for each. */
void fleet_view_each(const struct fleet_view *v,
                     void (*fn)(void *ud, const char *service, const struct fleet_entry *e,
                                size_t n),
                     void *ud);

/* The key of (service, pop) and the value this PoP writes: malloc'd,
 * NULL on ENOMEM. */
char *fleet_key(const char *prefix, const char *service, const char *pop);
char *fleet_value(bool announced, bool held, const char *state, int64_t since, const char *reason);
