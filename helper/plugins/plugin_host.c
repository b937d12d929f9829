/* plugin_host.c: check runners. A runner owns one check's plugin instance
 * (loop-safe plugins) or its worker process (all others), the probe in
 * flight, its deadline and the deferred delivery of its one result.
 *
 * Worker supervision: a worker is forked when the check is built (its
 * create() handshake is where option problems come from) and again at the
 * next probe after it died or was killed. A crash, a timeout or too much
 * memory fails that probe and delays the next restart by a backoff that
 * starts at zero and doubles (100 ms .. 10 s) while failures repeat.
 *
 * Unsolicited reports (host->report) queue on the runner and reach its
 * report receiver from a defer source, one per dispatch, in order. */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonpos.h"
#include "log.h"
#include "plugin_host.h"
#include "event_priority.h"
#include "timerq.h"
#include "plugin_load.h"
#include "plugin_loop.h"
#include "plugin_opts.h"
#include "worker.h"

#define MSG_MAX            256
#define PROBE_SLOTS        4
#define HANDSHAKE_USEC     (5 * 1000000ULL)
#define BACKOFF_FIRST_USEC 100000ULL
#define BACKOFF_MAX_USEC   (10 * 1000000ULL)
#define DEFAULT_WORKER_MEM (256ULL << 20)
#define REPORT_QUEUE       8

struct wproc;

struct plugin_host {
        sd_event *e;
        struct timerq *sched; /* every runner's timeout, on one timer */
        struct plugin_registry reg;
        struct wproc *procs; /* every worker not yet reaped */
        uint64_t worker_mem;
};

/* A worker process; outlives its runner's interest in it until reaped. */
struct wproc {
        struct wproc *next, **pprev;
        struct plugin_host *h;
        struct check_runner *r; /* NULL once the runner let go (killed, dying) */
        pid_t pid;
        int fd;
        uint64_t rss_base;
        int create_failed; /* negative errno from WM_FAILED, else 0 */
        sd_event_source *io, *child;
};

/* The handle a loop-safe plugin gets; slots rotate so that a late
 * probe_done after cancel hits an inactive slot instead of freed memory. */
struct ahc_probe {
        struct check_runner *r;
        bool active;
};

enum runner_state { IDLE, RUNNING, DELIVERING };

/* What host->check() hands a plugin: a way back to its runner. */
struct ahc_check {
        struct check_runner *r;
};

struct report {
        int result;
        char msg[MSG_MAX];
};

struct check_runner {
        struct plugin_host *h;
        const struct ahc_plugin *plugin;
        struct ahc_opts *opts;
        void *instance; /* loop-safe plugins */
        bool worker_mode;
        struct wproc *w; /* worker mode: the current worker, or NULL */
        uint64_t next_spawn_usec, backoff_usec;

        enum runner_state state;
        struct ahc_probe slots[PROBE_SLOTS];
        unsigned next_slot;
        struct ahc_probe *cur;
        uint32_t seq;
        uint64_t started_usec, timeout_usec;
        check_result_fn cb;
        void *userdata;
        int result;
        char msg[MSG_MAX];
        struct timerq_item timeout;
        sd_event_source *defer_src; /* delivers results given inside start */
        bool in_start;

        struct ahc_check handle;
        check_report_fn report_fn;
        void *report_userdata;
        struct report *reports; /* ring of REPORT_QUEUE: head, n; allocated at the first report */
        unsigned report_head, report_n;
        sd_event_source *report_src;
};

static void host_log(const struct ahc_opts *ctx, int priority, const char *fmt, ...)
{
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        log_msg(priority & 7, "%s: %s", ctx ? ctx->label : "plugin", buf);
}

static void host_probe_done(struct ahc_probe *p, enum ahc_result result, const char *msg);
static struct ahc_check *host_check(struct ahc_opts *o);
static void host_report(struct ahc_check *c, enum ahc_result result, const char *msg);

static const struct ahc_host loop_host = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_host),
    .log = host_log,
    .opt_string = opts_string,
    .opt_int = opts_int,
    .opt_bool = opts_bool,
    .opt_strv = opts_strv,
    .opt_duration = opts_duration,
    .opt_error = opts_error,
    .opt_only = opts_only,
    .io_add = plugin_loop_io_add,
    .io_set_events = plugin_loop_io_set_events,
    .io_free = plugin_loop_io_free,
    .timer_add = plugin_loop_timer_add,
    .timer_free = plugin_loop_timer_free,
    .child_add = plugin_loop_child_add,
    .child_free = plugin_loop_child_free,
    .probe_done = host_probe_done,
    .now_usec = plugin_loop_now_usec,
    .check = host_check,
    .report = host_report,
    .opt_intv = opts_intv,
    .opt_strmap = opts_strmap,
    .opt_warning = opts_warning,
};

/* ---- results ---- */

static void format_usec(char *buf, size_t sz, uint64_t usec)
{
        if (usec % 1000000 == 0)
                snprintf(buf, sz, "%llus", (unsigned long long)(usec / 1000000));
        else if (usec % 1000 == 0)
                snprintf(buf, sz, "%llums", (unsigned long long)(usec / 1000));
        else
                snprintf(buf, sz, "%lluus", (unsigned long long)usec);
}

static void deliver(struct check_runner *r);

/* Ends the probe in flight and delivers its result. */
static void finish(struct check_runner *r, int result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(struct check_runner *r, int result, const char *fmt, ...)
{
        if (r->state != RUNNING)
                return;
        if (r->cur)
                r->cur->active = false;
        r->cur = NULL;
        r->state = DELIVERING;
        r->result = (result >= AHC_OK && result <= AHC_UNKNOWN) ? result : AHC_UNKNOWN;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
        va_end(ap);
        r->msg[strcspn(r->msg, "\r\n")] = '\0';
        timerq_cancel(r->h->sched, &r->timeout);
        /* Deliver at once, saving a loop iteration per probe, unless the
         * result came from inside check_runner_start(): the caller is
         * promised its callback never runs from within that call. */
        if (r->in_start)
                sd_event_source_set_enabled(r->defer_src, SD_EVENT_ONESHOT);
        else
                deliver(r);
}

static int on_deliver(sd_event_source *s, void *userdata)
{
        deliver(userdata);
        return 0;
}

static void deliver(struct check_runner *r)
{
        if (r->state != DELIVERING)
                return;
        r->state = IDLE;
        char msg[MSG_MAX];
        memcpy(msg, r->msg, sizeof(msg));
        uint64_t took = plugin_loop_now_usec() - r->started_usec;
        /* The callback may start the next probe, but must not free the
         * runner: a plugin may still be inside its own callback. */
        r->cb(r->userdata, r->result, msg, took);
}

static void host_probe_done(struct ahc_probe *p, enum ahc_result result, const char *msg)
{
        if (!p || !p->active) {
                log_debug("plugin reported a probe that already ended; ignored");
                return;
        }
        finish(p->r, (int)result, "%s", msg ? msg : "");
}

/* ---- unsolicited reports ---- */

static int on_report(sd_event_source *s, void *userdata)
{
        struct check_runner *r = userdata;
        if (!r->report_fn || r->report_n == 0)
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        struct report rep = r->reports[r->report_head];
        r->report_head = (r->report_head + 1) % REPORT_QUEUE;
        r->report_n--;
        sd_event_source_set_enabled(s, r->report_n ? SD_EVENT_ON : SD_EVENT_OFF);
        /* Last: the receiver may free the runner. */
        r->report_fn(r->report_userdata, rep.result, rep.msg);
        return 0;
}

/* Queues one report. A full queue keeps its oldest entries and replaces
 * the newest: the latest state always arrives. */
static void runner_report(struct check_runner *r, int result, const char *msg)
{
        if (!r->h->e) {
                log_debug("%s: report without a loop dropped", r->opts->label);
                return;
        }
        /* Most checks never report unsolicited: keep the ring off the
         * 10,000 runners that do not. */
        if (!r->reports && !(r->reports = calloc(REPORT_QUEUE, sizeof(*r->reports)))) {
                log_warning("%s: cannot queue report: out of memory", r->opts->label);
                return;
        }
        if (!r->report_src) {
                int ret = sd_event_add_defer(r->h->e, &r->report_src, on_report, r);
                if (ret < 0) {
                        log_warning("%s: cannot queue report: %s", r->opts->label, strerror(-ret));
                        return;
                }
        }
        struct report *rep;
        if (r->report_n < REPORT_QUEUE) {
                rep = &r->reports[(r->report_head + r->report_n) % REPORT_QUEUE];
                r->report_n++;
        } else {
                log_debug("%s: report queue full; replacing the newest", r->opts->label);
                rep = &r->reports[(r->report_head + REPORT_QUEUE - 1) % REPORT_QUEUE];
        }
        rep->result = (result >= AHC_OK && result <= AHC_UNKNOWN) ? result : AHC_UNKNOWN;
        snprintf(rep->msg, sizeof(rep->msg), "%s", msg ? msg : "");
        rep->msg[strcspn(rep->msg, "\r\n")] = '\0';
        if (r->report_fn)
                sd_event_source_set_enabled(r->report_src, SD_EVENT_ON);
}

static struct ahc_check *host_check(struct ahc_opts *o)
{
        return o ? o->check : NULL;
}

static void host_report(struct ahc_check *c, enum ahc_result result, const char *msg)
{
        if (!c || !c->r) {
                log_debug("plugin reported without a check handle; ignored");
                return;
        }
        runner_report(c->r, (int)result, msg);
}

void check_runner_set_report_fn(struct check_runner *r, check_report_fn fn, void *userdata)
{
        r->report_fn = fn;
        r->report_userdata = userdata;
        if (fn && r->report_n && r->report_src)
                sd_event_source_set_enabled(r->report_src, SD_EVENT_ON);
}

/* ---- workers ---- */

static void wproc_free(struct wproc *w)
{
        sd_event_source_disable_unref(w->io);
        sd_event_source_disable_unref(w->child);
        if (w->fd >= 0)
                close(w->fd);
        *w->pprev = w->next;
        if (w->next)
                w->next->pprev = w->pprev;
        free(w);
}

/* The runner lets go of its worker: killed now, reaped by the loop. */
static void wproc_detach_kill(struct check_runner *r)
{
        struct wproc *w = r->w;
        if (!w)
                return;
        r->w = NULL;
        w->r = NULL;
        worker_kill(w->pid);
        w->io = sd_event_source_disable_unref(w->io);
        close(w->fd);
        w->fd = -1;
}

static void note_failure(struct check_runner *r)
{
        r->next_spawn_usec = plugin_loop_now_usec() + r->backoff_usec;
        r->backoff_usec = r->backoff_usec ? r->backoff_usec * 2 : BACKOFF_FIRST_USEC;
        if (r->backoff_usec > BACKOFF_MAX_USEC)
                r->backoff_usec = BACKOFF_MAX_USEC;
}

static void on_worker_result(struct check_runner *r, const struct worker_msg *m)
{
        if (r->state != RUNNING || m->seq != r->seq)
                return;
        uint64_t rss = worker_rss(r->w->pid);
        uint64_t limit = r->w->rss_base + r->h->worker_mem;
        if (rss > limit) {
                log_warning("%s: worker uses %llu MiB, more than %llu MiB; restarting it",
                            r->opts->label, (unsigned long long)(rss >> 20),
                            (unsigned long long)(limit >> 20));
                wproc_detach_kill(r);
                note_failure(r);
                finish(r, AHC_UNKNOWN, "plugin killed: %llu MiB exceeds its memory limit",
                       (unsigned long long)(rss >> 20));
                return;
        }
        r->backoff_usec = 0;
        finish(r, m->code, "%s", m->text);
}

static int on_worker_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct wproc *w = userdata;
        for (;;) {
                struct worker_msg m;
                int n = worker_recv(fd, &m);
                if (n == -EAGAIN)
                        return 0;
                if (n <= 0) {
                        /* Gone: the child watch tells how it ended. */
                        w->io = sd_event_source_disable_unref(w->io);
                        return 0;
                }
                const char *label = w->r ? w->r->opts->label : "worker";
                switch (m.type) {
                case WM_LOG:
                        log_msg(m.code & 7, "%s: %s", label, m.text);
                        break;
                case WM_OPTERR: {
                        char *tab = strchr(m.text, '\t');
                        log_warning("%s: %s", label, tab ? tab + 1 : m.text);
                        break;
                }
                case WM_FAILED:
                        w->create_failed = m.code < 0 ? m.code : -EINVAL;
                        break;
                case WM_RESULT:
                        if (w->r)
                                on_worker_result(w->r, &m);
                        if (!w->r || w->r->w != w)
                                return 0; /* detached meanwhile: w->io is gone */
                        break;
                case WM_REPORT:
                        if (w->r)
                                runner_report(w->r, m.code, m.text);
                        break;
                default:
                        break;
                }
        }
}

static int on_worker_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct wproc *w = userdata;
        struct check_runner *r = w->r;
        if (r && r->w == w) {
                r->w = NULL;
                note_failure(r);
                bool sig = si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED;
                log_warning("%s: worker %d %s %d", r->opts->label, (int)w->pid,
                            sig ? "died of signal" : "exited with status", si->si_status);
                if (sig)
                        finish(r, AHC_UNKNOWN, "plugin crashed (signal %d)", si->si_status);
                else if (w->create_failed)
                        finish(r, AHC_UNKNOWN, "plugin failed to start: %s",
                               strerror(-w->create_failed));
                else
                        finish(r, AHC_UNKNOWN, "plugin worker exited (status %d)", si->si_status);
        }
        wproc_free(w); /* sd-event reaps the child after this returns */
        return 0;
}

/* Forks the runner's worker; with a loop it is watched there. */
static int wproc_spawn(struct check_runner *r)
{
        struct wproc *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->h = r->h;
        w->fd = -1;
        w->rss_base = worker_rss(getpid());
        int ret = worker_spawn(r->plugin, r->opts, r->h->worker_mem, &w->pid, &w->fd);
        if (ret < 0) {
                free(w);
                return ret;
        }
        w->next = r->h->procs;
        if (w->next)
                w->next->pprev = &w->next;
        w->pprev = &r->h->procs;
        r->h->procs = w;
        w->r = r;
        r->w = w;
        if (r->h->e) {
                ret = sd_event_add_io(r->h->e, &w->io, w->fd, EPOLLIN, on_worker_io, w);
                if (ret >= 0)
                        ret = sd_event_add_child(r->h->e, &w->child, w->pid, WEXITED,
                                                 on_worker_exit, w);
                if (ret < 0) {
                        r->w = NULL;
                        worker_kill_reap(w->pid);
                        wproc_free(w);
                        return ret;
                }
        }
        return 0;
}

/* ---- host ---- */

int plugin_host_new(sd_event *e, const char *plugin_dir, struct plugin_host **out)
{
        struct plugin_host *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        int r = plugin_registry_init(&h->reg, plugin_dir);
        if (r < 0) {
                free(h);
                return r;
        }
        h->worker_mem = DEFAULT_WORKER_MEM;
        if (e) {
                sigset_t ss;
                sigemptyset(&ss);
                sigaddset(&ss, SIGCHLD);
                sigprocmask(SIG_BLOCK, &ss, NULL);
                h->e = sd_event_ref(e);
                plugin_loop_set(e);
                r = timerq_new(e, clock_system(), 1000, &h->sched);
                /* Timeouts after I/O: when the loop falls behind, an answer
                 * already waiting in a socket is read before its probe's
                 * deadline is judged, instead of counting as a timeout. */
                if (r >= 0)
                        r = timerq_set_priority(h->sched, EV_PRIO_CHECK_START);
                if (r < 0) {
                        plugin_host_free(h);
                        return r;
                }
        }
        *out = h;
        return 0;
}

void plugin_host_free(struct plugin_host *h)
{
        if (!h)
                return;
        while (h->procs) {
                struct wproc *w = h->procs;
                sd_event_source *child = w->child;
                w->child = NULL;
                sd_event_source_disable_unref(child);
                worker_kill_reap(w->pid);
                if (w->r)
                        w->r->w = NULL;
                wproc_free(w);
        }
        timerq_free(h->sched);
        if (h->e) {
                if (plugin_loop_get() == h->e)
                        plugin_loop_set(NULL);
                sd_event_unref(h->e);
        }
        plugin_registry_done(&h->reg);
        free(h);
}

void plugin_host_set_worker_memory_limit(struct plugin_host *h, uint64_t bytes)
{
        h->worker_mem = bytes;
}

/* ---- runners ---- */

static void runner_diag(const struct service_cfg *svc, const struct check_cfg *c, struct diag *d,
                        const char *text)
{
        int line = c->line, column = c->column;
        if (svc->pos && c->options_path) {
                /* the "plugin" key sits beside "options" in the check object */
                char path[512];
                size_t n = strlen(c->options_path);
                const char *suffix = ".options";
                size_t sl = strlen(suffix);
                if (n >= sl && strcmp(c->options_path + n - sl, suffix) == 0 &&
                    n - sl + sizeof(".plugin") <= sizeof(path)) {
                        snprintf(path, sizeof(path), "%.*s.plugin", (int)(n - sl), c->options_path);
                        int l, col;
                        if (jsonpos_lookup(svc->pos, path, &l, &col) == 0) {
                                line = l;
                                column = col;
                        }
                }
        }
        diag_add(d, svc->file, line, column, "%s", text);
}

static void runner_free_sources(struct check_runner *r)
{
        if (r->h->sched)
                timerq_cancel(r->h->sched, &r->timeout);
        sd_event_source_disable_unref(r->defer_src);
        sd_event_source_disable_unref(r->report_src);
        free(r->reports);
}

static void on_timeout(struct timerq_item *it, uint64_t now);

int check_runner_new(struct plugin_host *h, const struct service_cfg *svc, size_t check_index,
                     struct diag *d, struct check_runner **out)
{
        const struct check_cfg *c = &svc->checks[check_index];
        char err[1024];
        const struct ahc_plugin *plugin;
        int ret = plugin_load(&h->reg, c->plugin, &plugin, err, sizeof(err));
        if (ret < 0) {
                runner_diag(svc, c, d, err);
                return ret;
        }

        struct check_runner *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        char label[256];
        snprintf(label, sizeof(label), "%s: checks[%zu] (%s)", svc->name, check_index, c->plugin);
        r->h = h;
        r->plugin = plugin;
        r->worker_mode = !(plugin->flags & AHC_PLUGIN_LOOP_SAFE);
        r->opts = opts_new(c->options, c->plugin, label);
        if (!r->opts) {
                free(r);
                return -ENOMEM;
        }
        for (size_t i = 0; i < PROBE_SLOTS; i++)
                r->slots[i].r = r;
        r->handle.r = r;
        r->opts->check = &r->handle;
        struct opts_diag_target target = {
            .d = d,
            .file = svc->file,
            .pos = svc->pos,
            .options_path = c->options_path,
            .line = c->line,
            .column = c->column,
        };
        opts_set_report(r->opts, opts_report_diag, &target);
        /* a worker's problems arrive through its handshake, not r->opts */
        size_t diag_before = d->n;
#define REPORTED() (r->opts->n_errors > 0 || d->n > diag_before)

        if (!r->worker_mode) {
                ret = plugin->create(&loop_host, r->opts, &r->instance);
                if (ret < 0 && !REPORTED()) {
                        snprintf(err, sizeof(err), "plugin \"%s\": create failed: %s", c->plugin,
                                 strerror(-ret));
                        runner_diag(svc, c, d, err);
                }
                if (ret >= 0 && REPORTED()) { /* complained, yet said yes */
                        plugin->destroy(r->instance);
                        r->instance = NULL;
                        ret = -EINVAL;
                }
        } else {
                ret = wproc_spawn(r);
                if (ret >= 0) {
                        ret = worker_handshake(r->w->fd, HANDSHAKE_USEC, opts_report_diag, &target,
                                               label);
                        if (ret < 0 && (!REPORTED() || ret == -ETIMEDOUT || ret == -EPIPE)) {
                                if (ret == -ETIMEDOUT)
                                        snprintf(err, sizeof(err),
                                                 "plugin \"%s\": create() did not finish "
                                                 "within 5s",
                                                 c->plugin);
                                else if (ret == -EPIPE)
                                        snprintf(err, sizeof(err),
                                                 "plugin \"%s\": worker died in create()",
                                                 c->plugin);
                                else
                                        snprintf(err, sizeof(err),
                                                 "plugin \"%s\": create failed: %s", c->plugin,
                                                 strerror(-ret));
                                runner_diag(svc, c, d, err);
                        }
                }
                if (ret >= 0 && REPORTED())
                        ret = -EINVAL;
                /* Without a loop nothing will run: the worker only validated. */
                if (ret < 0 || !h->e) {
                        struct wproc *w = r->w;
                        if (w) {
                                r->w = NULL;
                                w->child = sd_event_source_disable_unref(w->child);
                                worker_kill_reap(w->pid);
                                wproc_free(w);
                        }
                }
        }
#undef REPORTED
        /* Problems found after this point (worker restarts) are logged. */
        opts_set_report(r->opts, opts_report_log, r->opts->label);
        if (ret < 0) {
                sd_event_source_disable_unref(r->report_src);
                opts_free(r->opts);
                free(r);
                return ret;
        }

        timerq_item_init(&r->timeout, on_timeout);
        if (h->e) {
                ret = sd_event_add_defer(h->e, &r->defer_src, on_deliver, r);
                if (ret >= 0)
                        ret = sd_event_source_set_enabled(r->defer_src, SD_EVENT_OFF);
                if (ret < 0) {
                        check_runner_free(r);
                        return ret;
                }
        }
        *out = r;
        return 0;
}

void check_runner_free(struct check_runner *r)
{
        if (!r)
                return;
        if (r->state == RUNNING && r->cur && !r->worker_mode) {
                r->cur->active = false;
                r->plugin->cancel(r->instance, r->cur);
        }
        if (r->w) {
                struct wproc *w = r->w;
                r->w = NULL;
                w->child = sd_event_source_disable_unref(w->child);
                worker_kill_reap(w->pid);
                wproc_free(w);
        }
        if (r->instance)
                r->plugin->destroy(r->instance);
        runner_free_sources(r);
        opts_free(r->opts);
        free(r);
}

static void on_timeout(struct timerq_item *it, uint64_t now)
{
        struct check_runner *r =
            (struct check_runner *)((char *)it - offsetof(struct check_runner, timeout));
        if (r->state != RUNNING)
                return;
        char took[32];
        format_usec(took, sizeof(took), r->timeout_usec);
        if (r->worker_mode) {
                if (r->w)
                        log_warning("%s: worker %d timed out, killing it", r->opts->label,
                                    (int)r->w->pid);
                wproc_detach_kill(r);
                note_failure(r);
        } else if (r->cur) {
                struct ahc_probe *p = r->cur;
                p->active = false;
                r->plugin->cancel(r->instance, p);
        }
        finish(r, AHC_CRITICAL, "timed out after %s", took);
}

static int runner_start_probe(struct check_runner *r);

int check_runner_start(struct check_runner *r, uint64_t timeout_usec, check_result_fn cb,
                       void *userdata)
{
        if (!r->h->e)
                return -ENOTCONN;
        if (r->state != IDLE)
                return -EBUSY;
        r->state = RUNNING;
        r->cb = cb;
        r->userdata = userdata;
        r->timeout_usec = timeout_usec;
        r->started_usec = plugin_loop_now_usec();
        r->seq++;
        int ret = timerq_put(r->h->sched, &r->timeout, r->started_usec + timeout_usec);
        if (ret < 0) {
                r->in_start = true;
                finish(r, AHC_UNKNOWN, "cannot arm timeout: %s", strerror(-ret));
                r->in_start = false;
                return 0;
        }
        r->in_start = true;
        ret = runner_start_probe(r);
        r->in_start = false;
        return ret;
}

static int runner_start_probe(struct check_runner *r)
{
        int ret;

        if (!r->worker_mode) {
                struct ahc_probe *p = &r->slots[r->next_slot++ % PROBE_SLOTS];
                p->active = true;
                r->cur = p;
                ret = r->plugin->probe(r->instance, p);
                if (ret < 0)
                        finish(r, AHC_UNKNOWN, "probe failed: %s", strerror(-ret));
                return 0;
        }

        if (!r->w) {
                uint64_t now = plugin_loop_now_usec();
                if (now < r->next_spawn_usec) {
                        char wait[32];
                        format_usec(wait, sizeof(wait),
                                    (r->next_spawn_usec - now + 999) / 1000 * 1000);
                        finish(r, AHC_UNKNOWN, "plugin restarting after a failure (in %s)", wait);
                        return 0;
                }
                ret = wproc_spawn(r);
                if (ret < 0) {
                        finish(r, AHC_UNKNOWN, "cannot start plugin worker: %s", strerror(-ret));
                        return 0;
                }
        }
        ret = worker_send_probe(r->w->fd, r->seq);
        if (ret < 0) {
                /* The worker is dying: its exit watch will fail the probe. */
                log_debug("%s: cannot reach worker: %s", r->opts->label, strerror(-ret));
        }
        return 0;
}

pid_t check_runner_worker_pid(const struct check_runner *r)
{
        return r->w ? r->w->pid : -1;
}
