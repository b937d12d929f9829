/* test_check_http.c: the http plugin against a real nginx started by the
 * test on free loopback ports, with certificates the test makes (a CA, a
 * server certificate for svc.test, a client certificate, and a second CA
 * that signed none of them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_fixture.h"

static char dir[200];
static pid_t nginx_pid;
static int port, tls_port, mtls_port;

static void certs(void)
{
        const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        nf_sh("cd '%s' && "
              "openssl req -x509 %s -keyout ca.key -out ca.pem -subj /CN=ahd-test-ca -days 2 "
              "-addext basicConstraints=critical,CA:TRUE 2>/dev/null && "
              "openssl req -x509 %s -keyout other-ca.key -out other-ca.pem -subj /CN=other-ca "
              "-days 2 2>/dev/null && "
              "openssl req %s -keyout srv.key -out srv.csr -subj /CN=svc.test 2>/dev/null && "
              "printf 'subjectAltName=DNS:svc.test\\n' >srv.ext && "
              "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
              "-out srv.pem -days 2 -extfile srv.ext 2>/dev/null && "
              "openssl req %s -keyout client.key -out client.csr -subj /CN=ahd-client "
              "2>/dev/null && "
              "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
              "-out client.pem -days 2 2>/dev/null",
              dir, ec, ec, ec, ec);
}

static void nginx_up(void)
{
        nf_tmpdir(dir, sizeof(dir), "nginx");
        certs();
        port = nf_free_port();
        tls_port = nf_free_port();
        mtls_port = nf_free_port();
        char *text = NULL;
        ck_assert_int_gt(
            asprintf(&text,
                     "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                     "pid %1$s/nginx.pid;\nerror_log %1$s/error.log;\n"
                     "events { worker_connections 1024; }\n"
                     "http {\n"
                     "  client_body_temp_path %1$s/body; proxy_temp_path %1$s/proxy;\n"
                     "  fastcgi_temp_path %1$s/fcgi; uwsgi_temp_path %1$s/uwsgi;\n"
                     "  scgi_temp_path %1$s/scgi;\n"
                     "  log_format t '$connection $request_method $uri';\n"
                     "  access_log %1$s/access.log t;\n"
                     "  default_type text/plain;\n"
                     "  server {\n"
                     "    listen 127.0.0.1:%2$d default_server;\n"
                     "    location = / { return 200 \"hello from default\\n\"; }\n"
                     "    location = /down { return 503 \"down\\n\"; }\n"
                     "    location = /method {\n"
                     "      return 200 \"method=$request_method length=$content_length\\n\"; }\n"
                     "    location = /whoami { return 200 \"from $remote_addr\\n\"; }\n"
                     "  }\n"
                     "  server {\n"
                     "    listen 127.0.0.1:%2$d; server_name svc.test;\n"
                     "    location / { return 200 \"vhost svc.test\\n\"; }\n"
                     "  }\n"
                     "  server {\n"
                     "    listen 127.0.0.1:%3$d ssl default_server;\n"
                     "    ssl_certificate %1$s/srv.pem; ssl_certificate_key %1$s/srv.key;\n"
                     "    location / { return 200 \"secure sni=$ssl_server_name\\n\"; }\n"
                     "  }\n"
                     "  server {\n"
                     "    listen 127.0.0.1:%4$d ssl;\n"
                     "    ssl_certificate %1$s/srv.pem; ssl_certificate_key %1$s/srv.key;\n"
                     "    ssl_verify_client on; ssl_client_certificate %1$s/ca.pem;\n"
                     "    location / { return 200 \"client $ssl_client_s_dn\\n\"; }\n"
                     "  }\n"
                     "}\n",
                     dir, port, tls_port, mtls_port),
            0);
        char conf[300], log[300];
        snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
        snprintf(log, sizeof(log), "%s/nginx.out", dir);
        nf_write(conf, text);
        free(text);
        char *argv[] = {"nginx", "-p", dir, "-e", log, "-c", conf, NULL};
        nginx_pid = nf_spawn(argv, log);
        nf_wait_tcp(port, nginx_pid, log);
        nf_wait_tcp(tls_port, nginx_pid, log);
        nf_wait_tcp(mtls_port, nginx_pid, log);
}

static void nginx_down(void)
{
        nf_stop(nginx_pid);
        nf_rmdir(dir);
}

/* http://127.0.0.1:port + path, with more options */
static struct fx_res get(const char *path, const char *extra)
{
        char opts[1000];
        snprintf(opts, sizeof(opts), "{ \"url\": \"http://127.0.0.1:%d%s\"%s }", port, path, extra);
        return fx_probe1("http", opts, 5000000);
}

START_TEST(test_http_status_and_body)
{
        struct fx_res r = get("/", "");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "HTTP 200 in ");

        r = get("/down", "");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "HTTP 503 (expected 200) in ");
        r = get("/down", ", \"expect_status\": [200, 503]");
        ck_assert_int_eq(r.code, 0);
        ck_assert_has(r.msg, "HTTP 503 in ");
        r = get("/nothing-here", ", \"expect_status\": [200, 503]");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "HTTP 404 (expected 200,503)");

        r = get("/", ", \"body_contains\": \"from default\"");
        ck_assert_int_eq(r.code, 0);
        r = get("/", ", \"body_contains\": \"from elsewhere\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "but the body lacks \"from elsewhere\"");
        r = get("/", ", \"body_regex\": \"^hello from (default|other)\"");
        ck_assert_int_eq(r.code, 0);
        r = get("/", ", \"body_regex\": \"^from\"");
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "but the body does not match /^from/");
}
END_TEST

START_TEST(test_http_method_and_headers)
{
        struct fx_res r = get("/method", ", \"method\": \"HEAD\"");
        ck_assert_int_eq(r.code, 0);
        r = get("/method", ", \"body_contains\": \"method=GET\"");
        ck_assert_int_eq(r.code, 0);
        r = get("/method", ", \"method\": \"POST\", \"body\": \"a=1&b=2\", "
                           "\"body_contains\": \"method=POST length=7\"");
        ck_assert_msg(r.code == 0, "%s", r.msg);
        r = get("/method", ", \"method\": \"PUT\", \"body\": \"xyz\", "
                           "\"body_contains\": \"method=PUT length=3\"");
        ck_assert_msg(r.code == 0, "%s", r.msg);
        r = get("/method", ", \"method\": \"OPTIONS\", \"body_contains\": \"method=OPTIONS\"");
        ck_assert_msg(r.code == 0, "%s", r.msg);

        /* Host picks nginx's name-based server block */
        r = get("/", ", \"headers\": { \"Host\": \"svc.test\", \"X-Probe\": \"1\" }, "
                     "\"body_contains\": \"vhost svc.test\"");
        ck_assert_msg(r.code == 0, "%s", r.msg);
        r = get("/", ", \"body_contains\": \"vhost svc.test\"");
        ck_assert_int_eq(r.code, 2);
}
END_TEST

static struct fx_res tls(int p, const char *url_host, const char *extra)
{
        char opts[1200];
        snprintf(opts, sizeof(opts), "{ \"url\": \"https://%s:%d/\"%s }", url_host, p, extra);
        return fx_probe1("http", opts, 5000000);
}

START_TEST(test_https_verify)
{
        char o[800];
        /* resolve: the name in the URL, connected to 127.0.0.1 */
        snprintf(o, sizeof(o),
                 ", \"resolve\": \"svc.test:%d:127.0.0.1\", \"ca_file\": \"%s/ca.pem\", "
                 "\"body_contains\": \"secure sni=svc.test\"",
                 tls_port, dir);
        struct fx_res r = tls(tls_port, "svc.test", o);
        ck_assert_msg(r.code == 0, "%s", r.msg);
        ck_assert_has(r.msg, "HTTP 200 in ");

        snprintf(o, sizeof(o),
                 ", \"resolve\": \"svc.test:%d:127.0.0.1\", \"ca_file\": \"%s/other-ca.pem\"",
                 tls_port, dir);
        r = tls(tls_port, "svc.test", o);
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "certificate");

        snprintf(o, sizeof(o),
                 ", \"resolve\": \"svc.test:%d:127.0.0.1\", \"ca_file\": "
                 "\"%s/other-ca.pem\", \"tls_verify\": false",
                 tls_port, dir);
        r = tls(tls_port, "svc.test", o);
        ck_assert_msg(r.code == 0, "%s", r.msg);

        /* the system's CAs do not know ours */
        snprintf(o, sizeof(o), ", \"resolve\": \"svc.test:%d:127.0.0.1\"", tls_port);
        r = tls(tls_port, "svc.test", o);
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "certificate");
}
END_TEST

START_TEST(test_https_sni)
{
        char o[800];
        /* an address in the URL, the server's name as SNI and for verification */
        snprintf(o, sizeof(o),
                 ", \"sni\": \"svc.test\", \"ca_file\": \"%s/ca.pem\", "
                 "\"body_contains\": \"secure sni=svc.test\"",
                 dir);
        struct fx_res r = tls(tls_port, "127.0.0.1", o);
        ck_assert_msg(r.code == 0, "%s", r.msg);

        /* without sni the certificate does not match 127.0.0.1 */
        snprintf(o, sizeof(o), ", \"ca_file\": \"%s/ca.pem\"", dir);
        r = tls(tls_port, "127.0.0.1", o);
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "127.0.0.1");

        /* sni and resolve together: the URL's name goes to the resolved address */
        snprintf(o, sizeof(o),
                 ", \"resolve\": \"anycast.test:%d:127.0.0.1\", \"sni\": \"svc.test\", "
                 "\"ca_file\": \"%s/ca.pem\", \"body_contains\": \"secure sni=svc.test\"",
                 tls_port, dir);
        r = tls(tls_port, "anycast.test", o);
        ck_assert_msg(r.code == 0, "%s", r.msg);
}
END_TEST

START_TEST(test_https_client_cert)
{
        char o[800];
        snprintf(o, sizeof(o), ", \"sni\": \"svc.test\", \"ca_file\": \"%s/ca.pem\"", dir);
        struct fx_res r = tls(mtls_port, "127.0.0.1", o);
        ck_assert_int_eq(r.code, 2);
        ck_assert_has(r.msg, "HTTP 400 (expected 200)");

        snprintf(o, sizeof(o),
                 ", \"sni\": \"svc.test\", \"ca_file\": \"%1$s/ca.pem\", \"client_cert\": "
                 "\"%1$s/client.pem\", \"client_key\": \"%1$s/client.key\", "
                 "\"body_contains\": \"CN=ahd-client\"",
                 dir);
        r = tls(mtls_port, "127.0.0.1", o);
        ck_assert_msg(r.code == 0, "%s", r.msg);
}
END_TEST

START_TEST(test_http_timeout_and_refused)
{
        int bport, fd = nf_blackhole(&bport);
        char opts[200];
        snprintf(opts, sizeof(opts), "{ \"url\": \"http://127.0.0.1:%d/\" }", bport);
        struct fx_svc *s = fx_svc1("http", opts);
        struct check_runner *r = fx_runner(s);
        for (int i = 0; i < 2; i++) { /* cancel leaves the instance reusable */
                struct fx_res res = fx_probe(r, 300000);
                ck_assert_int_eq(res.code, 2);
                ck_assert_str_eq(res.msg, "timed out after 300ms");
        }
        check_runner_free(r);
        fx_svc_free(s);
        close(fd);

        snprintf(opts, sizeof(opts), "{ \"url\": \"http://127.0.0.1:%d/\" }", nf_free_port());
        struct fx_res res = fx_probe1("http", opts, 2000000);
        ck_assert_int_eq(res.code, 2);
        ck_assert_has(res.msg, "Failed to connect to 127.0.0.1");
}
END_TEST

/* The nginx connection numbers of the last n requests for uri. */
static int last_connections(const char *uri, int *conn, int n)
{
        char path[300], line[512];
        snprintf(path, sizeof(path), "%s/access.log", dir);
        FILE *f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        int all[4096], count = 0;
        while (fgets(line, sizeof(line), f) && count < 4096) {
                int c;
                char method[32], u[256];
                if (sscanf(line, "%d %31s %255s", &c, method, u) == 3 && strcmp(u, uri) == 0)
                        all[count++] = c;
        }
        fclose(f);
        ck_assert_int_ge(count, n);
        for (int i = 0; i < n; i++)
                conn[i] = all[count - n + i];
        return count;
}

START_TEST(test_http_keepalive_and_source)
{
        char opts[300];
        snprintf(opts, sizeof(opts),
                 "{ \"url\": \"http://127.0.0.1:%d/whoami\", \"source\": \"127.0.0.2\", "
                 "\"body_contains\": \"from 127.0.0.2\" }",
                 port);
        struct fx_svc *s = fx_svc1("http", opts);
        struct check_runner *r = fx_runner(s);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(fx_probe(r, 2000000).code, 0);
        check_runner_free(r);
        fx_svc_free(s);
        int c[3];
        last_connections("/whoami", c, 3);
        ck_assert_int_eq(c[0], c[1]); /* one connection, reused */
        ck_assert_int_eq(c[1], c[2]);

        snprintf(opts, sizeof(opts),
                 "{ \"url\": \"http://127.0.0.1:%d/whoami\", \"keepalive\": false }", port);
        s = fx_svc1("http", opts);
        r = fx_runner(s);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(fx_probe(r, 2000000).code, 0);
        check_runner_free(r);
        fx_svc_free(s);
        last_connections("/whoami", c, 3);
        ck_assert_int_ne(c[0], c[1]);
        ck_assert_int_ne(c[1], c[2]);
}
END_TEST

/* Many checks in flight at once on the one shared multi handle: each
 * result reaches its own check. */

START_TEST(test_http_concurrent)
{
        enum { N = 60 };
        struct fx_svc *s[N];
        struct check_runner *r[N];
        struct fx_res res[N] = {0};
        for (int i = 0; i < N; i++) {
                char opts[300];
                /* even: / must be 200; odd: /down must be 503 */
                snprintf(opts, sizeof(opts),
                         "{ \"url\": \"http://127.0.0.1:%d%s\", \"expect_status\": [%d] }", port,
                         i % 2 ? "/down" : "/", i % 2 ? 503 : 200);
                s[i] = fx_svc1("http", opts);
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
                        ck_assert_has(res[i].msg, i % 2 ? "HTTP 503" : "HTTP 200");
                }
        }
        for (int i = 0; i < N; i++) {
                check_runner_free(r[i]);
                fx_svc_free(s[i]);
        }
}
END_TEST

START_TEST(test_http_options)
{
        ck_assert_int_eq(fx_refused("http", "{ \"expect_status\": [\"200\"], \"headers\": "
                                            "[\"Host: x\"], \"tls_verfy\": false }"),
                         -EINVAL);
        fx_expect_diag("plugin \"http\": options: \"url\" is required");
        fx_expect_diag("option \"expect_status\": expected an array of integers");
        fx_expect_diag("option \"headers\": expected an object of strings");
        fx_expect_diag("option \"tls_verfy\": unknown option");

        ck_assert_int_eq(fx_refused("http",
                                    "{ \"url\": \"ftp://x/\", \"expect_status\": [700], "
                                    "\"body_regex\": \"(\", \"resolve\": \"x:80\", "
                                    "\"client_key\": \"/k\", \"headers\": { \"Bad:Name\": \"v\" }, "
                                    "\"method\": \"get\", \"source\": \"127.0.0.1\", "
                                    "\"interface\": \"lo\" }"),
                         -EINVAL);
        fx_expect_diag("option \"url\": \"ftp://x/\" is neither http nor https");
        fx_expect_diag("option \"expect_status\": 700 is not an HTTP status code");
        fx_expect_diag("option \"body_regex\": \"(\" is not a regular expression");
        fx_expect_diag("option \"resolve\": \"x:80\" is not HOST:PORT:ADDRESS");
        fx_expect_diag("option \"client_key\": needs \"client_cert\"");
        fx_expect_diag("option \"headers\": \"Bad:Name\" is not a header name");
        fx_expect_diag("option \"method\": \"get\" is not an HTTP method");
        fx_expect_diag("option \"interface\": and \"source\" exclude each other");

        ck_assert_int_eq(fx_refused("http", "{ \"url\": \"http://x/\", \"body\": \"a\", "
                                            "\"body_contains\": \"a\", \"body_regex\": \"a\" }"),
                         -EINVAL);
        fx_expect_diag("option \"body\": needs a method that sends one");
        fx_expect_diag("option \"body_regex\": and \"body_contains\" exclude each other");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("check_http");
        TCase *tc = tcase_create("http");
        tcase_add_unchecked_fixture(tc, nginx_up, nginx_down);
        tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_http_status_and_body);
        tcase_add_test(tc, test_http_method_and_headers);
        tcase_add_test(tc, test_https_verify);
        tcase_add_test(tc, test_https_sni);
        tcase_add_test(tc, test_https_client_cert);
        tcase_add_test(tc, test_http_timeout_and_refused);
        tcase_add_test(tc, test_http_keepalive_and_source);
        tcase_add_test(tc, test_http_concurrent);
        tcase_add_test(tc, test_http_options);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
