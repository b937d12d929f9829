/* net_fixture.c: see net_fixture.h. */
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

#include "net_fixture.h"

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
        uint64_t end = fx_now() + 20000000;
        while (fx_now() < end) {
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
