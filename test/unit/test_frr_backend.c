/* test_frr_backend.c: the FRR backend against two scripted vty sockets
 * (bgpd.vty, staticd.vty) on a stepped clock: what an announce, an
 * attribute change and a withdraw send, confirmation from the status
 * bytes, a refusal, the coalescing window, a bgpd restart (re-assert) and
 * a clean stop. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "fake_clock.h"
#include "fake_frr.h"
#include "frr_backend.h"
#include "frr_config.h"

static int refuse_network; /* bgpd answers `network ...` with this status */
/* staticd cannot hold this static: refused when committed, alone or in a
 * transaction (which it then undoes whole) */
static const char *refuse_static;
static bool in_transaction, transaction_bad;

static struct fake_frr_reply script(struct fake_frr *f, const char *cmd)
{
        if (strcmp(cmd, "XFRR_start_configuration") == 0) {
                in_transaction = true;
                transaction_bad = false;
        } else if (strcmp(cmd, "XFRR_end_configuration") == 0) {
                in_transaction = false;
                if (transaction_bad)
                        return (struct fake_frr_reply){.text = "% Configuration failed.\n",
                                                       .status = 13};
        } else if (refuse_static && strcmp(cmd, refuse_static) == 0) {
                if (in_transaction)
                        transaction_bad = true;
                else
                        return (struct fake_frr_reply){.text = "% Configuration failed.\n",
                                                       .status = 13};
        }
        if (refuse_network && strncmp(cmd, "network ", 8) == 0)
                return (struct fake_frr_reply){.text = "% Malformed\n", .status = refuse_network};
        if (strncmp(cmd, "no network", 10) == 0 && f->userdata)
                return (struct fake_frr_reply){.text = "% Can't find static route specified\n",
                                               .status = 13};
        return (struct fake_frr_reply){0};
}

struct fixture {
        sd_event *e;
        struct fake_clock fc;
        struct fake_frr bgpd, staticd;
        struct config cfg;
        struct frr_settings fs;
        struct backend *b;
        char dir[64], b_sock[128], s_sock[128];
};

static void setup(struct fixture *fx)
{
        memset(fx, 0, sizeof(*fx));
        refuse_network = 0;
        refuse_static = NULL;
        in_transaction = transaction_bad = false;
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/ahd-frrbe.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(fx->dir));
        snprintf(fx->b_sock, sizeof(fx->b_sock), "%s/bgpd.vty", fx->dir);
        snprintf(fx->s_sock, sizeof(fx->s_sock), "%s/staticd.vty", fx->dir);
        ck_assert_int_ge(sd_event_new(&fx->e), 0);
        fake_clock_init(&fx->fc, fx->e);
        ck_assert_int_eq(fake_frr_start(&fx->bgpd, fx->e, fx->b_sock, script), 0);
        ck_assert_int_eq(fake_frr_start(&fx->staticd, fx->e, fx->s_sock, script), 0);
        fx->cfg.asn = 65004;
        config_speaker_put(&fx->cfg, &frr_block, &fx->fs);
        fx->fs.socket_dir = fx->dir;
        fx->fs.coalesce_usec = 200 * 1000;
        ck_assert_int_eq(backend_frr_ops.create(fx->e, &fx->fc.clock, &fx->cfg, NULL, &fx->b), 0);
}

static void teardown(struct fixture *fx)
{
        backend_frr_ops.free(fx->b);
        fake_frr_stop(&fx->bgpd);
        fake_frr_stop(&fx->staticd);
        sd_event_unref(fx->e);
        rmdir(fx->dir);
}

/* Lets the round trips between client and fakes run (no time passes). */
static void settle(struct fixture *fx)
{
        for (int i = 0; i < 200; i++) {
                fake_clock_settle(&fx->fc);
                sd_event_run(fx->e, 0);
        }
}

static struct prefix pfx(const char *s)
{
        struct prefix p;
        const char *why;
        ck_assert_int_eq(prefix_parse(s, &p, &why), 0);
        return p;
}

static void announce(struct fixture *fx, const char *p, int64_t med)
{
        struct prefix x = pfx(p);
        struct attrs a = {.med = med};
        struct route_update u = {.prefix = &x, .action = ROUTE_ANNOUNCE, .attrs = &a};
        backend_frr_ops.update(fx->b, &u);
        backend_frr_ops.commit(fx->b);
}

static void withdraw(struct fixture *fx, const char *p)
{
        struct prefix x = pfx(p);
        struct route_update u = {.prefix = &x, .action = ROUTE_WITHDRAW};
        backend_frr_ops.update(fx->b, &u);
        backend_frr_ops.commit(fx->b);
}

static enum route_confirm confirmed(struct fixture *fx, const char *p)
{
        struct prefix x = pfx(p);
        return backend_frr_ops.confirmed(fx->b, &x);
}

static unsigned starting(const struct fake_frr *f, const char *prefix)
{
        unsigned n = 0;
        for (size_t i = 0; i < f->n_cmds; i++)
                n += strncmp(f->cmds[i], prefix, strlen(prefix)) == 0;
        return n;
}

START_TEST(announce_change_withdraw)
{
        struct fixture fx;
        setup(&fx);
        settle(&fx);
        ck_assert_uint_eq(fake_frr_count(&fx.bgpd, "enable"), 1); /* connected at start */
        announce(&fx, "203.0.113.1/32", 100);
        announce(&fx, "2001:db8:1::/64", 100);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.1/32"), CONFIRM_PENDING);
        settle(&fx);
        ck_assert_uint_eq(fake_frr_count(&fx.staticd, "ip route 203.0.113.1/32 blackhole"), 1);
        ck_assert_uint_eq(fake_frr_count(&fx.staticd, "ipv6 route 2001:db8:1::/64 blackhole"), 1);
        ck_assert_uint_eq(starting(&fx.bgpd, "route-map ahd-"), 1); /* one set, one map */
        ck_assert_uint_eq(fake_frr_count(&fx.bgpd, "set metric 100"), 1);
        ck_assert_uint_eq(fake_frr_count(&fx.bgpd, "router bgp 65004"), 1);
        ck_assert_uint_eq(starting(&fx.bgpd, "network 203.0.113.1/32 route-map ahd-"), 1);
        ck_assert_uint_eq(starting(&fx.bgpd, "network 2001:db8:1::/64 route-map ahd-"), 1);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.1/32"), CONFIRM_CONFIRMED);
        ck_assert_int_eq(confirmed(&fx, "2001:db8:1::/64"), CONFIRM_CONFIRMED);
        ck_assert(backend_frr_stats(fx.b)->in_sync);

        /* an attribute change: one network statement, no withdraw, no static */
        fake_frr_clear(&fx.bgpd);
        fake_frr_clear(&fx.staticd);
        fake_clock_advance(&fx.fc, 300 * 1000);
        announce(&fx, "203.0.113.1/32", 500);
        settle(&fx);
        ck_assert_uint_eq(starting(&fx.bgpd, "network "), 1);
        ck_assert_uint_eq(starting(&fx.bgpd, "no network"), 0);
        ck_assert_uint_eq(fake_frr_count(&fx.bgpd, "set metric 500"), 1);
        ck_assert_uint_eq(starting(&fx.bgpd, "no route-map"), 0); /* v6 still uses it */
        ck_assert_uint_eq(fx.staticd.n_cmds, 0);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.1/32"), CONFIRM_CONFIRMED);

        /* the same again: nothing */
        fake_frr_clear(&fx.bgpd);
        fake_clock_advance(&fx.fc, 300 * 1000);
        announce(&fx, "203.0.113.1/32", 500);
        settle(&fx);
        ck_assert_uint_eq(fx.bgpd.n_cmds, 0);

        /* withdraw: no network, then the static, then the unused map */
        withdraw(&fx, "2001:db8:1::/64");
        settle(&fx);
        ck_assert_uint_eq(fake_frr_count(&fx.bgpd, "no network 2001:db8:1::/64"), 1);
        ck_assert_uint_eq(starting(&fx.bgpd, "no route-map ahd-"), 1);
        ck_assert_uint_eq(fake_frr_count(&fx.staticd, "no ipv6 route 2001:db8:1::/64 blackhole"),
                          1);
        ck_assert_int_eq(confirmed(&fx, "2001:db8:1::/64"), CONFIRM_CONFIRMED);
        teardown(&fx);
}
END_TEST

START_TEST(window_coalesces)
{
        struct fixture fx;
        setup(&fx);
        settle(&fx);
        announce(&fx, "203.0.113.1/32", -1);
        settle(&fx); /* quiet before: out at once */
        ck_assert_uint_eq(backend_frr_stats(fx.b)->batches, 1);
        fake_clock_advance(&fx.fc, 50 * 1000);
        announce(&fx, "203.0.113.2/32", -1);
        announce(&fx, "203.0.113.3/32", -1);
        fake_clock_advance(&fx.fc, 149999);
        settle(&fx);
        ck_assert_uint_eq(backend_frr_stats(fx.b)->batches, 1);
        fake_clock_advance(&fx.fc, 1);
        settle(&fx);
        ck_assert_uint_eq(backend_frr_stats(fx.b)->batches, 2);
        ck_assert_uint_eq(starting(&fx.bgpd, "network 203.0.113."), 3);
        teardown(&fx);
}
END_TEST

START_TEST(refused_is_failed_then_retried)
{
        struct fixture fx;
        setup(&fx);
        settle(&fx);
        refuse_network = 13;
        announce(&fx, "203.0.113.1/32", -1);
        settle(&fx);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.1/32"), CONFIRM_FAILED);
        ck_assert_uint_ge(backend_frr_stats(fx.b)->refused, 1);
        ck_assert_ptr_nonnull(strstr(backend_frr_stats(fx.b)->last_error, "% Malformed"));
        refuse_network = 0;
        fake_clock_advance(&fx.fc, 200 * 1000); /* the first backoff */
        settle(&fx);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.1/32"), CONFIRM_CONFIRMED);
        teardown(&fx);
}
END_TEST

START_TEST(refused_transaction_is_retried_one_by_one)
{
        struct fixture fx;
        setup(&fx);
        settle(&fx);
        refuse_static = "ip route 203.0.113.2/32 blackhole";
        announce(&fx, "203.0.113.1/32", -1);
        announce(&fx, "203.0.113.2/32", -1);
        settle(&fx); /* one batch, sent at once */
        /* staticd undid the whole transaction: neither is held */
        ck_assert_uint_eq(fake_frr_count(&fx.staticd, "XFRR_end_configuration"), 1);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.1/32"), CONFIRM_FAILED);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.2/32"), CONFIRM_FAILED);
        fake_frr_clear(&fx.staticd);
        fake_clock_advance(&fx.fc, 200 * 1000); /* the first backoff */
        settle(&fx);
        /* one by one: only the culprit is refused */
        ck_assert_uint_eq(fake_frr_count(&fx.staticd, "XFRR_start_configuration"), 0);
        ck_assert_uint_eq(fake_frr_count(&fx.staticd, "ip route 203.0.113.1/32 blackhole"), 1);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.1/32"), CONFIRM_CONFIRMED);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.2/32"), CONFIRM_FAILED);
        refuse_static = NULL;
        fake_clock_advance(&fx.fc, 400 * 1000); /* the second backoff */
        settle(&fx);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.2/32"), CONFIRM_CONFIRMED);
        /* a batch went through: transactions again */
        fake_frr_clear(&fx.staticd);
        announce(&fx, "203.0.113.3/32", -1);
        fake_clock_advance(&fx.fc, 200 * 1000);
        settle(&fx);
        ck_assert_uint_eq(fake_frr_count(&fx.staticd, "XFRR_start_configuration"), 1);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.3/32"), CONFIRM_CONFIRMED);
        teardown(&fx);
}
END_TEST

START_TEST(bgpd_restart_reasserts)
{
        struct fixture fx;
        setup(&fx);
        settle(&fx);
        announce(&fx, "203.0.113.1/32", 7);
        announce(&fx, "2001:db8:1::/64", -1);
        settle(&fx);
        ck_assert_uint_eq(starting(&fx.bgpd, "network "), 2);
        fake_frr_clear(&fx.bgpd);
        fake_frr_drop(&fx.bgpd); /* bgpd restarted: the connection closes */
        settle(&fx);
        fake_clock_advance(&fx.fc, 300 * 1000);
        settle(&fx);
        ck_assert_uint_eq(fake_frr_count(&fx.bgpd, "enable"), 1);
        ck_assert_uint_eq(starting(&fx.bgpd, "route-map ahd-"), 2);
        ck_assert_uint_eq(starting(&fx.bgpd, "network "), 2);
        ck_assert_uint_eq(backend_frr_stats(fx.b)->reasserts, 1); /* the restart */
        teardown(&fx);
}
END_TEST

static bool stopped;
static void on_done(void *ud)
{
        stopped = true;
}

START_TEST(stop_withdraws)
{
        struct fixture fx;
        setup(&fx);
        settle(&fx);
        fx.bgpd.userdata = (void *)1; /* `no network` of what it lacks: 13 */
        announce(&fx, "203.0.113.1/32", -1);
        withdraw(&fx, "203.0.113.9/32"); /* never announced by us: said anyway */
        settle(&fx);
        ck_assert_uint_eq(fake_frr_count(&fx.bgpd, "no network 203.0.113.9/32"), 1);
        ck_assert_int_eq(confirmed(&fx, "203.0.113.9/32"), CONFIRM_CONFIRMED);
        stopped = false;
        backend_frr_ops.stop(fx.b, true, on_done, NULL);
        settle(&fx);
        ck_assert(stopped);
        ck_assert_uint_eq(fake_frr_count(&fx.bgpd, "no network 203.0.113.1/32"), 1);
        ck_assert_uint_eq(fake_frr_count(&fx.staticd, "no ip route 203.0.113.1/32 blackhole"), 1);
        teardown(&fx);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("frr_backend");
        TCase *tc = tcase_create("backend");
        tcase_add_test(tc, announce_change_withdraw);
        tcase_add_test(tc, window_coalesces);
        tcase_add_test(tc, refused_is_failed_then_retried);
        tcase_add_test(tc, refused_transaction_is_retried_one_by_one);
        tcase_add_test(tc, bgpd_restart_reasserts);
        tcase_add_test(tc, stop_withdraws);
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
