/* test_healthctl_render.c: anycast-healthctl's table for people, from the
 * status JSON the daemon sends (built here from the scripted snapshot). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"
#include "fake_engine.h"
#include "healthctl_render.h"
#include "log.h"

START_TEST(relative_times)
{
        static const struct {
                int64_t ago;
                const char *text;
        } cases[] = {
            {0, "0s ago"},        {59, "59s ago"},    {60, "1m0s ago"},   {192, "3m12s ago"},
            {3599, "59m59s ago"}, {3600, "1h0m ago"}, {7500, "2h5m ago"}, {86400, "1d0h ago"},
            {90061, "1d1h ago"},  {-5, "0s ago"}, /* a clock step must not print nonsense */
        };
        char buf[32];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                format_ago(buf, sizeof(buf), 1000000, 1000000 - cases[i].ago);
                ck_assert_str_eq(buf, cases[i].text);
        }
        format_ago(buf, sizeof(buf), 1000000, 0);
        ck_assert_str_eq(buf, "-");
}
END_TEST

START_TEST(durations)
{
        char buf[32];
        format_duration_usec(buf, sizeof(buf), 850);
        ck_assert_str_eq(buf, "850us");
        format_duration_usec(buf, sizeof(buf), 1234);
        ck_assert_str_eq(buf, "1.2ms");
        format_duration_usec(buf, sizeof(buf), 2500000);
        ck_assert_str_eq(buf, "2.50s");
}
END_TEST

static char *render_fake(void)
{
        json_t *j = control_status_json("ams1", FAKE_NOW_USEC, fake_services, 2);
        char *line = control_reply_ok(j);
        json_decref(j);
        /* as the CLI does: parse the reply line */
        json_t *reply = json_loads(line, 0, NULL);
        free(line);
        ck_assert_ptr_nonnull(reply);
        char *text = healthctl_render_status(reply);
        json_decref(reply);
        ck_assert_ptr_nonnull(text);
        return text;
}

START_TEST(status_table)
{
        fake_engine_reset();
        char *text = render_fake();
        ck_assert_str_eq(
            text,
            "PoP ams1: 2 services\n"
            "\n"
            "SERVICE  STATE  SINCE      REASON\n"
            "dns      up     3m12s ago  check tcp[0] passed after 3 results\n"
            "web      down   2h5m ago   check exec[0] failed after 2 results; dampening penalty "
            "1500 (suppressed)\n"
            "\n"
            "dns\n"
            "  CHECK  PLUGIN  STATE  LAST  DURATION  MESSAGE\n"
            "  0      tcp     up     ok    1.2ms     connected in 1 ms\n"
            "  PREFIX               ROUTE      AS  SPEAKER\n"
            "  203.0.113.53/32      announced  up  confirmed\n"
            "  2001:db8:53::53/128  canaries   up  pending\n"
            "\n"
            "web\n"
            "  CHECK  PLUGIN  STATE  LAST      DURATION  MESSAGE\n"
            "  0      exec    down   critical  2.50s     HTTP 503 \"busy\"\n"
            "  PREFIX           ROUTE      AS  SPEAKER\n"
            "  203.0.113.80/32  withdrawn  -   confirmed\n");
        free(text);
}
END_TEST

START_TEST(disabled_and_draining)
{
        fake_engine_reset();
        fake_services[0].state = SVC_DISABLED;
        fake_services[0].disabled = true;
        fake_services[0].disabled_reason = "maintenance";
        fake_services[0].reason = "disabled by the operator";
        fake_services[1].state = SVC_DRAINING;
        fake_services[1].drain_remaining_usec = 25000000;
        fake_services[1].dampening_penalty = 0;
        fake_services[1].dampening_suppressed = false;
        fake_services[1].reason = NULL;
        char *text = render_fake();
        ck_assert_msg(strstr(text, "dns      disabled                       3m12s ago  disabled by "
                                   "the operator; disabled: maintenance\n"),
                      "%s", text);
        ck_assert_msg(strstr(text, "web      draining (withdraw in 25.00s)  2h5m ago   -\n"), "%s",
                      text);
        free(text);
}
END_TEST

START_TEST(no_first_result_yet)
{
        struct check_status c = {.plugin = "tcp", .last_result = -1};
        struct service_status s = {.name = "new", .checks = &c, .n_checks = 1};
        json_t *j = control_status_json("p", FAKE_NOW_USEC, &s, 1);
        char *text = healthctl_render_status(j);
        json_decref(j);
        ck_assert_msg(strstr(text, "new      unknown  -      -\n"), "%s", text);
        ck_assert_msg(strstr(text, "  0      tcp     unknown  none  -         -\n"), "%s", text);
        free(text);
}
END_TEST

/* Text from outside (a plugin's message, a reason, a name) reaches the
 * terminal with its control characters escaped: no forged lines, no
 * escape sequences. */
START_TEST(control_characters_escaped)
{
        fake_engine_reset();
        fake_services[0].reason = "evil\nweb      up\x1b[2J";
        fake_services[1].name = "w\x7f";
        struct check_status *c = (struct check_status *)fake_services[0].checks;
        c->last_message = "bell\a\ttab";
        char *text = render_fake();
        ck_assert_msg(strstr(text, "evil\\x0aweb      up\\x1b[2J\n"), "%s", text);
        ck_assert_msg(strstr(text, "\nw\\x7f\n"), "%s", text);
        ck_assert_msg(strstr(text, "bell\\x07\\x09tab\n"), "%s", text);
        ck_assert_ptr_null(strchr(text, '\x1b'));
        free(text);

        char buf[8];
        /* an escape is never cut: it fits whole or not at all */
        ck_assert_str_eq(log_sanitise(buf, sizeof(buf), "abc\n"), "abc\\x0a");
        ck_assert_str_eq(log_sanitise(buf, sizeof(buf), "abcd\n"), "abcd");
        ck_assert_str_eq(log_sanitise(buf, sizeof(buf), "caf\xc3\xa9"), "caf\xc3\xa9");
}
END_TEST

START_TEST(not_a_status)
{
        json_t *j = json_pack("{s:b}", "ok", 1);
        ck_assert_ptr_null(healthctl_render_status(j));
        json_decref(j);
}
END_TEST

/* A fleet reply as the CLI gets it: {"ok":true} joined with the view. */
static char *render_fleet(const char *view)
{
        json_error_t je;
        json_t *j = json_loads(view, 0, &je);
        ck_assert_msg(j != NULL, "%s", je.text);
        char *line = control_reply_ok(j);
        json_decref(j);
        json_t *reply = json_loads(line, 0, NULL);
        free(line);
        ck_assert_ptr_nonnull(reply);
        char *text = healthctl_render_fleet(reply);
        json_decref(reply);
        ck_assert_ptr_nonnull(text);
        return text;
}

#define FLEET_READY                                                                                \
        "\"fleet\":{\"ready\":true,\"endpoint\":\"http://192.0.2.66:2379\",\"problem\":\"\","      \
        "\"prefix\":\"/anycast-healthd/\",\"lease_s\":10,\"on_unreachable\":\"local\"}"

START_TEST(fleet_table)
{
        char *text = render_fleet(
            "{\"pop\":\"pop1\",\"now\":1764806400," FLEET_READY ",\"services\":["
            "{\"name\":\"dns\",\"min_pops\":1,\"announcing\":2,\"pops\":["
            "{\"pop\":\"pop1\",\"announced\":true,\"held\":false,\"state\":\"up\","
            "\"since\":1764806300,\"reason\":\"checks passed\"},"
            "{\"pop\":\"pop2\",\"announced\":false,\"held\":false,\"state\":\"down\","
            "\"since\":1764806390,\"reason\":\"check 0 failed\"},"
            "{\"pop\":\"pop-long3\",\"announced\":true,\"held\":true,\"state\":\"down\","
            "\"since\":1764799200,\"reason\":\"held: withdrawing would leave 0 of 1\"}]},"
            "{\"name\":\"web\",\"min_pops\":0,\"announcing\":1,\"pops\":["
            "{\"pop\":\"pop1\",\"announced\":true,\"held\":false,\"state\":\"up\","
            "\"since\":0,\"reason\":\"\"}]}]}");
        ck_assert_str_eq(text,
                         "fleet /anycast-healthd/ via http://192.0.2.66:2379: ready, lease 10 s, "
                         "on_unreachable local\n"
                         "\n"
                         "dns  floor 1  announcing 2 of 3 PoPs\n"
                         "  POP        ANNOUNCED  STATE  SINCE      REASON\n"
                         "  pop1       yes        up     1m40s ago  checks passed\n"
                         "  pop2       no         down   10s ago    check 0 failed\n"
                         "  pop-long3  held       down   2h0m ago   held: withdrawing would "
                         "leave 0 of 1\n"
                         "\n"
                         "web  no floor  announcing 1 of 1 PoP\n"
                         "  POP   ANNOUNCED  STATE  SINCE  REASON\n"
                         "  pop1  yes        up     -      -\n");
        free(text);
}
END_TEST

START_TEST(fleet_not_ready)
{
        char *text = render_fleet(
            "{\"pop\":\"pop1\",\"now\":1764806400,\"fleet\":{\"ready\":false,"
            "\"endpoint\":\"http://192.0.2.66:2379\",\"problem\":\"etcd unreachable: "
            "Connection refused\",\"prefix\":\"/anycast-healthd/\",\"lease_s\":10,"
            "\"on_unreachable\":\"withdraw\"},\"services\":[{\"name\":\"dns\",\"min_pops\":2,"
            "\"announcing\":0,\"pops\":[]}]}");
        ck_assert_str_eq(text,
                         "fleet /anycast-healthd/ via http://192.0.2.66:2379: NOT READY: etcd "
                         "unreachable: Connection refused; on_unreachable withdraw\n"
                         "\n"
                         "dns  floor 2  announcing 0 of 0 PoPs (below the floor)\n"
                         "  no PoP in the view\n");
        free(text);
        /* not ready without a problem still says it is not ready */
        text = render_fleet("{\"now\":1,\"fleet\":{\"ready\":false,\"endpoint\":\"e\",\"prefix\":"
                            "\"/p/\",\"on_unreachable\":\"local\"},\"services\":[]}");
        ck_assert_str_eq(text,
                         "fleet /p/ via e: NOT READY: no reason given; on_unreachable local\n");
        free(text);
}
END_TEST

START_TEST(fleet_below_the_floor_and_escaped)
{
        char *text = render_fleet(
            "{\"now\":1764806400," FLEET_READY ",\"services\":[{\"name\":\"d\\u001bns\","
            "\"min_pops\":3,\"announcing\":2,\"pops\":["
            "{\"pop\":\"p\\nq\",\"announced\":true,\"state\":\"up\",\"since\":1764806399,"
            "\"reason\":\"ok\"},{\"pop\":\"r\",\"announced\":true,\"state\":\"up\","
            "\"since\":1764806399,\"reason\":\"ok\"}]}]}");
        ck_assert_msg(
            strstr(text, "\nd\\x1bns  floor 3  announcing 2 of 2 PoPs (below the floor)\n"), "%s",
            text);
        ck_assert_msg(strstr(text, "  p\\x0aq  yes        up     1s ago  ok\n"), "%s", text);
        ck_assert_ptr_null(strchr(text, '\x1b'));
        free(text);
}
END_TEST

START_TEST(not_a_fleet_view)
{
        json_t *j = control_status_json("ams1", FAKE_NOW_USEC, fake_services, 0);
        ck_assert_ptr_null(healthctl_render_fleet(j));
        json_decref(j);
        j = json_pack("{s:{s:b},s:s}", "fleet", "ready", 1, "services", "x");
        ck_assert_ptr_null(healthctl_render_fleet(j));
        json_decref(j);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("healthctl_render");
        TCase *tc = tcase_create("healthctl_render");
        tcase_add_test(tc, relative_times);
        tcase_add_test(tc, durations);
        tcase_add_test(tc, status_table);
        tcase_add_test(tc, disabled_and_draining);
        tcase_add_test(tc, no_first_result_yet);
        tcase_add_test(tc, control_characters_escaped);
        tcase_add_test(tc, not_a_status);
        tcase_add_test(tc, fleet_table);
        tcase_add_test(tc, fleet_not_ready);
        tcase_add_test(tc, fleet_below_the_floor_and_escaped);
        tcase_add_test(tc, not_a_fleet_view);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
