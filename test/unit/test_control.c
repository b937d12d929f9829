/* test_control.c: the control socket against the scripted engine: real
 * sockets on a real sd-event loop, one process (the client side is
 * non-blocking and the test turns the loop), and forked clients with
 * other credentials for the permission checks (the tests run as root). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "fake_engine.h"

static char dir[] = "/tmp/ahd-control-XXXXXX";
static char path[256];
static sd_event *e;
static struct config cfg;
static struct control *ctl;

static void setup(void)
{
        signal(SIGPIPE, SIG_IGN);
        ck_assert_ptr_nonnull(mkdtemp(dir));
        chmod(dir, 0755);
        snprintf(path, sizeof(path), "%s/run/control.sock", dir);
        ck_assert_int_ge(sd_event_new(&e), 0);
        cfg = (struct config){.pop = "ams1"};
        cfg.control.socket = path;
        fake_engine_reset();
}

static void teardown(void)
{
        control_free(ctl);
        ctl = NULL;
        sd_event_unref(e);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static int start(const struct control_hooks *hooks)
{
        return control_new(e, &cfg, NULL, hooks, &ctl);
}

static int client(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        return fd;
}

/* Turns the loop until want newline-terminated replies (or EOF) arrived;
 * returns what was read (static buffer). */
static const char *pump(int fd, int want, bool *eof)
{
        static char buf[1 << 16];
        size_t len = 0;
        int lines = 0;
        *eof = false;
        for (int i = 0; i < 500 && lines < want && !*eof; i++) {
                sd_event_run(e, 10000);
                ssize_t n;
                while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0) {
                        for (ssize_t k = 0; k < n; k++)
                                lines += buf[len + k] == '\n';
                        len += (size_t)n;
                }
                if (n == 0)
                        *eof = true;
        }
        buf[len] = '\0';
        return buf;
}

static void send_str(int fd, const char *s)
{
        ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* One request, one reply line. */
static char *ask(const char *req)
{
        int fd = client();
        bool eof;
        send_str(fd, req);
        char *r = strdup(pump(fd, 1, &eof));
        close(fd);
        return r;
}

static void expect(const char *req, const char *reply)
{
        char *r = ask(req);
        ck_assert_msg(strcmp(r, reply) == 0, "%s -> %s (expected %s)", req, r, reply);
        free(r);
}

START_TEST(status_all_and_one)
{
        ck_assert_int_eq(start(NULL), 0);
        char *r = ask("{\"verb\":\"status\"}\n");
        json_t *j = json_loads(r, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert(json_is_true(json_object_get(j, "ok")));
        ck_assert_str_eq(json_string_value(json_object_get(j, "pop")), "ams1");
        json_t *svcs = json_object_get(j, "services");
        ck_assert_uint_eq(json_array_size(svcs), 2);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(svcs, 1), "state")),
                         "down");
        json_decref(j);
        free(r);

        r = ask("{\"verb\":\"status\",\"service\":\"web\"}\n");
        j = json_loads(r, 0, NULL);
        svcs = json_object_get(j, "services");
        ck_assert_uint_eq(json_array_size(svcs), 1);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(svcs, 0), "name")),
                         "web");
        json_decref(j);
        free(r);
        expect("{\"verb\":\"status\",\"service\":\"dnx\"}\n",
               "{\"ok\":false,\"error\":\"unknown service \\\"dnx\\\"\"}\n");
        ck_assert_str_eq(fake_engine_log(), "");
}
END_TEST

START_TEST(actions_reach_the_engine)
{
        ck_assert_int_eq(start(NULL), 0);
        expect("{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"maintenance\"}\n",
               "{\"ok\":true}\n");
        expect("{\"verb\":\"enable\",\"service\":\"dns\"}\n", "{\"ok\":true}\n");
        expect("{\"verb\":\"drain\",\"service\":\"web\"}\n", "{\"ok\":true}\n");
        expect("{\"verb\":\"check\",\"service\":\"web\"}\n", "{\"ok\":true}\n");
        expect("{\"verb\":\"withdraw-all\",\"reason\":\"fire\",\"confirm\":true}\n",
               "{\"ok\":true}\n");
        ck_assert_str_eq(
            fake_engine_log(),
            "disable dns maintenance;enable dns;drain web;check web;withdraw-all fire;");
}
END_TEST

START_TEST(bad_requests_change_nothing)
{
        ck_assert_int_eq(start(NULL), 0);
        expect("{\"verb\":\"disable\",\"service\":\"dnx\",\"reason\":\"x\"}\n",
               "{\"ok\":false,\"error\":\"unknown service \\\"dnx\\\"\"}\n");
        expect("{\"verb\":\"enable\",\"service\":\"dnx\"}\n",
               "{\"ok\":false,\"error\":\"unknown service \\\"dnx\\\"\"}\n");
        expect("disable dns\n", "{\"ok\":false,\"error\":\"bad request: not JSON ('[' or '{' "
                                "expected near 'disable')\"}\n");
        expect("{\"verb\":\"withdraw-all\",\"reason\":\"x\"}\n",
               "{\"ok\":false,\"error\":\"withdraw-all withdraws every prefix of this PoP; refused "
               "without \\\"confirm\\\": true\"}\n");
        expect("{\"verb\":\"disable\",\"service\":\"dns\"}\n",
               "{\"ok\":false,\"error\":\"\\\"disable\\\" needs a reason\"}\n");
        ck_assert_str_eq(fake_engine_log(), "");
}
END_TEST

START_TEST(engine_errors_are_explained)
{
        ck_assert_int_eq(start(NULL), 0);
        fake_engine_fail_next(-EOPNOTSUPP);
        expect("{\"verb\":\"drain\",\"service\":\"dns\"}\n",
               "{\"ok\":false,\"error\":\"drain is not implemented by this daemon\"}\n");
        fake_engine_fail_next(-EIO);
        expect("{\"verb\":\"check\",\"service\":\"dns\"}\n",
               "{\"ok\":false,\"error\":\"check failed: Input/output error\"}\n");
        /* A disable that applied but could not be persisted says so, and
         * why, whatever the errno. */
        fake_engine_fail_next(ENGINE_UNSAVED);
        fake_engine_set_state_file_error(-EISDIR);
        expect("{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"x\"}\n",
               "{\"ok\":false,\"error\":\"disable applied, not saved: Is a directory; it will "
               "not survive a restart until the daemon, retrying, writes the state file\"}\n");
        fake_engine_fail_next(ENGINE_UNSAVED);
        fake_engine_set_state_file_error(-ENOSPC);
        expect("{\"verb\":\"enable\",\"service\":\"dns\"}\n",
               "{\"ok\":false,\"error\":\"enable applied, not saved: No space left on device; "
               "it will not survive a restart until the daemon, retrying, writes the state "
               "file\"}\n");
}
END_TEST

/* Runs req with stderr (where the log goes outside systemd) caught;
 * returns the reply and, in *logged, what was logged meanwhile. */
static char *ask_logged(const char *req, char **logged)
{
        char tmpl[] = "/tmp/ahd-control-log-XXXXXX";
        int lfd = mkstemp(tmpl);
        ck_assert_int_ge(lfd, 0);
        unlink(tmpl);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_ge(dup2(lfd, STDERR_FILENO), 0);
        char *r = ask(req);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        static char buf[8192];
        ssize_t n = pread(lfd, buf, sizeof(buf) - 1, 0);
        close(lfd);
        buf[n > 0 ? n : 0] = '\0';
        *logged = buf;
        return r;
}

/* The fleet floor holds an operator's disable and drain unless forced;
 * other verbs never ask it. */
START_TEST(floor_refuses_without_force)
{
        ck_assert_int_eq(start(NULL), 0);
        fake_engine_set_floor(1, "only 1 PoP announces dns (floor 1)");
        expect("{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"maint\"}\n",
               "{\"ok\":false,\"error\":\"disable refused: only 1 PoP announces dns (floor 1); "
               "add --force to do it anyway\"}\n");
        ck_assert_str_eq(fake_engine_floor_service(), "dns");
        expect("{\"verb\":\"drain\",\"service\":\"web\"}\n",
               "{\"ok\":false,\"error\":\"drain refused: only 1 PoP announces dns (floor 1); "
               "add --force to do it anyway\"}\n");
        ck_assert_str_eq(fake_engine_floor_service(), "web");
        expect("{\"verb\":\"drain\",\"service\":\"web\",\"force\":false}\n",
               "{\"ok\":false,\"error\":\"drain refused: only 1 PoP announces dns (floor 1); "
               "add --force to do it anyway\"}\n");
        ck_assert_int_eq(fake_engine_floor_calls(), 3);
        ck_assert_str_eq(fake_engine_log(), "");
        /* a failing floor check refuses too: not knowing is no licence */
        fake_engine_set_floor(-EIO, NULL);
        expect("{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"maint\"}\n",
               "{\"ok\":false,\"error\":\"disable refused: cannot check the fleet floor: "
               "Input/output error; add --force to do it anyway\"}\n");
        ck_assert_str_eq(fake_engine_log(), "");
        /* a typo is a typo before it is a floor question */
        expect("{\"verb\":\"disable\",\"service\":\"dnx\",\"reason\":\"x\"}\n",
               "{\"ok\":false,\"error\":\"unknown service \\\"dnx\\\"\"}\n");
        /* enable, check and withdraw-all do not ask the floor */
        fake_engine_set_floor(1, "no");
        int before = fake_engine_floor_calls();
        expect("{\"verb\":\"enable\",\"service\":\"dns\"}\n", "{\"ok\":true}\n");
        expect("{\"verb\":\"check\",\"service\":\"dns\"}\n", "{\"ok\":true}\n");
        expect("{\"verb\":\"withdraw-all\",\"reason\":\"fire\",\"confirm\":true}\n",
               "{\"ok\":true}\n");
        ck_assert_int_eq(fake_engine_floor_calls(), before);
        ck_assert_str_eq(fake_engine_log(), "enable dns;check dns;withdraw-all fire;");
}
END_TEST

START_TEST(force_overrides_the_floor_and_says_so)
{
        ck_assert_int_eq(start(NULL), 0);
        fake_engine_set_floor(1, "only 1 PoP announces dns (floor 1)");
        char *logged;
        char *r = ask_logged(
            "{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"maint\",\"force\":true}\n",
            &logged);
        ck_assert_str_eq(r, "{\"ok\":true}\n");
        free(r);
        ck_assert_str_eq(fake_engine_log(), "disable dns maint;");
        char want[256];
        snprintf(want, sizeof(want),
                 "control: uid %d (pid %d): disable dns with force overrides the fleet floor: "
                 "only 1 PoP announces dns (floor 1)",
                 (int)getuid(), (int)getpid());
        ck_assert_msg(strstr(logged, want), "log: %s", logged);

        r = ask_logged("{\"verb\":\"drain\",\"service\":\"web\",\"force\":true}\n", &logged);
        ck_assert_str_eq(r, "{\"ok\":true}\n");
        free(r);
        ck_assert_msg(strstr(logged, "drain web with force overrides the fleet floor"), "log: %s",
                      logged);
        ck_assert_str_eq(fake_engine_log(), "disable dns maint;drain web;");

        /* force with nothing to override: no warning, the action as usual */
        fake_engine_set_floor(0, NULL);
        r = ask_logged("{\"verb\":\"drain\",\"service\":\"dns\",\"force\":true}\n", &logged);
        ck_assert_str_eq(r, "{\"ok\":true}\n");
        free(r);
        ck_assert_msg(!strstr(logged, "overrides"), "log: %s", logged);
        /* a floor that cannot be checked does not stop a forced action */
        fake_engine_set_floor(-EIO, NULL);
        expect("{\"verb\":\"disable\",\"service\":\"web\",\"reason\":\"x\",\"force\":true}\n",
               "{\"ok\":true}\n");
        ck_assert_str_eq(fake_engine_log(), "disable dns maint;drain web;drain dns;disable web x;");
        ck_assert_int_eq(fake_engine_floor_calls(), 4);
}
END_TEST

static int fleet_calls;
static char fleet_asked[64];
static json_t *fleet_hook(void *userdata, const char *service, char *err, size_t errlen)
{
        fleet_calls++;
        snprintf(fleet_asked, sizeof(fleet_asked), "%s", service ? service : "(all)");
        if (*(int *)userdata) {
                snprintf(err, errlen, "etcd has not answered yet");
                return NULL;
        }
        return json_pack("{s:s,s:I,s:{s:b,s:s},s:[{s:s,s:i}]}", "pop", "ams1", "now",
                         (json_int_t)1764806400, "fleet", "ready", 1, "prefix", "/ahd/", "services",
                         "name", service ? service : "dns", "min_pops", 1);
}

START_TEST(fleet_through_the_hook)
{
        ck_assert_int_eq(start(NULL), 0);
        expect("{\"verb\":\"fleet\"}\n",
               "{\"ok\":false,\"error\":\"fleet mode is off: the daemon file has no "
               "\\\"fleet\\\" block\"}\n");
        control_free(ctl);
        ctl = NULL;
        int fail = 0;
        struct control_hooks h = {.fleet = fleet_hook, .userdata = &fail};
        ck_assert_int_eq(start(&h), 0);
        expect("{\"verb\":\"fleet\"}\n",
               "{\"ok\":true,\"pop\":\"ams1\",\"now\":1764806400,\"fleet\":{\"ready\":true,"
               "\"prefix\":\"/ahd/\"},\"services\":[{\"name\":\"dns\",\"min_pops\":1}]}\n");
        ck_assert_str_eq(fleet_asked, "(all)");
        expect("{\"verb\":\"fleet\",\"service\":\"web\"}\n",
               "{\"ok\":true,\"pop\":\"ams1\",\"now\":1764806400,\"fleet\":{\"ready\":true,"
               "\"prefix\":\"/ahd/\"},\"services\":[{\"name\":\"web\",\"min_pops\":1}]}\n");
        ck_assert_str_eq(fleet_asked, "web");
        /* a typo is answered here, the hook not asked */
        expect("{\"verb\":\"fleet\",\"service\":\"dnx\"}\n",
               "{\"ok\":false,\"error\":\"unknown service \\\"dnx\\\"\"}\n");
        ck_assert_int_eq(fleet_calls, 2);
        fail = 1;
        expect("{\"verb\":\"fleet\"}\n",
               "{\"ok\":false,\"error\":\"etcd has not answered yet\"}\n");
        ck_assert_int_eq(fleet_calls, 3);
        /* read-only: nothing reached the engine, the floor was not asked */
        ck_assert_str_eq(fake_engine_log(), "");
        ck_assert_int_eq(fake_engine_floor_calls(), 0);
}
END_TEST

static int reload_calls;
static int reload_hook(void *userdata, char **errors)
{
        reload_calls++;
        if (*(int *)userdata == 0)
                return 0;
        *errors = strdup("dns.json:3:5: unknown key \"prefixs\" in service");
        return -EINVAL;
}

START_TEST(reload_through_the_hook)
{
        ck_assert_int_eq(start(NULL), 0);
        expect("{\"verb\":\"reload\"}\n",
               "{\"ok\":false,\"error\":\"reload is not available in this daemon\"}\n");
        control_free(ctl);
        ctl = NULL;
        int fail = 0;
        struct control_hooks h = {.reload = reload_hook, .userdata = &fail};
        ck_assert_int_eq(start(&h), 0);
        expect("{\"verb\":\"reload\"}\n", "{\"ok\":true}\n");
        fail = 1;
        expect("{\"verb\":\"reload\"}\n",
               "{\"ok\":false,\"error\":\"reload refused, the old configuration keeps running: "
               "dns.json:3:5: unknown key \\\"prefixs\\\" in service\"}\n");
        ck_assert_int_eq(reload_calls, 2);
}
END_TEST

START_TEST(pipelined_and_unterminated_requests)
{
        ck_assert_int_eq(start(NULL), 0);
        int fd = client();
        bool eof;
        send_str(fd, "{\"verb\":\"enable\",\"service\":\"dns\"}\n{\"verb\":\"nope\"}\n"
                     "{\"verb\":\"enable\",\"service\":\"web\"}");
        shutdown(fd, SHUT_WR);
        const char *r = pump(fd, 3, &eof);
        ck_assert_str_eq(r, "{\"ok\":true}\n"
                            "{\"ok\":false,\"error\":\"unknown verb \\\"nope\\\" (expected status, "
                            "disable, enable, drain, check, reload, withdraw-all or fleet)\"}\n"
                            "{\"ok\":true}\n");
        pump(fd, 1, &eof);
        ck_assert(eof);
        close(fd);
        ck_assert_str_eq(fake_engine_log(), "enable dns;enable web;");
}
END_TEST

START_TEST(oversized_request_is_refused_and_closed)
{
        ck_assert_int_eq(start(NULL), 0);
        int fd = client();
        char big[6000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ssize_t sent = send(fd, big, strlen(big), MSG_NOSIGNAL);
        ck_assert_int_gt(sent, 4096);
        bool eof;
        const char *r = pump(fd, 1, &eof);
        ck_assert_str_eq(r, "{\"ok\":false,\"error\":\"request longer than 4095 bytes\"}\n");
        pump(fd, 1, &eof);
        ck_assert(eof);
        close(fd);
        ck_assert_str_eq(fake_engine_log(), "");
}
END_TEST

START_TEST(client_limit)
{
        ck_assert_int_eq(start(NULL), 0);
        int fds[17];
        bool eof;
        for (int i = 0; i < 16; i++) {
                fds[i] = client();
                pump(fds[i], 0, &eof); /* let the loop accept it */
        }
        fds[16] = client();
        const char *r = pump(fds[16], 1, &eof);
        ck_assert_str_eq(r, "{\"ok\":false,\"error\":\"busy: 16 control clients connected, "
                            "try again\"}\n");
        close(fds[16]);
        /* the others still work */
        send_str(fds[3], "{\"verb\":\"enable\",\"service\":\"dns\"}\n");
        ck_assert_str_eq(pump(fds[3], 1, &eof), "{\"ok\":true}\n");
        for (int i = 0; i < 16; i++)
                close(fds[i]);
        /* closed clients free their slots */
        for (int i = 0; i < 5; i++)
                sd_event_run(e, 10000);
        expect("{\"verb\":\"enable\",\"service\":\"web\"}\n", "{\"ok\":true}\n");
}
END_TEST

/* A forked client with other credentials; returns its reply (or "connect
 * failed: ..."). */
static char *ask_as(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, const char *req)
{
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(p[0]);
                if (setgroups(ngroups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
                        _exit(3);
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                strcpy(sa.sun_path, path);
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                char buf[4096];
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                        int n = snprintf(buf, sizeof(buf), "connect failed: %s", strerror(errno));
                        ssize_t w = write(p[1], buf, (size_t)n);
                        _exit(w == n ? 0 : 4);
                }
                /* a refused peer is answered and closed at once: the send
                 * may fail, the answer is there to read */
                (void)send(fd, req, strlen(req), MSG_NOSIGNAL);
                ssize_t n, total = 0;
                while ((n = recv(fd, buf + total, sizeof(buf) - 1 - (size_t)total, 0)) > 0) {
                        total += n;
                        if (memchr(buf, '\n', (size_t)total))
                                break;
                }
                ssize_t w = write(p[1], buf, (size_t)total);
                _exit(w == total ? 0 : 6);
        }
        close(p[1]);
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        int status;
        for (int i = 0; i < 1000 && waitpid(pid, &status, WNOHANG) == 0; i++)
                sd_event_run(e, 10000);
        static char out[4096];
        ssize_t n = read(p[0], out, sizeof(out) - 1);
        close(p[0]);
        out[n > 0 ? n : 0] = '\0';
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client failed");
        return strdup(out);
}

START_TEST(permissions)
{
        if (geteuid() != 0)
                return; /* needs root to change credentials */
        struct group *g = getgrnam("nogroup");
        ck_assert_ptr_nonnull(g);
        gid_t nogroup = g->gr_gid;
        cfg.control.group = "nogroup";
        ck_assert_int_eq(start(NULL), 0);

        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0660);
        ck_assert_uint_eq(st.st_gid, nogroup);

        /* the file mode keeps strangers out */
        gid_t none[1];
        char *r = ask_as(65534, 1, none, 0, "{\"verb\":\"status\"}\n");
        ck_assert_str_eq(r, "connect failed: Permission denied");
        free(r);

        /* a member of the group (supplementary) may */
        gid_t member[] = {nogroup};
        r = ask_as(65534, 1, member, 1,
                   "{\"verb\":\"disable\",\"service\":\"dns\",\"reason\":\"by member\"}\n");
        ck_assert_str_eq(r, "{\"ok\":true}\n");
        free(r);
        ck_assert_str_eq(fake_engine_log(), "disable dns by member;");

        /* a socket opened up by mistake still refuses strangers, status included */
        ck_assert_int_eq(chmod(path, 0666), 0);
        r = ask_as(65534, 1, none, 0,
                   "{\"verb\":\"disable\",\"service\":\"web\",\"reason\":\"intruder\"}\n");
        ck_assert_str_eq(r, "{\"ok\":false,\"error\":\"permission denied: uid 65534 is neither "
                            "root nor a member of the control group nogroup\"}\n");
        free(r);
        r = ask_as(65534, 1, none, 0, "{\"verb\":\"status\"}\n");
        ck_assert(strstr(r, "\"ok\":false,\"error\":\"permission denied"));
        free(r);
        ck_assert_str_eq(fake_engine_log(), "disable dns by member;");
}
END_TEST

/* A client connected with other credentials (SO_PEERCRED records them at
 * connect), held open by the test. */
static int client_as(uid_t uid, gid_t gid)
{
        ck_assert_int_eq(setegid(gid), 0);
        ck_assert_int_eq(seteuid(uid), 0);
        int fd = client();
        ck_assert_int_eq(seteuid(0), 0);
        ck_assert_int_eq(setegid(0), 0);
        return fd;
}

/* Group members fill 15 slots: the 16th is root's, the next member is
 * told the daemon is busy. */
START_TEST(last_slot_is_roots)
{
        if (geteuid() != 0)
                return;
        struct group *g = getgrnam("nogroup");
        ck_assert_ptr_nonnull(g);
        cfg.control.group = "nogroup";
        ck_assert_int_eq(start(NULL), 0);
        int fds[15];
        bool eof;
        for (int i = 0; i < 15; i++) {
                fds[i] = client_as(65534, g->gr_gid);
                sd_event_run(e, 10000); /* accepted */
        }
        int member = client_as(65534, g->gr_gid);
        ck_assert_str_eq(pump(member, 1, &eof), "{\"ok\":false,\"error\":\"busy: 15 control "
                                                "clients connected, try again\"}\n");
        close(member);
        expect("{\"verb\":\"enable\",\"service\":\"dns\"}\n", "{\"ok\":true}\n");
        for (int i = 0; i < 15; i++)
                close(fds[i]);
}
END_TEST

/* Strangers are answered and closed at accept: however many connect and
 * stay, they hold no slot. */
START_TEST(strangers_take_no_slot)
{
        if (geteuid() != 0)
                return;
        ck_assert_int_eq(start(NULL), 0);
        ck_assert_int_eq(chmod(path, 0666), 0);
        int fds[40];
        bool eof;
        for (int i = 0; i < 40; i++) {
                fds[i] = client_as(65534, 65534);
                const char *r = pump(fds[i], 1, &eof);
                ck_assert_msg(strstr(r, "\"error\":\"permission denied: uid 65534"), "%s", r);
                pump(fds[i], 1, &eof);
                ck_assert(eof);
        }
        expect("{\"verb\":\"enable\",\"service\":\"dns\"}\n", "{\"ok\":true}\n");
        for (int i = 0; i < 40; i++)
                close(fds[i]);
        ck_assert_str_eq(fake_engine_log(), "enable dns;");
}
END_TEST

/* A request that trickles in a byte at a time is cut off 2 s after the
 * connect, not kept alive by each byte. */
START_TEST(trickling_client_is_dropped_at_the_deadline)
{
        ck_assert_int_eq(start(NULL), 0);
        int fd = client();
        const char *req = "{\"verb\":\"status\"}";
        bool eof = false;
        uint64_t t0, now;
        ck_assert_int_ge(sd_event_now(e, CLOCK_MONOTONIC, &t0), 0);
        for (size_t i = 0; !eof && i < strlen(req); i++) {
                if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
                        break;
                for (int k = 0; k < 20 && !eof; k++) { /* ~200 ms a byte */
                        char b;
                        sd_event_run(e, 10000);
                        eof = recv(fd, &b, 1, 0) == 0;
                }
        }
        sd_event_now(e, CLOCK_MONOTONIC, &now);
        ck_assert_msg(eof, "still connected after %llu ms", (now - t0) / 1000ULL);
        ck_assert_uint_ge(now - t0, 1900000ULL);
        ck_assert_uint_le(now - t0, 3000000ULL);
        close(fd);
        /* and its slot is free again */
        expect("{\"verb\":\"enable\",\"service\":\"dns\"}\n", "{\"ok\":true}\n");
}
END_TEST

START_TEST(missing_group_is_an_error)
{
        cfg.control.group = "no-such-group-ahd";
        ck_assert_int_eq(start(NULL), -ENOENT);
        ck_assert_ptr_null(ctl);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), -1);
}
END_TEST

START_TEST(socket_of_a_running_daemon_is_kept)
{
        ck_assert_int_eq(start(NULL), 0);
        struct control *second = NULL;
        ck_assert_int_eq(control_new(e, &cfg, NULL, NULL, &second), -EADDRINUSE);
        ck_assert_ptr_null(second);
        expect("{\"verb\":\"enable\",\"service\":\"dns\"}\n", "{\"ok\":true}\n");
        /* after the first goes away its socket file is gone too */
        control_free(ctl);
        ctl = NULL;
        struct stat st;
        ck_assert_int_eq(stat(path, &st), -1);
}
END_TEST

START_TEST(stale_socket_is_replaced)
{
        /* a socket file nobody listens on, as a crash leaves it */
        ck_assert_int_eq(start(NULL), 0);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        control_free(ctl);
        ctl = NULL;
        strcpy(sa.sun_path, path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        ck_assert_int_eq(start(NULL), 0);
        expect("{\"verb\":\"enable\",\"service\":\"dns\"}\n", "{\"ok\":true}\n");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("control");
        TCase *tc = tcase_create("control");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, status_all_and_one);
        tcase_add_test(tc, actions_reach_the_engine);
        tcase_add_test(tc, bad_requests_change_nothing);
        tcase_add_test(tc, engine_errors_are_explained);
        tcase_add_test(tc, reload_through_the_hook);
        tcase_add_test(tc, floor_refuses_without_force);
        tcase_add_test(tc, force_overrides_the_floor_and_says_so);
        tcase_add_test(tc, fleet_through_the_hook);
        tcase_add_test(tc, pipelined_and_unterminated_requests);
        tcase_add_test(tc, oversized_request_is_refused_and_closed);
        tcase_add_test(tc, client_limit);
        tcase_add_test(tc, permissions);
        tcase_add_test(tc, last_slot_is_roots);
        tcase_add_test(tc, strangers_take_no_slot);
        tcase_add_test(tc, trickling_client_is_dropped_at_the_deadline);
        tcase_add_test(tc, missing_group_is_an_error);
        tcase_add_test(tc, socket_of_a_running_daemon_is_kept);
        tcase_add_test(tc, stale_socket_is_replaced);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
