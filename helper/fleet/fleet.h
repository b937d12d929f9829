/* fleet.h: this PoP as a member of a fleet sharing state through etcd v3
 * (the "fleet" block). It keeps, under a lease it refreshes, one key per
 * service with this PoP's state; it watches everyone's keys into a view
 * (fleet_view.h); and it runs the floor's transactions: a withdraw that
 * needs others to announce is agreed by etcd comparing their keys as we
 * saw them, so two PoPs failing at once never both pass the floor.
 *
 * Ready means the view is complete and current: lease alive, range read,
 * watch running. Any failure makes it not ready at once (the view is
 * cleared, never half-trusted) and it reconnects, rebuilding everything:
 * a new lease, our keys put again, a fresh range, a new watch. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "fleet_view.h"

struct fleet;

/* service: a service whose entries changed, or whose floor question was
 * answered; NULL: every service (readiness changed). */
typedef void (*fleet_changed_fn)(void *userdata, const char *service);

/* cfg must outlive the fleet (its fleet block and pop are read on start
 * and on each reconnect). Negative errno. */
int fleet_new(sd_event *e, const struct config *cfg, fleet_changed_fn changed, void *userdata,
              struct fleet **out);
int fleet_start(struct fleet *f);
/* Revokes the lease (our keys vanish at once for the others) within
 * timeout_usec, then done() runs; done may be NULL. */
void fleet_stop(struct fleet *f, uint64_t timeout_usec, void (*done)(void *userdata),
                void *userdata);
void fleet_free(struct fleet *f);

bool fleet_ready(const struct fleet *f);
/* Why not ready ("connecting", the last error); "" when ready. */
const char *fleet_problem(const struct fleet *f);
/* The etcd URL in use (or last tried). */
const char *fleet_endpoint(const struct fleet *f);
const struct fleet_view *fleet_view(const struct fleet *f);
const char *fleet_pop(const struct fleet *f);
unsigned fleet_others_announcing(const struct fleet *f, const char *service);

/* This PoP's state of a service, put under the lease (coalesced: the
 * latest wins; sent again after every reconnect). */
void fleet_publish(struct fleet *f, const char *service, bool announced, bool held,
                   const char *state, int64_t since, const char *reason);

/* The floor's question for a health-driven withdraw: may we stop
 * announcing service while min_pops others still do? Returns 1 when etcd
 * already agreed (the withdraw may go; our key already says withdrawn),
 * 0 while the question is open (the answer comes as changed(service)),
 * negative errno. A refusal (someone changed meanwhile) refreshes the
 * view of the service and leaves the question closed: ask again. The
 * agreement is forgotten once the service is published as announced. */
int fleet_ask_withdraw(struct fleet *f, const char *service, const char *state, const char *reason);

struct fleet_stats {
        uint64_t unreachable_total; /* times the fleet became not ready */
        uint64_t asks, granted, refused;
        uint64_t last_ask_usec; /* etcd's answer to the last floor question */
        uint64_t puts;
};
void fleet_stats(const struct fleet *f, struct fleet_stats *out);
