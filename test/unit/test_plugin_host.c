/* test_plugin_host.c: the plugin host on a real sd-event loop with real
 * plugins: the loader's refusals, option problems with positions, exec,
 * tcp, and worker isolation (crash, hang, leak, no delay of others).
 *
 * Plugins are copied (not symlinked: the loader refuses links that leave
 * plugin_dir) from $AHD_BUILD_DIR/checks and checks/testing into a
 * temporary plugin directory per test. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "plugin_fixture.h"
#include "jsonpos.h"
#include "plugin_host.h"
#include "plugin_load.h"
#include "worker.h"

/* ---- loader ---- */

START_TEST(test_load_wrong_abi)
{
        ck_assert_int_lt(fx_refused("badabi", "{}"), 0);
        const struct diag_msg *m =
            fx_expect_diag("plugin \"badabi\": ABI version 7, this daemon speaks 1");
        ck_assert_str_eq(m->file, "svc.json");
        ck_assert_int_eq(m->line, 5); /* the "plugin" key */
        ck_assert_int_eq(m->column, 7);
}
END_TEST

START_TEST(test_load_missing_symbol)
{
        ck_assert_int_lt(fx_refused("nosym", "{}"), 0);
        fx_expect_diag("exports no anycast_healthd_check_plugin");
}
END_TEST

START_TEST(test_load_misnamed)
{
        ck_assert_int_lt(fx_refused("misnamed", "{}"), 0);
        fx_expect_diag("plugin \"misnamed\": descriptor names itself \"other\"");
}
END_TEST

START_TEST(test_load_symlink_escape)
{
        char target[512], link[512];
        snprintf(target, sizeof(target), "%s/checks/testing/result.so", getenv("AHD_BUILD_DIR"));
        snprintf(link, sizeof(link), "%s/evil.so", fx_plugdir);
        ck_assert_int_eq(symlink(target, link), 0);
        ck_assert_int_lt(fx_refused("evil", "{}"), 0);
        fx_expect_diag("plugin \"evil\": ");
        fx_expect_diag("lies outside");
}
END_TEST

START_TEST(test_load_name_with_slash)
{
        ck_assert_int_lt(fx_refused("../checks/exec", "{}"), 0);
        fx_expect_diag("plugin name \"../checks/exec\" is not valid");
        ck_assert_int_lt(fx_refused("", "{}"), 0);
        ck_assert_int_eq(fx_diag.n, 2);
}
END_TEST

START_TEST(test_load_unknown)
{
        ck_assert_int_lt(fx_refused("nope", "{}"), 0);
        char want[512];
        snprintf(want, sizeof(want), "unknown plugin \"nope\" (no nope.so in %s)", fx_plugdir);
        fx_expect_diag(want);
}
END_TEST

START_TEST(test_load_once)
{
        struct fx_svc *s = fx_svc1("async", "{}");
        struct check_runner *a = fx_runner(s), *b = fx_runner(s);
        ck_assert_int_eq(fx_diag.n, 0);
        /* a second copy under the same name changes nothing: loaded once */
        char path[512];
        snprintf(path, sizeof(path), "%s/async.so", fx_plugdir);
        ck_assert_int_eq(unlink(path), 0);
        struct check_runner *c = fx_runner(s);
        check_runner_free(a);
        check_runner_free(b);
        check_runner_free(c);
        fx_svc_free(s);
}
END_TEST

/* plugin_load straight from a registry on dir, so a test can point it at
 * directories of its own; the reason lands in err. */
static int load_from(const char *dir, const char *name, char *err, size_t errsz)
{
        struct plugin_registry reg;
        ck_assert_int_eq(plugin_registry_init(&reg, dir), 0);
        const struct ahc_plugin *p = NULL;
        err[0] = '\0';
        int r = plugin_load(&reg, name, &p, err, errsz);
        ck_assert(r < 0 || p != NULL);
        plugin_registry_done(&reg);
        return r;
}

START_TEST(test_load_dir_writable_by_others)
{
        char err[1024], want[1024];
        ck_assert_int_eq(chmod(fx_plugdir, 0777), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "result", err, sizeof(err)), -EPERM);
        snprintf(want, sizeof(want),
                 "plugin directory %s (owner uid 0, mode 0777) is writable by group and others, "
                 "who could run code in the daemon; chmod go-w %s",
                 fx_plugdir, fx_plugdir);
        ck_assert_str_eq(err, want);
        /* sticky is no excuse for plugin_dir itself: anyone may add a file */
        ck_assert_int_eq(chmod(fx_plugdir, 01777), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "result", err, sizeof(err)), -EPERM);
        ck_assert_ptr_nonnull(strstr(err, "mode 1777) is writable by group and others"));
        ck_assert_int_eq(chmod(fx_plugdir, 0775), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "result", err, sizeof(err)), -EPERM);
        ck_assert_ptr_nonnull(strstr(err, "mode 0775) is writable by group,"));
        /* and it reaches the service's diag at the "plugin" key */
        ck_assert_int_lt(fx_refused("result", "{}"), 0);
        const struct diag_msg *m = fx_expect_diag("plugin directory");
        ck_assert_int_eq(m->line, 5);
        ck_assert_int_eq(chmod(fx_plugdir, 0755), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "result", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_load_parent_writable_by_others)
{
        char ww[300], dir[320], cmd[1400], err[1024];
        snprintf(ww, sizeof(ww), "%s/ww", fx_plugdir);
        snprintf(dir, sizeof(dir), "%s/plugins", ww);
        snprintf(cmd, sizeof(cmd), "mkdir -m 0755 %s %s && cp -p %s/result.so %s/", ww, dir,
                 fx_plugdir, dir);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(load_from(dir, "result", err, sizeof(err)), 0);
        /* a world-writable parent lets anyone rename plugins/ away and put
         * their own in its place; a sticky one (like /tmp, where fx_plugdir
         * lives) does not, since root owns plugins/ */
        ck_assert_int_eq(chmod(ww, 0757), 0);
        ck_assert_int_eq(load_from(dir, "result", err, sizeof(err)), -EPERM);
        char want[1024];
        snprintf(want, sizeof(want), "directory above plugin_dir %s (owner uid 0, mode 0757)", ww);
        ck_assert_ptr_nonnull(strstr(err, want));
        ck_assert_int_eq(chmod(ww, 01777), 0);
        ck_assert_int_eq(load_from(dir, "result", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_load_file_group_writable)
{
        char path[300], err[1024], want[1024];
        snprintf(path, sizeof(path), "%s/tcp.so", fx_plugdir);
        ck_assert_int_eq(chmod(path, 0775), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "tcp", err, sizeof(err)), -EPERM);
        snprintf(want, sizeof(want),
                 "plugin \"tcp\": file %s (owner uid 0, mode 0775) is writable by group, who "
                 "could run code in the daemon; chmod go-w %s",
                 path, path);
        ck_assert_str_eq(err, want);
        ck_assert_int_eq(chmod(path, 0644), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "tcp", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_load_file_foreign_owner)
{
        ck_assert_int_eq(geteuid(), 0); /* chown needs root, as CI runs the tests */
        char path[300], err[1024], want[1024];
        snprintf(path, sizeof(path), "%s/async.so", fx_plugdir);
        ck_assert_int_eq(chown(path, 65534, 65534), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "async", err, sizeof(err)), -EPERM);
        snprintf(want, sizeof(want),
                 "plugin \"async\": file %s (owner uid 65534, mode 0755) is owned by neither root "
                 "nor the daemon's uid 0, so its owner could run code in the daemon; chown root %s",
                 path, path);
        ck_assert_str_eq(err, want);
        /* nor a file that is no file */
        char fifo[300];
        snprintf(fifo, sizeof(fifo), "%s/fifo.so", fx_plugdir);
        ck_assert_int_eq(mkfifo(fifo, 0644), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "fifo", err, sizeof(err)), -EPERM);
        ck_assert_ptr_nonnull(strstr(err, "is not a regular file"));
        ck_assert_int_eq(chown(path, 0, 0), 0);
        ck_assert_int_eq(load_from(fx_plugdir, "async", err, sizeof(err)), 0);
}
END_TEST

/* ---- options ---- */

START_TEST(test_opts_positions)
{
        const char *text = "{\n"
                           "  \"name\": \"svc\",\n"
                           "  \"checks\": [\n"
                           "    { \"plugin\": \"tcp\",\n"
                           "      \"options\": {\n"
                           "        \"host\": \"127.0.0.1\",\n"
                           "        \"port\": \"http\",\n"
                           "        \"hots\": 1\n"
                           "      } },\n"
                           "    { \"plugin\": \"exec\", \"options\": {} }\n"
                           "  ]\n"
                           "}\n";
        struct fx_svc *s = fx_svc_new(text);
        struct check_runner *r = NULL;
        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r), -EINVAL);
        const struct diag_msg *m =
            fx_expect_diag("plugin \"tcp\": option \"port\": expected an integer");
        ck_assert_int_eq(m->line, 7);
        ck_assert_int_eq(m->column, 9);
        m = fx_expect_diag("plugin \"tcp\": option \"hots\": unknown option");
        ck_assert_int_eq(m->line, 8);
        ck_assert_int_eq(fx_diag.n, 2);

        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 1, &fx_diag, &r), -EINVAL);
        m = fx_expect_diag("plugin \"exec\": options: \"command\" is required");
        ck_assert_int_eq(m->line, 10);
        ck_assert_int_eq(m->column, 25);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_opts_tcp_values)
{
        struct fx_svc *s =
            fx_svc1("tcp", "{ \"host\": \"localhost\", \"port\": 70000, \"source\": \"::1\" }");
        struct check_runner *r = NULL;
        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r), -EINVAL);
        fx_expect_diag("option \"port\": must be between 1 and 65535, not 70000");
        fx_expect_diag("option \"host\": \"localhost\" is not an IP address");
        fx_svc_free(s);
}
END_TEST

/* A worker plugin's problems come back through its handshake, positioned. */
START_TEST(test_opts_worker_positions)
{
        struct fx_svc *s = fx_svc1("result", "{ \"message\": \"x\",\n \"code\": 9 }");
        struct check_runner *r = NULL;
        ck_assert_int_eq(check_runner_new(fx_host, &s->cfg, 0, &fx_diag, &r), -EINVAL);
        const struct diag_msg *m =
            fx_expect_diag("plugin \"result\": option \"code\": must be 0, 1, 2 or 3");
        ck_assert_int_eq(m->line, 7);
        ck_assert_int_eq(m->column, 2);
        ck_assert_int_eq(fx_diag.n, 1);
        fx_svc_free(s);
}
END_TEST

/* --check-config: no loop, validation only, nothing left running. */
START_TEST(test_opts_validate_only)
{
        struct plugin_host *v;
        ck_assert_int_eq(plugin_host_new(NULL, fx_plugdir, &v), 0);
        struct fx_svc *good = fx_svc1("result", "{ \"code\": 1 }");
        struct fx_svc *bad = fx_svc1("result", "{ \"cod\": 1 }");
        struct check_runner *r = NULL;
        ck_assert_int_eq(check_runner_new(v, &good->cfg, 0, &fx_diag, &r), 0);
        ck_assert_int_eq(check_runner_worker_pid(r), -1);
        ck_assert_int_eq(check_runner_start(r, 1000000, fx_on_result, NULL), -ENOTCONN);
        check_runner_free(r);
        ck_assert_int_eq(check_runner_new(v, &bad->cfg, 0, &fx_diag, &r), -EINVAL);
        fx_expect_diag("option \"cod\": unknown option");
        plugin_host_free(v);
        fx_svc_free(good);
        fx_svc_free(bad);
}
END_TEST

/* ---- loop-safe timing and delivery ---- */

START_TEST(test_sync_done_deferred)
{
        struct fx_svc *s =
            fx_svc1("async", "{ \"sync\": true, \"code\": 1, \"message\": \"a\\nb\" }");
        struct check_runner *r = fx_runner(s);
        struct fx_res res = fx_probe(r, 1000000);
        ck_assert_int_eq(res.code, 1);
        ck_assert_str_eq(res.msg, "a");
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_busy)
{
        struct fx_svc *s = fx_svc1("async", "{ \"delay_ms\": 50 }");
        struct check_runner *r = fx_runner(s);
        struct fx_res res = {0};
        ck_assert_int_eq(check_runner_start(r, 5000000, fx_on_result, &res), 0);
        ck_assert_int_eq(check_runner_start(r, 5000000, fx_on_result, &res), -EBUSY);
        fx_run_until(&res.n, 1, 10000000);
        ck_assert_int_eq(res.code, 0);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_loop_safe_timeout_and_late_done)
{
        struct fx_svc *s = fx_svc1("async", "{ \"delay_ms\": 400, \"late\": true, \"code\": 0 }");
        struct check_runner *r = fx_runner(s);
        struct fx_res res = {0};
        ck_assert_int_eq(check_runner_start(r, 100000, fx_on_result, &res), 0);
        fx_run_until(&res.n, 1, 10000000);
        ck_assert_int_eq(res.code, 2);
        ck_assert_str_eq(res.msg, "timed out after 100ms");
        fx_run_for(700000); /* the plugin answers late: ignored */
        ck_assert_int_eq(res.n, 1);
        struct fx_res again = fx_probe(r, 2000000);
        ck_assert_int_eq(again.code, 0);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_free_in_flight)
{
        struct fx_svc *s = fx_svc1("async", "{ \"delay_ms\": 100 }");
        struct check_runner *r = fx_runner(s);
        struct fx_res res = {0};
        ck_assert_int_eq(check_runner_start(r, 5000000, fx_on_result, &res), 0);
        check_runner_free(r);
        fx_run_for(300000);
        ck_assert_int_eq(res.n, 0);
        fx_svc_free(s);
}
END_TEST

/* ---- exec ---- */

/* One probe of `sh -c "echo first N; echo second; exit N"` with extra
 * options (e.g. ", \"convention\": \"nagios\""). */
static struct fx_res exec_exit(int code, const char *extra)
{
        char opts[300];
        snprintf(opts, sizeof(opts),
                 "{ \"command\": [\"/bin/sh\", \"-c\", \"echo first %d; echo second; "
                 "exit %d\"]%s }",
                 code, code, extra);
        return fx_probe1("exec", opts, 5000000);
}

START_TEST(test_exec_unix_codes)
{
        /* the default and the explicit "unix" agree: only 0 passes, and a
         * plain exit 1 withdraws instead of degrading */
        const char *extras[] = {"", ", \"convention\": \"unix\""};
        for (size_t e = 0; e < 2; e++)
                for (int code = 0; code <= 4; code++) {
                        struct fx_res res = exec_exit(code, extras[e]);
                        char want[64];
                        snprintf(want, sizeof(want),
                                 code == 0 ? "first %d" : "exit code %d: first %d", code, code);
                        ck_assert_int_eq(res.code, code == 0 ? AHC_OK : AHC_CRITICAL);
                        ck_assert_str_eq(res.msg, want);
                }
        struct fx_res res = fx_probe1("exec", "{ \"command\": [\"/bin/false\"] }", 5000000);
        ck_assert_int_eq(res.code, AHC_CRITICAL);
        ck_assert_str_eq(res.msg, "exit code 1");
}
END_TEST

START_TEST(test_exec_nagios_codes)
{
        for (int code = 0; code <= 4; code++) {
                struct fx_res res = exec_exit(code, ", \"convention\": \"nagios\"");
                char want[64];
                snprintf(want, sizeof(want), code == 4 ? "exit code 4: first %d" : "first %d",
                         code);
                ck_assert_int_eq(res.code, code <= 3 ? code : AHC_UNKNOWN);
                ck_assert_str_eq(res.msg, want);
        }
}
END_TEST

START_TEST(test_exec_signal)
{
        const char *opts[] = {
            "{ \"command\": [\"/bin/sh\", \"-c\", \"kill -9 $$\"] }",
            "{ \"command\": [\"/bin/sh\", \"-c\", \"kill -9 $$\"], \"convention\": \"nagios\" }",
        };
        for (size_t i = 0; i < 2; i++) {
                struct fx_res res = fx_probe1("exec", opts[i], 5000000);
                ck_assert_int_eq(res.code, AHC_CRITICAL);
                ck_assert_str_eq(res.msg, "killed by signal 9");
        }
}
END_TEST

START_TEST(test_exec_bad_convention)
{
        ck_assert_int_lt(
            fx_refused("exec", "{ \"command\": [\"/bin/true\"],\n \"convention\": \"Nagios\" }"),
            0);
        const struct diag_msg *m = fx_expect_diag("plugin \"exec\": option \"convention\": must be "
                                                  "\"unix\" or \"nagios\", not \"Nagios\"");
        ck_assert_str_eq(m->file, "svc.json");
        ck_assert_int_eq(m->line, 7); /* the "convention" key */
        ck_assert_int_eq(m->column, 2);
        ck_assert_int_lt(fx_refused("exec", "{ \"command\": [\"/bin/true\"], \"convention\": 1 }"),
                         0);
        fx_expect_diag("option \"convention\": expected a string");
}
END_TEST

START_TEST(test_exec_refuses_program)
{
        char dir[300], plain[300], opts[700];
        snprintf(dir, sizeof(dir), "%s/sub", fx_plugdir);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        snprintf(plain, sizeof(plain), "%s/not-exec.sh", fx_plugdir);
        FILE *f = fopen(plain, "we");
        ck_assert_ptr_nonnull(f);
        fputs("#!/bin/sh\nexit 0\n", f);
        fclose(f);
        ck_assert_int_eq(chmod(plain, 0644), 0);

        ck_assert_int_lt(fx_refused("exec", "{ \"command\": [\"true\"] }"), 0);
        const struct diag_msg *m = fx_expect_diag(
            "option \"command\": \"true\" is not an absolute path (there is no PATH lookup)");
        ck_assert_int_eq(m->line, 6); /* "command" in the options object */
        ck_assert_int_eq(m->column, 20);
        ck_assert_int_lt(fx_refused("exec", "{ \"command\": [\"/nonexistent/check\"] }"), 0);
        fx_expect_diag("option \"command\": /nonexistent/check: No such file or directory");
        snprintf(opts, sizeof(opts), "{ \"command\": [\"%s\"] }", dir);
        ck_assert_int_lt(fx_refused("exec", opts), 0);
        char want[400];
        snprintf(want, sizeof(want), "option \"command\": %s is a directory", dir);
        fx_expect_diag(want);
        snprintf(opts, sizeof(opts), "{ \"command\": [\"%s\", \"arg\"] }", plain);
        ck_assert_int_lt(fx_refused("exec", opts), 0);
        snprintf(want, sizeof(want), "option \"command\": %s is not executable", plain);
        fx_expect_diag(want);
        ck_assert_int_lt(fx_refused("exec", "{ \"command\": [\"/dev/null\"] }"), 0);
        fx_expect_diag("/dev/null is not a regular file");
        ck_assert_int_eq(fx_diag.n, 5);
}
END_TEST

/* A program under dir (relative to the plugin directory), built with the
 * given convention option; returns the warning that mentions "convention". */
static const struct diag_msg *exec_hint(const char *dir, const char *extra)
{
        char path[400], cmd[1400], opts[600];
        snprintf(path, sizeof(path), "%s/%s", fx_plugdir, dir);
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p %s && printf '#!/bin/sh\\nexit 1\\n' >%s/check_x && "
                 "chmod 0755 %s/check_x",
                 path, path, path);
        ck_assert_int_eq(system(cmd), 0);
        snprintf(opts, sizeof(opts), "{ \"command\": [\"%s/check_x\"]%s }", path, extra);
        struct fx_svc *s = fx_svc1("exec", opts);
        struct check_runner *r = fx_runner(s);
        check_runner_free(r);
        fx_svc_free(s);
        ck_assert_int_eq(fx_diag.n, 0); /* a hint refuses nothing */
        return diag_find_warning(&fx_diag, "\"convention\": \"nagios\"");
}

START_TEST(test_exec_nagios_hint)
{
        const struct diag_msg *m = exec_hint("usr/lib/nagios/plugins", "");
        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(m->file, "svc.json");
        ck_assert_int_eq(m->line, 6);
        ck_assert_ptr_nonnull(strstr(m->text, "looks like a Nagios plugin"));
        ck_assert_uint_eq(fx_diag.n_warnings, 1);

        ck_assert_ptr_nonnull(exec_hint("usr/lib/monitoring-plugins", ""));
        ck_assert_uint_eq(fx_diag.n_warnings, 2);
        /* given a convention, either one, there is nothing to suggest */
        exec_hint("usr/lib64/nagios/plugins", ", \"convention\": \"nagios\"");
        exec_hint("usr/lib64/nagios/plugins", ", \"convention\": \"unix\"");
        exec_hint("opt/checks", "");
        ck_assert_uint_eq(fx_diag.n_warnings, 2);
}
END_TEST

/* Processes whose process group is pgid, or whose parent is ppid. */
static int count_procs(pid_t pgid, pid_t ppid)
{
        int n = 0;
        DIR *d = opendir("/proc");
        struct dirent *de;
        while ((de = readdir(d))) {
                char path[300], buf[512];
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                FILE *f = fopen(path, "re");
                if (!f)
                        continue;
                size_t len = fread(buf, 1, sizeof(buf) - 1, f);
                fclose(f);
                buf[len] = '\0';
                char *p = strrchr(buf, ')');
                char state;
                int pp, pg;
                if (!p || sscanf(p + 2, "%c %d %d", &state, &pp, &pg) != 3)
                        continue;
                if ((pgid > 0 && pg == pgid) || (ppid > 0 && pp == ppid))
                        n++;
        }
        closedir(d);
        return n;
}

START_TEST(test_exec_timeout_kills_group)
{
        char pidfile[300], opts[600];
        snprintf(pidfile, sizeof(pidfile), "%s/pgid", fx_plugdir);
        snprintf(opts, sizeof(opts),
                 "{ \"command\": [\"/bin/sh\", \"-c\", \"echo $$ > %s; sleep 100 & sleep 100\"] }",
                 pidfile);
        struct fx_svc *s = fx_svc1("exec", opts);
        struct check_runner *r = fx_runner(s);
        struct fx_res res = fx_probe(r, 300000);
        ck_assert_int_eq(res.code, 2);
        ck_assert_str_eq(res.msg, "timed out after 300ms");
        FILE *f = fopen(pidfile, "re");
        ck_assert_ptr_nonnull(f);
        int pgid = 0;
        ck_assert_int_eq(fscanf(f, "%d", &pgid), 1);
        fclose(f);
        ck_assert_int_gt(pgid, 1);
        /* the shell and both sleeps go; the shell is reaped (no zombie child) */
        uint64_t end = fx_now() + 10000000;
        while ((count_procs(pgid, 0) > 0 || count_procs(0, getpid()) > 0) && fx_now() < end)
                fx_run_for(50000);
        ck_assert_int_eq(count_procs(pgid, 0), 0);
        ck_assert_int_eq(count_procs(0, getpid()), 0);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

/* ---- tcp ---- */

static int listener(const char *addr, int *port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET};
        inet_pton(AF_INET, addr, &sin.sin_addr);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        ck_assert_int_eq(listen(fd, 8), 0);
        socklen_t len = sizeof(sin);
        getsockname(fd, (struct sockaddr *)&sin, &len);
        *port = ntohs(sin.sin_port);
        return fd;
}

START_TEST(test_tcp_ok_and_refused)
{
        int port, lfd = listener("127.0.0.1", &port);
        char opts[200];
        snprintf(opts, sizeof(opts), "{ \"host\": \"127.0.0.1\", \"port\": %d }", port);
        struct fx_svc *s = fx_svc1("tcp", opts);
        struct check_runner *r = fx_runner(s);
        struct fx_res res = fx_probe(r, 2000000);
        ck_assert_int_eq(res.code, 0);
        ck_assert_msg(strncmp(res.msg, "connected in ", 13) == 0, "%s", res.msg);
        check_runner_free(r);
        fx_svc_free(s);

        close(lfd); /* now nothing listens there */
        s = fx_svc1("tcp", opts);
        r = fx_runner(s);
        res = fx_probe(r, 2000000);
        ck_assert_int_eq(res.code, 2);
        ck_assert_msg(strstr(res.msg, "Connection refused"), "%s", res.msg);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_tcp_source)
{
        int port, lfd = listener("127.0.0.1", &port);
        char opts[200];
        snprintf(opts, sizeof(opts),
                 "{ \"host\": \"127.0.0.1\", \"port\": %d, \"source\": \"127.0.0.2\" }", port);
        struct fx_svc *s = fx_svc1("tcp", opts);
        struct check_runner *r = fx_runner(s);
        struct fx_res res = fx_probe(r, 2000000);
        ck_assert_int_eq(res.code, 0);
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        int c = accept(lfd, (struct sockaddr *)&peer, &len);
        ck_assert_int_ge(c, 0);
        char text[64];
        inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
        ck_assert_str_eq(text, "127.0.0.2");
        close(c);
        close(lfd);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

/* ---- workers ---- */

START_TEST(test_worker_result)
{
        struct fx_svc *s = fx_svc1("result", "{ \"code\": 1, \"message\": \"slow disk\\nmore\" }");
        struct check_runner *r = fx_runner(s);
        pid_t pid = check_runner_worker_pid(r);
        ck_assert_int_gt(pid, 0);
        for (int i = 0; i < 3; i++) {
                struct fx_res res = fx_probe(r, 5000000);
                ck_assert_int_eq(res.code, 1);
                ck_assert_str_eq(res.msg, "slow disk");
        }
        ck_assert_int_eq(check_runner_worker_pid(r), pid); /* one worker serves them all */
        /* the worker holds nothing of ours but stderr: fd 1 is /dev/null */
        char path[64], target[256] = "";
        snprintf(path, sizeof(path), "/proc/%d/fd/1", (int)pid);
        ck_assert_int_gt(readlink(path, target, sizeof(target) - 1), 0);
        ck_assert_str_eq(target, "/dev/null");
        snprintf(path, sizeof(path), "/proc/%d/fd/4", (int)pid);
        ck_assert_int_lt(readlink(path, target, sizeof(target) - 1), 0);
        check_runner_free(r);
        ck_assert_int_eq(kill(pid, 0), -1); /* killed and reaped */
        ck_assert_int_eq(errno, ESRCH);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_worker_crash)
{
        char trigger[300], opts[400];
        snprintf(trigger, sizeof(trigger), "%s/crash-now", fx_plugdir);
        snprintf(opts, sizeof(opts), "{ \"trigger\": \"%s\" }", trigger);
        struct fx_svc *s = fx_svc1("crash", opts);
        struct check_runner *r = fx_runner(s);
        pid_t first = check_runner_worker_pid(r);
        fclose(fopen(trigger, "we"));
        struct fx_res res = fx_probe(r, 5000000);
        ck_assert_int_eq(res.code, 3);
        ck_assert_str_eq(res.msg, "plugin crashed (signal 11)");
        ck_assert_int_eq(check_runner_worker_pid(r), -1);
        res = fx_probe(r, 5000000);
        ck_assert_int_eq(res.code, 0);
        ck_assert_str_eq(res.msg, "did not crash");
        ck_assert_int_ne(check_runner_worker_pid(r), first);
        ck_assert_int_gt(check_runner_worker_pid(r), 0);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_worker_hang)
{
        char trigger[300], opts[400];
        snprintf(trigger, sizeof(trigger), "%s/hang-now", fx_plugdir);
        snprintf(opts, sizeof(opts), "{ \"trigger\": \"%s\" }", trigger);
        struct fx_svc *s = fx_svc1("hang", opts);
        struct check_runner *r = fx_runner(s);
        pid_t first = check_runner_worker_pid(r);
        fclose(fopen(trigger, "we"));
        struct fx_res res = fx_probe(r, 300000);
        ck_assert_int_eq(res.code, 2);
        ck_assert_str_eq(res.msg, "timed out after 300ms");
        fx_run_for(200000);
        ck_assert_int_eq(kill(first, 0), -1); /* killed and reaped */
        res = fx_probe(r, 5000000);
        ck_assert_int_eq(res.code, 0);
        ck_assert_str_eq(res.msg, "did not hang");
        ck_assert_int_ne(check_runner_worker_pid(r), first);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

START_TEST(test_worker_leak_bounded)
{
        const uint64_t limit = 64ULL << 20;
        plugin_host_set_worker_memory_limit(fx_host, limit);
        struct fx_svc *s = fx_svc1("leak", "{ \"mb\": 16 }");
        struct check_runner *r = fx_runner(s);
        uint64_t base = worker_rss(getpid());
        int failed = 0, ok_after_failure = 0;
        for (int i = 0; i < 12; i++) {
                struct fx_res res = fx_probe(r, 10000000);
                pid_t pid = check_runner_worker_pid(r);
                if (pid > 0) {
                        uint64_t rss = worker_rss(pid);
                        ck_assert_msg(rss <= base + limit + (16ULL << 20), "worker at %llu MiB",
                                      (unsigned long long)(rss >> 20));
                }
                if (res.code != 0) {
                        failed++;
                        ck_assert_msg(strstr(res.msg, "memory limit") ||
                                          strstr(res.msg, "plugin crashed"),
                                      "%s", res.msg);
                } else if (failed) {
                        ok_after_failure++;
                }
                fx_run_for(250000); /* past any restart backoff */
        }
        ck_assert_int_ge(failed, 1);
        ck_assert_int_ge(ok_after_failure, 1);
        check_runner_free(r);
        fx_svc_free(s);
}
END_TEST

/* While one worker hangs, a loop-safe check and another worker report on time. */
START_TEST(test_worker_hang_delays_nobody)
{
        struct fx_svc *hs = fx_svc1("hang", "{}");
        struct fx_svc *as = fx_svc1("async", "{ \"delay_ms\": 50, \"message\": \"fine\" }");
        struct fx_svc *ws = fx_svc1("result", "{ \"code\": 0, \"message\": \"worker fine\" }");
        struct check_runner *hr = fx_runner(hs), *ar = fx_runner(as), *wr = fx_runner(ws);
        struct fx_res hres = {0}, ares = {0}, wres = {0};
        uint64_t t0 = fx_now();
        ck_assert_int_eq(check_runner_start(hr, 8000000, fx_on_result, &hres), 0);
        ck_assert_int_eq(check_runner_start(ar, 8000000, fx_on_result, &ares), 0);
        ck_assert_int_eq(check_runner_start(wr, 8000000, fx_on_result, &wres), 0);
        fx_run_until(&ares.n, 1, 10000000);
        fx_run_until(&wres.n, 1, 10000000);
        ck_assert_int_eq(hres.n, 0); /* still hanging */
        ck_assert_str_eq(ares.msg, "fine");
        ck_assert_str_eq(wres.msg, "worker fine");
        ck_assert_uint_lt(ares.at - t0, 4000000); /* far before the hang's timeout */
        ck_assert_uint_lt(wres.at - t0, 4000000);
        fx_run_until(&hres.n, 1, 20000000);
        ck_assert_int_eq(hres.code, 2);
        ck_assert_str_eq(hres.msg, "timed out after 8s");
        check_runner_free(hr);
        check_runner_free(ar);
        check_runner_free(wr);
        fx_svc_free(hs);
        fx_svc_free(as);
        fx_svc_free(ws);
}
END_TEST

/* The isolation requirement as one scene: workers that crash, hang
 * and leak, each probed every 100 ms as the engine would, while a loop-safe
 * check runs every 50 ms on a fixed schedule for 3 s. Its start lateness and
 * result intervals must stay small (generous bounds; the figures are
 * printed), and the bad workers must have failed (and been restarted). */
struct looper {
        struct check_runner *r;
        struct fx_res res;
        uint64_t period, due, timeout;
        int started, failures;
        uint64_t max_late, max_gap, last_at;
};

static void looper_tick(struct looper *l, uint64_t now)
{
        if (l->started > l->res.n || now < l->due)
                return;
        l->max_late = now - l->due > l->max_late ? now - l->due : l->max_late;
        ck_assert_int_eq(check_runner_start(l->r, l->timeout, fx_on_result, &l->res), 0);
        l->started++;
        l->due += l->period;
        if (l->due <= now)
                l->due = now + l->period; /* as the engine: skip, no burst */
}

static void looper_result(struct looper *l, int before)
{
        if (l->res.n == before)
                return;
        l->failures += l->res.code != 0;
        if (l->last_at && l->res.at - l->last_at > l->max_gap)
                l->max_gap = l->res.at - l->last_at;
        l->last_at = l->res.at;
}

START_TEST(test_isolation_keeps_timing)
{
        plugin_host_set_worker_memory_limit(fx_host, 64ULL << 20);
        struct fx_svc *svcs[4] = {fx_svc1("async", "{ \"delay_ms\": 2, \"message\": \"fine\" }"),
                                  fx_svc1("crash", "{}"), fx_svc1("hang", "{}"),
                                  fx_svc1("leak", "{ \"mb\": 24 }")};
        struct looper l[4];
        uint64_t t0 = fx_now();
        for (int i = 0; i < 4; i++)
                l[i] = (struct looper){.r = fx_runner(svcs[i]),
                                       .period = i ? 100000 : 50000,
                                       .due = t0,
                                       .timeout = i ? 80000 : 1000000};
        while (fx_now() < t0 + 3000000) {
                int before[4];
                for (int i = 0; i < 4; i++) {
                        looper_tick(&l[i], fx_now());
                        before[i] = l[i].res.n;
                }
                ck_assert_int_ge(sd_event_run(fx_loop, 2000), 0);
                for (int i = 0; i < 4; i++)
                        looper_result(&l[i], before[i]);
        }
        printf("isolation: loop-safe check %d probes in 3 s beside crash/hang/leak workers "
               "(%d/%d/%d failed results): start lateness max %.1f ms, result gap max %.1f ms\n",
               l[0].res.n, l[1].failures, l[2].failures, l[3].failures, l[0].max_late / 1000.0,
               l[0].max_gap / 1000.0);
        ck_assert_int_eq(l[0].failures, 0);
        ck_assert_int_ge(l[0].res.n, 40);         /* of 60 due */
        ck_assert_uint_lt(l[0].max_late, 250000); /* never held up by a worker */
        ck_assert_uint_lt(l[0].max_gap, 50000 + 250000);
        ck_assert_int_ge(l[1].failures, 1); /* crashed */
        ck_assert_int_ge(l[2].failures, 1); /* hung and was killed */
        ck_assert_int_ge(l[3].failures, 1); /* grew past its limit */
        for (int i = 0; i < 4; i++) {
                check_runner_free(l[i].r);
                fx_svc_free(svcs[i]);
        }
}
END_TEST

int main(void)
{
        Suite *s = suite_create("plugin_host");
        struct {
                const char *name;
                const TTest *tests[8];
        } cases[] = {
            {"loader",
             {test_load_wrong_abi, test_load_missing_symbol, test_load_misnamed,
              test_load_symlink_escape, test_load_name_with_slash, test_load_unknown,
              test_load_once}},
            {"loader_perms",
             {test_load_dir_writable_by_others, test_load_parent_writable_by_others,
              test_load_file_group_writable, test_load_file_foreign_owner}},
            {"options",
             {test_opts_positions, test_opts_tcp_values, test_opts_worker_positions,
              test_opts_validate_only}},
            {"loop",
             {test_sync_done_deferred, test_busy, test_loop_safe_timeout_and_late_done,
              test_free_in_flight}},
            {"exec",
             {test_exec_unix_codes, test_exec_nagios_codes, test_exec_signal,
              test_exec_bad_convention, test_exec_refuses_program, test_exec_nagios_hint,
              test_exec_timeout_kills_group}},
            {"tcp", {test_tcp_ok_and_refused, test_tcp_source}},
            {"worker",
             {test_worker_result, test_worker_crash, test_worker_hang, test_worker_leak_bounded,
              test_worker_hang_delays_nobody, test_isolation_keeps_timing}},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                TCase *tc = tcase_create(cases[i].name);
                tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
                tcase_set_timeout(tc, 60);
                for (size_t j = 0; j < 8 && cases[i].tests[j]; j++)
                        _tcase_add_test(tc, cases[i].tests[j], 0, 0, 0, 1);
                suite_add_tcase(s, tc);
        }
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
