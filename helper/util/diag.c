/* diag.c: collects configuration problems and warnings for one report. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static void push(struct diag_msg **msgs, size_t *n, size_t *cap, const char *file, int line,
                 int column, const char *fmt, va_list ap)
{
        if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 8;
                struct diag_msg *m = realloc(*msgs, c * sizeof(*m));
                if (!m)
                        abort(); /* a report we cannot hold is not worth limping on */
                *msgs = m;
                *cap = c;
        }
        char *text = NULL;
        if (vasprintf(&text, fmt, ap) < 0)
                abort();
        (*msgs)[(*n)++] = (struct diag_msg){
            .file = strdup(file ? file : "-"),
            .line = line,
            .column = column,
            .text = text,
        };
}

void diag_add(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        push(&d->msgs, &d->n, &d->cap, file, line, column, fmt, ap);
        va_end(ap);
}

void diag_warn(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        push(&d->warnings, &d->n_warnings, &d->cap_warnings, file, line, column, fmt, ap);
        va_end(ap);
}

void diag_print(const struct diag *d, FILE *f)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct diag_msg *m = &d->msgs[i];
                fprintf(f, "%s:%d:%d: %s\n", m->file, m->line, m->column, m->text);
        }
        for (size_t i = 0; i < d->n_warnings; i++) {
                const struct diag_msg *m = &d->warnings[i];
                fprintf(f, "%s:%d:%d: warning: %s\n", m->file, m->line, m->column, m->text);
        }
}

static const struct diag_msg *find(const struct diag_msg *msgs, size_t n, const char *needle)
{
        for (size_t i = 0; i < n; i++)
                if (strstr(msgs[i].text, needle))
                        return &msgs[i];
        return NULL;
}

const struct diag_msg *diag_find(const struct diag *d, const char *needle)
{
        return find(d->msgs, d->n, needle);
}

const struct diag_msg *diag_find_warning(const struct diag *d, const char *needle)
{
        return find(d->warnings, d->n_warnings, needle);
}

static void free_msgs(struct diag_msg *msgs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(msgs[i].file);
                free(msgs[i].text);
        }
        free(msgs);
}

void diag_free(struct diag *d)
{
        free_msgs(d->msgs, d->n);
        free_msgs(d->warnings, d->n_warnings);
        *d = (struct diag){0};
}
