/* config.c: the daemon file, the services directory and the config's
 * lifetime. Service files are parsed in config_service.c. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahd-build-config.h"
#include "attrs.h"
#include "config_internal.h"
#include "config_operator.h"
#include "jsonpos.h"

/* The daemon file's own keys; each registered speaker adds its block's. */
static const char *const daemon_keys[] = {
    "pop",   "backend", "services_dir", "plugin_dir", "allowed_prefixes", "asn", "state_file",
    "hooks", "control", "metrics",      "reconcile", "fleet", NULL,
};

static const struct speaker_block *const *speaker_blocks;
static size_t n_speaker_blocks;

static bool is_speaker_block(const char *key)
{
        for (size_t i = 0; i < n_speaker_blocks; i++)
                if (strcmp(speaker_blocks[i]->name, key) == 0)
                        return true;
        return false;
}

void config_set_speakers(const struct speaker_block *const *blocks, size_t n)
{
        speaker_blocks = blocks;
        n_speaker_blocks = n < CONFIG_SPEAKERS_MAX ? n : CONFIG_SPEAKERS_MAX;
}

void *config_speaker(const struct config *c, const char *name)
{
        for (size_t i = 0; name && i < c->n_speakers; i++)
                if (strcmp(c->speakers[i].def->name, name) == 0)
                        return c->speakers[i].settings;
        return NULL;
}

void config_speaker_put(struct config *c, const struct speaker_block *def, void *settings)
{
        for (size_t i = 0; i < c->n_speakers; i++)
                if (c->speakers[i].def == def) {
                        def->free(c->speakers[i].settings);
                        c->speakers[i].settings = settings;
                        return;
                }
        if (c->n_speakers < CONFIG_SPEAKERS_MAX)
                c->speakers[c->n_speakers++] = (struct config_speaker){def, settings};
}

static void parse_allowed(struct cfile *f, struct config *c, struct daemon_faults *faults)
{
        json_t *arr, *v;
        size_t i;
        char p[CFG_PATH_MAX];
        int r = cfg_array(f, f->root, "", "allowed_prefixes", &arr);

        faults->allowed = true;
        if (r == 0) {
                cfg_err(f, "", "missing required key \"allowed_prefixes\"");
                return;
        }
        if (r < 0)
                return;
        if (json_array_size(arr) == 0) {
                cfg_err(f, "allowed_prefixes", "\"allowed_prefixes\" must not be empty");
                return;
        }
        c->allowed = xcalloc(json_array_size(arr), sizeof(*c->allowed));
        faults->allowed = false;
        json_array_foreach(arr, i, v)
        {
                const char *why;
                cfg_idx(p, "allowed_prefixes", i);
                if (!json_is_string(v)) {
                        cfg_err(f, p, "\"allowed_prefixes\" items must be strings, not %s",
                                cfg_type_name(v));
                        faults->allowed = true;
                } else if (prefix_parse(json_string_value(v), &c->allowed[c->n_allowed], &why) <
                           0) {
                        cfg_err(f, p, "prefix \"%s\": %s", json_string_value(v), why);
                        faults->allowed = true;
                } else {
                        c->n_allowed++;
                }
        }
}

/* "backend" must be "a", "a" or "b", or "a", "b" or "c" (the registered
 * speakers, in their order). */
static void backend_choices(char *buf, size_t size)
{
        size_t n = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < n_speaker_blocks && n < size; i++)
                n += (size_t)snprintf(buf + n, size - n, "%s\"%s\"",
                                      i == 0                      ? ""
                                      : i + 1 == n_speaker_blocks ? " or "
                                                                  : ", ",
                                      speaker_blocks[i]->name);
}

static void parse_speakers(struct cfile *f, struct config *c)
{
        for (size_t i = 0; i < c->n_speakers; i++) {
                json_t *o;
                const struct config_speaker *sp = &c->speakers[i];
                if (cfg_object(f, f->root, "", sp->def->name, &o) > 0)
                        sp->def->parse(f, o, sp->settings);
        }
}

static void parse_daemon(struct cfile *f, struct config *c, struct daemon_faults *faults)
{
        const char *s;
        int64_t asn;

        cfg_only_keys_or(f, f->root, "", "daemon file", daemon_keys, is_speaker_block);
        if (cfg_string(f, f->root, "", "pop", &s) > 0) {
                if (s[0]) {
                        free(c->pop);
                        c->pop = xstrdup(s);
                } else {
                        cfg_err(f, "pop", "\"pop\" must not be empty");
                }
        }
        if (cfg_string(f, f->root, "", "backend", &s) > 0) {
                bool known = false;
                for (size_t i = 0; i < n_speaker_blocks && !known; i++)
                        known = strcmp(speaker_blocks[i]->name, s) == 0;
                if (known) {
                        c->backend = xstrdup(s);
                } else {
                        char choices[256];
                        backend_choices(choices, sizeof(choices));
                        cfg_err(f, "backend", "\"backend\" must be %s, not \"%s\"", choices, s);
                }
        }
        c->services_dir = cfg_abspath(f->dir, "services.d");
        faults->services_dir = cfg_path(f, f->root, "", "services_dir", &c->services_dir) < 0;
        cfg_path(f, f->root, "", "plugin_dir", &c->plugin_dir);
        if (cfg_int(f, f->root, "", "asn", 1, UINT32_MAX, &asn) > 0)
                c->asn = (uint32_t)asn;
        else if (json_object_get(f->root, "asn"))
                faults->asn = true;
        parse_allowed(f, c, faults);
        parse_speakers(f, c);
        config_operating_daemon(f, c);
        config_control_parse(f, c);
        config_fleet_daemon(f, c);
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_service_file(const char *name)
{
        size_t n = strlen(name);
        /* like the shell's *.json: hidden files (editor leftovers) do not count */
        return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static void load_services(struct cfile *f, struct config *c, const struct daemon_faults *faults)
{
        DIR *dir = opendir(c->services_dir);
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;

        if (!dir) {
                cfg_err(f, "services_dir", "services_dir \"%s\": %s", c->services_dir,
                        strerror(errno));
                return;
        }
        while ((de = readdir(dir))) {
                if (!is_service_file(de->d_name))
                        continue;
                names = xreallocarray(names, n + 1, sizeof(*names));
                names[n++] = xstrdup(de->d_name);
        }
        closedir(dir);
        if (n)
                qsort(names, n, sizeof(*names), name_cmp);
        c->services = xcalloc(n, sizeof(*c->services));
        for (size_t i = 0; i < n; i++) {
                char *file = cfg_abspath(c->services_dir, names[i]);
                config_service_load(c, faults, file, &c->services[c->n_services], f->d);
                c->n_services++;
                free(file);
                free(names[i]);
        }
        free(names);
}

static char *host_name(void)
{
        char buf[256] = "";

        if (gethostname(buf, sizeof(buf) - 1) < 0 || !buf[0])
                return xstrdup("unknown");
        return xstrdup(buf);
}

static int load(const char *path, bool services, struct config **out, struct diag *d)
{
        struct config *c = xcalloc(1, sizeof(*c));
        struct daemon_faults faults = {0};
        struct cfile f;
        size_t n0 = d->n;
        char cwd[4096];

        *out = NULL;
        c->file =
            path[0] != '/' && getcwd(cwd, sizeof(cwd)) ? cfg_abspath(cwd, path) : xstrdup(path);
        c->pop = host_name();
        c->plugin_dir = xstrdup(AHD_PLUGIN_DIR);
        for (size_t i = 0; i < n_speaker_blocks; i++)
                config_speaker_put(c, speaker_blocks[i], speaker_blocks[i]->defaults());
        config_control_defaults(c);

        if (cfile_open(&f, path, d) == 0) {
                parse_daemon(&f, c, &faults);
                if (services && !faults.services_dir)
                        load_services(&f, c, &faults);
        }
        cfile_done(&f);
        if (d->n != n0) {
                config_free(c);
                return -EINVAL;
        }
        *out = c;
        return 0;
}

int config_load(const char *path, struct config **out, struct diag *d)
{
        return load(path, true, out, d);
}

int config_load_daemon(const char *path, struct config **out, struct diag *d)
{
        return load(path, false, out, d);
}

void service_cfg_clear(struct service_cfg *s)
{
        free(s->name);
        free(s->file);
        jsonpos_free(s->pos);
        free(s->prefixes);
        for (size_t i = 0; i < s->n_checks; i++) {
                free(s->checks[i].plugin);
                json_decref(s->checks[i].options);
                free(s->checks[i].options_path);
        }
        free(s->checks);
        free(s->disable_file);
        attrs_free(&s->announce);
        config_operating_service_clear(s);
        config_canary_service_clear(s);
        free(s->raw);
        *s = (struct service_cfg){0};
}

void config_free(struct config *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_services; i++)
                service_cfg_clear(&c->services[i]);
        free(c->services);
        free(c->file);
        free(c->pop);
        free(c->services_dir);
        free(c->plugin_dir);
        free(c->allowed);
        free(c->backend);
        for (size_t i = 0; i < c->n_speakers; i++)
                c->speakers[i].def->free(c->speakers[i].settings);
        config_operating_daemon_clear(c);
        config_fleet_daemon_clear(c);
        config_control_free(c);
        free(c);
}

void config_drop_positions(struct config *c)
{
        for (size_t i = 0; c && i < c->n_services; i++) {
                jsonpos_free(c->services[i].pos);
                c->services[i].pos = NULL;
        }
}
