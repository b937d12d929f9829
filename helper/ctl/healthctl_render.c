/* healthctl_render.c: see healthctl_render.h. Tables are columns padded to
 * their widest cell, two spaces apart, the last column unpadded. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "healthctl_render.h"
#include "log.h"

#define MAX_COLS 8

struct table {
        size_t ncols, nrows;
        char *(*rows)[MAX_COLS];
};

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
        char *s;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                abort();
        return s;
}

/* A copy of text from the daemon safe for a terminal: names, reasons and
 * plugin messages come from outside and may hold escape sequences. */
static char *clean(const char *s)
{
        size_t size = strlen(s) * 4 + 1;
        char *r = malloc(size);
        if (!r)
                abort();
        return log_sanitise(r, size, s);
}

/* Adds a row of ncols cells (NULL cells print as "-"). */
static void table_row(struct table *t, ...)
{
        va_list ap;
        t->rows = reallocarray(t->rows, t->nrows + 1, sizeof(*t->rows));
        if (!t->rows)
                abort();
        va_start(ap, t);
        for (size_t c = 0; c < t->ncols; c++) {
                const char *s = va_arg(ap, const char *);
                t->rows[t->nrows][c] = clean(s && s[0] ? s : "-");
        }
        va_end(ap);
        t->nrows++;
}

static void table_print(FILE *f, struct table *t, const char *indent)
{
        size_t w[MAX_COLS] = {0};
        for (size_t r = 0; r < t->nrows; r++)
                for (size_t c = 0; c < t->ncols; c++)
                        if (strlen(t->rows[r][c]) > w[c])
                                w[c] = strlen(t->rows[r][c]);
        for (size_t r = 0; r < t->nrows; r++) {
                fputs(indent, f);
                for (size_t c = 0; c < t->ncols; c++) {
                        if (c + 1 < t->ncols)
                                fprintf(f, "%-*s  ", (int)w[c], t->rows[r][c]);
                        else
                                fprintf(f, "%s\n", t->rows[r][c]);
                }
        }
        for (size_t r = 0; r < t->nrows; r++)
                for (size_t c = 0; c < t->ncols; c++)
                        free(t->rows[r][c]);
        free(t->rows);
        *t = (struct table){0};
}

void format_ago(char *buf, size_t size, int64_t now, int64_t since)
{
        if (since <= 0) {
                snprintf(buf, size, "-");
                return;
        }
        int64_t d = now > since ? now - since : 0;
        if (d < 60)
                snprintf(buf, size, "%" PRId64 "s ago", d);
        else if (d < 3600)
                snprintf(buf, size, "%" PRId64 "m%" PRId64 "s ago", d / 60, d % 60);
        else if (d < 86400)
                snprintf(buf, size, "%" PRId64 "h%" PRId64 "m ago", d / 3600, d % 3600 / 60);
        else
                snprintf(buf, size, "%" PRId64 "d%" PRId64 "h ago", d / 86400, d % 86400 / 3600);
}

void format_duration_usec(char *buf, size_t size, uint64_t usec)
{
        if (usec < 1000)
                snprintf(buf, size, "%" PRIu64 "us", usec);
        else if (usec < 1000000)
                snprintf(buf, size, "%.1fms", usec / 1000.0);
        else
                snprintf(buf, size, "%.2fs", usec / 1e6);
}

static const char *str(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static int64_t num(const json_t *o, const char *key)
{
        return json_integer_value(json_object_get(o, key));
}

static char *state_text(const json_t *s)
{
        const char *state = str(s, "state");
        if (state && strcmp(state, "draining") == 0) {
                char d[32];
                format_duration_usec(d, sizeof(d), (uint64_t)num(s, "drain_remaining_usec"));
                return xasprintf("draining (withdraw in %s)", d);
        }
        return xasprintf("%s", state ? state : "?");
}

static char *reason_text(const json_t *s)
{
        const char *reason = str(s, "reason");
        const json_t *damp = json_object_get(s, "dampening");
        double penalty = json_number_value(json_object_get(damp, "penalty"));
        bool suppressed = json_is_true(json_object_get(damp, "suppressed"));
        char *base;

        if (json_is_true(json_object_get(s, "disabled")) && str(s, "disabled_reason") &&
            (!reason || !strstr(reason, str(s, "disabled_reason"))))
                base = xasprintf("%s%sdisabled: %s", reason ? reason : "", reason ? "; " : "",
                                 str(s, "disabled_reason"));
        else
                base = xasprintf("%s", reason ? reason : "");
        if (penalty > 0 || suppressed) {
                char *r = xasprintf("%s%sdampening penalty %.0f%s", base, base[0] ? "; " : "",
                                    penalty, suppressed ? " (suppressed)" : "");
                free(base);
                return r;
        }
        return base;
}

static void service_detail(FILE *f, const json_t *s)
{
        struct table t = {.ncols = 6};
        const json_t *a = json_object_get(s, "checks"), *v;
        size_t i;

        char *name = clean(str(s, "name") ? str(s, "name") : "?");
        fprintf(f, "\n%s\n", name);
        free(name);
        table_row(&t, "CHECK", "PLUGIN", "STATE", "LAST", "DURATION", "MESSAGE");
        json_array_foreach(a, i, v)
        {
                char idx[24], dur[32];
                snprintf(idx, sizeof(idx), "%zu", i);
                if (strcmp(str(v, "last_result") ? str(v, "last_result") : "none", "none") == 0)
                        snprintf(dur, sizeof(dur), "-");
                else
                        format_duration_usec(dur, sizeof(dur), (uint64_t)num(v, "duration_usec"));
                table_row(&t, idx, str(v, "plugin"), str(v, "state"), str(v, "last_result"), dur,
                          str(v, "message"));
        }
        table_print(f, &t, "  ");

        t = (struct table){.ncols = 4};
        table_row(&t, "PREFIX", "ROUTE", "AS", "SPEAKER");
        a = json_object_get(s, "prefixes");
        json_array_foreach(a, i, v)
        {
                const char *route = str(v, "route");
                const json_t *to = json_object_get(v, "to");
                bool trial = json_is_string(to) && strcmp(json_string_value(to), "canaries") == 0;
                const char *word = !route ? "-"
                                   : strcmp(route, "announce") == 0
                                       ? (trial ? "canaries" : "announced")
                                   : strcmp(route, "withdraw") == 0 ? "withdrawn"
                                                                    : "-";
                table_row(&t, str(v, "prefix"), word, str(v, "as"), str(v, "speaker"));
        }
        table_print(f, &t, "  ");
}

char *healthctl_render_status(const json_t *reply)
{
        const json_t *svcs = json_object_get(reply, "services"), *s;
        if (!json_is_array(svcs))
                return NULL;
        char *buf = NULL;
        size_t size = 0, i;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                abort();
        int64_t now = num(reply, "now");
        struct table t = {.ncols = 4};

        char *pop = clean(str(reply, "pop") ? str(reply, "pop") : "?");
        fprintf(f, "PoP %s: %zu service%s\n\n", pop, json_array_size(svcs),
                json_array_size(svcs) == 1 ? "" : "s");
        free(pop);
        table_row(&t, "SERVICE", "STATE", "SINCE", "REASON");
        json_array_foreach(svcs, i, s)
        {
                char ago[48];
                format_ago(ago, sizeof(ago), now, num(s, "since"));
                char *state = state_text(s), *reason = reason_text(s);
                table_row(&t, str(s, "name"), state, ago, reason);
                free(state);
                free(reason);
        }
        table_print(f, &t, "");
        json_array_foreach(svcs, i, s) service_detail(f, s);
        if (fclose(f) != 0)
                abort();
        return buf;
}

static char *fleet_header(const json_t *fl)
{
        char *prefix = clean(str(fl, "prefix") ? str(fl, "prefix") : "?");
        char *endpoint = clean(str(fl, "endpoint") ? str(fl, "endpoint") : "?");
        char *unreach = clean(str(fl, "on_unreachable") ? str(fl, "on_unreachable") : "?");
        char *r;
        if (json_is_true(json_object_get(fl, "ready"))) {
                r = xasprintf("fleet %s via %s: ready, lease %" PRId64 " s, on_unreachable %s\n",
                              prefix, endpoint, num(fl, "lease_s"), unreach);
        } else {
                /* not ready: what follows is empty or stale, and on_unreachable
                 * is what decides meanwhile, so both are on the line */
                const char *problem = str(fl, "problem");
                char *p = clean(problem && problem[0] ? problem : "no reason given");
                r = xasprintf("fleet %s via %s: NOT READY: %s; on_unreachable %s\n", prefix,
                              endpoint, p, unreach);
                free(p);
        }
        free(prefix);
        free(endpoint);
        free(unreach);
        return r;
}

static void fleet_service(FILE *f, int64_t now, const json_t *s)
{
        const json_t *pops = json_object_get(s, "pops"), *p;
        size_t npops = json_array_size(pops), i;
        int64_t min = num(s, "min_pops"), announcing = num(s, "announcing");
        char *name = clean(str(s, "name") ? str(s, "name") : "?");
        char floor[48];

        if (min > 0)
                snprintf(floor, sizeof(floor), "floor %" PRId64, min);
        else
                snprintf(floor, sizeof(floor), "no floor");
        fprintf(f, "\n%s  %s  announcing %" PRId64 " of %zu PoP%s%s\n", name, floor, announcing,
                npops, npops == 1 ? "" : "s",
                min > 0 && announcing < min ? " (below the floor)" : "");
        free(name);
        if (npops == 0) {
                fprintf(f, "  no PoP in the view\n");
                return;
        }
        struct table t = {.ncols = 5};
        table_row(&t, "POP", "ANNOUNCED", "STATE", "SINCE", "REASON");
        json_array_foreach(pops, i, p)
        {
                char ago[48];
                /* held: announced still, because withdrawing would breach the floor */
                const char *ann = json_is_true(json_object_get(p, "held"))        ? "held"
                                  : json_is_true(json_object_get(p, "announced")) ? "yes"
                                                                                  : "no";
                format_ago(ago, sizeof(ago), now, num(p, "since"));
                table_row(&t, str(p, "pop"), ann, str(p, "state"), ago, str(p, "reason"));
        }
        table_print(f, &t, "  ");
}

char *healthctl_render_fleet(const json_t *reply)
{
        const json_t *fl = json_object_get(reply, "fleet"),
                     *svcs = json_object_get(reply, "services"), *s;
        if (!json_is_object(fl) || !json_is_array(svcs))
                return NULL;
        char *buf = NULL;
        size_t size = 0, i;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                abort();
        int64_t now = num(reply, "now");
        char *header = fleet_header(fl);
        fputs(header, f);
        free(header);
        json_array_foreach(svcs, i, s) fleet_service(f, now, s);
        if (fclose(f) != 0)
                abort();
        return buf;
}
