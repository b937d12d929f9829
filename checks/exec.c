/* exec.c: runs a command (argv, no shell); the first line of its stdout is
 * the message. By default ("convention": "unix") exit 0 is OK and anything
 * else, a signal too, is CRITICAL: a plain script that exits 1 on failure
 * must withdraw, not keep the route as "degraded". Nagios plugins opt into
 * their codes with "convention": "nagios" (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN, anything else UNKNOWN, a signal CRITICAL).
 *
 * command[0] is checked when the config is loaded (absolute, a regular
 * executable file) so that a typo fails --check-config and a reload keeps
 * the old config, instead of surfacing as UNKNOWN results later. No PATH
 * lookup: what runs must not depend on the daemon's environment.
 *
 * The command runs in its own process group with stdin on /dev/null and
 * nothing of the daemon but stderr, so a timeout can end all of it: SIGTERM
 * to the group, SIGKILL after a grace second, reaped through the host's
 * child watch. When the command itself exits, whatever it left behind in
 * its group is killed too: a check must not leave processes around. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "anycast-healthd-check.h"

#define GRACE_USEC (1000 * 1000)
#define OUT_MAX    4096

extern char **environ;

struct job {
        struct exec *x;
        struct job *next;
        struct ahc_probe *probe; /* NULL once cancelled */
        pid_t pid;
        int out;
        struct ahc_io *io;
        struct ahc_child *child;
        struct ahc_timer *kill_timer;
        size_t len;
        char buf[OUT_MAX];
};

enum convention {
        CONV_UNIX,
        CONV_NAGIOS,
};

struct exec {
        const struct ahc_host *host;
        struct ahc_opts *opts;
        const char *const *argv;
        enum convention conv;
        struct job *jobs; /* the running one and any cancelled ones still dying */
};

static void job_close_output(struct job *j)
{
        j->x->host->io_free(j->io);
        j->io = NULL;
        if (j->out >= 0)
                close(j->out);
        j->out = -1;
}

static void job_free(struct job *j)
{
        for (struct job **pp = &j->x->jobs; *pp; pp = &(*pp)->next)
                if (*pp == j) {
                        *pp = j->next;
                        break;
                }
        job_close_output(j);
        j->x->host->child_free(j->child);
        j->x->host->timer_free(j->kill_timer);
        free(j);
}

/* Reads what is there; false at end of output. */
static bool job_read(struct job *j)
{
        for (;;) {
                char tmp[1024];
                ssize_t n = read(j->out, tmp, sizeof(tmp));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN;
                if (n == 0)
                        return false;
                size_t room = OUT_MAX - 1 - j->len;
                size_t take = (size_t)n < room ? (size_t)n : room;
                memcpy(j->buf + j->len, tmp, take);
                j->len += take; /* beyond OUT_MAX only the first line matters anyway */
        }
}

static void on_output(void *userdata, int fd, uint32_t revents)
{
        struct job *j = userdata;
        if (!job_read(j))
                job_close_output(j);
}

static void on_exit_status(void *userdata, pid_t pid, int si_code, int status)
{
        struct job *j = userdata;
        /* Stragglers in the group (the leader is a zombie until we return,
         * so the group id cannot have been reused). */
        kill(-pid, SIGKILL);
        struct ahc_probe *p = j->probe;
        if (!p) {
                job_free(j);
                return;
        }
        if (j->out >= 0)
                job_read(j);
        j->buf[j->len] = '\0';
        j->buf[strcspn(j->buf, "\r\n")] = '\0';
        char msg[OUT_MAX + 64];
        enum ahc_result res;
        if (si_code != CLD_EXITED) {
                res = AHC_CRITICAL;
                snprintf(msg, sizeof(msg), "killed by signal %d", status);
        } else if (j->x->conv == CONV_NAGIOS) {
                res = status >= 0 && status <= 3 ? (enum ahc_result)status : AHC_UNKNOWN;
                if (status > 3 && j->buf[0])
                        snprintf(msg, sizeof(msg), "exit code %d: %s", status, j->buf);
                else if (j->buf[0])
                        snprintf(msg, sizeof(msg), "%s", j->buf);
                else
                        snprintf(msg, sizeof(msg), "exit code %d", status);
        } else {
                res = status == 0 ? AHC_OK : AHC_CRITICAL;
                /* the code is the whole verdict here, so a failure names it */
                if (status != 0 && j->buf[0])
                        snprintf(msg, sizeof(msg), "exit code %d: %s", status, j->buf);
                else if (j->buf[0])
                        snprintf(msg, sizeof(msg), "%s", j->buf);
                else
                        snprintf(msg, sizeof(msg), "exit code %d", status);
        }
        const struct ahc_host *host = j->x->host;
        job_free(j);
        host->probe_done(p, res, msg);
}

static int spawn(struct exec *x, struct job *j)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        /* The daemon blocks signals for sd-event; the command must not inherit that. */
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
        int r = posix_spawn(&j->pid, x->argv[0], &fa, &attr, (char *const *)x->argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(pfd[1]);
        if (r != 0) {
                close(pfd[0]);
                return -r;
        }
        j->out = pfd[0];
        fcntl(j->out, F_SETFL, fcntl(j->out, F_GETFL) | O_NONBLOCK);
        return 0;
}

static int exec_probe(void *instance, struct ahc_probe *probe)
{
        struct exec *x = instance;
        struct job *j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->x = x;
        j->out = -1;
        int r = spawn(x, j);
        if (r < 0) {
                free(j);
                char msg[256];
                snprintf(msg, sizeof(msg), "cannot run %s: %s", x->argv[0], strerror(-r));
                x->host->probe_done(probe, AHC_UNKNOWN, msg);
                return 0;
        }
        j->next = x->jobs;
        x->jobs = j;
        r = x->host->child_add(j->pid, on_exit_status, j, &j->child);
        if (r >= 0)
                r = x->host->io_add(j->out, AHC_IO_IN, on_output, j, &j->io);
        if (r < 0) {
                kill(-j->pid, SIGKILL);
                if (!j->child) {
                        waitpid(j->pid, NULL, 0);
                        job_free(j);
                        return r;
                }
                /* the child watch reaps it; the probe fails now */
                j->probe = NULL;
                return r;
        }
        j->probe = probe;
        return 0;
}

static void on_grace_over(void *userdata)
{
        struct job *j = userdata;
        j->x->host->timer_free(j->kill_timer);
        j->kill_timer = NULL;
        kill(-j->pid, SIGKILL);
}

static void exec_cancel(void *instance, struct ahc_probe *probe)
{
        struct exec *x = instance;
        for (struct job *j = x->jobs; j; j = j->next) {
                if (j->probe != probe)
                        continue;
                j->probe = NULL;
                job_close_output(j);
                kill(-j->pid, SIGTERM);
                if (x->host->timer_add(GRACE_USEC, on_grace_over, j, &j->kill_timer) < 0)
                        kill(-j->pid, SIGKILL);
        }
}

/* Refuses a command[0] that could never run, with the reason at its
 * position. stat and access only: the file is not opened, so checking a
 * FIFO or a device cannot block the loader. */
static int check_program(const struct ahc_host *host, struct ahc_opts *opts, const char *prog)
{
        if (prog[0] != '/')
                return host->opt_error(opts, "command",
                                       "\"%s\" is not an absolute path (there is no PATH lookup)",
                                       prog);
        struct stat st;
        if (stat(prog, &st) < 0)
                return host->opt_error(opts, "command", "%s: %s", prog, strerror(errno));
        if (S_ISDIR(st.st_mode))
                return host->opt_error(opts, "command", "%s is a directory", prog);
        if (!S_ISREG(st.st_mode))
                return host->opt_error(opts, "command", "%s is not a regular file", prog);
        /* the effective ids are the ones the kernel checks at execve */
        if (faccessat(AT_FDCWD, prog, X_OK, AT_EACCESS) < 0)
                return host->opt_error(opts, "command", "%s is not executable: %s", prog,
                                       strerror(errno));
        return 0;
}

/* Whether prog lives where distributions install Nagios plugins, whose
 * exit 1 means WARNING and would withdraw under the unix convention. */
static bool looks_like_nagios_plugin(const char *prog)
{
        const char *slash = strrchr(prog, '/');
        if (!slash)
                return false;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%.*s/", (int)(slash - prog), prog);
        return strstr(dir, "/nagios/plugins/") || strstr(dir, "/monitoring-plugins/");
}

static int exec_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"command", "convention", NULL};
        int r = host->opt_only(opts, known);
        const char *const *argv = NULL;
        size_t n = 0;
        int c = host->opt_strv(opts, "command", &argv, &n);
        if (c == -ENOENT)
                r = host->opt_error(opts, NULL, "\"command\" is required");
        else if (c < 0)
                r = c;
        else if (n == 0 || !argv[0][0])
                r = host->opt_error(opts, "command", "must name a program");
        else if ((c = check_program(host, opts, argv[0])) < 0)
                r = c;

        enum convention conv = CONV_UNIX;
        const char *cv = NULL;
        c = host->opt_string(opts, "convention", &cv);
        if (c == 0 && strcmp(cv, "nagios") == 0)
                conv = CONV_NAGIOS;
        else if (c == 0 && strcmp(cv, "unix") != 0)
                r = host->opt_error(opts, "convention",
                                    "must be \"unix\" or \"nagios\", not \"%s\"", cv);
        else if (c < 0 && c != -ENOENT)
                r = c;
        if (r < 0)
                return r;
        if (c == -ENOENT && looks_like_nagios_plugin(argv[0]) && AHC_HOST_HAS(host, opt_warning))
                host->opt_warning(opts, "command",
                                  "%s looks like a Nagios plugin: its exit 1 (WARNING) counts as "
                                  "down under the default \"unix\" convention; add "
                                  "\"convention\": \"nagios\" if degraded is meant",
                                  argv[0]);

        struct exec *x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        *x = (struct exec){.host = host, .opts = opts, .argv = argv, .conv = conv};
        *instance = x;
        return 0;
}

static void exec_destroy(void *instance)
{
        struct exec *x = instance;
        while (x->jobs) {
                struct job *j = x->jobs;
                kill(-j->pid, SIGKILL);
                x->host->child_free(j->child);
                j->child = NULL;
                while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                job_free(j);
        }
        free(x);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "exec",
    .description = "runs a command; exit code (unix or nagios convention) and first output line "
                   "are the result",
    .flags = AHC_PLUGIN_LOOP_SAFE,
    .create = exec_create,
    .probe = exec_probe,
    .cancel = exec_cancel,
    .destroy = exec_destroy,
};
