/* frr_config.c: see frr_config.h. */
#include <stdlib.h>

#include "config_block.h"
#include "frr_config.h"

static const char *const frr_keys[] = {"socket_dir", "asn", "on_exit", "coalesce", NULL};

/* What a daemon file without the block gets (the path is copied). */
static const struct frr_settings defaults = {
    .socket_dir = "/run/frr",
    .on_exit = ON_WITHDRAW,
};

static void *frr_defaults(void)
{
        struct frr_settings *s = xcalloc(1, sizeof(*s));
        *s = defaults;
        s->socket_dir = xstrdup(defaults.socket_dir);
        return s;
}

static void frr_parse(struct cfile *f, json_t *o, void *settings)
{
        struct frr_settings *s = settings;
        cfg_only_keys(f, o, "frr", "\"frr\"", frr_keys);
        cfg_path(f, o, "frr", "socket_dir", &s->socket_dir);
        int64_t asn;
        if (cfg_int(f, o, "frr", "asn", 1, UINT32_MAX, &asn) > 0)
                s->asn = (uint32_t)asn;
        cfg_on_action(f, o, "frr", "on_exit", &s->on_exit);
        const char *text;
        uint64_t usec;
        if (cfg_duration(f, o, "frr", "coalesce", &usec, &text) > 0) {
                /* As for BIRD: a window of seconds would hold a withdraw
                 * back for longer than any check interval. */
                if (usec > 5000000)
                        cfg_err(f, "frr.coalesce", "\"coalesce\" (%s) must be at most 5s", text);
                else
                        s->coalesce_usec = usec;
        }
}

static void frr_settings_free(void *settings)
{
        struct frr_settings *s = settings;
        if (!s)
                return;
        free(s->socket_dir);
        free(s);
}

const struct speaker_block frr_block = {
    .name = "frr", .defaults = frr_defaults, .parse = frr_parse, .free = frr_settings_free};

const struct frr_settings *frr_settings(const struct config *c)
{
        const struct frr_settings *s = config_speaker(c, "frr");
        return s ? s : &defaults;
}

uint32_t frr_bgp_asn(const struct config *c)
{
        uint32_t asn = frr_settings(c)->asn;
        return asn ? asn : c->asn;
}
