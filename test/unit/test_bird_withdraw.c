/* test_bird_withdraw.c: --withdraw-all against a scripted BIRD control
 * socket: the include files end up empty whatever they held, exactly one
 * `configure` is sent (then `configure status` while BIRD answers "in
 * progress"), and each way BIRD can answer (or not) gives the
 * documented result; the command-line action skips a clean stop, refuses
 * the ExaBGP backend and does not read service files. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bird_config.h"
#include "bird_withdraw.h"
#include "speakers.h"
#include "fake_bird.h"

#define TIMEOUT (5 * 1000 * 1000ULL)

static struct fake_reply configure_reply;
/* `configure status`: busy_polls answers 0004, then status_final. */
static unsigned busy_polls;
static const char *status_final;

static struct fake_reply script(struct fake_bird *f, const char *cmd)
{
        if (strcmp(cmd, "configure") == 0)
                return configure_reply;
        if (strcmp(cmd, "configure status") == 0) {
                if (busy_polls) {
                        busy_polls--;
                        return (struct fake_reply){"0004-Reconfiguration in progress\n0000 \n",
                                                   FAKE_KEEP, 0};
                }
                return (struct fake_reply){status_final, FAKE_KEEP, 0};
        }
        return (struct fake_reply){"9001 syntax error\n", FAKE_KEEP, 0};
}

static const struct fake_reply OK_REPLY = {
    "0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n", FAKE_KEEP, 0};

struct fixture {
        sd_event *e;
        struct fake_bird fb;
        struct config cfg;
        struct bird_settings bs; /* cfg's "bird" block */
        char dir[64], sock[128], r4[128], r6[128], conf[128], svcdir[128], svc[160];
        char c4[128], c6[128]; /* the canary files beside r4 and r6 */
};

static void put(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

static const char ROUTES4[] = "route 203.0.113.1/32 blackhole { bgp_med = 100; };\n"
                              "route 203.0.113.2/32 blackhole;\n";
static const char ROUTES6[] = "route 2001:db8::1/128 blackhole;\n";

static void setup(struct fixture *fx, bool with_server)
{
        memset(fx, 0, sizeof(*fx));
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/ahd-birdwd.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(fx->dir));
        snprintf(fx->sock, sizeof(fx->sock), "%s/bird.ctl", fx->dir);
        snprintf(fx->r4, sizeof(fx->r4), "%s/routes4.conf", fx->dir);
        snprintf(fx->r6, sizeof(fx->r6), "%s/routes6.conf", fx->dir);
        snprintf(fx->conf, sizeof(fx->conf), "%s/anycast-healthd.json", fx->dir);
        snprintf(fx->svcdir, sizeof(fx->svcdir), "%s/services.d", fx->dir);
        snprintf(fx->svc, sizeof(fx->svc), "%s/broken.json", fx->svcdir);
        snprintf(fx->c4, sizeof(fx->c4), "%s/routes4-canary.conf", fx->dir);
        snprintf(fx->c6, sizeof(fx->c6), "%s/routes6-canary.conf", fx->dir);
        put(fx->r4, ROUTES4);
        put(fx->r6, ROUTES6);
        /* routes on trial (a service's canary) */
        put(fx->c4, "route 203.0.113.3/32 blackhole;\n");
        put(fx->c6, "route 2001:db8::3/128 blackhole;\n");
        ck_assert_int_ge(sd_event_new(&fx->e), 0);
        configure_reply = OK_REPLY;
        busy_polls = 0;
        status_final = "0003-Daemon is up and running\n0000 \n";
        fx->fb.listen_fd = fx->fb.fd = -1;
        if (with_server)
                ck_assert_int_eq(fake_bird_start(&fx->fb, fx->e, fx->sock, script), 0);
        fx->bs.socket = fx->sock;
        fx->bs.include_v4 = fx->r4;
        fx->bs.include_v6 = fx->r6;
        config_speaker_put(&fx->cfg, &bird_block, &fx->bs);
        speakers_register(); /* speaker_withdraw_all_main loads daemon files */
}

static void teardown(struct fixture *fx)
{
        fake_bird_stop(&fx->fb);
        sd_event_unref(fx->e);
        unlink(fx->r4);
        unlink(fx->r6);
        unlink(fx->c4);
        unlink(fx->c6);
        unlink(fx->conf);
        unlink(fx->svc);
        rmdir(fx->svcdir);
        rmdir(fx->dir);
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        static char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

/* Empty as the backend writes it: comments only, readable by BIRD. */
static void assert_empty(const char *path)
{
        const char *t = slurp(path);
        ck_assert(strncmp(t, "route", 5) != 0);
        ck_assert_ptr_null(strstr(t, "\nroute"));
        ck_assert_ptr_nonnull(strstr(t, "# anycast-healthd: 0 IPv"));
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0644);
}

static int withdraw(struct fixture *fx, uint64_t timeout)
{
        return bird_withdraw_all(fx->e, &fx->cfg, timeout);
}

START_TEST(confirmed_empties_both_files_with_one_configure)
{
        struct fixture fx;
        setup(&fx, true);
        chmod(fx.r4, 0600); /* a stray mode is fixed too */
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 0);
        assert_empty(fx.r4);
        assert_empty(fx.r6);
        /* routes on trial are ours too: the canary files empty as well */
        assert_empty(fx.c4);
        assert_empty(fx.c6);
        ck_assert_ptr_nonnull(strstr(slurp(fx.c4), "on trial"));
        ck_assert_uint_eq(fx.fb.n_cmds, 1);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 1);
        teardown(&fx);
}
END_TEST

START_TEST(already_empty_files_still_configure)
{
        /* A daemon killed between its write and its configure leaves empty
         * files while BIRD still runs the old routes. */
        struct fixture fx;
        setup(&fx, true);
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 0);
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 0);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 2);
        teardown(&fx);
}
END_TEST

START_TEST(missing_files_are_created)
{
        struct fixture fx;
        setup(&fx, true);
        unlink(fx.r4);
        unlink(fx.r6);
        unlink(fx.c4);
        unlink(fx.c6);
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 0);
        assert_empty(fx.r4);
        assert_empty(fx.r6);
        assert_empty(fx.c4);
        assert_empty(fx.c6);
        teardown(&fx);
}
END_TEST

START_TEST(in_progress_and_queued_count_as_accepted)
{
        struct fixture fx;
        setup(&fx, true);
        configure_reply =
            (struct fake_reply){"0002-Reading configuration from /etc/bird/bird.conf\n"
                                "0004 Reconfiguration in progress\n",
                                FAKE_KEEP, 0};
        busy_polls = 2;
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 0);
        /* confirmed by `configure status`: 0004 twice, then 0003 */
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure status"), 3);
        configure_reply = (struct fake_reply){
            "0005 Reconfiguration already in progress, queueing new config\n", FAKE_KEEP, 0};
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 0);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure status"), 4);
        /* Never confirmed (BIRD busy for ever, or a status refused): still
         * accepted, the files are empty and BIRD parsed them; bounded by
         * the timeout. */
        busy_polls = 1000000;
        ck_assert_int_eq(withdraw(&fx, 300 * 1000), 0);
        busy_polls = 0;
        status_final = "9001 syntax error\n";
        unsigned n = fake_bird_count(&fx.fb, "configure status");
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 0);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure status"), n + 1);
        teardown(&fx);
}
END_TEST

START_TEST(unsolicited_lines_and_delay_are_waited_through)
{
        struct fixture fx;
        setup(&fx, true);
        configure_reply = (struct fake_reply){"+Reconfiguring\n0002-Reading configuration from x\n"
                                              " continued\n0003 Reconfigured\n",
                                              FAKE_KEEP, 300 * 1000};
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 0);
        teardown(&fx);
}
END_TEST

START_TEST(refused_is_an_error_and_files_stay_empty)
{
        struct fixture fx;
        setup(&fx, true);
        configure_reply =
            (struct fake_reply){"0002-Reading configuration from /etc/bird/bird.conf\n"
                                "8002 /etc/bird/bird.conf:3:1 syntax error\n",
                                FAKE_KEEP, 0};
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), -EREMOTEIO);
        assert_empty(fx.r4);
        assert_empty(fx.r6);
        configure_reply = (struct fake_reply){"9001 Unknown command\n", FAKE_KEEP, 0};
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), -EREMOTEIO);
        teardown(&fx);
}
END_TEST

START_TEST(bird_not_running_empties_files)
{
        struct fixture fx;
        setup(&fx, false);
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 1);
        assert_empty(fx.r4);
        assert_empty(fx.r6);
        /* A socket file nobody listens on: BIRD died. */
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        memcpy(sa.sun_path, fx.sock, strlen(fx.sock) + 1);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        put(fx.r4, ROUTES4);
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), 1);
        assert_empty(fx.r4);
        unlink(fx.sock);
        teardown(&fx);
}
END_TEST

START_TEST(silent_bird_times_out)
{
        struct fixture fx;
        setup(&fx, true);
        configure_reply = (struct fake_reply){NULL, FAKE_SILENT, 0};
        ck_assert_int_eq(withdraw(&fx, 300 * 1000), -ETIMEDOUT);
        assert_empty(fx.r4);
        teardown(&fx);
}
END_TEST

START_TEST(cut_off_reply_is_a_reset)
{
        struct fixture fx;
        setup(&fx, true);
        configure_reply =
            (struct fake_reply){"0002-Reading configuration from x\n0003 Reconf", FAKE_RESET, 0};
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), -ECONNRESET);
        configure_reply = (struct fake_reply){NULL, FAKE_CLOSE, 0};
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), -ECONNRESET);
        teardown(&fx);
}
END_TEST

START_TEST(unwritable_file_still_withdraws_the_other)
{
        struct fixture fx;
        setup(&fx, true);
        fx.bs.include_v4 = "/nonexistent/ahd-test/routes4.conf";
        ck_assert_int_eq(withdraw(&fx, TIMEOUT), -ENOENT);
        assert_empty(fx.r6);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 1);
        teardown(&fx);
}
END_TEST

/* ---- the command-line action ---- */

static void write_config(struct fixture *fx, const char *backend)
{
        char text[1024];
        snprintf(text, sizeof(text),
                 "{ \"backend\": \"%s\", \"allowed_prefixes\": [\"203.0.113.0/24\"],\n"
                 "  \"services_dir\": \"services.d\",\n"
                 "  \"bird\": { \"socket\": \"bird.ctl\", \"include_v4\": \"routes4.conf\",\n"
                 "            \"include_v6\": \"routes6.conf\", \"on_exit\": \"keep\" } }\n",
                 backend);
        put(fx->conf, text);
        ck_assert_int_eq(mkdir(fx->svcdir, 0755), 0);
        put(fx->svc, "{ \"prefixes\": [\"192.0.2.0/24\"], \"checks\": [ { \"plugin\" ");
}

START_TEST(main_skips_a_clean_stop)
{
        struct fixture fx;
        setup(&fx, false);
        write_config(&fx, "bird");
        setenv("SERVICE_RESULT", "success", 1);
        ck_assert_int_eq(speaker_withdraw_all_main(fx.conf, NULL), EXIT_SUCCESS);
        ck_assert_str_eq(slurp(fx.r4), ROUTES4);
        ck_assert_str_eq(slurp(fx.r6), ROUTES6);
        teardown(&fx);
}
END_TEST

START_TEST(main_refuses_exabgp)
{
        struct fixture fx;
        setup(&fx, false);
        write_config(&fx, "exabgp");
        unsetenv("SERVICE_RESULT");
        ck_assert_int_eq(speaker_withdraw_all_main(fx.conf, NULL), EXIT_FAILURE);
        ck_assert_str_eq(slurp(fx.r4), ROUTES4);
        /* --bird over the config's backend */
        ck_assert_int_eq(speaker_withdraw_all_main(fx.conf, "bird"), EXIT_SUCCESS);
        assert_empty(fx.r4);
        put(fx.r4, ROUTES4);
        ck_assert_int_eq(speaker_withdraw_all_main(fx.conf, "exabgp"), EXIT_FAILURE);
        ck_assert_str_eq(slurp(fx.r4), ROUTES4);
        teardown(&fx);
}
END_TEST

START_TEST(main_bad_daemon_file_fails)
{
        struct fixture fx;
        setup(&fx, false);
        put(fx.conf, "{ \"backend\": \"bird\", \"bird\": { \"sockett\": \"x\" } }\n");
        unsetenv("SERVICE_RESULT");
        ck_assert_int_eq(speaker_withdraw_all_main(fx.conf, NULL), EXIT_FAILURE);
        ck_assert_str_eq(slurp(fx.r4), ROUTES4);
        teardown(&fx);
}
END_TEST

/* A fake BIRD in a child process, since the action runs its own loop.
 * The child exits with the number of `configure` commands it saw. */
static pid_t fork_fake_bird(const char *sock)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid > 0) {
                struct stat st;
                for (int i = 0; i < 500 && stat(sock, &st) < 0; i++)
                        usleep(10 * 1000);
                return pid;
        }
        sd_event *e = NULL;
        struct fake_bird fb = {.listen_fd = -1, .fd = -1};
        configure_reply = OK_REPLY;
        if (sd_event_new(&e) < 0 || fake_bird_start(&fb, e, sock, script) < 0)
                _exit(100);
        for (int i = 0; i < 1000 && fake_bird_count(&fb, "configure") == 0; i++)
                run_for(e, 10 * 1000);
        run_for(e, 200 * 1000); /* anything more would be counted */
        _exit((int)fake_bird_count(&fb, "configure"));
}

START_TEST(main_withdraws_after_a_crash_despite_a_broken_service)
{
        struct fixture fx;
        setup(&fx, false);
        write_config(&fx, "bird"); /* on_exit keep applies to clean stops only */
        setenv("SERVICE_RESULT", "signal", 1);
        pid_t pid = fork_fake_bird(fx.sock);
        ck_assert_int_eq(speaker_withdraw_all_main(fx.conf, NULL), EXIT_SUCCESS);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 1);
        assert_empty(fx.r4);
        assert_empty(fx.r6);
        unlink(fx.sock);
        teardown(&fx);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("bird_withdraw");
        TCase *tc = tcase_create("withdraw");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, confirmed_empties_both_files_with_one_configure);
        tcase_add_test(tc, already_empty_files_still_configure);
        tcase_add_test(tc, missing_files_are_created);
        tcase_add_test(tc, in_progress_and_queued_count_as_accepted);
        tcase_add_test(tc, unsolicited_lines_and_delay_are_waited_through);
        tcase_add_test(tc, refused_is_an_error_and_files_stay_empty);
        tcase_add_test(tc, bird_not_running_empties_files);
        tcase_add_test(tc, silent_bird_times_out);
        tcase_add_test(tc, cut_off_reply_is_a_reset);
        tcase_add_test(tc, unwritable_file_still_withdraws_the_other);
        tcase_add_test(tc, main_skips_a_clean_stop);
        tcase_add_test(tc, main_refuses_exabgp);
        tcase_add_test(tc, main_bad_daemon_file_fails);
        tcase_add_test(tc, main_withdraws_after_a_crash_despite_a_broken_service);
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
