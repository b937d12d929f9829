/* control_proto.h: the control socket's wire format, as pure functions.
 * One JSON object per line each way. Requests:
 *   {"verb":"status"}                       {"verb":"status","service":"dns"}
 *   {"verb":"disable","service":"dns","reason":"maintenance"}
 *   {"verb":"enable","service":"dns"}       {"verb":"drain","service":"dns","reason":"..."}
 *   {"verb":"check","service":"dns"}        {"verb":"reload"}
 *   {"verb":"withdraw-all","reason":"...","confirm":true}
 *   {"verb":"disable","service":"dns","reason":"...","force":true}  (also drain)
 *   {"verb":"fleet"}                        {"verb":"fleet","service":"dns"}
 * Replies: {"ok":true, ...} or {"ok":false,"error":"..."}. The daemon and
 * anycast-healthctl share this file so they cannot drift apart. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "check_result.h"
#include "engine_ctl.h"

#define CONTROL_REQUEST_MAX 4096 /* bytes per request line, newline included */
#define CONTROL_REASON_MAX  256
#define CONTROL_SERVICE_MAX 128

enum control_verb {
        VERB_STATUS,
        VERB_DISABLE,
        VERB_ENABLE,
        VERB_DRAIN,
        VERB_CHECK,
        VERB_RELOAD,
        VERB_WITHDRAW_ALL,
        VERB_FLEET, /* appended: the numbers above stay what they were */
};

struct control_request {
        enum control_verb verb;
        const char *service; /* NULL when not given (status: every service) */
        const char *reason;  /* NULL when not given */
        bool confirm;
        bool force;   /* disable, drain: go ahead even below the fleet floor */
        json_t *root; /* owns the strings above */
};

const char *control_verb_name(enum control_verb v);
/* Whether a verb changes anything (everything but status and fleet). */
bool control_verb_mutates(enum control_verb v);
/* The keys a verb's request may carry and must carry (CONTROL_KEY_*): the
 * daemon checks requests against them, the CLI its arguments. */
enum {
        CONTROL_KEY_SERVICE = 1,
        CONTROL_KEY_REASON = 2,
        CONTROL_KEY_CONFIRM = 4,
        CONTROL_KEY_FORCE = 8,
};
unsigned control_verb_allows(enum control_verb v);
unsigned control_verb_requires(enum control_verb v);

/* Parses one request (without its newline). Returns 0 with rq filled
 * (release with control_request_clear), or -EINVAL with a message for
 * the client in err. */
int control_request_parse(const char *line, size_t len, struct control_request *rq, char *err,
                          size_t errlen);
void control_request_clear(struct control_request *rq);

/* Builds a request object (for the CLI); service and reason may be NULL.
 * "force" is sent only when true, so a request without it stays what an
 * older daemon understands. */
json_t *control_request_new(enum control_verb v, const char *service, const char *reason,
                            bool confirm, bool force);

/* Reply lines, newline-terminated, malloc'd. ok takes a reference to data
 * (an object whose members join "ok":true; may be NULL). */
char *control_reply_ok(json_t *data);
char *control_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The status of services as JSON: {"pop":..,"now":..,"services":[..]};
 * times are unix seconds, durations microseconds. */
json_t *control_status_json(const char *pop, uint64_t now_usec, const struct service_status *svcs,
                            size_t n);

const char *route_confirm_name(enum route_confirm c);
const char *check_state_name(enum check_state s);
