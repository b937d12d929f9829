/* test_bird_backend.c: the BIRD backend on a real sd-event loop against a
 * scripted control socket: bursts coalesce into one write and one
 * configure, a refused configure puts the last good file back, never two
 * configures in flight, files kept current while BIRD is away, stop. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bird_config.h"
#include "bird_backend.h"
#include "bird_rib.h"
#include "fake_bird.h"
#include "fake_clock.h"

#define DEADLINE (10 * 1000 * 1000ULL)

static const char *configure_reply;
static uint64_t configure_delay;
static enum fake_after configure_after;
static char listing[4096]; /* BIRD's answer to the reconcile listing */
/* Answers to `configure status`, one per command, the last one repeated;
 * none: BIRD's own answer when it is up and running. */
#define STATUS_DONE "0003-Daemon is up and running\n0000 \n"
#define STATUS_BUSY "0004-Reconfiguration in progress\n0000 \n"
static const char *status_replies[8];
static size_t n_status_replies, status_i;
static enum fake_after status_after;

static struct fake_reply script(struct fake_bird *f, const char *cmd)
{
        if (strcmp(cmd, BIRD_RIB_QUERY) == 0)
                return (struct fake_reply){listing, FAKE_KEEP, 0};
        if (strcmp(cmd, "configure check") == 0)
                return (struct fake_reply){"0020 Configuration OK\n", FAKE_KEEP, 0};
        if (strcmp(cmd, "configure") == 0)
                return (struct fake_reply){configure_reply, configure_after, configure_delay};
        if (strcmp(cmd, "configure status") == 0) {
                const char *t = STATUS_DONE;
                if (n_status_replies)
                        t = status_replies[status_i < n_status_replies ? status_i++
                                                                       : n_status_replies - 1];
                return (struct fake_reply){t, status_after, 0};
        }
        return (struct fake_reply){"9001 syntax error\n", FAKE_KEEP, 0};
}

static void status_script(size_t n, const char *const *replies)
{
        for (size_t i = 0; i < n; i++)
                status_replies[i] = replies[i];
        n_status_replies = n;
        status_i = 0;
}

struct fixture {
        sd_event *e;
        struct fake_bird fb;
        struct config cfg;
        struct bird_settings bs; /* cfg's "bird" block */
        struct service_cfg svc;
        struct prefix svc_prefix;
        struct backend *b;
        char dir[64], sock[128], r4[128], r6[128];
        char c4[128], c6[128]; /* the canary files the backend derives */
};

static void setup(struct fixture *fx, bool with_server)
{
        memset(fx, 0, sizeof(*fx));
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/ahd-birdbe.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(fx->dir));
        snprintf(fx->sock, sizeof(fx->sock), "%s/bird.ctl", fx->dir);
        snprintf(fx->r4, sizeof(fx->r4), "%s/routes4.conf", fx->dir);
        snprintf(fx->r6, sizeof(fx->r6), "%s/routes6.conf", fx->dir);
        snprintf(fx->c4, sizeof(fx->c4), "%s/routes4-canary.conf", fx->dir);
        snprintf(fx->c6, sizeof(fx->c6), "%s/routes6-canary.conf", fx->dir);
        ck_assert_int_ge(sd_event_new(&fx->e), 0);
        configure_reply =
            "0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n";
        configure_delay = 0;
        configure_after = FAKE_KEEP;
        n_status_replies = status_i = 0;
        status_after = FAKE_KEEP;
        if (with_server)
                ck_assert_int_eq(fake_bird_start(&fx->fb, fx->e, fx->sock, script), 0);
        else
                fx->fb.listen_fd = -1, fx->fb.fd = -1;
        fx->cfg.asn = 65002;
        config_speaker_put(&fx->cfg, &bird_block, &fx->bs);
        fx->bs.socket = fx->sock;
        fx->bs.include_v4 = fx->r4;
        fx->bs.include_v6 = fx->r6;
        fx->bs.coalesce_usec = 200 * 1000;
        fx->svc_prefix.family = AF_INET;
        fx->svc_prefix.len = 32;
        inet_pton(AF_INET, "203.0.113.99", fx->svc_prefix.addr);
        fx->svc.prefixes = &fx->svc_prefix;
        fx->svc.n_prefixes = 1;
        fx->cfg.services = &fx->svc;
        fx->cfg.n_services = 1;
}

static int sent_calls;
static uint64_t sent_delay;

static void on_sent(void *userdata, uint64_t delay_usec)
{
        sent_calls++;
        sent_delay = delay_usec;
}

static void create(struct fixture *fx)
{
        struct backend_hooks hooks = {.route_sent = on_sent};
        sent_calls = 0;
        ck_assert_int_eq(backend_bird_ops.create(fx->e, clock_system(), &fx->cfg, &hooks, &fx->b),
                         0);
}

static void teardown(struct fixture *fx)
{
        backend_bird_ops.free(fx->b);
        fake_bird_stop(&fx->fb);
        sd_event_unref(fx->e);
        unlink(fx->r4);
        unlink(fx->r6);
        unlink(fx->c4);
        unlink(fx->c6);
        ck_assert_int_eq(rmdir(fx->dir), 0); /* nothing else left behind */
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return strdup(buf);
}

static size_t count_lines(const char *text, const char *start)
{
        size_t n = 0, len = strlen(start);
        for (const char *l = text; *l;) {
                n += strncmp(l, start, len) == 0;
                const char *nl = strchr(l, '\n');
                if (!nl)
                        break;
                l = nl + 1;
        }
        return n;
}

static void announce(struct backend *b, const char *addr, int64_t med)
{
        struct prefix p = {.family = strchr(addr, ':') ? AF_INET6 : AF_INET};
        p.len = p.family == AF_INET ? 32 : 128;
        ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
        struct attrs a = {.med = med};
        struct route_update u = {&p, ROUTE_ANNOUNCE, &a, "svc", "test", 0, AUDIENCE_EVERYONE, NULL};
        backend_bird_ops.update(b, &u);
}

static void announce_to(struct backend *b, const char *addr, int64_t med, enum audience who)
{
        struct prefix p = {.family = strchr(addr, ':') ? AF_INET6 : AF_INET};
        p.len = p.family == AF_INET ? 32 : 128;
        ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
        struct attrs a = {.med = med};
        static char *nb[] = {"192.0.2.9", NULL};
        static const struct canary_cfg cc = {nb, 1, 4000000};
        struct route_update u = {&p, ROUTE_ANNOUNCE, &a, "svc", "test", 0, who, &cc};
        backend_bird_ops.update(b, &u);
}

static bool configured_n(struct fixture *fx, unsigned n)
{
        const struct bird_stats *st = backend_bird_stats(fx->b);
        return st->configure_ok + st->configure_failed >= n;
}

static void wait_configured(struct fixture *fx, unsigned n)
{
        for (int i = 0; i < 1000 && !configured_n(fx, n); i++)
                run_for(fx->e, 10 * 1000);
        ck_assert(configured_n(fx, n));
}

START_TEST(missing_files_written_empty_at_start)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        struct stat st;
        ck_assert_int_eq(stat(fx.r4, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0644);
        char *t = slurp(fx.r6);
        ck_assert_uint_eq(count_lines(t, "route "), 0);
        ck_assert_uint_eq(count_lines(t, "#"), 2);
        free(t);
        run_for(fx.e, 300 * 1000);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure check"), 1);
        ck_assert(backend_bird_stats(fx.b)->reachable);
        teardown(&fx);
}
END_TEST

START_TEST(burst_is_one_write_one_configure)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        run_for(fx.e, 100 * 1000); /* the startup check */
        uint64_t writes0 = backend_bird_stats(fx.b)->writes;
        for (int i = 0; i < 1000; i++) {
                char addr[32];
                snprintf(addr, sizeof(addr), "198.51.100.%d", i % 256);
                /* 1,000 updates over 256 prefixes, MED changing */
                announce(fx.b, addr, i);
                backend_bird_ops.commit(fx.b);
        }
        wait_configured(&fx, 1);
        run_for(fx.e, 500 * 1000); /* nothing else may follow */
        const struct bird_stats *st = backend_bird_stats(fx.b);
        ck_assert_uint_eq(st->writes - writes0, 1);
        ck_assert_uint_eq(st->configures, 1);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 1);
        ck_assert(st->in_sync);
        char *t = slurp(fx.r4);
        ck_assert_uint_eq(count_lines(t, "route 198.51.100."), 256);
        /* the last update for each prefix won */
        ck_assert_ptr_nonnull(strstr(t, "route 198.51.100.255/32 blackhole { bgp_med = 767; };"));
        free(t);
        teardown(&fx);
}
END_TEST

static uint64_t mono_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* One report per configure, from the oldest decision it carries. */
START_TEST(route_sent_once_per_configure_from_the_oldest)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        run_for(fx.e, 100 * 1000); /* the startup check */
        ck_assert_int_eq(sent_calls, 0);
        struct attrs a = {.med = -1};
        const char *addrs[] = {"198.51.100.1", "198.51.100.2"};
        uint64_t ago[] = {80000, 2000};
        for (int i = 0; i < 2; i++) {
                struct prefix p = {.family = AF_INET, .len = 32};
                inet_pton(AF_INET, addrs[i], p.addr);
                struct route_update u = {&p,    ROUTE_ANNOUNCE, &a,
                                         "svc", "test",         mono_now() - ago[i], AUDIENCE_EVERYONE, NULL};
                backend_bird_ops.update(fx.b, &u);
        }
        uint64_t t0 = mono_now();
        backend_bird_ops.commit(fx.b);
        wait_configured(&fx, 1);
        ck_assert_int_eq(sent_calls, 1);
        ck_assert_uint_ge(sent_delay, 80000);
        ck_assert_uint_le(sent_delay, 80000 + (mono_now() - t0) + 1000);
        teardown(&fx);
}
END_TEST

START_TEST(refused_configure_restores_last_good)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        announce(fx.b, "203.0.113.1", 10);
        wait_configured(&fx, 1);
        char *good = slurp(fx.r4);
        ck_assert_ptr_nonnull(strstr(good, "203.0.113.1/32"));

        configure_reply = "0002-Reading configuration from /etc/bird/bird.conf\n"
                          "8002 /etc/bird/bird.conf:12:3 syntax error\n";
        announce(fx.b, "203.0.113.2", 20);
        wait_configured(&fx, 2);
        const struct bird_stats *st = backend_bird_stats(fx.b);
        ck_assert_uint_eq(st->configure_failed, 1);
        ck_assert_uint_eq(st->restores, 1);
        ck_assert_ptr_nonnull(strstr(st->last_error, "syntax error"));
        char *now = slurp(fx.r4);
        ck_assert_str_eq(now, good);
        free(now);

        /* BIRD accepts again: the retry (with backoff) applies the change. */
        configure_reply = "0003 Reconfigured\n";
        wait_configured(&fx, 3);
        now = slurp(fx.r4);
        ck_assert_ptr_nonnull(strstr(now, "203.0.113.2/32"));
        ck_assert(st->in_sync);
        free(now);
        free(good);

        /* What the metrics say of it: three configures, one refused. */
        struct speaker_counters n;
        backend_bird_ops.counters(fx.b, &n);
        ck_assert_uint_eq(n.commands, 3);
        ck_assert_uint_eq(n.acks, 3);
        ck_assert_uint_eq(n.errors, 1);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        backend_bird_ops.metrics(fx.b, f, "ams1");
        fclose(f);
        static const char *const lines[] = {
            "# TYPE anycast_healthd_bird_configures_total counter\n",
            "anycast_healthd_bird_configures_total{pop=\"ams1\"} 3\n",
            "anycast_healthd_bird_configure_failures_total{pop=\"ams1\"} 1\n",
            "anycast_healthd_bird_unreachable_total{pop=\"ams1\"} 0\n",
            "# TYPE anycast_healthd_bird_in_sync gauge\n",
            "anycast_healthd_bird_in_sync{pop=\"ams1\"} 1\n",
            "# TYPE anycast_healthd_bird_configure_duration_seconds histogram\n",
            "anycast_healthd_bird_configure_duration_seconds_bucket{pop=\"ams1\",le=\"+Inf\"} 3\n",
            "anycast_healthd_bird_configure_duration_seconds_count{pop=\"ams1\"} 3\n",
        };
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
                ck_assert_msg(strstr(text, lines[i]), "missing %s in:\n%s", lines[i], text);
        free(text);
        teardown(&fx);
}
END_TEST

static struct prefix pfx(const char *addr)
{
        struct prefix p = {.family = AF_INET, .len = 32};
        ck_assert_int_eq(inet_pton(AF_INET, addr, p.addr), 1);
        return p;
}

/* Per prefix: pending until BIRD answered the configure carrying it,
 * confirmed after, failed when BIRD refused it; withdraws too. */
START_TEST(confirmation_per_prefix)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        struct prefix p1 = pfx("203.0.113.1"), p2 = pfx("203.0.113.2");
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p1), CONFIRM_NONE);
        announce(fx.b, "203.0.113.1", 10);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p1), CONFIRM_PENDING);
        wait_configured(&fx, 1);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p1), CONFIRM_CONFIRMED);

        configure_reply = "8002 /etc/bird/bird.conf:12:3 syntax error\n";
        announce(fx.b, "203.0.113.2", 20);
        wait_configured(&fx, 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p2), CONFIRM_FAILED);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p1), CONFIRM_CONFIRMED);
        configure_reply = "0003 Reconfigured\n";
        wait_configured(&fx, 3);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p2), CONFIRM_CONFIRMED);

        struct route_update w = {&p1, ROUTE_WITHDRAW, NULL, "svc", "test", 0, AUDIENCE_NONE, NULL};
        backend_bird_ops.update(fx.b, &w);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p1), CONFIRM_PENDING);
        wait_configured(&fx, 4);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p1), CONFIRM_CONFIRMED);
        teardown(&fx);
}
END_TEST

/* Up -> degraded -> draining: the same prefix re-rendered with the new
 * attributes each time (the engine picks them, the backend renders). */
START_TEST(attribute_change_rerenders)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        struct prefix p = pfx("203.0.113.1");
        char *up_c[] = {"65002:1"}, *dr_c[] = {"65002:1", "65535:0"};
        struct attrs up = {.med = -1, .communities = up_c, .n_communities = 1};
        struct attrs degraded = {.med = -1, .prepend = 3, .communities = up_c, .n_communities = 1};
        struct attrs draining = {.med = -1, .prepend = 3, .communities = dr_c, .n_communities = 2};
        struct route_update u = {&p, ROUTE_ANNOUNCE, &up, "svc", "up", 0, AUDIENCE_EVERYONE, NULL};
        backend_bird_ops.update(fx.b, &u);
        wait_configured(&fx, 1);
        char *t = slurp(fx.r4);
        ck_assert_ptr_null(strstr(t, "prepend"));
        free(t);
        u.attrs = &degraded;
        backend_bird_ops.update(fx.b, &u);
        wait_configured(&fx, 2);
        t = slurp(fx.r4);
        ck_assert_ptr_nonnull(strstr(t, "bgp_path.prepend(65002); bgp_path.prepend(65002); "
                                        "bgp_path.prepend(65002);"));
        ck_assert_ptr_null(strstr(t, "65535"));
        free(t);
        u.attrs = &draining;
        backend_bird_ops.update(fx.b, &u);
        wait_configured(&fx, 3);
        t = slurp(fx.r4);
        ck_assert_ptr_nonnull(strstr(t, "bgp_community.add((65535,0));"));
        free(t);
        /* the same attributes again: nothing to configure */
        backend_bird_ops.update(fx.b, &u);
        run_for(fx.e, 400 * 1000);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 3);
        teardown(&fx);
}
END_TEST

static int late_updates(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct backend *b = userdata;
        for (int i = 0; i < 50; i++) {
                char addr[32];
                snprintf(addr, sizeof(addr), "198.51.100.%d", i);
                announce(b, addr, -1);
        }
        backend_bird_ops.commit(b);
        return 0;
}

START_TEST(one_configure_in_flight)
{
        struct fixture fx;
        setup(&fx, true);
        fx.bs.coalesce_usec = 10 * 1000;
        create(&fx);
        run_for(fx.e, 100 * 1000);
        configure_delay = 600 * 1000; /* BIRD is slow to answer */
        announce(fx.b, "203.0.113.1", -1);
        /* More changes arrive while the first configure is in flight. */
        uint64_t now;
        sd_event_now(fx.e, CLOCK_MONOTONIC, &now);
        sd_event_source *t = NULL;
        ck_assert_int_ge(
            sd_event_add_time(fx.e, &t, CLOCK_MONOTONIC, now + 200 * 1000, 0, late_updates, fx.b),
            0);
        wait_configured(&fx, 2);
        run_for(fx.e, 800 * 1000);
        ck_assert_uint_eq(fx.fb.max_outstanding, 1);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 2);
        char *text = slurp(fx.r4);
        ck_assert_uint_eq(count_lines(text, "route "), 51);
        free(text);
        sd_event_source_unref(t);
        teardown(&fx);
}
END_TEST

START_TEST(lone_change_goes_out_at_once_burst_waits_for_the_window)
{
        /* A window far longer than anything the test waits for, so the
         * order of events, not the machine's speed, decides. */
        struct fixture fx;
        setup(&fx, true);
        fx.bs.coalesce_usec = 4 * 1000 * 1000;
        create(&fx);
        run_for(fx.e, 100 * 1000); /* the startup check */
        announce(fx.b, "203.0.113.1", -1);
        backend_bird_ops.commit(fx.b);
        /* Quiet before: no waiting for the window. */
        for (int i = 0; i < 150 && !configured_n(&fx, 1); i++)
                run_for(fx.e, 10 * 1000);
        ck_assert(configured_n(&fx, 1));
        /* Within the window of that configure: held back... */
        announce(fx.b, "203.0.113.2", -1);
        backend_bird_ops.commit(fx.b);
        run_for(fx.e, 300 * 1000);
        announce(fx.b, "203.0.113.3", -1);
        backend_bird_ops.commit(fx.b);
        run_for(fx.e, 300 * 1000);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 1);
        /* ...until it ends, then both in one configure. */
        wait_configured(&fx, 2);
        run_for(fx.e, 200 * 1000);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 2);
        char *t = slurp(fx.r4);
        ck_assert_uint_eq(count_lines(t, "route 203.0.113."), 3);
        free(t);
        teardown(&fx);
}
END_TEST

/* The window on a stepped clock (fake_clock.h): the held change leaves
 * exactly when the window after the last configure ends. */
START_TEST(window_is_exact_on_a_stepped_clock)
{
        struct fixture fx;
        setup(&fx, true);
        struct fake_clock fc;
        fake_clock_init(&fc, fx.e);
        struct backend_hooks hooks = {.route_sent = on_sent};
        ck_assert_int_eq(backend_bird_ops.create(fx.e, &fc.clock, &fx.cfg, &hooks, &fx.b), 0);
        fake_clock_settle(&fc); /* the startup check */
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure check"), 1);
        announce(fx.b, "203.0.113.1", -1);
        backend_bird_ops.commit(fx.b);
        fake_clock_settle(&fc); /* quiet before: out at once */
        ck_assert(configured_n(&fx, 1));
        fake_clock_advance(&fc, 50000);
        announce(fx.b, "203.0.113.2", -1);
        backend_bird_ops.commit(fx.b);
        fake_clock_advance(&fc, 149999); /* 1 us before the 200 ms window ends */
        ck_assert(!configured_n(&fx, 2));
        fake_clock_advance(&fc, 1);
        ck_assert(configured_n(&fx, 2));
        char *t = slurp(fx.r4);
        ck_assert_uint_eq(count_lines(t, "route 203.0.113."), 2);
        free(t);
        backend_bird_ops.free(fx.b);
        fx.b = NULL;
        teardown(&fx);
}
END_TEST

/* BIRD's listing as the snippet's static protocols would give it. */
static void set_listing(const char *const *prefixes)
{
        size_t n = (size_t)snprintf(listing, sizeof(listing), "1007-Table master4:\n");
        for (size_t i = 0; prefixes[i]; i++)
                n += (size_t)snprintf(
                    listing + n, sizeof(listing) - n,
                    " %s      blackhole [anycast_healthd4 17:26:54.987] * (200)\n", prefixes[i]);
        snprintf(listing + n, sizeof(listing) - n, "0000 \n");
}

static struct prefix pfx4(const char *s)
{
        struct prefix p = {.family = AF_INET, .len = 32};
        ck_assert_int_eq(inet_pton(AF_INET, s, p.addr), 1);
        return p;
}

static int stuck_calls, unstuck_calls;
static char stuck_why[128];

static void on_stuck(void *userdata, const struct prefix *p, bool stuck, const char *why)
{
        if (stuck) {
                stuck_calls++;
                snprintf(stuck_why, sizeof(stuck_why), "%s", why);
        } else {
                unstuck_calls++;
        }
}

static struct speaker_counters counters(struct fixture *fx)
{
        struct speaker_counters n;
        backend_bird_ops.counters(fx->b, &n);
        return n;
}

#define SEC 1000000ULL

/* Reconciliation on a stepped clock: a pass soon after each configure and
 * every interval; a route BIRD lost is drift, repaired by a rewrite and a
 * configure; one BIRD holds that we never asked for too; still wrong
 * after stuck_after it is stuck (the hook hears it), repaired only once
 * per interval from then on; right again, it is confirmed. */
START_TEST(reconcile_repairs_drift_and_reports_stuck)
{
        struct fixture fx;
        setup(&fx, true);
        fx.cfg.reconcile.interval_usec = 30 * SEC;
        fx.cfg.reconcile.stuck_after_usec = 10 * SEC;
        struct fake_clock fc;
        fake_clock_init(&fc, fx.e);
        struct backend_hooks hooks = {.stuck = on_stuck};
        stuck_calls = unstuck_calls = 0;
        ck_assert_int_eq(backend_bird_ops.create(fx.e, &fc.clock, &fx.cfg, &hooks, &fx.b), 0);
        fake_clock_settle(&fc);
        const char *both[] = {"203.0.113.1/32", "203.0.113.2/32", NULL};
        const char *one[] = {"203.0.113.1/32", NULL};
        const char *alien[] = {"203.0.113.1/32", "203.0.113.2/32", "203.0.113.9/32", NULL};
        set_listing(both);
        announce(fx.b, "203.0.113.1", -1);
        announce(fx.b, "203.0.113.2", -1);
        backend_bird_ops.commit(fx.b);
        fake_clock_settle(&fc);
        ck_assert(configured_n(&fx, 1));
        struct prefix p1 = pfx4("203.0.113.1"), p2 = pfx4("203.0.113.2");
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p2), CONFIRM_CONFIRMED);
        /* soon after the configure: one pass, all as asked */
        fake_clock_advance(&fc, 1 * SEC);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, BIRD_RIB_QUERY), 1);
        ck_assert_uint_eq(counters(&fx).reconcile_passes, 1);
        ck_assert_uint_eq(counters(&fx).drift, 0);
        /* then one per interval, no configure while nothing differs */
        fake_clock_advance(&fc, 30 * SEC);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, BIRD_RIB_QUERY), 2);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 1);

        /* 203.0.113.2 gone behind our back: drift, repaired at once */
        set_listing(one);
        fake_clock_advance(&fc, 30 * SEC);
        ck_assert_uint_eq(counters(&fx).drift, 1);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p2), CONFIRM_DRIFT);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p1), CONFIRM_CONFIRMED);
        /* the repair held: the pass after its configure says so */
        set_listing(both);
        fake_clock_advance(&fc, 1 * SEC);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p2), CONFIRM_CONFIRMED);
        ck_assert_uint_eq(counters(&fx).drift, 1);
        ck_assert_int_eq(stuck_calls, 0);

        /* a route of ours BIRD holds that we never asked for */
        set_listing(alien);
        fake_clock_advance(&fc, 30 * SEC);
        ck_assert_uint_eq(counters(&fx).drift, 2);
        set_listing(both);
        fake_clock_advance(&fc, 1 * SEC);

        /* a BIRD that keeps losing it: stuck after 10 s of repairs */
        set_listing(one);
        unsigned before = fake_bird_count(&fx.fb, "configure");
        fake_clock_advance(&fc, 30 * SEC); /* found: drift, first repair */
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p2), CONFIRM_DRIFT);
        fake_clock_advance(&fc, 9 * SEC);
        ck_assert_int_eq(stuck_calls, 0);
        fake_clock_advance(&fc, 2 * SEC);
        ck_assert_int_eq(stuck_calls, 1);
        ck_assert_str_eq(stuck_why, "missing at BIRD");
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p2), CONFIRM_STUCK);
        ck_assert_uint_eq(counters(&fx).stuck, 1);
        ck_assert_uint_eq(counters(&fx).drift, 3);
        /* stuck: a repair per interval, not per pass */
        unsigned at_stuck = fake_bird_count(&fx.fb, "configure");
        ck_assert_uint_le(at_stuck - before, 12); /* about one a second while drifting */
        fake_clock_advance(&fc, 120 * SEC);
        ck_assert_uint_le(fake_bird_count(&fx.fb, "configure") - at_stuck, 5);
        ck_assert_int_eq(stuck_calls, 1);
        /* right again */
        set_listing(both);
        fake_clock_advance(&fc, 31 * SEC);
        ck_assert_int_eq(unstuck_calls, 1);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p2), CONFIRM_CONFIRMED);
        ck_assert_uint_eq(counters(&fx).stuck, 0);
        backend_bird_ops.free(fx.b);
        fx.b = NULL;
        teardown(&fx);
}
END_TEST

START_TEST(bird_away_files_current_then_applied)
{
        struct fixture fx;
        setup(&fx, false);
        create(&fx);
        announce(fx.b, "2001:db8::53", 5);
        run_for(fx.e, 400 * 1000);
        const struct bird_stats *st = backend_bird_stats(fx.b);
        ck_assert(!st->reachable);
        ck_assert_uint_ge(st->unreachable, 1);
        char *t = slurp(fx.r6);
        ck_assert_ptr_nonnull(strstr(t, "route 2001:db8::53/128 blackhole { bgp_med = 5; };"));
        free(t);
        /* BIRD comes up: the retry applies without any new update. */
        ck_assert_int_eq(fake_bird_start(&fx.fb, fx.e, fx.sock, script), 0);
        wait_configured(&fx, 1);
        ck_assert(st->reachable);
        ck_assert(st->in_sync);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 1);
        teardown(&fx);
}
END_TEST

/* 0005 (queued behind a reconfiguration already running; BIRD 2 answers
 * it too): not confirmed until `configure status` says 0003, and no
 * second configure for it. */
START_TEST(queued_answer_waits_for_configure_status)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        configure_reply = "0005 Reconfiguration already in progress, queueing new config\n";
        status_script(3, (const char *[]){"0005-Reconfiguration in progress, next one enqueued\n"
                                          "0000 \n",
                                          STATUS_BUSY, STATUS_DONE});
        announce(fx.b, "203.0.113.1", -1);
        wait_configured(&fx, 1);
        struct prefix p = pfx("203.0.113.1");
        ck_assert(!backend_bird_stats(fx.b)->in_sync);
        for (int i = 0; i < 500 && !backend_bird_stats(fx.b)->in_sync; i++)
                run_for(fx.e, 10 * 1000);
        ck_assert(backend_bird_stats(fx.b)->in_sync);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p), CONFIRM_CONFIRMED);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure status"), 3);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 1);
        teardown(&fx);
}
END_TEST

/* ---- BIRD 3: 0004 "in progress", confirmed by `configure status` ----
 * On the stepped clock: the polls at 5, 15, 35, 75 ms ... after the
 * answer (each wait twice the last, at most 1 s), for at most 60 s. */

struct stepped {
        struct fixture fx;
        struct fake_clock fc;
};

static void stepped_setup(struct stepped *st)
{
        setup(&st->fx, true);
        fake_clock_init(&st->fc, st->fx.e);
        struct backend_hooks hooks = {.route_sent = on_sent};
        ck_assert_int_eq(
            backend_bird_ops.create(st->fx.e, &st->fc.clock, &st->fx.cfg, &hooks, &st->fx.b), 0);
        fake_clock_settle(&st->fc); /* the startup check */
        configure_reply = "0002-Reading configuration from /etc/bird/bird.conf\n"
                          "0004 Reconfiguration in progress\n";
}

static void stepped_teardown(struct stepped *st)
{
        backend_bird_ops.free(st->fx.b);
        st->fx.b = NULL;
        teardown(&st->fx);
}

static unsigned polls(struct stepped *st)
{
        return fake_bird_count(&st->fx.fb, "configure status");
}

START_TEST(in_progress_then_done)
{
        struct stepped st;
        stepped_setup(&st);
        status_script(3, (const char *[]){STATUS_BUSY, STATUS_BUSY, STATUS_DONE});
        struct prefix p = pfx("203.0.113.1");
        announce(st.fx.b, "203.0.113.1", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_settle(&st.fc);
        const struct bird_stats *bs = backend_bird_stats(st.fx.b);
        ck_assert_uint_eq(bs->configure_ok, 1);
        /* Parsed, so the new file is the one to restore to, but not
         * confirmed yet. */
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_PENDING);
        ck_assert(!bs->in_sync);
        fake_clock_advance(&st.fc, 4999);
        ck_assert_uint_eq(polls(&st), 0);
        fake_clock_advance(&st.fc, 1); /* 5 ms */
        ck_assert_uint_eq(polls(&st), 1);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_PENDING);
        fake_clock_advance(&st.fc, 9999);
        ck_assert_uint_eq(polls(&st), 1);
        fake_clock_advance(&st.fc, 1); /* 15 ms */
        ck_assert_uint_eq(polls(&st), 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_PENDING);
        fake_clock_advance(&st.fc, 20000); /* 35 ms: 0003 */
        ck_assert_uint_eq(polls(&st), 3);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_CONFIRMED);
        ck_assert(bs->in_sync);
        ck_assert_uint_eq(bs->status_polls, 3);
        /* Done: no more polls, no second configure. */
        fake_clock_advance(&st.fc, 10 * 1000 * 1000);
        ck_assert_uint_eq(polls(&st), 3);
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 1);

        /* A change during a wait is configured as usual (here 0005, as
         * BIRD answers while still busy); its answer restarts the wait,
         * and 0003 then confirms both. */
        status_script(1, (const char *[]){STATUS_BUSY});
        announce(st.fx.b, "203.0.113.2", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_settle(&st.fc);
        fake_clock_advance(&st.fc, 5000);
        ck_assert_uint_eq(polls(&st), 4);
        configure_reply = "0005 Reconfiguration already in progress, queueing new config\n";
        announce(st.fx.b, "203.0.113.3", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_advance(&st.fc, 195000); /* the 200 ms window */
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 3);
        struct prefix p2 = pfx("203.0.113.2"), p3 = pfx("203.0.113.3");
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p2), CONFIRM_PENDING);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p3), CONFIRM_PENDING);
        unsigned before = polls(&st);
        status_script(1, (const char *[]){STATUS_DONE});
        fake_clock_advance(&st.fc, 5000); /* 5 ms after the 0005 */
        ck_assert_uint_eq(polls(&st), before + 1);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p2), CONFIRM_CONFIRMED);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p3), CONFIRM_CONFIRMED);
        ck_assert(bs->in_sync);
        stepped_teardown(&st);
}
END_TEST

/* `configure status` refused (an error code): BIRD parsed the files, so
 * neither a refusal of the routes nor a restore; unconfirmed, configured
 * again after the backoff (200 ms), and confirmed by that 0003. */
START_TEST(in_progress_then_status_refused)
{
        struct stepped st;
        stepped_setup(&st);
        status_script(1, (const char *[]){"9001 syntax error, unexpected STATUS\n"});
        struct prefix p = pfx("203.0.113.1");
        announce(st.fx.b, "203.0.113.1", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_advance(&st.fc, 5000);
        ck_assert_uint_eq(polls(&st), 1);
        const struct bird_stats *bs = backend_bird_stats(st.fx.b);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_PENDING);
        ck_assert_uint_eq(bs->configure_failed, 0);
        ck_assert_uint_eq(bs->restores, 0);
        ck_assert_ptr_nonnull(strstr(bs->last_error, "9001"));
        char *t = slurp(st.fx.r4);
        ck_assert_ptr_nonnull(strstr(t, "203.0.113.1/32"));
        free(t);
        ck_assert(!bs->in_sync);
        fake_clock_advance(&st.fc, 199999);
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 1);
        configure_reply = "0003 Reconfigured\n";
        fake_clock_advance(&st.fc, 1);
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_CONFIRMED);
        ck_assert(bs->in_sync);
        ck_assert_str_eq(bs->last_error, "");
        ck_assert_uint_eq(polls(&st), 1);

        /* 0006 (shutting down) is no confirmation either. */
        configure_reply = "0004 Reconfiguration in progress\n";
        status_script(1, (const char *[]){"0006-Shutdown in progress\n0000 \n"});
        announce(st.fx.b, "203.0.113.2", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_advance(&st.fc, 200 * 1000); /* the window after configure 2 */
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 3);
        fake_clock_advance(&st.fc, 5000);
        struct prefix p2 = pfx("203.0.113.2");
        ck_assert_uint_eq(polls(&st), 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p2), CONFIRM_PENDING);
        ck_assert(!bs->in_sync);
        stepped_teardown(&st);
}
END_TEST

/* BIRD reconfigures for ever: the wait ends 60 s after the 0004 (polls at
 * most a second apart), unconfirmed; configure again after the backoff. */
START_TEST(in_progress_times_out)
{
        struct stepped st;
        stepped_setup(&st);
        status_script(1, (const char *[]){STATUS_BUSY});
        struct prefix p = pfx("203.0.113.1");
        announce(st.fx.b, "203.0.113.1", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_settle(&st.fc);
        fake_clock_advance(&st.fc, 1275000); /* 5 ms + 10 + ... + 640 */
        ck_assert_uint_eq(polls(&st), 8);
        fake_clock_advance(&st.fc, 999999); /* the next wait: 1 s, the cap */
        ck_assert_uint_eq(polls(&st), 8);
        fake_clock_advance(&st.fc, 1);
        ck_assert_uint_eq(polls(&st), 9);
        /* 59 s later: still waiting, still pending, one configure. */
        fake_clock_advance(&st.fc, 57 * 1000 * 1000);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_PENDING);
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 1);
        unsigned n = polls(&st);
        ck_assert_uint_ge(n, 9 + 57);
        ck_assert_uint_le(n, 9 + 58);
        fake_clock_advance(&st.fc, 1 * 1000 * 1000); /* past 60 s: given up */
        const struct bird_stats *bs = backend_bird_stats(st.fx.b);
        ck_assert_ptr_nonnull(strstr(bs->last_error, "still reconfiguring"));
        n = polls(&st);
        configure_reply = "0003 Reconfigured\n";
        fake_clock_advance(&st.fc, 200 * 1000); /* the retry backoff */
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 2);
        ck_assert_uint_eq(polls(&st), n);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_CONFIRMED);
        stepped_teardown(&st);
}
END_TEST

/* `configure status` unanswered: the command's own 10 s timeout, BIRD
 * counted unreachable, and configure again once it answers. */
START_TEST(in_progress_status_unanswered)
{
        struct stepped st;
        stepped_setup(&st);
        status_after = FAKE_SILENT;
        struct prefix p = pfx("203.0.113.1");
        announce(st.fx.b, "203.0.113.1", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_advance(&st.fc, 5000);
        ck_assert_uint_eq(polls(&st), 1);
        const struct bird_stats *bs = backend_bird_stats(st.fx.b);
        fake_clock_advance(&st.fc, 10 * 1000 * 1000 - 1);
        ck_assert(bs->reachable);
        fake_clock_advance(&st.fc, 1);
        ck_assert(!bs->reachable);
        ck_assert_uint_eq(bs->unreachable, 1);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_PENDING);
        status_after = FAKE_KEEP;
        configure_reply = "0003 Reconfigured\n";
        fake_clock_advance(&st.fc, 200 * 1000);
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_CONFIRMED);
        ck_assert(bs->reachable && bs->in_sync);
        stepped_teardown(&st);
}
END_TEST

/* Codes decide, never text: "0004 Reconfigured" is in progress, "0003
 * Reconfiguration in progress" is done, and a status line reading "up and
 * running" under 0004 is still in progress. */
START_TEST(text_is_never_matched)
{
        struct stepped st;
        stepped_setup(&st);
        configure_reply = "0004 Reconfigured\n";
        status_script(2, (const char *[]){"0004-Daemon is up and running\n0000 \n",
                                          "0003-Reconfiguration in progress\n0000 \n"});
        struct prefix p = pfx("203.0.113.1");
        announce(st.fx.b, "203.0.113.1", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_advance(&st.fc, 5000);
        ck_assert_uint_eq(polls(&st), 1);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_PENDING);
        fake_clock_advance(&st.fc, 10000);
        ck_assert_uint_eq(polls(&st), 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p), CONFIRM_CONFIRMED);

        configure_reply = "0003 Reconfiguration in progress\n";
        announce(st.fx.b, "203.0.113.2", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_advance(&st.fc, 200 * 1000);
        struct prefix p2 = pfx("203.0.113.2");
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(st.fx.b, &p2), CONFIRM_CONFIRMED);
        fake_clock_advance(&st.fc, 1000 * 1000);
        ck_assert_uint_eq(polls(&st), 2);
        stepped_teardown(&st);
}
END_TEST

static void on_done(void *userdata);

/* SIGTERM during a wait: the stop's own withdraw goes out at once, and
 * the stop does not wait for `configure status`. */
START_TEST(stop_during_wait_withdraws)
{
        struct stepped st;
        stepped_setup(&st);
        status_script(1, (const char *[]){STATUS_BUSY});
        announce(st.fx.b, "203.0.113.1", -1);
        backend_bird_ops.commit(st.fx.b);
        fake_clock_advance(&st.fc, 5000);
        ck_assert_uint_eq(polls(&st), 1);
        bool done = false;
        backend_bird_ops.stop(st.fx.b, true, on_done, &done);
        fake_clock_settle(&st.fc);
        ck_assert(done);
        ck_assert_uint_eq(fake_bird_count(&st.fx.fb, "configure"), 2);
        fake_clock_advance(&st.fc, 10 * 1000 * 1000);
        ck_assert_uint_eq(polls(&st), 1);
        char *t = slurp(st.fx.r4);
        ck_assert_uint_eq(count_lines(t, "route "), 0);
        free(t);
        stepped_teardown(&st);
}
END_TEST

static void on_done(void *userdata)
{
        *(bool *)userdata = true;
}

START_TEST(stop_withdraw_empties_and_configures)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        announce(fx.b, "203.0.113.1", -1);
        announce(fx.b, "2001:db8::1", -1);
        wait_configured(&fx, 1);
        bool done = false;
        backend_bird_ops.stop(fx.b, true, on_done, &done);
        ck_assert(run_until(fx.e, &done, DEADLINE));
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 2);
        char *t4 = slurp(fx.r4), *t6 = slurp(fx.r6);
        ck_assert_uint_eq(count_lines(t4, "route "), 0);
        ck_assert_uint_eq(count_lines(t6, "route "), 0);
        free(t4);
        free(t6);
        teardown(&fx);
}
END_TEST

/* Runs the loop until the fake BIRD has seen n configures. */
static void wait_sent(struct fixture *fx, unsigned n)
{
        for (int i = 0; i < 1000 && fake_bird_count(&fx->fb, "configure") < n; i++)
                run_for(fx->e, 5 * 1000);
        ck_assert_uint_eq(fake_bird_count(&fx->fb, "configure"), n);
}

/* SIGTERM while BIRD is about to refuse the configure in flight: the
 * refusal must not swallow the stop's own withdraw. */
START_TEST(stop_during_refused_configure_still_withdraws)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        announce(fx.b, "203.0.113.1", -1);
        wait_configured(&fx, 1);
        configure_reply = "8002 /etc/bird/bird.conf:3:1 syntax error\n";
        configure_delay = 300 * 1000;
        announce(fx.b, "203.0.113.2", -1);
        wait_sent(&fx, 2); /* in flight, will be refused */
        configure_reply = "0003 Reconfigured\n";
        configure_delay = 0;
        bool done = false;
        backend_bird_ops.stop(fx.b, true, on_done, &done);
        ck_assert(run_until(fx.e, &done, DEADLINE));
        ck_assert_uint_eq(backend_bird_stats(fx.b)->configure_failed, 1);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 3);
        char *t4 = slurp(fx.r4);
        ck_assert_uint_eq(count_lines(t4, "route "), 0);
        free(t4);
        teardown(&fx);
}
END_TEST

/* SIGTERM while the configure in flight loses BIRD: no retry, but the
 * files must say "withdrawn" for BIRD's next start. */
START_TEST(stop_with_bird_lost_midway_writes_files)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        announce(fx.b, "203.0.113.1", -1);
        announce(fx.b, "2001:db8::1", -1);
        wait_configured(&fx, 1);
        configure_reply = "";
        configure_after = FAKE_RESET;
        configure_delay = 300 * 1000;
        announce(fx.b, "203.0.113.2", -1);
        wait_sent(&fx, 2);
        bool done = false;
        backend_bird_ops.stop(fx.b, true, on_done, &done);
        ck_assert(run_until(fx.e, &done, DEADLINE));
        ck_assert(!backend_bird_stats(fx.b)->reachable);
        char *t4 = slurp(fx.r4), *t6 = slurp(fx.r6);
        ck_assert_uint_eq(count_lines(t4, "route "), 0);
        ck_assert_uint_eq(count_lines(t6, "route "), 0);
        free(t4);
        free(t6);
        teardown(&fx);
}
END_TEST

START_TEST(stop_keep_leaves_files_and_adopts_at_start)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        announce(fx.b, "203.0.113.99", 7); /* configured in fx.svc */
        announce(fx.b, "203.0.113.1", -1); /* not configured */
        wait_configured(&fx, 1);
        bool done = false;
        backend_bird_ops.stop(fx.b, false, on_done, &done);
        ck_assert(run_until(fx.e, &done, DEADLINE));
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 1);
        backend_bird_ops.free(fx.b);
        char *t = slurp(fx.r4);
        ck_assert_uint_eq(count_lines(t, "route "), 2);
        free(t);

        /* A new start keeps the configured route until the engine decides
         * it, and drops the unconfigured one with the next write. */
        create(&fx);
        announce(fx.b, "203.0.113.7", -1);
        wait_configured(&fx, 1);
        t = slurp(fx.r4);
        ck_assert_ptr_nonnull(strstr(t, "route 203.0.113.99/32 blackhole { bgp_med = 7; };"));
        ck_assert_ptr_nonnull(strstr(t, "route 203.0.113.7/32 blackhole;"));
        ck_assert_ptr_null(strstr(t, "203.0.113.1/32"));
        free(t);
        teardown(&fx);
}
END_TEST

/* The same path against a real BIRD (no BGP, just its control socket):
 * the snippet's static protocol picks up our routes; a configuration BIRD
 * refuses (here bird.conf itself is broken) gets the last good file back. */
START_TEST(real_bird)
{
        /* the "servers" suite: BIRD must be there (test/run installs it) */
        ck_assert_msg(access("/usr/sbin/bird", X_OK) == 0 && access("/usr/sbin/birdc", X_OK) == 0,
                      "BIRD is not installed (/usr/sbin/bird, /usr/sbin/birdc)");
        const char *src = getenv("AHD_SOURCE_DIR");
        ck_assert_ptr_nonnull(src);
        struct fixture fx;
        setup(&fx, false);
        char cmd[2048], conf[160], snip[160], pid[160], out[160];
        snprintf(conf, sizeof(conf), "%s/bird.conf", fx.dir);
        snprintf(snip, sizeof(snip), "%s/snippet.conf", fx.dir);
        snprintf(pid, sizeof(pid), "%s/bird.pid", fx.dir);
        snprintf(out, sizeof(out), "%s/routes.out", fx.dir);
        snprintf(
            cmd, sizeof(cmd),
            "sed 's#/var/lib/anycast-healthd/bird#%s#' %s/bird-snippets/anycast-healthd.conf >%s",
            fx.dir, src, snip);
        ck_assert_int_eq(system(cmd), 0);
        FILE *f = fopen(conf, "w");
        fprintf(f, "router id 192.0.2.2;\nprotocol device {}\ninclude \"%s\";\n", snip);
        fclose(f);
        /* The backend writes the missing include files before BIRD starts. */
        create(&fx);
        snprintf(cmd, sizeof(cmd), "/usr/sbin/bird -c %s -s %s -P %s", conf, fx.sock, pid);
        ck_assert_int_eq(system(cmd), 0);
        announce(fx.b, "203.0.113.53", 100);
        announce(fx.b, "2001:db8::53", -1);
        announce_to(fx.b, "203.0.113.55", -1, AUDIENCE_CANARIES); /* on trial */
        for (int i = 0; i < 500 && !(configured_n(&fx, 1) && backend_bird_stats(fx.b)->in_sync);
             i++)
                run_for(fx.e, 20 * 1000);
        const struct bird_stats *st = backend_bird_stats(fx.b);
        ck_assert_msg(st->in_sync, "last error: %s", st->last_error);
        snprintf(cmd, sizeof(cmd), "/usr/sbin/birdc -s %s show route all >%s", fx.sock, out);
        ck_assert_int_eq(system(cmd), 0);
        char *t = slurp(out);
        ck_assert_msg(strstr(t, "203.0.113.53/32") && strstr(t, "2001:db8::53/128"), "%s", t);
        ck_assert_msg(strstr(t, "BGP.med: 100"), "%s", t);
        free(t);
        /* the route on trial: in the snippet's canary protocol only */
        snprintf(cmd, sizeof(cmd),
                 "/usr/sbin/birdc -s %s show route protocol anycast_healthd_canary4 >%s", fx.sock,
                 out);
        ck_assert_int_eq(system(cmd), 0);
        t = slurp(out);
        ck_assert_msg(strstr(t, "203.0.113.55/32") && !strstr(t, "203.0.113.53/32"), "%s", t);
        free(t);

        /* Break bird.conf: BIRD refuses the next configure with 8002. */
        char *good = slurp(fx.r4);
        f = fopen(conf, "a");
        fputs("protocol nonsense {\n", f);
        fclose(f);
        uint64_t failed0 = st->configure_failed;
        announce(fx.b, "203.0.113.54", -1);
        for (int i = 0; i < 500 && st->configure_failed == failed0; i++)
                run_for(fx.e, 20 * 1000);
        ck_assert_uint_eq(st->configure_failed, failed0 + 1);
        ck_assert_msg(strstr(st->last_error, "8002"), "%s", st->last_error);
        char *now = slurp(fx.r4);
        ck_assert_str_eq(now, good);
        free(now);
        free(good);
        backend_bird_ops.free(fx.b);
        fx.b = NULL;
        snprintf(cmd, sizeof(cmd), "kill $(cat %s); rm -f %s %s %s %s", pid, pid, conf, snip, out);
        ck_assert_int_eq(system(cmd), 0);
        teardown(&fx);
}
END_TEST

/* ---- canary ---- */

static bool has_route(const char *path, const char *prefix)
{
        char *t = slurp(path);
        char want[128];
        snprintf(want, sizeof(want), "route %s ", prefix);
        bool r = strstr(t, want) != NULL;
        free(t);
        return r;
}

START_TEST(canary_paths)
{
        char *p = bird_canary_path("/var/lib/anycast-healthd/bird/routes4.conf");
        ck_assert_str_eq(p, "/var/lib/anycast-healthd/bird/routes4-canary.conf");
        free(p);
        ck_assert_str_eq((p = bird_canary_path("/d.x/r6")), "/d.x/r6-canary");
        free(p);
        ck_assert_str_eq((p = bird_canary_path("/d/.conf")), "/d/.conf-canary");
        free(p);
        ck_assert_str_eq((p = bird_canary_path("r.a.b")), "r.a-canary.b");
        free(p);
}
END_TEST

/* A route on trial goes to the canary file only; the promotion (same
 * attributes, everyone) moves it to the main file, both families in one
 * write and one configure; nothing more after. */
START_TEST(canary_file_then_promotion_in_one_configure)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        /* written at start, like the main files */
        struct stat st;
        ck_assert_int_eq(stat(fx.c4, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0644);
        char *t = slurp(fx.c6);
        ck_assert_uint_eq(count_lines(t, "route "), 0);
        ck_assert_ptr_nonnull(strstr(t, "# anycast-healthd: 0 IPv6 routes on trial"));
        free(t);

        announce(fx.b, "203.0.113.1", -1); /* an ordinary route beside */
        announce_to(fx.b, "203.0.113.5", 7, AUDIENCE_CANARIES);
        announce_to(fx.b, "2001:db8::5", -1, AUDIENCE_CANARIES);
        wait_configured(&fx, 1);
        ck_assert(has_route(fx.c4, "203.0.113.5/32"));
        ck_assert(!has_route(fx.r4, "203.0.113.5/32"));
        ck_assert(has_route(fx.r4, "203.0.113.1/32"));
        ck_assert(!has_route(fx.c4, "203.0.113.1/32"));
        ck_assert(has_route(fx.c6, "2001:db8::5/128"));
        ck_assert(!has_route(fx.r6, "2001:db8::5/128"));
        t = slurp(fx.c4);
        ck_assert_ptr_nonnull(strstr(t, "route 203.0.113.5/32 blackhole { bgp_med = 7; };"));
        free(t);
        struct prefix p5 = pfx("203.0.113.5");
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_CONFIRMED);

        /* the promotion: only the audience changes */
        announce_to(fx.b, "203.0.113.5", 7, AUDIENCE_EVERYONE);
        announce_to(fx.b, "2001:db8::5", -1, AUDIENCE_EVERYONE);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_PENDING);
        wait_configured(&fx, 2);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 2);
        ck_assert(has_route(fx.r4, "203.0.113.5/32"));
        ck_assert(!has_route(fx.c4, "203.0.113.5/32"));
        ck_assert(has_route(fx.r6, "2001:db8::5/128"));
        ck_assert(!has_route(fx.c6, "2001:db8::5/128"));
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_CONFIRMED);
        /* the same again is nothing new; an unknown audience is everyone */
        announce_to(fx.b, "203.0.113.5", 7, AUDIENCE_EVERYONE);
        announce_to(fx.b, "203.0.113.5", 7, (enum audience)42);
        run_for(fx.e, 300 * 1000);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 2);

        /* a withdraw during a trial leaves both files without it */
        announce_to(fx.b, "203.0.113.6", -1, AUDIENCE_CANARIES);
        wait_configured(&fx, 3);
        ck_assert(has_route(fx.c4, "203.0.113.6/32"));
        struct prefix p6 = pfx("203.0.113.6");
        struct route_update w = {&p6, ROUTE_WITHDRAW, NULL, "svc", "test", 0, AUDIENCE_NONE, NULL};
        backend_bird_ops.update(fx.b, &w);
        wait_configured(&fx, 4);
        ck_assert(!has_route(fx.c4, "203.0.113.6/32"));
        ck_assert(!has_route(fx.r4, "203.0.113.6/32"));
        teardown(&fx);
}
END_TEST

/* BIRD refuses the promotion: both files are put back as BIRD last
 * accepted them (the route on trial still in the canary file). */
START_TEST(refused_promotion_restores_both_files)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        announce_to(fx.b, "203.0.113.5", -1, AUDIENCE_CANARIES);
        wait_configured(&fx, 1);
        char *good4 = slurp(fx.r4), *goodc4 = slurp(fx.c4);
        configure_reply = "8002 /etc/bird/bird.conf:12:3 syntax error\n";
        announce_to(fx.b, "203.0.113.5", -1, AUDIENCE_EVERYONE);
        wait_configured(&fx, 2);
        const struct bird_stats *st = backend_bird_stats(fx.b);
        ck_assert_uint_eq(st->configure_failed, 1);
        ck_assert_uint_eq(st->restores, 2);
        char *now4 = slurp(fx.r4), *nowc4 = slurp(fx.c4);
        ck_assert_str_eq(now4, good4);
        ck_assert_str_eq(nowc4, goodc4);
        ck_assert(has_route(fx.c4, "203.0.113.5/32"));
        free(now4);
        free(nowc4);
        /* accepted again: the retry promotes it */
        configure_reply = "0003 Reconfigured\n";
        wait_configured(&fx, 3);
        ck_assert(has_route(fx.r4, "203.0.113.5/32"));
        ck_assert(!has_route(fx.c4, "203.0.113.5/32"));
        free(good4);
        free(goodc4);
        teardown(&fx);
}
END_TEST

/* BIRD's listing with each route's protocol. */
static void set_listing_protos(const char *const *prefixes, const char *const *protos)
{
        size_t n = (size_t)snprintf(listing, sizeof(listing), "1007-Table master4:\n");
        for (size_t i = 0; prefixes[i]; i++)
                n += (size_t)snprintf(listing + n, sizeof(listing) - n,
                                      " %s      blackhole [%s 17:26:54.987] * (200)\n", prefixes[i],
                                      protos[i]);
        snprintf(listing + n, sizeof(listing) - n, "0000 \n");
}

/* Reconciliation with a route on trial: in the canary protocol it is as
 * asked; in the main one (every peer hears it) or missing it is drift,
 * repaired; promoted, it belongs in the main protocol only. */
START_TEST(reconcile_route_on_trial)
{
        struct fixture fx;
        setup(&fx, true);
        fx.cfg.reconcile.interval_usec = 30 * SEC;
        fx.cfg.reconcile.stuck_after_usec = 100 * SEC;
        struct fake_clock fc;
        fake_clock_init(&fc, fx.e);
        ck_assert_int_eq(backend_bird_ops.create(fx.e, &fc.clock, &fx.cfg, NULL, &fx.b), 0);
        fake_clock_settle(&fc);
        const char *one[] = {"203.0.113.5/32", NULL};
        const char *none[] = {NULL};
        const char *canary4[] = {"anycast_healthd_canary4"}, *main4[] = {"anycast_healthd4"};
        const char *both[] = {"203.0.113.5/32", "203.0.113.5/32", NULL};
        const char *both_p[] = {"anycast_healthd4", "anycast_healthd_canary4"};
        set_listing_protos(one, canary4);
        announce_to(fx.b, "203.0.113.5", -1, AUDIENCE_CANARIES);
        backend_bird_ops.commit(fx.b);
        fake_clock_settle(&fc);
        ck_assert(configured_n(&fx, 1));
        struct prefix p5 = pfx4("203.0.113.5");
        fake_clock_advance(&fc, 1 * SEC);
        ck_assert_uint_eq(counters(&fx).reconcile_passes, 1);
        ck_assert_uint_eq(counters(&fx).drift, 0);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_CONFIRMED);

        /* in the main protocol while on trial: drift, repaired */
        set_listing_protos(one, main4);
        fake_clock_advance(&fc, 30 * SEC);
        ck_assert_uint_eq(counters(&fx).drift, 1);
        ck_assert_uint_eq(fake_bird_count(&fx.fb, "configure"), 2);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_DRIFT);
        set_listing_protos(one, canary4);
        fake_clock_advance(&fc, 1 * SEC);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_CONFIRMED);
        /* in both: still drift (the other peers hear it) */
        set_listing_protos(both, both_p);
        fake_clock_advance(&fc, 30 * SEC);
        ck_assert_uint_eq(counters(&fx).drift, 2);
        set_listing_protos(one, canary4);
        fake_clock_advance(&fc, 1 * SEC);
        /* missing from the canary protocol */
        set_listing_protos(none, NULL);
        fake_clock_advance(&fc, 30 * SEC);
        ck_assert_uint_eq(counters(&fx).drift, 3);
        set_listing_protos(one, canary4);
        fake_clock_advance(&fc, 1 * SEC);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_CONFIRMED);

        /* promoted: the main protocol is right, the canary one drift */
        set_listing_protos(one, main4);
        announce_to(fx.b, "203.0.113.5", -1, AUDIENCE_EVERYONE);
        backend_bird_ops.commit(fx.b);
        fake_clock_settle(&fc);
        fake_clock_advance(&fc, 1 * SEC);
        ck_assert_uint_eq(counters(&fx).drift, 3);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_CONFIRMED);
        set_listing_protos(one, canary4);
        fake_clock_advance(&fc, 30 * SEC);
        ck_assert_uint_eq(counters(&fx).drift, 4);
        ck_assert_int_eq(backend_bird_ops.confirmed(fx.b, &p5), CONFIRM_DRIFT);
        backend_bird_ops.free(fx.b);
        fx.b = NULL;
        teardown(&fx);
}
END_TEST

/* A clean stop with on_exit "keep" during a trial: the route stays in the
 * canary file, and the next start adopts it there (not in the main file)
 * until the engine decides it. */
START_TEST(keep_adopts_route_on_trial)
{
        struct fixture fx;
        setup(&fx, true);
        create(&fx);
        announce_to(fx.b, "203.0.113.99", -1, AUDIENCE_CANARIES); /* configured in fx.svc */
        wait_configured(&fx, 1);
        bool done = false;
        backend_bird_ops.stop(fx.b, false, on_done, &done);
        ck_assert(run_until(fx.e, &done, DEADLINE));
        backend_bird_ops.free(fx.b);
        create(&fx);
        announce(fx.b, "203.0.113.7", -1);
        wait_configured(&fx, 1);
        ck_assert(has_route(fx.c4, "203.0.113.99/32"));
        ck_assert(!has_route(fx.r4, "203.0.113.99/32"));
        ck_assert(has_route(fx.r4, "203.0.113.7/32"));
        teardown(&fx);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("bird_backend");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, missing_files_written_empty_at_start);
        tcase_add_test(tc, burst_is_one_write_one_configure);
        tcase_add_test(tc, route_sent_once_per_configure_from_the_oldest);
        tcase_add_test(tc, refused_configure_restores_last_good);
        tcase_add_test(tc, one_configure_in_flight);
        tcase_add_test(tc, lone_change_goes_out_at_once_burst_waits_for_the_window);
        tcase_add_test(tc, window_is_exact_on_a_stepped_clock);
        tcase_add_test(tc, reconcile_repairs_drift_and_reports_stuck);
        tcase_add_test(tc, bird_away_files_current_then_applied);
        tcase_add_test(tc, queued_answer_waits_for_configure_status);
        tcase_add_test(tc, in_progress_then_done);
        tcase_add_test(tc, in_progress_then_status_refused);
        tcase_add_test(tc, in_progress_times_out);
        tcase_add_test(tc, in_progress_status_unanswered);
        tcase_add_test(tc, text_is_never_matched);
        tcase_add_test(tc, stop_during_wait_withdraws);
        tcase_add_test(tc, stop_withdraw_empties_and_configures);
        tcase_add_test(tc, stop_during_refused_configure_still_withdraws);
        tcase_add_test(tc, stop_with_bird_lost_midway_writes_files);
        tcase_add_test(tc, stop_keep_leaves_files_and_adopts_at_start);
        tcase_add_test(tc, confirmation_per_prefix);
        tcase_add_test(tc, attribute_change_rerenders);
        tcase_add_test(tc, canary_paths);
        tcase_add_test(tc, canary_file_then_promotion_in_one_configure);
        tcase_add_test(tc, refused_promotion_restores_both_files);
        tcase_add_test(tc, reconcile_route_on_trial);
        tcase_add_test(tc, keep_adopts_route_on_trial);
        suite_add_tcase(s, tc);
        /* a real BIRD: run apart, in the "servers" suite (meson.build) */
        TCase *real = tcase_create("real_bird");
        tcase_set_timeout(real, 60);
        tcase_add_test(real, real_bird);
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
