/* config_service.c: one service file (services.d/NAME.json): prefixes,
 * checks, how they combine, and the BGP attributes to announce with. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_attrs.h"
#include "config_internal.h"
#include "log.h"
#include "jsonpos.h"

#define RISE_FALL_MAX 1000000

static const char *const service_keys[] = {
    "name",     "prefixes", "checks",    "combine", "disable_file", "on_disabled", "announce",
    "degraded", "drain",    "dampening", "hooks",   "floor",        "canary",      NULL,
};
static const char *const check_keys[] = {
    "plugin", "interval", "timeout", "rise", "fall", "options", "capacity", NULL,
};

static bool name_ok(const char *name)
{
        for (const char *p = name; *p; p++)
                if ((unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        return name[0] != '\0';
}

static void parse_name(struct cfile *f, const struct config *c, struct service_cfg *s)
{
        const char *name = NULL;
        char shown[CFG_PATH_MAX];
        int r = cfg_string(f, f->root, "", "name", &name);

        if (r < 0)
                return;
        if (r == 0) {
                /* The name still reaches logs, hooks' environment and the
                 * control socket: a file name is held to the same rules. */
                const char *base = strrchr(s->file, '/');
                base = base ? base + 1 : s->file;
                char *from_file = strndup(base, strlen(base) - strlen(".json"));
                if (!from_file)
                        abort();
                if (!name_ok(from_file)) {
                        cfg_err(f, "",
                                "the service name \"%s\" (from the file name, no \"name\" key) "
                                "must not contain spaces or control characters",
                                log_sanitise(shown, sizeof(shown), from_file));
                        free(from_file);
                        return;
                }
                s->name = from_file;
        } else if (!name[0]) {
                cfg_err(f, "name", "\"name\" must not be empty");
                return;
        } else if (!name_ok(name)) {
                cfg_err(f, "name", "\"name\" \"%s\" must not contain spaces or control characters",
                        log_sanitise(shown, sizeof(shown), name));
                return;
        } else {
                s->name = xstrdup(name);
        }
        for (size_t i = 0; i < c->n_services; i++)
                if (c->services[i].name && strcmp(c->services[i].name, s->name) == 0)
                        cfg_err(f, "name", "service name \"%s\" is already used by %s", s->name,
                                c->services[i].file);
}

static void check_prefix_unique(struct cfile *f, const struct config *c, struct service_cfg *s,
                                const struct prefix *p, const char *path)
{
        char buf[PREFIX_STRLEN];

        prefix_format(p, buf);
        for (size_t i = 0; i < s->n_prefixes; i++)
                if (prefix_equal(&s->prefixes[i], p)) {
                        cfg_err(f, path, "prefix %s is listed twice", buf);
                        return;
                }
        for (size_t i = 0; i < c->n_services; i++)
                for (size_t j = 0; j < c->services[i].n_prefixes; j++)
                        if (prefix_equal(&c->services[i].prefixes[j], p)) {
                                cfg_err(f, path, "prefix %s is already used by service \"%s\" (%s)",
                                        buf, c->services[i].name ? c->services[i].name : "?",
                                        c->services[i].file);
                                return;
                        }
}

static void parse_prefixes(struct cfile *f, const struct config *c,
                           const struct daemon_faults *faults, struct service_cfg *s)
{
        json_t *arr, *v;
        size_t i;
        char path[CFG_PATH_MAX];
        int r = cfg_array(f, f->root, "", "prefixes", &arr);

        if (r == 0)
                cfg_err(f, "", "missing required key \"prefixes\"");
        if (r <= 0)
                return;
        if (json_array_size(arr) == 0) {
                cfg_err(f, "prefixes", "\"prefixes\" must not be empty");
                return;
        }
        s->prefixes = xcalloc(json_array_size(arr), sizeof(*s->prefixes));
        json_array_foreach(arr, i, v)
        {
                struct prefix p;
                const char *why;
                bool inside = false;
                char buf[PREFIX_STRLEN];

                cfg_idx(path, "prefixes", i);
                if (!json_is_string(v)) {
                        cfg_err(f, path, "\"prefixes\" items must be strings, not %s",
                                cfg_type_name(v));
                        continue;
                }
                if (prefix_parse(json_string_value(v), &p, &why) < 0) {
                        cfg_err(f, path, "prefix \"%s\": %s", json_string_value(v), why);
                        continue;
                }
                for (size_t a = 0; a < c->n_allowed && !inside; a++)
                        inside = prefix_contains(&c->allowed[a], &p);
                prefix_format(&p, buf);
                if (!inside && !faults->allowed)
                        cfg_err(f, path, "prefix %s is outside allowed_prefixes", buf);
                check_prefix_unique(f, c, s, &p, path);
                s->prefixes[s->n_prefixes++] = p;
        }
}

static bool plugin_name_ok(const char *n)
{
        if (!n[0])
                return false;
        for (; *n; n++)
                if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
                      (*n >= '0' && *n <= '9') || *n == '_' || *n == '-'))
                        return false;
        return true;
}

static void parse_check(struct cfile *f, json_t *o, const char *path, struct check_cfg *ck)
{
        const char *plugin, *itext = "2s", *ttext = "1s";
        int64_t n;
        char p[CFG_PATH_MAX];
        int r, ri, rt;

        ck->interval_usec = 2000000;
        ck->timeout_usec = 1000000;
        ck->rise = 3;
        ck->fall = 2;
        ck->options_path = xstrdup(cfg_key(p, path, "options"));
        jsonpos_lookup(f->pos, path, &ck->line, &ck->column);
        cfg_only_keys(f, o, path, "check", check_keys);

        r = cfg_string(f, o, path, "plugin", &plugin);
        if (r == 0)
                cfg_err(f, path, "missing required key \"plugin\" in check");
        else if (r > 0 && !plugin_name_ok(plugin))
                cfg_err(f, cfg_key(p, path, "plugin"),
                        "\"plugin\" \"%s\" must be a name of letters, digits, \"_\" and \"-\"",
                        plugin);
        else if (r > 0)
                ck->plugin = xstrdup(plugin);

        ri = cfg_duration(f, o, path, "interval", &ck->interval_usec, &itext);
        if (ri >= 0 && ck->interval_usec == 0) {
                cfg_err(f, cfg_key(p, path, "interval"), "\"interval\" must be greater than 0");
                ri = -1;
        }
        rt = cfg_duration(f, o, path, "timeout", &ck->timeout_usec, &ttext);
        if (rt >= 0 && ck->timeout_usec == 0) {
                cfg_err(f, cfg_key(p, path, "timeout"), "\"timeout\" must be greater than 0");
                rt = -1;
        }
        if (ri >= 0 && rt >= 0 && ck->timeout_usec >= ck->interval_usec)
                cfg_err(f, cfg_key(p, path, rt > 0 ? "timeout" : "interval"),
                        "\"timeout\" (%s) must be below \"interval\" (%s)", ttext, itext);

        if (cfg_int(f, o, path, "rise", 1, RISE_FALL_MAX, &n) > 0)
                ck->rise = (unsigned)n;
        if (cfg_int(f, o, path, "fall", 1, RISE_FALL_MAX, &n) > 0)
                ck->fall = (unsigned)n;
        cfg_bool(f, o, path, "capacity", &ck->capacity);

        json_t *opts;
        if (cfg_object(f, o, path, "options", &opts) > 0)
                ck->options = json_incref(opts);
        else
                ck->options = json_object();
        if (!ck->options)
                abort();
}

/* Returns the number of check objects given (for "combine"), or -1. */
static int parse_checks(struct cfile *f, struct service_cfg *s)
{
        json_t *arr, *v;
        size_t i;
        char path[CFG_PATH_MAX];
        int r = cfg_array(f, f->root, "", "checks", &arr);

        if (r == 0)
                cfg_err(f, "", "missing required key \"checks\"");
        if (r <= 0)
                return -1;
        if (json_array_size(arr) == 0) {
                cfg_err(f, "checks", "\"checks\" must not be empty");
                return -1;
        }
        s->checks = xcalloc(json_array_size(arr), sizeof(*s->checks));
        json_array_foreach(arr, i, v)
        {
                cfg_idx(path, "checks", i);
                if (!json_is_object(v)) {
                        cfg_err(f, path, "\"checks\" items must be objects, not %s",
                                cfg_type_name(v));
                        continue;
                }
                parse_check(f, v, path, &s->checks[s->n_checks++]);
        }
        return (int)json_array_size(arr) > INT_MAX ? INT_MAX : (int)json_array_size(arr);
}

static void parse_combine(struct cfile *f, struct service_cfg *s, int n_checks)
{
        json_t *v = json_object_get(f->root, "combine");

        s->combine = COMBINE_ALL;
        if (!v)
                return;
        if (json_is_string(v) && strcmp(json_string_value(v), "all") == 0) {
                s->combine = COMBINE_ALL;
        } else if (json_is_string(v) && strcmp(json_string_value(v), "any") == 0) {
                s->combine = COMBINE_ANY;
        } else if (json_is_integer(v)) {
                json_int_t n = json_integer_value(v);
                if (n < 1)
                        cfg_err(f, "combine", "\"combine\" (%lld) must be at least 1",
                                (long long)n);
                else if (n_checks >= 0 && n > n_checks)
                        cfg_err(f, "combine",
                                "\"combine\" (%lld) must be at most the number of checks (%d)",
                                (long long)n, n_checks);
                else {
                        s->combine = COMBINE_AT_LEAST;
                        s->combine_n = (unsigned)n;
                }
        } else if (json_is_string(v)) {
                cfg_err(f, "combine",
                        "\"combine\" must be \"all\", \"any\" or a number, not \"%s\"",
                        json_string_value(v));
        } else {
                cfg_err(f, "combine", "\"combine\" must be \"all\", \"any\" or a number, not %s",
                        cfg_type_name(v));
        }
}

static void parse_announce(struct cfile *f, const struct config *c,
                           const struct daemon_faults *faults, struct service_cfg *s)
{
        json_t *o;

        s->announce.next_hop = xstrdup("self");
        s->announce.med = -1;
        if (cfg_object(f, f->root, "", "announce", &o) <= 0)
                return;
        cfg_parse_attrs(f, c, faults, o, "announce", &s->announce);
}

void config_service_load(const struct config *c, const struct daemon_faults *faults,
                         const char *file, struct service_cfg *s, struct diag *d)
{
        struct cfile f;
        int n_checks;

        *s = (struct service_cfg){.file = xstrdup(file), .on_disabled = ON_WITHDRAW};
        if (cfile_open(&f, file, d) < 0) {
                cfile_done(&f);
                return;
        }
        cfg_only_keys(&f, f.root, "", "service", service_keys);
        parse_name(&f, c, s);
        parse_prefixes(&f, c, faults, s);
        n_checks = parse_checks(&f, s);
        parse_combine(&f, s, n_checks);
        cfg_path(&f, f.root, "", "disable_file", &s->disable_file);
        cfg_on_action(&f, f.root, "", "on_disabled", &s->on_disabled);
        parse_announce(&f, c, faults, s);
        config_operating_service(&f, c, faults, s);
        config_fleet_service(&f, c, s);
        config_canary_service(&f, s);

        s->raw = json_dumps(f.root, JSON_COMPACT | JSON_SORT_KEYS);
        if (!s->raw)
                abort(); /* as every allocation failure while loading */
        s->pos = f.pos;
        f.pos = NULL;
        cfile_done(&f);
}
