/* prom_text.c: see prom_text.h. */
#include "prom_text.h"

void prom_label(FILE *f, const char *name, const char *value, bool first)
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

void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP " PROM_PREFIX "%s %s\n# TYPE " PROM_PREFIX "%s %s\n", name, help, name,
                type);
}

void prom_open_series(FILE *f, const char *name, const char *pop, const char *service)
{
        fprintf(f, PROM_PREFIX "%s{", name);
        prom_label(f, "pop", pop, true);
        if (service)
                prom_label(f, "service", service, false);
}

void prom_seconds(FILE *f, uint64_t usec)
{
        fprintf(f, "%llu.%06llu", (unsigned long long)(usec / 1000000),
                (unsigned long long)(usec % 1000000));
}

void prom_counter(FILE *f, const char *name, const char *help, const char *pop, const char *backend,
                  uint64_t v)
{
        prom_head(f, name, "counter", help);
        prom_open_series(f, name, pop, NULL);
        if (backend)
                prom_label(f, "backend", backend, false);
        fprintf(f, "} %llu\n", (unsigned long long)v);
}

void prom_gauge(FILE *f, const char *name, const char *help, const char *pop, int64_t v)
{
        prom_head(f, name, "gauge", help);
        prom_open_series(f, name, pop, NULL);
        fprintf(f, "} %lld\n", (long long)v);
}

void prom_histogram(FILE *f, const char *name, const char *pop, const char *service,
                    void (*labels)(FILE *f, const void *arg), const void *arg,
                    const struct duration_hist *h)
{
        char bucket[128];
        snprintf(bucket, sizeof(bucket), "%s_bucket", name);
        for (size_t b = 0; b <= DURATION_HIST_BUCKETS; b++) {
                prom_open_series(f, bucket, pop, service);
                if (labels)
                        labels(f, arg);
                if (b < DURATION_HIST_BUCKETS) {
                        char le[32];
                        snprintf(le, sizeof(le), "%g", duration_hist_bounds_usec[b] / 1e6);
                        prom_label(f, "le", le, false);
                        fprintf(f, "} %llu\n", (unsigned long long)h->le[b]);
                } else {
                        prom_label(f, "le", "+Inf", false);
                        fprintf(f, "} %llu\n", (unsigned long long)h->count);
                }
        }
        char part[128];
        snprintf(part, sizeof(part), "%s_sum", name);
        prom_open_series(f, part, pop, service);
        if (labels)
                labels(f, arg);
        fputs("} ", f);
        prom_seconds(f, h->sum_usec);
        fputc('\n', f);
        snprintf(part, sizeof(part), "%s_count", name);
        prom_open_series(f, part, pop, service);
        if (labels)
                labels(f, arg);
        fprintf(f, "} %llu\n", (unsigned long long)h->count);
}
