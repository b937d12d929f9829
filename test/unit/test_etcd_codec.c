/* test_etcd_codec.c: the etcd v3 JSON gateway codec: base64, request bodies
 * read back with jansson, replies recorded from a real etcd, hostile input. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_codec.h"

/* etcd 3.4.23's replies (Debian 12's etcd-server, its JSON gateway),
 * recorded on 2026-12-04 with curl against a private etcd on loopback.
 * The streaming endpoints (keepalive, watch) end each message with "\n". */
static const char REC_GRANT[] =
    "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\","
    "\"revision\":\"1\",\"raft_term\":\"2\"},\"ID\":\"2324035808586272008\",\"TTL\":\"600\"}";
static const char REC_KEEPALIVE[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"1\",\"raft_term\":\"2\"},\"ID\":"
    "\"2324035808586272008\",\"TTL\":\"600\"}}\n";
static const char REC_KEEPALIVE_UNKNOWN[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"1\",\"raft_term\":\"2\"},\"ID\":\"12345\"}}\n";
static const char REC_PUT[] = "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
                              "\"3319814642761637952\",\"revision\":\"3\",\"raft_term\":\"2\"}}";
static const char REC_RANGE[] =
    "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\","
    "\"revision\":\"5\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L2EvZW1wdHk=\",\"create_"
    "revision\":\"4\",\"mod_revision\":\"4\",\"version\":\"1\"},{\"key\":\"L2EvcG9wMQ==\",\"create_"
    "revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"eyJzdGF0ZSI6ImRvd24ifQ=="
    "\",\"lease\":\"2324035808586272008\"},{\"key\":\"L2EveA==\",\"create_revision\":\"2\",\"mod_"
    "revision\":\"2\",\"version\":\"1\",\"value\":\"eyJzdGF0ZSI6InVwIn0=\"}],\"count\":\"3\"}";
static const char REC_RANGE_EMPTY[] =
    "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\","
    "\"revision\":\"5\",\"raft_term\":\"2\"}}";
static const char REC_TXN_OK[] =
    "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\","
    "\"revision\":\"6\",\"raft_term\":\"2\"},\"succeeded\":true,\"responses\":[{\"response_put\":{"
    "\"header\":{\"revision\":\"6\"}}}]}";
static const char REC_TXN_FAIL[] =
    "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\","
    "\"revision\":\"6\",\"raft_term\":\"2\"},\"responses\":[{\"response_range\":{\"header\":{"
    "\"revision\":\"6\"},\"kvs\":[{\"key\":\"L2EvZW1wdHk=\",\"create_revision\":\"4\",\"mod_"
    "revision\":\"4\",\"version\":\"1\"},{\"key\":\"L2EvbmV3\",\"create_revision\":\"6\",\"mod_"
    "revision\":\"6\",\"version\":\"1\",\"value\":\"djE=\",\"lease\":\"2324035808586272008\"},{"
    "\"key\":\"L2EvcG9wMQ==\",\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\","
    "\"value\":\"eyJzdGF0ZSI6ImRvd24ifQ==\",\"lease\":\"2324035808586272008\"},{\"key\":\"L2EveA=="
    "\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":"
    "\"eyJzdGF0ZSI6InVwIn0=\"}],\"count\":\"4\"}}]}";
static const char REC_TXN_BAD_TARGET[] =
    "{\"error\":\"unknown value \\\"BOGUS\\\" for enum "
    "etcdserverpb.Compare_CompareTarget\",\"message\":\"unknown value \\\"BOGUS\\\" for enum "
    "etcdserverpb.Compare_CompareTarget\",\"code\":3}";
static const char REC_DELETERANGE[] =
    "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\","
    "\"revision\":\"7\",\"raft_term\":\"2\"},\"deleted\":\"1\"}";
static const char REC_DELETERANGE_NONE[] =
    "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":\"3319814642761637952\","
    "\"revision\":\"7\",\"raft_term\":\"2\"}}";
static const char REC_REVOKE[] = "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
                                 "\"3319814642761637952\",\"revision\":\"8\",\"raft_term\":\"2\"}}";
static const char REC_KEEPALIVE_REVOKED[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"8\",\"raft_term\":\"2\"},\"ID\":"
    "\"2324035808586272008\"}}\n";
static const char REC_REVOKE_UNKNOWN[] =
    "{\"error\":\"etcdserver: requested lease not found\",\"message\":\"etcdserver: requested "
    "lease not found\",\"code\":5}";
static const char REC_RANGE_COMPACTED[] = "{\"error\":\"etcdserver: mvcc: required revision has "
                                          "been compacted\",\"message\":\"etcdserver: mvcc: "
                                          "required revision has been compacted\",\"code\":11}";
static const char REC_WATCH_CREATED[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"1\",\"raft_term\":\"2\"},\"created\":true}}";
static const char REC_WATCH_PUT[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"3\",\"raft_term\":\"2\"},\"events\":[{\"kv\":{\"key\":"
    "\"L2EvcG9wMQ==\",\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\",\"value\":"
    "\"eyJzdGF0ZSI6ImRvd24ifQ==\",\"lease\":\"2324035808586272008\"}}]}}";
static const char REC_WATCH_PUT_V3[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"11\",\"raft_term\":\"2\"},\"events\":[{\"kv\":{\"key\":"
    "\"L2Evaw==\",\"create_revision\":\"9\",\"mod_revision\":\"11\",\"version\":\"3\",\"value\":"
    "\"eyJuIjozfQ==\"}}]}}";
static const char REC_WATCH_DELETE[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"12\",\"raft_term\":\"2\"},\"events\":[{\"type\":"
    "\"DELETE\",\"kv\":{\"key\":\"L2Evaw==\",\"mod_revision\":\"12\"}}]}}";
static const char REC_WATCH_DELETE_PREV[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"8\",\"raft_term\":\"2\"},\"events\":[{\"type\":"
    "\"DELETE\",\"kv\":{\"key\":\"L2EvbmV3\",\"mod_revision\":\"8\"},\"prev_kv\":{\"key\":"
    "\"L2EvbmV3\",\"create_revision\":\"6\",\"mod_revision\":\"6\",\"version\":\"1\",\"value\":"
    "\"djE=\",\"lease\":\"2324035808586272008\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":"
    "\"L2EvcG9wMQ==\",\"mod_revision\":\"8\"},\"prev_kv\":{\"key\":\"L2EvcG9wMQ==\",\"create_"
    "revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"eyJzdGF0ZSI6ImRvd24ifQ=="
    "\",\"lease\":\"2324035808586272008\"}}]}}";
static const char REC_WATCH_COMPACTED[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"raft_term\":\"2\"},\"canceled\":true,\"compact_revision\":\"7\"}}";
static const char REC_WATCH_EMPTY_RANGE[] =
    "{\"result\":{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"8\",\"raft_term\":\"2\"},\"watch_id\":\"-1\","
    "\"created\":true,\"canceled\":true,\"cancel_reason\":\"mvcc: watcher range is empty\"}}";
static const char REC_WATCH_BAD_REQUEST[] =
    "{\"error\":\"invalid character 'x' looking for beginning of value\",\"message\":\"invalid "
    "character 'x' looking for beginning of value\",\"code\":2}";

#define LEN(s) (sizeof(s) - 1)

static const uint64_t CLUSTER = 324952591200643719ULL;
static const uint64_t MEMBER = 3319814642761637952ULL;
static const int64_t LEASE = 2324035808586272008LL;

/* ---- base64 ---- */

static void b64_ok(const char *plain, size_t len, const char *enc)
{
        char *e = etcd_b64_encode(plain, len);
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e, enc);
        free(e);

        unsigned char *d;
        size_t dlen;
        ck_assert_int_eq(etcd_b64_decode(enc, strlen(enc), &d, &dlen), 0);
        ck_assert_uint_eq(dlen, len);
        ck_assert_mem_eq(d, plain, len);
        ck_assert_int_eq(d[dlen], 0);
        free(d);
}

static void b64_bad(const char *enc, size_t len)
{
        unsigned char *d = (unsigned char *)"x";
        size_t dlen = 7;
        ck_assert_msg(etcd_b64_decode(enc, len, &d, &dlen) == -EBADMSG, "\"%.*s\" accepted",
                      (int)len, enc);
        ck_assert_ptr_null(d);
        ck_assert_uint_eq(dlen, 0);
}

START_TEST(test_b64_vectors)
{
        /* RFC 4648 section 10 */
        b64_ok("", 0, "");
        b64_ok("f", 1, "Zg==");
        b64_ok("fo", 2, "Zm8=");
        b64_ok("foo", 3, "Zm9v");
        b64_ok("foob", 4, "Zm9vYg==");
        b64_ok("fooba", 5, "Zm9vYmE=");
        b64_ok("foobar", 6, "Zm9vYmFy");
        /* the two characters that differ from the URL alphabet, and NULs */
        b64_ok("\xfb\xff\xbf", 3, "+/+/");
        b64_ok("\0\0", 2, "AAA=");
        b64_ok("/a/pop1", 7, "L2EvcG9wMQ==");
}
END_TEST

START_TEST(test_b64_all_bytes)
{
        unsigned char all[256];
        for (int i = 0; i < 256; i++)
                all[i] = (unsigned char)i;
        for (size_t len = 0; len <= sizeof(all); len++) {
                char *e = etcd_b64_encode(all + 256 - len, len);
                ck_assert_ptr_nonnull(e);
                ck_assert_uint_eq(strlen(e), (len + 2) / 3 * 4);
                unsigned char *d;
                size_t dlen;
                ck_assert_int_eq(etcd_b64_decode(e, strlen(e), &d, &dlen), 0);
                ck_assert_uint_eq(dlen, len);
                ck_assert_mem_eq(d, all + 256 - len, len);
                free(d);
                free(e);
        }
}
END_TEST

START_TEST(test_b64_strict)
{
        b64_bad("Z", 1);
        b64_bad("Zg", 2);
        b64_bad("Zg=", 3);
        b64_bad("Zm9vY", 5);
        b64_bad("====", 4);
        b64_bad("Z===", 4);
        b64_bad("=Zg=", 4);
        b64_bad("Zg=a", 4);
        b64_bad("Zm=v", 4);
        b64_bad("Zg==Zg==", 8); /* padding only at the very end */
        b64_bad("Zh==", 4);     /* unused bits set: "f" is Zg== */
        b64_bad("Zm9=", 4);     /* "fo" is Zm8= */
        b64_bad("Zm9v\n", 5);
        b64_bad("Zm9\n", 4);
        b64_bad("Zm 9", 4);
        b64_bad("Zm-_", 4); /* URL alphabet */
        b64_bad("Zm9\0", 4);
        b64_bad("Zm9\xc3", 4);
}
END_TEST

/* ---- request bodies ---- */

static json_t *load_req(char *body)
{
        ck_assert_ptr_nonnull(body);
        json_error_t je;
        json_t *j = json_loads(body, JSON_REJECT_DUPLICATES, &je);
        ck_assert_msg(j != NULL, "%s: %s", body, je.text);
        ck_assert(json_is_object(j));
        free(body);
        return j;
}

static void assert_str(json_t *o, const char *name, const char *want)
{
        json_t *v = json_object_get(o, name);
        ck_assert_msg(json_is_string(v), "%s not a string", name);
        ck_assert_str_eq(json_string_value(v), want);
}

/* A bytes field decodes to exactly want[0..len). */
static void assert_b64(json_t *o, const char *name, const void *want, size_t len)
{
        json_t *v = json_object_get(o, name);
        ck_assert_msg(json_is_string(v), "%s not a string", name);
        unsigned char *d;
        size_t dlen;
        ck_assert_int_eq(etcd_b64_decode(json_string_value(v), json_string_length(v), &d, &dlen),
                         0);
        ck_assert_uint_eq(dlen, len);
        ck_assert_mem_eq(d, want, len);
        free(d);
}

START_TEST(test_req_lease)
{
        json_t *j = load_req(etcd_req_lease_grant(10));
        ck_assert_uint_eq(json_object_size(j), 1);
        assert_str(j, "TTL", "10");
        json_decref(j);

        j = load_req(etcd_req_lease_keepalive(LEASE));
        ck_assert_uint_eq(json_object_size(j), 1);
        assert_str(j, "ID", "2324035808586272008");
        json_decref(j);

        j = load_req(etcd_req_lease_revoke(INT64_MAX));
        ck_assert_uint_eq(json_object_size(j), 1);
        assert_str(j, "ID", "9223372036854775807");
        json_decref(j);
}
END_TEST

START_TEST(test_req_put_delete)
{
        json_t *j = load_req(etcd_req_put("/a/pop1", "{\"state\":\"down\"}", LEASE));
        ck_assert_uint_eq(json_object_size(j), 3);
        assert_str(j, "key", "L2EvcG9wMQ==");
        assert_str(j, "value", "eyJzdGF0ZSI6ImRvd24ifQ==");
        assert_str(j, "lease", "2324035808586272008");
        json_decref(j);

        /* lease 0: no "lease" at all; a NULL value is empty */
        j = load_req(etcd_req_put("/a/x", NULL, 0));
        ck_assert_uint_eq(json_object_size(j), 2);
        ck_assert_ptr_null(json_object_get(j, "lease"));
        assert_b64(j, "key", "/a/x", 4);
        assert_str(j, "value", "");
        json_decref(j);

        /* any bytes in keys and values */
        j = load_req(etcd_req_put("k\x01\x7f\x80\xff", "\xc3\xa9\"\\\n", 0));
        assert_b64(j, "key", "k\x01\x7f\x80\xff", 5);
        assert_b64(j, "value", "\xc3\xa9\"\\\n", 5);
        json_decref(j);

        j = load_req(etcd_req_delete("/a/x"));
        ck_assert_uint_eq(json_object_size(j), 1);
        assert_str(j, "key", "L2EveA==");
        json_decref(j);

        errno = 0;
        ck_assert_ptr_null(etcd_req_put(NULL, "v", 0));
        ck_assert_int_eq(errno, EINVAL);
        errno = 0;
        ck_assert_ptr_null(etcd_req_delete(NULL));
        ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static void range_ok(const char *prefix, const void *key, size_t key_len, const void *end,
                     size_t end_len)
{
        json_t *j = load_req(etcd_req_range_prefix(prefix));
        ck_assert_uint_eq(json_object_size(j), 2);
        assert_b64(j, "key", key, key_len);
        assert_b64(j, "range_end", end, end_len);
        json_decref(j);
}

START_TEST(test_req_range_prefix)
{
        range_ok("/a/", "/a/", 3, "/a0", 3);
        range_ok("/fleet/svc/", "/fleet/svc/", 11, "/fleet/svc0", 11);
        range_ok("a", "a", 1, "b", 1);
        /* 0xff cannot be incremented: drop it and carry into the byte before */
        range_ok("a\xff", "a\xff", 2, "b", 1);
        range_ok("a\xfe\xff\xff", "a\xfe\xff\xff", 4, "a\xff", 2);
        /* nothing to increment, or no prefix: "\0" = to the end of the keyspace */
        range_ok("\xff\xff", "\xff\xff", 2, "", 1);
        range_ok("", "", 1, "", 1);

        errno = 0;
        ck_assert_ptr_null(etcd_req_range_prefix(NULL));
        ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_req_watch)
{
        json_t *j = load_req(etcd_req_watch_prefix("/a/", 0));
        ck_assert_uint_eq(json_object_size(j), 1);
        json_t *c = json_object_get(j, "create_request");
        ck_assert(json_is_object(c));
        ck_assert_uint_eq(json_object_size(c), 2);
        assert_str(c, "key", "L2Ev");
        assert_str(c, "range_end", "L2Ew");
        ck_assert_ptr_null(json_object_get(c, "start_revision"));
        json_decref(j);

        j = load_req(etcd_req_watch_prefix("/a/", 8));
        c = json_object_get(j, "create_request");
        ck_assert_uint_eq(json_object_size(c), 3);
        assert_b64(c, "key", "/a/", 3);
        assert_b64(c, "range_end", "/a0", 3);
        assert_str(c, "start_revision", "8");
        json_decref(j);

        ck_assert_ptr_null(etcd_req_watch_prefix(NULL, 0));
}
END_TEST

START_TEST(test_req_txn)
{
        const struct etcd_cmp cmps[] = {
            {"/a/new", ETCD_CMP_CREATE, 0},
            {"/b", ETCD_CMP_MOD, 5},
            {"/a/k2", ETCD_CMP_VERSION, 2},
        };
        json_t *j = load_req(etcd_req_txn_put(cmps, 3, "/a/new", "v1", LEASE, "/a/"));
        ck_assert_uint_eq(json_object_size(j), 3);

        json_t *compare = json_object_get(j, "compare");
        ck_assert(json_is_array(compare));
        ck_assert_uint_eq(json_array_size(compare), 3);
        static const char *const names[] = {"CREATE", "MOD", "VERSION"};
        static const char *const fields[] = {"create_revision", "mod_revision", "version"};
        static const char *const values[] = {"0", "5", "2"};
        for (size_t i = 0; i < 3; i++) {
                json_t *c = json_array_get(compare, i);
                ck_assert_uint_eq(json_object_size(c), 4);
                assert_b64(c, "key", cmps[i].key, strlen(cmps[i].key));
                assert_str(c, "target", names[i]);
                assert_str(c, "result", "EQUAL");
                /* written even when 0: that is what "key absent" says */
                assert_str(c, fields[i], values[i]);
        }

        json_t *success = json_object_get(j, "success");
        ck_assert(json_is_array(success));
        ck_assert_uint_eq(json_array_size(success), 1);
        json_t *put = json_object_get(json_array_get(success, 0), "request_put");
        ck_assert(json_is_object(put));
        assert_b64(put, "key", "/a/new", 6);
        assert_b64(put, "value", "v1", 2);
        assert_str(put, "lease", "2324035808586272008");

        json_t *failure = json_object_get(j, "failure");
        ck_assert(json_is_array(failure));
        ck_assert_uint_eq(json_array_size(failure), 1);
        json_t *range = json_object_get(json_array_get(failure, 0), "request_range");
        ck_assert(json_is_object(range));
        assert_b64(range, "key", "/a/", 3);
        assert_b64(range, "range_end", "/a0", 3);
        json_decref(j);

        /* no compares, no lease, no else range */
        j = load_req(etcd_req_txn_put(NULL, 0, "/a/x", "v", 0, NULL));
        ck_assert_uint_eq(json_object_size(j), 2);
        ck_assert_uint_eq(json_array_size(json_object_get(j, "compare")), 0);
        put = json_object_get(json_array_get(json_object_get(j, "success"), 0), "request_put");
        ck_assert_ptr_null(json_object_get(put, "lease"));
        ck_assert_ptr_null(json_object_get(j, "failure"));
        json_decref(j);

        const struct etcd_cmp bad_target = {"/a", (enum etcd_cmp_target)7, 0};
        const struct etcd_cmp no_key = {NULL, ETCD_CMP_MOD, 0};
        errno = 0;
        ck_assert_ptr_null(etcd_req_txn_put(&bad_target, 1, "/a", "v", 0, NULL));
        ck_assert_int_eq(errno, EINVAL);
        ck_assert_ptr_null(etcd_req_txn_put(&no_key, 1, "/a", "v", 0, NULL));
        ck_assert_ptr_null(etcd_req_txn_put(NULL, 1, "/a", "v", 0, NULL));
        ck_assert_ptr_null(etcd_req_txn_put(NULL, 0, NULL, "v", 0, NULL));
}
END_TEST

START_TEST(test_req_txn_puts)
{
        const struct etcd_put puts[] = {
            {"/a/services/dns/pop1", "{\"announced\":true}", LEASE},
            {"/a/services/web/pop1", NULL, 0},
        };
        json_t *j = load_req(etcd_req_txn_puts(puts, 2));
        ck_assert_uint_eq(json_object_size(j), 1); /* no compare, no failure */
        json_t *success = json_object_get(j, "success");
        ck_assert_uint_eq(json_array_size(success), 2);
        json_t *p0 = json_object_get(json_array_get(success, 0), "request_put");
        assert_b64(p0, "key", puts[0].key, strlen(puts[0].key));
        assert_b64(p0, "value", puts[0].value, strlen(puts[0].value));
        assert_str(p0, "lease", "2324035808586272008");
        json_t *p1 = json_object_get(json_array_get(success, 1), "request_put");
        assert_b64(p1, "key", puts[1].key, strlen(puts[1].key));
        ck_assert_ptr_null(json_object_get(p1, "lease"));
        json_decref(j);

        const struct etcd_put no_key = {NULL, "v", 0};
        errno = 0;
        ck_assert_ptr_null(etcd_req_txn_puts(&no_key, 1));
        ck_assert_int_eq(errno, EINVAL);
        ck_assert_ptr_null(etcd_req_txn_puts(puts, 0));
}
END_TEST

/* ---- recorded replies ---- */

static void assert_header(const struct etcd_header *h, int64_t revision)
{
        ck_assert_int_eq(h->revision, revision);
        ck_assert_uint_eq(h->cluster_id, CLUSTER);
        ck_assert_uint_eq(h->member_id, MEMBER);
        ck_assert_uint_eq(h->raft_term, 2);
}

static void assert_kv(const struct etcd_kv *kv, const char *key, const char *value, int64_t create,
                      int64_t mod, int64_t version, int64_t lease)
{
        ck_assert_str_eq(kv->key, key);
        ck_assert_ptr_nonnull(kv->value);
        ck_assert_str_eq(kv->value, value);
        ck_assert_uint_eq(kv->value_len, strlen(value));
        ck_assert_int_eq(kv->create_revision, create);
        ck_assert_int_eq(kv->mod_revision, mod);
        ck_assert_int_eq(kv->version, version);
        ck_assert_int_eq(kv->lease, lease);
}

START_TEST(test_rec_lease)
{
        int64_t id = -1, ttl = -1;
        char *err = (char *)"unset";
        ck_assert_int_eq(etcd_parse_lease_grant(REC_GRANT, LEN(REC_GRANT), &id, &ttl, &err), 0);
        ck_assert_ptr_null(err);
        ck_assert_int_eq(id, LEASE);
        ck_assert_int_eq(ttl, 600);

        ck_assert_int_eq(etcd_parse_keepalive(REC_KEEPALIVE, LEN(REC_KEEPALIVE), &ttl, &err), 0);
        ck_assert_int_eq(ttl, 600);
        /* an unknown or revoked lease: the reply has no TTL */
        ttl = -1;
        ck_assert_int_eq(
            etcd_parse_keepalive(REC_KEEPALIVE_UNKNOWN, LEN(REC_KEEPALIVE_UNKNOWN), &ttl, &err), 0);
        ck_assert_int_eq(ttl, 0);
        ttl = -1;
        ck_assert_int_eq(
            etcd_parse_keepalive(REC_KEEPALIVE_REVOKED, LEN(REC_KEEPALIVE_REVOKED), &ttl, &err), 0);
        ck_assert_int_eq(ttl, 0);
        ck_assert_ptr_null(err);

        struct etcd_header h;
        ck_assert_int_eq(etcd_parse_put(REC_REVOKE, LEN(REC_REVOKE), &h, &err), 0);
        assert_header(&h, 8);

        /* revoking an unknown lease is an error, unlike keepalive */
        ck_assert_int_eq(etcd_parse_put(REC_REVOKE_UNKNOWN, LEN(REC_REVOKE_UNKNOWN), &h, &err),
                         -EPROTO);
        ck_assert_str_eq(err, "etcdserver: requested lease not found");
        free(err);
        ck_assert_int_eq(etcd_parse_put(REC_REVOKE_UNKNOWN, LEN(REC_REVOKE_UNKNOWN), &h, NULL),
                         -EPROTO);
        ck_assert_int_eq(
            etcd_parse_keepalive(REC_REVOKE_UNKNOWN, LEN(REC_REVOKE_UNKNOWN), &ttl, NULL), -EPROTO);
        ck_assert_int_eq(
            etcd_parse_lease_grant(REC_REVOKE_UNKNOWN, LEN(REC_REVOKE_UNKNOWN), &id, &ttl, NULL),
            -EPROTO);
        ck_assert_int_eq(id, 0);
}
END_TEST

START_TEST(test_rec_put_delete)
{
        struct etcd_header h;
        char *err = (char *)"unset";
        ck_assert_int_eq(etcd_parse_put(REC_PUT, LEN(REC_PUT), &h, &err), 0);
        ck_assert_ptr_null(err);
        assert_header(&h, 3);

        struct etcd_kv *kvs = (struct etcd_kv *)&h;
        size_t n = 9;
        ck_assert_int_eq(
            etcd_parse_range(REC_DELETERANGE, LEN(REC_DELETERANGE), &h, &kvs, &n, &err), 0);
        assert_header(&h, 7);
        ck_assert_ptr_null(kvs);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(etcd_parse_put(REC_DELETERANGE_NONE, LEN(REC_DELETERANGE_NONE), &h, &err),
                         0);
        assert_header(&h, 7);
}
END_TEST

START_TEST(test_rec_range)
{
        struct etcd_header h;
        struct etcd_kv *kvs;
        size_t n;
        char *err;
        ck_assert_int_eq(etcd_parse_range(REC_RANGE, LEN(REC_RANGE), &h, &kvs, &n, &err), 0);
        assert_header(&h, 5);
        ck_assert_uint_eq(n, 3);
        /* a put without a value: "value" is left out */
        assert_kv(&kvs[0], "/a/empty", "", 4, 4, 1, 0);
        assert_kv(&kvs[1], "/a/pop1", "{\"state\":\"down\"}", 3, 3, 1, LEASE);
        assert_kv(&kvs[2], "/a/x", "{\"state\":\"up\"}", 2, 2, 1, 0);
        etcd_kvs_free(kvs, n);

        /* nothing under the prefix: no "kvs", no "count" */
        ck_assert_int_eq(
            etcd_parse_range(REC_RANGE_EMPTY, LEN(REC_RANGE_EMPTY), &h, &kvs, &n, &err), 0);
        assert_header(&h, 5);
        ck_assert_ptr_null(kvs);
        ck_assert_uint_eq(n, 0);

        ck_assert_int_eq(
            etcd_parse_range(REC_RANGE_COMPACTED, LEN(REC_RANGE_COMPACTED), &h, &kvs, &n, &err),
            -EPROTO);
        ck_assert_str_eq(err, "etcdserver: mvcc: required revision has been compacted");
        free(err);
        ck_assert_ptr_null(kvs);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(h.revision, 0);
}
END_TEST

START_TEST(test_rec_txn)
{
        struct etcd_header h;
        struct etcd_kv *kvs;
        size_t n;
        bool ok;
        char *err;
        ck_assert_int_eq(etcd_parse_txn(REC_TXN_OK, LEN(REC_TXN_OK), &h, &ok, &kvs, &n, &err), 0);
        assert_header(&h, 6);
        ck_assert(ok);
        ck_assert_ptr_null(kvs);
        ck_assert_uint_eq(n, 0);

        /* the compare failed: "succeeded" is left out, the else range follows */
        ok = true;
        ck_assert_int_eq(etcd_parse_txn(REC_TXN_FAIL, LEN(REC_TXN_FAIL), &h, &ok, &kvs, &n, &err),
                         0);
        assert_header(&h, 6);
        ck_assert(!ok);
        ck_assert_uint_eq(n, 4);
        assert_kv(&kvs[0], "/a/empty", "", 4, 4, 1, 0);
        assert_kv(&kvs[1], "/a/new", "v1", 6, 6, 1, LEASE);
        assert_kv(&kvs[2], "/a/pop1", "{\"state\":\"down\"}", 3, 3, 1, LEASE);
        assert_kv(&kvs[3], "/a/x", "{\"state\":\"up\"}", 2, 2, 1, 0);
        etcd_kvs_free(kvs, n);

        ok = true;
        ck_assert_int_eq(
            etcd_parse_txn(REC_TXN_BAD_TARGET, LEN(REC_TXN_BAD_TARGET), &h, &ok, &kvs, &n, &err),
            -EPROTO);
        ck_assert_str_eq(err,
                         "unknown value \"BOGUS\" for enum etcdserverpb.Compare_CompareTarget");
        free(err);
        ck_assert(!ok);
        ck_assert_ptr_null(kvs);
}
END_TEST

START_TEST(test_rec_watch)
{
        struct etcd_watch_msg m;
        char *err;

        ck_assert_int_eq(etcd_parse_watch_msg(REC_WATCH_CREATED, LEN(REC_WATCH_CREATED), &m, &err),
                         0);
        assert_header(&m.h, 1);
        ck_assert(m.created);
        ck_assert(!m.canceled);
        ck_assert_int_eq(m.watch_id, 0); /* the first watch of a stream: left out */
        ck_assert_uint_eq(m.n_events, 0);
        ck_assert_ptr_null(m.events);
        ck_assert_ptr_null(m.cancel_reason);
        etcd_watch_msg_free(&m);

        /* a PUT event has no "type": PUT is enum value 0 */
        ck_assert_int_eq(etcd_parse_watch_msg(REC_WATCH_PUT, LEN(REC_WATCH_PUT), &m, &err), 0);
        assert_header(&m.h, 3);
        ck_assert(!m.created);
        ck_assert_uint_eq(m.n_events, 1);
        ck_assert_int_eq(m.events[0].type, ETCD_EV_PUT);
        assert_kv(&m.events[0].kv, "/a/pop1", "{\"state\":\"down\"}", 3, 3, 1, LEASE);
        etcd_watch_msg_free(&m);
        ck_assert_ptr_null(m.events);
        ck_assert_uint_eq(m.n_events, 0);

        ck_assert_int_eq(etcd_parse_watch_msg(REC_WATCH_PUT_V3, LEN(REC_WATCH_PUT_V3), &m, &err),
                         0);
        ck_assert_uint_eq(m.n_events, 1);
        assert_kv(&m.events[0].kv, "/a/k", "{\"n\":3}", 9, 11, 3, 0);
        etcd_watch_msg_free(&m);

        /* a DELETE's kv: the key and the deletion's revision only */
        ck_assert_int_eq(etcd_parse_watch_msg(REC_WATCH_DELETE, LEN(REC_WATCH_DELETE), &m, &err),
                         0);
        assert_header(&m.h, 12);
        ck_assert_uint_eq(m.n_events, 1);
        ck_assert_int_eq(m.events[0].type, ETCD_EV_DELETE);
        assert_kv(&m.events[0].kv, "/a/k", "", 0, 12, 0, 0);
        etcd_watch_msg_free(&m);

        /* a lease revoked: one message, one DELETE per key (prev_kv asked) */
        ck_assert_int_eq(
            etcd_parse_watch_msg(REC_WATCH_DELETE_PREV, LEN(REC_WATCH_DELETE_PREV), &m, &err), 0);
        ck_assert_uint_eq(m.n_events, 2);
        ck_assert_int_eq(m.events[0].type, ETCD_EV_DELETE);
        assert_kv(&m.events[0].kv, "/a/new", "", 0, 8, 0, 0);
        ck_assert_int_eq(m.events[1].type, ETCD_EV_DELETE);
        assert_kv(&m.events[1].kv, "/a/pop1", "", 0, 8, 0, 0);
        etcd_watch_msg_free(&m);

        /* start_revision 2 after "compact 7": canceled, compact_revision,
         * no cancel_reason, and a header without revision */
        ck_assert_int_eq(
            etcd_parse_watch_msg(REC_WATCH_COMPACTED, LEN(REC_WATCH_COMPACTED), &m, &err), 0);
        assert_header(&m.h, 0);
        ck_assert(m.canceled);
        ck_assert(!m.created);
        ck_assert_int_eq(m.compact_revision, 7);
        ck_assert_ptr_null(m.cancel_reason);
        ck_assert_uint_eq(m.n_events, 0);
        etcd_watch_msg_free(&m);

        /* range_end below key: created and canceled at once, watch_id -1 */
        ck_assert_int_eq(
            etcd_parse_watch_msg(REC_WATCH_EMPTY_RANGE, LEN(REC_WATCH_EMPTY_RANGE), &m, &err), 0);
        ck_assert(m.created);
        ck_assert(m.canceled);
        ck_assert_int_eq(m.watch_id, -1);
        ck_assert_str_eq(m.cancel_reason, "mvcc: watcher range is empty");
        etcd_watch_msg_free(&m);

        /* a refused create_request: a bare error, no "result" */
        ck_assert_int_eq(
            etcd_parse_watch_msg(REC_WATCH_BAD_REQUEST, LEN(REC_WATCH_BAD_REQUEST), &m, &err),
            -EPROTO);
        ck_assert_str_eq(err, "invalid character 'x' looking for beginning of value");
        free(err);
        ck_assert_ptr_null(m.events);
        etcd_watch_msg_free(&m); /* harmless after a failure */
        etcd_watch_msg_free(NULL);
}
END_TEST

/* ---- other well-formed input ---- */

START_TEST(test_numbers_and_forms)
{
        struct etcd_header h;
        struct etcd_kv *kvs;
        size_t n;

        /* int64 as JSON numbers, uint64 IDs up to 2^64-1 as strings */
        static const char num[] =
            "{\"header\":{\"revision\":9223372036854775807,\"cluster_id\":"
            "\"18446744073709551615\",\"member_id\":7},\"kvs\":[{\"key\":"
            "\"YQ==\",\"mod_revision\":-3,\"lease\":\"-9223372036854775808\"}]}";
        ck_assert_int_eq(etcd_parse_range(num, LEN(num), &h, &kvs, &n, NULL), 0);
        ck_assert_int_eq(h.revision, INT64_MAX);
        ck_assert_uint_eq(h.cluster_id, UINT64_MAX);
        ck_assert_uint_eq(h.member_id, 7);
        ck_assert_uint_eq(n, 1);
        assert_kv(&kvs[0], "a", "", 0, -3, 0, INT64_MIN);
        etcd_kvs_free(kvs, n);

        /* everything left out, and nulls as if left out */
        ck_assert_int_eq(etcd_parse_put("{}", 2, &h, NULL), 0);
        ck_assert_int_eq(h.revision, 0);
        static const char nulls[] = "{\"header\":null,\"kvs\":null,\"error\":null}";
        ck_assert_int_eq(etcd_parse_range(nulls, LEN(nulls), &h, &kvs, &n, NULL), 0);
        ck_assert_uint_eq(n, 0);
        static const char empty_err[] = "{\"error\":\"\",\"header\":{\"revision\":\"4\"}}";
        ck_assert_int_eq(etcd_parse_put(empty_err, LEN(empty_err), &h, NULL), 0);
        ck_assert_int_eq(h.revision, 4);

        /* a value holding NUL and high bytes keeps its length */
        static const char bin[] = "{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"AP8A\"}]}";
        ck_assert_int_eq(etcd_parse_range(bin, LEN(bin), &h, &kvs, &n, NULL), 0);
        ck_assert_uint_eq(kvs[0].value_len, 3);
        ck_assert_mem_eq(kvs[0].value, "\0\xff\0", 4);
        etcd_kvs_free(kvs, n);
        etcd_kvs_free(NULL, 0);

        /* keepalive unwrapped, and numbers */
        int64_t ttl;
        ck_assert_int_eq(etcd_parse_keepalive("{\"ID\":1,\"TTL\":5}", 16, &ttl, NULL), 0);
        ck_assert_int_eq(ttl, 5);
        ck_assert_int_eq(etcd_parse_keepalive("{\"result\":{\"TTL\":\"-1\"}}", 23, &ttl, NULL), 0);
        ck_assert_int_eq(ttl, 0);

        /* enums as numbers, names spelled out */
        struct etcd_watch_msg m;
        static const char ev[] = "{\"result\":{\"watch_id\":\"3\",\"events\":["
                                 "{\"type\":1,\"kv\":{\"key\":\"YQ==\"}},"
                                 "{\"type\":0,\"kv\":{\"key\":\"Yg==\"}},"
                                 "{\"type\":\"PUT\",\"kv\":{\"key\":\"Yw==\"}}]}}";
        ck_assert_int_eq(etcd_parse_watch_msg(ev, LEN(ev), &m, NULL), 0);
        ck_assert_int_eq(m.watch_id, 3);
        ck_assert_uint_eq(m.n_events, 3);
        ck_assert_int_eq(m.events[0].type, ETCD_EV_DELETE);
        ck_assert_int_eq(m.events[1].type, ETCD_EV_PUT);
        ck_assert_int_eq(m.events[2].type, ETCD_EV_PUT);
        ck_assert_str_eq(m.events[2].kv.key, "c");
        etcd_watch_msg_free(&m);

        /* a stream's error object */
        char *err;
        static const char serr[] =
            "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"unavailable\"}}";
        ck_assert_int_eq(etcd_parse_watch_msg(serr, LEN(serr), &m, &err), -EPROTO);
        ck_assert_str_eq(err, "unavailable");
        free(err);
        ck_assert_int_eq(etcd_parse_watch_msg("{\"error\":{}}", 12, &m, &err), -EPROTO);
        ck_assert_ptr_nonnull(err);
        free(err);
}
END_TEST

/* ---- hostile input ---- */

enum which { P_GRANT, P_KEEPALIVE, P_PUT, P_RANGE, P_TXN, P_WATCH, P_COUNT };

/* Runs parser w on body; checks that a failure leaves no output behind. */
static int run(enum which w, const char *body, size_t len)
{
        int64_t a = 1, b = 1;
        struct etcd_header h = {.revision = 1};
        struct etcd_kv *kvs = (struct etcd_kv *)&h;
        size_t n = 1;
        bool ok = true;
        struct etcd_watch_msg m;
        char *err = (char *)"unset";
        int r = -1;

        switch (w) {
        case P_GRANT:
                r = etcd_parse_lease_grant(body, len, &a, &b, &err);
                if (r)
                        ck_assert(a == 0 && b == 0);
                break;
        case P_KEEPALIVE:
                r = etcd_parse_keepalive(body, len, &a, &err);
                if (r)
                        ck_assert(a == 0);
                break;
        case P_PUT:
                r = etcd_parse_put(body, len, &h, &err);
                break;
        case P_RANGE:
                r = etcd_parse_range(body, len, &h, &kvs, &n, &err);
                if (!r)
                        etcd_kvs_free(kvs, n);
                else
                        ck_assert(kvs == NULL && n == 0);
                break;
        case P_TXN:
                r = etcd_parse_txn(body, len, &h, &ok, &kvs, &n, &err);
                if (!r)
                        etcd_kvs_free(kvs, n);
                else
                        ck_assert(kvs == NULL && n == 0 && !ok);
                break;
        case P_WATCH:
                r = etcd_parse_watch_msg(body, len, &m, &err);
                if (r)
                        ck_assert(m.events == NULL && m.n_events == 0 && !m.cancel_reason);
                etcd_watch_msg_free(&m);
                break;
        case P_COUNT:
                break;
        }
        if (r && w != P_GRANT && w != P_KEEPALIVE && w != P_WATCH)
                ck_assert(h.revision == 0);
        if (r == -EPROTO)
                free(err);
        else
                ck_assert_ptr_null(err);
        return r;
}

static void bad(enum which w, const char *body)
{
        int r = run(w, body, strlen(body));
        ck_assert_msg(r == -EBADMSG, "parser %d: %s: %d", (int)w, body, r);
}

static void bad_all(const char *body)
{
        for (int w = 0; w < P_COUNT; w++)
                bad((enum which)w, body);
}

START_TEST(test_truncated)
{
        static const struct {
                const char *body;
                size_t len;
                enum which w;
        } recs[] = {
#define R(name, w) {REC_##name, LEN(REC_##name), w}
            R(GRANT, P_GRANT),
            R(KEEPALIVE, P_KEEPALIVE),
            R(KEEPALIVE_UNKNOWN, P_KEEPALIVE),
            R(PUT, P_PUT),
            R(RANGE, P_RANGE),
            R(TXN_OK, P_TXN),
            R(TXN_FAIL, P_TXN),
            R(TXN_BAD_TARGET, P_TXN),
            R(REVOKE_UNKNOWN, P_PUT),
            R(WATCH_PUT, P_WATCH),
            R(WATCH_DELETE_PREV, P_WATCH),
            R(WATCH_EMPTY_RANGE, P_WATCH),
#undef R
        };
        for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
                size_t full = recs[i].len;
                while (recs[i].body[full - 1] == '\n')
                        full--;
                for (size_t len = 0; len < full; len++) {
                        int r = run(recs[i].w, recs[i].body, len);
                        ck_assert_msg(r == -EBADMSG, "%zu: %.*s: %d", i, (int)len, recs[i].body, r);
                }
                /* the exact body, from a buffer of its own size: no reading past len */
                char *copy = malloc(recs[i].len);
                memcpy(copy, recs[i].body, recs[i].len);
                int r = run(recs[i].w, copy, recs[i].len);
                ck_assert(r == 0 || r == -EPROTO);
                free(copy);
        }
        ck_assert_int_eq(run(P_PUT, NULL, 0), -EBADMSG);
        /* a NUL after the object is trailing garbage */
        ck_assert_int_eq(run(P_PUT, "{}\0", 3), -EBADMSG);
}
END_TEST

START_TEST(test_wrong_types)
{
        bad_all("");
        bad_all("null");
        bad_all("[]");
        bad_all("\"x\"");
        bad_all("5");
        bad_all("{\"header\":[]}");
        bad_all("{\"header\":{},\"header\":{}}");
        bad_all("{\"result\":{\"header\":{}},\"result\":{}}");
        bad_all("{} {}");

        static const char *const nums[] = {
            "true",
            "{}",
            "[]",
            "5.0",
            "1e3",
            "\"\"",
            "\"-\"",
            "\" 5\"",
            "\"5 \"",
            "\"+5\"",
            "\"0x5\"",
            "\"5x\"",
            "\"1.5\"",
            "\"9223372036854775808\"",
            "\"-9223372036854775809\"",
            "9223372036854775808",
            "99999999999999999999",
            "\"99999999999999999999\"",
        };
        char buf[256];
        for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
                snprintf(buf, sizeof(buf), "{\"header\":{\"revision\":%s}}", nums[i]);
                bad(P_PUT, buf);
                bad(P_RANGE, buf);
                bad(P_TXN, buf);
                snprintf(buf, sizeof(buf), "{\"result\":{\"header\":{\"revision\":%s}}}", nums[i]);
                bad(P_WATCH, buf);
                snprintf(buf, sizeof(buf), "{\"ID\":%s,\"TTL\":\"5\"}", nums[i]);
                bad(P_GRANT, buf);
                snprintf(buf, sizeof(buf), "{\"result\":{\"TTL\":%s}}", nums[i]);
                bad(P_KEEPALIVE, buf);
                snprintf(buf, sizeof(buf), "{\"kvs\":[{\"key\":\"YQ==\",\"version\":%s}]}",
                         nums[i]);
                bad(P_RANGE, buf);
        }
        bad(P_PUT, "{\"header\":{\"cluster_id\":\"-1\"}}");
        bad(P_PUT, "{\"header\":{\"cluster_id\":-1}}");
        bad(P_PUT, "{\"header\":{\"cluster_id\":\"18446744073709551616\"}}");
        bad(P_PUT, "{\"header\":{\"member_id\":\"1e3\"}}");

        /* a grant without a usable ID */
        bad(P_GRANT, "{\"TTL\":\"5\"}");
        bad(P_GRANT, "{\"ID\":\"0\",\"TTL\":\"5\"}");
        bad(P_GRANT, "{\"ID\":\"-5\",\"TTL\":\"5\"}");
        bad(P_KEEPALIVE, "{\"result\":[]}");
        bad(P_KEEPALIVE, "{\"result\":\"x\"}");

        /* kvs */
        bad(P_RANGE, "{\"kvs\":{}}");
        bad(P_RANGE, "{\"kvs\":\"x\"}");
        bad(P_RANGE, "{\"kvs\":[\"x\"]}");
        bad(P_RANGE, "{\"kvs\":[null]}");
        bad(P_RANGE, "{\"kvs\":[{}]}");
        bad(P_RANGE, "{\"kvs\":[{\"value\":\"YQ==\"}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":\"\"}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":null}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":5}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":\"YQ==\"},{\"key\":\"Y\"}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":\"YQ==\",\"value\":5}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"YQ=\"}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"Y!==\"}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"YR==\"}]}");
        bad(P_RANGE, "{\"kvs\":[{\"key\":\"YQBi\"}]}"); /* "a\0b" */
        bad(P_RANGE, "{\"kvs\":[{\"key\":\"L2E=\"}],\"header\":{\"revision\":\"x\"}}");

        /* txn */
        bad(P_TXN, "{\"succeeded\":\"true\"}");
        bad(P_TXN, "{\"succeeded\":1}");
        bad(P_TXN, "{\"responses\":{}}");
        bad(P_TXN, "{\"responses\":[5]}");
        bad(P_TXN, "{\"responses\":[{\"response_range\":[]}]}");
        bad(P_TXN, "{\"responses\":[{\"response_range\":{\"kvs\":{}}}]}");
        bad(P_TXN, "{\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":\"%%%%\"}]}}]}");

        /* watch */
        bad(P_WATCH, "{}");
        bad(P_WATCH, "{\"result\":null}");
        bad(P_WATCH, "{\"result\":[]}");
        bad(P_WATCH, "{\"result\":{\"created\":\"true\"}}");
        bad(P_WATCH, "{\"result\":{\"canceled\":1}}");
        bad(P_WATCH, "{\"result\":{\"cancel_reason\":5}}");
        bad(P_WATCH, "{\"result\":{\"compact_revision\":\"x\"}}");
        bad(P_WATCH, "{\"result\":{\"events\":{}}}");
        bad(P_WATCH, "{\"result\":{\"events\":[5]}}");
        bad(P_WATCH, "{\"result\":{\"events\":[{}]}}");
        bad(P_WATCH, "{\"result\":{\"events\":[{\"kv\":null}]}}");
        bad(P_WATCH, "{\"result\":{\"events\":[{\"kv\":[]}]}}");
        bad(P_WATCH, "{\"result\":{\"events\":[{\"type\":\"BOGUS\",\"kv\":{\"key\":\"YQ==\"}}]}}");
        bad(P_WATCH, "{\"result\":{\"events\":[{\"type\":2,\"kv\":{\"key\":\"YQ==\"}}]}}");
        bad(P_WATCH, "{\"result\":{\"events\":[{\"type\":true,\"kv\":{\"key\":\"YQ==\"}}]}}");
        /* a bad event after good ones: the good ones are freed too */
        bad(P_WATCH, "{\"result\":{\"cancel_reason\":\"r\",\"events\":[{\"kv\":{\"key\":\"YQ==\","
                     "\"value\":\"YQ==\"}},{\"kv\":{\"key\":\"YQ==\",\"value\":\"*\"}}]}}");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("etcd_codec");
        TCase *tc = tcase_create("etcd_codec");
        tcase_add_test(tc, test_b64_vectors);
        tcase_add_test(tc, test_b64_all_bytes);
        tcase_add_test(tc, test_b64_strict);
        tcase_add_test(tc, test_req_lease);
        tcase_add_test(tc, test_req_put_delete);
        tcase_add_test(tc, test_req_range_prefix);
        tcase_add_test(tc, test_req_watch);
        tcase_add_test(tc, test_req_txn);
        tcase_add_test(tc, test_req_txn_puts);
        tcase_add_test(tc, test_rec_lease);
        tcase_add_test(tc, test_rec_put_delete);
        tcase_add_test(tc, test_rec_range);
        tcase_add_test(tc, test_rec_txn);
        tcase_add_test(tc, test_rec_watch);
        tcase_add_test(tc, test_numbers_and_forms);
        tcase_add_test(tc, test_truncated);
        tcase_add_test(tc, test_wrong_types);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
