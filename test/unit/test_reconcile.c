/* test_reconcile.c: the drift clock (OK -> drift -> stuck, recovery, a
 * repair that does not hold keeps the first sighting) and the held set
 * (order, duplicates, bytes past the length). */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>

#include "reconcile.h"

#define S 1000000ULL

START_TEST(drift_then_stuck_then_recovered)
{
        struct reconcile_track t = {0};
        ck_assert_int_eq(reconcile_note(&t, false, 1 * S, 10 * S), RECONCILE_SAME);
        ck_assert_int_eq(reconcile_note(&t, true, 2 * S, 10 * S), RECONCILE_DRIFTED);
        ck_assert_int_eq(t.state, RECONCILE_DRIFT);
        /* the repair did not hold: still drift, first sighting kept */
        ck_assert_int_eq(reconcile_note(&t, true, 11 * S, 10 * S), RECONCILE_SAME);
        ck_assert_uint_eq(t.since, 2 * S);
        ck_assert_int_eq(reconcile_note(&t, true, 12 * S - 1, 10 * S), RECONCILE_SAME);
        ck_assert_int_eq(reconcile_note(&t, true, 12 * S, 10 * S), RECONCILE_BECAME_STUCK);
        ck_assert_str_eq(reconcile_state_name(t.state), "stuck");
        ck_assert_int_eq(reconcile_note(&t, true, 50 * S, 10 * S), RECONCILE_SAME);
        ck_assert_int_eq(reconcile_note(&t, false, 51 * S, 10 * S), RECONCILE_RECOVERED);
        ck_assert_int_eq(t.state, RECONCILE_OK);
        /* a new difference starts a new clock */
        ck_assert_int_eq(reconcile_note(&t, true, 60 * S, 10 * S), RECONCILE_DRIFTED);
        ck_assert_uint_eq(t.since, 60 * S);
        ck_assert_int_eq(reconcile_note(&t, false, 61 * S, 10 * S), RECONCILE_RECOVERED);
        ck_assert_str_eq(reconcile_state_name(t.state), "confirmed");
}
END_TEST

static struct prefix pfx(const char *s)
{
        struct prefix p;
        const char *why;
        ck_assert_int_eq(prefix_parse(s, &p, &why), 0);
        return p;
}

START_TEST(held_set)
{
        struct reconcile_set s = {0};
        const char *in[] = {"2001:db8:53::53/128", "203.0.113.81/32", "203.0.113.53/32",
                            "203.0.113.81/32", "198.51.100.0/24"};
        for (size_t i = 0; i < 5; i++) {
                struct prefix p = pfx(in[i]);
                ck_assert_int_eq(reconcile_set_add(&s, &p), 0);
        }
        /* a parser's prefix with bytes past its length is the same key */
        struct prefix dirty = pfx("198.51.100.0/24");
        dirty.addr[3] = 7;
        dirty.addr[9] = 1;
        ck_assert_int_eq(reconcile_set_add(&s, &dirty), 0);
        reconcile_set_seal(&s);
        ck_assert_uint_eq(s.n, 4);
        for (size_t i = 1; i < s.n; i++)
                ck_assert_int_lt(prefix_cmp(&s.v[i - 1], &s.v[i]), 0);
        for (size_t i = 0; i < 5; i++) {
                struct prefix p = pfx(in[i]);
                ck_assert(reconcile_set_has(&s, &p));
        }
        struct prefix no = pfx("203.0.113.52/31"), no6 = pfx("2001:db8:53::/48");
        ck_assert(!reconcile_set_has(&s, &no));
        ck_assert(!reconcile_set_has(&s, &no6));
        /* 10,000 in reverse order */
        reconcile_set_clear(&s);
        for (int i = 9999; i >= 0; i--) {
                struct prefix p = {.family = AF_INET6, .len = 128};
                p.addr[0] = 0x20, p.addr[1] = 0x01, p.addr[2] = 0x0d, p.addr[3] = 0xb8;
                p.addr[14] = (uint8_t)(i >> 8), p.addr[15] = (uint8_t)i;
                ck_assert_int_eq(reconcile_set_add(&s, &p), 0);
        }
        reconcile_set_seal(&s);
        ck_assert_uint_eq(s.n, 10000);
        struct prefix p = pfx("2001:db8::102/128") /* i = 258 */;
        ck_assert(reconcile_set_has(&s, &p));
        reconcile_set_free(&s);
        ck_assert_uint_eq(s.n, 0);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("reconcile");
        TCase *tc = tcase_create("reconcile");
        tcase_add_test(tc, drift_then_stuck_then_recovered);
        tcase_add_test(tc, held_set);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
