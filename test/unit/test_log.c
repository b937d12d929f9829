/* test_log.c: the log writer: a stderr nobody reads never blocks the
 * caller, lines come out whole and in order, drops are counted and said,
 * and a forked child writes its own lines. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define MS 1000ULL

static int pipe_rd = -1;

/* fd 2 becomes the write end of a pipe the test reads when it chooses. */
static void stderr_to_pipe(void)
{
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
        close(p[1]);
        pipe_rd = p[0];
        unsetenv("JOURNAL_STREAM");
        log_setup("t");
}

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Everything the pipe holds until the writer is done (or 5 s). */
static char *read_all(size_t *len)
{
        size_t cap = 1 << 16, n = 0;
        char *buf = malloc(cap);
        fcntl(pipe_rd, F_SETFL, O_NONBLOCK);
        uint64_t end = mono_ms() + 5000;
        while (mono_ms() < end) {
                if (cap - n < 4096)
                        buf = realloc(buf, cap *= 2);
                ssize_t r = read(pipe_rd, buf + n, cap - n - 1);
                if (r > 0) {
                        n += (size_t)r;
                        continue;
                }
                if (log_async_flush(0) == 0) {
                        r = read(pipe_rd, buf + n, cap - n - 1);
                        if (r <= 0)
                                break;
                        n += (size_t)r;
                        continue;
                }
                usleep(1000);
        }
        buf[n] = '\0';
        *len = n;
        return buf;
}

START_TEST(direct_before_start)
{
        stderr_to_pipe();
        log_notice("hello %d", 1);
        char buf[128];
        ssize_t n = read(pipe_rd, buf, sizeof(buf) - 1);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        ck_assert_str_eq(buf, "t: notice: hello 1\n");
}
END_TEST

/* 4 MB into a 64 KiB pipe nobody reads: the calls return at once. */
START_TEST(a_reader_that_sleeps_costs_lines_not_time)
{
        stderr_to_pipe();
        ck_assert_int_eq(log_async_start(), 0);
        char pad[200];
        memset(pad, 'x', sizeof(pad) - 1);
        pad[sizeof(pad) - 1] = '\0';
        uint64_t t0 = mono_ms();
        for (int i = 0; i < 20000; i++)
                log_info("line %05d %s", i, pad);
        uint64_t took = mono_ms() - t0;
        ck_assert_msg(took < 2000, "20,000 lines took %llu ms with nobody reading",
                      (unsigned long long)took);
        ck_assert_int_eq(log_async_flush(100 * MS), -ETIMEDOUT);

        size_t len;
        char *out = read_all(&len);
        /* in order, whole, from line 0; then the drop count */
        int expect = 0, lines = 0;
        unsigned long long dropped = 0;
        for (char *l = out, *nl; (nl = strchr(l, '\n')); l = nl + 1) {
                *nl = '\0';
                int k;
                if (sscanf(l, "t: info: line %05d ", &k) == 1) {
                        ck_assert_int_ge(k, expect);
                        ck_assert_uint_eq(strlen(l), strlen("t: info: line 00000 ") + 199);
                        expect = k + 1;
                        lines++;
                } else {
                        ck_assert_msg(
                            sscanf(l, "t: warning: log: %llu messages dropped", &dropped) == 1,
                            "unexpected line: %s", l);
                }
        }
        ck_assert_int_gt(lines, 4000);
        ck_assert_uint_eq(dropped + (unsigned)lines, 20000);
        free(out);
        log_async_stop(1000 * MS);
}
END_TEST

START_TEST(stop_writes_out_what_is_queued)
{
        stderr_to_pipe();
        ck_assert_int_eq(log_async_start(), 0);
        for (int i = 0; i < 100; i++)
                log_notice("n%d", i);
        log_async_stop(1000 * MS);
        log_notice("after");
        char buf[4096];
        ssize_t n = read(pipe_rd, buf, sizeof(buf) - 1);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        ck_assert_ptr_nonnull(strstr(buf, "t: notice: n0\n"));
        ck_assert_ptr_nonnull(strstr(buf, "t: notice: n99\nt: notice: after\n"));
}
END_TEST

/* A child forked while the writer runs has no writer: its line must come
 * out at once, and the parent's queue must not come out twice. */
START_TEST(a_forked_child_writes_directly)
{
        stderr_to_pipe();
        ck_assert_int_eq(log_async_start(), 0);
        log_notice("parent");
        ck_assert_int_eq(log_async_flush(1000 * MS), 0);
        pid_t p = fork();
        ck_assert_int_ge(p, 0);
        if (p == 0) {
                log_notice("child");
                _exit(0);
        }
        int st;
        ck_assert_int_eq(waitpid(p, &st, 0), p);
        log_async_stop(1000 * MS);
        char buf[4096];
        ssize_t n = read(pipe_rd, buf, sizeof(buf) - 1);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        ck_assert_str_eq(buf, "t: notice: parent\nt: notice: child\n");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("log");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, direct_before_start);
        tcase_add_test(tc, a_reader_that_sleeps_costs_lines_not_time);
        tcase_add_test(tc, stop_writes_out_what_is_queued);
        tcase_add_test(tc, a_forked_child_writes_directly);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
