/* metrics_render.c: see metrics_render.h. Series are grouped by metric
 * name (one HELP/TYPE each), as the exposition format requires, so the text
 * walks the services once per family; the cursor remembers where it is so
 * a scrape is produced a chunk at a time between turns of the loop. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycast-healthd-check.h"
#include "control_proto.h"
#include "metrics_render.h"
#include "prom_text.h"

static const enum svc_state all_states[] = {SVC_UNKNOWN,  SVC_UP,       SVC_DEGRADED, SVC_DOWN,
                                            SVC_DISABLED, SVC_DRAINING, SVC_HELD};

struct check_ref {
        size_t idx;
        const struct check_status *c;
};

static void check_labels(FILE *f, size_t idx, const struct check_status *c)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%zu", idx);
        prom_label(f, "check", buf, false);
        prom_label(f, "plugin", c->plugin, false);
}

static void check_ref_labels(FILE *f, const void *arg)
{
        const struct check_ref *r = arg;
        check_labels(f, r->idx, r->c);
}

/* One service's series of each family, in the order the families appear. */
static void state_unit(FILE *f, const char *pop, const struct service_status *s)
{
        for (size_t k = 0; k < sizeof(all_states) / sizeof(all_states[0]); k++) {
                prom_open_series(f, "service_state", pop, s->name);
                prom_label(f, "state", svc_state_name(all_states[k]), false);
                fprintf(f, "} %d\n", s->state == all_states[k]);
        }
}

static void transitions_unit(FILE *f, const char *pop, const struct service_status *s)
{
        prom_open_series(f, "service_transitions_total", pop, s->name);
        fprintf(f, "} %llu\n", (unsigned long long)s->transitions);
}

static void last_change_unit(FILE *f, const char *pop, const struct service_status *s)
{
        prom_open_series(f, "service_last_change_timestamp_seconds", pop, s->name);
        fprintf(f, "} %llu\n", (unsigned long long)(s->since_usec / 1000000));
}

static void disabled_unit(FILE *f, const char *pop, const struct service_status *s)
{
        prom_open_series(f, "service_disabled", pop, s->name);
        fprintf(f, "} %d\n", s->disabled);
}

static void penalty_unit(FILE *f, const char *pop, const struct service_status *s)
{
        prom_open_series(f, "service_dampening_penalty", pop, s->name);
        fprintf(f, "} %g\n", s->dampening_penalty);
}

static void suppressed_unit(FILE *f, const char *pop, const struct service_status *s)
{
        prom_open_series(f, "service_dampening_suppressed", pop, s->name);
        fprintf(f, "} %d\n", s->dampening_suppressed);
}

static void held_unit(FILE *f, const char *pop, const struct service_status *s)
{
        prom_open_series(f, "service_held", pop, s->name);
        fprintf(f, "} %d\n", s->state == SVC_HELD);
}

/* Only while the view is ready: a cleared view's 0 would read as "no PoP
 * announces", which is exactly what nobody knows then. */
static void fleet_announcing_unit(FILE *f, const char *pop, const struct service_status *s)
{
        if (s->fleet_announcing < 0)
                return;
        prom_open_series(f, "fleet_pops_announcing", pop, s->name);
        fprintf(f, "} %d\n", s->fleet_announcing);
}

static void announced_unit(FILE *f, const char *pop, const struct service_status *s)
{
        for (size_t p = 0; p < s->n_prefixes; p++) {
                prom_open_series(f, "prefix_announced", pop, s->name);
                prom_label(f, "prefix", s->prefixes[p].prefix, false);
                fprintf(f, "} %d\n", s->prefixes[p].action == ROUTE_ANNOUNCE);
        }
}

static void confirmed_unit(FILE *f, const char *pop, const struct service_status *s)
{
        for (size_t p = 0; p < s->n_prefixes; p++) {
                prom_open_series(f, "prefix_confirmed", pop, s->name);
                prom_label(f, "prefix", s->prefixes[p].prefix, false);
                fprintf(f, "} %d\n", s->prefixes[p].confirm == CONFIRM_CONFIRMED);
        }
}

static void results_unit(FILE *f, const char *pop, const struct service_status *s)
{
        for (size_t c = 0; c < s->n_checks; c++)
                for (int code = AHC_OK; code <= AHC_UNKNOWN; code++) {
                        prom_open_series(f, "check_results_total", pop, s->name);
                        check_labels(f, c, &s->checks[c]);
                        prom_label(f, "code", check_result_name(code), false);
                        fprintf(f, "} %llu\n",
                                (unsigned long long)s->checks[c].results_by_code[code]);
                }
}

static void timeouts_unit(FILE *f, const char *pop, const struct service_status *s)
{
        for (size_t c = 0; c < s->n_checks; c++) {
                prom_open_series(f, "check_timeouts_total", pop, s->name);
                check_labels(f, c, &s->checks[c]);
                fprintf(f, "} %llu\n", (unsigned long long)s->checks[c].timeouts);
        }
}

static void durations_unit(FILE *f, const char *pop, const struct service_status *s)
{
        for (size_t c = 0; c < s->n_checks; c++) {
                struct check_ref r = {c, &s->checks[c]};
                prom_histogram(f, "check_duration_seconds", pop, s->name, check_ref_labels, &r,
                               &s->checks[c].durations);
        }
}

/* The per-service families: a HELP/TYPE head, then one unit per service. */
static const struct family {
        const char *name, *type, *help;
        void (*unit)(FILE *f, const char *pop, const struct service_status *s);
} families[] = {
    {"service_state", "gauge", "1 for the state the service is in, 0 for the others.", state_unit},
    {"service_transitions_total", "counter",
     "State changes of the service since the daemon started or reloaded it.", transitions_unit},
    {"service_last_change_timestamp_seconds", "gauge",
     "Unix time of the service's last state change (0: none yet).", last_change_unit},
    {"service_disabled", "gauge", "1 while the service is disabled by the operator.",
     disabled_unit},
    {"service_dampening_penalty", "gauge",
     "Flap dampening penalty of the service (0 when dampening is off).", penalty_unit},
    {"service_dampening_suppressed", "gauge", "1 while dampening keeps the service withdrawn.",
     suppressed_unit},
    {"service_held", "gauge",
     "1 while the fleet's floor keeps the service announced although its checks failed.",
     held_unit},
    {"fleet_pops_announcing", "gauge",
     "PoPs announcing the service in the fleet's view, this one included (absent while the "
     "view is not ready).",
     fleet_announcing_unit},
    {"prefix_announced", "gauge", "1 while the prefix is announced (as asked of the speaker).",
     announced_unit},
    {"prefix_confirmed", "gauge",
     "1 when the speaker confirmed what was last asked for the prefix.", confirmed_unit},
    {"check_results_total", "counter", "Check results by code (ok, warning, critical, unknown).",
     results_unit},
    {"check_timeouts_total", "counter", "Checks that did not finish in their timeout.",
     timeouts_unit},
    {"check_duration_seconds", "histogram", "How long checks took.", durations_unit},
};

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* The speaker's part: the counters every speaker has, the route change
 * delay, then the speaker's own families (backend_ops.metrics). */
static void backend(FILE *f, const char *pop, const struct metrics_backend *be)
{
        struct speaker_counters n = {0};
        if (be->ops->counters)
                be->ops->counters(be->be, &n);
        prom_counter(f, "backend_commands_total",
                     "Commands sent to the speaker (what one is: see the speaker's section).", pop,
                     be->ops->name, n.commands);
        prom_counter(f, "backend_acks_total", "Answers from the speaker to commands.", pop,
                     be->ops->name, n.acks);
        prom_counter(f, "backend_errors_total", "Commands the speaker refused or never answered.",
                     pop, be->ops->name, n.errors);
        prom_counter(f, "reconcile_passes_total",
                     "Times the speaker's table was read back and compared with what was asked.",
                     pop, be->ops->name, n.reconcile_passes);
        prom_counter(f, "reconcile_drift_total",
                     "Prefixes the speaker held otherwise than asked, found by reconciliation and "
                     "repaired.",
                     pop, be->ops->name, n.drift);
        prom_gauge(f, "reconcile_stuck",
                   "Prefixes still wrong at the speaker reconcile.stuck_after after they were "
                   "found so.",
                   pop, (int64_t)n.stuck);
        if (be->route_delay) {
                prom_head(
                    f, "route_change_delay_seconds", "histogram",
                    "Time from a decided route change to its command leaving for the speaker.");
                prom_histogram(f, "route_change_delay_seconds", pop, NULL, NULL, NULL,
                               be->route_delay);
        }
        if (be->ops->metrics)
                be->ops->metrics(be->be, f, pop);
}

static void fleet(FILE *f, const char *pop, const struct engine_fleet_status *fl)
{
        prom_gauge(f, "fleet_ready",
                   "1 while the fleet's view is complete and current (etcd reachable, lease "
                   "alive, watch running).",
                   pop, fl->ready);
        prom_counter(f, "fleet_unreachable_total",
                     "Times the fleet's view became not ready (etcd unreachable, lease or watch "
                     "lost).",
                     pop, NULL, fl->unreachable_total);
        prom_head(f, "fleet_floor_answers_total", "counter",
                  "Floor questions (may this PoP withdraw?) etcd answered, by answer.");
        prom_open_series(f, "fleet_floor_answers_total", pop, NULL);
        prom_label(f, "answer", "granted", false);
        fprintf(f, "} %llu\n", (unsigned long long)fl->granted);
        prom_open_series(f, "fleet_floor_answers_total", pop, NULL);
        prom_label(f, "answer", "refused", false);
        fprintf(f, "} %llu\n", (unsigned long long)fl->refused);
        prom_head(f, "fleet_floor_last_answer_seconds", "gauge",
                  "How long etcd took to answer the last floor question.");
        prom_open_series(f, "fleet_floor_last_answer_seconds", pop, NULL);
        fputs("} ", f);
        prom_seconds(f, fl->last_ask_usec);
        fputc('\n', f);
}

/* Writes the next unit (a head, one service of a family, or the backend's
 * counters) or only moves on; sets done after the last. */
static void step(struct metrics_cursor *c, const struct metrics_source *src, FILE *f)
{
        if (c->family < N_FAMILIES) {
                const struct family *fam = &families[c->family];
                struct service_status st;
                if (!c->headed) {
                        prom_head(f, fam->name, fam->type, fam->help);
                        c->headed = true;
                } else if (c->service < src->n) {
                        /* a reload between chunks may have removed it: skip */
                        if (src->get(src->userdata, c->service, &st) >= 0)
                                fam->unit(f, src->pop, &st);
                        c->service++;
                } else {
                        c->family++;
                        c->service = 0;
                        c->headed = false;
                }
                return;
        }
        if (src->state_file_error)
                prom_gauge(f, "state_file_unsaved",
                           "1 while a manual change is applied but the state file could not be "
                           "written (retried until it is).",
                           src->pop, *src->state_file_error != 0);
        if (src->fleet)
                fleet(f, src->pop, src->fleet);
        if (src->be)
                backend(f, src->pop, src->be);
        c->done = true;
}

void metrics_cursor_init(struct metrics_cursor *c, size_t chunk)
{
        *c = (struct metrics_cursor){.chunk = chunk ? chunk : 1};
}

void metrics_cursor_clear(struct metrics_cursor *c)
{
        free(c->buf);
        c->buf = NULL;
        c->len = c->off = 0;
}

/* Renders units into a fresh buffer until it holds c->chunk bytes or the
 * text ends: memory stays one chunk plus one unit, whatever n is. */
static int refill(struct metrics_cursor *c, const struct metrics_source *src)
{
        size_t size = 0;
        metrics_cursor_clear(c);
        FILE *f = open_memstream(&c->buf, &size);
        if (!f)
                return -ENOMEM;
        while (!c->done && (size_t)ftell(f) < c->chunk)
                step(c, src, f);
        if (fclose(f) != 0) {
                metrics_cursor_clear(c);
                return -ENOMEM;
        }
        c->len = size;
        return 0;
}

ssize_t metrics_cursor_read(struct metrics_cursor *c, const struct metrics_source *src, char *out,
                            size_t max)
{
        while (c->off == c->len) {
                if (c->done) {
                        metrics_cursor_clear(c);
                        return 0;
                }
                int r = refill(c, src);
                if (r < 0)
                        return r;
        }
        size_t n = c->len - c->off < max ? c->len - c->off : max;
        memcpy(out, c->buf + c->off, n);
        c->off += n;
        return (ssize_t)n;
}

static int array_get(void *userdata, size_t i, struct service_status *out)
{
        *out = ((const struct service_status *)userdata)[i];
        return 0;
}

char *metrics_render(const char *pop, const struct service_status *svcs, size_t n,
                     const struct metrics_backend *be, size_t *len)
{
        struct metrics_source src = {
            .pop = pop, .n = n, .get = array_get, .userdata = (void *)svcs, .be = be};
        struct metrics_cursor c;
        metrics_cursor_init(&c, SIZE_MAX);
        if (refill(&c, &src) < 0)
                return NULL;
        *len = c.len;
        return c.buf;
}
