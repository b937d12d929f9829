/* test_exabgp_backend.c: the ExaBGP backend on a real sd-event loop, with
 * pipes standing in for ExaBGP's end of our stdin and stdout. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "exabgp_config.h"
#include "exabgp_backend.h"
#include "fake_clock.h"
#include "log.h"

#define DEADLINE_USEC (20ULL * 1000 * 1000)

struct fixture {
        sd_event *e;
        struct backend *b;
        struct config cfg;
        struct exabgp_settings xs; /* cfg's "exabgp" block */
        int to_us[2];              /* we write [1]: "ExaBGP's" events and acks */
        int from_us[2];            /* we read [0]: the commands */
        char *out;                 /* everything read from the backend so far */
        size_t out_len;
        int gone;
        char why[128];
        int done_calls;
        int sent_calls;                 /* backend_hooks.route_sent */
        uint64_t sent_delay;            /* its last delay */
        int stuck_calls, unstuck_calls; /* backend_hooks.stuck */
        char stuck_why[128];
};

static struct fixture F;

static void on_gone(void *userdata, const char *why)
{
        struct fixture *f = userdata;
        f->gone++;
        snprintf(f->why, sizeof(f->why), "%s", why);
}

static void on_sent(void *userdata, uint64_t delay_usec)
{
        struct fixture *f = userdata;
        f->sent_calls++;
        f->sent_delay = delay_usec;
}

static void on_done(void *userdata)
{
        struct fixture *f = userdata;
        f->done_calls++;
}

static bool done_called(void *arg)
{
        return F.done_calls > 0;
}

static void on_stuck(void *userdata, const struct prefix *p, bool stuck, const char *why)
{
        struct fixture *f = userdata;
        if (stuck) {
                f->stuck_calls++;
                snprintf(f->stuck_why, sizeof(f->stuck_why), "%s", why);
        } else {
                f->unstuck_calls++;
        }
}

/* Reconciliation in the "stepped" setups: off unless a setup sets it. */
static uint64_t reconcile_interval;

/* The stepped clock of the "stepped" case (fake_clock.h). */
static struct fake_clock FC;

static void setup_with_api(bool ack, bool stepped, enum exabgp_api api)
{
        signal(SIGPIPE, SIG_IGN);
        memset(&F, 0, sizeof(F));
        F.cfg.pop = "tst1";
        F.cfg.asn = 65001;
        config_speaker_put(&F.cfg, &exabgp_block, &F.xs);
        F.xs.ack = ack;
        F.xs.api = api;
        F.cfg.reconcile.interval_usec = reconcile_interval;
        F.cfg.reconcile.stuck_after_usec = 10 * 1000000ULL;
        ck_assert_int_eq(pipe2(F.to_us, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(F.from_us, O_CLOEXEC), 0);
        ck_assert_int_eq(fcntl(F.from_us[0], F_SETFL, O_NONBLOCK), 0);
        ck_assert_int_eq(sd_event_new(&F.e), 0);
        fake_clock_init(&FC, F.e);
        struct backend_hooks hooks = {
            .speaker_gone = on_gone, .route_sent = on_sent, .stuck = on_stuck, .userdata = &F};
        ck_assert_int_eq(backend_exabgp_create_fds(F.e, stepped ? &FC.clock : clock_system(),
                                                   &F.cfg, &hooks, F.to_us[0], F.from_us[1], &F.b),
                         0);
        backend_exabgp_set_backoff(F.b, 20 * 1000, 200 * 1000);
}

static void setup_with(bool ack, bool stepped)
{
        setup_with_api(ack, stepped, EXABGP_API_4);
}

static void setup(void)
{
        setup_with(true, false);
}

static void setup_noack(void)
{
        setup_with(false, false);
}

static void setup_stepped(void)
{
        reconcile_interval = 0;
        setup_with(true, true);
}

static void setup_reconcile(void)
{
        reconcile_interval = 30 * 1000000ULL;
        setup_with(true, true);
}

static void setup_api6(void)
{
        setup_with_api(true, false, EXABGP_API_6);
}

static void setup_api6_noack(void)
{
        setup_with_api(false, false, EXABGP_API_6);
}

static void teardown(void)
{
        backend_exabgp_ops.free(F.b);
        sd_event_unref(F.e);
        for (int i = 0; i < 2; i++) {
                if (F.to_us[i] >= 0)
                        close(F.to_us[i]);
                if (F.from_us[i] >= 0)
                        close(F.from_us[i]);
        }
        free(F.out);
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void drain(void)
{
        char buf[65536];
        for (;;) {
                ssize_t n = read(F.from_us[0], buf, sizeof(buf));
                if (n <= 0)
                        return;
                F.out = realloc(F.out, F.out_len + (size_t)n + 1);
                memcpy(F.out + F.out_len, buf, (size_t)n);
                F.out_len += (size_t)n;
                F.out[F.out_len] = '\0';
        }
}

static size_t n_lines(void)
{
        size_t n = 0;
        for (size_t i = 0; i < F.out_len; i++)
                n += F.out[i] == '\n';
        return n;
}

/* The i-th line written by the backend, in one of four static buffers
 * used in turn: two calls in one assertion compare two lines, not one
 * buffer with itself. */
static const char *line(size_t i)
{
        static char bufs[4][512];
        static unsigned turn;
        char *buf = bufs[turn++ % 4];
        const char *p = F.out ? F.out : "";
        for (; i > 0 && p; i--) {
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        ck_assert_ptr_nonnull(p);
        const char *end = strchr(p, '\n');
        ck_assert_ptr_nonnull(end);
        snprintf(buf, sizeof(bufs[0]), "%.*s", (int)(end - p), p);
        return buf;
}

/* Turns the loop (reading our output as it goes) until pred holds. */
static bool run_until(bool (*pred)(void *), void *arg)
{
        uint64_t deadline = now_usec() + DEADLINE_USEC;
        while (!pred(arg)) {
                if (now_usec() > deadline)
                        return false;
                ck_assert_int_ge(sd_event_run(F.e, 10 * 1000), 0);
                drain();
        }
        return true;
}

/* Turns the loop for about usec, for "nothing more happens" checks. */
static void run_for(uint64_t usec)
{
        uint64_t end = now_usec() + usec;
        while (now_usec() < end) {
                ck_assert_int_ge(sd_event_run(F.e, 10 * 1000), 0);
                drain();
        }
}

static bool have_lines(void *arg)
{
        return n_lines() >= *(size_t *)arg;
}

static void wait_lines(size_t n)
{
        ck_assert_msg(run_until(have_lines, &n), "expected %zu lines, got %zu: %s", n, n_lines(),
                      F.out ? F.out : "");
}

static void tell(const char *s)
{
        size_t len = strlen(s);
        ck_assert_int_eq(write(F.to_us[1], s, len), (ssize_t)len);
}

static struct prefix pfx(const char *addr, unsigned len)
{
        struct prefix p = {0};
        p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        p.len = (uint8_t)len;
        ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
        return p;
}

static char *comms[] = {"65001:53"};
static struct attrs ATTRS = {
    .next_hop = "self", .med = 100, .communities = comms, .n_communities = 1};

static void announce(const char *addr, unsigned len)
{
        struct prefix p = pfx(addr, len);
        struct route_update u = {.prefix = &p,
                                 .action = ROUTE_ANNOUNCE,
                                 .attrs = &ATTRS,
                                 .service = "dns",
                                 .reason = "checks up"};
        backend_exabgp_ops.update(F.b, &u);
}

static void withdraw(const char *addr, unsigned len)
{
        struct prefix p = pfx(addr, len);
        struct route_update u = {
            .prefix = &p, .action = ROUTE_WITHDRAW, .service = "dns", .reason = "checks down"};
        backend_exabgp_ops.update(F.b, &u);
}

static struct exabgp_route_status status(const char *addr, unsigned len)
{
        struct prefix p = pfx(addr, len);
        struct exabgp_route_status st;
        ck_assert_int_eq(backend_exabgp_route_status(F.b, &p, &st), 0);
        return st;
}

static bool sync_is(void *arg)
{
        const struct exabgp_route_status want = *(struct exabgp_route_status *)arg;
        struct exabgp_route_status st = status("203.0.113.53", 32);
        return st.sync == want.sync;
}

static void wait_sync_a(enum exabgp_route_sync s)
{
        struct exabgp_route_status want = {.sync = s};
        ck_assert_msg(run_until(sync_is, &want), "203.0.113.53/32 never became %s",
                      exabgp_route_sync_name(s));
}

START_TEST(updates_in_order_and_acks_confirm)
{
        announce("203.0.113.53", 32);
        announce("2001:db8:53::", 48);
        withdraw("198.51.100.0", 24);
        withdraw("203.0.113.53", 32);
        /* the same state again is not a change */
        withdraw("203.0.113.53", 32);
        announce("2001:db8:53::", 48);
        backend_exabgp_ops.commit(F.b);
        wait_lines(4);
        run_for(50 * 1000);
        ck_assert_uint_eq(n_lines(), 4);
        ck_assert_str_eq(line(0), "announce route 203.0.113.53/32 next-hop self med 100 "
                                  "community [ 65001:53 ]");
        ck_assert_str_eq(line(1), "announce route 2001:db8:53::/48 next-hop self med 100 "
                                  "community [ 65001:53 ]");
        ck_assert_str_eq(line(2), "withdraw route 198.51.100.0/24");
        ck_assert_str_eq(line(3), "withdraw route 203.0.113.53/32");

        struct exabgp_route_status st = status("2001:db8:53::", 48);
        ck_assert_int_eq(st.desired, ROUTE_ANNOUNCE);
        ck_assert_int_eq(st.sync, EXABGP_SYNC_WRITTEN);
        struct prefix never = pfx("203.0.113.1", 32);
        ck_assert_int_eq(backend_exabgp_route_status(F.b, &never, &st), -ENOENT);

        /* acks are matched in order: the first ack is the superseded
         * announce of .53, the last its withdraw */
        tell("done\ndone\n");
        run_for(50 * 1000);
        ck_assert_int_eq(status("2001:db8:53::", 48).sync, EXABGP_SYNC_CONFIRMED);
        ck_assert_int_eq(status("198.51.100.0", 24).sync, EXABGP_SYNC_WRITTEN);
        ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_WRITTEN);
        tell("done\n");
        run_for(50 * 1000);
        ck_assert_int_eq(status("198.51.100.0", 24).sync, EXABGP_SYNC_CONFIRMED);
        ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_WRITTEN);
        tell("done\n");
        wait_sync_a(EXABGP_SYNC_CONFIRMED);
        ck_assert_int_eq(status("203.0.113.53", 32).desired, ROUTE_WITHDRAW);

        /* a new attribute set is a change and is sent */
        struct attrs other = ATTRS;
        other.med = 200;
        struct prefix p = pfx("2001:db8:53::", 48);
        struct route_update u = {.prefix = &p,
                                 .action = ROUTE_ANNOUNCE,
                                 .attrs = &other,
                                 .service = "dns",
                                 .reason = "degraded"};
        backend_exabgp_ops.update(F.b, &u);
        backend_exabgp_ops.commit(F.b);
        wait_lines(5);
        ck_assert_str_eq(line(4), "announce route 2001:db8:53::/48 next-hop self med 200 "
                                  "community [ 65001:53 ]");
        ck_assert_int_eq(F.gone, 0);
}
END_TEST

START_TEST(error_is_retried_with_backoff)
{
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(1);
        tell("error\n");
        wait_sync_a(EXABGP_SYNC_REJECTED);
        ck_assert_uint_eq(status("203.0.113.53", 32).failures, 1);
        wait_lines(2);
        ck_assert_str_eq(line(1), line(0));
        tell("error\n");
        wait_lines(3);
        ck_assert_uint_eq(status("203.0.113.53", 32).failures, 2);
        ck_assert_str_eq(line(2), "announce route 203.0.113.53/32 next-hop self med 100 "
                                  "community [ 65001:53 ]");
        tell("done\n");
        wait_sync_a(EXABGP_SYNC_CONFIRMED);
        ck_assert_uint_eq(status("203.0.113.53", 32).failures, 0);
        /* confirmed: no more retries */
        run_for(500 * 1000);
        ck_assert_uint_eq(n_lines(), 3);
        /* what the metrics count: three commands, three answers, two refused */
        struct speaker_counters n;
        backend_exabgp_ops.counters(F.b, &n);
        ck_assert_uint_eq(n.commands, 3);
        ck_assert_uint_eq(n.acks, 3);
        ck_assert_uint_eq(n.errors, 2);
}
END_TEST

/* stderr (our log: log_setup() is never called here) into a file, so a
 * case can read what was logged. */
static int stderr_saved = -1;
static FILE *stderr_file;

static void capture_stderr(void)
{
        fflush(stderr);
        stderr_file = tmpfile();
        ck_assert_ptr_nonnull(stderr_file);
        stderr_saved = dup(STDERR_FILENO);
        ck_assert_int_ge(dup2(fileno(stderr_file), STDERR_FILENO), 0);
}

/* Ends the capture; returns what was logged (malloc'd). */
static char *captured_stderr(void)
{
        fflush(stderr);
        ck_assert_int_ge(dup2(stderr_saved, STDERR_FILENO), 0);
        close(stderr_saved);
        long n = ftell(stderr_file);
        ck_assert_int_ge(n, 0);
        char *text = calloc(1, (size_t)n + 1);
        rewind(stderr_file);
        ck_assert_uint_eq(fread(text, 1, (size_t)n, stderr_file), (size_t)n);
        fclose(stderr_file);
        return text;
}

static size_t occurrences(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static bool failures_at_least(void *arg)
{
        return status("203.0.113.53", 32).failures >= *(size_t *)arg;
}

/* ExaBGP 6 says why before it says "error": that line is no ack (the
 * second route's "done" still matches the second route), and its reason
 * goes into the refusal's log line, once. (exabgp.api 6) */
START_TEST(refusal_reason_is_logged_not_matched)
{
        announce("203.0.113.53", 32);
        announce("2001:db8:53::", 48);
        backend_exabgp_ops.commit(F.b);
        wait_lines(3); /* session ack enable, the two routes */
        log_set_max_level(LOG_DEBUG);
        capture_stderr();
        tell("done\nerror: Could not parse route: no route\nerror\ndone\n");
        wait_sync_a(EXABGP_SYNC_REJECTED);
        run_for(50 * 1000);
        ck_assert_int_eq(status("2001:db8:53::", 48).sync, EXABGP_SYNC_CONFIRMED);
        ck_assert_uint_eq(status("203.0.113.53", 32).failures, 1);
        /* the retry is refused without a reason: none is carried over
         * (its line is a debug one) */
        wait_lines(4);
        tell("error\n");
        size_t want = 2;
        ck_assert(run_until(failures_at_least, &want));
        char *log = captured_stderr();
        ck_assert_msg(strstr(log,
                             "ExaBGP refused 'peer * announce route 203.0.113.53/32 next-hop self "
                             "med 100 community [ 65001:53 ]': Could not parse route: no "
                             "route (service dns"),
                      "log: %s", log);
        ck_assert_uint_eq(occurrences(log, "no route"), 1);
        ck_assert_ptr_null(strstr(log, "neither an ack nor an event"));
        free(log);
        ck_assert_int_eq(F.gone, 0);
}
END_TEST

/* The delay from the engine's decision to the line in the pipe is
 * reported once per decision: a retry after an error is not a new one, an
 * update without a decision time (0) is not reported. */
START_TEST(route_sent_reports_the_decision_delay_once)
{
        struct prefix p = pfx("203.0.113.53", 32);
        struct route_update u = {.prefix = &p,
                                 .action = ROUTE_ANNOUNCE,
                                 .attrs = &ATTRS,
                                 .service = "dns",
                                 .reason = "checks up",
                                 .decided_usec = now_usec() - 5000};
        backend_exabgp_ops.update(F.b, &u);
        ck_assert_int_eq(F.sent_calls, 0); /* queued, not written */
        backend_exabgp_ops.commit(F.b);
        wait_lines(1);
        ck_assert_int_eq(F.sent_calls, 1);
        ck_assert_uint_ge(F.sent_delay, 5000);
        ck_assert_uint_lt(F.sent_delay, 5000 + DEADLINE_USEC);
        tell("error\n");
        wait_lines(2); /* the retry */
        tell("done\n");
        wait_sync_a(EXABGP_SYNC_CONFIRMED);
        ck_assert_int_eq(F.sent_calls, 1);
        withdraw("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(3);
        ck_assert_int_eq(F.sent_calls, 1);
}
END_TEST

START_TEST(superseded_failure_is_not_retried)
{
        /* the error arrives after the newer state was sent */
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        withdraw("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(2);
        tell("error\ndone\n");
        wait_sync_a(EXABGP_SYNC_CONFIRMED);
        run_for(500 * 1000); /* 25 initial backoffs */
        ck_assert_uint_eq(n_lines(), 2);
        ck_assert_str_eq(line(1), "withdraw route 203.0.113.53/32");

        /* the newer state comes while a retry is pending */
        backend_exabgp_set_backoff(F.b, 300 * 1000, 300 * 1000);
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(3);
        tell("error\n");
        wait_sync_a(EXABGP_SYNC_REJECTED);
        withdraw("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(4);
        tell("done\n");
        run_for(1000 * 1000);
        ck_assert_uint_eq(n_lines(), 4);
        ck_assert_str_eq(line(3), "withdraw route 203.0.113.53/32");
        ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_CONFIRMED);
}
END_TEST

START_TEST(stop_withdraws_exactly_the_announced)
{
        announce("203.0.113.53", 32);
        announce("2001:db8:53::53", 128);
        withdraw("198.51.100.0", 24);
        announce("203.0.113.0", 24);
        withdraw("203.0.113.0", 24);
        backend_exabgp_ops.commit(F.b);
        wait_lines(5);
        backend_exabgp_ops.stop(F.b, true, on_done, &F);
        wait_lines(7);
        run_for(100 * 1000);
        ck_assert_uint_eq(n_lines(), 7);
        /* each once, in any order */
        const char *a = "withdraw route 203.0.113.53/32", *b = "withdraw route 2001:db8:53::53/128";
        char l5[512];
        snprintf(l5, sizeof(l5), "%s", line(5));
        ck_assert(strcmp(l5, a) == 0 || strcmp(l5, b) == 0);
        ck_assert_str_ne(line(6), l5);
        ck_assert(strcmp(line(6), a) == 0 || strcmp(line(6), b) == 0);
        /* done once ExaBGP answered everything written */
        ck_assert_int_eq(F.done_calls, 0);
        tell("done\ndone\ndone\ndone\ndone\ndone\n");
        run_for(100 * 1000);
        ck_assert_int_eq(F.done_calls, 0);
        tell("done\n");
        ck_assert(run_until(done_called, NULL));
        /* stopping: later updates and retries are not sent */
        announce("198.51.100.0", 24);
        backend_exabgp_ops.commit(F.b);
        tell("error\nerror\nerror\nerror\nerror\nerror\nerror\n");
        run_for(300 * 1000);
        ck_assert_uint_eq(n_lines(), 7);
        ck_assert_int_eq(F.done_calls, 1);
}
END_TEST

START_TEST(stop_without_withdraw_just_flushes)
{
        announce("203.0.113.53", 32);
        backend_exabgp_ops.stop(F.b, false, on_done, &F);
        wait_lines(1);
        run_for(100 * 1000);
        ck_assert_uint_eq(n_lines(), 1);
        ck_assert_int_eq(F.done_calls, 0); /* the ack is still owed */
        tell("done\n");
        ck_assert(run_until(done_called, NULL));
        ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_CONFIRMED);
        ck_assert_str_eq(line(0), "announce route 203.0.113.53/32 next-hop self med 100 "
                                  "community [ 65001:53 ]");
}
END_TEST

START_TEST(stop_waits_for_acks_only_so_long)
{
        backend_exabgp_set_stop_wait(F.b, 100 * 1000);
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(1);
        backend_exabgp_ops.stop(F.b, true, on_done, &F);
        wait_lines(2);
        ck_assert_str_eq(line(1), "withdraw route 203.0.113.53/32");
        ck_assert(run_until(done_called, NULL));
        run_for(200 * 1000);
        ck_assert_int_eq(F.done_calls, 1);
}
END_TEST

static bool is_gone(void *arg)
{
        return F.gone > 0;
}

START_TEST(eof_on_stdin_is_speaker_gone)
{
        tell("done\n{\"type\": \"state\", \"neighbor\": {\"state\": \"up\"}}\n");
        close(F.to_us[1]);
        F.to_us[1] = -1;
        ck_assert(run_until(is_gone, NULL));
        ck_assert_int_eq(F.gone, 1);
        ck_assert_ptr_nonnull(strstr(F.why, "stdin"));
        run_for(50 * 1000);
        ck_assert_int_eq(F.gone, 1);
        /* stop after that completes at once, writing nothing */
        announce("203.0.113.53", 32);
        backend_exabgp_ops.stop(F.b, true, on_done, &F);
        ck_assert_int_eq(F.done_calls, 1);
}
END_TEST

START_TEST(shutdown_notification_is_speaker_gone)
{
        tell("{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"type\": \"notification\", "
             "\"notification\": \"shutdown\"}\n");
        ck_assert(run_until(is_gone, NULL));
        ck_assert_ptr_nonnull(strstr(F.why, "shutting down"));
}
END_TEST

START_TEST(closed_stdout_is_speaker_gone)
{
        close(F.from_us[0]);
        F.from_us[0] = -1;
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        ck_assert_int_eq(F.gone, 1);
        ck_assert_ptr_nonnull(strstr(F.why, "stdout"));
}
END_TEST

static bool timer_fired;
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        timer_fired = true;
        return 0;
}

START_TEST(unread_stdout_does_not_block)
{
        enum { N = 5000 };
        char addr[64];
        /* nobody reads: far more than a pipe holds */
        for (int i = 0; i < N; i++) {
                snprintf(addr, sizeof(addr), "2001:db8:%x::", i);
                announce(addr, 48);
        }
        backend_exabgp_ops.commit(F.b);
        ck_assert_int_eq(status("2001:db8:0::", 48).sync, EXABGP_SYNC_WRITTEN);
        snprintf(addr, sizeof(addr), "2001:db8:%x::", N - 1);
        ck_assert_int_eq(status(addr, 48).sync, EXABGP_SYNC_QUEUED);

        /* the loop still turns */
        sd_event_source *t = NULL;
        ck_assert_int_ge(
            sd_event_add_time_relative(F.e, &t, CLOCK_MONOTONIC, 10 * 1000, 0, on_timer, NULL), 0);
        uint64_t deadline = now_usec() + DEADLINE_USEC;
        while (!timer_fired && now_usec() < deadline)
                ck_assert_int_ge(sd_event_run(F.e, 100 * 1000), 0);
        ck_assert(timer_fired);
        sd_event_source_unref(t);
        ck_assert_int_eq(status(addr, 48).sync, EXABGP_SYNC_QUEUED);

        /* a stop now completes only once everything is out */
        backend_exabgp_ops.stop(F.b, false, on_done, &F);
        ck_assert_int_eq(F.done_calls, 0);

        wait_lines(N);
        ck_assert_uint_eq(n_lines(), N);
        for (int i = 0; i < N; i += 997) {
                char want[128], a[64];
                struct prefix p;
                snprintf(addr, sizeof(addr), "2001:db8:%x::", i);
                p = pfx(addr, 48);
                inet_ntop(AF_INET6, p.addr, a, sizeof(a));
                snprintf(want, sizeof(want),
                         "announce route %s/48 next-hop self med 100 community [ 65001:53 ]", a);
                ck_assert_str_eq(line((size_t)i), want);
        }
        snprintf(addr, sizeof(addr), "2001:db8:%x::", N - 1);
        ck_assert_int_eq(status(addr, 48).sync, EXABGP_SYNC_WRITTEN);
        run_for(50 * 1000);
        ck_assert_int_eq(F.done_calls, 1);
}
END_TEST

START_TEST(acks_off_nothing_matched)
{
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(1);
        tell("error\n");
        run_for(300 * 1000);
        ck_assert_uint_eq(n_lines(), 1);
        ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_WRITTEN);
}
END_TEST

struct flood {
        const char *data;
        size_t len, off;
};

static bool flood_done(void *arg)
{
        struct flood *fl = arg;
        while (fl->off < fl->len) {
                ssize_t n = write(F.to_us[1], fl->data + fl->off, fl->len - fl->off);
                if (n <= 0)
                        break;
                fl->off += (size_t)n;
        }
        return fl->off == fl->len && status("203.0.113.53", 32).sync == EXABGP_SYNC_CONFIRMED;
}

START_TEST(flood_of_events_is_consumed)
{
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(1);

        const char *ev[] = {
            "{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"type\": \"state\", \"neighbor\": { "
            "\"address\": { \"local\": \"192.0.2.2\", \"peer\": \"192.0.2.1\" }, \"state\": "
            "\"up\" } }\n",
            "{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"type\": \"state\", \"neighbor\": { "
            "\"address\": { \"local\": \"192.0.2.2\", \"peer\": \"192.0.2.1\" }, \"state\": "
            "\"up\" } }\n",
            "{ \"exabgp\": \"4.0.1\", \"time\": 1.0, \"type\": \"update\", \"neighbor\": {} "
            "}\n",
            "not json at all\n",
        };
        size_t cap = 2 * 1024 * 1024, len = 0;
        char *data = malloc(cap);
        for (size_t i = 0; len < 1024 * 1024; i++) {
                size_t l = strlen(ev[i % 4]);
                memcpy(data + len, ev[i % 4], l);
                len += l;
        }
        memcpy(data + len, "done\n", 5);
        len += 5;
        ck_assert_int_eq(fcntl(F.to_us[1], F_SETFL, O_NONBLOCK), 0);
        struct flood fl = {.data = data, .len = len};
        ck_assert(run_until(flood_done, &fl));
        ck_assert_int_eq(F.gone, 0);
        free(data);
}
END_TEST

/* Events naming ever new peers (ExaBGP's JSON is input like any other)
 * neither grow the table without bound nor take the backend down. */
START_TEST(neighbor_table_is_bounded)
{
        char ev[512];
        for (int i = 0; i < 3000; i++) {
                snprintf(ev, sizeof(ev),
                         "{ \"type\": \"state\", \"neighbor\": { \"address\": { \"peer\": "
                         "\"2001:db8::%x\" }, \"state\": \"%s\" } }\n",
                         i % 2000 + 1, i < 2000 ? "up" : "down");
                tell(ev);
                if (i % 50 == 0)
                        run_for(1000);
        }
        run_for(50 * 1000);
        const struct exabgp_stats *st = backend_exabgp_stats(F.b);
        ck_assert_uint_eq(st->neighbors, 1024);
        ck_assert_int_eq(F.gone, 0);
}
END_TEST

/* The watchdog (exabgp.watchdog): with the loop wedged, every route ExaBGP
 * may hold is withdrawn on whole lines, even when the pipe had taken only
 * part of a line, and the process ends. Runs in a child: it must _exit. */
START_TEST(watchdog_withdraws_everything_when_the_loop_wedges)
{
        ck_assert_int_ge(fcntl(F.from_us[1], F_SETPIPE_SZ, 4096), 4096);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                /* sd-event refuses a loop made before fork(): a new one,
                 * and a new backend on it (the parent's is left alone) */
                if (sd_event_new(&F.e) < 0)
                        _exit(2);
                F.xs.watchdog_usec = 1000 * 1000;
                struct backend_hooks hooks = {.speaker_gone = on_gone, .userdata = &F};
                if (backend_exabgp_create_fds(F.e, clock_system(), &F.cfg, &hooks, F.to_us[0],
                                              F.from_us[1], &F.b) < 0)
                        _exit(3);
                /* 400 routes, more than the small pipe takes; one withdrawn */
                char addr[64];
                for (int i = 1; i <= 400; i++) {
                        snprintf(addr, sizeof(addr), "2001:db8:%x::", i);
                        announce(addr, 48);
                }
                withdraw("2001:db8:7::", 48);
                backend_exabgp_ops.commit(F.b);
                for (int i = 0; i < 20; i++)
                        sd_event_run(F.e, 10 * 1000);
                pause(); /* wedged: the loop never turns again */
                _exit(4);
        }
        close(F.from_us[1]);
        F.from_us[1] = -1;
        ck_assert_int_eq(fcntl(F.from_us[0], F_SETFL, 0), 0);
        usleep(300 * 1000); /* the pipe fills: a line is cut */
        char buf[65536];
        ssize_t n;
        while ((n = read(F.from_us[0], buf, sizeof(buf))) > 0) {
                F.out = realloc(F.out, F.out_len + (size_t)n + 1);
                memcpy(F.out + F.out_len, buf, (size_t)n);
                F.out_len += (size_t)n;
                F.out[F.out_len] = '\0';
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), EXIT_FAILURE);
        ck_assert(F.out_len > 0 && F.out[F.out_len - 1] == '\n');
        size_t lines = n_lines(), withdraws = 0, i = 0;
        char last[401] = {0};
        /* API 6: our session start first, then every line "peer * ..." */
        const char *head = "";
        if (F.xs.api == EXABGP_API_6) {
                ck_assert_str_eq(line(i++), "session ack silence");
                head = "peer * ";
        }
        size_t hl = strlen(head);
        for (; i < lines; i++) {
                const char *l = line(i);
                unsigned x;
                ck_assert_msg(strncmp(l, head, hl) == 0, "line %zu: \"%s\"", i, l);
                l += hl;
                bool ann = strncmp(l, "announce route 2001:db8:", 24) == 0;
                bool wd = strncmp(l, "withdraw route 2001:db8:", 24) == 0;
                ck_assert_msg(ann || wd, "line %zu is not a whole command: \"%s\"", i, l);
                ck_assert_int_eq(sscanf(l + 24, "%x::/48", &x), 1);
                ck_assert(x >= 1 && x <= 400);
                last[x] = ann ? 'a' : 'w';
                withdraws += wd;
        }
        for (int k = 1; k <= 400; k++)
                ck_assert_msg(last[k] == 'w', "2001:db8:%x::/48 left announced", k);
        ck_assert_uint_ge(withdraws, 400);
}
END_TEST

/* ---- ExaBGP 6 (exabgp.api 6) ---- */

/* What ExaBGP 6 gets, line by line: first "session ack enable", whose
 * "done" is no route's, then each route as "peer * announce|withdraw
 * route ...", acks matched behind the session start's. */
START_TEST(api6_writes_6_syntax)
{
        wait_lines(1);
        ck_assert_str_eq(line(0), "session ack enable");
        announce("203.0.113.53", 32);
        withdraw("2001:db8:53::", 48);
        backend_exabgp_ops.commit(F.b);
        wait_lines(3);
        ck_assert_str_eq(line(1), "peer * announce route 203.0.113.53/32 next-hop self med 100 "
                                  "community [ 65001:53 ]");
        ck_assert_str_eq(line(2), "peer * withdraw route 2001:db8:53::/48");
        /* the first done answers the session start, not the announce */
        tell("done\n");
        run_for(50 * 1000);
        ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_WRITTEN);
        tell("done\n");
        wait_sync_a(EXABGP_SYNC_CONFIRMED);
        ck_assert_int_eq(status("2001:db8:53::", 48).sync, EXABGP_SYNC_WRITTEN);
        tell("done\n");
        run_for(50 * 1000);
        ck_assert_int_eq(status("2001:db8:53::", 48).sync, EXABGP_SYNC_CONFIRMED);
        struct speaker_counters n;
        backend_exabgp_ops.counters(F.b, &n);
        ck_assert_uint_eq(n.commands, 3);
        ck_assert_uint_eq(n.acks, 3);

        /* a refusal is retried in the same syntax; stopping withdraws in it */
        withdraw("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(4);
        ck_assert_str_eq(line(3), "peer * withdraw route 203.0.113.53/32");
        tell("error: Could not parse route\nerror\n");
        wait_lines(5);
        ck_assert_str_eq(line(4), line(3));
        tell("done\n");
        wait_sync_a(EXABGP_SYNC_CONFIRMED);
        announce("198.51.100.0", 24);
        backend_exabgp_ops.commit(F.b);
        wait_lines(6);
        tell("done\n");
        backend_exabgp_ops.stop(F.b, true, on_done, &F);
        wait_lines(7);
        ck_assert_str_eq(line(6), "peer * withdraw route 198.51.100.0/24");
        ck_assert_uint_eq(n_lines(), 7);
        tell("done\n");
        ck_assert(run_until(done_called, NULL));
        ck_assert_int_eq(F.gone, 0);
}
END_TEST

/* An ExaBGP that refuses the session start (4.x, or 6 held to API 4) is
 * told about once; the FIFO stays in step: the next ack is the route's. */
START_TEST(api6_session_start_refused)
{
        wait_lines(1);
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(2);
        tell("error\ndone\n");
        wait_sync_a(EXABGP_SYNC_CONFIRMED);
        ck_assert_uint_eq(status("203.0.113.53", 32).failures, 0);
        struct speaker_counters n;
        backend_exabgp_ops.counters(F.b, &n);
        ck_assert_uint_eq(n.errors, 1);
}
END_TEST

/* Acks off: "silence" answers nothing, so nothing waits for an answer. */
START_TEST(api6_noack_silences)
{
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(2);
        ck_assert_str_eq(line(0), "session ack silence");
        ck_assert_str_eq(line(1), "peer * announce route 203.0.113.53/32 next-hop self med 100 "
                                  "community [ 65001:53 ]");
        backend_exabgp_ops.stop(F.b, false, on_done, &F);
        ck_assert(run_until(done_called, NULL));
        ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_WRITTEN);
}
END_TEST

/* API 4 writes nothing of its own: the first line is the first route. */
START_TEST(api4_writes_no_session_start)
{
        run_for(50 * 1000);
        ck_assert_uint_eq(n_lines(), 0);
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        wait_lines(1);
        ck_assert_str_eq(line(0), "announce route 203.0.113.53/32 next-hop self med 100 "
                                  "community [ 65001:53 ]");
}
END_TEST

/* ---- on the stepped clock: the timers to the microsecond ---- */

/* Runs what is ready without moving the time, reading our output. */
static void settle(void)
{
        fake_clock_settle(&FC);
        drain();
}

static void step(uint64_t usec)
{
        fake_clock_advance(&FC, usec);
        drain();
}

/* Backoff 20 ms doubling to 200 ms (setup_with): each retry leaves
 * exactly when its backoff is over, and the cap holds. */
START_TEST(retry_backoff_is_exact)
{
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        settle();
        ck_assert_uint_eq(n_lines(), 1);
        const uint64_t waits[] = {20000, 40000, 80000, 160000, 200000, 200000};
        for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
                tell("error\n");
                settle();
                ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_REJECTED);
                step(waits[i] - 1);
                ck_assert_msg(n_lines() == i + 1, "retry %zu left early", i + 1);
                step(1);
                ck_assert_msg(n_lines() == i + 2, "retry %zu not sent after %llu us", i + 1,
                              (unsigned long long)waits[i]);
                ck_assert_str_eq(line(i + 1), line(0));
        }
        tell("done\n");
        settle();
        ck_assert_int_eq(status("203.0.113.53", 32).sync, EXABGP_SYNC_CONFIRMED);
        step(3600 * 1000000ULL); /* an hour: nothing more */
        ck_assert_uint_eq(n_lines(), 7);
}
END_TEST

/* A stop waits for the acks it is owed for exactly its bound. */
START_TEST(stop_wait_bound_is_exact)
{
        backend_exabgp_set_stop_wait(F.b, 100 * 1000);
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        settle();
        backend_exabgp_ops.stop(F.b, true, on_done, &F);
        settle();
        ck_assert_str_eq(line(1), "withdraw route 203.0.113.53/32");
        step(99999);
        ck_assert_int_eq(F.done_calls, 0);
        step(1);
        ck_assert_int_eq(F.done_calls, 1);
}
END_TEST

#define SEC 1000000ULL

static enum route_confirm confirm_a(void)
{
        struct prefix p = pfx("203.0.113.53", 32);
        return backend_exabgp_ops.confirmed(F.b, &p);
}

static struct speaker_counters counts(void)
{
        struct speaker_counters n;
        backend_exabgp_ops.counters(F.b, &n);
        return n;
}

/* Reconciliation on the stepped clock: the listing a second after an ack
 * and every interval; a route missing from the adj-rib-out (another
 * process withdrew it) is drift, its command sent again; a route the
 * listing shows right again is confirmed; one ExaBGP keeps dropping is
 * stuck after 10 s (the hook hears it) and re-sent once per interval. */
START_TEST(reconcile_resends_what_exabgp_lost)
{
        const char *held = "neighbor 192.0.2.2 ipv4 unicast 203.0.113.53/32 next-hop self\n"
                           "192.0.2.3 ipv4 unicast 203.0.113.53/32 next-hop self\n"
                           "neighbor 192.0.2.2 ipv4 unicast 198.51.100.0/24 next-hop self\n";
        announce("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        settle();
        ck_assert_uint_eq(n_lines(), 1);
        tell("done\n");
        settle();
        /* a second after the ack: the listing */
        step(1 * SEC - 1);
        ck_assert_uint_eq(n_lines(), 1);
        step(1);
        ck_assert_uint_eq(n_lines(), 2);
        ck_assert_str_eq(line(1), "show adj-rib out");
        char reply[512];
        snprintf(reply, sizeof(reply), "%sdone\n", held);
        tell(reply);
        settle();
        ck_assert_uint_eq(counts().reconcile_passes, 1);
        ck_assert_uint_eq(counts().drift, 0);
        ck_assert_int_eq(confirm_a(), CONFIRM_CONFIRMED);
        /* the next one an interval later; this time the route is gone */
        step(30 * SEC);
        ck_assert_uint_eq(n_lines(), 3);
        tell("neighbor 192.0.2.2 ipv4 unicast 198.51.100.0/24 next-hop self\ndone\n");
        settle();
        ck_assert_uint_eq(counts().drift, 1);
        ck_assert_int_eq(confirm_a(), CONFIRM_DRIFT);
        ck_assert_uint_eq(n_lines(), 4);
        ck_assert_str_eq(line(3), line(0)); /* the announce, again */
        tell("done\n");
        settle();
        step(1 * SEC);
        ck_assert_uint_eq(n_lines(), 5);
        tell(reply);
        settle();
        ck_assert_int_eq(confirm_a(), CONFIRM_CONFIRMED);
        ck_assert_uint_eq(counts().drift, 1);

        /* ExaBGP keeps dropping it: stuck 10 s after it was first missed */
        size_t before = n_lines();
        step(30 * SEC); /* listing */
        for (int i = 0; i < 40; i++) {
                while (n_lines() > before) {
                        /* answer every line in order: a listing without the
                         * route, a re-sent announce with done */
                        tell("done\n"); /* an empty listing, or the re-send's ack */
                        before++;
                        settle();
                }
                step(1 * SEC);
        }
        ck_assert_int_eq(F.stuck_calls, 1);
        ck_assert_str_eq(F.stuck_why, "missing from ExaBGP's adj-rib-out");
        ck_assert_int_eq(confirm_a(), CONFIRM_STUCK);
        ck_assert_uint_eq(counts().stuck, 1);
        /* re-sent: about one a second while drifting (10), then once per
         * interval (40 s: at most 2 more) */
        size_t resent = 0;
        for (size_t i = 0; i < n_lines(); i++)
                resent += strcmp(line(i), line(0)) == 0;
        ck_assert_uint_le(resent, 3 + 11 + 2);
        ck_assert_uint_ge(resent, 3 + 2);
        /* right again */
        step(30 * SEC);
        while (n_lines() > before) {
                tell(strcmp(line(before), "show adj-rib out") == 0 ? reply : "done\n");
                before++;
                settle();
        }
        ck_assert_int_eq(F.unstuck_calls, 1);
        ck_assert_int_eq(confirm_a(), CONFIRM_CONFIRMED);
        ck_assert_uint_eq(counts().stuck, 0);
}
END_TEST

static char *canary_nbrs[] = {"192.0.2.1", NULL};
static struct canary_cfg CANARY = {.neighbors = canary_nbrs, .n_neighbors = 1, .time_usec = 1};

static void announce_to(enum audience a)
{
        struct prefix p = pfx("203.0.113.53", 32);
        struct route_update u = {.prefix = &p,
                                 .action = ROUTE_ANNOUNCE,
                                 .attrs = &ATTRS,
                                 .service = "dns",
                                 .reason = "checks up",
                                 .audience = a,
                                 .canary = &CANARY};
        backend_exabgp_ops.update(F.b, &u);
        backend_exabgp_ops.commit(F.b);
}

/* canaries -> everyone -> withdraw; and a failed trial: withdrawn from the
 * canary only; on trial, reconcile: at the canary only is right, at the other
 * peer is drift repaired by a withdraw from that peer alone. */
START_TEST(canary_audience_flow)
{
        ck_assert(!backend_exabgp_ops.canary); /* the engine refuses a canary until it is set */
        announce_to(AUDIENCE_CANARIES);
        settle();
        ck_assert_uint_eq(n_lines(), 1);
        ck_assert_str_eq(line(0), "neighbor 192.0.2.1 announce route 203.0.113.53/32 next-hop "
                                  "self med 100 community [ 65001:53 ]");
        tell("done\n");
        settle();
        ck_assert_int_eq(confirm_a(), CONFIRM_CONFIRMED);
        /* the listing: held by the canary only is right */
        step(1 * SEC);
        ck_assert_uint_eq(n_lines(), 2);
        ck_assert_str_eq(line(1), "show adj-rib out");
        tell("neighbor 192.0.2.1 ipv4 unicast 203.0.113.53/32 next-hop self\ndone\n");
        settle();
        ck_assert_uint_eq(counts().reconcile_passes, 1);
        ck_assert_uint_eq(counts().drift, 0);
        ck_assert_int_eq(confirm_a(), CONFIRM_CONFIRMED);
        /* held by the other peer too: drift, withdrawn from that peer only */
        step(30 * SEC);
        ck_assert_uint_eq(n_lines(), 3);
        tell("neighbor 192.0.2.1 ipv4 unicast 203.0.113.53/32 next-hop self\n"
             "neighbor 198.51.100.1 ipv4 unicast 203.0.113.53/32 next-hop self\ndone\n");
        settle();
        ck_assert_uint_eq(counts().drift, 1);
        ck_assert_uint_eq(n_lines(), 4);
        ck_assert_str_eq(line(3), "neighbor 198.51.100.1 withdraw route 203.0.113.53/32");
        tell("done\n");
        settle();
        ck_assert_int_eq(confirm_a(), CONFIRM_DRIFT);
        /* promoted: the plain announce */
        announce_to(AUDIENCE_EVERYONE);
        settle();
        ck_assert_uint_eq(n_lines(), 5);
        ck_assert_str_eq(line(4), "announce route 203.0.113.53/32 next-hop self med 100 "
                                  "community [ 65001:53 ]");
        tell("done\n");
        settle();
        /* the same promotion again is no change */
        announce_to(AUDIENCE_EVERYONE);
        settle();
        ck_assert_uint_eq(n_lines(), 5);
        /* withdrawn after it went to everyone: from everyone */
        withdraw("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        settle();
        ck_assert_uint_eq(n_lines(), 6);
        ck_assert_str_eq(line(5), "withdraw route 203.0.113.53/32");
        tell("done\n");
        settle();
        /* a new trial that fails: withdrawn from the canary only */
        announce_to(AUDIENCE_CANARIES);
        settle();
        ck_assert_uint_eq(n_lines(), 7);
        ck_assert_str_eq(line(6), line(0));
        withdraw("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        settle();
        ck_assert_uint_eq(n_lines(), 8);
        ck_assert_str_eq(line(7), "neighbor 192.0.2.1 withdraw route 203.0.113.53/32");
        /* the same withdraw again: nothing, not a wider one */
        withdraw("203.0.113.53", 32);
        backend_exabgp_ops.commit(F.b);
        settle();
        ck_assert_uint_eq(n_lines(), 8);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("exabgp_backend");
        TCase *tc = tcase_create("ack");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, updates_in_order_and_acks_confirm);
        tcase_add_test(tc, error_is_retried_with_backoff);
        tcase_add_test(tc, route_sent_reports_the_decision_delay_once);
        tcase_add_test(tc, superseded_failure_is_not_retried);
        tcase_add_test(tc, stop_withdraws_exactly_the_announced);
        tcase_add_test(tc, stop_without_withdraw_just_flushes);
        tcase_add_test(tc, stop_waits_for_acks_only_so_long);
        tcase_add_test(tc, eof_on_stdin_is_speaker_gone);
        tcase_add_test(tc, shutdown_notification_is_speaker_gone);
        tcase_add_test(tc, closed_stdout_is_speaker_gone);
        tcase_add_test(tc, flood_of_events_is_consumed);
        tcase_add_test(tc, neighbor_table_is_bounded);
        tcase_add_test(tc, api4_writes_no_session_start);
        suite_add_tcase(s, tc);
        tc = tcase_create("noack");
        tcase_add_checked_fixture(tc, setup_noack, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, unread_stdout_does_not_block);
        tcase_add_test(tc, acks_off_nothing_matched);
        tcase_add_test(tc, watchdog_withdraws_everything_when_the_loop_wedges);
        suite_add_tcase(s, tc);
        tc = tcase_create("api6");
        tcase_add_checked_fixture(tc, setup_api6, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, api6_writes_6_syntax);
        tcase_add_test(tc, api6_session_start_refused);
        tcase_add_test(tc, refusal_reason_is_logged_not_matched);
        suite_add_tcase(s, tc);
        tc = tcase_create("api6-noack");
        tcase_add_checked_fixture(tc, setup_api6_noack, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, api6_noack_silences);
        tcase_add_test(tc, watchdog_withdraws_everything_when_the_loop_wedges);
        suite_add_tcase(s, tc);
        tc = tcase_create("stepped");
        tcase_add_checked_fixture(tc, setup_stepped, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, retry_backoff_is_exact);
        tcase_add_test(tc, stop_wait_bound_is_exact);
        suite_add_tcase(s, tc);
        tc = tcase_create("reconcile");
        tcase_add_checked_fixture(tc, setup_reconcile, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, reconcile_resends_what_exabgp_lost);
        tcase_add_test(tc, canary_audience_flow);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
