/* exabgp_proto.c: splitting ExaBGP's output into lines and telling acks
 * from JSON events (encoder json: one object per line, "type" says what it
 * is; "state" carries neighbor.state connected/up/down(+reason), a
 * "notification" whose value is the string "shutdown" says ExaBGP stops).
 *
 * ExaBGP 6 answers as 4.x does, a plain "done" or "error" per command (its
 * JSON acks exist but are never switched on: reactor/api/processes.py keeps
 * _ackjson false), and its events are the same JSON (response/json.py).
 * What is new: a refusal with a reason is two lines, "error: WHY" and then
 * "error" (processes.py answer_error_sync/answer_error): only the second
 * one is the ack. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "exabgp_proto.h"

void exabgp_lines_init(struct exabgp_lines *l)
{
        *l = (struct exabgp_lines){0};
}

void exabgp_lines_free(struct exabgp_lines *l)
{
        free(l->buf);
        *l = (struct exabgp_lines){0};
}

int exabgp_lines_feed(struct exabgp_lines *l, const char *data, size_t n, exabgp_line_fn fn,
                      void *userdata)
{
        int dropped = 0;

        if (!l->buf) {
                l->buf = malloc(EXABGP_LINE_MAX + 1);
                if (!l->buf)
                        return -ENOMEM;
        }
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t seg = nl ? (size_t)(nl - data) : n;

                if (l->discarding) {
                        /* already counted when the line overflowed */
                } else if (l->len + seg > EXABGP_LINE_MAX) {
                        l->discarding = true;
                        l->len = 0;
                        dropped++;
                } else {
                        memcpy(l->buf + l->len, data, seg);
                        l->len += seg;
                }
                if (!nl)
                        break;
                if (!l->discarding) {
                        size_t len = l->len;
                        if (len > 0 && l->buf[len - 1] == '\r')
                                len--;
                        l->buf[len] = '\0';
                        l->len = 0;
                        fn(userdata, l->buf, len);
                }
                l->discarding = false;
                data = nl + 1;
                n -= seg + 1;
        }
        return dropped;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool word_is(const char *s, size_t len, const char *word)
{
        size_t wl = strlen(word);
        return len == wl && memcmp(s, word, wl) == 0;
}

static void copy_str(char *dst, size_t size, json_t *v)
{
        const char *s = json_string_value(v);
        dst[0] = '\0';
        if (s)
                snprintf(dst, size, "%s", s);
}

static void classify_json(const char *s, size_t len, struct exabgp_msg *m)
{
        json_t *root = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(root)) {
                json_decref(root);
                m->kind = EXABGP_MSG_GARBAGE;
                return;
        }
        const char *type = json_string_value(json_object_get(root, "type"));
        m->kind = EXABGP_MSG_IGNORED;
        if (type && strcmp(type, "state") == 0) {
                json_t *nb = json_object_get(root, "neighbor");
                const char *st = json_string_value(json_object_get(nb, "state"));
                if (!st) {
                        m->kind = EXABGP_MSG_GARBAGE;
                } else {
                        m->kind = EXABGP_MSG_STATE;
                        if (strcmp(st, "connected") == 0)
                                m->state = EXABGP_PEER_CONNECTED;
                        else if (strcmp(st, "up") == 0)
                                m->state = EXABGP_PEER_UP;
                        else if (strcmp(st, "down") == 0)
                                m->state = EXABGP_PEER_DOWN;
                        json_t *addr = json_object_get(nb, "address");
                        copy_str(m->peer, sizeof(m->peer), json_object_get(addr, "peer"));
                        copy_str(m->reason, sizeof(m->reason), json_object_get(nb, "reason"));
                }
        } else if (type && strcmp(type, "notification") == 0) {
                /* A BGP NOTIFICATION from a peer is also type "notification",
                 * with an object as value: only the string means shutdown. */
                const char *n = json_string_value(json_object_get(root, "notification"));
                if (n && strcmp(n, "shutdown") == 0)
                        m->kind = EXABGP_MSG_SHUTDOWN;
        }
        json_decref(root);
}

/* The WHY of "error: WHY", without the blank after the colon. */
static void refusal(const char *why, size_t len, struct exabgp_msg *m)
{
        while (len > 0 && is_blank(why[0])) {
                why++;
                len--;
        }
        if (len >= sizeof(m->reason))
                len = sizeof(m->reason) - 1;
        memcpy(m->reason, why, len);
        m->reason[len] = '\0';
        m->kind = EXABGP_MSG_REFUSAL;
}

void exabgp_classify(const char *line, size_t len, struct exabgp_msg *m)
{
        *m = (struct exabgp_msg){.kind = EXABGP_MSG_GARBAGE};

        while (len > 0 && is_blank(line[0])) {
                line++;
                len--;
        }
        while (len > 0 && is_blank(line[len - 1]))
                len--;

        if (len == 0)
                m->kind = EXABGP_MSG_EMPTY;
        else if (word_is(line, len, "done"))
                m->kind = EXABGP_MSG_DONE;
        else if (word_is(line, len, "error"))
                m->kind = EXABGP_MSG_ERROR;
        else if (len >= 6 && memcmp(line, "error:", 6) == 0)
                refusal(line + 6, len - 6, m);
        else if (len >= 8 && memcmp(line, "shutdown", 8) == 0 && (len == 8 || line[8] == ' '))
                /* the text encoder's "shutdown PID PPID", should the
                 * process be configured with encoder text */
                m->kind = EXABGP_MSG_SHUTDOWN;
        else if (line[0] == '{')
                classify_json(line, len, m);
}
