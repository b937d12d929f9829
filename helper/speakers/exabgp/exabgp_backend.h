/* exabgp_backend.h: internals of the ExaBGP backend that tests and the
 * status code use. The daemon itself only needs backend_exabgp_ops. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "reconcile.h"

/* As backend_exabgp_ops.create, but reading ExaBGP's output from in_fd and
 * writing commands to out_fd instead of 0 and 1. Both are set non-blocking;
 * the backend does not close them. */
int backend_exabgp_create_fds(sd_event *e, struct clock *clk, const struct config *cfg,
                              const struct backend_hooks *hooks, int in_fd, int out_fd,
                              struct backend **out);

/* Retry backoff after an "error" ack: first wait initial_usec, doubling up
 * to max_usec (defaults 1 s and 30 s). */
void backend_exabgp_set_backoff(struct backend *b, uint64_t initial_usec, uint64_t max_usec);

/* How long stop() waits for ExaBGP's acks of commands already written
 * before calling done anyway (default 2 s; only with acks on). */
void backend_exabgp_set_stop_wait(struct backend *b, uint64_t usec);

enum exabgp_route_sync {
        EXABGP_SYNC_QUEUED,    /* not yet written to ExaBGP */
        EXABGP_SYNC_WRITTEN,   /* written; no ack yet (or acks are off) */
        EXABGP_SYNC_CONFIRMED, /* ExaBGP answered done */
        EXABGP_SYNC_REJECTED,  /* ExaBGP answered error; retrying */
};

struct exabgp_route_status {
        enum route_action desired;
        enum exabgp_route_sync sync;
        unsigned failures;              /* consecutive error acks for the desired state */
        enum reconcile_state reconcile; /* what the last pass found */
};

/* What we asked for p and how far ExaBGP confirmed it. -ENOENT when no
 * update was ever given for p. */
int backend_exabgp_route_status(struct backend *b, const struct prefix *p,
                                struct exabgp_route_status *st);
const char *exabgp_route_sync_name(enum exabgp_route_sync s);

/* Counters for metrics, since the backend started. */
struct exabgp_stats {
        uint64_t commands;   /* API commands written to ExaBGP in full */
        uint64_t acks_done;  /* "done" answers */
        uint64_t acks_error; /* "error" answers: ExaBGP refused a command */
        uint64_t neighbors;  /* peers whose state we track (bounded) */
};
const struct exabgp_stats *backend_exabgp_stats(const struct backend *b);
