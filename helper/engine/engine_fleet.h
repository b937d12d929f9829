/* engine_fleet.h: the engine's side of fleet mode (engine_fleet.c): the
 * seam a fleet member plugs into, its news, and what the operator's edges
 * ask of it (the floor against a disable or drain, counters for metrics).
 * The floor's decision itself is engine_floor.c's. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h" /* enum fleet_unreachable */

struct engine;

/* The fleet member's state, for metrics: false (and *out zeroed) without
 * a "fleet" block. */
struct engine_fleet_status {
        bool ready;
        uint64_t unreachable_total; /* times the view became not ready */
        uint64_t granted, refused;  /* floor questions etcd answered */
        uint64_t last_ask_usec;     /* etcd's time to answer the last one */
};
bool engine_fleet_status(struct engine *en, struct engine_fleet_status *out);

/* The floor against an operator's disable or drain: 1
 * when withdrawing service here would leave fewer than its floor.min_pops
 * PoPs announcing (or etcd cannot tell: unreachable), with why, a sentence
 * for the operator, in why; 0 when it may go (no fleet, no floor, not
 * announced here, enough others); -ENOENT for an unknown service. */
int engine_floor_manual(struct engine *en, const char *service, char *why, size_t size);

/* The fleet seam: fleet/fleet.h behind it in the daemon (main_fleet.c),
 * a script in tests. Without it (no "fleet" block) no floor holds. */
struct engine_fleet {
        void *ctx;
        bool (*ready)(void *ctx);
        unsigned (*others_announcing)(void *ctx, const char *service);
        /* 1: etcd agreed, withdraw; 0: asked, the answer comes as
         * engine_fleet_changed(service); negative errno */
        int (*ask_withdraw)(void *ctx, const char *service, const char *state, const char *reason);
        void (*publish)(void *ctx, const char *service, bool announced, bool held,
                        const char *state, int64_t since, const char *reason);
        /* counters for metrics and status (engine_fleet_status) */
        void (*status)(void *ctx, struct engine_fleet_status *out);
        enum fleet_unreachable on_unreachable;
};
void engine_set_fleet(struct engine *en, const struct engine_fleet *fleet);
/* The fleet's news: service's entries changed or its question was
 * answered; NULL: readiness changed, every service is looked at again. */
void engine_fleet_changed(struct engine *en, const char *service);
