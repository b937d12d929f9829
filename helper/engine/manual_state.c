/* manual_state.c: the manual state file (manual_state.h): strict parsing (it
 * is our own file: anything unexpected means corruption, never "nothing
 * disabled"), and an atomic write. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "file_read.h"
#include "manual_state.h"

#define STATE_VERSION  1
#define STATE_FILE_MAX (16 << 20)

static void entry_free(struct manual_entry *e)
{
        free(e->service);
        free(e->reason);
}

void manual_state_free(struct manual_state *st)
{
        for (size_t i = 0; i < st->n; i++)
                entry_free(&st->entries[i]);
        free(st->entries);
        free(st->slots);
        free(st->withdraw_all_reason);
        *st = (struct manual_state){0};
}

/* FNV-1a: service names are short and not chosen by an attacker. */
static size_t name_hash(const char *s)
{
        uint64_t h = 14695981039346656037ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return (size_t)h;
}

/* The slot holding service, or the empty slot where it would go. */
static size_t slot_of(const struct manual_state *st, const char *service)
{
        size_t mask = st->n_slots - 1, i = name_hash(service) & mask;
        while (st->slots[i] && strcmp(st->entries[st->slots[i] - 1].service, service) != 0)
                i = (i + 1) & mask;
        return i;
}

static int index_grow(struct manual_state *st, size_t want)
{
        if (want * 2 <= st->n_slots)
                return 0;
        size_t n = st->n_slots ? st->n_slots : 16;
        while (n < want * 2)
                n *= 2;
        size_t *slots = calloc(n, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        free(st->slots);
        st->slots = slots;
        st->n_slots = n;
        for (size_t i = 0; i < st->n; i++)
                st->slots[slot_of(st, st->entries[i].service)] = i + 1;
        return 0;
}

struct manual_entry *manual_state_find(struct manual_state *st, const char *service)
{
        if (!st->n)
                return NULL;
        size_t i = slot_of(st, service);
        return st->slots[i] ? &st->entries[st->slots[i] - 1] : NULL;
}

int manual_state_set(struct manual_state *st, const char *service, const char *reason,
                     uint64_t since_usec, uint64_t drain_until_usec, bool by_withdraw_all)
{
        char *r = strdup(reason ? reason : "");
        if (!r)
                return -ENOMEM;
        struct manual_entry *e = manual_state_find(st, service);
        if (!e) {
                char *name = strdup(service);
                if (!name || index_grow(st, st->n + 1) < 0) {
                        free(name);
                        free(r);
                        return -ENOMEM;
                }
                if (st->n == st->cap) {
                        size_t cap = st->cap ? st->cap * 2 : 16;
                        struct manual_entry *n = reallocarray(st->entries, cap, sizeof(*n));
                        if (!n) {
                                free(name);
                                free(r);
                                return -ENOMEM;
                        }
                        st->entries = n;
                        st->cap = cap;
                }
                st->slots[slot_of(st, service)] = st->n + 1;
                e = &st->entries[st->n++];
                *e = (struct manual_entry){.service = name};
        }
        free(e->reason);
        e->reason = r;
        e->since_usec = since_usec;
        e->drain_until_usec = drain_until_usec;
        e->by_withdraw_all = by_withdraw_all;
        return 0;
}

bool manual_state_remove(struct manual_state *st, const char *service)
{
        if (!st->n)
                return false;
        size_t mask = st->n_slots - 1, hole = slot_of(st, service);
        if (!st->slots[hole])
                return false;
        size_t i = st->slots[hole] - 1, last = st->n - 1;
        entry_free(&st->entries[i]);
        /* Backward-shift deletion: later members of the probe run move up
         * so that no lookup stops early at the hole. */
        st->slots[hole] = 0;
        for (size_t j = (hole + 1) & mask; st->slots[j]; j = (j + 1) & mask) {
                size_t home = name_hash(st->entries[st->slots[j] - 1].service) & mask;
                if (((j - home) & mask) >= ((j - hole) & mask)) {
                        st->slots[hole] = st->slots[j];
                        st->slots[j] = 0;
                        hole = j;
                }
        }
        if (i != last) {
                st->slots[slot_of(st, st->entries[last].service)] = i + 1;
                st->entries[i] = st->entries[last];
        }
        st->n--;
        return true;
}

static bool only_keys(json_t *o, const char *const *keys, char *err, size_t errlen,
                      const char *where)
{
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
                bool ok = false;
                for (size_t i = 0; keys[i] && !ok; i++)
                        ok = strcmp(keys[i], k) == 0;
                if (!ok) {
                        snprintf(err, errlen, "unknown key \"%s\" in %s", k, where);
                        return false;
                }
        }
        return true;
}

static bool get_time(json_t *o, const char *key, bool required, uint64_t *out, char *err,
                     size_t errlen, const char *where)
{
        json_t *v = json_object_get(o, key);
        if (!v) {
                if (required)
                        snprintf(err, errlen, "%s: missing \"%s\"", where, key);
                return !required;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
                snprintf(err, errlen, "%s: \"%s\" must be a non-negative integer", where, key);
                return false;
        }
        *out = (uint64_t)json_integer_value(v);
        return true;
}

static bool get_reason(json_t *o, const char **out, char *err, size_t errlen, const char *where)
{
        json_t *v = json_object_get(o, "reason");
        if (!json_is_string(v)) {
                snprintf(err, errlen, "%s: \"reason\" must be a string", where);
                return false;
        }
        *out = json_string_value(v);
        return true;
}

static int parse_root(json_t *root, struct manual_state *st, char *err, size_t errlen)
{
        static const char *const root_keys[] = {"version", "withdraw_all", "services", NULL};
        static const char *const wa_keys[] = {"reason", "since_usec", NULL};
        static const char *const svc_keys[] = {"reason", "since_usec", "drain_until_usec",
                                               "withdraw_all", NULL};
        char where[300];

        if (!json_is_object(root)) {
                snprintf(err, errlen, "the file must hold a JSON object");
                return -EBADMSG;
        }
        if (!only_keys(root, root_keys, err, errlen, "the state file"))
                return -EBADMSG;
        json_t *ver = json_object_get(root, "version");
        if (!json_is_integer(ver) || json_integer_value(ver) != STATE_VERSION) {
                snprintf(err, errlen, "\"version\" must be %d", STATE_VERSION);
                return -EBADMSG;
        }
        json_t *wa = json_object_get(root, "withdraw_all");
        if (wa) {
                const char *reason;
                if (!json_is_object(wa)) {
                        snprintf(err, errlen, "\"withdraw_all\" must be an object");
                        return -EBADMSG;
                }
                if (!only_keys(wa, wa_keys, err, errlen, "\"withdraw_all\"") ||
                    !get_reason(wa, &reason, err, errlen, "\"withdraw_all\"") ||
                    !get_time(wa, "since_usec", true, &st->withdraw_all_since_usec, err, errlen,
                              "\"withdraw_all\""))
                        return -EBADMSG;
                st->withdraw_all = true;
                st->withdraw_all_reason = strdup(reason);
                if (!st->withdraw_all_reason)
                        return -ENOMEM;
        }
        json_t *svcs = json_object_get(root, "services");
        if (!json_is_object(svcs)) {
                snprintf(err, errlen, "\"services\" must be an object");
                return -EBADMSG;
        }
        const char *name;
        json_t *o;
        json_object_foreach(svcs, name, o)
        {
                const char *reason;
                uint64_t since = 0, until = 0;
                snprintf(where, sizeof(where), "service \"%.200s\"", name);
                if (!json_is_object(o)) {
                        snprintf(err, errlen, "%s must be an object", where);
                        return -EBADMSG;
                }
                json_t *bywa = json_object_get(o, "withdraw_all");
                if (!only_keys(o, svc_keys, err, errlen, where) ||
                    !get_reason(o, &reason, err, errlen, where) ||
                    !get_time(o, "since_usec", true, &since, err, errlen, where) ||
                    !get_time(o, "drain_until_usec", false, &until, err, errlen, where))
                        return -EBADMSG;
                if (bywa && !json_is_boolean(bywa)) {
                        snprintf(err, errlen, "%s: \"withdraw_all\" must be a boolean", where);
                        return -EBADMSG;
                }
                if (!name[0] || manual_state_find(st, name)) {
                        snprintf(err, errlen, "%s: bad or repeated name", where);
                        return -EBADMSG;
                }
                if (manual_state_set(st, name, reason, since, until, json_is_true(bywa)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int manual_state_parse(const char *text, size_t len, struct manual_state *st, char *err,
                       size_t errlen)
{
        json_error_t je;

        *st = (struct manual_state){0};
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
                snprintf(err, errlen, "%d:%d: invalid JSON: %s", je.line, je.column, je.text);
                return -EBADMSG;
        }
        int r = parse_root(root, st, err, errlen);
        json_decref(root);
        if (r < 0)
                manual_state_free(st);
        return r;
}

int manual_state_load(const char *path, struct manual_state *st, char *err, size_t errlen)
{
        char *buf;
        size_t n;

        *st = (struct manual_state){0};
        int r = file_read_regular(path, STATE_FILE_MAX, &buf, &n, err, errlen);
        if (r == -ENOENT)
                return 0;
        /* A FIFO or a device in its place is not our file: refusing it
         * (rather than reading "nothing disabled") keeps the disables. */
        if (r == -EISDIR || r == -EINVAL)
                return r; /* not a regular file: why says what it is */
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0) {
                snprintf(err, errlen, "cannot read it");
                return r;
        }
        r = manual_state_parse(buf, n, st, err, errlen);
        free(buf);
        return r;
}

char *manual_state_dump(const struct manual_state *st)
{
        json_t *root = json_pack("{s:i}", "version", STATE_VERSION);
        json_t *svcs = json_object();
        if (!root || !svcs)
                goto oom;
        if (st->withdraw_all &&
            json_object_set_new(root, "withdraw_all",
                                json_pack("{s:s,s:I}", "reason",
                                          st->withdraw_all_reason ? st->withdraw_all_reason : "",
                                          "since_usec", (json_int_t)st->withdraw_all_since_usec)) <
                0)
                goto oom;
        for (size_t i = 0; i < st->n; i++) {
                const struct manual_entry *e = &st->entries[i];
                json_t *o = json_pack("{s:s,s:I}", "reason", e->reason, "since_usec",
                                      (json_int_t)e->since_usec);
                if (!o)
                        goto oom;
                if (e->drain_until_usec)
                        json_object_set_new(o, "drain_until_usec",
                                            json_integer((json_int_t)e->drain_until_usec));
                if (e->by_withdraw_all)
                        json_object_set_new(o, "withdraw_all", json_true());
                if (json_object_set_new(svcs, e->service, o) < 0)
                        goto oom;
        }
        json_object_set_new(root, "services", svcs);
        svcs = NULL;
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(root);
        return text;
oom:
        json_decref(svcs);
        json_decref(root);
        return NULL;
}

int manual_state_save(const char *path, const struct manual_state *st)
{
        char *text = manual_state_dump(st), *line = NULL;
        if (!text || asprintf(&line, "%s\n", text) < 0) {
                free(text);
                return -ENOMEM;
        }
        int r = atomic_write_file(path, line, 0644);
        free(line);
        free(text);
        return r;
}
