/* exabgp_config.c: see exabgp_config.h. */
#include <stdlib.h>
#include <string.h>

#include "config_block.h"
#include "exabgp_config.h"

static const char *const exabgp_keys[] = {"ack", "on_exit", "watchdog", NULL};

/* What a daemon file without the block gets. */
static const struct exabgp_settings defaults = {
    .ack = true, .on_exit = ON_WITHDRAW, .watchdog_usec = 10000000};

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
