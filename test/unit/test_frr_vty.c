/* test_frr_vty.c: the vty framing against a scripted fake vty socket:
 * enable first on every connection, the reply's three NULs and status
 * byte (also when they arrive a byte at a time), a connection closed
 * mid-reply or while idle, a refused enable. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_frr.h"
#include "frr_vty.h"

#define SEC 1000000ULL

static struct fake_frr_reply script(struct fake_frr *f, const char *cmd)
{
        if (strcmp(cmd, "enable") == 0)
                return (struct fake_frr_reply){.text = f->userdata ? "% denied\n" : "",
                                               .status = f->userdata ? 2 : 0};
        if (strcmp(cmd, "show version") == 0)
                return (struct fake_frr_reply){.text = "FRRouting 8.4.4 (pop4).\n", .split = true};
        if (strncmp(cmd, "no network", 10) == 0)
                return (struct fake_frr_reply){.text = "% Can't find static route specified\n",
                                               .status = 13};
        if (strcmp(cmd, "hang up") == 0)
                return (struct fake_frr_reply){.close = true};
        return (struct fake_frr_reply){0};
}

struct fixture {
        sd_event *e;
        struct fake_frr ff;
        struct frrvty *v;
        char dir[64], sock[128];
};

static void setup(struct fixture *fx)
{
        memset(fx, 0, sizeof(*fx));
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/ahd-frrvty.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(fx->dir));
        snprintf(fx->sock, sizeof(fx->sock), "%s/bgpd.vty", fx->dir);
        ck_assert_int_ge(sd_event_new(&fx->e), 0);
        ck_assert_int_eq(fake_frr_start(&fx->ff, fx->e, fx->sock, script), 0);
        ck_assert_int_eq(frrvty_new(fx->e, clock_system(), fx->sock, &fx->v), 0);
}

static void teardown(struct fixture *fx)
{
        frrvty_free(fx->v);
        fake_frr_stop(&fx->ff);
        sd_event_unref(fx->e);
        rmdir(fx->dir);
}

START_TEST(reply_end_needs_status_byte)
{
        int st;
        size_t tl;
        ck_assert_uint_eq(frrvty_reply_end("abc", 3, &st, &tl), 0);
        ck_assert_uint_eq(frrvty_reply_end("abc\0\0\0", 6, &st, &tl), 0);
        ck_assert_uint_eq(frrvty_reply_end("abc\0\0\0\x0d", 7, &st, &tl), 7);
        ck_assert_int_eq(st, 13);
        ck_assert_uint_eq(tl, 3);
        ck_assert_uint_eq(frrvty_reply_end("\0\0\0\0next", 8, &st, &tl), 4);
        ck_assert_int_eq(st, 0);
        ck_assert_uint_eq(tl, 0);
}
END_TEST

START_TEST(enable_then_commands)
{
        struct fixture fx;
        setup(&fx);
        char *text = NULL;
        ck_assert_int_eq(frrvty_command_sync(fx.e, fx.v, "show version", SEC, &text), 0);
        ck_assert_str_eq(text, "FRRouting 8.4.4 (pop4).\n"); /* arrived a byte at a time */
        free(text);
        ck_assert_uint_eq(fx.ff.n_cmds, 2);
        ck_assert_str_eq(fx.ff.cmds[0], "enable");
        ck_assert_str_eq(fx.ff.cmds[1], "show version");
        ck_assert_int_eq(frrvty_command_sync(fx.e, fx.v, "no network 203.0.113.1/32", SEC, &text),
                         13);
        ck_assert_str_eq(text, "% Can't find static route specified\n");
        free(text);
        ck_assert_int_eq(frrvty_command_sync(fx.e, fx.v, "configure terminal", SEC, NULL), 0);
        ck_assert_uint_eq(fake_frr_count(&fx.ff, "enable"), 1); /* one connection */
        ck_assert_uint_eq(fx.ff.accepts, 1);
        ck_assert_int_eq(frrvty_command(fx.v, "a\nb", SEC, NULL, NULL), -EINVAL);
        teardown(&fx);
}
END_TEST

static int lost_calls, lost_err;
static void on_lost(struct frrvty *v, int err, void *ud)
{
        lost_calls++;
        lost_err = err;
}

START_TEST(closed_mid_reply_and_idle)
{
        struct fixture fx;
        setup(&fx);
        frrvty_set_lost(fx.v, on_lost, NULL);
        lost_calls = 0;
        ck_assert_int_eq(frrvty_command_sync(fx.e, fx.v, "hang up", SEC, NULL), -ECONNRESET);
        ck_assert_int_eq(lost_calls, 0); /* the command got the error */
        ck_assert(!frrvty_connected(fx.v));
        /* the next command reconnects and enables again */
        ck_assert_int_eq(frrvty_command_sync(fx.e, fx.v, "show version", SEC, NULL), 0);
        ck_assert_uint_eq(fake_frr_count(&fx.ff, "enable"), 2);
        /* closed while idle: the lost hook */
        fake_frr_drop(&fx.ff);
        for (int i = 0; i < 100 && !lost_calls; i++)
                sd_event_run(fx.e, 10000);
        ck_assert_int_eq(lost_calls, 1);
        ck_assert_int_eq(lost_err, -ECONNRESET);
        ck_assert_int_eq(frrvty_connect(fx.v), 1);
        ck_assert_int_eq(frrvty_connect(fx.v), 0);
        teardown(&fx);
}
END_TEST

START_TEST(enable_refused_and_no_socket)
{
        struct fixture fx;
        setup(&fx);
        fx.ff.userdata = (void *)1;
        ck_assert_int_eq(frrvty_command_sync(fx.e, fx.v, "show version", SEC, NULL), -EPROTO);
        ck_assert_uint_eq(fake_frr_count(&fx.ff, "show version"), 0);
        fake_frr_stop(&fx.ff);
        ck_assert_int_eq(frrvty_command_sync(fx.e, fx.v, "show version", SEC, NULL), -ENOENT);
        teardown(&fx);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("frr_vty");
        TCase *tc = tcase_create("vty");
        tcase_add_test(tc, reply_end_needs_status_byte);
        tcase_add_test(tc, enable_then_commands);
        tcase_add_test(tc, closed_mid_reply_and_idle);
        tcase_add_test(tc, enable_refused_and_no_socket);
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
