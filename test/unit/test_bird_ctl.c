/* test_bird_ctl.c: the control-socket line parser, and the client against a
 * scripted server: greeting, multi-line replies, continuations, unsolicited
 * lines, success and error codes, cut-off replies, resets, timeouts, and
 * greeting and replies interleaved in any way without a busy loop. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bird_ctl.h"
#include "fake_bird.h"

#define DEADLINE (10 * 1000 * 1000ULL)

START_TEST(parse_forms)
{
        struct birdctl_line l;
        ck_assert_int_eq(birdctl_parse_line("0001 BIRD 2.0.12 ready.", &l), 0);
        ck_assert_int_eq(l.kind, BIRDCTL_LINE_LAST);
        ck_assert_int_eq(l.code, 1);
        ck_assert_str_eq(l.text, "BIRD 2.0.12 ready.");
        ck_assert_int_eq(birdctl_parse_line("0002-Reading configuration from /x", &l), 0);
        ck_assert_int_eq(l.kind, BIRDCTL_LINE_MORE);
        ck_assert_int_eq(l.code, 2);
        ck_assert_str_eq(l.text, "Reading configuration from /x");
        ck_assert_int_eq(birdctl_parse_line(" more text", &l), 0);
        ck_assert_int_eq(l.kind, BIRDCTL_LINE_CONT);
        ck_assert_str_eq(l.text, "more text");
        ck_assert_int_eq(birdctl_parse_line("+Bird is shutting down", &l), 0);
        ck_assert_int_eq(l.kind, BIRDCTL_LINE_ASYNC);
        ck_assert_str_eq(l.text, "Bird is shutting down");
        ck_assert_int_eq(birdctl_parse_line("8002 /etc/bird/r.conf:3:7 syntax error", &l), 0);
        ck_assert_int_eq(l.code, 8002);
        ck_assert(birdctl_code_is_error(l.code));
        ck_assert_int_eq(birdctl_parse_line("0000", &l), 0);
        ck_assert_int_eq(l.kind, BIRDCTL_LINE_LAST);
        ck_assert_int_eq(l.code, 0);
        ck_assert(!birdctl_code_is_error(20));
        ck_assert(birdctl_code_is_error(9001));
        ck_assert_int_eq(birdctl_parse_line("", &l), -EBADMSG);
        ck_assert_int_eq(birdctl_parse_line("12", &l), -EBADMSG);
        ck_assert_int_eq(birdctl_parse_line("00a1 x", &l), -EBADMSG);
        ck_assert_int_eq(birdctl_parse_line("0003xReconfigured", &l), -EBADMSG);
        ck_assert_int_eq(birdctl_parse_line("hello", &l), -EBADMSG);
}
END_TEST

/* ---- client against the scripted server ---- */

struct result {
        bool got;
        int error, code;
        char text[256], all[1024];
        uint64_t busy_usec, busy_max_usec;
        int codes[BIRDCTL_CODES_MAX];
        size_t n_codes;
        enum birdctl_status status;
};

static void on_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata)
{
        struct result *res = userdata;
        res->got = true;
        res->error = r->error;
        res->code = r->code;
        snprintf(res->text, sizeof(res->text), "%s", r->text);
        snprintf(res->all, sizeof(res->all), "%s", r->all);
        res->busy_usec = r->busy_usec;
        res->busy_max_usec = r->busy_max_usec;
        res->n_codes = r->n_codes;
        memcpy(res->codes, r->codes, r->n_codes * sizeof(r->codes[0]));
        res->status = birdctl_status_answer(r);
}

static const char *next_text;
static enum fake_after next_after;
static uint64_t next_delay;

static struct fake_reply scripted(struct fake_bird *f, const char *cmd)
{
        return (struct fake_reply){next_text, next_after, next_delay};
}

struct fixture {
        sd_event *e;
        struct fake_bird fb;
        struct birdctl *c;
        char dir[64], sock[128];
};

static void setup(struct fixture *fx)
{
        memset(fx, 0, sizeof(*fx));
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/ahd-birdctl.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(fx->dir));
        snprintf(fx->sock, sizeof(fx->sock), "%s/bird.ctl", fx->dir);
        ck_assert_int_ge(sd_event_new(&fx->e), 0);
        ck_assert_int_eq(fake_bird_start(&fx->fb, fx->e, fx->sock, scripted), 0);
        ck_assert_int_eq(birdctl_new(fx->e, clock_system(), fx->sock, &fx->c), 0);
        next_after = FAKE_KEEP;
        next_delay = 0;
}

static void teardown(struct fixture *fx)
{
        birdctl_free(fx->c);
        fake_bird_stop(&fx->fb);
        sd_event_unref(fx->e);
        rmdir(fx->dir);
}

static struct result command(struct fixture *fx, const char *cmd, const char *reply)
{
        struct result r = {0};
        next_text = reply;
        ck_assert_int_eq(birdctl_command(fx->c, cmd, DEADLINE, on_reply, &r), 0);
        ck_assert(run_until(fx->e, &r.got, DEADLINE));
        return r;
}

START_TEST(multi_line_with_continuations_and_async)
{
        struct fixture fx;
        setup(&fx);
        struct result r = command(&fx, "configure",
                                  "+unsolicited before\n"
                                  "0002-Reading configuration from /etc/bird/bird.conf\n"
                                  " continued here\n"
                                  "+unsolicited inside\n"
                                  "0003 Reconfigured\n");
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 3);
        ck_assert_str_eq(r.text, "Reconfigured");
        ck_assert_str_eq(r.all, "Reading configuration from /etc/bird/bird.conf\n"
                                "continued here\nReconfigured");
        ck_assert_int_eq(fake_bird_count(&fx.fb, "configure"), 1);
        /* The connection stays open for the next command. */
        r = command(&fx, "configure check", "0020 Configuration OK\n");
        ck_assert_int_eq(r.code, 20);
        ck_assert_str_eq(r.text, "Configuration OK");
        ck_assert_uint_eq(fx.fb.accepts, 1);
        ck_assert_int_eq(fake_bird_count(&fx.fb, "configure check"), 1);
        teardown(&fx);
}
END_TEST

/* A listing far past what a reply keeps (8 KiB): every line reaches the
 * line function in order, continuations with the code they continue,
 * and the final line too. */
static unsigned lines_seen, route_lines, cont_1007, last_seen;

static void on_line(struct birdctl *c, const struct birdctl_line *l, void *userdata)
{
        lines_seen++;
        if (l->code == 1007 && strchr(l->text, '/'))
                route_lines++;
        if (l->kind == BIRDCTL_LINE_CONT && l->code == 1007)
                cont_1007++;
        if (l->kind == BIRDCTL_LINE_LAST)
                last_seen++;
}

START_TEST(long_listing_line_by_line)
{
        struct fixture fx;
        setup(&fx);
        enum { N = 1500 }; /* about 100 KB: within one socket buffer */
        size_t cap = (size_t)N * 80 + 64, len = 0;
        char *text = malloc(cap);
        ck_assert_ptr_nonnull(text);
        len += (size_t)snprintf(text + len, cap - len, "1007-Table master6:\n");
        for (int i = 0; i < N; i++)
                len += (size_t)snprintf(text + len, cap - len,
                                        " 2001:db8::%x/128  blackhole [anycast_healthd6 "
                                        "17:26:54.987] * (200)\n",
                                        i);
        snprintf(text + len, cap - len, "0000 \n");
        next_text = text;
        struct result r = {0};
        lines_seen = route_lines = cont_1007 = last_seen = 0;
        ck_assert_int_eq(birdctl_command_lines(fx.c, "show route", DEADLINE, on_line, on_reply, &r),
                         0);
        ck_assert(run_until(fx.e, &r.got, DEADLINE));
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 0);
        ck_assert_str_eq(r.all, "");
        ck_assert_uint_eq(lines_seen, N + 2);
        /* its reading was timed: about 100 KB take at least two dispatches
         * of 64 reads of up to 1 KiB */
        ck_assert_uint_gt(r.busy_usec, 0);
        ck_assert_uint_le(r.busy_max_usec, r.busy_usec);
        ck_assert_uint_eq(route_lines, N);
        ck_assert_uint_eq(cont_1007, N);
        ck_assert_uint_eq(last_seen, 1);
        /* the next plain command keeps its reply again */
        r = command(&fx, "configure check", "0020 Configuration OK\n");
        ck_assert_str_eq(r.all, "Configuration OK");
        ck_assert_uint_eq(lines_seen, N + 2);
        free(text);
        teardown(&fx);
}
END_TEST

START_TEST(in_progress_and_queued)
{
        struct fixture fx;
        setup(&fx);
        struct result r = command(&fx, "configure", "0004 Reconfiguration in progress\n");
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 4);
        r = command(&fx, "configure",
                    "0002-Reading configuration from /x\n"
                    "0005 Reconfiguration already in progress, queueing new config\n");
        ck_assert_int_eq(r.code, 5);
        ck_assert_str_eq(r.text, "Reconfiguration already in progress, queueing new config");
        teardown(&fx);
}
END_TEST

/* What BIRD 3.1.8 answers to `configure status` (and 2.0.12 alike): the
 * state on a "DDDD-" line, an undo line maybe, "0000 " last. Only the
 * codes decide: the same codes with other text mean the same, and text
 * that reads "up and running" under another code does not. */
START_TEST(configure_status_by_code)
{
        struct fixture fx;
        setup(&fx);
        struct result r =
            command(&fx, "configure status", "0003-Daemon is up and running\n0000 \n");
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 0);
        ck_assert_uint_eq(r.n_codes, 2);
        ck_assert_int_eq(r.codes[0], 3);
        ck_assert_int_eq(r.codes[1], 0);
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_DONE);
        r = command(&fx, "configure status",
                    "0004-Reconfiguration in progress\n"
                    "0022-Configuration unconfirmed, undo in 30.000 s\n0000 \n");
        ck_assert_uint_eq(r.n_codes, 3);
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_PROGRESS);
        r = command(&fx, "configure status",
                    "0005-Reconfiguration in progress, next one enqueued\n0000\n");
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_PROGRESS);
        r = command(&fx, "configure status", "0006-Shutdown in progress\n0000 \n");
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_SHUTDOWN);
        r = command(&fx, "configure status", "9001 syntax error, unexpected STATUS\n");
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_REFUSED);
        r = command(&fx, "configure status", "8007 Access denied\n");
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_REFUSED);
        /* Text is never read: foreign words, same codes, same meaning... */
        r = command(&fx, "configure status", "0003-Alles in Ordnung\n0000 \n");
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_DONE);
        r = command(&fx, "configure status", "0004-Daemon is up and running\n0000 \n");
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_PROGRESS);
        /* ...and no known code is no answer, whatever the text says. */
        r = command(&fx, "configure status", "0000 Daemon is up and running\n");
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_UNKNOWN);
        r = command(&fx, "configure status", "1000-Daemon is up and running\n0000 \n");
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_UNKNOWN);
        /* Continuations carry no code of their own. */
        r = command(&fx, "configure status", "0004-Reconfiguration\n in progress\n0000 \n");
        ck_assert_uint_eq(r.n_codes, 2);
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_PROGRESS);
        teardown(&fx);
}
END_TEST

/* More numbered lines than codes kept: the first ones and the final one. */
START_TEST(many_lines_keep_first_and_final_codes)
{
        struct fixture fx;
        setup(&fx);
        static char reply[4096];
        size_t n = 0;
        n += (size_t)snprintf(reply + n, sizeof(reply) - n, "0004-in progress\n");
        for (int i = 0; i < 40; i++)
                n += (size_t)snprintf(reply + n, sizeof(reply) - n, "1%03d-line %d\n", i, i);
        snprintf(reply + n, sizeof(reply) - n, "9001 nope\n");
        struct result r = command(&fx, "configure status", reply);
        ck_assert_uint_eq(r.n_codes, BIRDCTL_CODES_MAX);
        ck_assert_int_eq(r.codes[0], 4);
        ck_assert_int_eq(r.codes[BIRDCTL_CODES_MAX - 1], 9001);
        ck_assert_int_eq(r.status, BIRDCTL_STATUS_REFUSED);
        /* A transport error has no codes. */
        next_text = "0004-in progress\n";
        next_after = FAKE_RESET;
        r = (struct result){0};
        ck_assert_int_eq(birdctl_command(fx.c, "configure status", DEADLINE, on_reply, &r), 0);
        ck_assert(run_until(fx.e, &r.got, DEADLINE));
        ck_assert_int_eq(r.error, -ECONNRESET);
        ck_assert_uint_eq(r.n_codes, 0);
        teardown(&fx);
}
END_TEST

/* The answer to `configure` by its final code (cmd_reconfig_msg()). */
START_TEST(configure_answer_by_code)
{
        ck_assert_int_eq(birdctl_configure_answer(3), BIRDCTL_CONFIGURE_DONE);
        ck_assert_int_eq(birdctl_configure_answer(4), BIRDCTL_CONFIGURE_PENDING);
        ck_assert_int_eq(birdctl_configure_answer(5), BIRDCTL_CONFIGURE_PENDING);
        ck_assert_int_eq(birdctl_configure_answer(19), BIRDCTL_CONFIGURE_PENDING);
        ck_assert_int_eq(birdctl_configure_answer(6), BIRDCTL_CONFIGURE_SHUTDOWN);
        ck_assert_int_eq(birdctl_configure_answer(8002), BIRDCTL_CONFIGURE_REFUSED);
        ck_assert_int_eq(birdctl_configure_answer(9001), BIRDCTL_CONFIGURE_REFUSED);
}
END_TEST

START_TEST(error_replies)
{
        struct fixture fx;
        setup(&fx);
        struct result r = command(&fx, "configure",
                                  "0002-Reading configuration from /etc/bird/bird.conf\n"
                                  "8002 /var/lib/r4.conf:2:40 syntax error, unexpected '}'\n");
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 8002);
        ck_assert_str_eq(r.text, "/var/lib/r4.conf:2:40 syntax error, unexpected '}'");
        r = command(&fx, "configur", "9001 syntax error, unexpected CF_SYM_UNDEFINED\n");
        ck_assert_int_eq(r.code, 9001);
        ck_assert(birdctl_code_is_error(r.code));
        teardown(&fx);
}
END_TEST

START_TEST(reply_cut_off_mid_line)
{
        struct fixture fx;
        setup(&fx);
        next_after = FAKE_CLOSE;
        struct result r = command(&fx, "configure", "0002-Reading configuration from /x\n00");
        ck_assert_int_eq(r.error, -ECONNRESET);
        ck_assert_int_eq(r.code, -1);
        ck_assert(!birdctl_connected(fx.c));
        /* The next command reconnects. */
        next_after = FAKE_KEEP;
        r = command(&fx, "configure", "0003 Reconfigured\n");
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 3);
        ck_assert_uint_eq(fx.fb.accepts, 2);
        teardown(&fx);
}
END_TEST

START_TEST(connection_reset)
{
        struct fixture fx;
        setup(&fx);
        next_after = FAKE_RESET;
        struct result r = command(&fx, "configure", "0002-Reading configuration from /x\n");
        ck_assert_int_eq(r.error, -ECONNRESET);
        teardown(&fx);
}
END_TEST

START_TEST(idle_close_then_reconnect)
{
        struct fixture fx;
        setup(&fx);
        struct result r = command(&fx, "configure", "0003 Reconfigured\n");
        ck_assert_int_eq(r.code, 3);
        /* BIRD restarts while we are idle. */
        fake_bird_stop(&fx.fb);
        run_for(fx.e, 100 * 1000);
        ck_assert(!birdctl_connected(fx.c));
        ck_assert_int_eq(fake_bird_start(&fx.fb, fx.e, fx.sock, scripted), 0);
        r = command(&fx, "configure", "0003 Reconfigured\n");
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 3);
        teardown(&fx);
}
END_TEST

START_TEST(one_command_at_a_time_and_timeout)
{
        struct fixture fx;
        setup(&fx);
        struct result r = {0};
        next_after = FAKE_SILENT;
        ck_assert_int_eq(birdctl_command(fx.c, "configure", 300 * 1000, on_reply, &r), 0);
        ck_assert(birdctl_busy(fx.c));
        struct result r2 = {0};
        ck_assert_int_eq(birdctl_command(fx.c, "configure", DEADLINE, on_reply, &r2), -EBUSY);
        ck_assert(run_until(fx.e, &r.got, DEADLINE));
        ck_assert_int_eq(r.error, -ETIMEDOUT);
        ck_assert(!birdctl_busy(fx.c));
        ck_assert(!r2.got);
        ck_assert_uint_eq(fx.fb.max_outstanding, 1);
        teardown(&fx);
}
END_TEST

START_TEST(bad_greeting)
{
        struct fixture fx;
        setup(&fx);
        fx.fb.greeting = "9999 go away\n";
        struct result r = command(&fx, "configure", "0003 Reconfigured\n");
        ck_assert_int_eq(r.error, -EPROTO);
        teardown(&fx);
}
END_TEST

START_TEST(long_line_and_bad_command)
{
        struct fixture fx;
        setup(&fx);
        char big[2048];
        memset(big, 'x', sizeof(big) - 2);
        memcpy(big, "0002-", 5);
        big[sizeof(big) - 2] = '\n';
        big[sizeof(big) - 1] = '\0';
        struct result r = command(&fx, "configure", big);
        ck_assert_int_eq(r.error, -EPROTO);
        struct result r2 = {0};
        ck_assert_int_eq(birdctl_command(fx.c, "configure\nshow", DEADLINE, on_reply, &r2),
                         -EINVAL);
        teardown(&fx);
}
END_TEST

START_TEST(no_socket)
{
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct birdctl *c;
        ck_assert_int_eq(birdctl_new(e, clock_system(), "/tmp/ahd-no-such-dir/bird.ctl", &c), 0);
        struct result r = {0};
        ck_assert_int_eq(birdctl_command(c, "configure", DEADLINE, on_reply, &r), -ENOENT);
        ck_assert(!birdctl_busy(c));
        birdctl_free(c);
        sd_event_unref(e);
}
END_TEST

/* Asserts the loop settles: a few dispatches, then nothing for 50 ms. A
 * busy loop (an armed EPOLLOUT with nothing to send) never returns 0. */
static void assert_goes_idle(sd_event *e)
{
        int i = 0;
        while (sd_event_run(e, 0) > 0)
                ck_assert_int_lt(++i, 100);
        ck_assert_int_eq(sd_event_run(e, 50 * 1000), 0);
}

START_TEST(greeting_and_stray_replies_in_one_read)
{
        struct fixture fx;
        setup(&fx);
        /* Final lines before our command was written answer nothing we
         * sent: they must neither complete the command nor stall it. */
        fx.fb.greeting = "0001 BIRD 2.0.12 ready.\n0003 a\n0003 b\n";
        struct result r = command(&fx, "configure", "0003 Reconfigured\n");
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 3);
        ck_assert_str_eq(r.all, "Reconfigured");
        ck_assert_int_eq(fake_bird_count(&fx.fb, "configure"), 1);
        assert_goes_idle(fx.e);
        r = command(&fx, "configure check", "0020 Configuration OK\n");
        ck_assert_str_eq(r.all, "Configuration OK");
        assert_goes_idle(fx.e);
        teardown(&fx);
}
END_TEST

/* Writes text to the fake's connection one byte per loop turn. */
static void trickle(struct fixture *fx, const char *text)
{
        for (const char *p = text; *p; p++) {
                ck_assert_int_eq(write(fx->fb.fd, p, 1), 1);
                int i = 0;
                while (sd_event_run(fx->e, 0) > 0)
                        ck_assert_int_lt(++i, 100);
        }
}

START_TEST(greeting_and_reply_split_at_every_byte)
{
        struct fixture fx;
        setup(&fx);
        fx.fb.greeting = "";
        next_text = NULL;
        next_after = FAKE_SILENT;
        struct result r = {0};
        ck_assert_int_eq(birdctl_command(fx.c, "configure", DEADLINE, on_reply, &r), 0);
        run_for(fx.e, 20 * 1000);
        ck_assert_int_ge(fx.fb.fd, 0);
        trickle(&fx, "+before the greeting\n0001 BIRD 2.0.12 ready.\n");
        run_for(fx.e, 20 * 1000);
        ck_assert_int_eq(fake_bird_count(&fx.fb, "configure"), 1);
        trickle(&fx, "+unsolicited\n0002-Reading configuration\n continued\n+inside\n"
                     "0003 Reconfigured\n+after\n");
        ck_assert(r.got);
        ck_assert_int_eq(r.error, 0);
        ck_assert_int_eq(r.code, 3);
        ck_assert_str_eq(r.all, "Reading configuration\ncontinued\nReconfigured");
        assert_goes_idle(fx.e);
        teardown(&fx);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("birdctl");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, parse_forms);
        tcase_add_test(tc, multi_line_with_continuations_and_async);
        tcase_add_test(tc, long_listing_line_by_line);
        tcase_add_test(tc, in_progress_and_queued);
        tcase_add_test(tc, error_replies);
        tcase_add_test(tc, configure_status_by_code);
        tcase_add_test(tc, many_lines_keep_first_and_final_codes);
        tcase_add_test(tc, configure_answer_by_code);
        tcase_add_test(tc, reply_cut_off_mid_line);
        tcase_add_test(tc, connection_reset);
        tcase_add_test(tc, idle_close_then_reconnect);
        tcase_add_test(tc, one_command_at_a_time_and_timeout);
        tcase_add_test(tc, bad_greeting);
        tcase_add_test(tc, long_line_and_bad_command);
        tcase_add_test(tc, no_socket);
        tcase_add_test(tc, greeting_and_stray_replies_in_one_read);
        tcase_add_test(tc, greeting_and_reply_split_at_every_byte);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
