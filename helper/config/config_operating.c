/* config_operating.c: the keys that operate a running daemon rather than define
 * a service's health: where manual state lives ("state_file"), commands run
 * on transitions ("hooks"), how often the speaker's table is read back
 * ("reconcile"), and per service the degraded attributes, the
 * graceful drain, flap dampening, and the rules for capacity checks.
 *
 * Degraded defaults: a "degraded" block starts from the service's
 * "announce" attributes and replaces the keys it gives. Its "prepend"
 * defaults to announce's plus DEGRADED_PREPEND (3, at most 10 in all) when
 * the daemon file sets "asn"; without "asn" there is nothing to prepend,
 * and a degraded route looks like an up one unless the block sets MED or
 * communities the upstream acts on.
 * Draining attributes are the degraded ones plus the GRACEFUL_SHUTDOWN
 * community 65535:0 (RFC 8326). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrs.h"
#include "config_attrs.h"
#include "config_internal.h"
#include "file_read.h"

#define DEGRADED_PREPEND         3
#define RECONCILE_INTERVAL_DEFAULT (30ULL * 1000000ULL)
#define RECONCILE_STUCK_DEFAULT  (10ULL * 1000000ULL)
#define RECONCILE_MIN            (1000000ULL)
#define RECONCILE_MAX            (3600ULL * 1000000ULL)
#define GRACEFUL_SHUTDOWN        "65535:0"
#define DRAIN_TIME_DEFAULT       (30ULL * 1000000ULL)
#define DRAIN_TIME_MAX           (3600ULL * 1000000ULL)
#define HOOK_TIMEOUT_DEFAULT     (10ULL * 1000000ULL)
#define HOOK_TIMEOUT_MAX         (600ULL * 1000000ULL)
#define DAMP_PENALTY_DEFAULT     1000
#define DAMP_HALF_LIFE_DEFAULT   (15ULL * 60ULL * 1000000ULL)
#define DAMP_SUPPRESS_DEFAULT    2000
#define DAMP_REUSE_DEFAULT       750
#define DAMP_MAX_PENALTY_DEFAULT 12000
#define DAMP_LIMIT               1000000
#define STATE_FILE_DEFAULT       "/var/lib/anycast-healthd/state.json"

static const char *const hooks_keys[] = {"on_change", "timeout", NULL};
static const char *const drain_keys[] = {"time", "on_shutdown", NULL};
static const char *const dampening_keys[] = {"penalty", "half_life",   "suppress",
                                             "reuse",   "max_penalty", NULL};

/* Loading aborts on allocation failure, as everywhere in config. */
static void attrs_copy_or_die(struct attrs *dst, const struct attrs *src)
{
        if (attrs_copy(dst, src) < 0)
                abort();
}

static void hooks_free(struct hooks_cfg *h)
{
        for (size_t i = 0; h->on_change && h->on_change[i]; i++)
                free(h->on_change[i]);
        free(h->on_change);
        h->on_change = NULL;
}

static void parse_hooks(struct cfile *f, json_t *root, struct hooks_cfg *h)
{
        json_t *o, *arr, *v;
        size_t i;
        char p[CFG_PATH_MAX];
        const char *text;

        h->timeout_usec = HOOK_TIMEOUT_DEFAULT;
        if (cfg_object(f, root, "", "hooks", &o) <= 0)
                return;
        cfg_only_keys(f, o, "hooks", "\"hooks\"", hooks_keys);
        if (cfg_duration(f, o, "hooks", "timeout", &h->timeout_usec, &text) > 0 &&
            (h->timeout_usec == 0 || h->timeout_usec > HOOK_TIMEOUT_MAX)) {
                cfg_err(f, "hooks.timeout", "\"timeout\" (%s) must be above 0 and at most 10m",
                        text);
                h->timeout_usec = HOOK_TIMEOUT_DEFAULT;
        }
        if (cfg_array(f, o, "hooks", "on_change", &arr) <= 0)
                return;
        if (json_array_size(arr) == 0) {
                cfg_err(f, "hooks.on_change",
                        "\"on_change\" must hold a command and its arguments, not be empty");
                return;
        }
        char **argv = xcalloc(json_array_size(arr) + 1, sizeof(*argv));
        bool ok = true;
        json_array_foreach(arr, i, v)
        {
                cfg_idx(p, "hooks.on_change", i);
                if (!json_is_string(v)) {
                        cfg_err(f, p, "\"on_change\" items must be strings, not %s",
                                cfg_type_name(v));
                        ok = false;
                        continue;
                }
                /* No shell and no PATH search: the command is a file. */
                if (i == 0 && json_string_value(v)[0] != '/') {
                        cfg_err(f, p, "\"on_change\" command \"%s\" must be an absolute path",
                                json_string_value(v));
                        ok = false;
                } else if (i == 0) {
                        /* A missing command may be installed later (its
                         * run reports it); one that is there but cannot be
                         * exec'd is a mistake to name now. */
                        const char *cmd = json_string_value(v);
                        struct stat st;
                        if (stat(cmd, &st) == 0 &&
                            (!S_ISREG(st.st_mode) || access(cmd, X_OK) < 0)) {
                                cfg_err(f, p,
                                        "\"on_change\" command \"%s\" is not an executable "
                                        "regular file (%s%s)",
                                        cmd, file_type_name(st.st_mode),
                                        S_ISREG(st.st_mode) ? " without execute permission" : "");
                                ok = false;
                        }
                }
                argv[i] = xstrdup(json_string_value(v));
        }
        h->on_change = argv;
        if (!ok)
                hooks_free(h);
}

static const char *const reconcile_keys[] = {"interval", "stuck_after", NULL};

/* "interval": "0" turns reconciliation off; otherwise 1 s .. 1 h, so that
 * a pass (one query of the speaker's table) stays cheap. "stuck_after":
 * 1 s .. 1 h. */
static void parse_reconcile(struct cfile *f, struct config *c)
{
        json_t *o;
        uint64_t usec;
        const char *text;

        c->reconcile.interval_usec = RECONCILE_INTERVAL_DEFAULT;
        c->reconcile.stuck_after_usec = RECONCILE_STUCK_DEFAULT;
        if (cfg_object(f, f->root, "", "reconcile", &o) <= 0)
                return;
        cfg_only_keys(f, o, "reconcile", "\"reconcile\"", reconcile_keys);
        json_t *iv = json_object_get(o, "interval");
        if (json_is_string(iv) && strcmp(json_string_value(iv), "0") == 0) {
                c->reconcile.interval_usec = 0;
        } else if (cfg_duration(f, o, "reconcile", "interval", &usec, &text) > 0) {
                if (usec < RECONCILE_MIN || usec > RECONCILE_MAX)
                        cfg_err(f, "reconcile.interval",
                                "\"interval\" (%s) must be \"0\" (off) or between 1s and 1h", text);
                else
                        c->reconcile.interval_usec = usec;
        }
        if (cfg_duration(f, o, "reconcile", "stuck_after", &usec, &text) > 0) {
                if (usec < RECONCILE_MIN || usec > RECONCILE_MAX)
                        cfg_err(f, "reconcile.stuck_after",
                                "\"stuck_after\" (%s) must be between 1s and 1h", text);
                else
                        c->reconcile.stuck_after_usec = usec;
        }
}

void config_operating_daemon(struct cfile *f, struct config *c)
{
        c->state_file = cfg_abspath(f->dir, STATE_FILE_DEFAULT);
        cfg_path(f, f->root, "", "state_file", &c->state_file);
        parse_hooks(f, f->root, &c->hooks);
        parse_reconcile(f, c);
}

void config_operating_daemon_clear(struct config *c)
{
        free(c->state_file);
        c->state_file = NULL;
        hooks_free(&c->hooks);
}

static void parse_degraded(struct cfile *f, const struct config *c,
                           const struct daemon_faults *faults, struct service_cfg *s)
{
        json_t *o;
        struct attrs *d = &s->degraded;

        attrs_copy_or_die(d, &s->announce);
        if (c->asn) {
                unsigned p = s->announce.prepend + DEGRADED_PREPEND;
                d->prepend = p > PREPEND_MAX ? PREPEND_MAX : p;
        }
        if (cfg_object(f, f->root, "", "degraded", &o) > 0)
                cfg_parse_attrs(f, c, faults, o, "degraded", d);

        /* draining: degraded + GRACEFUL_SHUTDOWN, once */
        attrs_copy_or_die(&s->draining, d);
        for (size_t i = 0; i < d->n_communities; i++)
                if (strcmp(d->communities[i], GRACEFUL_SHUTDOWN) == 0)
                        return;
        struct attrs *dr = &s->draining;
        dr->communities = xreallocarray(dr->communities, dr->n_communities + 2, sizeof(char *));
        dr->communities[dr->n_communities++] = xstrdup(GRACEFUL_SHUTDOWN);
        dr->communities[dr->n_communities] = NULL;
}

static void parse_drain(struct cfile *f, struct service_cfg *s)
{
        json_t *o;
        const char *text;

        s->drain.time_usec = DRAIN_TIME_DEFAULT;
        if (cfg_object(f, f->root, "", "drain", &o) <= 0)
                return;
        cfg_only_keys(f, o, "drain", "\"drain\"", drain_keys);
        if (cfg_duration(f, o, "drain", "time", &s->drain.time_usec, &text) > 0 &&
            (s->drain.time_usec == 0 || s->drain.time_usec > DRAIN_TIME_MAX)) {
                cfg_err(f, "drain.time", "\"time\" (%s) must be above 0 and at most 1h", text);
                s->drain.time_usec = DRAIN_TIME_DEFAULT;
        }
        cfg_bool(f, o, "drain", "on_shutdown", &s->drain.on_shutdown);
}

static void parse_dampening(struct cfile *f, struct service_cfg *s)
{
        struct dampening_cfg *dc = &s->dampening;
        json_t *o;
        int64_t n;
        const char *text;

        *dc = (struct dampening_cfg){
            .penalty = DAMP_PENALTY_DEFAULT,
            .half_life_usec = DAMP_HALF_LIFE_DEFAULT,
            .suppress = DAMP_SUPPRESS_DEFAULT,
            .reuse = DAMP_REUSE_DEFAULT,
            .max_penalty = DAMP_MAX_PENALTY_DEFAULT,
        };
        if (cfg_object(f, f->root, "", "dampening", &o) <= 0)
                return;
        dc->enabled = true;
        cfg_only_keys(f, o, "dampening", "\"dampening\"", dampening_keys);
        if (cfg_int(f, o, "dampening", "penalty", 1, DAMP_LIMIT, &n) > 0)
                dc->penalty = (unsigned)n;
        if (cfg_int(f, o, "dampening", "suppress", 1, DAMP_LIMIT, &n) > 0)
                dc->suppress = (unsigned)n;
        if (cfg_int(f, o, "dampening", "reuse", 1, DAMP_LIMIT, &n) > 0)
                dc->reuse = (unsigned)n;
        if (cfg_int(f, o, "dampening", "max_penalty", 1, DAMP_LIMIT, &n) > 0)
                dc->max_penalty = (unsigned)n;
        if (cfg_duration(f, o, "dampening", "half_life", &dc->half_life_usec, &text) > 0 &&
            dc->half_life_usec < 1000000) {
                cfg_err(f, "dampening.half_life", "\"half_life\" (%s) must be at least 1s", text);
                dc->half_life_usec = DAMP_HALF_LIFE_DEFAULT;
        }
        if (dc->reuse >= dc->suppress)
                cfg_err(f, "dampening", "\"reuse\" (%u) must be below \"suppress\" (%u)", dc->reuse,
                        dc->suppress);
        else if (dc->max_penalty < dc->suppress)
                cfg_err(f, "dampening",
                        "\"max_penalty\" (%u) must be at least \"suppress\" (%u), or nothing is "
                        "ever suppressed",
                        dc->max_penalty, dc->suppress);
}

/* Capacity checks degrade, they never take a service down: at least one
 * check must decide up and down, and "combine" counts only those. */
static void check_capacity(struct cfile *f, struct service_cfg *s)
{
        size_t deciding = 0, capacity = 0;
        char p[CFG_PATH_MAX], q[CFG_PATH_MAX];

        for (size_t i = 0; i < s->n_checks; i++) {
                if (s->checks[i].capacity)
                        capacity++;
                else
                        deciding++;
        }
        if (capacity == 0 || s->n_checks == 0)
                return;
        if (deciding == 0) {
                for (size_t i = 0; i < s->n_checks; i++)
                        if (s->checks[i].capacity) {
                                cfg_err(f, cfg_key(q, cfg_idx(p, "checks", i), "capacity"),
                                        "every check is a capacity check: at least one must "
                                        "decide whether the service is up");
                                return;
                        }
        }
        if (s->combine == COMBINE_AT_LEAST && s->combine_n > deciding)
                cfg_err(f, "combine",
                        "\"combine\" (%u) must be at most the number of checks that are not "
                        "capacity checks (%zu)",
                        s->combine_n, deciding);
}

void config_operating_service(struct cfile *f, const struct config *c,
                              const struct daemon_faults *faults, struct service_cfg *s)
{
        parse_degraded(f, c, faults, s);
        parse_drain(f, s);
        parse_dampening(f, s);
        parse_hooks(f, f->root, &s->hooks);
        check_capacity(f, s);
}

void config_operating_service_clear(struct service_cfg *s)
{
        attrs_free(&s->degraded);
        attrs_free(&s->draining);
        hooks_free(&s->hooks);
}
