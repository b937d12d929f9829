/* etcd_codec.h: the bodies of etcd v3's JSON gateway (etcd 3.4+): request
 * bodies built, replies parsed. Pure: no I/O, no clock, so every reply the
 * fleet member acts on can be tested from recorded text.
 *
 * The gateway speaks proto3 JSON: int64 fields are JSON strings ("5"),
 * bytes fields (keys, values) are base64, and fields holding zero, false or
 * empty are left out. The parsers accept int64 as strings or numbers and
 * read a missing field as 0 / false / empty. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Standard base64 (RFC 4648 section 4, with padding), what the gateway uses
 * for bytes. Encode: malloc'd NUL-terminated text, NULL on ENOMEM. Decode
 * is strict (length a multiple of 4, only the alphabet, '=' only as final
 * padding, unused bits zero): 0 with *out malloc'd and NUL-terminated
 * (*out_len excludes the NUL), -EBADMSG, -ENOMEM. */
char *etcd_b64_encode(const void *src, size_t len);
int etcd_b64_decode(const char *src, size_t len, unsigned char **out, size_t *out_len);

/* Request bodies: malloc'd NUL-terminated JSON (free()), NULL with errno
 * ENOMEM, or EINVAL for a NULL key or an unknown compare target. */
char *etcd_req_lease_grant(int64_t ttl_sec);      /* POST /v3/lease/grant */
char *etcd_req_lease_keepalive(int64_t lease_id); /* POST /v3/lease/keepalive */
char *etcd_req_lease_revoke(int64_t lease_id);    /* POST /v3/lease/revoke */
/* POST /v3/kv/put; lease_id 0 = none; value NULL = empty */
char *etcd_req_put(const char *key, const char *value, int64_t lease_id);
char *etcd_req_delete(const char *key); /* POST /v3/kv/deleterange, one key */
/* POST /v3/kv/range, every key starting with prefix; "" = every key */
char *etcd_req_range_prefix(const char *prefix);
/* POST /v3/watch, every key starting with prefix; start_revision 0 = from now */
char *etcd_req_watch_prefix(const char *prefix, int64_t start_revision);

/* POST /v3/kv/txn: if every compare holds, put key=value (lease_id 0 =
 * none), else range every key under else_range_prefix (NULL = nothing), so
 * a loser gets a fresh view in the same reply. */
enum etcd_cmp_target {
        ETCD_CMP_MOD,     /* mod_revision */
        ETCD_CMP_CREATE,  /* create_revision */
        ETCD_CMP_VERSION, /* version */
};
/* Always EQUAL; value 0 with CREATE (or VERSION) means "key absent". */
struct etcd_cmp {
        const char *key;
        enum etcd_cmp_target target;
        int64_t value;
};
char *etcd_req_txn_put(const struct etcd_cmp *cmps, size_t n, const char *key, const char *value,
                       int64_t lease_id, const char *else_range_prefix);

/* POST /v3/kv/txn with no compare: every put applied at one revision. */
struct etcd_put {
        const char *key, *value;
        int64_t lease_id; /* 0: none */
};
char *etcd_req_txn_puts(const struct etcd_put *puts, size_t n);

/* One key. key is NUL-terminated (a key holding a NUL byte is refused);
 * value is NUL-terminated too, value_len excludes the NUL, "" when absent. */
struct etcd_kv {
        char *key;
        char *value;
        size_t value_len;
        int64_t create_revision, mod_revision, version, lease;
};
struct etcd_header {
        int64_t revision;
        uint64_t cluster_id, member_id, raft_term;
};
void etcd_kvs_free(struct etcd_kv *kvs, size_t n);

/* Replies. Each parser returns 0; -EBADMSG for a malformed body (not JSON,
 * wrong types, numbers out of range, bad base64, a kv without a key);
 * -EPROTO when the body is etcd's error ({"error":..,"code":..,"message":..}),
 * then *err (if err != NULL) gets the malloc'd message; -ENOMEM. *err is
 * NULL unless -EPROTO; outputs are zero / NULL unless 0. */
/* *id > 0 always (a grant without an ID is -EBADMSG) */
int etcd_parse_lease_grant(const char *body, size_t len, int64_t *id, int64_t *ttl, char **err);
/* The gateway wraps it: {"result":{"ID":..,"TTL":..}}; the bare object is
 * accepted too. *ttl: seconds left, 0 when the lease is gone. */
int etcd_parse_keepalive(const char *body, size_t len, int64_t *ttl, char **err);
int etcd_parse_put(const char *body, size_t len, struct etcd_header *h, char **err);
/* also for /v3/kv/deleterange replies (their kvs are absent) */
int etcd_parse_range(const char *body, size_t len, struct etcd_header *h, struct etcd_kv **kvs,
                     size_t *n, char **err);
/* else_kvs: the failure branch's range, when !*succeeded and one was asked */
int etcd_parse_txn(const char *body, size_t len, struct etcd_header *h, bool *succeeded,
                   struct etcd_kv **else_kvs, size_t *n, char **err);

/* One message of the watch stream: the stream is newline-delimited JSON
 * objects, each {"result":{...}}; the caller splits it. A watch cancelled
 * because start_revision was compacted says canceled with compact_revision
 * set (and no cancel_reason): read again from a range, then watch from its
 * revision + 1. */
enum etcd_event_type {
        ETCD_EV_PUT,
        ETCD_EV_DELETE,
};
/* For a DELETE, kv holds the key and mod_revision (the deletion's) only. */
struct etcd_event {
        enum etcd_event_type type;
        struct etcd_kv kv;
};
struct etcd_watch_msg {
        struct etcd_header h;
        int64_t watch_id;
        bool created, canceled;
        int64_t compact_revision;
        char *cancel_reason; /* NULL when absent */
        struct etcd_event *events;
        size_t n_events;
};
int etcd_parse_watch_msg(const char *body, size_t len, struct etcd_watch_msg *m, char **err);
void etcd_watch_msg_free(struct etcd_watch_msg *m);
