/* bird_config.c: see bird_config.h. */
#include <stdlib.h>
#include <string.h>

#include "bird_config.h"
#include "config_block.h"

static const char *const bird_keys[] = {"socket",  "include_v4", "include_v6",
                                        "on_exit", "coalesce",   NULL};

/* What a daemon file without the block gets (the paths are copied). */
static const struct bird_settings defaults = {
    .socket = "/run/bird/bird.ctl",
    .include_v4 = "/var/lib/anycast-healthd/bird/routes4.conf",
    .include_v6 = "/var/lib/anycast-healthd/bird/routes6.conf",
    .on_exit = ON_WITHDRAW,
};

static void *bird_defaults(void)
{
        struct bird_settings *s = xcalloc(1, sizeof(*s));
        *s = defaults;
        s->socket = xstrdup(defaults.socket);
        s->include_v4 = xstrdup(defaults.include_v4);
        s->include_v6 = xstrdup(defaults.include_v6);
        return s;
}

static void bird_parse(struct cfile *f, json_t *o, void *settings)
{
        struct bird_settings *s = settings;
        cfg_only_keys(f, o, "bird", "\"bird\"", bird_keys);
        cfg_path(f, o, "bird", "socket", &s->socket);
        cfg_path(f, o, "bird", "include_v4", &s->include_v4);
        cfg_path(f, o, "bird", "include_v6", &s->include_v6);
        cfg_on_action(f, o, "bird", "on_exit", &s->on_exit);
        const char *text;
        uint64_t usec;
        if (cfg_duration(f, o, "bird", "coalesce", &usec, &text) > 0) {
                /* A window over a few seconds would hold a withdraw back for
                 * longer than any check interval: surely a typo. */
                if (usec > 5000000)
                        cfg_err(f, "bird.coalesce", "\"coalesce\" (%s) must be at most 5s", text);
                else
                        s->coalesce_usec = usec;
        }
}

static void bird_settings_free(void *settings)
{
        struct bird_settings *s = settings;
        if (!s)
                return;
        free(s->socket);
        free(s->include_v4);
        free(s->include_v6);
        free(s);
}

const struct speaker_block bird_block = {
    .name = "bird", .defaults = bird_defaults, .parse = bird_parse, .free = bird_settings_free};

const struct bird_settings *bird_settings(const struct config *c)
{
        const struct bird_settings *s = config_speaker(c, "bird");
        return s ? s : &defaults;
}

char *bird_canary_path(const char *include)
{
        const char *base = strrchr(include, '/');
        base = base ? base + 1 : include;
        const char *dot = strrchr(base, '.');
        /* a leading dot (".conf") is the name, not an extension */
        size_t stem = dot && dot != base ? (size_t)(dot - include) : strlen(include);
        size_t len = strlen(include);
        char *out = malloc(len + sizeof("-canary"));
        if (!out)
                return NULL;
        memcpy(out, include, stem);
        memcpy(out + stem, "-canary", 7);
        memcpy(out + stem + 7, include + stem, len - stem + 1);
        return out;
}
