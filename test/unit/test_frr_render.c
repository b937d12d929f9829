/* test_frr_render.c: the vty commands for announce, withdraw and attribute
 * change (v4 and v6), route-map names and content, values that must not
 * reach FRR, and what --withdraw-all reads out of bgpd's running config. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frr_render.h"

static struct prefix pfx(const char *s)
{
        struct prefix p;
        const char *why;
        ck_assert_int_eq(prefix_parse(s, &p, &why), 0);
        return p;
}

static char *comm[] = {"65004:81", "0:65535"};
static char *large[] = {"65004:0:81"};

static struct attrs full(void)
{
        return (struct attrs){.med = 77,
                              .communities = comm,
                              .n_communities = 2,
                              .large_communities = large,
                              .n_large_communities = 1,
                              .prepend = 2};
}

/* The batch as one string: "daemon|text\n" per command. */
static char *dump(const struct frr_batch *b)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        for (size_t i = 0; i < b->n; i++)
                fprintf(f, "%s|%s\n", b->v[i].daemon == FRR_BGPD ? "bgpd" : "staticd",
                        b->v[i].text);
        fclose(f);
        return s;
}

static struct frr_route route(const char *p, bool want, const struct attrs *a)
{
        struct frr_route r = {.prefix = pfx(p), .want = want, .attrs = {.med = -1}};
        if (a) {
                r.attrs = *a;
                frr_rm_name(a, 65004, r.rm);
        }
        return r;
}

START_TEST(route_map_sets_and_name)
{
        struct attrs a = full();
        char lines[4][160];
        const char *why;
        ck_assert_int_eq(frr_rm_sets(&a, 65004, lines, &why), 4);
        ck_assert_str_eq(lines[0], "set metric 77");
        ck_assert_str_eq(lines[1], "set community 65004:81 0:65535 additive");
        ck_assert_str_eq(lines[2], "set large-community 65004:0:81 additive");
        ck_assert_str_eq(lines[3], "set as-path prepend 65004 65004");
        char n1[FRR_RM_NAME_MAX], n2[FRR_RM_NAME_MAX], n3[FRR_RM_NAME_MAX];
        frr_rm_name(&a, 65004, n1);
        frr_rm_name(&a, 65004, n2);
        ck_assert_str_eq(n1, n2); /* the same set, the same name */
        ck_assert_int_eq(strncmp(n1, "ahd-", 4), 0);
        ck_assert_uint_eq(strlen(n1), 20);
        a.med = 78;
        frr_rm_name(&a, 65004, n3);
        ck_assert_str_ne(n1, n3);
        struct attrs none = {.med = -1};
        ck_assert_int_eq(frr_rm_sets(&none, 65004, lines, &why), 0);
}
END_TEST

START_TEST(bad_values_rejected)
{
        char lines[4][160];
        const char *why = NULL;
        char *bad[] = {"65004:81 additive\nwrite"};
        struct attrs a = {.med = -1, .communities = bad, .n_communities = 1};
        ck_assert_int_eq(frr_rm_sets(&a, 65004, lines, &why), -EINVAL);
        ck_assert_str_eq(why, "bad community");
        char *bad_large[] = {"1:2"};
        a = (struct attrs){.med = -1, .large_communities = bad_large, .n_large_communities = 1};
        ck_assert_int_eq(frr_rm_sets(&a, 65004, lines, &why), -EINVAL);
        a = (struct attrs){.med = -1, .prepend = 1};
        ck_assert_int_eq(frr_rm_sets(&a, 0, lines, &why), -EINVAL);
        a = (struct attrs){.med = 4294967296LL};
        ck_assert_int_eq(frr_rm_sets(&a, 65004, lines, &why), -EINVAL);
        /* a route that cannot be rendered is skipped, the others go on */
        struct attrs ok = {.med = 5};
        struct frr_route r[2] = {route("203.0.113.1/32", true, &ok),
                                 route("203.0.113.2/32", true, NULL)};
        r[1].attrs = (struct attrs){.med = -1, .communities = bad, .n_communities = 1};
        struct frr_rm_set held = {0};
        struct frr_batch b = {0};
        size_t badi;
        ck_assert_int_eq(frr_plan(r, 2, &held, 65004, 65004, 0, &b, &badi), 0);
        ck_assert_uint_eq(badi, 1);
        char *s = dump(&b);
        ck_assert_ptr_null(strstr(s, "203.0.113.2"));
        ck_assert_ptr_nonnull(strstr(s, "network 203.0.113.1/32 route-map"));
        free(s);
        frr_batch_free(&b);
}
END_TEST

START_TEST(announce_v4_v6)
{
        struct attrs a = full();
        struct frr_route r[2] = {route("2001:db8:81::/64", true, &a),
                                 route("203.0.113.81/32", true, &a)};
        struct frr_rm_set held = {0};
        struct frr_batch b = {0};
        size_t bad;
        ck_assert_int_eq(frr_plan(r, 2, &held, 65004, 65004, 0, &b, &bad), 0);
        ck_assert_uint_eq(bad, SIZE_MAX);
        char *s = dump(&b), *want = NULL;
        ck_assert_int_ge(asprintf(&want,
                                  "staticd|configure terminal\n"
                                  "staticd|XFRR_start_configuration\n"
                                  "staticd|ipv6 route 2001:db8:81::/64 blackhole\n"
                                  "staticd|ip route 203.0.113.81/32 blackhole\n"
                                  "staticd|XFRR_end_configuration\n"
                                  "staticd|end\n"
                                  "bgpd|configure terminal\n"
                                  "bgpd|route-map %s permit 10\n"
                                  "bgpd|set metric 77\n"
                                  "bgpd|set community 65004:81 0:65535 additive\n"
                                  "bgpd|set large-community 65004:0:81 additive\n"
                                  "bgpd|set as-path prepend 65004 65004\n"
                                  "bgpd|exit\n"
                                  "bgpd|router bgp 65004\n"
                                  "bgpd|address-family ipv4 unicast\n"
                                  "bgpd|network 203.0.113.81/32 route-map %s\n"
                                  "bgpd|exit-address-family\n"
                                  "bgpd|address-family ipv6 unicast\n"
                                  "bgpd|network 2001:db8:81::/64 route-map %s\n"
                                  "bgpd|exit-address-family\n"
                                  "bgpd|exit\n"
                                  "bgpd|end\n",
                                  r[0].rm, r[0].rm, r[0].rm),
                         0);
        ck_assert_str_eq(s, want);
        free(s);
        free(want);
        frr_batch_free(&b);
}
END_TEST

START_TEST(in_sync_is_empty)
{
        struct attrs a = full();
        struct frr_route r = route("203.0.113.81/32", true, &a);
        r.net_held = HELD_YES;
        r.static_held = HELD_YES;
        strcpy(r.held_rm, r.rm);
        struct frr_rm_set held = {0};
        frr_rm_set_add(&held, r.rm);
        struct frr_batch b = {0};
        size_t bad;
        ck_assert_int_eq(frr_plan(&r, 1, &held, 65004, 65004, 0, &b, &bad), 0);
        ck_assert_uint_eq(b.n, 0);
        /* withdrawn and not held: nothing either */
        struct frr_route w = route("203.0.113.82/32", false, NULL);
        struct frr_rm_set none = {0};
        ck_assert_int_eq(frr_plan(&w, 1, &none, 65004, 65004, 0, &b, &bad), 0);
        ck_assert_uint_eq(b.n, 0);
        frr_rm_set_free(&held);
}
END_TEST

START_TEST(attribute_change_is_one_network)
{
        struct attrs up = full(), degraded = {.med = 500, .communities = comm, .n_communities = 1};
        struct frr_route r = route("203.0.113.81/32", true, &degraded);
        char old[FRR_RM_NAME_MAX];
        frr_rm_name(&up, 65004, old);
        r.net_held = HELD_YES;
        r.static_held = HELD_YES;
        strcpy(r.held_rm, old);
        struct frr_rm_set held = {0};
        frr_rm_set_add(&held, old);
        struct frr_batch b = {0};
        size_t bad;
        ck_assert_int_eq(frr_plan(&r, 1, &held, 65004, 65004, 0, &b, &bad), 0);
        char *s = dump(&b), *want = NULL;
        /* no static, no `no network`: the route is replaced in place, and
         * the old route-map goes once nothing names it */
        ck_assert_int_ge(asprintf(&want,
                                  "bgpd|configure terminal\n"
                                  "bgpd|route-map %s permit 10\n"
                                  "bgpd|set metric 500\n"
                                  "bgpd|set community 65004:81 additive\n"
                                  "bgpd|exit\n"
                                  "bgpd|router bgp 65004\n"
                                  "bgpd|address-family ipv4 unicast\n"
                                  "bgpd|network 203.0.113.81/32 route-map %s\n"
                                  "bgpd|exit-address-family\n"
                                  "bgpd|exit\n"
                                  "bgpd|no route-map %s\n"
                                  "bgpd|end\n",
                                  r.rm, r.rm, old),
                         0);
        ck_assert_str_eq(s, want);
        free(s);
        free(want);
        frr_batch_free(&b);
        frr_rm_set_free(&held);
}
END_TEST

START_TEST(withdraw_v4_v6)
{
        struct attrs a = full();
        char rm[FRR_RM_NAME_MAX];
        frr_rm_name(&a, 65004, rm);
        struct frr_route r[2] = {route("203.0.113.81/32", false, NULL),
                                 route("2001:db8:81::/64", false, NULL)};
        for (int i = 0; i < 2; i++) {
                r[i].net_held = HELD_YES;
                r[i].static_held = HELD_YES;
                strcpy(r[i].held_rm, rm);
        }
        struct frr_rm_set held = {0};
        frr_rm_set_add(&held, rm);
        struct frr_batch b = {0};
        size_t bad;
        ck_assert_int_eq(frr_plan(r, 2, &held, 65004, 65004, 0, &b, &bad), 0);
        char *s = dump(&b), *want = NULL;
        ck_assert_int_ge(asprintf(&want,
                                  "bgpd|configure terminal\n"
                                  "bgpd|router bgp 65004\n"
                                  "bgpd|address-family ipv4 unicast\n"
                                  "bgpd|no network 203.0.113.81/32\n"
                                  "bgpd|exit-address-family\n"
                                  "bgpd|address-family ipv6 unicast\n"
                                  "bgpd|no network 2001:db8:81::/64\n"
                                  "bgpd|exit-address-family\n"
                                  "bgpd|exit\n"
                                  "bgpd|no route-map %s\n"
                                  "bgpd|end\n"
                                  "staticd|configure terminal\n"
                                  "staticd|XFRR_start_configuration\n"
                                  "staticd|no ip route 203.0.113.81/32 blackhole\n"
                                  "staticd|no ipv6 route 2001:db8:81::/64 blackhole\n"
                                  "staticd|XFRR_end_configuration\n"
                                  "staticd|end\n",
                                  rm),
                         0);
        ck_assert_str_eq(s, want);
        ck_assert_int_eq(b.v[3].kind, CMD_NO_NETWORK);
        ck_assert_uint_eq(b.v[3].route, 0);
        free(s);
        free(want);
        frr_batch_free(&b);
        frr_rm_set_free(&held);
}
END_TEST

START_TEST(statics_one_by_one)
{
        /* after staticd refused a transaction: the same statics, each its
         * own commit, so that only the culprit is refused again */
        struct frr_route r[2] = {route("203.0.113.1/32", true, NULL),
                                 route("203.0.113.2/32", false, NULL)};
        r[1].net_held = HELD_NO;
        r[1].static_held = HELD_YES;
        struct frr_rm_set held = {0};
        struct frr_batch b = {0};
        size_t bad;
        ck_assert_int_eq(frr_plan(r, 2, &held, 65004, 65004, FRR_PLAN_STATICS_EACH, &b, &bad), 0);
        char *s = dump(&b);
        ck_assert_ptr_null(strstr(s, "XFRR"));
        ck_assert_ptr_nonnull(strstr(s, "staticd|configure terminal\n"
                                        "staticd|ip route 203.0.113.1/32 blackhole\n"
                                        "staticd|end\n"));
        ck_assert_ptr_nonnull(strstr(s, "staticd|configure terminal\n"
                                        "staticd|no ip route 203.0.113.2/32 blackhole\n"
                                        "staticd|end\n"));
        free(s);
        frr_batch_free(&b);
        frr_rm_set_free(&held);
}
END_TEST

START_TEST(unknown_is_asserted)
{
        /* after a new connection: everything is said again, withdrawn
         * prefixes included */
        struct attrs a = {.med = 1};
        struct frr_route r[2] = {route("203.0.113.1/32", true, &a),
                                 route("203.0.113.2/32", false, NULL)};
        for (int i = 0; i < 2; i++)
                r[i].net_held = r[i].static_held = HELD_UNKNOWN;
        struct frr_rm_set held = {0};
        struct frr_batch b = {0};
        size_t bad;
        ck_assert_int_eq(frr_plan(r, 2, &held, 65004, 65004, 0, &b, &bad), 0);
        char *s = dump(&b);
        ck_assert_ptr_nonnull(strstr(s, "staticd|ip route 203.0.113.1/32 blackhole\n"));
        ck_assert_ptr_nonnull(strstr(s, "bgpd|no network 203.0.113.2/32\n"));
        ck_assert_ptr_nonnull(strstr(s, "staticd|no ip route 203.0.113.2/32 blackhole\n"));
        ck_assert_ptr_nonnull(strstr(s, "bgpd|set metric 1\n"));
        free(s);
        frr_batch_free(&b);
}
END_TEST

struct seen {
        char nets[8][64];
        size_t n_nets;
        char rms[8][64];
        size_t n_rms;
};

static void on_net(const struct prefix *p, void *ud)
{
        struct seen *s = ud;
        prefix_format(p, s->nets[s->n_nets++]);
}

static void on_rm(const char *name, void *ud)
{
        struct seen *s = ud;
        snprintf(s->rms[s->n_rms++], 64, "%s", name);
}

START_TEST(parse_running_config)
{
        /* as FRR 8.4.4's bgpd prints it */
        const char *text = "frr version 8.4.4\n"
                           "frr defaults traditional\n"
                           "!\n"
                           "router bgp 65004\n"
                           " bgp router-id 192.0.2.14\n"
                           " no bgp ebgp-requires-policy\n"
                           " !\n"
                           " address-family ipv4 unicast\n"
                           "  network 198.51.100.0/24\n"
                           "  network 203.0.113.53/32 route-map ahd-3b32d50dd2d95ff8\n"
                           "  network 203.0.113.81/32 route-map theirs\n"
                           " exit-address-family\n"
                           " !\n"
                           " address-family ipv6 unicast\n"
                           "  network 2001:db8:53::53/128 route-map ahd-3b32d50dd2d95ff8\n"
                           " exit-address-family\n"
                           "exit\n"
                           "!\n"
                           "router bgp 65099 vrf red\n"
                           " address-family ipv4 unicast\n"
                           "  network 203.0.113.99/32 route-map ahd-1\n"
                           " exit-address-family\n"
                           "exit\n"
                           "!\n"
                           "route-map ahd-3b32d50dd2d95ff8 permit 10\n"
                           " set metric 100\n"
                           "exit\n"
                           "!\n"
                           "route-map theirs permit 10\n"
                           "exit\n";
        struct seen s = {0};
        ck_assert_uint_eq(frr_parse_running(text, on_net, on_rm, &s), 65004);
        ck_assert_uint_eq(s.n_nets, 2);
        ck_assert_str_eq(s.nets[0], "203.0.113.53/32");
        ck_assert_str_eq(s.nets[1], "2001:db8:53::53/128");
        ck_assert_uint_eq(s.n_rms, 1);
        ck_assert_str_eq(s.rms[0], "ahd-3b32d50dd2d95ff8");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("frr_render");
        TCase *tc = tcase_create("render");
        tcase_add_test(tc, route_map_sets_and_name);
        tcase_add_test(tc, bad_values_rejected);
        tcase_add_test(tc, announce_v4_v6);
        tcase_add_test(tc, in_sync_is_empty);
        tcase_add_test(tc, attribute_change_is_one_network);
        tcase_add_test(tc, withdraw_v4_v6);
        tcase_add_test(tc, statics_one_by_one);
        tcase_add_test(tc, unknown_is_asserted);
        tcase_add_test(tc, parse_running_config);
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
