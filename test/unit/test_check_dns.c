/* test_check_dns.c: the dns plugin against a real NSD answering a zone the
 * test writes: answers, NXDOMAIN expected and not, truncation and the TCP
 * fallback, a server that never answers, one that answers with the wrong
 * ID, and nothing listening at all. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_fixture.h"

static char ndir[200];
static pid_t nsd_pid;
static int nport;

static void nsd_up(void)
{
        nf_tmpdir(ndir, sizeof(ndir), "nsd");
        nport = nf_free_port();
        char path[300], log[300], text[2048];
        snprintf(text, sizeof(text),
                 "server:\n  ip-address: 127.0.0.1@%d\n  port: %d\n  username: \"\"\n"
                 "  chroot: \"\"\n  zonesdir: \"%s\"\n  pidfile: \"%s/nsd.pid\"\n"
                 "  logfile: \"%s/nsd.log\"\n  zonelistfile: \"%s/zone.list\"\n"
                 "  xfrdfile: \"%s/xfrd.state\"\n  xfrdir: \"%s\"\n  database: \"\"\n"
                 "  server-count: 1\n  do-ip6: no\n  verbosity: 1\n  rrl-ratelimit: 0\n"
                 "remote-control:\n  control-enable: no\n"
                 "zone:\n  name: svc.test\n  zonefile: \"%s/svc.test.zone\"\n",
                 nport, nport, ndir, ndir, ndir, ndir, ndir, ndir, ndir);
        snprintf(path, sizeof(path), "%s/nsd.conf", ndir);
        nf_write(path, text);
        /* big: four 200-byte strings, far beyond a 512-byte UDP answer */
        char big[1024] = "";
        for (int i = 0; i < 4; i++) {
                strcat(big, " \"");
                for (int j = 0; j < 50; j++) {
                        char t[8];
                        snprintf(t, sizeof(t), "t%02d%c", i, 'a' + j % 26);
                        strcat(big, t);
                }
                strcat(big, "\"");
        }
        snprintf(text, sizeof(text),
                 "$ORIGIN svc.test.\n$TTL 60\n"
                 "@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
                 "@ IN NS ns1\n"
                 "ns1 IN A 192.0.2.53\n"
                 "www IN A 192.0.2.80\n"
                 "www IN AAAA 2001:db8::80\n"
                 "alias IN CNAME www\n"
                 "big IN TXT%s\n"
                 "big IN TXT \"second string\"\n",
                 big);
        snprintf(path, sizeof(path), "%s/svc.test.zone", ndir);
        nf_write(path, text);
        snprintf(path, sizeof(path), "%s/nsd.conf", ndir);
        snprintf(log, sizeof(log), "%s/nsd.out", ndir);
        char *argv[] = {"nsd", "-d", "-c", path, NULL};
        nsd_pid = nf_spawn(argv, log);
        nf_wait_tcp(nport, nsd_pid, log);
}

static void nsd_down(void)
{
        nf_stop(nsd_pid);
        nf_rmdir(ndir);
}

static struct fx_res dns_at(int port, const char *extra, uint64_t timeout)
{
        char opts[600];
        snprintf(opts, sizeof(opts), "{ \"server\": \"127.0.0.1\", \"port\": %d%s }", port, extra);
        return fx_probe1("dns", opts, timeout);
}

static struct fx_res dns(const char *extra)
{
        return dns_at(nport, extra, 5000000);
}

START_TEST(test_dns_answer)
{
        struct fx_res r = dns(", \"name\": \"www.svc.test\", \"expect_answer\": \"192.0.2.80\"");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "NOERROR, answer 192.0.2.80 in ");
        ck_assert_ptr_null(strstr(r.msg, "tcp"));

        r = dns(", \"name\": \"www.svc.test\"");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "NOERROR, 1 answer in ");

        r = dns(", \"name\": \"www.svc.test\", \"type\": \"AAAA\", \"expect_answer\": "
                "\"2001:db8::80\"");
        ck_assert_int_eq(r.code, 0);

        /* the target of a CNAME, and a name compared without the final dot */
        r = dns(", \"name\": \"alias.svc.test.\", \"expect_answer\": \"www.svc.test\"");
        ck_assert_int_eq(r.code, 0);

        /* a near miss is a miss: equality, not a substring */
        r = dns(", \"name\": \"www.svc.test\", \"expect_answer\": \"192.0.2.8\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "NOERROR, but 192.0.2.8 not among 1 answers for www.svc.test");
}
END_TEST

START_TEST(test_dns_nxdomain)
{
        struct fx_res r = dns(", \"name\": \"nope.svc.test\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "NXDOMAIN for nope.svc.test (expected NOERROR) in ");

        r = dns(", \"name\": \"nope.svc.test\", \"expect_rcode\": \"nxdomain\"");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "NXDOMAIN, 0 answers in ");

        r = dns(", \"name\": \"www.svc.test\", \"expect_rcode\": \"NXDOMAIN\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "NOERROR for www.svc.test (expected NXDOMAIN)");

        /* outside the zone: an authoritative-only server refuses */
        r = dns(", \"name\": \"example.org\", \"expect_rcode\": \"REFUSED\"");
        ck_assert_int_eq(r.code, 0);
}
END_TEST

START_TEST(test_dns_truncated_tcp)
{
        struct fx_res r = dns(", \"name\": \"big.svc.test\", \"type\": \"TXT\"");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "NOERROR, 2 answers in ");
        ck_assert_has(r.msg, " ms over tcp");

        r = dns(", \"name\": \"big.svc.test\", \"type\": \"TXT\", \"expect_answer\": \"second "
                "string\"");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "answer second string in ");
        ck_assert_has(r.msg, "over tcp");

        /* small answers stay on UDP */
        r = dns(", \"name\": \"svc.test\", \"type\": \"NS\"");
        ck_assert_int_eq(r.code, 0);
        ck_assert_ptr_null(strstr(r.msg, "tcp"));
}
END_TEST

static int udp_socket(int *port)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET};
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        socklen_t len = sizeof(sin);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
        *port = ntohs(sin.sin_port);
        return fd;
}

START_TEST(test_dns_no_answer_times_out)
{
        int port, fd = udp_socket(&port); /* bound, never read */
        struct fx_res r = dns_at(port, ", \"name\": \"www.svc.test\"", 300000);
        ck_assert_int_eq(r.code, 2);
        ck_assert_str_eq(r.msg, "timed out after 300ms");
        close(fd);
}
END_TEST

/* Answers every query with its ID changed: a stray reply, to be ignored. */
static int stray_replies;
static int on_stray(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        unsigned char buf[1024];
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
        if (n < 12)
                return 0;
        buf[0] ^= 0x5a;
        buf[2] |= 0x80; /* QR */
        ck_assert_int_eq(sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len), n);
        stray_replies++;
        return 0;
}

START_TEST(test_dns_stray_reply_ignored)
{
        int port, fd = udp_socket(&port);
        sd_event_source *src;
        ck_assert_int_ge(sd_event_add_io(fx_loop, &src, fd, EPOLLIN, on_stray, NULL), 0);
        struct fx_res r = dns_at(port, ", \"name\": \"www.svc.test\"", 400000);
        ck_assert_int_ge(stray_replies, 1);
        ck_assert_int_eq(r.code, 2);
        ck_assert_str_eq(r.msg, "timed out after 400ms");
        sd_event_source_disable_unref(src);
        close(fd);
}
END_TEST

START_TEST(test_dns_refused)
{
        int port = nf_free_port();
        struct fx_res r = dns_at(port, ", \"name\": \"www.svc.test\"", 2000000);
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "Connection refused");
}
END_TEST

/* Many checks in flight at once on the shared channel to one server, with
 * different questions and expectations: each answer reaches its own check,
 * and a check cancelled by its timeout leaves the channel usable. */

START_TEST(test_dns_concurrent)
{
        enum { N = 90 };
        struct fx_svc *s[N];
        struct check_runner *r[N];
        struct fx_res res[N] = {0};
        for (int i = 0; i < N; i++) {
                char opts[300];
                const char *q = i % 3 == 0   ? "\"name\": \"www.svc.test\", \"expect_answer\": "
                                               "\"192.0.2.80\""
                                : i % 3 == 1 ? "\"name\": \"nope.svc.test\", \"expect_rcode\": "
                                               "\"NXDOMAIN\""
                                             : "\"name\": \"www.svc.test\", \"type\": \"AAAA\", "
                                               "\"expect_answer\": \"2001:db8::80\"";
                snprintf(opts, sizeof(opts), "{ \"server\": \"127.0.0.1\", \"port\": %d, %s }",
                         nport, q);
                s[i] = fx_svc1("dns", opts);
                r[i] = fx_runner(s[i]);
        }
        for (int round = 0; round < 3; round++) {
                for (int i = 0; i < N; i++)
                        ck_assert_int_eq(check_runner_start(r[i], 5000000, fx_on_result, &res[i]),
                                         0);
                uint64_t end = fx_now() + 20000000;
                for (int i = 0; i < N; i++)
                        while (res[i].n < round + 1 && fx_now() < end)
                                fx_run_for(10000);
                for (int i = 0; i < N; i++) {
                        ck_assert_int_eq(res[i].n, round + 1);
                        ck_assert_msg(res[i].code == 0, "%d: %s", i, res[i].msg);
                        ck_assert_has(res[i].msg, i % 3 == 1 ? "NXDOMAIN" : "NOERROR, answer");
                }
        }
        for (int i = 0; i < N; i++) {
                check_runner_free(r[i]);
                fx_svc_free(s[i]);
        }
}
END_TEST

START_TEST(test_dns_options)
{
        ck_assert_int_eq(fx_refused("dns", "{ \"name\": \"a..b\", \"type\": \"AX\", \"class\": "
                                           "\"QQ\", \"expect_rcode\": \"FINE\", \"port\": 0, "
                                           "\"retries\": 1 }"),
                         -EINVAL);
        fx_expect_diag("plugin \"dns\": options: \"server\" is required");
        fx_expect_diag("option \"name\": \"a..b\" is not a domain name");
        fx_expect_diag("option \"type\": \"AX\" is not a record type");
        fx_expect_diag("option \"class\": \"QQ\" is not a class");
        fx_expect_diag("option \"expect_rcode\": \"FINE\" is not an rcode");
        fx_expect_diag("option \"port\": must be between 1 and 65535, not 0");
        fx_expect_diag("option \"retries\": unknown option");
        ck_assert_int_eq(fx_refused("dns", "{ \"name\": \"x.test\", \"server\": \"::1\", "
                                           "\"source\": \"127.0.0.1\" }"),
                         -EINVAL);
        fx_expect_diag("option \"source\": \"127.0.0.1\" is not of the family of \"::1\"");
        ck_assert_int_eq(fx_refused("dns", "{ \"name\": \"x.test\", \"server\": \"ns1\" }"),
                         -EINVAL);
        fx_expect_diag("option \"server\": \"ns1\" is not an IP address");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("check_dns");
        TCase *tc = tcase_create("dns");
        tcase_add_unchecked_fixture(tc, nsd_up, nsd_down);
        tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_dns_answer);
        tcase_add_test(tc, test_dns_nxdomain);
        tcase_add_test(tc, test_dns_truncated_tcp);
        tcase_add_test(tc, test_dns_no_answer_times_out);
        tcase_add_test(tc, test_dns_stray_reply_ignored);
        tcase_add_test(tc, test_dns_refused);
        tcase_add_test(tc, test_dns_concurrent);
        tcase_add_test(tc, test_dns_options);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
