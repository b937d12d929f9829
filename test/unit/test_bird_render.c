/* test_bird_render.c: include-file text from routes; rejects values that
 * could break BIRD's parse; the output parses with the real BIRD when it is
 * installed. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bird_render.h"

static struct prefix pfx(const char *addr, unsigned len)
{
        struct prefix p = {0};
        p.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
        p.len = (uint8_t)len;
        return p;
}

static char *comm[] = {"65002:100", "0:65535"};
static char *large[] = {"65002:1:1"};

START_TEST(full_attributes)
{
        struct attrs a = {.med = 100,
                          .communities = comm,
                          .n_communities = 1,
                          .large_communities = large,
                          .n_large_communities = 1,
                          .prepend = 2};
        struct bird_route rt[] = {
            {pfx("203.0.113.1", 32), &a, NULL},
            {pfx("2001:db8::1", 128), &a, NULL},
            {pfx("203.0.113.0", 24), NULL, NULL},
        };
        char *out;
        const char *why;
        ck_assert_int_eq(bird_render(AF_INET, rt, 3, 65002, &out, &why), 0);
        ck_assert_ptr_nonnull(
            strstr(out, "\nroute 203.0.113.1/32 blackhole { bgp_path.prepend(65002); "
                        "bgp_path.prepend(65002); bgp_med = 100; bgp_community.add((65002,100)); "
                        "bgp_large_community.add((65002,1,1)); };\n"));
        ck_assert_ptr_nonnull(strstr(out, "\nroute 203.0.113.0/24 blackhole;\n"));
        ck_assert_ptr_null(strstr(out, "2001:db8"));
        ck_assert_ptr_nonnull(strstr(out, "# anycast-healthd: 2 IPv4 routes"));
        free(out);
        ck_assert_int_eq(bird_render(AF_INET6, rt, 3, 65002, &out, &why), 0);
        ck_assert_ptr_nonnull(strstr(out, "\nroute 2001:db8::1/128 blackhole {"));
        ck_assert_ptr_null(strstr(out, "203.0.113"));
        free(out);
}
END_TEST

START_TEST(empty_is_comment_only)
{
        char *out;
        const char *why;
        ck_assert_int_eq(bird_render(AF_INET6, NULL, 0, 0, &out, &why), 0);
        for (char *line = out; *line;) {
                ck_assert_int_eq(line[0], '#');
                char *nl = strchr(line, '\n');
                ck_assert_ptr_nonnull(nl);
                line = nl + 1;
        }
        free(out);
}
END_TEST

START_TEST(med_zero_and_no_med)
{
        struct attrs a = {.med = 0};
        struct attrs none = {.med = -1};
        struct bird_route rt[] = {{pfx("203.0.113.1", 32), &a, NULL},
                                  {pfx("203.0.113.2", 32), &none, NULL}};
        char *out;
        const char *why;
        ck_assert_int_eq(bird_render(AF_INET, rt, 2, 0, &out, &why), 0);
        ck_assert_ptr_nonnull(strstr(out, "route 203.0.113.1/32 blackhole { bgp_med = 0; };\n"));
        ck_assert_ptr_nonnull(strstr(out, "route 203.0.113.2/32 blackhole;\n"));
        free(out);
}
END_TEST

START_TEST(rejects_unsafe_values)
{
        static char *bad_comm[][1] = {{"65002:100000"}, {"65002"}, {"a:1"}, {"1:2); x"},
                                      {"1:2:3"},        {":1"},    {"-1:2"}};
        static char *bad_large[][1] = {{"1:2"}, {"4294967296:0:0"}, {"1:2:3:4"}, {"1:2:3\""}};
        char *out = NULL;
        const char *why;
        for (size_t i = 0; i < sizeof(bad_comm) / sizeof(bad_comm[0]); i++) {
                struct attrs a = {.med = -1, .communities = bad_comm[i], .n_communities = 1};
                struct bird_route rt = {pfx("203.0.113.1", 32), &a, NULL};
                ck_assert_msg(bird_render(AF_INET, &rt, 1, 65002, &out, &why) == -EINVAL, "%s",
                              bad_comm[i][0]);
                ck_assert_ptr_nonnull(why);
        }
        for (size_t i = 0; i < sizeof(bad_large) / sizeof(bad_large[0]); i++) {
                struct attrs a = {
                    .med = -1, .large_communities = bad_large[i], .n_large_communities = 1};
                struct bird_route rt = {pfx("203.0.113.1", 32), &a, NULL};
                ck_assert_msg(bird_render(AF_INET, &rt, 1, 65002, &out, &why) == -EINVAL, "%s",
                              bad_large[i][0]);
        }
        struct attrs pre = {.med = -1, .prepend = 1};
        struct bird_route rt = {pfx("203.0.113.1", 32), &pre, NULL};
        ck_assert_int_eq(bird_render(AF_INET, &rt, 1, 0, &out, &why), -EINVAL);
        ck_assert_str_eq(why, "prepend needs the daemon's asn");
        struct attrs med = {.med = 4294967296LL};
        rt.attrs = &med;
        ck_assert_int_eq(bird_render(AF_INET, &rt, 1, 65002, &out, &why), -EINVAL);
        /* Edges that are valid. */
        static char *ok_large[] = {"4294967295:0:4294967295"};
        struct attrs edge = {
            .med = 4294967295LL, .large_communities = ok_large, .n_large_communities = 1};
        rt.attrs = &edge;
        ck_assert_int_eq(bird_render(AF_INET, &rt, 1, 65002, &out, &why), 0);
        ck_assert_ptr_nonnull(strstr(out, "bgp_large_community.add((4294967295,0,4294967295));"));
        free(out);
}
END_TEST

START_TEST(parse_back_and_raw)
{
        struct attrs a = {.med = 7, .prepend = 1};
        struct bird_route rt[] = {{pfx("2001:db8:53::", 48), &a, NULL}};
        char *out;
        const char *why;
        ck_assert_int_eq(bird_render(AF_INET6, rt, 1, 65002, &out, &why), 0);
        char *line = strstr(out, "\nroute ");
        ck_assert_ptr_nonnull(line);
        line++;
        *strchr(line, '\n') = '\0';
        struct prefix p;
        size_t off;
        ck_assert_int_eq(bird_render_parse_line(line, &p, &off), 0);
        ck_assert_int_eq(p.family, AF_INET6);
        ck_assert_int_eq(p.len, 48);
        ck_assert_mem_eq(p.addr, rt[0].prefix.addr, 16);
        /* Rendering the adopted tail gives the same line back. */
        struct bird_route raw = {p, NULL, line + off};
        char *again;
        ck_assert_int_eq(bird_render(AF_INET6, &raw, 1, 65002, &again, &why), 0);
        *strchr(line, '\0') = '\n';
        ck_assert_str_eq(again, out);
        free(again);
        free(out);
        ck_assert_int_eq(bird_render_parse_line("# comment", &p, &off), -EINVAL);
        ck_assert_int_eq(bird_render_parse_line("route 203.0.113.0/33 blackhole;", &p, &off),
                         -EINVAL);
        ck_assert_int_eq(bird_render_parse_line("route nonsense blackhole;", &p, &off), -EINVAL);
        struct bird_route evil = {pfx("203.0.113.1", 32), NULL, " blackhole; include \"x\";"};
        ck_assert_int_eq(bird_render(AF_INET, &evil, 1, 0, &again, &why), -EINVAL);
}
END_TEST

/* The rendered text, included in a minimal config, parses with BIRD. */
START_TEST(real_bird_parses_output)
{
        const char *bird = "/usr/sbin/bird";
        /* the "servers" suite: BIRD must be there (test/run installs it) */
        ck_assert_msg(access(bird, X_OK) == 0, "BIRD is not installed (%s)", bird);
        char dir[] = "/tmp/ahd-render.XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        struct attrs a = {.med = 100,
                          .communities = comm,
                          .n_communities = 2,
                          .large_communities = large,
                          .n_large_communities = 1,
                          .prepend = 3};
        struct bird_route rt[] = {{pfx("203.0.113.1", 32), &a, NULL},
                                  {pfx("203.0.113.128", 25), NULL, NULL},
                                  {pfx("2001:db8::", 32), &a, NULL}};
        char path[3][128];
        const char *why;
        for (int k = 0; k < 2; k++) {
                char *out;
                ck_assert_int_eq(
                    bird_render(k ? AF_INET6 : AF_INET, rt, 3, 4200000000u, &out, &why), 0);
                snprintf(path[k], sizeof(path[k]), "%s/r%d.conf", dir, k);
                FILE *f = fopen(path[k], "w");
                fputs(out, f);
                fclose(f);
                free(out);
        }
        snprintf(path[2], sizeof(path[2]), "%s/bird.conf", dir);
        FILE *f = fopen(path[2], "w");
        fprintf(f,
                "router id 192.0.2.2;\nprotocol device {}\n"
                "protocol static s4 {\n ipv4;\n include \"%s\";\n}\n"
                "protocol static s6 {\n ipv6;\n include \"%s\";\n}\n",
                path[0], path[1]);
        fclose(f);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s -p -c %s", bird, path[2]);
        ck_assert_int_eq(system(cmd), 0);
        for (int k = 0; k < 3; k++)
                unlink(path[k]);
        rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("bird_render");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, full_attributes);
        tcase_add_test(tc, empty_is_comment_only);
        tcase_add_test(tc, med_zero_and_no_med);
        tcase_add_test(tc, rejects_unsafe_values);
        tcase_add_test(tc, parse_back_and_raw);
        suite_add_tcase(s, tc);
        /* a real BIRD: run apart, in the "servers" suite (meson.build) */
        TCase *real = tcase_create("real_bird");
        tcase_add_test(real, real_bird_parses_output);
        suite_add_tcase(s, real);
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
