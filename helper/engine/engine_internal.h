/* engine_internal.h: the engine's runtime structures, shared by engine.c
 * (scheduling, results, routes, drain timers), engine_ctl.c (status and
 * manual actions), engine_notify.c (hooks, STATUS=), engine_save.c (the
 * state file) and engine_reload.c (reload without churn). Nothing else
 * includes it. The functions it declares are engine.c's; the other files
 * declare theirs in their own headers, and engine.c uses only
 * engine_notify.c, engine_save.c, engine_floor.c and engine_canary.c,
 * which use nothing of it but service_update(). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "canary.h"
#include "clock.h"
#include "dampening.h"
#include "engine.h"
#include "engine_fleet.h"
#include "timerq.h"
#include "engine_ctl.h"
#include "hooks.h"
#include "health.h"
#include "manual_state.h"
#include "svc_plan.h"

#define ENGINE_REASON_MAX 512
#define USEC_PER_SEC      1000000ULL

struct service_rt;

struct check_rt {
        struct service_rt *svc;
        size_t index;
        const struct check_cfg *cfg;
        struct check_runner *runner;
        struct timerq_item tick; /* next start, on the engine's shared scheduler */
        uint64_t due;            /* when the current/next probe is scheduled to start */
        uint64_t started;
        bool in_flight;
        uint64_t last_duration;
        uint64_t last_time_rt; /* CLOCK_REALTIME of the last result */
        uint64_t by_code[4];
        uint64_t timeouts;
        struct duration_hist durations; /* every probe's duration, for metrics */
        char last_msg[256];
};

/* What the backend was last asked for one prefix. */
struct prefix_rt {
        enum route_action action;
        enum attr_set attrs;
        enum audience audience; /* of an announce (AUDIENCE_EVERYONE without a canary) */
};

struct service_rt {
        struct engine *en;
        const struct service_cfg *cfg;
        struct check_rt *checks;
        struct check_hyst *hyst; /* per check, contiguous for service_combine() */
        struct prefix_rt *pfx;   /* per prefix */
        enum svc_state health;   /* from the checks alone */
        enum svc_state state;    /* effective (svc_plan) */
        bool file_disabled;
        bool disable_watched;         /* an inotify watch covers its disable file */
        bool shutdown_drain;          /* draining because the daemon stops (not persisted) */
        uint64_t drain_deadline;      /* en->clk end of the drain in progress, 0: none */
        struct timerq_item drain_end; /* on en->timers */
        struct dampening damp;
        struct timerq_item damp_reuse; /* on en->timers */
        struct canary canary;
        struct timerq_item canary_end; /* on en->timers: the trial in progress ends */
        uint64_t since;                /* en->clk monotonic µs of the last change */
        uint64_t since_rt;             /* the same, en->clk real time */
        uint64_t transitions;
        char *reason;          /* why it is in this state (heap: 10,000 services) */
        char *disabled_reason; /* NULL when not disabled */
        char *pending_reason;  /* a withdraw waiting for etcd's answer: why */
        /* snapshot buffers handed out by engine_service_status() */
        struct prefix_status *pst;
        struct check_status *cst;
};

struct disable_dir {
        struct engine *en;
        char *path;
        sd_event_source *src;
};

struct engine {
        sd_event *e;
        struct clock *clk;
        const struct config *cfg;
        struct config *owned_cfg; /* a configuration from a reload; freed with the engine */
        struct plugin_host *plugins;
        const struct backend_ops *ops;
        struct backend *be;
        struct service_rt **svcs;
        size_t n_svcs;
        struct disable_dir *dirs;
        size_t n_dirs;
        struct timerq *sched;  /* every check's next start, on one timer */
        struct timerq *timers; /* drains, dampening, polls, retries: inputs of decisions */
        struct timerq_item disable_poll;
        bool disable_polling;
        sd_event_source *commit;
        bool dirty;
        bool started;
        struct latency_hist stats;        /* check-start lateness */
        struct latency_hist route_stats;  /* decision -> speaker, this window */
        struct duration_hist route_delay; /* decision -> speaker, since start */
        struct manual_state manual;
        int save_error;                /* 0, or why the last write of the state file failed */
        uint64_t save_backoff;         /* delay before the next retry of that write */
        struct timerq_item save_retry; /* retries the write until it succeeds */
        struct hook_runner *hooks;
        struct timerq_item notify_due;
        uint64_t notify_last;
        struct engine_fleet fleet; /* fleet.ctx NULL: no fleet */
        void (*shutdown_done)(void *);
        void *shutdown_userdata;
        struct timerq_item shutdown_end;
};

/* Inline so that every engine file has the clock without needing engine.c. */
static inline uint64_t engine_now(const struct engine *en)
{
        return clock_now(en->clk);
}

static inline uint64_t engine_now_rt(const struct engine *en)
{
        return clock_now_rt(en->clk);
}

/* The struct an embedded timer item belongs to. */
#define ENGINE_ITEM_OWNER(it, type, member) ((type *)((char *)(it)-offsetof(type, member)))

/* Recomputes the service's effective state and routes; reason explains a change. */
void service_update(struct service_rt *s, const char *reason);
/* Builds the runtime of one configured service (runners reported to d). */
int service_rt_new(struct engine *en, const struct service_cfg *cfg, struct diag *d,
                   struct service_rt **out);
/* Schedules its checks and states it at once when disabled. */
int service_rt_start(struct service_rt *s, uint64_t now);
void service_rt_free(struct service_rt *s);
/* (Re)watches every service's disable file. */
int engine_watch_disable_files(struct engine *en);
void engine_unwatch_disable_files(struct engine *en);
/* Starts a probe now unless one is in flight. */
int engine_check_start(struct check_rt *c, uint64_t now);
/* Arms the drain timer of a service whose manual entry drains. */
void service_arm_drain(struct service_rt *s);
