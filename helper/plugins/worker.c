/* worker.c: fork a worker, set up its isolation, serve probes in it, and
 * the daemon's side of the message exchange. See worker.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_SANITIZED 1 /* ASan maps terabytes of shadow: RLIMIT_AS would kill it */
#else
#define WORKER_SANITIZED 0
#endif

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int send_msg(int fd, uint32_t type, uint32_t seq, int32_t code, const char *text)
{
        struct worker_msg m = {.type = type, .seq = seq, .code = code};
        size_t len = 0;
        if (text) {
                len = strnlen(text, WORKER_TEXT_MAX - 1);
                memcpy(m.text, text, len);
        }
        size_t sz = offsetof(struct worker_msg, text) + len + 1;
        for (;;) {
                ssize_t n = send(fd, &m, sz, MSG_NOSIGNAL);
                if (n >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int worker_send_probe(int fd, uint32_t seq)
{
        return send_msg(fd, WM_PROBE, seq, 0, NULL);
}

int worker_recv(int fd, struct worker_msg *m)
{
        ssize_t n;
        do
                n = recv(fd, m, sizeof(*m), MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == ECONNRESET ? 0 : -errno;
        if (n == 0)
                return 0;
        if ((size_t)n < offsetof(struct worker_msg, text) + 1)
                return -EBADMSG;
        ((char *)m)[n - 1] = '\0'; /* n <= sizeof(*m): the text ends in the packet */
        return 1;
}

/* ---- the worker process ---- */

static int worker_fd = -1;

struct ahc_probe {
        bool done;
        int result;
        char msg[WORKER_TEXT_MAX];
};

static void w_log(const struct ahc_opts *ctx, int priority, const char *fmt, ...)
{
        char buf[WORKER_TEXT_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        send_msg(worker_fd, WM_LOG, 0, priority, buf);
}

static void w_report(void *userdata, const char *key, bool warning, const char *text)
{
        char buf[WORKER_TEXT_MAX];
        snprintf(buf, sizeof(buf), "%s\t%s", key ? key : "", text);
        send_msg(worker_fd, WM_OPTERR, 0, warning ? 1 : 0, buf);
}

static int w_io_add(int fd, uint32_t events, ahc_io_cb cb, void *userdata, struct ahc_io **out)
{
        return -EOPNOTSUPP;
}
static int w_io_set_events(struct ahc_io *io, uint32_t events)
{
        return -EOPNOTSUPP;
}
static void w_io_free(struct ahc_io *io)
{
}
static int w_timer_add(uint64_t usec, ahc_timer_cb cb, void *userdata, struct ahc_timer **out)
{
        return -EOPNOTSUPP;
}
static void w_timer_free(struct ahc_timer *t)
{
}
static int w_child_add(pid_t pid, ahc_child_cb cb, void *userdata, struct ahc_child **out)
{
        return -EOPNOTSUPP;
}
static void w_child_free(struct ahc_child *c)
{
}

static void w_probe_done(struct ahc_probe *p, enum ahc_result result, const char *msg)
{
        if (p->done)
                return;
        p->done = true;
        p->result = result;
        snprintf(p->msg, sizeof(p->msg), "%s", msg ? msg : "");
}

static uint64_t w_now_usec(void)
{
        return mono_usec();
}

/* One check per worker: the handle only has to be non-NULL and ours. */
static struct ahc_check {
        int unused;
} w_check_handle;

static struct ahc_check *w_check(struct ahc_opts *o)
{
        return &w_check_handle;
}

/* One packet per report: safe from a plugin's own threads too. */
static void w_event(struct ahc_check *c, enum ahc_result result, const char *msg)
{
        if (c == &w_check_handle)
                send_msg(worker_fd, WM_REPORT, 0, (int32_t)result, msg ? msg : "");
}

static const struct ahc_host worker_host = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_host),
    .log = w_log,
    .opt_string = opts_string,
    .opt_int = opts_int,
    .opt_bool = opts_bool,
    .opt_strv = opts_strv,
    .opt_duration = opts_duration,
    .opt_error = opts_error,
    .opt_only = opts_only,
    .io_add = w_io_add,
    .io_set_events = w_io_set_events,
    .io_free = w_io_free,
    .timer_add = w_timer_add,
    .timer_free = w_timer_free,
    .child_add = w_child_add,
    .child_free = w_child_free,
    .probe_done = w_probe_done,
    .now_usec = w_now_usec,
    .check = w_check,
    .report = w_event,
    .opt_intv = opts_intv,
    .opt_strmap = opts_strmap,
    .opt_warning = opts_warning,
};

static uint64_t statm_field(pid_t pid, int field)
{
        char path[64];
        unsigned long long v[2] = {0, 0};
        if (pid)
                snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
        else
                snprintf(path, sizeof(path), "/proc/self/statm");
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "%llu %llu", &v[0], &v[1]) != 2)
                v[0] = v[1] = 0;
        fclose(f);
        return v[field] * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t worker_rss(pid_t pid)
{
        return statm_field(pid, 1);
}

/* Default action for the crash signals, through the raw system call: a
 * sanitizer runtime intercepts signal() and would turn a crash into exit 1,
 * while the daemon must see the signal to report "plugin crashed". */
static void default_crash_signals(void)
{
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP};
        struct {
                void *handler;
                unsigned long flags;
                void *restorer;
                uint64_t mask;
        } ksa = {0}; /* SIG_DFL */
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
                syscall(SYS_rt_sigaction, sigs[i], &ksa, NULL, sizeof(ksa.mask));
}

/* Leaves the child with fd 0 and 1 on /dev/null, fd 2 the daemon's stderr,
 * fd 3 the socket, default signal handling and no parent to outlive. */
static void child_setup(int sock, pid_t parent, uint64_t mem_limit)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
        setpgid(0, 0);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        default_crash_signals();

        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
                _exit(127);
        if (sock != 3 && dup2(sock, 3) < 0)
                _exit(127);
        fcntl(3, F_SETFD, FD_CLOEXEC);
        /* Nothing else of the daemon's: its stdout may carry a speaker's API,
         * and any copy held here would hide our death from that speaker. */
        if (close_range(4, ~0u, 0) < 0)
                for (int fd = 4; fd < 65536; fd++)
                        close(fd);
        worker_fd = 3;

        if (!WORKER_SANITIZED && mem_limit) {
                uint64_t lim = statm_field(0, 0) + mem_limit;
                struct rlimit rl = {.rlim_cur = lim, .rlim_max = lim};
                setrlimit(RLIMIT_AS, &rl);
        }
}

static void __attribute__((noreturn))
child_main(const struct ahc_plugin *plugin, struct ahc_opts *opts)
{
        opts_set_report(opts, w_report, NULL);
        void *instance = NULL;
        int r = plugin->create(&worker_host, opts, &instance);
        if (r < 0) {
                send_msg(worker_fd, WM_FAILED, 0, r, NULL);
                _exit(1);
        }
        send_msg(worker_fd, WM_READY, 0, 0, NULL);
        for (;;) {
                struct worker_msg m;
                ssize_t n = recv(worker_fd, &m, sizeof(m), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(0); /* the daemon closed our socket */
                if (m.type != WM_PROBE)
                        continue;
                struct ahc_probe p = {0};
                r = plugin->probe(instance, &p);
                if (r < 0 && !p.done)
                        snprintf(p.msg, sizeof(p.msg), "probe failed: %s", strerror(-r));
                else if (!p.done)
                        snprintf(p.msg, sizeof(p.msg), "plugin returned without a result");
                if (!p.done)
                        p.result = AHC_UNKNOWN;
                send_msg(worker_fd, WM_RESULT, m.seq, p.result, p.msg);
        }
}

int worker_spawn(const struct ahc_plugin *plugin, struct ahc_opts *opts, uint64_t mem_limit,
                 pid_t *pid, int *fd)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid_t parent = getpid();
        fflush(stderr);
        pid_t p = fork();
        if (p < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        if (p == 0) {
                close(sv[0]);
                child_setup(sv[1], parent, mem_limit);
                child_main(plugin, opts);
        }
        close(sv[1]);
        setpgid(p, p); /* also here, so a kill of the group cannot race the child */
        fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
        *pid = p;
        *fd = sv[0];
        return 0;
}

int worker_handshake(int fd, uint64_t timeout_usec, opts_report_fn report, void *userdata,
                     const char *label)
{
        uint64_t deadline = mono_usec() + timeout_usec;
        for (;;) {
                struct worker_msg m;
                int r = worker_recv(fd, &m);
                if (r == 0)
                        return -EPIPE;
                if (r == -EAGAIN) {
                        uint64_t now = mono_usec();
                        if (now >= deadline)
                                return -ETIMEDOUT;
                        struct pollfd pfd = {.fd = fd, .events = POLLIN};
                        int ms = (int)((deadline - now + 999) / 1000);
                        if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
                                return -errno;
                        continue;
                }
                if (r < 0)
                        return r;
                switch (m.type) {
                case WM_OPTERR: {
                        char *tab = strchr(m.text, '\t');
                        if (!tab)
                                break;
                        *tab = '\0';
                        report(userdata, m.text[0] ? m.text : NULL, m.code == 1, tab + 1);
                        break;
                }
                case WM_LOG:
                        log_msg(m.code & 7, "%s: %s", label, m.text);
                        break;
                case WM_READY:
                        return 0;
                case WM_FAILED:
                        return m.code < 0 ? m.code : -EINVAL;
                default:
                        break;
                }
        }
}

void worker_kill(pid_t pid)
{
        if (pid > 0) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
        }
}

void worker_kill_reap(pid_t pid)
{
        worker_kill(pid);
        while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
