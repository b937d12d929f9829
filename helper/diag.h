/* diag.h: a list of configuration problems, each "file:line:column: message". */
#pragma once
#include <stdio.h>
#include <stddef.h>

struct diag_msg {
        char *file;
        int line;   /* 1-based; 0 when unknown */
        int column; /* 1-based; 0 when unknown */
        char *text;
};

struct diag {
        struct diag_msg *msgs;
        size_t n, cap;
};

void diag_add(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Prints each message on its own line as file:line:column: text. */
void diag_print(const struct diag *d, FILE *f);
/* Finds a message containing needle (for tests); NULL if none. */
const struct diag_msg *diag_find(const struct diag *d, const char *needle);
void diag_free(struct diag *d);
