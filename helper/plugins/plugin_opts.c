/* plugin_opts.c: the host's option getters over a check's json "options"
 * object. Type errors and the plugin's own complaints go through one report
 * function, so the same plugin code yields the same diag entries whether it
 * runs in the daemon or in a worker. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "log.h"
#include "config.h"
#include "duration.h"
#include "plugin_opts.h"

struct ahc_opts *opts_new(json_t *obj, const char *plugin, const char *label)
{
        struct ahc_opts *o = calloc(1, sizeof(*o));
        if (!o)
                return NULL;
        o->obj = obj ? json_incref(obj) : json_object();
        o->plugin = strdup(plugin);
        o->label = strdup(label);
        if (!o->obj || !o->plugin || !o->label) {
                opts_free(o);
                return NULL;
        }
        o->report = opts_report_log;
        o->report_userdata = o->label;
        return o;
}

void opts_free(struct ahc_opts *o)
{
        if (!o)
                return;
        for (size_t i = 0; i < o->n_owned; i++)
                free(o->owned[i]);
        free(o->owned);
        json_decref(o->obj);
        free(o->plugin);
        free(o->label);
        free(o);
}

void opts_set_report(struct ahc_opts *o, opts_report_fn fn, void *userdata)
{
        o->report = fn;
        o->report_userdata = userdata;
}

void opts_report_diag(void *target, const char *key, bool warning, const char *text)
{
        const struct opts_diag_target *t = target;
        int line = t->line, column = t->column;
        if (t->pos && t->options_path) {
                char *path = NULL;
                int l, c;
                if (key && asprintf(&path, "%s.%s", t->options_path, key) < 0)
                        path = NULL;
                if (jsonpos_lookup(t->pos, path ? path : t->options_path, &l, &c) == 0 ||
                    jsonpos_lookup(t->pos, t->options_path, &l, &c) == 0) {
                        line = l;
                        column = c;
                }
                free(path);
        }
        if (warning)
                diag_warn(t->d, t->file, line, column, "%s", text);
        else
                diag_add(t->d, t->file, line, column, "%s", text);
}

void opts_report_log(void *label, const char *key, bool warning, const char *text)
{
        log_warning("%s: %s", (const char *)label, text);
}

static void report_as(struct ahc_opts *o, const char *key, bool warning, const char *what)
{
        char *text = NULL;
        int r = key ? asprintf(&text, "plugin \"%s\": option \"%s\": %s", o->plugin, key, what)
                    : asprintf(&text, "plugin \"%s\": options: %s", o->plugin, what);
        if (!warning)
                o->n_errors++;
        o->report(o->report_userdata, key, warning, r < 0 ? what : text);
        if (r >= 0)
                free(text);
}

static void report(struct ahc_opts *o, const char *key, const char *what)
{
        report_as(o, key, false, what);
}

static int type_error(struct ahc_opts *o, const char *key, const char *expected)
{
        char what[96];
        snprintf(what, sizeof(what), "expected %s", expected);
        report(o, key, what);
        return -EINVAL;
}

static json_t *lookup(struct ahc_opts *o, const char *key)
{
        return json_is_object(o->obj) ? json_object_get(o->obj, key) : NULL;
}

int opts_string(struct ahc_opts *o, const char *key, const char **out)
{
        json_t *v = lookup(o, key);
        if (!v)
                return -ENOENT;
        if (!json_is_string(v))
                return type_error(o, key, "a string");
        *out = json_string_value(v);
        return 0;
}

int opts_int(struct ahc_opts *o, const char *key, long long *out)
{
        json_t *v = lookup(o, key);
        if (!v)
                return -ENOENT;
        if (!json_is_integer(v))
                return type_error(o, key, "an integer");
        *out = json_integer_value(v);
        return 0;
}

int opts_bool(struct ahc_opts *o, const char *key, bool *out)
{
        json_t *v = lookup(o, key);
        if (!v)
                return -ENOENT;
        if (!json_is_boolean(v))
                return type_error(o, key, "true or false");
        *out = json_is_true(v);
        return 0;
}

static int own(struct ahc_opts *o, void *p)
{
        void **n = realloc(o->owned, (o->n_owned + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        o->owned = n;
        o->owned[o->n_owned++] = p;
        return 0;
}

int opts_strv(struct ahc_opts *o, const char *key, const char *const **out, size_t *n)
{
        json_t *v = lookup(o, key);
        if (!v)
                return -ENOENT;
        if (!json_is_array(v))
                return type_error(o, key, "an array of strings");
        size_t len = json_array_size(v);
        for (size_t i = 0; i < len; i++)
                if (!json_is_string(json_array_get(v, i)))
                        return type_error(o, key, "an array of strings");
        const char **strv = calloc(len + 1, sizeof(*strv));
        if (!strv || own(o, strv) < 0) {
                free(strv);
                return -ENOMEM;
        }
        for (size_t i = 0; i < len; i++)
                strv[i] = json_string_value(json_array_get(v, i));
        *out = strv;
        if (n)
                *n = len;
        return 0;
}

int opts_intv(struct ahc_opts *o, const char *key, const long long **out, size_t *n)
{
        json_t *v = lookup(o, key);
        if (!v)
                return -ENOENT;
        if (!json_is_array(v))
                return type_error(o, key, "an array of integers");
        size_t len = json_array_size(v);
        for (size_t i = 0; i < len; i++)
                if (!json_is_integer(json_array_get(v, i)))
                        return type_error(o, key, "an array of integers");
        long long *iv = calloc(len + 1, sizeof(*iv));
        if (!iv || own(o, iv) < 0) {
                free(iv);
                return -ENOMEM;
        }
        for (size_t i = 0; i < len; i++)
                iv[i] = json_integer_value(json_array_get(v, i));
        *out = iv;
        if (n)
                *n = len;
        return 0;
}

int opts_strmap(struct ahc_opts *o, const char *key, const char *const **out, size_t *n)
{
        json_t *v = lookup(o, key);
        if (!v)
                return -ENOENT;
        if (!json_is_object(v))
                return type_error(o, key, "an object of strings");
        const char *k;
        json_t *val;
        json_object_foreach(v, k, val)
        {
                if (!json_is_string(val))
                        return type_error(o, key, "an object of strings");
        }
        size_t len = json_object_size(v), i = 0;
        const char **kv = calloc(2 * len + 1, sizeof(*kv));
        if (!kv || own(o, kv) < 0) {
                free(kv);
                return -ENOMEM;
        }
        /* jansson keeps insertion order, which is the file's order */
        json_object_foreach(v, k, val)
        {
                kv[i++] = k;
                kv[i++] = json_string_value(val);
        }
        *out = kv;
        if (n)
                *n = len;
        return 0;
}

int opts_duration(struct ahc_opts *o, const char *key, uint64_t *out_usec)
{
        json_t *v = lookup(o, key);
        if (!v)
                return -ENOENT;
        if (!json_is_string(v) || parse_duration(json_string_value(v), out_usec) < 0)
                return type_error(o, key, "a duration such as \"500ms\" or \"2s\"");
        return 0;
}

int opts_error(struct ahc_opts *o, const char *key, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *what = NULL;
        int r = vasprintf(&what, fmt, ap);
        va_end(ap);
        report(o, key, r < 0 ? fmt : what);
        if (r >= 0)
                free(what);
        return -EINVAL;
}

int opts_only(struct ahc_opts *o, const char *const *known)
{
        if (!json_is_object(o->obj)) {
                report(o, NULL, "expected an object");
                return -EINVAL;
        }
        int r = 0;
        const char *key;
        json_t *v;
        json_object_foreach(o->obj, key, v)
        {
                bool ok = false;
                for (size_t i = 0; known && known[i]; i++)
                        if (strcmp(key, known[i]) == 0)
                                ok = true;
                if (!ok) {
                        report(o, key, "unknown option");
                        r = -EINVAL;
                }
        }
        return r;
}

int opts_warning(struct ahc_opts *o, const char *key, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *what = NULL;
        int r = vasprintf(&what, fmt, ap);
        va_end(ap);
        report_as(o, key, true, r < 0 ? fmt : what);
        if (r >= 0)
                free(what);
        return 0;
}
