/* net_fixture.c: see net_fixture.h. Plugins are copied (the loader
 * refuses links that leave plugin_dir) from $AHD_BUILD_DIR/checks. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsonpos.h"
#include "net_fixture.h"

char nf_plugdir[256];
struct plugin_host *nf_host;
struct diag nf_diag;
static sd_event *loop;

uint64_t nf_now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void copy_file(const char *from, const char *to)
{
        int in = open(from, O_RDONLY | O_CLOEXEC);
        ck_assert_msg(in >= 0, "open %s: %s", from, strerror(errno));
        int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        ck_assert_int_ge(out, 0);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                ck_assert_int_eq(write(out, buf, n), n);
        close(in);
        close(out);
}

void nf_tmpdir(char *out, size_t size, const char *tag)
{
        snprintf(out, size, "/tmp/ahd-%s-XXXXXX", tag);
        ck_assert_ptr_nonnull(mkdtemp(out));
}

void nf_rmdir(const char *dir)
{
        if (dir[0])
                nf_sh("rm -rf '%s'", dir);
}

void nf_setup(void)
{
        const char *build = getenv("AHD_BUILD_DIR");
        ck_assert_ptr_nonnull(build);
        nf_tmpdir(nf_plugdir, sizeof(nf_plugdir), "plugins");
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/checks", build);
        DIR *d = opendir(dir);
        ck_assert_msg(d, "no %s", dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 4 || strcmp(de->d_name + l - 3, ".so") != 0)
                        continue;
                char from[1024], to[1024];
                snprintf(from, sizeof(from), "%s/%s", dir, de->d_name);
                snprintf(to, sizeof(to), "%s/%s", nf_plugdir, de->d_name);
                copy_file(from, to);
        }
        closedir(d);
        ck_assert_int_ge(sd_event_new(&loop), 0);
        ck_assert_int_eq(plugin_host_new(loop, nf_plugdir, &nf_host), 0);
        nf_diag = (struct diag){0};
}

void nf_teardown(void)
{
        plugin_host_free(nf_host);
        sd_event_unref(loop);
        diag_free(&nf_diag);
        nf_rmdir(nf_plugdir);
}

struct nf_svc {
        struct service_cfg cfg;
        json_t *root;
        char *text;
};

struct nf_svc *nf_svc1(const char *plugin, const char *options)
{
        struct nf_svc *s = calloc(1, sizeof(*s));
        ck_assert_int_gt(asprintf(&s->text,
                                  "{\n  \"name\": \"svc\",\n  \"checks\": [\n    {\n"
                                  "      \"plugin\": \"%s\",\n      \"options\": %s\n    }\n"
                                  "  ]\n}\n",
                                  plugin, options),
                         0);
        json_error_t err;
        s->root = json_loads(s->text, 0, &err);
        ck_assert_msg(s->root, "bad test json: %s: %s", err.text, options);
        s->cfg.name = "svc";
        s->cfg.file = "svc.json";
        s->cfg.pos = jsonpos_index(s->text, strlen(s->text));
        s->cfg.n_checks = 1;
        s->cfg.checks = calloc(1, sizeof(*s->cfg.checks));
        struct check_cfg *cc = &s->cfg.checks[0];
        json_t *c = json_array_get(json_object_get(s->root, "checks"), 0);
        cc->plugin = strdup(plugin);
        cc->options = json_incref(json_object_get(c, "options"));
        cc->options_path = strdup("checks[0].options");
        ck_assert_int_eq(jsonpos_lookup(s->cfg.pos, "checks[0]", &cc->line, &cc->column), 0);
        return s;
}

void nf_svc_free(struct nf_svc *s)
{
        struct check_cfg *cc = &s->cfg.checks[0];
        free(cc->plugin);
        json_decref(cc->options);
        free(cc->options_path);
        free(s->cfg.checks);
        jsonpos_free(s->cfg.pos);
        json_decref(s->root);
        free(s->text);
        free(s);
}

struct check_runner *nf_runner(struct nf_svc *s)
{
        struct check_runner *r = NULL;
        int ret = check_runner_new(nf_host, &s->cfg, 0, &nf_diag, &r);
        if (ret < 0)
                diag_print(&nf_diag, stderr);
        ck_assert_int_eq(ret, 0);
        return r;
}

int nf_refused(const char *plugin, const char *options)
{
        struct nf_svc *s = nf_svc1(plugin, options);
        struct check_runner *r = NULL;
        int ret = check_runner_new(nf_host, &s->cfg, 0, &nf_diag, &r);
        ck_assert_ptr_null(r);
        nf_svc_free(s);
        return ret;
}

const struct diag_msg *nf_expect_diag(const char *needle)
{
        const struct diag_msg *m = diag_find(&nf_diag, needle);
        if (!m)
                diag_print(&nf_diag, stderr);
        ck_assert_msg(m, "no diag containing '%s'", needle);
        return m;
}

static void on_result(void *userdata, int result, const char *msg, uint64_t dur)
{
        struct nf_res *r = userdata;
        r->n++;
        r->code = result;
        snprintf(r->msg, sizeof(r->msg), "%s", msg);
        r->dur = dur;
}

sd_event *nf_event(void)
{
        return loop;
}

void nf_run_for(uint64_t usec)
{
        uint64_t end = nf_now_usec() + usec;
        while (nf_now_usec() < end)
                ck_assert_int_ge(sd_event_run(loop, 20000), 0);
}

struct nf_res nf_probe(struct check_runner *r, uint64_t timeout_usec)
{
        struct nf_res res = {0};
        ck_assert_int_eq(check_runner_start(r, timeout_usec, on_result, &res), 0);
        ck_assert_int_eq(res.n, 0);
        uint64_t end = nf_now_usec() + timeout_usec + 20000000;
        while (res.n < 1 && nf_now_usec() < end)
                ck_assert_int_ge(sd_event_run(loop, 50000), 0);
        ck_assert_int_eq(res.n, 1);
        nf_run_for(20000);
        ck_assert_int_eq(res.n, 1); /* exactly one */
        return res;
}

struct nf_res nf_probe1(const char *plugin, const char *options, uint64_t timeout_usec)
{
        struct nf_svc *s = nf_svc1(plugin, options);
        struct check_runner *r = nf_runner(s);
        struct nf_res res = nf_probe(r, timeout_usec);
        check_runner_free(r);
        nf_svc_free(s);
        return res;
}

static int bound(int type, int port)
{
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

int nf_free_port(void)
{
        for (int tries = 0; tries < 100; tries++) {
                int t = bound(SOCK_STREAM, 0);
                struct sockaddr_in sin;
                socklen_t len = sizeof(sin);
                ck_assert_int_eq(getsockname(t, (struct sockaddr *)&sin, &len), 0);
                int port = ntohs(sin.sin_port);
                int u = bound(SOCK_DGRAM, port);
                close(t);
                if (u >= 0) {
                        close(u);
                        return port;
                }
        }
        ck_abort_msg("no free port");
        return -1;
}

int nf_blackhole(int *port)
{
        int fd = bound(SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(listen(fd, 64), 0);
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
        *port = ntohs(sin.sin_port);
        return fd;
}

pid_t nf_spawn(char *const argv[], const char *log)
{
        /* fork+exec, not posix_spawn: <spawn.h> needs <sched.h>, which
         * helper/sched.h shadows on this target's include path */
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        ck_assert_int_ge(out, 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                setpgid(0, 0);
                int in = open("/dev/null", O_RDONLY);
                dup2(in, 0);
                dup2(out, 1);
                dup2(out, 2);
                execvp(argv[0], argv);
                dprintf(out, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(out);
        return pid;
}

static void dump(const char *log)
{
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "cat '%s' >&2", log);
        if (system(cmd) != 0)
                fprintf(stderr, "(no log %s)\n", log);
}

void nf_wait_tcp(int port, pid_t pid, const char *log)
{
        uint64_t end = nf_now_usec() + 20000000;
        while (nf_now_usec() < end) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
                inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
                int ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
                close(fd);
                if (ok)
                        return;
                if (waitpid(pid, NULL, WNOHANG) == pid) {
                        dump(log);
                        ck_abort_msg("server %d exited before listening on %d", pid, port);
                }
                usleep(20000);
        }
        dump(log);
        ck_abort_msg("nothing listens on port %d", port);
}

void nf_stop(pid_t pid)
{
        if (pid <= 0)
                return;
        kill(-pid, SIGTERM);
        for (int i = 0; i < 100; i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        return;
                usleep(20000);
        }
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

void nf_write(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        ck_assert_msg(f, "%s: %s", path, strerror(errno));
        ck_assert_int_ge(fputs(text, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

void nf_sh(const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
        va_end(ap);
        int r = system(cmd);
        ck_assert_msg(r == 0, "failed (%d): %s", r, cmd);
        free(cmd);
}
