/* test_check_local.c: the tcp plugin's banner checks (send, expect) against
 * a real server (socat running a small responder), and the file plugin. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net_fixture.h"

/* ---- tcp banner: one socat per test case ---- */

static char bdir[200];
static pid_t socat_pid;
static int bport;

static void banner_up(void)
{
        nf_tmpdir(bdir, sizeof(bdir), "banner");
        char script[300], log[300], listen[100], sys[400];
        snprintf(script, sizeof(script), "%s/banner.sh", bdir);
        snprintf(log, sizeof(log), "%s/socat.log", bdir);
        /* an SMTP-like greeting, then a Redis-like answer to PING */
        nf_write(script, "printf '220 ahd-test ESMTP\\r\\n'\n"
                         "IFS= read -r line\n"
                         "case \"$line\" in\n"
                         "PING*) printf '+PONG\\r\\n' ;;\n"
                         "*) printf -- '-ERR unknown\\r\\n' ;;\n"
                         "esac\n");
        bport = nf_free_port();
        snprintf(listen, sizeof(listen), "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork", bport);
        snprintf(sys, sizeof(sys), "SYSTEM:sh %s", script);
        char *argv[] = {"socat", listen, sys, NULL};
        socat_pid = nf_spawn(argv, log);
        nf_wait_tcp(bport, socat_pid, log);
}

static void banner_down(void)
{
        nf_stop(socat_pid);
        nf_rmdir(bdir);
}

static struct fx_res tcp(const char *extra, uint64_t timeout)
{
        char opts[400];
        snprintf(opts, sizeof(opts), "{ \"host\": \"127.0.0.1\", \"port\": %d%s }", bport, extra);
        return fx_probe1("tcp", opts, timeout);
}

START_TEST(test_tcp_banner)
{
        struct fx_res r = tcp(", \"expect\": \"220 \"", 5000000);
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "got \"220 \" in ");

        r = tcp(", \"send\": \"PING\\r\\n\", \"expect\": \"+PONG\"", 5000000);
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "got \"+PONG\" in ");

        /* the server answers something else and closes */
        r = tcp(", \"send\": \"HELLO\\r\\n\", \"expect\": \"+PONG\"", 5000000);
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "connection closed without \"+PONG\"");
        ck_assert_has(r.msg, "(got \"220 ahd-test ESMTP\\r\\n-ERR unknown\\r\\n\")");

        r = tcp(", \"send\": \"PING\\r\\n\"", 5000000);
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "connected and sent 6 bytes in ");

        /* without send and expect: the plain connect check, as before */
        r = tcp("", 5000000);
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "connected in ");
}
END_TEST

/* Connected, but the expected text never comes: the host's timeout ends it. */
START_TEST(test_tcp_expect_timeout)
{
        int port, fd = nf_blackhole(&port);
        char opts[200];
        snprintf(opts, sizeof(opts),
                 "{ \"host\": \"127.0.0.1\", \"port\": %d, \"send\": \"PING\\r\\n\", "
                 "\"expect\": \"+PONG\" }",
                 port);
        struct fx_svc *s = fx_svc1("tcp", opts);
        struct check_runner *r = fx_runner(s);
        struct fx_res res = fx_probe(r, 300000);
        ck_assert_int_eq(res.code, 2);
        ck_assert_str_eq(res.msg, "timed out after 300ms");
        /* the instance is clean again: the next probe runs the same way */
        res = fx_probe(r, 300000);
        ck_assert_str_eq(res.msg, "timed out after 300ms");
        check_runner_free(r);
        fx_svc_free(s);
        close(fd);
}
END_TEST

START_TEST(test_tcp_options)
{
        ck_assert_int_eq(fx_refused("tcp",
                                    "{ \"host\": \"127.0.0.1\", \"port\": 1, \"send\": \"\", "
                                    "\"expect\": 5 }"),
                         -EINVAL);
        fx_expect_diag("option \"send\": must not be empty");
        fx_expect_diag("option \"expect\": expected a string");
}
END_TEST

/* ---- file ---- */

static char fdir[200];

static void file_up(void)
{
        fx_setup();
        nf_tmpdir(fdir, sizeof(fdir), "file");
}

static void file_down(void)
{
        nf_rmdir(fdir);
        fx_teardown();
}

static struct fx_res file(const char *name, const char *extra)
{
        char opts[600];
        snprintf(opts, sizeof(opts), "{ \"path\": \"%s/%s\"%s }", fdir, name, extra);
        return fx_probe1("file", opts, 1000000);
}

START_TEST(test_file_exists)
{
        char path[300];
        snprintf(path, sizeof(path), "%s/ready", fdir);
        struct fx_res r = file("ready", "");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "/ready does not exist");
        r = file("ready", ", \"exists\": false");
        ck_assert_int_eq(r.code, 0);

        nf_write(path, "");
        r = file("ready", "");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "/ready exists");
        r = file("ready", ", \"exists\": false");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "/ready exists");
}
END_TEST

START_TEST(test_file_contains)
{
        char path[300];
        snprintf(path, sizeof(path), "%s/state", fdir);
        nf_write(path, "mode=serving\nversion=3\n");
        struct fx_res r = file("state", ", \"contains\": \"mode=serving\"");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "contains \"mode=serving\"");
        r = file("state", ", \"contains\": \"mode=drain\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "/state does not contain \"mode=drain\"");

        /* only the first 64 KiB are read */
        FILE *f = fopen(path, "we");
        for (int i = 0; i < 70 * 1024; i++)
                fputc('x', f);
        fputs("needle\n", f);
        fclose(f);
        r = file("state", ", \"contains\": \"needle\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "in its first 64 KiB");

        /* a FIFO without a writer must not block the loop */
        snprintf(path, sizeof(path), "%s/fifo", fdir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        r = file("fifo", ", \"contains\": \"x\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "/fifo is not a regular file");
        r = file("", ", \"contains\": \"x\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "Is a directory");
}
END_TEST

START_TEST(test_file_options)
{
        ck_assert_int_eq(fx_refused("file", "{ \"exists\": 1, \"mode\": 2 }"), -EINVAL);
        fx_expect_diag("plugin \"file\": options: \"path\" is required");
        fx_expect_diag("option \"exists\": expected true or false");
        fx_expect_diag("option \"mode\": unknown option");
        ck_assert_int_eq(fx_refused("file", "{ \"path\": \"rel/x\" }"), -EINVAL);
        fx_expect_diag("option \"path\": must be an absolute path, not \"rel/x\"");
        ck_assert_int_eq(
            fx_refused("file", "{ \"path\": \"/x\", \"exists\": false, \"contains\": \"a\" }"),
            -EINVAL);
        fx_expect_diag("option \"contains\": makes no sense with \"exists\": false");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("check_local");
        TCase *tc = tcase_create("tcp");
        tcase_add_unchecked_fixture(tc, banner_up, banner_down);
        tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_tcp_banner);
        tcase_add_test(tc, test_tcp_expect_timeout);
        tcase_add_test(tc, test_tcp_options);
        suite_add_tcase(s, tc);
        tc = tcase_create("file");
        tcase_add_checked_fixture(tc, file_up, file_down);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_file_exists);
        tcase_add_test(tc, test_file_contains);
        tcase_add_test(tc, test_file_options);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
