/* diag.c: collects configuration problems for one report. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void diag_add(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
{
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 8;
                struct diag_msg *m = realloc(d->msgs, cap * sizeof(*m));
                if (!m)
                        abort(); /* a report we cannot hold is not worth limping on */
                d->msgs = m;
                d->cap = cap;
        }
        va_list ap;
        va_start(ap, fmt);
        char *text = NULL;
        if (vasprintf(&text, fmt, ap) < 0)
                abort();
        va_end(ap);
        d->msgs[d->n++] = (struct diag_msg){
            .file = strdup(file ? file : "-"),
            .line = line,
            .column = column,
            .text = text,
        };
}

void diag_print(const struct diag *d, FILE *f)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct diag_msg *m = &d->msgs[i];
                fprintf(f, "%s:%d:%d: %s\n", m->file, m->line, m->column, m->text);
        }
}

const struct diag_msg *diag_find(const struct diag *d, const char *needle)
{
        for (size_t i = 0; i < d->n; i++)
                if (strstr(d->msgs[i].text, needle))
                        return &d->msgs[i];
        return NULL;
}

void diag_free(struct diag *d)
{
        for (size_t i = 0; i < d->n; i++) {
                free(d->msgs[i].file);
                free(d->msgs[i].text);
        }
        free(d->msgs);
        *d = (struct diag){0};
}
