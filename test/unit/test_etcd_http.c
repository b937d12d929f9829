/* test_etcd_http.c: the fleet's HTTP client (etcd_http.c) against a real
 * HTTP/1.1 server on loopback that this test forks: JSON replies, a chunked
 * stream, a server that never answers, a closed port, oversized replies and
 * lines, cancels, a free with requests in flight, 50 requests at once and
 * callbacks that re-enter the client. And one put and watch against a real
 * etcd when /usr/bin/etcd exists. libcurl is the real one throughout. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etcd_http.h"

/* ---- the server: one forked process, one more per connection ---- */

static pid_t srv_pid;
static int srv_port;

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static bool send_all(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                p += n;
                len -= (size_t)n;
        }
        return true;
}

static bool send_str(int fd, const char *s)
{
        return send_all(fd, s, strlen(s));
}

static bool send_chunk(int fd, const char *data, size_t len)
{
        char head[32];
        snprintf(head, sizeof(head), "%zx\r\n", len);
        return send_str(fd, head) && send_all(fd, data, len) && send_str(fd, "\r\n");
}

static bool reply(int fd, int status, const char *reason, const char *body)
{
        char head[256];
        snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 status, reason, strlen(body));
        return send_str(fd, head) && send_str(fd, body);
}

static const char CHUNKED_200[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n";

/* Reads one request: its path, whether it said Content-Type JSON, and its
 * body. false at the end of the connection. */
static bool read_request(int fd, char path[static 256], bool *json, char **body)
{
        static char buf[1 << 16];
        size_t len = 0;
        char *end = NULL;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
                if (len == sizeof(buf) - 1)
                        return false;
                ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        return false;
                len += (size_t)n;
        }
        *end = '\0';
        if (sscanf(buf, "POST %255s HTTP/1.1", path) != 1)
                return false;
        *json = strcasestr(buf, "\r\nContent-Type: application/json\r\n") != NULL;
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0;
        size_t have = len - (size_t)(end + 4 - buf);
        char *b = malloc(want + 1);
        memcpy(b, end + 4, have < want ? have : want);
        while (have < want) {
                ssize_t n = read(fd, b + have, want - have);
                if (n <= 0) {
                        free(b);
                        return false;
                }
                have += (size_t)n;
        }
        b[want] = '\0';
        *body = b;
        return true;
}

static void serve(int fd)
{
        char path[256], *body = NULL;
        bool json;
        while (read_request(fd, path, &json, &body)) {
                bool ok = true;
                if (strcmp(path, "/json") == 0 || strcmp(path, "/slow") == 0) {
                        if (strcmp(path, "/slow") == 0)
                                sleep_ms(300);
                        char *out = NULL;
                        if (asprintf(&out, "{\"echo\":%s}", body) < 0)
                                _exit(1);
                        ok = json ? reply(fd, 200, "OK", out) : reply(fd, 415, "Nope", "{}");
                        free(out);
                } else if (strcmp(path, "/status404") == 0) {
                        ok = reply(fd, 404, "Not Found", "not here");
                } else if (strcmp(path, "/hang") == 0) {
                        for (;;)
                                pause();
                } else if (strcmp(path, "/big") == 0 || strcmp(path, "/bigcl") == 0) {
                        /* 17 MiB: without a length (read to the close), or
                         * declared up front */
                        size_t total = 17u << 20;
                        char head[160];
                        if (strcmp(path, "/big") == 0)
                                snprintf(head, sizeof(head),
                                         "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                        else
                                snprintf(head, sizeof(head),
                                         "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", total);
                        static char block[65536];
                        memset(block, 'x', sizeof(block));
                        send_str(fd, head);
                        for (size_t sent = 0; sent < total; sent += sizeof(block))
                                if (!send_all(fd, block, sizeof(block)))
                                        break;
                        ok = false;
                } else if (strcmp(path, "/stream") == 0) {
                        /* three lines with pauses, the second split across
                         * two chunks, and a tail without a newline */
                        ok = send_str(fd, CHUNKED_200) && send_chunk(fd, "line one\n", 9);
                        sleep_ms(100);
                        ok = ok && send_chunk(fd, "line t", 6);
                        sleep_ms(100);
                        ok = ok && send_chunk(fd, "wo\nline three\n", 14);
                        sleep_ms(100);
                        ok = ok && send_chunk(fd, "tail", 4) && send_str(fd, "0\r\n\r\n");
                } else if (strcmp(path, "/stream404") == 0) {
                        ok = reply(fd, 404, "Not Found", "{\"error\":\"nope\"}\n");
                } else if (strcmp(path, "/longline") == 0) {
                        static char block[65536];
                        memset(block, 'y', sizeof(block));
                        ok = send_str(fd, CHUNKED_200) && send_chunk(fd, "short\n", 6);
                        for (int i = 0; ok && i < 20; i++) /* 1.25 MiB, no newline */
                                ok = send_chunk(fd, block, sizeof(block));
                        sleep_ms(5000);
                        ok = false;
                } else if (strcmp(path, "/endless") == 0) {
                        ok = send_str(fd, CHUNKED_200);
                        for (int i = 0; ok; i++) {
                                char l[32];
                                int n = snprintf(l, sizeof(l), "{\"n\":%d}\n", i);
                                ok = send_chunk(fd, l, (size_t)n);
                                sleep_ms(30);
                        }
                } else {
                        ok = reply(fd, 400, "Bad Request", "?");
                }
                free(body);
                body = NULL;
                if (!ok)
                        break;
        }
        free(body);
}

static void srv_start(void)
{
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(l, 0);
        int one = 1;
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t alen = sizeof(a);
        ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_eq(listen(l, 256), 0);
        ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
        srv_port = ntohs(a.sin_port);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                setpgid(0, 0);
                prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves nothing */
                alarm(120);
                signal(SIGCHLD, SIG_IGN); /* connection processes reap themselves */
                for (;;) {
                        int c = accept(l, NULL, NULL);
                        if (c < 0)
                                continue;
                        pid_t cp = fork();
                        if (cp == 0) {
                                prctl(PR_SET_PDEATHSIG, SIGKILL);
                                close(l);
                                serve(c);
                                _exit(0); /* no leak report from a server */
                        }
                        close(c);
                }
        }
        setpgid(pid, pid);
        close(l);
        srv_pid = pid;
}

static void srv_stop(void)
{
        if (srv_pid <= 0)
                return;
        kill(-srv_pid, SIGKILL);
        kill(srv_pid, SIGKILL);
        waitpid(srv_pid, NULL, 0);
        srv_pid = 0;
}

static char *url(const char *path)
{
        static char u[8][128];
        static int i;
        char *s = u[i++ % 8];
        snprintf(s, sizeof(u[0]), "http://127.0.0.1:%d%s", srv_port, path);
        return s;
}

/* ---- the client's side ---- */

static sd_event *ev;
static struct etcd_http *h;

static void setup(void)
{
        srv_start();
        ck_assert_int_eq(sd_event_new(&ev), 0);
        ck_assert_int_eq(etcd_http_new(ev, NULL, &h), 0);
}

static void teardown(void)
{
        etcd_http_free(h);
        h = NULL;
        ev = sd_event_unref(ev);
        srv_stop();
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Runs the loop until *count reaches want or max_usec passed. */
static void run_until(const int *count, int want, uint64_t max_usec)
{
        uint64_t end = now_usec() + max_usec;
        while ((!count || *count < want) && now_usec() < end)
                ck_assert_int_ge(sd_event_run(ev, 10000), 0);
}

static void run_for(uint64_t usec)
{
        run_until(NULL, 0, usec);
}

struct result {
        int calls, lines;
        int err;
        long status;
        char *body;
        size_t len;
        char *line[16];
};

static void result_clear(struct result *r)
{
        free(r->body);
        for (int i = 0; i < 16; i++)
                free(r->line[i]);
        memset(r, 0, sizeof(*r));
}

static void on_done(void *userdata, int err, long status, const char *body, size_t len)
{
        struct result *r = userdata;
        r->calls++;
        r->err = err;
        r->status = status;
        free(r->body);
        r->body = body ? strndup(body, len) : NULL;
        r->len = len;
        if (body)
                ck_assert_int_eq(body[len], '\0');
}

static void on_line(void *userdata, const char *line, size_t len)
{
        struct result *r = userdata;
        ck_assert_int_eq(line[len], '\0');
        ck_assert_ptr_null(memchr(line, '\n', len));
        if (r->lines < 16)
                r->line[r->lines] = strndup(line, len);
        r->lines++;
}

static void never(void *userdata, int err, long status, const char *body, size_t len)
{
        ck_abort_msg("done() after cancel or free (err %d, status %ld)", err, status);
}

static void never_line(void *userdata, const char *line, size_t len)
{
        ck_abort_msg("line() after cancel or free: %.*s", (int)len, line);
}

/* ---- cases ---- */

START_TEST(test_post_json)
{
        struct result r = {0};
        char *body = strdup("{\"k\":\"v\"}");
        struct etcd_http_req *req = NULL;
        ck_assert_int_eq(etcd_http_post(h, url("/json"), body, 5000000, on_done, &r, &req), 0);
        free(body); /* copied */
        ck_assert_ptr_nonnull(req);
        ck_assert_int_eq(r.calls, 0); /* never from inside the call */
        ck_assert_uint_eq(etcd_http_in_flight(h), 1);
        run_until(&r.calls, 1, 5000000);
        ck_assert_int_eq(r.calls, 1);
        ck_assert_int_eq(r.err, 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "{\"echo\":{\"k\":\"v\"}}");
        ck_assert_uint_eq(etcd_http_in_flight(h), 0);

        /* again, on the kept-alive connection, without a handle */
        result_clear(&r);
        ck_assert_int_eq(etcd_http_post(h, url("/json"), "[1]", 5000000, on_done, &r, NULL), 0);
        run_until(&r.calls, 1, 5000000);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "{\"echo\":[1]}");
        run_for(100000);
        ck_assert_int_eq(r.calls, 1); /* once */
        result_clear(&r);
}
END_TEST

START_TEST(test_status_and_bad_args)
{
        struct result r = {0};
        ck_assert_int_eq(etcd_http_post(h, url("/status404"), "{}", 5000000, on_done, &r, NULL), 0);
        run_until(&r.calls, 1, 5000000);
        ck_assert_int_eq(r.err, 0);
        ck_assert_int_eq(r.status, 404); /* a status is not an error */
        ck_assert_str_eq(r.body, "not here");
        result_clear(&r);

        ck_assert_int_eq(etcd_http_post(h, NULL, "{}", 1000, on_done, &r, NULL), -EINVAL);
        ck_assert_int_eq(etcd_http_post(h, url("/json"), NULL, 1000, on_done, &r, NULL), -EINVAL);
        ck_assert_int_eq(etcd_http_stream(h, url("/json"), "{}", 1000, NULL, on_done, &r, NULL),
                         -EINVAL);
        ck_assert_int_eq(etcd_http_post(h, "ftp://127.0.0.1/x", "{}", 1000000, on_done, &r, NULL),
                         0);
        run_until(&r.calls, 1, 5000000);
        ck_assert_int_eq(r.calls, 1);
        ck_assert_int_eq(r.err, -EINVAL); /* not http(s): from the loop, not the call */
        ck_assert_int_eq(r.status, 0);
        ck_assert_ptr_null(r.body);
        result_clear(&r);
}
END_TEST

START_TEST(test_stream)
{
        struct result r = {0};
        uint64_t t0 = now_usec();
        ck_assert_int_eq(
            etcd_http_stream(h, url("/stream"), "{\"w\":1}", 2000000, on_line, on_done, &r, NULL),
            0);
        /* the first line arrives before the stream ends (300 ms later) */
        run_until(&r.lines, 1, 5000000);
        ck_assert_int_eq(r.lines, 1);
        ck_assert_int_eq(r.calls, 0);
        ck_assert_str_eq(r.line[0], "line one");
        run_until(&r.calls, 1, 5000000);
        ck_assert_uint_ge(now_usec() - t0, 250000);
        ck_assert_int_eq(r.lines, 3);
        ck_assert_str_eq(r.line[1], "line two");
        ck_assert_str_eq(r.line[2], "line three");
        ck_assert_int_eq(r.calls, 1);
        ck_assert_int_eq(r.err, 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, "tail"); /* what followed the last newline */
        result_clear(&r);

        /* a stream refused with a status: no lines, the body to done() */
        ck_assert_int_eq(
            etcd_http_stream(h, url("/stream404"), "{}", 2000000, on_line, on_done, &r, NULL), 0);
        run_until(&r.calls, 1, 5000000);
        ck_assert_int_eq(r.lines, 0);
        ck_assert_int_eq(r.err, 0);
        ck_assert_int_eq(r.status, 404);
        ck_assert_str_eq(r.body, "{\"error\":\"nope\"}\n");
        result_clear(&r);
}
END_TEST

START_TEST(test_timeout)
{
        struct result r = {0};
        uint64_t t0 = now_usec();
        ck_assert_int_eq(etcd_http_post(h, url("/hang"), "{}", 300000, on_done, &r, NULL), 0);
        run_until(&r.calls, 1, 5000000);
        uint64_t took = now_usec() - t0;
        ck_assert_int_eq(r.calls, 1);
        ck_assert_int_eq(r.err, -ETIMEDOUT);
        ck_assert_int_eq(r.status, 0);
        ck_assert_ptr_null(r.body);
        ck_assert_uint_ge(took, 290000);
        ck_assert_uint_lt(took, 2000000);
        result_clear(&r);
}
END_TEST

START_TEST(test_refused)
{
        /* a port that was free a moment ago: nothing listens */
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t alen = sizeof(a);
        ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
        close(s);
        char u[64];
        snprintf(u, sizeof(u), "http://127.0.0.1:%d/v3/kv/put", ntohs(a.sin_port));
        struct result r = {0}, rs = {0};
        ck_assert_int_eq(etcd_http_post(h, u, "{}", 2000000, on_done, &r, NULL), 0);
        ck_assert_int_eq(etcd_http_stream(h, u, "{}", 2000000, on_line, on_done, &rs, NULL), 0);
        run_until(&rs.calls, 1, 5000000);
        run_until(&r.calls, 1, 5000000);
        ck_assert_int_eq(r.err, -ECONNREFUSED);
        ck_assert_int_eq(r.status, 0);
        ck_assert_int_eq(rs.err, -ECONNREFUSED);
        ck_assert_int_eq(rs.lines, 0);
        result_clear(&r);
        result_clear(&rs);
}
END_TEST

START_TEST(test_oversized)
{
        struct result a = {0}, b = {0}, c = {0};
        ck_assert_int_eq(etcd_http_post(h, url("/big"), "{}", 10000000, on_done, &a, NULL), 0);
        ck_assert_int_eq(etcd_http_post(h, url("/bigcl"), "{}", 10000000, on_done, &b, NULL), 0);
        ck_assert_int_eq(
            etcd_http_stream(h, url("/longline"), "{}", 2000000, on_line, on_done, &c, NULL), 0);
        run_until(&a.calls, 1, 10000000);
        run_until(&b.calls, 1, 10000000);
        run_until(&c.calls, 1, 10000000);
        ck_assert_int_eq(a.err, -EMSGSIZE);
        ck_assert_int_eq(b.err, -EMSGSIZE);
        ck_assert_int_eq(c.err, -EMSGSIZE);
        ck_assert_int_eq(c.lines, 1); /* the short line came before */
        ck_assert_str_eq(c.line[0], "short");
        ck_assert_int_eq(a.status, 0);
        ck_assert_ptr_null(a.body);
        result_clear(&a);
        result_clear(&b);
        result_clear(&c);
}
END_TEST

START_TEST(test_cancel)
{
        struct result other = {0}, s = {0};
        struct etcd_http_req *req = NULL, *sreq = NULL;
        ck_assert_int_eq(etcd_http_post(h, url("/slow"), "{}", 5000000, never, NULL, &req), 0);
        ck_assert_int_eq(etcd_http_post(h, url("/slow"), "{}", 5000000, on_done, &other, NULL), 0);
        /* cancelled before it even started */
        etcd_http_cancel(h, req);
        ck_assert_uint_eq(etcd_http_in_flight(h), 1);
        run_for(50000);
        /* a request on the wire, a stream that has delivered lines */
        ck_assert_int_eq(etcd_http_post(h, url("/hang"), "{}", 5000000, never, NULL, &req), 0);
        ck_assert_int_eq(
            etcd_http_stream(h, url("/endless"), "{}", 2000000, on_line, on_done, &s, &sreq), 0);
        run_until(&s.lines, 2, 5000000);
        ck_assert_int_ge(s.lines, 2);
        etcd_http_cancel(h, req);
        etcd_http_cancel(h, sreq);
        int lines = s.lines;
        run_until(&other.calls, 1, 5000000);
        run_for(300000);
        ck_assert_int_eq(other.calls, 1);
        ck_assert_int_eq(other.status, 200);
        ck_assert_int_eq(s.calls, 0);
        ck_assert_int_eq(s.lines, lines);
        ck_assert_uint_eq(etcd_http_in_flight(h), 0);
        etcd_http_cancel(h, NULL);
        result_clear(&other);
        result_clear(&s);
}
END_TEST

static void noop_line(void *userdata, const char *line, size_t len)
{
}

START_TEST(test_free_in_flight)
{
        for (int i = 0; i < 5; i++)
                ck_assert_int_eq(etcd_http_post(h, url("/hang"), "{}", 5000000, never, NULL, NULL),
                                 0);
        ck_assert_int_eq(etcd_http_post(h, url("/slow"), "{}", 5000000, never, NULL, NULL), 0);
        ck_assert_int_eq(
            etcd_http_stream(h, url("/endless"), "{}", 2000000, noop_line, never, NULL, NULL), 0);
        /* connected, sent, the stream flowing, /slow not yet answered */
        run_for(150000);
        ck_assert_uint_eq(etcd_http_in_flight(h), 7);
        etcd_http_free(h);
        h = NULL;
        run_for(500000); /* no callback, no source of it left to fire */
}
END_TEST

/* ASan's leak check at exit covers what these leave behind. */
START_TEST(test_free_before_start)
{
        ck_assert_int_eq(etcd_http_post(h, url("/json"), "{}", 5000000, never, NULL, NULL), 0);
        ck_assert_int_eq(
            etcd_http_stream(h, url("/endless"), "{}", 2000000, never_line, never, NULL, NULL), 0);
        etcd_http_free(h); /* before the loop ever ran */
        h = NULL;
        run_for(200000);
}
END_TEST

#define MANY 50

static int many_calls, many_good;
static bool many_seen[MANY];

static void on_many(void *userdata, int err, long status, const char *body, size_t len)
{
        int i = (int)(intptr_t)userdata;
        char want[64];
        snprintf(want, sizeof(want), "{\"echo\":{\"i\":%d}}", i);
        many_calls++;
        if (err == 0 && status == 200 && body && strcmp(body, want) == 0 && !many_seen[i])
                many_good++;
        many_seen[i] = true;
}

START_TEST(test_many)
{
        for (int i = 0; i < MANY; i++) {
                char body[32];
                snprintf(body, sizeof(body), "{\"i\":%d}", i);
                ck_assert_int_eq(etcd_http_post(h, url("/json"), body, 10000000, on_many,
                                                (void *)(intptr_t)i, NULL),
                                 0);
        }
        ck_assert_uint_eq(etcd_http_in_flight(h), MANY);
        run_until(&many_calls, MANY, 15000000);
        ck_assert_int_eq(many_calls, MANY);
        ck_assert_int_eq(many_good, MANY);
        ck_assert_uint_eq(etcd_http_in_flight(h), 0);
}
END_TEST

/* ---- callbacks that re-enter ---- */

static int chain_left, chain_done;

static void on_chain(void *userdata, int err, long status, const char *body, size_t len)
{
        ck_assert_int_eq(status, 200);
        chain_done++;
        if (--chain_left > 0) /* the next one from inside done() */
                ck_assert_int_eq(
                    etcd_http_post(h, url("/json"), "{\"c\":1}", 5000000, on_chain, NULL, NULL), 0);
}

static struct etcd_http_req *self_req;
static int self_lines;

static void on_line_cancel_self(void *userdata, const char *line, size_t len)
{
        if (++self_lines == 2) {
                etcd_http_cancel(h, self_req);
                etcd_http_cancel(h, self_req); /* twice: still nothing */
        }
        ck_assert_int_le(self_lines, 2);
}

struct self {
        struct etcd_http_req *req;
        int calls;
};

static void on_done_cancel_self(void *userdata, int err, long status, const char *body, size_t len)
{
        struct self *me = userdata;
        etcd_http_cancel(h, me->req); /* its own handle, from its done(): a no-op */
        me->calls++;
}

START_TEST(test_reentrant)
{
        chain_left = 3;
        chain_done = 0;
        ck_assert_int_eq(etcd_http_post(h, url("/json"), "{}", 5000000, on_chain, NULL, NULL), 0);
        run_until(&chain_done, 3, 10000000);
        ck_assert_int_eq(chain_done, 3);

        self_lines = 0;
        ck_assert_int_eq(etcd_http_stream(h, url("/endless"), "{}", 2000000, on_line_cancel_self,
                                          never, NULL, &self_req),
                         0);
        run_until(&self_lines, 2, 5000000);
        run_for(300000);
        ck_assert_int_eq(self_lines, 2);
        ck_assert_uint_eq(etcd_http_in_flight(h), 0);

        struct self me = {0};
        ck_assert_int_eq(
            etcd_http_post(h, url("/json"), "{}", 5000000, on_done_cancel_self, &me, &me.req), 0);
        run_until(&me.calls, 1, 5000000);
        ck_assert_int_eq(me.calls, 1);
}
END_TEST

static int freed_from_cb;

static void on_done_free(void *userdata, int err, long status, const char *body, size_t len)
{
        ck_assert_int_eq(freed_from_cb, 0);
        freed_from_cb++;
        ck_assert_str_eq(body, "{\"echo\":{}}");
        etcd_http_free(h); /* with others in flight and done ones queued */
        h = NULL;
        ck_assert_str_eq(body, "{\"echo\":{}}"); /* still valid during the callback */
}

static void on_line_free(void *userdata, const char *line, size_t len)
{
        ck_assert_int_eq(freed_from_cb, 0);
        freed_from_cb++;
        char copy[64];
        snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
        etcd_http_free(h);
        h = NULL;
        ck_assert_int_eq(strncmp(copy, line, len), 0);
}

START_TEST(test_free_from_done)
{
        freed_from_cb = 0;
        /* these two replies come in the same moment: one frees the client
         * while the other's end is queued */
        ck_assert_int_eq(etcd_http_post(h, url("/json"), "{}", 5000000, on_done_free, NULL, NULL),
                         0);
        ck_assert_int_eq(etcd_http_post(h, url("/hang"), "{}", 5000000, never, NULL, NULL), 0);
        ck_assert_int_eq(
            etcd_http_stream(h, url("/endless"), "{}", 2000000, noop_line, never, NULL, NULL), 0);
        run_until(&freed_from_cb, 1, 5000000);
        ck_assert_int_eq(freed_from_cb, 1);
        ck_assert_ptr_null(h);
        run_for(300000);
}
END_TEST

START_TEST(test_free_from_line)
{
        freed_from_cb = 0;
        ck_assert_int_eq(etcd_http_post(h, url("/hang"), "{}", 5000000, never, NULL, NULL), 0);
        ck_assert_int_eq(
            etcd_http_stream(h, url("/endless"), "{}", 2000000, on_line_free, never, NULL, NULL),
            0);
        run_until(&freed_from_cb, 1, 5000000);
        ck_assert_int_eq(freed_from_cb, 1);
        ck_assert_ptr_null(h);
        run_for(300000);
}
END_TEST

/* ---- a real etcd ---- */

static bool port_free(int port)
{
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                .sin_port = htons((uint16_t)port)};
        /* as etcd binds: a TIME_WAIT left by an earlier run is no owner */
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        bool ok = bind(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(s);
        return ok;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        remove(path);
        return 0;
}

static void on_watch_line(void *userdata, const char *line, size_t len)
{
        on_line(userdata, line, len);
}

START_TEST(test_real_etcd)
{
        if (access("/usr/bin/etcd", X_OK) != 0) {
                fprintf(stderr, "test_real_etcd: skipped, /usr/bin/etcd is missing\n");
                return;
        }
        /* A fixed pair of ports (etcd takes no port 0); one a parallel run
         * took between our look and etcd's bind makes our etcd exit: the
         * next pair then. Started from a pid-chosen pair for the same reason. */
        char dir[] = "/tmp/ahd-etcd-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        char client[64], peer[64], cluster[80], log[64], put[96], watch[96];
        snprintf(log, sizeof(log), "%s.log", dir);
        struct result r = {0};
        pid_t pid = -1;
        for (int k = 0; k < 5 && r.status != 200; k++) {
                int port = 23990 + 2 * (int)(((unsigned)getpid() + (unsigned)k) % 5);
                if (!port_free(port) || !port_free(port + 1))
                        continue;
                snprintf(client, sizeof(client), "http://127.0.0.1:%d", port);
                snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", port + 1);
                snprintf(cluster, sizeof(cluster), "t=%s", peer);
                snprintf(put, sizeof(put), "%s/v3/kv/put", client);
                snprintf(watch, sizeof(watch), "%s/v3/watch", client);
                pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                        dup2(fd, 1);
                        dup2(fd, 2);
                        execl("/usr/bin/etcd", "etcd", "--data-dir", dir, "--name", "t",
                              "--listen-client-urls", client, "--advertise-client-urls", client,
                              "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                              "--initial-cluster", cluster, (char *)NULL);
                        _exit(127);
                }
                /* "/t/k" = "L3Qvaw==", "v0" = "djA=", "v1" = "djE=" */
                uint64_t end = now_usec() + 20000000;
                bool exited = false;
                while (now_usec() < end && !exited) {
                        result_clear(&r);
                        ck_assert_int_eq(etcd_http_post(h, put,
                                                        "{\"key\":\"L3Qvaw==\",\"value\":\"djA=\"}",
                                                        1000000, on_done, &r, NULL),
                                         0);
                        run_until(&r.calls, 1, 3000000);
                        /* an answer from a live etcd of ours, not another's */
                        exited = waitpid(pid, NULL, WNOHANG) == pid;
                        if (r.status == 200 || exited)
                                break;
                        sleep_ms(100);
                }
                if (exited) {
                        r.status = 0;
                        pid = -1;
                        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); /* a fresh one */
                        ck_assert_int_eq(mkdir(dir, 0700), 0);
                }
        }
        if (r.status != 200 && pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
        ck_assert_msg(r.status == 200, "etcd did not come up (err %d, status %ld), see %s", r.err,
                      r.status, log);
        ck_assert_ptr_nonnull(strstr(r.body, "\"revision\""));
        result_clear(&r);

        struct result w = {0};
        struct etcd_http_req *wreq = NULL;
        ck_assert_int_eq(etcd_http_stream(h, watch, "{\"create_request\":{\"key\":\"L3Qvaw==\"}}",
                                          2000000, on_watch_line, on_done, &w, &wreq),
                         0);
        run_until(&w.lines, 1, 5000000);
        ck_assert_int_eq(w.lines, 1);
        ck_assert_ptr_nonnull(strstr(w.line[0], "\"created\":true"));
        ck_assert_int_eq(etcd_http_post(h, put, "{\"key\":\"L3Qvaw==\",\"value\":\"djE=\"}",
                                        2000000, on_done, &r, NULL),
                         0);
        run_until(&w.lines, 2, 5000000);
        run_until(&r.calls, 1, 5000000);
        ck_assert_int_eq(r.status, 200);
        ck_assert_int_eq(w.lines, 2);
        ck_assert_ptr_nonnull(strstr(w.line[1], "\"events\""));
        ck_assert_ptr_nonnull(strstr(w.line[1], "\"value\":\"djE=\""));
        ck_assert_int_eq(w.calls, 0);
        etcd_http_cancel(h, wreq);
        result_clear(&r);
        result_clear(&w);

        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        unlink(log);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("etcd_http");
        TCase *tc = tcase_create("loopback");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_post_json);
        tcase_add_test(tc, test_status_and_bad_args);
        tcase_add_test(tc, test_stream);
        tcase_add_test(tc, test_timeout);
        tcase_add_test(tc, test_refused);
        tcase_add_test(tc, test_oversized);
        tcase_add_test(tc, test_cancel);
        tcase_add_test(tc, test_free_in_flight);
        tcase_add_test(tc, test_free_before_start);
        tcase_add_test(tc, test_many);
        tcase_add_test(tc, test_reentrant);
        tcase_add_test(tc, test_free_from_done);
        tcase_add_test(tc, test_free_from_line);
        suite_add_tcase(s, tc);
        TCase *real = tcase_create("real_etcd");
        tcase_add_checked_fixture(real, setup, teardown);
        tcase_set_timeout(real, 60);
        tcase_add_test(real, test_real_etcd);
        suite_add_tcase(s, real);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
