/* metrics_render.c: see metrics_render.h. Series are grouped by metric
 * name (one HELP/TYPE each), as the exposition format requires. */
#include <stdio.h>
#include <stdlib.h>

#include "anycast-healthd-check.h"
#include "control_proto.h"
#include "metrics_render.h"

#define P "anycast_healthd_"

static const enum svc_state all_states[] = {SVC_UNKNOWN, SVC_UP,       SVC_DEGRADED,
                                            SVC_DOWN,    SVC_DISABLED, SVC_DRAINING};

/* Label values escape backslash, double quote and newline. */
static void label(FILE *f, const char *name, const char *value, bool first)
{
        fprintf(f, "%s%s=\"", first ? "" : ",", name);
        for (const char *c = value ? value : ""; *c; c++) {
                if (*c == '\\' || *c == '"')
                        fprintf(f, "\\%c", *c);
                else if (*c == '\n')
                        fputs("\\n", f);
                else
                        fputc(*c, f);
        }
        fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

/* name{pop="..",service=".." */
static void open_series(FILE *f, const char *name, const char *pop, const char *service)
{
        fprintf(f, P "%s{", name);
        label(f, "pop", pop, true);
        if (service)
                label(f, "service", service, false);
}

static void check_labels(FILE *f, size_t idx, const struct check_status *c)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%zu", idx);
        label(f, "check", buf, false);
        label(f, "plugin", c->plugin, false);
}

static void seconds(FILE *f, uint64_t usec)
{
        fprintf(f, "%llu.%06llu", (unsigned long long)(usec / 1000000),
                (unsigned long long)(usec % 1000000));
}

static void histogram(FILE *f, const char *name, const char *pop, const char *service, size_t idx,
                      const struct check_status *c, const struct duration_hist *h)
{
        char bucket[128];
        snprintf(bucket, sizeof(bucket), "%s_bucket", name);
        for (size_t b = 0; b <= DURATION_HIST_BUCKETS; b++) {
                open_series(f, bucket, pop, service);
                if (c)
                        check_labels(f, idx, c);
                if (b < DURATION_HIST_BUCKETS) {
                        char le[32];
                        snprintf(le, sizeof(le), "%g", duration_hist_bounds_usec[b] / 1e6);
                        label(f, "le", le, false);
                        fprintf(f, "} %llu\n", (unsigned long long)h->le[b]);
                } else {
                        label(f, "le", "+Inf", false);
                        fprintf(f, "} %llu\n", (unsigned long long)h->count);
                }
        }
        fprintf(f, P "%s_sum{", name);
        label(f, "pop", pop, true);
        if (service)
                label(f, "service", service, false);
        if (c)
                check_labels(f, idx, c);
        fputs("} ", f);
        seconds(f, h->sum_usec);
        fprintf(f, "\n" P "%s_count{", name);
        label(f, "pop", pop, true);
        if (service)
                label(f, "service", service, false);
        if (c)
                check_labels(f, idx, c);
        fprintf(f, "} %llu\n", (unsigned long long)h->count);
}

static void services(FILE *f, const char *pop, const struct service_status *s, size_t n)
{
        head(f, "service_state", "gauge", "1 for the state the service is in, 0 for the others.");
        for (size_t i = 0; i < n; i++) {
                for (size_t k = 0; k < sizeof(all_states) / sizeof(all_states[0]); k++) {
                        open_series(f, "service_state", pop, s[i].name);
                        label(f, "state", svc_state_name(all_states[k]), false);
                        fprintf(f, "} %d\n", s[i].state == all_states[k]);
                }
        }
        head(f, "service_transitions_total", "counter",
             "State changes of the service since the daemon started or reloaded it.");
        for (size_t i = 0; i < n; i++) {
                open_series(f, "service_transitions_total", pop, s[i].name);
                fprintf(f, "} %llu\n", (unsigned long long)s[i].transitions);
        }
        head(f, "service_last_change_timestamp_seconds", "gauge",
             "Unix time of the service's last state change (0: none yet).");
        for (size_t i = 0; i < n; i++) {
                open_series(f, "service_last_change_timestamp_seconds", pop, s[i].name);
                fprintf(f, "} %llu\n", (unsigned long long)(s[i].since_usec / 1000000));
        }
        head(f, "service_disabled", "gauge", "1 while the service is disabled by the operator.");
        for (size_t i = 0; i < n; i++) {
                open_series(f, "service_disabled", pop, s[i].name);
                fprintf(f, "} %d\n", s[i].disabled);
        }
        head(f, "service_dampening_penalty", "gauge",
             "Flap dampening penalty of the service (0 when dampening is off).");
        for (size_t i = 0; i < n; i++) {
                open_series(f, "service_dampening_penalty", pop, s[i].name);
                fprintf(f, "} %g\n", s[i].dampening_penalty);
        }
        head(f, "service_dampening_suppressed", "gauge",
             "1 while dampening keeps the service withdrawn.");
        for (size_t i = 0; i < n; i++) {
                open_series(f, "service_dampening_suppressed", pop, s[i].name);
                fprintf(f, "} %d\n", s[i].dampening_suppressed);
        }
        head(f, "prefix_announced", "gauge",
             "1 while the prefix is announced (as asked of the speaker).");
        for (size_t i = 0; i < n; i++) {
                for (size_t p = 0; p < s[i].n_prefixes; p++) {
                        open_series(f, "prefix_announced", pop, s[i].name);
                        label(f, "prefix", s[i].prefixes[p].prefix, false);
                        fprintf(f, "} %d\n", s[i].prefixes[p].action == ROUTE_ANNOUNCE);
                }
        }
        head(f, "prefix_confirmed", "gauge",
             "1 when the speaker confirmed what was last asked for the prefix.");
        for (size_t i = 0; i < n; i++) {
                for (size_t p = 0; p < s[i].n_prefixes; p++) {
                        open_series(f, "prefix_confirmed", pop, s[i].name);
                        label(f, "prefix", s[i].prefixes[p].prefix, false);
                        fprintf(f, "} %d\n", s[i].prefixes[p].confirm == CONFIRM_CONFIRMED);
                }
        }
}

static void checks(FILE *f, const char *pop, const struct service_status *s, size_t n)
{
        head(f, "check_results_total", "counter",
             "Check results by code (ok, warning, critical, unknown).");
        for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < s[i].n_checks; c++)
                        for (int code = AHC_OK; code <= AHC_UNKNOWN; code++) {
                                open_series(f, "check_results_total", pop, s[i].name);
                                check_labels(f, c, &s[i].checks[c]);
                                label(f, "code", check_result_name(code), false);
                                fprintf(f, "} %llu\n",
                                        (unsigned long long)s[i].checks[c].results_by_code[code]);
                        }
        head(f, "check_timeouts_total", "counter", "Checks that did not finish in their timeout.");
        for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < s[i].n_checks; c++) {
                        open_series(f, "check_timeouts_total", pop, s[i].name);
                        check_labels(f, c, &s[i].checks[c]);
                        fprintf(f, "} %llu\n", (unsigned long long)s[i].checks[c].timeouts);
                }
        head(f, "check_duration_seconds", "histogram", "How long checks took.");
        for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < s[i].n_checks; c++)
                        histogram(f, "check_duration_seconds", pop, s[i].name, c, &s[i].checks[c],
                                  &s[i].checks[c].durations);
}

static void counter(FILE *f, const char *name, const char *help, const char *pop,
                    const char *backend, uint64_t v)
{
        head(f, name, "counter", help);
        open_series(f, name, pop, NULL);
        if (backend)
                label(f, "backend", backend, false);
        fprintf(f, "} %llu\n", (unsigned long long)v);
}

static void backend(FILE *f, const char *pop, const struct metrics_backend *be)
{
        uint64_t cmds = 0, acks = 0, errs = 0;
        if (be->exabgp) {
                cmds = be->exabgp->commands;
                acks = be->exabgp->acks_done + be->exabgp->acks_error;
                errs = be->exabgp->acks_error;
        } else if (be->bird) {
                cmds = be->bird->configures;
                acks = be->bird->configure_ok + be->bird->configure_failed;
                errs = be->bird->configure_failed + be->bird->unreachable;
        }
        counter(f, "backend_commands_total",
                "Commands sent to the speaker (ExaBGP API lines; BIRD configure).", pop, be->name,
                cmds);
        counter(f, "backend_acks_total", "Answers from the speaker to commands.", pop, be->name,
                acks);
        counter(f, "backend_errors_total", "Commands the speaker refused or never answered.", pop,
                be->name, errs);
        if (!be->bird)
                return;
        const struct bird_stats *b = be->bird;
        counter(f, "bird_configures_total", "configure commands sent to BIRD.", pop, NULL,
                b->configures);
        counter(f, "bird_configure_failures_total", "configure commands BIRD refused.", pop, NULL,
                b->configure_failed);
        counter(f, "bird_unreachable_total", "BIRD commands without a reply.", pop, NULL,
                b->unreachable);
        head(f, "bird_in_sync", "gauge", "1 when BIRD confirmed the include files as they are.");
        open_series(f, "bird_in_sync", pop, NULL);
        fprintf(f, "} %d\n", b->in_sync);
        head(f, "bird_configure_duration_seconds", "histogram",
             "Time from a configure command to BIRD's answer.");
        histogram(f, "bird_configure_duration_seconds", pop, NULL, 0, NULL, &b->configure_duration);
}

char *metrics_render(const char *pop, const struct service_status *svcs, size_t n,
                     const struct metrics_backend *be, size_t *len)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                abort();
        services(f, pop, svcs, n);
        checks(f, pop, svcs, n);
        if (be)
                backend(f, pop, be);
        if (fclose(f) != 0)
                abort();
        *len = size;
        return buf;
}
