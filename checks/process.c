/* process.c: is a process alive? Event-driven: the process is watched with a
 * pidfd on the daemon's loop, and its exit is reported at once through
 * host->report (CRITICAL), not at the next poll. Polls answer from the
 * pidfd too: OK while the process runs, CRITICAL once it exited.
 * Options: pid (integer) or pidfile (path; re-read at every poll, so a
 * restarted service with a new pid is followed). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "anycast-healthd-check.h"

struct proc {
        const struct ahc_host *host;
        struct ahc_opts *opts;
        struct ahc_check *check; /* NULL on a host older than ABI 1.1 */
        long long fixed_pid;     /* from "pid", or 0 */
        const char *pidfile;     /* or NULL */
        pid_t pid;               /* watched, or 0 */
        int pidfd;
        struct ahc_io *io;
        bool exited;             /* the watched pid exited */
        char why[PATH_MAX + 64]; /* why nothing is watched (pidfile problems) */
};

static int pidfd_open_(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void unwatch(struct proc *p)
{
        p->host->io_free(p->io);
        p->io = NULL;
        if (p->pidfd >= 0)
                close(p->pidfd);
        p->pidfd = -1;
        p->pid = 0;
        p->exited = false;
}

static void on_exit_event(void *userdata, int fd, uint32_t revents)
{
        struct proc *p = userdata;
        /* Readable means exited; the watch has served its purpose. */
        p->host->io_free(p->io);
        p->io = NULL;
        p->exited = true;
        char msg[64];
        snprintf(msg, sizeof(msg), "process %d exited", (int)p->pid);
        if (p->check)
                p->host->report(p->check, AHC_CRITICAL, msg);
}

/* Reads the pid from the pidfile: > 0, or 0 with p->why set. */
static pid_t read_pidfile(struct proc *p)
{
        char buf[64];
        /* Non-blocking and regular files only: a FIFO at the path would
         * otherwise hang the plugin's loop inside open() or read(). */
        int fd = open(p->pidfile, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                snprintf(p->why, sizeof(p->why), "pidfile %s: %s", p->pidfile, strerror(errno));
                return 0;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(p->why, sizeof(p->why), "pidfile %s: not a regular file", p->pidfile);
                close(fd);
                return 0;
        }
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0) {
                snprintf(p->why, sizeof(p->why), "pidfile %s: %s", p->pidfile, strerror(errno));
                return 0;
        }
        buf[n] = '\0';
        char *end;
        errno = 0;
        long v = strtol(buf, &end, 10);
        while (*end == '\n' || *end == ' ' || *end == '\t' || *end == '\r')
                end++;
        if (errno || end == buf || *end || v <= 0 || v > INT_MAX) {
                snprintf(p->why, sizeof(p->why), "pidfile %s: no pid in it", p->pidfile);
                return 0;
        }
        return (pid_t)v;
}

/* Watches pid (already watched: nothing to do). */
static void watch(struct proc *p, pid_t pid)
{
        if (pid == p->pid && (p->pidfd >= 0 || p->exited))
                return;
        unwatch(p);
        p->pid = pid;
        p->pidfd = pidfd_open_(pid);
        if (p->pidfd < 0) {
                /* ESRCH: gone already; polls say so */
                p->exited = errno == ESRCH;
                if (!p->exited)
                        snprintf(p->why, sizeof(p->why), "pidfd_open(%d): %s", (int)pid,
                                 strerror(errno));
                return;
        }
        int r = p->host->io_add(p->pidfd, AHC_IO_IN, on_exit_event, p, &p->io);
        if (r < 0 && r != -ENOTCONN) /* -ENOTCONN: validation only, no loop */
                p->host->log(p->opts, AHC_LOG_WARNING, "cannot watch process %d: %s", (int)pid,
                             strerror(-r));
}

static bool alive(struct proc *p)
{
        if (p->exited || p->pidfd < 0)
                return false;
        struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
        if (poll(&pfd, 1, 0) == 1) {
                p->exited = true;
                p->host->io_free(p->io);
                p->io = NULL;
                return false;
        }
        return true;
}

static int proc_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"pid", "pidfile", NULL};
        struct proc *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->host = host;
        p->opts = opts;
        p->pidfd = -1;
        int ret = host->opt_only(opts, known);
        int rp = host->opt_int(opts, "pid", &p->fixed_pid);
        int rf = host->opt_string(opts, "pidfile", &p->pidfile);
        if (rp == -EINVAL || rf == -EINVAL)
                ret = -EINVAL;
        else if (rp == 0 && rf == 0)
                ret = host->opt_error(opts, "pidfile", "give either \"pid\" or \"pidfile\"");
        else if (rp < 0 && rf < 0)
                ret = host->opt_error(opts, NULL, "\"pid\" or \"pidfile\" is required");
        else if (rp == 0 && (p->fixed_pid <= 0 || p->fixed_pid > INT_MAX))
                ret = host->opt_error(opts, "pid", "must be a positive process id, not %lld",
                                      p->fixed_pid);
        else if (rf == 0 && p->pidfile[0] != '/')
                ret = host->opt_error(opts, "pidfile", "must be an absolute path");
        if (ret < 0) {
                free(p);
                return ret;
        }
        if (rf < 0)
                p->pidfile = NULL;
        if (AHC_HOST_HAS(host, check))
                p->check = host->check(opts);
        pid_t pid = p->pidfile ? read_pidfile(p) : (pid_t)p->fixed_pid;
        if (pid > 0)
                watch(p, pid);
        *instance = p;
        return 0;
}

static int proc_probe(void *instance, struct ahc_probe *probe)
{
        struct proc *p = instance;
        char msg[PATH_MAX + 96];
        if (p->pidfile) {
                p->why[0] = '\0';
                pid_t pid = read_pidfile(p);
                if (pid <= 0) {
                        unwatch(p);
                        p->host->probe_done(probe, AHC_CRITICAL, p->why);
                        return 0;
                }
                watch(p, pid); /* a restart wrote a new pid: follow it */
        } else if (p->pid == 0 || (p->pidfd < 0 && !p->exited)) {
                watch(p, (pid_t)p->fixed_pid);
        }
        if (p->pidfd < 0 && !p->exited && p->why[0]) {
                p->host->probe_done(probe, AHC_UNKNOWN, p->why);
                return 0;
        }
        if (alive(p)) {
                snprintf(msg, sizeof(msg), "process %d running", (int)p->pid);
                p->host->probe_done(probe, AHC_OK, msg);
        } else {
                snprintf(msg, sizeof(msg), "process %d is not running", (int)p->pid);
                p->host->probe_done(probe, AHC_CRITICAL, msg);
        }
        return 0;
}

static void proc_cancel(void *instance, struct ahc_probe *probe)
{
        /* probe() always answers at once: nothing in flight to release */
}

static void proc_destroy(void *instance)
{
        struct proc *p = instance;
        unwatch(p);
        free(p);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "process",
    .description = "a process (pid or pidfile) is alive; its exit is reported at once",
    .flags = AHC_PLUGIN_LOOP_SAFE,
    .create = proc_create,
    .probe = proc_probe,
    .cancel = proc_cancel,
    .destroy = proc_destroy,
};
