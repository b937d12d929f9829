/* exabgp_config.c: see exabgp_config.h. */
#include <stdlib.h>
#include <string.h>

#include "config_block.h"
#include "exabgp_config.h"

static const char *const exabgp_keys[] = {"ack", "api", "on_exit", "watchdog", NULL};

/* What a daemon file without the block gets: the 4.x syntax, which every
 * ExaBGP from 4.0 to 5.0 speaks, and 6 with exabgp.api.version 4 (or
 * unset, where 6 tells each process's syntax from its first command:
 * reactor/api/dispatch/version.py). */
static const struct exabgp_settings defaults = {
    .ack = true, .api = EXABGP_API_4, .on_exit = ON_WITHDRAW, .watchdog_usec = 10000000};

static void *exabgp_defaults(void)
{
        struct exabgp_settings *s = xcalloc(1, sizeof(*s));
        *s = defaults;
        return s;
}

static void exabgp_parse(struct cfile *f, json_t *o, void *settings)
{
        struct exabgp_settings *s = settings;
        cfg_only_keys(f, o, "exabgp", "\"exabgp\"", exabgp_keys);
        cfg_bool(f, o, "exabgp", "ack", &s->ack);
        cfg_on_action(f, o, "exabgp", "on_exit", &s->on_exit);
        /* ExaBGP's own numbers (exabgp.api.version, "system api version"
         * take 4 or 6). No 5: ExaBGP 5.0 speaks API 4, and a second name
         * for it would only suggest a third syntax. */
        int64_t api;
        if (cfg_int(f, o, "exabgp", "api", INT64_MIN, INT64_MAX, &api) > 0) {
                if (api == EXABGP_API_4 || api == EXABGP_API_6)
                        s->api = (enum exabgp_api)api;
                else
                        cfg_err(f, "exabgp.api",
                                "\"api\" (%lld) must be 4 (ExaBGP 4.x and 5.0) or 6 (ExaBGP 6)",
                                (long long)api);
        }
        /* "0" turns the watchdog off; a duration must leave room for a
         * loop that is only slow: below a second it would end healthy
         * daemons on a loaded machine. */
        json_t *w = json_object_get(o, "watchdog");
        if (json_is_string(w) && strcmp(json_string_value(w), "0") == 0) {
                s->watchdog_usec = 0;
                return;
        }
        const char *text;
        uint64_t usec;
        if (cfg_duration(f, o, "exabgp", "watchdog", &usec, &text) > 0) {
                if (usec < 1000000 || usec > 3600000000ULL)
                        cfg_err(f, "exabgp.watchdog",
                                "\"watchdog\" (%s) must be \"0\" (off) or between 1s and 1h", text);
                else
                        s->watchdog_usec = usec;
        }
}

const struct speaker_block exabgp_block = {
    .name = "exabgp", .defaults = exabgp_defaults, .parse = exabgp_parse, .free = free};

const struct exabgp_settings *exabgp_settings(const struct config *c)
{
        const struct exabgp_settings *s = config_speaker(c, "exabgp");
        return s ? s : &defaults;
}
