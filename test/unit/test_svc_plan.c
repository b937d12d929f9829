/* test_svc_plan.c: which state and attribute set a service ends in:
 * degraded announces with the degraded attributes, draining with the
 * draining ones (GRACEFUL_SHUTDOWN + degraded prepend), disable and
 * dampening withdraw, unknown says nothing; and capacity checks degrade
 * instead of taking the service down. */
#include <check.h>
#include <string.h>

#include "anycast-healthd-check.h"
#include "svc_plan.h"

static struct svc_plan plan(enum svc_state h, bool disabled, bool draining, bool suppressed)
{
        struct svc_inputs in = {.health = h,
                                .disabled = disabled,
                                .on_disabled = ON_WITHDRAW,
                                .draining = draining,
                                .suppressed = suppressed};
        return svc_plan(&in);
}

#define EXPECT(p, st, act, at)                                                                     \
        do {                                                                                       \
                struct svc_plan _p = (p);                                                          \
                ck_assert_int_eq(_p.state, st);                                                    \
                ck_assert_int_eq(_p.action, act);                                                  \
                if (act == ROUTE_ANNOUNCE)                                                         \
                        ck_assert_int_eq(_p.attrs, at);                                            \
        } while (0)

START_TEST(health_alone)
{
        EXPECT(plan(SVC_UP, false, false, false), SVC_UP, ROUTE_ANNOUNCE, ATTRS_UP);
        EXPECT(plan(SVC_DEGRADED, false, false, false), SVC_DEGRADED, ROUTE_ANNOUNCE,
               ATTRS_DEGRADED);
        EXPECT(plan(SVC_DOWN, false, false, false), SVC_DOWN, ROUTE_WITHDRAW, 0);
        EXPECT(plan(SVC_UNKNOWN, false, false, false), SVC_UNKNOWN, ROUTE_NONE, 0);
}
END_TEST

START_TEST(precedence)
{
        /* disabled beats everything */
        EXPECT(plan(SVC_UP, true, true, true), SVC_DISABLED, ROUTE_WITHDRAW, 0);
        struct svc_inputs keep = {.health = SVC_UP, .disabled = true, .on_disabled = ON_KEEP};
        EXPECT(svc_plan(&keep), SVC_DISABLED, ROUTE_NONE, 0);
        /* draining announces while healthy, with the draining set */
        EXPECT(plan(SVC_UP, false, true, false), SVC_DRAINING, ROUTE_ANNOUNCE, ATTRS_DRAINING);
        EXPECT(plan(SVC_DEGRADED, false, true, false), SVC_DRAINING, ROUTE_ANNOUNCE,
               ATTRS_DRAINING);
        EXPECT(plan(SVC_DOWN, false, true, false), SVC_DRAINING, ROUTE_WITHDRAW, 0);
        EXPECT(plan(SVC_UNKNOWN, false, true, false), SVC_DRAINING, ROUTE_NONE, 0);
        /* dampening withdraws a healthy service */
        EXPECT(plan(SVC_UP, false, false, true), SVC_DOWN, ROUTE_WITHDRAW, 0);
        EXPECT(plan(SVC_DEGRADED, false, false, true), SVC_DOWN, ROUTE_WITHDRAW, 0);
}
END_TEST

/* What test_health's route_from_state asked of service_route, which the
 * engine never used: withdraw wins over health whatever it is, keep leaves
 * the speaker's route as it was (ROUTE_NONE; test_engine_ops's
 * disable_keep_holds_route shows the route stays). */
START_TEST(route_from_state)
{
        EXPECT(plan(SVC_UNKNOWN, false, false, false), SVC_UNKNOWN, ROUTE_NONE, 0);
        EXPECT(plan(SVC_UP, false, false, false), SVC_UP, ROUTE_ANNOUNCE, ATTRS_UP);
        EXPECT(plan(SVC_DEGRADED, false, false, false), SVC_DEGRADED, ROUTE_ANNOUNCE,
               ATTRS_DEGRADED);
        EXPECT(plan(SVC_DOWN, false, false, false), SVC_DOWN, ROUTE_WITHDRAW, 0);
        EXPECT(plan(SVC_UP, true, false, false), SVC_DISABLED, ROUTE_WITHDRAW, 0);
        EXPECT(plan(SVC_UNKNOWN, true, false, false), SVC_DISABLED, ROUTE_WITHDRAW, 0);
        struct svc_inputs keep = {.disabled = true, .on_disabled = ON_KEEP};
        const enum svc_state healths[] = {SVC_UNKNOWN, SVC_UP, SVC_DEGRADED, SVC_DOWN};
        for (size_t i = 0; i < sizeof(healths) / sizeof(healths[0]); i++) {
                keep.health = healths[i];
                EXPECT(svc_plan(&keep), SVC_DISABLED, ROUTE_NONE, 0);
        }
}
END_TEST

START_TEST(attribute_sets)
{
        char *c1[] = {"65001:53"};
        char *c2[] = {"65001:53", "65535:0"};
        struct service_cfg s = {
            .announce = {.next_hop = "self", .med = 10, .communities = c1, .n_communities = 1},
            .degraded = {.next_hop = "self",
                         .med = 10,
                         .prepend = 3,
                         .communities = c1,
                         .n_communities = 1},
            .draining = {.next_hop = "self",
                         .med = 10,
                         .prepend = 3,
                         .communities = c2,
                         .n_communities = 2},
        };
        ck_assert_ptr_eq(attr_set_attrs(&s, ATTRS_UP), &s.announce);
        ck_assert_ptr_eq(attr_set_attrs(&s, ATTRS_DEGRADED), &s.degraded);
        ck_assert_ptr_eq(attr_set_attrs(&s, ATTRS_DRAINING), &s.draining);
        ck_assert_ptr_null(attr_set_attrs(&s, ATTRS_NONE));
        ck_assert_str_eq(attr_set_name(ATTRS_DRAINING), "draining");
        ck_assert_str_eq(attr_set_name(ATTRS_NONE), "none");
}
END_TEST

static void feed(struct check_hyst *h, int result, int n)
{
        for (int i = 0; i < n; i++)
                check_hyst_feed(h, 1, 1, result);
}

START_TEST(capacity_checks_degrade)
{
        struct check_hyst c[3];
        for (int i = 0; i < 3; i++)
                check_hyst_init(&c[i]);
        c[2].capacity = true;
        feed(&c[0], AHC_OK, 1);
        feed(&c[1], AHC_OK, 1);
        /* capacity check not decided yet: wait */
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_UNKNOWN);
        feed(&c[2], AHC_OK, 1);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_UP);
        feed(&c[2], AHC_CRITICAL, 1);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_DEGRADED);
        feed(&c[2], AHC_WARNING, 1);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_DEGRADED);
        /* a deciding check down: down whatever capacity says */
        feed(&c[0], AHC_CRITICAL, 1);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ALL, 0), SVC_DOWN);
        /* "any" and N count deciding checks only */
        ck_assert_int_eq(service_combine(c, 3, COMBINE_ANY, 0), SVC_DEGRADED);
        ck_assert_int_eq(service_combine(c, 3, COMBINE_AT_LEAST, 2), SVC_DOWN);
}
END_TEST

/* The floor's hold: a withdraw from health or dampening becomes a degraded
 * announce; operator actions and a healthy service are untouched. */
START_TEST(held_by_the_floor)
{
        struct svc_inputs in = {.health = SVC_DOWN, .held = true};
        struct svc_plan p = svc_plan(&in);
        ck_assert_int_eq(p.state, SVC_HELD);
        ck_assert_int_eq(p.action, ROUTE_ANNOUNCE);
        ck_assert_int_eq(p.attrs, ATTRS_DEGRADED);
        ck_assert_str_eq(svc_state_name(SVC_HELD), "held");

        in = (struct svc_inputs){.health = SVC_UP, .suppressed = true, .held = true};
        ck_assert_int_eq(svc_plan(&in).state, SVC_HELD);

        in = (struct svc_inputs){.health = SVC_UP, .held = true};
        p = svc_plan(&in);
        ck_assert_int_eq(p.state, SVC_UP);
        ck_assert_int_eq(p.attrs, ATTRS_UP);

        in = (struct svc_inputs){.health = SVC_DOWN, .held = true, .disabled = true};
        p = svc_plan(&in);
        ck_assert_int_eq(p.state, SVC_DISABLED);
        ck_assert_int_eq(p.action, ROUTE_WITHDRAW);

        in = (struct svc_inputs){.health = SVC_DOWN, .held = true, .draining = true};
        p = svc_plan(&in);
        ck_assert_int_eq(p.state, SVC_DRAINING);
        ck_assert_int_eq(p.action, ROUTE_WITHDRAW);

        /* unknown is never raised by a hold */
        in = (struct svc_inputs){.health = SVC_UNKNOWN, .held = true};
        ck_assert_int_eq(svc_plan(&in).action, ROUTE_NONE);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("svc_plan");
        TCase *tc = tcase_create("plan");
        tcase_add_test(tc, health_alone);
        tcase_add_test(tc, precedence);
        tcase_add_test(tc, route_from_state);
        tcase_add_test(tc, attribute_sets);
        tcase_add_test(tc, capacity_checks_degrade);
        tcase_add_test(tc, held_by_the_floor);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
