/* plugin_opts.h: a check's "options" object as plugins see it (struct
 * ahc_opts) and where the problems they report end up. In the daemon a
 * problem becomes a diag entry at the option key's file:line:column; in a
 * worker process it travels to the daemon as a "key\tmessage" record and
 * becomes the same diag entry there. */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#include "anycast-healthd-check.h"
#include "diag.h"

struct jsonpos;

/* Receives one problem (warning false) or hint (warning true): key NULL
 * means the options object itself. */
typedef void (*opts_report_fn)(void *userdata, const char *key, bool warning, const char *text);

struct ahc_opts {
        json_t *obj;  /* owned reference */
        char *label;  /* "service dns, check 1 (tcp)", prefixes plugin log lines */
        char *plugin; /* plugin name, prefixes problems */
        opts_report_fn report;
        void *report_userdata;
        unsigned n_errors;
        void **owned; /* arrays handed out by opt_strv etc., freed with the opts */
        size_t n_owned;
        struct ahc_check *check; /* what host->check() returns; set by the host */
};

/* Where the daemon puts a problem: the service file, the options' jsonpos
 * path, and the check's own position as the fallback. */
struct opts_diag_target {
        struct diag *d;
        const char *file;
        const struct jsonpos *pos; /* may be NULL */
        const char *options_path;  /* "checks[1].options" */
        int line, column;          /* the check object */
};

/* obj gets a new reference; label and plugin are copied. NULL on ENOMEM. */
struct ahc_opts *opts_new(json_t *obj, const char *plugin, const char *label);
void opts_free(struct ahc_opts *o);
void opts_set_report(struct ahc_opts *o, opts_report_fn fn, void *userdata);

/* An opts_report_fn for struct opts_diag_target. */
void opts_report_diag(void *target, const char *key, bool warning, const char *text);
/* Logs the problem instead (a worker restarted after validation). */
void opts_report_log(void *label, const char *key, bool warning, const char *text);

/* The option services of struct ahc_host. */
int opts_string(struct ahc_opts *o, const char *key, const char **out);
int opts_int(struct ahc_opts *o, const char *key, long long *out);
int opts_bool(struct ahc_opts *o, const char *key, bool *out);
int opts_strv(struct ahc_opts *o, const char *key, const char *const **out, size_t *n);
int opts_intv(struct ahc_opts *o, const char *key, const long long **out, size_t *n);
int opts_strmap(struct ahc_opts *o, const char *key, const char *const **out, size_t *n);
int opts_duration(struct ahc_opts *o, const char *key, uint64_t *out_usec);
int opts_error(struct ahc_opts *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int opts_only(struct ahc_opts *o, const char *const *known);
/* Reports a hint; counts nothing in n_errors. Returns 0. */
int opts_warning(struct ahc_opts *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
