/* backend.h: the one small interface between the engine and a BGP speaker.
 * The engine says what each prefix should be, the backend makes the speaker
 * do it and reports what the speaker confirmed. A new speaker is one folder
 * under helper/speakers/ defining a backend_ops, plus its row in
 * speakers.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "canary.h"
#include "clock.h"
#include "config.h"
#include "health.h"

struct backend;

/* Where a prefix stands with the speaker. */
enum route_confirm {
        CONFIRM_NONE = 0,  /* nothing asked of the speaker yet */
        CONFIRM_PENDING,   /* asked, not yet confirmed */
        CONFIRM_CONFIRMED, /* the speaker confirmed (ExaBGP "done", BIRD "Reconfigured") */
        CONFIRM_FAILED,    /* the speaker refused; being retried */
        CONFIRM_DRIFT,     /* reconciliation found the speaker holding something else; repaired */
        CONFIRM_STUCK,     /* still wrong reconcile.stuck_after after it was first found so */
};

/* One prefix's desired state; pointers are valid for the call only. */
struct route_update {
        const struct prefix *prefix;
        enum route_action action;  /* ROUTE_ANNOUNCE or ROUTE_WITHDRAW */
        const struct attrs *attrs; /* for ROUTE_ANNOUNCE */
        const char *service;
        const char *reason;
        uint64_t decided_usec; /* the engine's clock when it decided; 0 unknown */
        /* ROUTE_ANNOUNCE: AUDIENCE_EVERYONE, or AUDIENCE_CANARIES: only the
         * service's canary->neighbors hear it (a speaker without .canary
         * never gets this). The engine sends an update when only the
         * audience changed; it never narrows everyone to the canaries, and
         * a withdraw is from whoever heard it. */
        enum audience audience;
        const struct canary_cfg *canary; /* the service's; n_neighbors 0: none */
};

struct backend_hooks {
        /* The speaker went away for good (ExaBGP closed our stdin, sent
         * shutdown): the daemon should exit. */
        void (*speaker_gone)(void *userdata, const char *why);
        /* A decided change left for the speaker, delay_usec after the
         * decision (ExaBGP: its line is in the pipe; BIRD: the configure
         * carrying it is written). May be NULL. */
        void (*route_sent)(void *userdata, uint64_t delay_usec);
        /* Reconciliation: p has been wrong at the speaker for
         * reconcile.stuck_after (stuck true, why says what differs), or is
         * right again (stuck false). May be NULL. */
        void (*stuck)(void *userdata, const struct prefix *p, bool stuck, const char *why);
        void *userdata;
};

/* What every speaker counts, for the speaker-neutral metrics. */
struct speaker_counters {
        uint64_t commands; /* commands sent (ExaBGP: API lines; BIRD: configure) */
        uint64_t acks;     /* answers to them */
        uint64_t errors;   /* refused or never answered */
        /* Reconciliation (0 where the speaker has none): passes made (one
         * query of its table each), prefixes found wrong and repaired,
         * prefixes stuck now. */
        uint64_t reconcile_passes;
        uint64_t drift;
        uint64_t stuck;
};

/* One speaker: how the daemon drives it. Each speaker's folder defines one
 * of these, and speakers.c lists them; the daemon uses nothing else. */
struct backend_ops {
        /* Its "backend" value and --NAME option. */
        const char *name;
        /* It can announce to the canary neighbours only (route_update's
         * audience): services with a "canary" block are refused otherwise. */
        bool canary;
        /* For --help: what --NAME does, one line. */
        const char *usage;
        /* Runs first, before plugins are loaded or anything is forked (ExaBGP:
         * take the API pipes from fds 0 and 1). NULL: nothing. Negative
         * errno, logged. */
        int (*prepare)(void);
        /* What a clean stop does with the routes (the speaker's on_exit). */
        enum on_action (*on_exit)(const struct config *cfg);
        /* `--withdraw-all` for a daemon that did not stop cleanly: the exit
         * status (EXIT_SUCCESS or EXIT_FAILURE), the outcome logged. */
        int (*withdraw_all)(const struct config *cfg);
        /* Whether its own block differs in a setting read only at start,
         * so that a reload from a to b leaves it unapplied. NULL: never. */
        bool (*needs_restart)(const struct config *a, const struct config *b);
        /* Allocates; attaches its I/O to the loop. Its timers run on clk
         * (clock.h: clock_system() in the daemon, a fake in tests). */
        int (*create)(sd_event *e, struct clock *clk, const struct config *cfg,
                      const struct backend_hooks *hooks, struct backend **out);
        /* One prefix changed. Sent (or written) at the latest on commit. */
        void (*update)(struct backend *b, const struct route_update *u);
        /* Ends a batch of updates. */
        void (*commit)(struct backend *b);
        /* Clean stop: withdraw everything announced when withdraw is true,
         * flush, and call done(userdata) once nothing more is pending (may be
         * called before stop returns). */
        void (*stop)(struct backend *b, bool withdraw, void (*done)(void *), void *userdata);
        void (*free)(struct backend *b);
        /* How far the speaker confirmed what was last asked for p (may be
         * NULL: unknown, reported as CONFIRM_NONE). */
        enum route_confirm (*confirmed)(struct backend *b, const struct prefix *p);
        /* Its counters (NULL: all zero). */
        void (*counters)(const struct backend *b, struct speaker_counters *out);
        /* Its own metric families, in the Prometheus text format
         * (prom_text.h; names start with the speaker's name, every series
         * carries pop). NULL: none. */
        void (*metrics)(const struct backend *b, FILE *f, const char *pop);
};

extern const struct backend_ops backend_exabgp_ops;
extern const struct backend_ops backend_bird_ops;
extern const struct backend_ops backend_frr_ops;
