/* frr_vty.c: FRR vty-socket client on sd-event, see frr_vty.h. One
 * connection kept open between commands (so a daemon restart shows up as
 * EOF at once, and the backend can re-assert), one command in flight. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "event_priority.h"
#include "frr_vty.h"
#include "log.h"
#include "timerq.h"

size_t frrvty_reply_end(const char *buf, size_t len, int *status, size_t *text_len)
{
        for (size_t i = 0; i + 4 <= len; i++) {
                if (buf[i] == '\0' && buf[i + 1] == '\0' && buf[i + 2] == '\0') {
                        *status = (unsigned char)buf[i + 3];
                        *text_len = i;
                        return i + 4;
                }
        }
        return 0;
}

enum conn_state { ST_CLOSED, ST_ENABLE, ST_IDLE, ST_REPLY };

struct frrvty {
        sd_event *event;
        char *path;
        int fd;
        enum conn_state state;
        sd_event_source *io;
        struct clock *clk;
        struct timerq *timers;
        struct timerq_item timer;
        char *in; /* received, not yet consumed */
        size_t in_len, in_cap;
        size_t scan; /* bytes of in known to hold no terminator */
        char out[FRRVTY_CMD_MAX + 16];
        size_t out_len, out_off;
        char cmd[FRRVTY_CMD_MAX + 1]; /* the command waiting behind `enable` */
        size_t cmd_len;
        bool pending;
        frrvty_reply_fn cb;
        void *userdata;
        frrvty_lost_fn lost;
        void *lost_userdata;
};

bool frrvty_busy(const struct frrvty *v)
{
        return v->pending;
}

bool frrvty_connected(const struct frrvty *v)
{
        return v->state != ST_CLOSED;
}

const char *frrvty_path(const struct frrvty *v)
{
        return v->path;
}

void frrvty_set_lost(struct frrvty *v, frrvty_lost_fn fn, void *userdata)
{
        v->lost = fn;
        v->lost_userdata = userdata;
}

static void conn_close(struct frrvty *v)
{
        v->io = sd_event_source_disable_unref(v->io);
        if (v->fd >= 0)
                close(v->fd);
        v->fd = -1;
        v->state = ST_CLOSED;
        v->in_len = v->scan = 0;
        v->out_len = v->out_off = 0;
}

void frrvty_close(struct frrvty *v)
{
        if (v->pending) {
                v->pending = false;
                v->cb = NULL;
                timerq_cancel(v->timers, &v->timer);
        }
        conn_close(v);
}

static void finish(struct frrvty *v, int error, int status, const char *text, size_t len)
{
        v->pending = false;
        timerq_cancel(v->timers, &v->timer);
        if (error)
                conn_close(v);
        struct frrvty_reply r = {error, error ? -1 : status, text ? text : "", text ? len : 0};
        frrvty_reply_fn cb = v->cb;
        v->cb = NULL;
        cb(v, &r, v->userdata);
}

static void fail(struct frrvty *v, int error)
{
        if (v->pending) {
                finish(v, error, -1, NULL, 0);
                return;
        }
        conn_close(v);
        if (v->lost)
                v->lost(v, error, v->lost_userdata);
}

static int update_events(struct frrvty *v)
{
        uint32_t ev = EPOLLIN | EPOLLRDHUP;
        if (v->out_off < v->out_len)
                ev |= EPOLLOUT;
        return sd_event_source_set_io_events(v->io, ev);
}

/* Queues text plus its NUL and writes what the socket takes now. */
static int put(struct frrvty *v, const char *text, size_t len)
{
        memcpy(v->out, text, len);
        v->out[len] = '\0';
        v->out_len = len + 1;
        v->out_off = 0;
        ssize_t n = send(v->fd, v->out, v->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
                v->out_off = (size_t)n;
        return update_events(v);
}

/* One complete reply: the answer to `enable` or to the pending command. */
static void handle_reply(struct frrvty *v, int status, const char *text, size_t len)
{
        switch (v->state) {
        case ST_ENABLE:
                if (status != FRRVTY_SUCCESS) {
                        log_warning("FRR vty %s: `enable` answered %d: %.*s", v->path, status,
                                    (int)(len > 200 ? 200 : len), text);
                        fail(v, -EPROTO);
                        return;
                }
                v->state = ST_IDLE;
                if (v->pending) {
                        v->state = ST_REPLY;
                        if (put(v, v->cmd, v->cmd_len) < 0)
                                fail(v, -EIO);
                }
                return;
        case ST_REPLY:
                v->state = ST_IDLE;
                finish(v, 0, status, text, len);
                return;
        default:
                log_debug("FRR vty %s: ignoring a reply nobody asked for", v->path);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct frrvty *v = userdata;
        if (revents & EPOLLOUT) {
                if (v->out_off < v->out_len) {
                        ssize_t n =
                            send(fd, v->out + v->out_off, v->out_len - v->out_off, MSG_NOSIGNAL);
                        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                                fail(v, errno == EPIPE ? -ECONNRESET : -errno);
                                return 0;
                        }
                        if (n > 0)
                                v->out_off += (size_t)n;
                }
                if (update_events(v) < 0) {
                        fail(v, -EIO);
                        return 0;
                }
        }
        if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
                return 0;
        for (;;) {
                if (v->in_cap - v->in_len < 4096) {
                        size_t cap = v->in_cap ? v->in_cap * 2 : 8192;
                        if (cap > FRRVTY_REPLY_MAX + 8192) {
                                log_warning("FRR vty %s: reply over %d bytes", v->path,
                                            FRRVTY_REPLY_MAX);
                                fail(v, -EPROTO);
                                return 0;
                        }
                        char *n = realloc(v->in, cap);
                        if (!n) {
                                fail(v, -ENOMEM);
                                return 0;
                        }
                        v->in = n;
                        v->in_cap = cap;
                }
                /* one byte kept for the NUL that ends a reply's text */
                ssize_t n = recv(fd, v->in + v->in_len, v->in_cap - v->in_len - 1, 0);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n <= 0) {
                        /* EOF or reset: the daemon stopped or restarted. */
                        fail(v, -ECONNRESET);
                        return 0;
                }
                v->in_len += (size_t)n;
                for (;;) {
                        int status;
                        size_t tlen;
                        size_t from = v->scan > 3 ? v->scan - 3 : 0;
                        size_t end = frrvty_reply_end(v->in + from, v->in_len - from, &status, &tlen);
                        if (!end) {
                                v->scan = v->in_len;
                                break;
                        }
                        end += from;
                        tlen += from;
                        v->in[tlen] = '\0';
                        /* Copy out: the callback may send, and a next
                         * reply may already follow in the buffer. */
                        char *text = malloc(tlen + 1);
                        if (!text) {
                                fail(v, -ENOMEM);
                                return 0;
                        }
                        memcpy(text, v->in, tlen + 1);
                        memmove(v->in, v->in + end, v->in_len - end);
                        v->in_len -= end;
                        v->scan = 0;
                        int fd_before = v->fd;
                        handle_reply(v, status, text, tlen);
                        free(text);
                        if (v->fd != fd_before || v->fd < 0)
                                return 0;
                }
        }
}

static void on_timeout(struct timerq_item *it, uint64_t now)
{
        struct frrvty *v = (struct frrvty *)((char *)it - offsetof(struct frrvty, timer));
        log_debug("FRR vty %s: no reply in time", v->path);
        fail(v, -ETIMEDOUT);
}

int frrvty_connect(struct frrvty *v)
{
        if (v->state != ST_CLOSED)
                return 0;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t len = strlen(v->path);
        if (len >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, v->path, len + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = sd_event_add_io(v->event, &v->io, fd, EPOLLIN | EPOLLRDHUP, on_io, v);
        if (r >= 0)
                r = sd_event_source_set_priority(v->io, EV_PRIO_SPEAKER);
        if (r < 0) {
                v->io = sd_event_source_disable_unref(v->io);
                close(fd);
                return r;
        }
        v->fd = fd;
        v->state = ST_ENABLE;
        r = put(v, "enable", strlen("enable"));
        if (r < 0) {
                conn_close(v);
                return r;
        }
        return 1;
}

int frrvty_command(struct frrvty *v, const char *cmd, uint64_t timeout_usec, frrvty_reply_fn cb,
                   void *userdata)
{
        if (v->pending)
                return -EBUSY;
        size_t len = strlen(cmd);
        if (len == 0 || len > FRRVTY_CMD_MAX || strpbrk(cmd, "\r\n"))
                return -EINVAL;
        int r = frrvty_connect(v);
        if (r < 0)
                return r;
        r = timerq_put(v->timers, &v->timer, clock_now(v->clk) + timeout_usec);
        if (r < 0)
                return r;
        v->pending = true;
        v->cb = cb;
        v->userdata = userdata;
        if (v->state == ST_ENABLE) {
                /* sent once `enable` is answered */
                memcpy(v->cmd, cmd, len + 1);
                v->cmd_len = len;
                return 0;
        }
        v->state = ST_REPLY;
        r = put(v, cmd, len);
        if (r < 0) {
                v->pending = false;
                timerq_cancel(v->timers, &v->timer);
                conn_close(v);
        }
        return r;
}

int frrvty_new(sd_event *e, struct clock *clk, const char *path, struct frrvty **out)
{
        struct frrvty *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->event = sd_event_ref(e);
        v->clk = clk;
        v->fd = -1;
        timerq_item_init(&v->timer, on_timeout);
        v->path = strdup(path);
        int r = v->path ? timerq_new(e, clk, 1000, &v->timers) : -ENOMEM;
        if (r >= 0)
                r = timerq_set_priority(v->timers, EV_PRIO_SPEAKER);
        if (r < 0) {
                frrvty_free(v);
                return r;
        }
        *out = v;
        return 0;
}

void frrvty_free(struct frrvty *v)
{
        if (!v)
                return;
        conn_close(v);
        if (v->timers)
                timerq_cancel(v->timers, &v->timer);
        timerq_free(v->timers);
        sd_event_unref(v->event);
        free(v->in);
        free(v->path);
        free(v);
}

struct sync_wait {
        bool done;
        int ret;
        char **text;
};

static void on_sync_reply(struct frrvty *v, const struct frrvty_reply *r, void *userdata)
{
        struct sync_wait *w = userdata;
        w->done = true;
        w->ret = r->error ? r->error : r->status;
        if (w->text && !r->error)
                *w->text = strdup(r->text);
}

int frrvty_command_sync(sd_event *e, struct frrvty *v, const char *cmd, uint64_t timeout_usec,
                        char **text)
{
        struct sync_wait w = {.text = text};
        if (text)
                *text = NULL;
        int r = frrvty_command(v, cmd, timeout_usec, on_sync_reply, &w);
        if (r < 0)
                return r;
        /* the client's own timeout ends the wait */
        while (!w.done)
                if (sd_event_run(e, UINT64_MAX) < 0)
                        return -EIO;
        if (text && w.ret >= 0 && !*text)
                return -ENOMEM;
        return w.ret;
}
