/* test_exabgp_proto.c: line splitting and classification of ExaBGP output. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "exabgp_proto.h"

/* Real lines from ExaBGP 4.2.21's json encoder. */
#define STATE_UP                                                                                   \
        "{ \"exabgp\": \"4.0.1\", \"time\": 1700000000.1, \"host\" : \"lab\", \"pid\" : 10, "      \
        "\"ppid\" : 1, \"counter\": 1, \"type\": \"state\", \"neighbor\": { \"address\": { "       \
        "\"local\": \"192.0.2.2\", \"peer\": \"192.0.2.1\" }, \"asn\": { \"local\": 65001, "       \
        "\"peer\": 65000 } , \"state\": \"up\" } }"
#define STATE_CONNECTED                                                                            \
        "{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"type\": \"state\", \"neighbor\": { "            \
        "\"address\": { \"local\": \"2001:db8::2\", \"peer\": \"2001:db8::1\" }, \"asn\": { "      \
        "\"local\": 65001, \"peer\": 65000 } , \"state\": \"connected\" } }"
#define STATE_DOWN                                                                                 \
        "{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"type\": \"state\", \"neighbor\": { "            \
        "\"address\": { \"local\": \"192.0.2.2\", \"peer\": \"192.0.2.1\" }, \"asn\": { "          \
        "\"local\": 65001, \"peer\": 65000 } , \"state\": \"down\", \"reason\": \"peer reset, "    \
        "message (notification sent (4,0)) error(Hold timer expired)\" } }"
#define SHUTDOWN                                                                                   \
        "{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"host\" : \"lab\", \"pid\" : 10, \"ppid\" : 1, " \
        "\"type\": \"notification\", \"notification\": \"shutdown\"}"
#define PEER_NOTIFICATION                                                                          \
        "{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"type\": \"notification\", \"neighbor\": { "     \
        "\"address\": { \"local\": \"192.0.2.2\", \"peer\": \"192.0.2.1\" }, \"direction\": "      \
        "\"receive\", \"notification\": { \"code\": 6, \"subcode\": 2, \"data\": \"\" } } }"
#define UPDATE "{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"type\": \"update\", \"neighbor\": { } }"
/* ExaBGP 6's json encoder (response/json.py up() and _header()): the same
 * shape under a new version string. */
#define STATE_UP_6                                                                                 \
        "{ \"exabgp\": \"6.0.0\", \"time\": 1700000000.1, \"host\" : \"lab\", \"pid\" : 10, "      \
        "\"ppid\" : 1, \"counter\": 1, \"type\": \"state\", \"neighbor\": { \"address\": { "       \
        "\"local\": \"192.0.2.2\", \"peer\": \"192.0.2.1\" }, \"asn\": { \"local\": 65001, "       \
        "\"peer\": 65000 } , \"state\": \"up\" } }"

static struct exabgp_msg classify(const char *s)
{
        struct exabgp_msg m;
        exabgp_classify(s, strlen(s), &m);
        return m;
}

START_TEST(acks)
{
        ck_assert_int_eq(classify("done").kind, EXABGP_MSG_DONE);
        ck_assert_int_eq(classify("error").kind, EXABGP_MSG_ERROR);
        ck_assert_int_eq(classify("done\r").kind, EXABGP_MSG_DONE);
        ck_assert_int_eq(classify(" error ").kind, EXABGP_MSG_ERROR);
        ck_assert_int_eq(classify("doneX").kind, EXABGP_MSG_GARBAGE);
        ck_assert_int_eq(classify("errors").kind, EXABGP_MSG_GARBAGE);
}
END_TEST

/* ExaBGP 6 explains a refusal on the line before its "error"
 * (processes.py answer_error_sync: "error: " + the message). That line
 * is not an ack: counting it would shift every later ack by one. */
START_TEST(refusal_reason_is_not_an_ack)
{
        struct exabgp_msg m = classify("error: Could not parse route: route 203.0.113.0/33");
        ck_assert_int_eq(m.kind, EXABGP_MSG_REFUSAL);
        ck_assert_str_eq(m.reason, "Could not parse route: route 203.0.113.0/33");
        m = classify("error:no blank\r");
        ck_assert_int_eq(m.kind, EXABGP_MSG_REFUSAL);
        ck_assert_str_eq(m.reason, "no blank");
        m = classify("error:");
        ck_assert_int_eq(m.kind, EXABGP_MSG_REFUSAL);
        ck_assert_str_eq(m.reason, "");
        /* a long reason is cut, and stays terminated */
        char longline[600];
        memcpy(longline, "error: ", 7);
        memset(longline + 7, 'x', sizeof(longline) - 8);
        longline[sizeof(longline) - 1] = '\0';
        m = classify(longline);
        ck_assert_int_eq(m.kind, EXABGP_MSG_REFUSAL);
        ck_assert_uint_eq(strlen(m.reason), sizeof(m.reason) - 1);
        /* only "error:" at the start */
        ck_assert_int_eq(classify("errors: x").kind, EXABGP_MSG_GARBAGE);
        ck_assert_int_eq(classify("an error: x").kind, EXABGP_MSG_GARBAGE);
        ck_assert_int_eq(classify("error").kind, EXABGP_MSG_ERROR);
}
END_TEST

START_TEST(state_from_exabgp_6)
{
        struct exabgp_msg m = classify(STATE_UP_6);
        ck_assert_int_eq(m.kind, EXABGP_MSG_STATE);
        ck_assert_int_eq(m.state, EXABGP_PEER_UP);
        ck_assert_str_eq(m.peer, "192.0.2.1");
}
END_TEST

START_TEST(states)
{
        struct exabgp_msg m = classify(STATE_UP);
        ck_assert_int_eq(m.kind, EXABGP_MSG_STATE);
        ck_assert_int_eq(m.state, EXABGP_PEER_UP);
        ck_assert_str_eq(m.peer, "192.0.2.1");
        ck_assert_str_eq(m.reason, "");

        m = classify(STATE_CONNECTED);
        ck_assert_int_eq(m.kind, EXABGP_MSG_STATE);
        ck_assert_int_eq(m.state, EXABGP_PEER_CONNECTED);
        ck_assert_str_eq(m.peer, "2001:db8::1");

        m = classify(STATE_DOWN);
        ck_assert_int_eq(m.kind, EXABGP_MSG_STATE);
        ck_assert_int_eq(m.state, EXABGP_PEER_DOWN);
        ck_assert_str_eq(m.peer, "192.0.2.1");
        ck_assert_ptr_nonnull(strstr(m.reason, "Hold timer expired"));

        /* a state event without a state is not one we can act on */
        ck_assert_int_eq(classify("{\"type\": \"state\", \"neighbor\": {}}").kind,
                         EXABGP_MSG_GARBAGE);
}
END_TEST

START_TEST(notifications)
{
        ck_assert_int_eq(classify(SHUTDOWN).kind, EXABGP_MSG_SHUTDOWN);
        ck_assert_int_eq(classify("shutdown 10 1").kind, EXABGP_MSG_SHUTDOWN);
        /* a BGP NOTIFICATION from a peer is not ExaBGP stopping */
        ck_assert_int_eq(classify(PEER_NOTIFICATION).kind, EXABGP_MSG_IGNORED);
        ck_assert_int_eq(classify(UPDATE).kind, EXABGP_MSG_IGNORED);
        ck_assert_int_eq(classify("{}").kind, EXABGP_MSG_IGNORED);
}
END_TEST

START_TEST(garbage_and_empty)
{
        ck_assert_int_eq(classify("").kind, EXABGP_MSG_EMPTY);
        ck_assert_int_eq(classify("  \r").kind, EXABGP_MSG_EMPTY);
        ck_assert_int_eq(classify("hello").kind, EXABGP_MSG_GARBAGE);
        ck_assert_int_eq(classify("{ \"type\": \"state\", ").kind, EXABGP_MSG_GARBAGE);
        ck_assert_int_eq(classify("[1, 2]").kind, EXABGP_MSG_GARBAGE);
        ck_assert_int_eq(classify("{\"a\":1,\"a\":2}").kind, EXABGP_MSG_GARBAGE);
        const char nul[] = "do\0ne";
        struct exabgp_msg m;
        exabgp_classify(nul, sizeof(nul) - 1, &m);
        ck_assert_int_eq(m.kind, EXABGP_MSG_GARBAGE);
}
END_TEST

/* ---- splitter ---- */

struct collected {
        char *lines[64];
        size_t lens[64];
        size_t n;
};

static void collect(void *userdata, char *line, size_t len)
{
        struct collected *c = userdata;
        ck_assert_uint_lt(c->n, 64);
        ck_assert_uint_eq(strlen(line), len);
        c->lines[c->n] = strdup(line);
        c->lens[c->n++] = len;
}

static void collected_free(struct collected *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->lines[i]);
}

static int feed(struct exabgp_lines *l, const char *s, struct collected *c)
{
        return exabgp_lines_feed(l, s, strlen(s), collect, c);
}

START_TEST(split_across_reads)
{
        struct exabgp_lines l;
        struct collected c = {0};
        exabgp_lines_init(&l);
        ck_assert_int_eq(feed(&l, "do", &c), 0);
        ck_assert_uint_eq(c.n, 0);
        ck_assert_int_eq(feed(&l, "n", &c), 0);
        ck_assert_uint_eq(c.n, 0);
        ck_assert_int_eq(feed(&l, "e\ner", &c), 0);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_str_eq(c.lines[0], "done");
        ck_assert_int_eq(feed(&l, "ror", &c), 0);
        ck_assert_int_eq(feed(&l, "\n", &c), 0);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_str_eq(c.lines[1], "error");
        /* a JSON event split in three */
        const char *ev = STATE_UP "\n";
        size_t n = strlen(ev);
        exabgp_lines_feed(&l, ev, 10, collect, &c);
        exabgp_lines_feed(&l, ev + 10, 100, collect, &c);
        ck_assert_uint_eq(c.n, 2);
        exabgp_lines_feed(&l, ev + 110, n - 110, collect, &c);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_str_eq(c.lines[2], STATE_UP);
        collected_free(&c);
        exabgp_lines_free(&l);
}
END_TEST

START_TEST(several_in_one_read_and_crlf)
{
        struct exabgp_lines l;
        struct collected c = {0};
        exabgp_lines_init(&l);
        ck_assert_int_eq(feed(&l, "done\r\nerror\n\ndone\npartial", &c), 0);
        ck_assert_uint_eq(c.n, 4);
        ck_assert_str_eq(c.lines[0], "done");
        ck_assert_str_eq(c.lines[1], "error");
        ck_assert_str_eq(c.lines[2], "");
        ck_assert_str_eq(c.lines[3], "done");
        ck_assert_int_eq(feed(&l, "\r\n", &c), 0);
        ck_assert_uint_eq(c.n, 5);
        ck_assert_str_eq(c.lines[4], "partial");
        collected_free(&c);
        exabgp_lines_free(&l);
}
END_TEST

START_TEST(overlong_line)
{
        struct exabgp_lines l;
        struct collected c = {0};
        exabgp_lines_init(&l);
        size_t big = EXABGP_LINE_MAX + 10;
        char *junk = malloc(big);
        memset(junk, 'x', big);
        ck_assert_int_eq(feed(&l, "done\n", &c), 0);
        /* the long line arrives in pieces; it is dropped once, whole */
        ck_assert_int_eq(exabgp_lines_feed(&l, junk, 1000, collect, &c), 0);
        ck_assert_int_eq(exabgp_lines_feed(&l, junk, big - 1000, collect, &c), 1);
        ck_assert_int_eq(exabgp_lines_feed(&l, junk, big, collect, &c), 0);
        ck_assert_int_eq(feed(&l, "tail of it\nerror\n", &c), 0);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_str_eq(c.lines[0], "done");
        ck_assert_str_eq(c.lines[1], "error");
        /* exactly the maximum still passes */
        ck_assert_int_eq(exabgp_lines_feed(&l, junk, EXABGP_LINE_MAX, collect, &c), 0);
        ck_assert_int_eq(feed(&l, "\n", &c), 0);
        ck_assert_uint_eq(c.n, 3);
        ck_assert_uint_eq(c.lens[2], EXABGP_LINE_MAX);
        /* two over-long lines in one read count twice */
        char *two = malloc(2 * big + 2);
        memset(two, 'y', 2 * big + 2);
        two[big] = '\n';
        two[2 * big + 1] = '\n';
        ck_assert_int_eq(exabgp_lines_feed(&l, two, 2 * big + 2, collect, &c), 2);
        ck_assert_int_eq(feed(&l, "done\n", &c), 0);
        ck_assert_uint_eq(c.n, 4);
        ck_assert_str_eq(c.lines[3], "done");
        free(two);
        free(junk);
        collected_free(&c);
        exabgp_lines_free(&l);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("exabgp_proto");
        TCase *tc = tcase_create("classify");
        tcase_add_test(tc, acks);
        tcase_add_test(tc, refusal_reason_is_not_an_ack);
        tcase_add_test(tc, state_from_exabgp_6);
        tcase_add_test(tc, states);
        tcase_add_test(tc, notifications);
        tcase_add_test(tc, garbage_and_empty);
        suite_add_tcase(s, tc);
        tc = tcase_create("lines");
        tcase_add_test(tc, split_across_reads);
        tcase_add_test(tc, several_in_one_read_and_crlf);
        tcase_add_test(tc, overlong_line);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
