/* hooks.c: transition hooks as supervised child processes (hooks.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"

#define MAX_HOOKS       32
#define KILL_GRACE_USEC (1000ULL * 1000ULL)

struct hook {
        struct hook_runner *h;
        pid_t pid;
        char label[128];
        sd_event_source *child, *timer;
        bool timed_out;
};

struct hook_runner {
        sd_event *e;
        struct hook *running[MAX_HOOKS];
        unsigned n;
};

int hook_runner_new(sd_event *e, struct hook_runner **out)
{
        struct hook_runner *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->e = sd_event_ref(e);
        *out = h;
        return 0;
}

static void hook_free(struct hook *k)
{
        struct hook_runner *h = k->h;
        for (unsigned i = 0; i < h->n; i++)
                if (h->running[i] == k) {
                        h->running[i] = h->running[--h->n];
                        break;
                }
        sd_event_source_disable_unref(k->child);
        sd_event_source_disable_unref(k->timer);
        free(k);
}

void hook_runner_free(struct hook_runner *h)
{
        if (!h)
                return;
        while (h->n) {
                struct hook *k = h->running[0];
                kill(-k->pid, SIGKILL);
                /* sd-event no longer watches it once the source is gone: reap here */
                sd_event_source_disable_unref(k->child);
                k->child = NULL;
                waitpid(k->pid, NULL, 0);
                hook_free(k);
        }
        sd_event_unref(h->e);
        free(h);
}

static int on_exit_cb(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct hook *k = userdata;
        if (k->timed_out)
                log_warning("hook %s (pid %d) killed after its timeout", k->label, (int)k->pid);
        else if (si->si_code == CLD_EXITED && si->si_status == 0)
                log_debug("hook %s (pid %d) done", k->label, (int)k->pid);
        else if (si->si_code == CLD_EXITED)
                log_warning("hook %s (pid %d) exited with status %d", k->label, (int)k->pid,
                            si->si_status);
        else
                log_warning("hook %s (pid %d) killed by signal %d", k->label, (int)k->pid,
                            si->si_status);
        hook_free(k);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct hook *k = userdata;
        if (!k->timed_out) {
                k->timed_out = true;
                log_warning("hook %s (pid %d) timed out; terminating its process group", k->label,
                            (int)k->pid);
                kill(-k->pid, SIGTERM);
                sd_event_source_set_time(s, usec + KILL_GRACE_USEC);
                sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        } else {
                kill(-k->pid, SIGKILL);
        }
        return 0;
}

static void child_exec(char *const argv[], char *const env[])
{
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                signal(sig, SIG_DFL);
        setpgid(0, 0);
        int nul = open("/dev/null", O_RDWR);
        if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(nul, STDOUT_FILENO) < 0)
                _exit(126);
        close_range(3, ~0U, 0);
        /* not for hooks: our notify socket and watchdog */
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        for (size_t i = 0; env && env[i]; i++)
                putenv(env[i]);
        execv(argv[0], argv);
        fprintf(stderr, "hook: cannot run %s: %m\n", argv[0]);
        _exit(127);
}

pid_t hook_run(struct hook_runner *h, char *const argv[], char *const env[], uint64_t timeout_usec,
               const char *label)
{
        if (!argv || !argv[0])
                return -EINVAL;
        if (h->n >= MAX_HOOKS) {
                log_warning("hook %s not run: %d hooks still running", label, MAX_HOOKS);
                return -EAGAIN;
        }
        struct hook *k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->h = h;
        snprintf(k->label, sizeof(k->label), "%s", label);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                free(k);
                log_err("hook %s: fork failed: %s", label, strerror(-r));
                return r;
        }
        if (pid == 0)
                child_exec(argv, env);
        setpgid(pid, pid); /* also here: no race with a kill before the child ran */
        k->pid = pid;
        h->running[h->n++] = k;
        int r = sd_event_add_child(h->e, &k->child, pid, WEXITED, on_exit_cb, k);
        if (r >= 0)
                r = sd_event_add_time_relative(h->e, &k->timer, CLOCK_MONOTONIC, timeout_usec, 1000,
                                               on_timeout, k);
        if (r < 0) {
                log_err("hook %s: cannot watch pid %d: %s; killing it", label, (int)pid,
                        strerror(-r));
                kill(-pid, SIGKILL);
                sd_event_source_disable_unref(k->child);
                k->child = NULL;
                waitpid(pid, NULL, 0);
                hook_free(k);
                return r;
        }
        log_debug("hook %s started (pid %d)", label, (int)pid);
        return pid;
}
