/* config_util.c: reading a JSON config file and typed access to its keys,
 * each problem reported at the key's position. */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_internal.h"
#include "duration.h"
#include "file_read.h"
#include "jsonpos.h"

#define CFG_FILE_MAX (4 << 20)

char *xstrdup(const char *s)
{
        char *r = strdup(s);
        if (!r)
                abort();
        return r;
}

void *xcalloc(size_t n, size_t size)
{
        void *r = calloc(n ? n : 1, size ? size : 1);
        if (!r)
                abort();
        return r;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
        void *r = reallocarray(p, n ? n : 1, size ? size : 1);
        if (!r)
                abort();
        return r;
}

/* Lexical clean-up of an absolute path: "//" and "/./" collapse, "x/.."
 * drops x (as filepath.Clean does; the paths are for logs and for opening,
 * and "services.d/../../disabled/web" reads badly in a log line). */
static void path_clean(char *path)
{
        char *out = path, *in = path;

        while (*in) {
                if (in[0] == '/' && out != path && (out[-1] == '/' || in[1] == '\0')) {
                        in++;
                        continue;
                }
                if (in[0] == '/' && in[1] == '.' && (in[2] == '/' || in[2] == '\0')) {
                        in += 2;
                        continue;
                }
                if (in[0] == '/' && in[1] == '.' && in[2] == '.' &&
                    (in[3] == '/' || in[3] == '\0')) {
                        while (out > path && *--out != '/')
                                ;
                        in += 3;
                        continue;
                }
                *out++ = *in++;
        }
        if (out == path)
                *out++ = '/';
        *out = '\0';
}

char *cfg_abspath(const char *dir, const char *p)
{
        char *r;

        if (p[0] == '/') {
                r = xstrdup(p);
        } else if (asprintf(&r, "%s/%s", dir, p) < 0) {
                abort();
        }
        path_clean(r);
        return r;
}

static char *abs_dir_of(const char *file)
{
        char *copy = xstrdup(file), *dir, *r;
        char cwd[4096];

        dir = dirname(copy);
        if (dir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
                r = xstrdup(dir);
        else
                r = cfg_abspath(cwd, dir);
        free(copy);
        return r;
}

int cfile_open(struct cfile *f, const char *file, struct diag *d)
{
        json_error_t err;
        size_t len = 0;
        char why[128];
        int r;

        *f = (struct cfile){.d = d, .file = xstrdup(file)};
        f->dir = abs_dir_of(file);
        /* Never a blocking open: a FIFO in services.d would stall the
         * reload, and with it every check, until someone wrote to it. */
        r = file_read_regular(file, CFG_FILE_MAX, &f->text, &len, why, sizeof(why));
        if (r < 0) {
                if (r == -EISDIR || r == -EINVAL || r == -EFBIG)
                        diag_add(d, file, 0, 0, "%s", why);
                else
                        diag_add(d, file, 0, 0, "cannot read: %s", why);
                return -EINVAL;
        }
        f->root = json_loadb(f->text, len, JSON_REJECT_DUPLICATES, &err);
        if (!f->root) {
                if (json_error_code(&err) == json_error_duplicate_key)
                        diag_add(d, file, err.line, err.column,
                                 "key given twice in one object (%s)", err.text);
                else
                        diag_add(d, file, err.line, err.column, "invalid JSON: %s", err.text);
                return -EINVAL;
        }
        f->pos = jsonpos_index(f->text, len);
        if (!f->pos)
                abort();
        if (!json_is_object(f->root)) {
                cfg_err(f, "", "the file must hold a JSON object, not %s", cfg_type_name(f->root));
                return -EINVAL;
        }
        return 0;
}

void cfile_done(struct cfile *f)
{
        free(f->file);
        free(f->dir);
        free(f->text);
        jsonpos_free(f->pos);
        json_decref(f->root);
        *f = (struct cfile){0};
}

void cfg_err(struct cfile *f, const char *path, const char *fmt, ...)
{
        char p[CFG_PATH_MAX];
        int line = 0, column = 0;
        va_list ap;
        char *text;

        snprintf(p, sizeof(p), "%s", path);
        /* fall back to the enclosing key when a path is not indexed */
        while (jsonpos_lookup(f->pos, p, &line, &column) < 0 && p[0]) {
                char *dot = strrchr(p, '.'), *br = strrchr(p, '[');
                char *cut = dot > br ? dot : br;
                if (cut)
                        *cut = '\0';
                else
                        p[0] = '\0';
        }
        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                abort();
        va_end(ap);
        diag_add(f->d, f->file, line, column, "%s", text);
        free(text);
}

const char *cfg_key(char *buf, const char *parent, const char *key)
{
        snprintf(buf, CFG_PATH_MAX, "%s%s%s", parent, parent[0] ? "." : "", key);
        return buf;
}

const char *cfg_idx(char *buf, const char *parent, size_t i)
{
        snprintf(buf, CFG_PATH_MAX, "%s[%zu]", parent, i);
        return buf;
}

const char *cfg_type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a number with a fraction";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        }
        return "unknown";
}

static void only_keys(struct cfile *f, json_t *obj, const char *path, const char *what,
                      const char *const *keys, bool (*also)(const char *key))
{
        const char *k;
        json_t *v;
        char p[CFG_PATH_MAX];

        json_object_foreach(obj, k, v)
        {
                bool known = also && also(k);
                for (size_t i = 0; keys[i] && !known; i++)
                        known = strcmp(keys[i], k) == 0;
                if (!known)
                        cfg_err(f, cfg_key(p, path, k), "unknown key \"%s\" in %s", k, what);
        }
}

void cfg_only_keys(struct cfile *f, json_t *obj, const char *path, const char *what,
                   const char *const *keys)
{
        only_keys(f, obj, path, what, keys, NULL);
}

void cfg_only_keys_or(struct cfile *f, json_t *obj, const char *path, const char *what,
                      const char *const *keys, bool (*also)(const char *key))
{
        only_keys(f, obj, path, what, keys, also);
}

static int get_typed(struct cfile *f, json_t *obj, const char *path, const char *key,
                     json_type type, const char *want, json_t **out)
{
        json_t *v = json_object_get(obj, key);
        char p[CFG_PATH_MAX];

        if (!v)
                return 0;
        if (json_typeof(v) != type && !(type == JSON_TRUE && json_typeof(v) == JSON_FALSE)) {
                cfg_err(f, cfg_key(p, path, key), "\"%s\" must be %s, not %s", key, want,
                        cfg_type_name(v));
                return -1;
        }
        *out = v;
        return 1;
}

int cfg_object(struct cfile *f, json_t *obj, const char *path, const char *key, json_t **out)
{
        return get_typed(f, obj, path, key, JSON_OBJECT, "an object", out);
}

int cfg_array(struct cfile *f, json_t *obj, const char *path, const char *key, json_t **out)
{
        return get_typed(f, obj, path, key, JSON_ARRAY, "an array", out);
}

int cfg_string(struct cfile *f, json_t *obj, const char *path, const char *key, const char **out)
{
        json_t *v;
        int r = get_typed(f, obj, path, key, JSON_STRING, "a string", &v);
        if (r > 0)
                *out = json_string_value(v);
        return r;
}

int cfg_bool(struct cfile *f, json_t *obj, const char *path, const char *key, bool *out)
{
        json_t *v;
        int r = get_typed(f, obj, path, key, JSON_TRUE, "a boolean (true or false)", &v);
        if (r > 0)
                *out = json_is_true(v);
        return r;
}

int cfg_int(struct cfile *f, json_t *obj, const char *path, const char *key, int64_t min,
            int64_t max, int64_t *out)
{
        json_t *v;
        char p[CFG_PATH_MAX];
        int r = get_typed(f, obj, path, key, JSON_INTEGER, "an integer", &v);

        if (r <= 0)
                return r;
        json_int_t i = json_integer_value(v);
        if (i < min) {
                cfg_err(f, cfg_key(p, path, key), "\"%s\" must be at least %lld, not %lld", key,
                        (long long)min, (long long)i);
                return -1;
        }
        if (i > max) {
                cfg_err(f, cfg_key(p, path, key), "\"%s\" must be at most %lld, not %lld", key,
                        (long long)max, (long long)i);
                return -1;
        }
        *out = i;
        return 1;
}

int cfg_duration(struct cfile *f, json_t *obj, const char *path, const char *key, uint64_t *usec,
                 const char **text)
{
        const char *s;
        char p[CFG_PATH_MAX];
        json_t *v;
        int r = get_typed(f, obj, path, key, JSON_STRING, "a string with a unit like \"2s\"", &v);

        if (r <= 0)
                return r;
        s = json_string_value(v);
        r = parse_duration(s, usec);
        if (r < 0) {
                cfg_err(f, cfg_key(p, path, key),
                        r == -ERANGE ? "\"%s\": duration \"%s\" is too long"
                                     : "\"%s\": bad duration \"%s\" (want a number and a unit: "
                                       "us, ms, s, m, h)",
                        key, s);
                return -1;
        }
        *text = s;
        return 1;
}

int cfg_on_action(struct cfile *f, json_t *obj, const char *path, const char *key,
                  enum on_action *out)
{
        const char *s;
        char p[CFG_PATH_MAX];
        int r = cfg_string(f, obj, path, key, &s);

        if (r <= 0)
                return r;
        if (strcmp(s, "withdraw") == 0)
                *out = ON_WITHDRAW;
        else if (strcmp(s, "keep") == 0)
                *out = ON_KEEP;
        else {
                cfg_err(f, cfg_key(p, path, key),
                        "\"%s\" must be \"withdraw\" or \"keep\", not \"%s\"", key, s);
                return -1;
        }
        return 1;
}

int cfg_path(struct cfile *f, json_t *obj, const char *path, const char *key, char **out)
{
        const char *s;
        char p[CFG_PATH_MAX];
        int r = cfg_string(f, obj, path, key, &s);

        if (r <= 0)
                return r;
        if (!s[0]) {
                cfg_err(f, cfg_key(p, path, key), "\"%s\" must not be empty", key);
                return -1;
        }
        free(*out);
        *out = cfg_abspath(f->dir, s);
        return 1;
}
