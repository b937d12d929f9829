/* test_plugin_events.c: event-driven results (ABI 1.1) end to end through
 * the real plugin host: plugins built against the ABI 1.0 header still load
 * and work; unsolicited reports from loop-safe and worker plugins reach the
 * runner's receiver; the process check reports a killed process's exit at
 * once; the systemd check reports a unit that fails at once, against a
 * private-bus stand-in (dbus-daemon + fake_systemd.c): the test machines
 * have no systemd as PID 1, and flipping a real unit needs root on a real
 * host. The output says which ran. Latencies are printed; the assertions
 * on them are generous. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "anycast-healthd-check.h"
#include "fake_systemd.h"
#include "plugin_fixture.h"

#define LATENCY_BOUND_USEC 1000000 /* generous; typical is well under 10 ms */

/* ---- ABI ---- */

static void v1_case(const char *plugin)
{
        struct fx_svc *s = fx_svc1(plugin, "{ \"code\": 1, \"message\": \"old\" }");
        struct check_runner *r = fx_runner(s);
        struct fx_res res = fx_probe(r, 5000000);
        ck_assert_int_eq(res.code, 1);
        char want[128];
        snprintf(want, sizeof(want), "old (host struct %zu bytes, abi 1, clock ok)",
                 sizeof(struct ahc_host));
        ck_assert_str_eq(res.msg, want);
        check_runner_free(r);
        fx_svc_free(s);
}

START_TEST(test_v1_loop_plugin)
{
        v1_case("v1loop");
}
END_TEST

START_TEST(test_v1_worker_plugin)
{
        v1_case("v1worker");
}
END_TEST

/* ---- reports ---- */

START_TEST(test_reports_in_order_beside_probes)
{
        struct fx_svc *s = fx_svc1("event", "{ \"code\": 2, \"every_ms\": 20, \"count\": 3 }");
        struct check_runner *r = fx_runner(s);
        struct fx_res rep = {0};
        check_runner_set_report_fn(r, fx_on_report, &rep);
        fx_run_until(&rep.n, 1, 5000000);
        ck_assert_int_eq(rep.code, 2);
        ck_assert_str_eq(rep.msg, "event 1");
        /* a probe in between is answered on its own */
        struct fx_res res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, 0);
        ck_assert_str_eq(res.msg, "polled");
        fx_run_until(&rep.n, 3, 5000000);
        ck_assert_str_eq(rep.msg, "event 3");
        fx_run_for(100000);
        ck_assert_int_eq(rep.n, 3);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_reports_wait_for_receiver)
{
        struct fx_svc *s = fx_svc1("event", "{ \"code\": 3, \"every_ms\": 1, \"count\": 2 }");
        struct check_runner *r = fx_runner(s);
        fx_run_for(100000); /* both reported, nobody listening yet */
        struct fx_res rep = {0};
        check_runner_set_report_fn(r, fx_on_report, &rep);
        ck_assert_int_eq(rep.n, 0); /* never from within the setter */
        fx_run_until(&rep.n, 2, 5000000);
        ck_assert_int_eq(rep.code, 3);
        ck_assert_str_eq(rep.msg, "event 2");
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_report_from_worker)
{
        struct fx_svc *s = fx_svc1("eventw", "{ \"code\": 1 }");
        struct check_runner *r = fx_runner(s);
        ck_assert_int_gt(check_runner_worker_pid(r), 0);
        struct fx_res rep = {0};
        check_runner_set_report_fn(r, fx_on_report, &rep);
        struct fx_res res = fx_probe(r, 5000000);
        ck_assert_int_eq(res.code, 0);
        fx_run_until(&rep.n, 1, 5000000);
        ck_assert_int_eq(rep.code, 1);
        ck_assert_str_eq(rep.msg, "from worker");
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

/* ---- process ---- */

static pid_t spawn_sleeper(void)
{
        pid_t p = fork();
        ck_assert_int_ge(p, 0);
        if (p == 0) {
                execlp("sleep", "sleep", "600", (char *)NULL);
                _exit(127);
        }
        return p;
}

/* Kills pid and returns how long the report took to arrive. */
static uint64_t kill_and_wait_report(pid_t pid, struct fx_res *rep)
{
        int before = rep->n;
        uint64_t t0 = fx_now();
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        fx_run_until(&rep->n, before + 1, 10000000);
        uint64_t took = rep->at - t0;
        waitpid(pid, NULL, 0);
        return took;
}

START_TEST(test_process_pid_event)
{
        pid_t child = spawn_sleeper();
        char opts[64], want[64];
        snprintf(opts, sizeof(opts), "{ \"pid\": %d }", (int)child);
        struct fx_svc *s = fx_svc1("process", opts);
        struct check_runner *r = fx_runner(s);
        struct fx_res rep = {0};
        check_runner_set_report_fn(r, fx_on_report, &rep);
        struct fx_res res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_OK);
        snprintf(want, sizeof(want), "process %d running", (int)child);
        ck_assert_str_eq(res.msg, want);
        ck_assert_int_eq(rep.n, 0); /* alive: nothing to report */

        uint64_t took = kill_and_wait_report(child, &rep);
        printf("process check: exit of a killed process reported after %.3f ms\n", took / 1000.0);
        ck_assert_uint_lt(took, LATENCY_BOUND_USEC);
        ck_assert_int_eq(rep.code, AHC_CRITICAL);
        snprintf(want, sizeof(want), "process %d exited", (int)child);
        ck_assert_str_eq(rep.msg, want);
        res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_CRITICAL);
        snprintf(want, sizeof(want), "process %d is not running", (int)child);
        ck_assert_str_eq(res.msg, want);
        fx_run_for(50000);
        ck_assert_int_eq(rep.n, 1); /* once, not at every poll */
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

static void write_pidfile(const char *path, pid_t pid)
{
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
}

START_TEST(test_process_pidfile_follows_restart)
{
        char pidfile[300], opts[400], want[64];
        snprintf(pidfile, sizeof(pidfile), "%s/svc.pid", fx_plugdir);
        snprintf(opts, sizeof(opts), "{ \"pidfile\": \"%s\" }", pidfile);
        struct fx_svc *s = fx_svc1("process", opts);
        struct check_runner *r = fx_runner(s); /* no pidfile yet: not an error */
        struct fx_res rep = {0};
        check_runner_set_report_fn(r, fx_on_report, &rep);
        struct fx_res res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_CRITICAL);
        ck_assert_ptr_nonnull(strstr(res.msg, "No such file or directory"));

        pid_t first = spawn_sleeper();
        write_pidfile(pidfile, first);
        res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_OK);
        uint64_t took = kill_and_wait_report(first, &rep);
        printf("process check (pidfile): exit reported after %.3f ms\n", took / 1000.0);
        ck_assert_uint_lt(took, LATENCY_BOUND_USEC);
        ck_assert_int_eq(rep.code, AHC_CRITICAL);

        pid_t second = spawn_sleeper(); /* "restarted": a new pid in the file */
        write_pidfile(pidfile, second);
        res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_OK);
        snprintf(want, sizeof(want), "process %d running", (int)second);
        ck_assert_str_eq(res.msg, want);
        took = kill_and_wait_report(second, &rep); /* the new one is watched too */
        ck_assert_int_eq(rep.n, 2);

        write_pidfile(pidfile, 0);
        res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_CRITICAL);
        ck_assert_ptr_nonnull(strstr(res.msg, "no pid in it"));
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_process_options)
{
        struct fx_svc *s = fx_svc1("process", "{ \"pid\": 1, \"pidfile\": \"/run/x.pid\" }");
        struct check_runner *r = NULL;
        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r), -EINVAL);
        ck_assert_ptr_nonnull(diag_find(&fx_diag, "give either \"pid\" or \"pidfile\""));
        fx_svc_free(s);
        s = fx_svc1("process", "{ \"pidfile\": \"x.pid\" }");
        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r), -EINVAL);
        ck_assert_ptr_nonnull(diag_find(&fx_diag, "option \"pidfile\": must be an absolute path"));
        fx_svc_free(s);
        s = fx_svc1("process", "{}");
        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r), -EINVAL);
        ck_assert_ptr_nonnull(diag_find(&fx_diag, "\"pid\" or \"pidfile\" is required"));
        fx_svc_free(s);
}
END_TEST

/* ---- systemd ---- */

static char busdir[300];
static char *bus_address;
static pid_t bus_pid;
static struct fake_systemd *fake;

static void bus_setup(void)
{
        fx_setup();
        snprintf(busdir, sizeof(busdir), "%s/dbus", fx_plugdir);
        ck_assert_int_eq(mkdir(busdir, 0700), 0);
        ck_assert_int_eq(fake_bus_start(busdir, &bus_address, &bus_pid), 0);
        int r = -1;
        for (int i = 0; i < 100 && r < 0; i++) {
                r = fake_systemd_new(fx_loop, bus_address, &fake);
                if (r < 0)
                        usleep(20000); /* the socket may not listen yet */
        }
        ck_assert_int_eq(r, 0);
}

static void bus_teardown(void)
{
        fake_systemd_free(fake);
        fake = NULL;
        fake_bus_stop(bus_pid);
        free(bus_address);
        fx_teardown();
}

START_TEST(test_systemd_unit_fails_at_once)
{
        printf("systemd check: this run uses the private-bus stand-in (dbus-daemon at %s "
               "serving a fake org.freedesktop.systemd1)%s\n",
               bus_address,
               access("/run/systemd/system", F_OK) == 0 ? "" : "; no systemd runs as PID 1 here");
        ck_assert_int_eq(fake_systemd_set(fake, "web.service", "active", "running"), 0);
        char opts[600];
        snprintf(opts, sizeof(opts), "{ \"unit\": \"web.service\", \"bus\": \"%s\" }", bus_address);
        struct fx_svc *s = fx_svc1("systemd", opts);
        struct check_runner *r = fx_runner(s);
        struct fx_res rep = {0};
        check_runner_set_report_fn(r, fx_on_report, &rep);
        /* the first state becomes known (and is reported) without a poll */
        fx_run_until(&rep.n, 1, 10000000);
        ck_assert_int_eq(rep.code, AHC_OK);
        ck_assert_str_eq(rep.msg, "unit web.service is active (running)");
        ck_assert_uint_ge(fake_systemd_subscribers(fake), 1);
        struct fx_res res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_OK);
        ck_assert_str_eq(res.msg, "unit web.service is active (running)");

        uint64_t t0 = fx_now();
        ck_assert_int_eq(fake_systemd_set(fake, "web.service", "failed", "failed"), 0);
        fx_run_until(&rep.n, 2, 10000000);
        uint64_t took = rep.at - t0;
        printf("systemd check: unit failure reported after %.3f ms\n", took / 1000.0);
        ck_assert_uint_lt(took, LATENCY_BOUND_USEC);
        ck_assert_int_eq(rep.code, AHC_CRITICAL);
        ck_assert_str_eq(rep.msg, "unit web.service is failed (failed)");
        res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_CRITICAL);

        /* a change within the same result is no new report; back up is */
        ck_assert_int_eq(fake_systemd_set(fake, "web.service", "inactive", "dead"), 0);
        ck_assert_int_eq(fake_systemd_set(fake, "web.service", "active", "running"), 0);
        fx_run_until(&rep.n, 3, 10000000);
        ck_assert_int_eq(rep.code, AHC_OK);
        fx_run_for(100000);
        ck_assert_int_eq(rep.n, 3);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_systemd_unknown_unit_and_lost_bus)
{
        char opts[600];
        snprintf(opts, sizeof(opts), "{ \"unit\": \"nope.service\", \"bus\": \"%s\" }",
                 bus_address);
        struct fx_svc *s = fx_svc1("systemd", opts);
        struct check_runner *r = fx_runner(s);
        struct fx_res res = fx_probe(r, 5000000); /* waits for the first state */
        ck_assert_int_eq(res.code, AHC_CRITICAL);
        ck_assert_str_eq(res.msg, "unit nope.service is not found (inactive)");

        fake_systemd_free(fake);
        fake = NULL;
        fake_bus_stop(bus_pid);
        bus_pid = -1;
        fx_run_for(200000);
        res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, AHC_UNKNOWN);
        ck_assert_msg(strstr(res.msg, "bus connection lost") || strstr(res.msg, "cannot connect"),
                      "%s", res.msg);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_systemd_options)
{
        struct fx_svc *s = fx_svc1("systemd", "{ \"bus\": \"session\" }");
        struct check_runner *r = NULL;
        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r), -EINVAL);
        ck_assert_ptr_nonnull(diag_find(&fx_diag, "\"unit\" is required"));
        fx_svc_free(s);
        s = fx_svc1("systemd", "{ \"unit\": \"a.service\", \"bus\": \"session\" }");
        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r), -EINVAL);
        ck_assert_ptr_nonnull(
            diag_find(&fx_diag, "must be \"system\" or a D-Bus address, not \"session\""));
        fx_svc_free(s);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("plugin_events");
        TCase *abi = tcase_create("abi");
        tcase_add_checked_fixture(abi, fx_setup, fx_teardown);
        tcase_add_test(abi, test_v1_loop_plugin);
        tcase_add_test(abi, test_v1_worker_plugin);
        suite_add_tcase(s, abi);
        TCase *rep = tcase_create("reports");
        tcase_add_checked_fixture(rep, fx_setup, fx_teardown);
        tcase_add_test(rep, test_reports_in_order_beside_probes);
        tcase_add_test(rep, test_reports_wait_for_receiver);
        tcase_add_test(rep, test_report_from_worker);
        suite_add_tcase(s, rep);
        TCase *proc = tcase_create("process");
        tcase_add_checked_fixture(proc, fx_setup, fx_teardown);
        tcase_add_test(proc, test_process_pid_event);
        tcase_add_test(proc, test_process_pidfile_follows_restart);
        tcase_add_test(proc, test_process_options);
        suite_add_tcase(s, proc);
        TCase *sd = tcase_create("systemd");
        tcase_add_checked_fixture(sd, bus_setup, bus_teardown);
        tcase_set_timeout(sd, 60);
        tcase_add_test(sd, test_systemd_unit_fails_at_once);
        tcase_add_test(sd, test_systemd_unknown_unit_and_lost_bus);
        tcase_add_test(sd, test_systemd_options);
        suite_add_tcase(s, sd);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
