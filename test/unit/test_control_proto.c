/* test_control_proto.c: the control socket's wire format: every verb
 * parses to the right request, every bad request gets its exact error, the
 * CLI's builder round-trips, and the status JSON carries the snapshot. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"
#include "fake_engine.h"

static const struct good_case {
        const char *line;
        enum control_verb verb;
        const char *service, *reason;
        bool confirm, force;
} good_cases[] = {
    {"{\"verb\":\"status\"}", VERB_STATUS, NULL, NULL, false, false},
    {"{\"verb\":\"status\",\"service\":\"dns\"}", VERB_STATUS, "dns", NULL, false, false},
    {"{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"maintenance\"}", VERB_DISABLE, "dns",
     "maintenance", false, false},
    {"{\"reason\":\"r\",\"service\":\"dns\",\"verb\":\"disable\"}", VERB_DISABLE, "dns", "r", false,
     false},
    {"{\"verb\":\"enable\",\"service\":\"dns\"}", VERB_ENABLE, "dns", NULL, false, false},
    {"{\"verb\":\"drain\",\"service\":\"dns\"}", VERB_DRAIN, "dns", NULL, false, false},
    {"{\"verb\":\"drain\",\"service\":\"dns\",\"reason\":\"move traffic\"}", VERB_DRAIN, "dns",
     "move traffic", false, false},
    {"{\"verb\":\"check\",\"service\":\"web\"}", VERB_CHECK, "web", NULL, false, false},
    {"{\"verb\":\"reload\"}", VERB_RELOAD, NULL, NULL, false, false},
    {"{\"verb\":\"withdraw-all\",\"reason\":\"fire\",\"confirm\":true}", VERB_WITHDRAW_ALL, NULL,
     "fire", true, false},
    {"  {\"verb\" : \"reload\"}  ", VERB_RELOAD, NULL, NULL, false, false},
    {"{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"m\",\"force\":true}", VERB_DISABLE,
     "dns", "m", false, true},
    {"{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"m\",\"force\":false}", VERB_DISABLE,
     "dns", "m", false, false},
    {"{\"force\":true,\"verb\":\"drain\",\"service\":\"web\"}", VERB_DRAIN, "web", NULL, false,
     true},
    {"{\"verb\":\"fleet\"}", VERB_FLEET, NULL, NULL, false, false},
    {"{\"verb\":\"fleet\",\"service\":\"dns\"}", VERB_FLEET, "dns", NULL, false, false},
};

START_TEST(parses_every_verb)
{
        const struct good_case *c = &good_cases[_i];
        struct control_request rq;
        char err[256] = "";
        ck_assert_msg(control_request_parse(c->line, strlen(c->line), &rq, err, sizeof(err)) == 0,
                      "%s: %s", c->line, err);
        ck_assert_int_eq(rq.verb, c->verb);
        if (c->service)
                ck_assert_str_eq(rq.service, c->service);
        else
                ck_assert_ptr_null(rq.service);
        if (c->reason)
                ck_assert_str_eq(rq.reason, c->reason);
        else
                ck_assert_ptr_null(rq.reason);
        ck_assert_int_eq(rq.confirm, c->confirm);
        ck_assert_int_eq(rq.force, c->force);
        control_request_clear(&rq);
        ck_assert_ptr_null(rq.root);
}
END_TEST

static char long_reason_req[CONTROL_REASON_MAX + 100];

static const struct bad_case {
        const char *line;
        const char *error;
} bad_cases[] = {
    {"", "bad request: not JSON ("},
    {"{\"verb\":", "bad request: not JSON ("},
    {"disable dns", "bad request: not JSON ("},
    {"[\"status\"]", "bad request: expected a JSON object"},
    {"{}", "bad request: missing \"verb\""},
    {"{\"service\":\"dns\"}", "bad request: missing \"verb\""},
    {"{\"verb\":3}", "bad request: \"verb\" must be a string"},
    {"{\"verb\":\"stats\"}", "unknown verb \"stats\" (expected status, disable, enable, drain, "
                             "check, reload, withdraw-all or fleet)"},
    {"{\"verb\":\"status\",\"verb\":\"reload\"}", "bad request: not JSON ("},
    {"{\"verb\":\"disable\",\"service\":\"dns\"}", "\"disable\" needs a reason"},
    {"{\"verb\":\"disable\",\"reason\":\"x\"}", "\"disable\" needs a service"},
    {"{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"\"}", "\"reason\" must not be empty"},
    {"{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":7}", "\"reason\" must be a string"},
    {"{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"a\\nb\"}",
     "\"reason\" must not contain control characters"},
    {"{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"x\",\"forced\":true}",
     "unknown key \"forced\" for verb \"disable\""},
    /* force: a boolean, and only where the fleet floor can refuse */
    {"{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"x\",\"force\":\"true\"}",
     "\"force\" must be true or false"},
    {"{\"verb\":\"drain\",\"service\":\"dns\",\"force\":1}", "\"force\" must be true or false"},
    {"{\"verb\":\"drain\",\"service\":\"dns\",\"force\":null}", "\"force\" must be true or false"},
    {"{\"verb\":\"enable\",\"service\":\"dns\",\"force\":true}",
     "unknown key \"force\" for verb \"enable\""},
    {"{\"verb\":\"check\",\"service\":\"dns\",\"force\":true}",
     "unknown key \"force\" for verb \"check\""},
    {"{\"verb\":\"status\",\"force\":true}", "unknown key \"force\" for verb \"status\""},
    {"{\"verb\":\"reload\",\"force\":false}", "unknown key \"force\" for verb \"reload\""},
    {"{\"verb\":\"withdraw-all\",\"reason\":\"x\",\"confirm\":true,\"force\":true}",
     "unknown key \"force\" for verb \"withdraw-all\""},
    {"{\"verb\":\"fleet\",\"force\":true}", "unknown key \"force\" for verb \"fleet\""},
    {"{\"verb\":\"fleet\",\"reason\":\"x\"}", "unknown key \"reason\" for verb \"fleet\""},
    {"{\"verb\":\"fleet\",\"service\":\"\"}", "\"service\" must not be empty"},
    {"{\"verb\":\"enable\"}", "\"enable\" needs a service"},
    {"{\"verb\":\"enable\",\"service\":\"dns\",\"reason\":\"x\"}",
     "unknown key \"reason\" for verb \"enable\""},
    {"{\"verb\":\"enable\",\"service\":null}", "\"service\" must be a string"},
    {"{\"verb\":\"enable\",\"service\":\"\"}", "\"service\" must not be empty"},
    {"{\"verb\":\"drain\"}", "\"drain\" needs a service"},
    {"{\"verb\":\"check\"}", "\"check\" needs a service"},
    {"{\"verb\":\"reload\",\"service\":\"dns\"}", "unknown key \"service\" for verb \"reload\""},
    {"{\"verb\":\"status\",\"confirm\":true}", "unknown key \"confirm\" for verb \"status\""},
    {"{\"verb\":\"withdraw-all\",\"reason\":\"x\"}", "withdraw-all withdraws every prefix of this "
                                                     "PoP; refused without \"confirm\": true"},
    {"{\"verb\":\"withdraw-all\",\"reason\":\"x\",\"confirm\":false}",
     "withdraw-all withdraws every prefix of this PoP; refused without \"confirm\": true"},
    {"{\"verb\":\"withdraw-all\",\"reason\":\"x\",\"confirm\":\"yes\"}",
     "\"confirm\" must be true or false"},
    {"{\"verb\":\"withdraw-all\",\"confirm\":true}", "\"withdraw-all\" needs a reason"},
    {"{\"verb\":\"withdraw-all\",\"service\":\"dns\",\"reason\":\"x\",\"confirm\":true}",
     "unknown key \"service\" for verb \"withdraw-all\""},
    {long_reason_req, "\"reason\" is longer than 256 bytes"},
};

START_TEST(rejects_bad_requests)
{
        const struct bad_case *c = &bad_cases[_i];
        struct control_request rq;
        char err[256] = "";
        if (c->line == long_reason_req) {
                char reason[CONTROL_REASON_MAX + 2];
                memset(reason, 'r', sizeof(reason) - 1);
                reason[sizeof(reason) - 1] = '\0';
                snprintf(long_reason_req, sizeof(long_reason_req),
                         "{\"verb\":\"drain\",\"service\":\"dns\",\"reason\":\"%s\"}", reason);
        }
        ck_assert_int_eq(control_request_parse(c->line, strlen(c->line), &rq, err, sizeof(err)),
                         -EINVAL);
        ck_assert_msg(strncmp(err, c->error, strlen(c->error)) == 0, "%s: got \"%s\"", c->line,
                      err);
        ck_assert_ptr_null(rq.root);
}
END_TEST

START_TEST(builder_round_trips)
{
        for (int v = VERB_STATUS; v <= VERB_FLEET; v++) {
                bool svc = v != VERB_RELOAD && v != VERB_WITHDRAW_ALL;
                bool rsn = v == VERB_DISABLE || v == VERB_DRAIN || v == VERB_WITHDRAW_ALL;
                bool frc = v == VERB_DISABLE || v == VERB_DRAIN;
                ck_assert_int_eq(!!(control_verb_allows(v) & CONTROL_KEY_FORCE), frc);
                ck_assert_int_eq(control_verb_requires(v) & CONTROL_KEY_FORCE, 0);
                for (int force = 0; force <= (frc ? 1 : 0); force++) {
                        json_t *o = control_request_new(v, svc ? "dns" : NULL, rsn ? "why" : NULL,
                                                        true, force);
                        /* no "force": false on the wire: an older daemon
                         * would refuse the key */
                        ck_assert_int_eq(json_object_get(o, "force") != NULL, force);
                        char *s = json_dumps(o, JSON_COMPACT);
                        struct control_request rq;
                        char err[256] = "";
                        ck_assert_msg(control_request_parse(s, strlen(s), &rq, err, sizeof(err)) ==
                                          0,
                                      "%s: %s", s, err);
                        ck_assert_int_eq(rq.verb, v);
                        ck_assert_int_eq(rq.force, force);
                        ck_assert_str_eq(control_verb_name(rq.verb), control_verb_name(v));
                        ck_assert_int_eq(control_verb_mutates(rq.verb),
                                         v != VERB_STATUS && v != VERB_FLEET);
                        control_request_clear(&rq);
                        free(s);
                        json_decref(o);
                }
        }
        ck_assert_str_eq(control_verb_name(VERB_FLEET), "fleet");
        ck_assert_int_eq(VERB_FLEET, 7); /* appended: the old verbs keep their numbers */
}
END_TEST

START_TEST(replies_are_one_line)
{
        char *ok = control_reply_ok(NULL);
        ck_assert_str_eq(ok, "{\"ok\":true}\n");
        free(ok);
        char *err = control_reply_error("unknown service \"%s\"", "dnx");
        ck_assert_str_eq(err, "{\"ok\":false,\"error\":\"unknown service \\\"dnx\\\"\"}\n");
        free(err);
        json_t *d = json_pack("{s:s}", "pop", "ams1");
        char *with = control_reply_ok(d);
        ck_assert_str_eq(with, "{\"ok\":true,\"pop\":\"ams1\"}\n");
        free(with);
        json_decref(d);
}
END_TEST

START_TEST(status_json_carries_the_snapshot)
{
        fake_engine_reset();
        json_t *j = control_status_json("ams1", FAKE_NOW_USEC, fake_services, 2);
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
        ck_assert_str_eq(
            s,
            "{\"now\":1700000000,\"pop\":\"ams1\",\"services\":["
            "{\"checks\":[{\"duration_usec\":1234,\"last_result\":\"ok\",\"last_time\":1699999999,"
            "\"message\":\"connected in 1 ms\",\"plugin\":\"tcp\",\"results\":{\"critical\":3,"
            "\"ok\":120,\"unknown\":1,\"warning\":2},\"state\":\"up\",\"timeouts\":1}],"
            "\"dampening\":{\"penalty\":0.0,\"suppressed\":false},\"disabled\":false,"
            "\"disabled_reason\":null,\"drain_remaining_usec\":0,\"health\":\"up\",\"name\":"
            "\"dns\","
            "\"prefixes\":[{\"announced\":true,\"as\":\"up\",\"prefix\":\"203.0.113.53/32\","
            "\"route\":\"announce\",\"speaker\":\"confirmed\",\"to\":\"everyone\"},{\"announced\":"
            "true,"
            "\"as\":\"up\",\"prefix\":\"2001:db8:53::53/128\",\"route\":\"announce\",\"speaker\":"
            "\"pending\",\"to\":\"canaries\"}],"
            "\"reason\":\"check tcp[0] passed after 3 results\",\"since\":1699999808,\"state\":"
            "\"up\",\"transitions\":3},"
            "{\"checks\":[{\"duration_usec\":2500000,\"last_result\":\"critical\",\"last_time\":"
            "1699999999,\"message\":\"HTTP 503 \\\"busy\\\"\",\"plugin\":\"exec\",\"results\":{"
            "\"critical\":7,\"ok\":0,\"unknown\":0,\"warning\":0},\"state\":\"down\",\"timeouts\":"
            "0}"
            "],\"dampening\":{\"penalty\":1500.5,\"suppressed\":true},\"disabled\":false,"
            "\"disabled_reason\":null,\"drain_remaining_usec\":0,\"health\":\"down\",\"name\":"
            "\"web\",\"prefixes\":[{\"announced\":false,\"as\":null,\"prefix\":\"203.0.113.80/32\","
            "\"route\":\"withdraw\",\"speaker\":\"confirmed\",\"to\":null}],\"reason\":\"check "
            "exec[0] "
            "failed "
            "after 2 results\",\"since\":1699992500,\"state\":\"down\",\"transitions\":12}]}");
        free(s);
        json_decref(j);
}
END_TEST

START_TEST(status_json_before_first_result)
{
        struct check_status c = {.plugin = "tcp", .last_result = -1};
        struct service_status s = {.name = "new", .checks = &c, .n_checks = 1};
        json_t *j = control_status_json("p", FAKE_NOW_USEC, &s, 1);
        json_t *svc = json_array_get(json_object_get(j, "services"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(svc, "state")), "unknown");
        ck_assert(json_is_null(json_object_get(svc, "since")));
        json_t *chk = json_array_get(json_object_get(svc, "checks"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(chk, "last_result")), "none");
        ck_assert(json_is_null(json_object_get(chk, "last_time")));
        ck_assert(json_is_null(json_object_get(chk, "message")));
        json_decref(j);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("control_proto");
        TCase *tc = tcase_create("control_proto");
        tcase_add_loop_test(tc, parses_every_verb, 0, sizeof(good_cases) / sizeof(good_cases[0]));
        tcase_add_loop_test(tc, rejects_bad_requests, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
        tcase_add_test(tc, builder_round_trips);
        tcase_add_test(tc, replies_are_one_line);
        tcase_add_test(tc, status_json_carries_the_snapshot);
        tcase_add_test(tc, status_json_before_first_result);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
