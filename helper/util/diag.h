/* diag.h: a list of configuration problems, each "file:line:column: message",
 * and apart from them a list of warnings: hints about a config that is
 * valid but probably not what was meant. Warnings live in their own list so
 * that everything that counts problems (n) keeps refusing on errors only. */
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
        struct diag_msg *msgs; /* errors: the config is refused when n > 0 */
        size_t n, cap;
        struct diag_msg *warnings; /* refuse nothing */
        size_t n_warnings, cap_warnings;
};

void diag_add(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void diag_warn(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Prints each error on its own line as file:line:column: text, then each
 * warning as file:line:column: warning: text. */
void diag_print(const struct diag *d, FILE *f);
/* Finds an error containing needle (for tests); NULL if none. */
const struct diag_msg *diag_find(const struct diag *d, const char *needle);
/* Finds a warning containing needle (for tests); NULL if none. */
const struct diag_msg *diag_find_warning(const struct diag *d, const char *needle);
void diag_free(struct diag *d);
