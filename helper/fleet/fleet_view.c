/* fleet_view.c: the fleet's services and PoPs from etcd's keys
 * (fleet_view.h): a hash of service names, each with its PoPs sorted by
 * name (a fleet has tens of PoPs, a PoP up to tens of thousands of
 * services). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_view.h"

#define SERVICES_SEGMENT "services/"

struct svc {
        char *name;
        struct fleet_entry *e;
        size_t n;
        struct svc *next; /* hash chain */
};

struct fleet_view {
        char *prefix;
        size_t prefix_len;
        struct svc **buckets;
        size_t n_buckets, n_svcs;
};

static uint64_t hash(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

struct fleet_view *fleet_view_new(const char *prefix)
{
        struct fleet_view *v = calloc(1, sizeof(*v));
        if (!v)
                return NULL;
        v->prefix = strdup(prefix);
        v->n_buckets = 64;
        v->buckets = calloc(v->n_buckets, sizeof(*v->buckets));
        if (!v->prefix || !v->buckets) {
                free(v->prefix);
                free(v->buckets);
                free(v);
                return NULL;
        }
        v->prefix_len = strlen(prefix);
        return v;
}

static void entry_clear(struct fleet_entry *e)
{
        free(e->pop);
        free(e->reason);
}

static void svc_free(struct svc *s)
{
        for (size_t i = 0; i < s->n; i++)
                entry_clear(&s->e[i]);
        free(s->e);
        free(s->name);
        free(s);
}

void fleet_view_clear(struct fleet_view *v)
{
        for (size_t b = 0; b < v->n_buckets; b++) {
                struct svc *s = v->buckets[b];
                while (s) {
                        struct svc *next = s->next;
                        svc_free(s);
                        s = next;
                }
                v->buckets[b] = NULL;
        }
        v->n_svcs = 0;
}

void fleet_view_free(struct fleet_view *v)
{
        if (!v)
                return;
        fleet_view_clear(v);
        free(v->buckets);
        free(v->prefix);
        free(v);
}

static struct svc *svc_find(const struct fleet_view *v, const char *name)
{
        for (struct svc *s = v->buckets[hash(name) % v->n_buckets]; s; s = s->next)
                if (strcmp(s->name, name) == 0)
                        return s;
        return NULL;
}

static void grow(struct fleet_view *v)
{
        size_t nb = v->n_buckets * 4;
        struct svc **b = calloc(nb, sizeof(*b));
        if (!b)
                return; /* longer chains, still correct */
        for (size_t i = 0; i < v->n_buckets; i++) {
                struct svc *s = v->buckets[i];
                while (s) {
                        struct svc *next = s->next;
                        size_t k = hash(s->name) % nb;
                        s->next = b[k];
                        b[k] = s;
                        s = next;
                }
        }
        free(v->buckets);
        v->buckets = b;
        v->n_buckets = nb;
}

static struct svc *svc_get(struct fleet_view *v, const char *name)
{
        struct svc *s = svc_find(v, name);
        if (s)
                return s;
        if (v->n_svcs >= v->n_buckets)
                grow(v);
        s = calloc(1, sizeof(*s));
        if (!s || !(s->name = strdup(name))) {
                free(s);
                return NULL;
        }
        size_t k = hash(name) % v->n_buckets;
        s->next = v->buckets[k];
        v->buckets[k] = s;
        v->n_svcs++;
        return s;
}

static void svc_drop(struct fleet_view *v, struct svc *s)
{
        struct svc **pp = &v->buckets[hash(s->name) % v->n_buckets];
        while (*pp != s)
                pp = &(*pp)->next;
        *pp = s->next;
        svc_free(s);
        v->n_svcs--;
}

/* Splits KEY = PREFIX "services/" SERVICE "/" POP; service and pop are
 * copied into buf (NUL-separated). 0 when the key is not of that form. */
static int split_key(const struct fleet_view *v, const char *key, char *buf, size_t size,
                     const char **service, const char **pop)
{
        if (strncmp(key, v->prefix, v->prefix_len) != 0)
                return 0;
        const char *rest = key + v->prefix_len;
        if (strncmp(rest, SERVICES_SEGMENT, strlen(SERVICES_SEGMENT)) != 0)
                return 0;
        rest += strlen(SERVICES_SEGMENT);
        const char *slash = strchr(rest, '/');
        if (!slash || slash == rest || !slash[1] || strchr(slash + 1, '/'))
                return 0;
        size_t len = strlen(rest);
        if (len + 1 > size)
                return 0;
        memcpy(buf, rest, len + 1);
        buf[slash - rest] = '\0';
        *service = buf;
        *pop = buf + (slash - rest) + 1;
        return 1;
}

static int parse_value(const char *value, struct fleet_entry *e)
{
        json_error_t err;
        json_t *o = json_loads(value, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(o)) {
                json_decref(o);
                return -EBADMSG;
        }
        json_t *a = json_object_get(o, "announced"), *h = json_object_get(o, "held"),
               *st = json_object_get(o, "state"), *si = json_object_get(o, "since"),
               *r = json_object_get(o, "reason");
        int ret = -EBADMSG;
        if (!json_is_boolean(a) || (h && !json_is_boolean(h)) || !json_is_string(st) ||
            (si && !json_is_integer(si)) || (r && !json_is_string(r)) ||
            strlen(json_string_value(st)) >= FLEET_STATE_MAX)
                goto out;
        e->announced = json_is_true(a);
        e->held = json_is_true(h);
        snprintf(e->state, sizeof(e->state), "%s", json_string_value(st));
        e->since = si ? json_integer_value(si) : 0;
        e->reason = strdup(r ? json_string_value(r) : "");
        ret = e->reason ? 0 : -ENOMEM;
out:
        json_decref(o);
        return ret;
}

static bool entry_same(const struct fleet_entry *a, const struct fleet_entry *b)
{
        return a->announced == b->announced && a->held == b->held &&
               strcmp(a->state, b->state) == 0 && a->since == b->since &&
               strcmp(a->reason, b->reason) == 0;
}

/* Removes pop from s; 1 when it was there. */
static int remove_pop(struct fleet_view *v, struct svc *s, const char *pop)
{
        for (size_t i = 0; i < s->n; i++) {
                if (strcmp(s->e[i].pop, pop) != 0)
                        continue;
                entry_clear(&s->e[i]);
                memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof(*s->e));
                s->n--;
                if (s->n == 0)
                        svc_drop(v, s);
                return 1;
        }
        return 0;
}

int fleet_view_apply(struct fleet_view *v, const char *key, const char *value, int64_t mod_revision,
                     char service[FLEET_NAME_MAX])
{
        char buf[2 * FLEET_NAME_MAX];
        const char *svc_name, *pop;

        if (!split_key(v, key, buf, sizeof(buf), &svc_name, &pop) ||
            strlen(svc_name) >= FLEET_NAME_MAX)
                return 0;
        snprintf(service, FLEET_NAME_MAX, "%s", svc_name);
        struct svc *s = svc_find(v, svc_name);
        for (size_t i = 0; s && i < s->n; i++)
                if (strcmp(s->e[i].pop, pop) == 0 && s->e[i].mod_revision > mod_revision)
                        return 0;
        if (!value)
                return s ? remove_pop(v, s, pop) : 0;

        struct fleet_entry ne = {.mod_revision = mod_revision};
        int r = parse_value(value, &ne);
        if (r < 0) {
                entry_clear(&ne);
                if (s)
                        remove_pop(v, s, pop);
                return r;
        }
        if (!s && !(s = svc_get(v, svc_name))) {
                entry_clear(&ne);
                return -ENOMEM;
        }
        size_t i = 0;
        while (i < s->n && strcmp(s->e[i].pop, pop) < 0)
                i++;
        if (i < s->n && strcmp(s->e[i].pop, pop) == 0) {
                bool same = entry_same(&s->e[i], &ne);
                ne.pop = s->e[i].pop;
                s->e[i].pop = NULL;
                entry_clear(&s->e[i]);
                s->e[i] = ne;
                return same ? 0 : 1;
        }
        ne.pop = strdup(pop);
        struct fleet_entry *grown = ne.pop ? realloc(s->e, (s->n + 1) * sizeof(*s->e)) : NULL;
        if (!grown) {
                entry_clear(&ne);
                if (s->n == 0)
                        svc_drop(v, s);
                return -ENOMEM;
        }
        s->e = grown;
        memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof(*s->e));
        s->e[i] = ne;
        s->n++;
        return 1;
}

void fleet_view_forget(struct fleet_view *v, const char *service)
{
        struct svc *s = svc_find(v, service);
        if (s)
                svc_drop(v, s);
}

unsigned fleet_view_announcing(const struct fleet_view *v, const char *service,
                               const char *except_pop)
{
        const struct svc *s = svc_find(v, service);
        unsigned n = 0;
        for (size_t i = 0; s && i < s->n; i++)
                if (s->e[i].announced && !(except_pop && strcmp(s->e[i].pop, except_pop) == 0))
                        n++;
        return n;
}

const struct fleet_entry *fleet_view_service(const struct fleet_view *v, const char *service,
                                             size_t *n)
{
        const struct svc *s = svc_find(v, service);
        *n = s ? s->n : 0;
        return s ? s->e : NULL;
}

void fleet_view_each(const struct fleet_view *v,
                     void (*fn)(void *ud, const char *service, const struct fleet_entry *e,
                                size_t n),
                     void *ud)
{
        for (size_t b = 0; b < v->n_buckets; b++)
                for (const struct svc *s = v->buckets[b]; s; s = s->next)
                        fn(ud, s->name, s->e, s->n);
}

char *fleet_key(const char *prefix, const char *service, const char *pop)
{
        char *k;
        if (asprintf(&k, "%s" SERVICES_SEGMENT "%s/%s", prefix, service, pop) < 0)
                return NULL;
        return k;
}

char *fleet_value(bool announced, bool held, const char *state, int64_t since, const char *reason)
{
        json_t *o =
            json_pack("{s:b, s:b, s:s, s:I, s:s}", "announced", announced, "held", held, "state",
                      state, "since", (json_int_t)since, "reason", reason ? reason : "");
        if (!o)
                return NULL;
        char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        return text;
}
