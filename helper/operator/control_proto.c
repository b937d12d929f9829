/* control_proto.c: see control_proto.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycast-healthd-check.h"
#include "control_proto.h"

static const char *const verb_names[] = {
    [VERB_STATUS] = "status",
    [VERB_DISABLE] = "disable",
    [VERB_ENABLE] = "enable",
    [VERB_DRAIN] = "drain",
    [VERB_CHECK] = "check",
    [VERB_RELOAD] = "reload",
    [VERB_WITHDRAW_ALL] = "withdraw-all",
    [VERB_FLEET] = "fleet",
};
#define N_VERBS (sizeof(verb_names) / sizeof(verb_names[0]))

/* Which keys each verb takes; "verb" always. The CLI asks the same table. */
enum {
        K_SERVICE = CONTROL_KEY_SERVICE,
        K_REASON = CONTROL_KEY_REASON,
        K_CONFIRM = CONTROL_KEY_CONFIRM,
        K_FORCE = CONTROL_KEY_FORCE
};
static const struct {
        unsigned allowed, required;
} verb_keys[] = {
    [VERB_STATUS] = {K_SERVICE, 0},
    [VERB_DISABLE] = {K_SERVICE | K_REASON | K_FORCE, K_SERVICE | K_REASON},
    [VERB_ENABLE] = {K_SERVICE, K_SERVICE},
    [VERB_DRAIN] = {K_SERVICE | K_REASON | K_FORCE, K_SERVICE},
    [VERB_CHECK] = {K_SERVICE, K_SERVICE},
    [VERB_RELOAD] = {0, 0},
    [VERB_WITHDRAW_ALL] = {K_REASON | K_CONFIRM, K_REASON | K_CONFIRM},
    [VERB_FLEET] = {K_SERVICE, 0},
};

const char *control_verb_name(enum control_verb v)
{
        return (size_t)v < N_VERBS ? verb_names[v] : "?";
}

unsigned control_verb_allows(enum control_verb v)
{
        return (size_t)v < N_VERBS ? verb_keys[v].allowed : 0;
}

unsigned control_verb_requires(enum control_verb v)
{
        return (size_t)v < N_VERBS ? verb_keys[v].required : 0;
}

bool control_verb_mutates(enum control_verb v)
{
        return v != VERB_STATUS && v != VERB_FLEET;
}

static bool printable(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

#define FAIL(...)                                                                                  \
        do {                                                                                       \
                snprintf(err, errlen, __VA_ARGS__);                                                \
                goto fail;                                                                         \
        } while (0)

int control_request_parse(const char *line, size_t len, struct control_request *rq, char *err,
                          size_t errlen)
{
        json_error_t je;
        const char *key;
        json_t *v;
        size_t i;

        *rq = (struct control_request){0};
        rq->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
        if (!rq->root)
                FAIL("bad request: not JSON (%s)", je.text);
        if (!json_is_object(rq->root))
                FAIL("bad request: expected a JSON object");
        v = json_object_get(rq->root, "verb");
        if (!v)
                FAIL("bad request: missing \"verb\"");
        if (!json_is_string(v))
                FAIL("bad request: \"verb\" must be a string");
        for (i = 0; i < N_VERBS; i++)
                if (strcmp(json_string_value(v), verb_names[i]) == 0)
                        break;
        if (i == N_VERBS)
                FAIL("unknown verb \"%.64s\" (expected status, disable, enable, drain, check, "
                     "reload, withdraw-all or fleet)",
                     json_string_value(v));
        rq->verb = (enum control_verb)i;
        unsigned allowed = verb_keys[i].allowed, seen = 0;

        json_object_foreach(rq->root, key, v)
        {
                unsigned k = strcmp(key, "service") == 0   ? K_SERVICE
                             : strcmp(key, "reason") == 0  ? K_REASON
                             : strcmp(key, "confirm") == 0 ? K_CONFIRM
                             : strcmp(key, "force") == 0   ? K_FORCE
                             : strcmp(key, "verb") == 0    ? ~0u
                                                           : 0;
                if (k == ~0u)
                        continue;
                if (!(k & allowed))
                        FAIL("unknown key \"%.64s\" for verb \"%s\"", key, verb_names[i]);
                seen |= k;
                if (k == K_CONFIRM) {
                        if (!json_is_boolean(v))
                                FAIL("\"confirm\" must be true or false");
                        rq->confirm = json_is_true(v);
                        continue;
                }
                if (k == K_FORCE) {
                        if (!json_is_boolean(v))
                                FAIL("\"force\" must be true or false");
                        rq->force = json_is_true(v);
                        continue;
                }
                if (!json_is_string(v))
                        FAIL("\"%s\" must be a string", key);
                const char *s = json_string_value(v);
                size_t max = k == K_SERVICE ? CONTROL_SERVICE_MAX : CONTROL_REASON_MAX;
                if (!s[0])
                        FAIL("\"%s\" must not be empty", key);
                if (strlen(s) > max)
                        FAIL("\"%s\" is longer than %zu bytes", key, max);
                if (!printable(s))
                        FAIL("\"%s\" must not contain control characters", key);
                if (k == K_SERVICE)
                        rq->service = s;
                else
                        rq->reason = s;
        }
        unsigned missing = verb_keys[i].required & ~seen;
        if (missing & K_SERVICE)
                FAIL("\"%s\" needs a service", verb_names[i]);
        if (missing & K_REASON)
                FAIL("\"%s\" needs a reason", verb_names[i]);
        if (rq->verb == VERB_WITHDRAW_ALL && !rq->confirm)
                FAIL("withdraw-all withdraws every prefix of this PoP; refused without "
                     "\"confirm\": true");
        return 0;
fail:
        control_request_clear(rq);
        return -EINVAL;
}

void control_request_clear(struct control_request *rq)
{
        json_decref(rq->root);
        *rq = (struct control_request){0};
}

json_t *control_request_new(enum control_verb v, const char *service, const char *reason,
                            bool confirm, bool force)
{
        json_t *o = json_object();
        json_object_set_new(o, "verb", json_string(control_verb_name(v)));
        if (service)
                json_object_set_new(o, "service", json_string(service));
        if (reason)
                json_object_set_new(o, "reason", json_string(reason));
        if (v == VERB_WITHDRAW_ALL)
                json_object_set_new(o, "confirm", json_boolean(confirm));
        if (force)
                json_object_set_new(o, "force", json_true());
        return o;
}

static char *dump_line(json_t *o)
{
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
        json_decref(o);
        if (!s)
                abort();
        size_t n = strlen(s);
        char *line = realloc(s, n + 2);
        if (!line)
                abort();
        line[n] = '\n';
        line[n + 1] = '\0';
        return line;
}

char *control_reply_ok(json_t *data)
{
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_true());
        if (data)
                json_object_update(o, data);
        return dump_line(o);
}

char *control_reply_error(const char *fmt, ...)
{
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_false());
        json_object_set_new(o, "error", json_string(buf));
        return dump_line(o);
}

const char *route_confirm_name(enum route_confirm c)
{
        switch (c) {
        case CONFIRM_NONE:
                return "none";
        case CONFIRM_PENDING:
                return "pending";
        case CONFIRM_CONFIRMED:
                return "confirmed";
        case CONFIRM_FAILED:
                return "failed";
        case CONFIRM_DRIFT:
                return "drift";
        case CONFIRM_STUCK:
                return "stuck";
        }
        return "?";
}

const char *check_state_name(enum check_state s)
{
        switch (s) {
        case CHECK_UNKNOWN:
                return "unknown";
        case CHECK_UP:
                return "up";
        case CHECK_DOWN:
                return "down";
        }
        return "?";
}

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *unix_seconds(uint64_t usec)
{
        return usec ? json_integer((json_int_t)(usec / 1000000)) : json_null();
}

static json_t *check_json(const struct check_status *c)
{
        json_t *o = json_object();
        json_object_set_new(o, "plugin", str_or_null(c->plugin));
        json_object_set_new(o, "state", json_string(check_state_name(c->state)));
        json_object_set_new(o, "last_result", json_string(check_result_name(c->last_result)));
        json_object_set_new(o, "message", str_or_null(c->last_message));
        json_object_set_new(o, "duration_usec", json_integer((json_int_t)c->last_duration_usec));
        json_object_set_new(o, "last_time", unix_seconds(c->last_time_usec));
        json_t *r = json_object();
        for (int i = AHC_OK; i <= AHC_UNKNOWN; i++)
                json_object_set_new(r, check_result_name(i),
                                    json_integer((json_int_t)c->results_by_code[i]));
        json_object_set_new(o, "results", r);
        json_object_set_new(o, "timeouts", json_integer((json_int_t)c->timeouts));
        return o;
}

static json_t *prefix_json(const struct prefix_status *p)
{
        json_t *o = json_object();
        json_object_set_new(o, "prefix", json_string(p->prefix));
        json_object_set_new(
            o, "route",
            json_string(p->action == ROUTE_NONE ? "none" : route_action_name(p->action)));
        json_object_set_new(o, "announced", json_boolean(p->action == ROUTE_ANNOUNCE));
        json_object_set_new(o, "as",
                            p->action == ROUTE_ANNOUNCE ? str_or_null(p->as_what) : json_null());
        json_object_set_new(o, "to",
                            p->action == ROUTE_ANNOUNCE ? json_string(audience_name(p->audience))
                                                        : json_null());
        json_object_set_new(o, "speaker", json_string(route_confirm_name(p->confirm)));
        return o;
}

static json_t *service_json(const struct service_status *s)
{
        json_t *o = json_object(), *a;
        json_object_set_new(o, "name", json_string(s->name));
        json_object_set_new(o, "state", json_string(svc_state_name(s->state)));
        json_object_set_new(o, "health", json_string(svc_state_name(s->health)));
        json_object_set_new(o, "since", unix_seconds(s->since_usec));
        json_object_set_new(o, "transitions", json_integer((json_int_t)s->transitions));
        json_object_set_new(o, "reason", str_or_null(s->reason));
        json_object_set_new(o, "disabled", json_boolean(s->disabled));
        json_object_set_new(o, "disabled_reason", str_or_null(s->disabled_reason));
        json_object_set_new(o, "drain_remaining_usec",
                            json_integer((json_int_t)s->drain_remaining_usec));
        json_object_set_new(o, "dampening",
                            json_pack("{s:f,s:b}", "penalty", s->dampening_penalty, "suppressed",
                                      s->dampening_suppressed));
        a = json_array();
        for (size_t i = 0; i < s->n_checks; i++)
                json_array_append_new(a, check_json(&s->checks[i]));
        json_object_set_new(o, "checks", a);
        a = json_array();
        for (size_t i = 0; i < s->n_prefixes; i++)
                json_array_append_new(a, prefix_json(&s->prefixes[i]));
        json_object_set_new(o, "prefixes", a);
        return o;
}

json_t *control_status_json(const char *pop, uint64_t now_usec, const struct service_status *svcs,
                            size_t n)
{
        json_t *o = json_object(), *a = json_array();
        json_object_set_new(o, "pop", json_string(pop));
        json_object_set_new(o, "now", json_integer((json_int_t)(now_usec / 1000000)));
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, service_json(&svcs[i]));
        json_object_set_new(o, "services", a);
        return o;
}
