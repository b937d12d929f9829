/* test_prefix.c: prefix parsing, canonical formatting and containment. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

static void ok(const char *in, int family, unsigned len, const char *canon)
{
        struct prefix p;
        const char *why = "unset";
        char buf[PREFIX_STRLEN];

        ck_assert_msg(prefix_parse(in, &p, &why) == 0, "%s: %s", in, why);
        ck_assert_int_eq(p.family, family);
        ck_assert_uint_eq(p.len, len);
        prefix_format(&p, buf);
        ck_assert_str_eq(buf, canon);
}

static void bad(const char *in, const char *reason)
{
        struct prefix p;
        const char *why = NULL;

        ck_assert_msg(prefix_parse(in, &p, &why) == -EINVAL, "%s accepted", in);
        ck_assert_ptr_nonnull(why);
        ck_assert_msg(strcmp(why, reason) == 0, "%s: \"%s\", expected \"%s\"", in, why, reason);
}

static struct prefix P(const char *s) {
        struct prefix p;
        const char *why;
        ck_assert_msg(prefix_parse(s, &p, &why) == 0, "%s", s);
        return p;
}

START_TEST(test_parse_good)
{
        ok("203.0.113.0/24", AF_INET, 24, "203.0.113.0/24");
        ok("203.0.113.53/32", AF_INET, 32, "203.0.113.53/32");
        ok("0.0.0.0/0", AF_INET, 0, "0.0.0.0/0");
        ok("198.51.100.128/25", AF_INET, 25, "198.51.100.128/25");
        ok("192.0.2.0/023", AF_INET, 23, "192.0.2.0/23");
        ok("2001:db8::/32", AF_INET6, 32, "2001:db8::/32");
        ok("2001:DB8:0:0::/48", AF_INET6, 48, "2001:db8::/48");
        ok("2001:db8:53::53/128", AF_INET6, 128, "2001:db8:53::53/128");
        ok("::/0", AF_INET6, 0, "::/0");
        ok("2001:db8:8000::/33", AF_INET6, 33, "2001:db8:8000::/33");
        ok("::ffff:192.0.2.0/120", AF_INET6, 120, "::ffff:192.0.2.0/120");
}
END_TEST

START_TEST(test_parse_bad)
{
        bad("203.0.113.1/24", "host bits set");
        bad("203.0.113.128/24", "host bits set");
        bad("198.51.100.1/31", "host bits set");
        bad("203.0.113.0/0", "host bits set");
        bad("2001:db8::1/64", "host bits set");
        bad("2001:db8:8000::/32", "host bits set");
        bad("2001:db9::/31", "host bits set");
        ok("2001:db8::/31", AF_INET6, 31, "2001:db8::/31");
        bad("203.0.113.0/33", "prefix length out of range");
        bad("2001:db8::/129", "prefix length out of range");
        bad("203.0.113.0/999", "prefix length out of range");
        bad("203.0.113.0/1000", "prefix length is not a number");
        bad("203.0.113.0/", "prefix length is not a number");
        bad("203.0.113.0/-1", "prefix length is not a number");
        bad("203.0.113.0/+8", "prefix length is not a number");
        bad("203.0.113.0/24 ", "prefix length is not a number");
        bad("203.0.113.0/2x", "prefix length is not a number");
        bad("203.0.113.0", "missing prefix length (\"/N\")");
        bad("", "missing prefix length (\"/N\")");
        bad("/24", "not an IPv4 or IPv6 address");
        bad("dns.example/32", "not an IPv4 or IPv6 address");
        bad("203.0.113/24", "not an IPv4 or IPv6 address");
        bad("203.0.113.256/32", "not an IPv4 or IPv6 address");
        bad(" 203.0.113.0/24", "not an IPv4 or IPv6 address");
        bad("2001:db8::g/128", "not an IPv4 or IPv6 address");
        bad("fe80::1%eth0/128", "not an IPv4 or IPv6 address");
        bad("2001:db8::/32/1", "prefix length is not a number");
        bad("2001:0db8:0000:0000:0000:0000:0000:0000:0000/32", "not an IPv4 or IPv6 address");
}
END_TEST

START_TEST(test_contains)
{
        struct prefix all4 = P("0.0.0.0/0"), all6 = P("::/0");
        struct prefix net = P("203.0.113.0/25"), in = P("203.0.113.127/32"),
                      out = P("203.0.113.128/32");

        ck_assert(prefix_contains(&net, &in));
        ck_assert(!prefix_contains(&net, &out));
        ck_assert(prefix_contains(&net, &net));
        ck_assert(!prefix_contains(&in, &net)); /* longer cannot hold shorter */
        ck_assert(prefix_contains(&all4, &out));
        ck_assert(!prefix_contains(&all6, &out)); /* families never mix */
        ck_assert(!prefix_contains(&all4, &all6));

        struct prefix six = P("2001:db8::/32"), s53 = P("2001:db8:53::53/128"),
                      other = P("2001:db9::/32"), odd = P("2001:db8:8000::/33"),
                      odd_in = P("2001:db8:ffff::/48"), odd_out = P("2001:db8:7fff::/48");
        ck_assert(prefix_contains(&six, &s53));
        ck_assert(!prefix_contains(&six, &other));
        ck_assert(prefix_contains(&all6, &other));
        ck_assert(prefix_contains(&odd, &odd_in));
        ck_assert(!prefix_contains(&odd, &odd_out));
        ck_assert(prefix_contains(&six, &odd));
}
END_TEST

START_TEST(test_equal)
{
        struct prefix a = P("203.0.113.0/24"), b = P("203.0.113.0/24"), c = P("203.0.113.0/25"),
                      d = P("2001:db8::/32"), e = P("2001:DB8::/32");
        ck_assert(prefix_equal(&a, &b));
        ck_assert(!prefix_equal(&a, &c));
        ck_assert(!prefix_equal(&a, &d));
        ck_assert(prefix_equal(&d, &e));
}
END_TEST

/* What the speakers' commands and logs get: a prefix from anywhere is
 * either well formed or "?". */
START_TEST(test_format_checked)
{
        char buf[PREFIX_STRLEN];
        struct prefix p = P("2001:db8::/32");
        ck_assert_int_eq(prefix_format_checked(&p, buf), 0);
        ck_assert_str_eq(buf, "2001:db8::/32");
        p = P("203.0.113.1/32");
        ck_assert_int_eq(prefix_format_checked(&p, buf), 0);
        ck_assert_str_eq(buf, "203.0.113.1/32");

        struct prefix bad = p;
        bad.len = 33;
        ck_assert_int_eq(prefix_format_checked(&bad, buf), -EINVAL);
        ck_assert_str_eq(buf, "?");
        bad = P("2001:db8::/128");
        bad.len = 129;
        ck_assert_int_eq(prefix_format_checked(&bad, buf), -EINVAL);
        ck_assert_str_eq(buf, "?");
        bad = p;
        bad.family = AF_UNIX;
        ck_assert_int_eq(prefix_format_checked(&bad, buf), -EINVAL);
        ck_assert_str_eq(buf, "?");
        ck_assert_int_eq(prefix_format_checked(NULL, buf), -EINVAL);
        ck_assert_str_eq(buf, "?");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("prefix");
        TCase *tc = tcase_create("prefix");
        tcase_add_test(tc, test_parse_good);
        tcase_add_test(tc, test_parse_bad);
        tcase_add_test(tc, test_contains);
        tcase_add_test(tc, test_equal);
        tcase_add_test(tc, test_format_checked);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
