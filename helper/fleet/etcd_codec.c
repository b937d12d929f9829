/* etcd_codec.c: etcd v3 JSON gateway bodies: requests built with jansson,
 * replies parsed strictly (a reply we misread could withdraw a fleet's
 * last announcement), with proto3 JSON's habits accepted: int64 as strings,
 * zero fields left out. */
#include "etcd_codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- base64 ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64_encode(const void *src, size_t len)
{
        const unsigned char *s = src;

        if (len / 3 >= SIZE_MAX / 4 - 1) {
                errno = ENOMEM;
                return NULL;
        }
        char *out = malloc((len + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        char *o = out;
        size_t i = 0;
        for (; i + 3 <= len; i += 3) {
                uint32_t t = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
                *o++ = b64_alphabet[t >> 18];
                *o++ = b64_alphabet[(t >> 12) & 63];
                *o++ = b64_alphabet[(t >> 6) & 63];
                *o++ = b64_alphabet[t & 63];
        }
        if (len - i == 1) {
                uint32_t t = (uint32_t)s[i] << 16;
                *o++ = b64_alphabet[t >> 18];
                *o++ = b64_alphabet[(t >> 12) & 63];
                *o++ = '=';
                *o++ = '=';
        } else if (len - i == 2) {
                uint32_t t = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
                *o++ = b64_alphabet[t >> 18];
                *o++ = b64_alphabet[(t >> 12) & 63];
                *o++ = b64_alphabet[(t >> 6) & 63];
                *o++ = '=';
        }
        *o = '\0';
        return out;
}

static int b64_value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int etcd_b64_decode(const char *src, size_t len, unsigned char **out, size_t *out_len)
{
        *out = NULL;
        *out_len = 0;
        if (len % 4)
                return -EBADMSG;
        size_t pad = 0;
        if (len && src[len - 1] == '=')
                pad = src[len - 2] == '=' ? 2 : 1;
        unsigned char *buf = malloc(len / 4 * 3 - pad + 1);
        if (!buf)
                return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < len; i += 4) {
                bool last = i + 4 == len;
                size_t data = last ? 4 - pad : 4;
                int v[4] = {0, 0, 0, 0};
                for (size_t j = 0; j < data; j++) {
                        v[j] = b64_value((unsigned char)src[i + j]);
                        if (v[j] < 0)
                                goto bad;
                }
                /* Non-zero bits past the data would decode the same as the
                 * canonical form: refuse them, so one text means one value. */
                if ((data == 2 && (v[1] & 15)) || (data == 3 && (v[2] & 3)))
                        goto bad;
                uint32_t t = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                             (uint32_t)v[3];
                buf[o++] = (unsigned char)(t >> 16);
                if (data > 2)
                        buf[o++] = (unsigned char)(t >> 8);
                if (data > 3)
                        buf[o++] = (unsigned char)t;
        }
        buf[o] = '\0';
        *out = buf;
        *out_len = o;
        return 0;
bad:
        free(buf);
        return -EBADMSG;
}

/* ---- request bodies ---- */

static json_t *json_b64(const void *p, size_t len)
{
        char *s = etcd_b64_encode(p, len);
        if (!s)
                return NULL;
        json_t *j = json_string_nocheck(s);
        free(s);
        return j;
}

static json_t *json_i64(int64_t v)
{
        char buf[24];
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return json_string_nocheck(buf);
}

/* Takes root: the body, or NULL (errno ENOMEM) when root or a part of it
 * could not be built. */
static char *dump(json_t *root, int failed)
{
        char *s = NULL;

        if (root && !failed)
                s = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        if (!s)
                errno = ENOMEM;
        return s;
}

static char *lease_id_body(int64_t id)
{
        json_t *o = json_object();
        return dump(o, !o || json_object_set_new(o, "ID", json_i64(id)));
}

char *etcd_req_lease_grant(int64_t ttl_sec)
{
        json_t *o = json_object();
        return dump(o, !o || json_object_set_new(o, "TTL", json_i64(ttl_sec)));
}

char *etcd_req_lease_keepalive(int64_t lease_id)
{
        return lease_id_body(lease_id);
}

char *etcd_req_lease_revoke(int64_t lease_id)
{
        return lease_id_body(lease_id);
}

static json_t *put_object(const char *key, const char *value, int64_t lease_id)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        if (!value)
                value = "";
        if (json_object_set_new(o, "key", json_b64(key, strlen(key))) ||
            json_object_set_new(o, "value", json_b64(value, strlen(value))) ||
            (lease_id && json_object_set_new(o, "lease", json_i64(lease_id)))) {
                json_decref(o);
                return NULL;
        }
        return o;
}

char *etcd_req_put(const char *key, const char *value, int64_t lease_id)
{
        if (!key) {
                errno = EINVAL;
                return NULL;
        }
        json_t *o = put_object(key, value, lease_id);
        return dump(o, !o);
}

char *etcd_req_delete(const char *key)
{
        if (!key) {
                errno = EINVAL;
                return NULL;
        }
        json_t *o = json_object();
        return dump(o, !o || json_object_set_new(o, "key", json_b64(key, strlen(key))));
}

/* Sets key and range_end so the range holds every key starting with
 * prefix, as clientv3's WithPrefix: range_end is the prefix with its last
 * byte below 0xff incremented (and the bytes after it dropped); with no
 * such byte, or an empty prefix, "\0", which etcd reads as "no end". An
 * empty prefix also needs key "\0": etcd refuses an empty key. */
static int set_prefix_range(json_t *o, const char *prefix)
{
        size_t n = strlen(prefix);
        unsigned char *end = malloc(n ? n : 1);
        if (!end)
                return -1;
        memcpy(end, prefix, n);
        size_t end_len = n;
        while (end_len && end[end_len - 1] == 0xff)
                end_len--;
        if (end_len) {
                end[end_len - 1]++;
        } else {
                end[0] = 0;
                end_len = 1;
        }
        int r = json_object_set_new(o, "key", n ? json_b64(prefix, n) : json_b64("", 1)) ||
                json_object_set_new(o, "range_end", json_b64(end, end_len));
        free(end);
        return r ? -1 : 0;
}

char *etcd_req_range_prefix(const char *prefix)
{
        if (!prefix) {
                errno = EINVAL;
                return NULL;
        }
        json_t *o = json_object();
        return dump(o, !o || set_prefix_range(o, prefix));
}

char *etcd_req_watch_prefix(const char *prefix, int64_t start_revision)
{
        if (!prefix) {
                errno = EINVAL;
                return NULL;
        }
        json_t *o = json_object();
        json_t *c = json_object();
        int failed =
            !o || !c || set_prefix_range(c, prefix) ||
            (start_revision && json_object_set_new(c, "start_revision", json_i64(start_revision)));
        if (o && c)
                failed |= json_object_set(o, "create_request", c);
        json_decref(c);
        return dump(o, failed);
}

/* Takes item; -1 when item is NULL or could not be added. */
static int append_op(json_t *arr, const char *name, json_t *item)
{
        json_t *op = json_object();
        if (!op || json_object_set_new(op, name, item)) {
                json_decref(op);
                if (!op)
                        json_decref(item);
                return -1;
        }
        return json_array_append_new(arr, op);
}

char *etcd_req_txn_put(const struct etcd_cmp *cmps, size_t n, const char *key, const char *value,
                       int64_t lease_id, const char *else_range_prefix)
{
        static const char *const target_name[] = {
            [ETCD_CMP_MOD] = "MOD",
            [ETCD_CMP_CREATE] = "CREATE",
            [ETCD_CMP_VERSION] = "VERSION",
        };
        static const char *const target_field[] = {
            [ETCD_CMP_MOD] = "mod_revision",
            [ETCD_CMP_CREATE] = "create_revision",
            [ETCD_CMP_VERSION] = "version",
        };

        if (!key || (n && !cmps)) {
                errno = EINVAL;
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                if (!cmps[i].key || (unsigned)cmps[i].target > ETCD_CMP_VERSION) {
                        errno = EINVAL;
                        return NULL;
                }
        }

        json_t *root = json_object();
        json_t *compare = json_array();
        json_t *success = json_array();
        json_t *failure = else_range_prefix ? json_array() : NULL;
        int failed = !root || !compare || !success || (else_range_prefix && !failure);

        for (size_t i = 0; !failed && i < n; i++) {
                const struct etcd_cmp *c = &cmps[i];
                json_t *o = json_object();
                /* The value is written even when 0: "create_revision":"0"
                 * is what makes the compare mean "key absent". */
                failed = !o || json_object_set_new(o, "key", json_b64(c->key, strlen(c->key))) ||
                         json_object_set_new(o, "target", json_string(target_name[c->target])) ||
                         json_object_set_new(o, "result", json_string("EQUAL")) ||
                         json_object_set_new(o, target_field[c->target], json_i64(c->value)) ||
                         json_array_append(compare, o);
                json_decref(o);
        }
        if (!failed)
                failed = append_op(success, "request_put", put_object(key, value, lease_id));
        if (!failed && failure) {
                json_t *r = json_object();
                failed = !r || set_prefix_range(r, else_range_prefix) ||
                         append_op(failure, "request_range", json_incref(r));
                json_decref(r);
        }
        if (!failed)
                failed = json_object_set(root, "compare", compare) ||
                         json_object_set(root, "success", success) ||
                         (failure && json_object_set(root, "failure", failure));
        json_decref(compare);
        json_decref(success);
        json_decref(failure);
        return dump(root, failed);
}

/* Puts only, one transaction: etcd applies them at one revision, and one
 * request carries up to --max-txn-ops (128 by default) of them. */
char *etcd_req_txn_puts(const struct etcd_put *puts, size_t n)
{
        if (n == 0 || !puts) {
                errno = EINVAL;
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                if (!puts[i].key) {
                        errno = EINVAL;
                        return NULL;
                }
        json_t *root = json_object();
        json_t *success = json_array();
        int failed = !root || !success;
        for (size_t i = 0; !failed && i < n; i++)
                failed = append_op(success, "request_put",
                                   put_object(puts[i].key, puts[i].value, puts[i].lease_id));
        if (!failed)
                failed = json_object_set(root, "success", success);
        json_decref(success);
        return dump(root, failed);
}

/* ---- replies ---- */

/* The body is etcd's error when it has a non-empty "error": the gateway's
 * {"error":"..","message":"..","code":N}, or a stream's
 * {"error":{"grpc_code":..,"message":..}}; LeaseGrantResponse's own string
 * "error" field lands here too, which is right: the grant failed. */
static int check_error(json_t *root, char **err)
{
        json_t *e = json_object_get(root, "error");
        if (!e || json_is_null(e) || (json_is_string(e) && json_string_length(e) == 0))
                return 0;

        const char *msg = NULL;
        json_t *m = json_object_get(root, "message");
        if (json_is_string(m) && json_string_length(m))
                msg = json_string_value(m);
        else if (json_is_string(e))
                msg = json_string_value(e);
        else if (json_is_object(e) && json_is_string(json_object_get(e, "message")))
                msg = json_string_value(json_object_get(e, "message"));
        if (!msg || !*msg)
                msg = "etcd error without a message";
        if (err) {
                *err = strdup(msg);
                if (!*err)
                        return -ENOMEM;
        }
        return -EPROTO;
}

static int load(const char *body, size_t len, json_t **root, char **err)
{
        json_error_t je;

        *root = NULL;
        if (!body)
                return -EBADMSG;
        json_t *r = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
        if (!r)
                return json_error_code(&je) == json_error_out_of_memory ? -ENOMEM : -EBADMSG;
        if (!json_is_object(r)) {
                json_decref(r);
                return -EBADMSG;
        }
        int rc = check_error(r, err);
        if (rc) {
                json_decref(r);
                return rc;
        }
        *root = r;
        return 0;
}

static void init_err(char **err)
{
        if (err)
                *err = NULL;
}

/* Digits only, optional '-' for signed: strtoll alone would take spaces,
 * '+' and "0x". */
static int digits(const char *s, bool sign)
{
        if (sign && *s == '-')
                s++;
        if (!*s)
                return -EBADMSG;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return -EBADMSG;
        return 0;
}

/* An int64 field: string or number, absent or null = 0. */
static int get_i64(json_t *o, const char *name, int64_t *out)
{
        json_t *v = json_object_get(o, name);

        *out = 0;
        if (!v || json_is_null(v))
                return 0;
        if (json_is_integer(v)) {
                *out = json_integer_value(v);
                return 0;
        }
        if (!json_is_string(v) || digits(json_string_value(v), true))
                return -EBADMSG;
        char *end;
        errno = 0;
        long long x = strtoll(json_string_value(v), &end, 10);
        if (errno || *end)
                return -EBADMSG;
        *out = x;
        return 0;
}

/* A uint64 field (cluster and member IDs use all 64 bits). */
static int get_u64(json_t *o, const char *name, uint64_t *out)
{
        json_t *v = json_object_get(o, name);

        *out = 0;
        if (!v || json_is_null(v))
                return 0;
        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0)
                        return -EBADMSG;
                *out = (uint64_t)json_integer_value(v);
                return 0;
        }
        if (!json_is_string(v) || digits(json_string_value(v), false))
                return -EBADMSG;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(json_string_value(v), &end, 10);
        if (errno || *end)
                return -EBADMSG;
        *out = x;
        return 0;
}

static int get_bool(json_t *o, const char *name, bool *out)
{
        json_t *v = json_object_get(o, name);

        *out = false;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return -EBADMSG;
        *out = json_is_true(v);
        return 0;
}

/* An object field: *out NULL when absent or null. */
static int get_object(json_t *o, const char *name, json_t **out)
{
        json_t *v = json_object_get(o, name);

        *out = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return -EBADMSG;
        *out = v;
        return 0;
}

static int get_array(json_t *o, const char *name, json_t **out)
{
        json_t *v = json_object_get(o, name);

        *out = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return -EBADMSG;
        *out = v;
        return 0;
}

static int parse_header(json_t *root, struct etcd_header *h)
{
        json_t *o;
        int r;

        memset(h, 0, sizeof(*h));
        if ((r = get_object(root, "header", &o)) || !o)
                return r;
        if ((r = get_i64(o, "revision", &h->revision)) ||
            (r = get_u64(o, "cluster_id", &h->cluster_id)) ||
            (r = get_u64(o, "member_id", &h->member_id)) ||
            (r = get_u64(o, "raft_term", &h->raft_term)))
                memset(h, 0, sizeof(*h));
        return r;
}

static void kv_clear(struct etcd_kv *kv)
{
        free(kv->key);
        free(kv->value);
        memset(kv, 0, sizeof(*kv));
}

static int parse_kv(json_t *o, struct etcd_kv *kv)
{
        unsigned char *buf;
        size_t len;
        int r;

        memset(kv, 0, sizeof(*kv));
        if (!json_is_object(o))
                return -EBADMSG;
        json_t *k = json_object_get(o, "key");
        if (!json_is_string(k) || json_string_length(k) == 0)
                return -EBADMSG;
        if ((r = etcd_b64_decode(json_string_value(k), json_string_length(k), &buf, &len)))
                return r;
        /* A NUL inside would make two keys read as one. */
        if (memchr(buf, '\0', len)) {
                free(buf);
                return -EBADMSG;
        }
        kv->key = (char *)buf;

        json_t *v = json_object_get(o, "value");
        if (!v || json_is_null(v)) {
                r = etcd_b64_decode("", 0, &buf, &len);
        } else if (json_is_string(v)) {
                r = etcd_b64_decode(json_string_value(v), json_string_length(v), &buf, &len);
        } else {
                r = -EBADMSG;
        }
        if (r)
                goto fail;
        kv->value = (char *)buf;
        kv->value_len = len;

        if ((r = get_i64(o, "create_revision", &kv->create_revision)) ||
            (r = get_i64(o, "mod_revision", &kv->mod_revision)) ||
            (r = get_i64(o, "version", &kv->version)) || (r = get_i64(o, "lease", &kv->lease)))
                goto fail;
        return 0;
fail:
        kv_clear(kv);
        return r;
}

void etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
        if (!kvs)
                return;
        for (size_t i = 0; i < n; i++)
                kv_clear(&kvs[i]);
        free(kvs);
}

/* arr: a JSON array of kvs or NULL (none). */
static int parse_kvs(json_t *arr, struct etcd_kv **kvs, size_t *n)
{
        *kvs = NULL;
        *n = 0;
        if (!arr || json_array_size(arr) == 0)
                return 0;
        size_t count = json_array_size(arr);
        struct etcd_kv *out = calloc(count, sizeof(*out));
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                int r = parse_kv(json_array_get(arr, i), &out[i]);
                if (r) {
                        etcd_kvs_free(out, i);
                        return r;
                }
        }
        *kvs = out;
        *n = count;
        return 0;
}

int etcd_parse_lease_grant(const char *body, size_t len, int64_t *id, int64_t *ttl, char **err)
{
        json_t *root;
        int r;

        *id = 0;
        *ttl = 0;
        init_err(err);
        if ((r = load(body, len, &root, err)))
                return r;
        int64_t i, t;
        struct etcd_header h;
        if (!(r = parse_header(root, &h)) && !(r = get_i64(root, "ID", &i)) &&
            !(r = get_i64(root, "TTL", &t))) {
                /* etcd hands out positive IDs only; 0 would mean "no lease"
                 * to every later put. */
                if (i <= 0) {
                        r = -EBADMSG;
                } else {
                        *id = i;
                        *ttl = t;
                }
        }
        json_decref(root);
        return r;
}

int etcd_parse_keepalive(const char *body, size_t len, int64_t *ttl, char **err)
{
        json_t *root, *res;
        int r;

        *ttl = 0;
        init_err(err);
        if ((r = load(body, len, &root, err)))
                return r;
        int64_t t;
        struct etcd_header h;
        if (!(r = get_object(root, "result", &res)) && !(r = parse_header(res ? res : root, &h)) &&
            !(r = get_i64(res ? res : root, "TTL", &t)))
                *ttl = t > 0 ? t : 0;
        json_decref(root);
        return r;
}

int etcd_parse_put(const char *body, size_t len, struct etcd_header *h, char **err)
{
        json_t *root;
        int r;

        memset(h, 0, sizeof(*h));
        init_err(err);
        if ((r = load(body, len, &root, err)))
                return r;
        r = parse_header(root, h);
        json_decref(root);
        return r;
}

int etcd_parse_range(const char *body, size_t len, struct etcd_header *h, struct etcd_kv **kvs,
                     size_t *n, char **err)
{
        json_t *root, *arr;
        int r;

        memset(h, 0, sizeof(*h));
        *kvs = NULL;
        *n = 0;
        init_err(err);
        if ((r = load(body, len, &root, err)))
                return r;
        if (!(r = get_array(root, "kvs", &arr)) && !(r = parse_header(root, h)) &&
            (r = parse_kvs(arr, kvs, n)))
                memset(h, 0, sizeof(*h));
        json_decref(root);
        return r;
}

int etcd_parse_txn(const char *body, size_t len, struct etcd_header *h, bool *succeeded,
                   struct etcd_kv **else_kvs, size_t *n, char **err)
{
        json_t *root, *responses;
        int r;

        memset(h, 0, sizeof(*h));
        *succeeded = false;
        *else_kvs = NULL;
        *n = 0;
        init_err(err);
        if ((r = load(body, len, &root, err)))
                return r;
        bool ok;
        if ((r = parse_header(root, h)) || (r = get_bool(root, "succeeded", &ok)) ||
            (r = get_array(root, "responses", &responses)))
                goto out;
        if (!ok && responses) {
                for (size_t i = 0; i < json_array_size(responses); i++) {
                        json_t *resp = json_array_get(responses, i), *range, *arr;
                        if (!json_is_object(resp)) {
                                r = -EBADMSG;
                                goto out;
                        }
                        if ((r = get_object(resp, "response_range", &range)))
                                goto out;
                        if (!range)
                                continue;
                        if ((r = get_array(range, "kvs", &arr)) ||
                            (r = parse_kvs(arr, else_kvs, n)))
                                goto out;
                        break;
                }
        }
        *succeeded = ok;
out:
        if (r)
                memset(h, 0, sizeof(*h));
        json_decref(root);
        return r;
}

static int parse_event(json_t *o, struct etcd_event *ev)
{
        json_t *kv;
        int r;

        memset(ev, 0, sizeof(*ev));
        if (!json_is_object(o))
                return -EBADMSG;
        /* PUT is enum value 0, so etcd leaves it out; accept the names and,
         * in case a gateway sends enums as numbers, 0 and 1. */
        json_t *t = json_object_get(o, "type");
        if (!t || json_is_null(t) || (json_is_string(t) && !strcmp(json_string_value(t), "PUT")) ||
            (json_is_integer(t) && json_integer_value(t) == 0))
                ev->type = ETCD_EV_PUT;
        else if ((json_is_string(t) && !strcmp(json_string_value(t), "DELETE")) ||
                 (json_is_integer(t) && json_integer_value(t) == 1))
                ev->type = ETCD_EV_DELETE;
        else
                return -EBADMSG;
        if ((r = get_object(o, "kv", &kv)))
                return r;
        if (!kv)
                return -EBADMSG;
        return parse_kv(kv, &ev->kv);
}

void etcd_watch_msg_free(struct etcd_watch_msg *m)
{
        if (!m)
                return;
        free(m->cancel_reason);
        for (size_t i = 0; i < m->n_events; i++)
                kv_clear(&m->events[i].kv);
        free(m->events);
        memset(m, 0, sizeof(*m));
}

int etcd_parse_watch_msg(const char *body, size_t len, struct etcd_watch_msg *m, char **err)
{
        json_t *root, *res, *events, *reason;
        int r;

        memset(m, 0, sizeof(*m));
        init_err(err);
        if ((r = load(body, len, &root, err)))
                return r;
        if ((r = get_object(root, "result", &res)))
                goto out;
        if (!res) {
                r = -EBADMSG;
                goto out;
        }
        if ((r = parse_header(res, &m->h)) || (r = get_i64(res, "watch_id", &m->watch_id)) ||
            (r = get_bool(res, "created", &m->created)) ||
            (r = get_bool(res, "canceled", &m->canceled)) ||
            (r = get_i64(res, "compact_revision", &m->compact_revision)) ||
            (r = get_array(res, "events", &events)))
                goto out;
        reason = json_object_get(res, "cancel_reason");
        if (reason && !json_is_null(reason)) {
                if (!json_is_string(reason)) {
                        r = -EBADMSG;
                        goto out;
                }
                m->cancel_reason = strdup(json_string_value(reason));
                if (!m->cancel_reason) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        if (events && json_array_size(events)) {
                size_t count = json_array_size(events);
                m->events = calloc(count, sizeof(*m->events));
                if (!m->events) {
                        r = -ENOMEM;
                        goto out;
                }
                for (size_t i = 0; i < count; i++) {
                        if ((r = parse_event(json_array_get(events, i), &m->events[i])))
                                goto out;
                        m->n_events = i + 1;
                }
        }
out:
        if (r)
                etcd_watch_msg_free(m);
        json_decref(root);
        return r;
}
