/* bird_ctl.c: BIRD control-socket client on sd-event. One connection, kept
 * open between commands (BIRD restarts show up as EOF or a reset and the
 * next command reconnects), one command in flight. The connection is never
 * half-closed: BIRD drops queued commands when it sees EOF early. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bird_ctl.h"
#include "event_priority.h"
#include "timerq.h"
#include "log.h"

#define REPLY_MAX          8192
#define READS_PER_DISPATCH 64 /* of up to 1 KiB each */

int birdctl_parse_line(const char *line, struct birdctl_line *out)
{
        if (line[0] == '+') {
                *out = (struct birdctl_line){BIRDCTL_LINE_ASYNC, -1, line + 1};
                return 0;
        }
        if (line[0] == ' ') {
                *out = (struct birdctl_line){BIRDCTL_LINE_CONT, -1, line + 1};
                return 0;
        }
        for (int i = 0; i < 4; i++)
                if (line[i] < '0' || line[i] > '9')
                        return -EBADMSG;
        int code =
            (line[0] - '0') * 1000 + (line[1] - '0') * 100 + (line[2] - '0') * 10 + (line[3] - '0');
        switch (line[4]) {
        case '-':
                *out = (struct birdctl_line){BIRDCTL_LINE_MORE, code, line + 5};
                return 0;
        case ' ':
                *out = (struct birdctl_line){BIRDCTL_LINE_LAST, code, line + 5};
                return 0;
        case '\0':
                *out = (struct birdctl_line){BIRDCTL_LINE_LAST, code, line + 4};
                return 0;
        default:
                return -EBADMSG;
        }
}

enum birdctl_configure birdctl_configure_answer(int code)
{
        if (birdctl_code_is_error(code))
                return BIRDCTL_CONFIGURE_REFUSED;
        if (code == 3)
                return BIRDCTL_CONFIGURE_DONE;
        if (code == 6)
                return BIRDCTL_CONFIGURE_SHUTDOWN;
        return BIRDCTL_CONFIGURE_PENDING;
}

enum birdctl_status birdctl_status_answer(const struct birdctl_reply *r)
{
        if (r->n_codes && birdctl_code_is_error(r->codes[r->n_codes - 1]))
                return BIRDCTL_STATUS_REFUSED;
        for (size_t i = 0; i < r->n_codes; i++)
                switch (r->codes[i]) {
                case 3:
                        return BIRDCTL_STATUS_DONE;
                case 4:
                case 5:
                        return BIRDCTL_STATUS_PROGRESS;
                case 6:
                        return BIRDCTL_STATUS_SHUTDOWN;
                }
        return BIRDCTL_STATUS_UNKNOWN;
}

enum conn_state { ST_CLOSED, ST_GREETING, ST_IDLE, ST_REPLY };

struct birdctl {
        sd_event *event;
        char *path;
        int fd;
        unsigned gen; /* counts connections, to notice one replaced in a callback */
        enum conn_state state;
        sd_event_source *io;
        struct clock *clk;
        struct timerq *timers; /* the command's timeout, at EV_PRIO_SPEAKER */
        struct timerq_item timer;
        char in[BIRDCTL_LINE_MAX];
        size_t in_len;
        char out[BIRDCTL_LINE_MAX + 1];
        size_t out_len, out_off;
        bool pending; /* a command waits for its reply */
        birdctl_reply_fn cb;
        birdctl_line_fn line_fn; /* NULL: only the final line and `all` */
        void *userdata;
        int last_code; /* of the reply's last coded line, for its continuations */
        /* Loop time the reply's reading took (line_fn commands): in all,
         * and the longest single dispatch. */
        uint64_t busy_usec, busy_max_usec;
        uint64_t io_t0; /* when the dispatch in progress began; 0: not timed */
        char all[REPLY_MAX];
        size_t all_len;
        int codes[BIRDCTL_CODES_MAX];
        size_t n_codes;
};

bool birdctl_busy(const struct birdctl *c)
{
        return c->pending;
}

bool birdctl_connected(const struct birdctl *c)
{
        return c->state == ST_IDLE || c->state == ST_REPLY;
}

static void conn_close(struct birdctl *c)
{
        c->io = sd_event_source_disable_unref(c->io);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        c->state = ST_CLOSED;
        c->in_len = 0;
        c->out_len = c->out_off = 0;
}

/* The loop time a long reply costs, for the caller's figures (the
 * system's clock: a measurement, not a timer). finish() adds the part of
 * the dispatch that delivers the reply. */
static void account(struct birdctl *c)
{
        if (!c->io_t0)
                return;
        uint64_t d = clock_now(clock_system()) - c->io_t0;
        c->io_t0 = 0;
        c->busy_usec += d;
        if (d > c->busy_max_usec)
                c->busy_max_usec = d;
}

/* Ends the pending command with r and calls back (after our state is
 * consistent, so the callback may send the next command). */
static void finish(struct birdctl *c, int error, int code, const char *text)
{
        if (!c->pending)
                return;
        c->pending = false;
        timerq_cancel(c->timers, &c->timer);
        if (error)
                conn_close(c);
        account(c);
        c->all[c->all_len] = '\0';
        struct birdctl_reply r = {
            .error = error,
            .code = error ? -1 : code,
            .text = text ? text : "",
            .all = c->all,
            .codes = c->codes,
            .n_codes = error ? 0 : c->n_codes,
            .busy_usec = c->busy_usec,
            .busy_max_usec = c->busy_max_usec,
        };
        birdctl_reply_fn cb = c->cb;
        c->cb = NULL;
        c->line_fn = NULL;
        cb(c, &r, c->userdata);
}

static void fail(struct birdctl *c, int error)
{
        if (c->pending)
                finish(c, error, -1, NULL);
        else
                conn_close(c);
}

static void append_all(struct birdctl *c, const char *text)
{
        size_t n = strlen(text);
        if (c->all_len + n + 2 > sizeof(c->all))
                return; /* the first lines carry the message; drop the rest */
        if (c->all_len)
                c->all[c->all_len++] = '\n';
        memcpy(c->all + c->all_len, text, n);
        c->all_len += n;
}

static int update_events(struct birdctl *c)
{
        uint32_t ev = EPOLLIN | EPOLLRDHUP;
        if (c->state == ST_REPLY && c->out_off < c->out_len)
                ev |= EPOLLOUT;
        return sd_event_source_set_io_events(c->io, ev);
}

/* Returns <0 when the connection was closed. */
static int handle_line(struct birdctl *c, char *line)
{
        struct birdctl_line l;
        if (birdctl_parse_line(line, &l) < 0) {
                log_warning("BIRD control socket %s: malformed line \"%.80s\"", c->path, line);
                fail(c, -EPROTO);
                return -EPROTO;
        }
        if (l.kind == BIRDCTL_LINE_ASYNC) {
                log_debug("BIRD: %s", l.text);
                return 0;
        }
        switch (c->state) {
        case ST_GREETING:
                if (l.kind != BIRDCTL_LINE_LAST || l.code != 1) {
                        log_warning("BIRD control socket %s: unexpected greeting \"%.80s\"",
                                    c->path, line);
                        fail(c, -EPROTO);
                        return -EPROTO;
                }
                c->state = ST_IDLE;
                if (c->pending) {
                        c->state = ST_REPLY;
                        return update_events(c);
                }
                return 0;
        case ST_REPLY:
                /* BIRD answers only what it has read: lines that came
                 * before our command was written (in one read with the
                 * greeting, or left over when a callback sent the next
                 * command) cannot be its reply. */
                if (c->out_off < c->out_len) {
                        log_debug("BIRD control socket %s: ignoring \"%.80s\" before the command",
                                  c->path, line);
                        return 0;
                }
                /* Full: the first lines carry the state; the final code
                 * takes the last slot. */
                if (l.kind != BIRDCTL_LINE_CONT && c->n_codes < BIRDCTL_CODES_MAX)
                        c->codes[c->n_codes++] = l.code;
                else if (l.kind == BIRDCTL_LINE_LAST)
                        c->codes[BIRDCTL_CODES_MAX - 1] = l.code;
                if (l.kind == BIRDCTL_LINE_CONT)
                        l.code = c->last_code;
                else
                        c->last_code = l.code;
                if (c->line_fn)
                        c->line_fn(c, &l, c->userdata);
                else
                        append_all(c, l.text);
                if (l.kind == BIRDCTL_LINE_LAST) {
                        c->state = ST_IDLE;
                        finish(c, 0, l.code, l.text);
                }
                return 0;
        default:
                log_debug("BIRD control socket %s: ignoring \"%.80s\" outside a reply", c->path,
                          line);
                return 0;
        }
}

static int read_lines(struct birdctl *c, int fd, uint32_t revents, unsigned gen);

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct birdctl *c = userdata;
        c->io_t0 = c->pending && c->line_fn ? clock_now(clock_system()) : 0;
        int r = read_lines(c, fd, revents, c->gen);
        account(c);
        return r;
}

static int read_lines(struct birdctl *c, int fd, uint32_t revents, unsigned gen)
{
        if (revents & EPOLLOUT) {
                if (c->out_off < c->out_len && c->state == ST_REPLY) {
                        ssize_t n =
                            send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                                fail(c, errno == EPIPE ? -ECONNRESET : -errno);
                                return 0;
                        }
                        if (n > 0)
                                c->out_off += (size_t)n;
                }
                /* Also with nothing to send: a level-triggered EPOLLOUT
                 * left armed would spin the loop. */
                if (update_events(c) < 0) {
                        fail(c, -EIO);
                        return 0;
                }
        }
        if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
                return 0;
        /* A bounded number of reads per dispatch (a route listing can be
         * megabytes): the rest waits for the next one, behind route
         * changes (the source is level-triggered). */
        for (int reads = 0; reads < READS_PER_DISPATCH && !ev_route_pending(); reads++) {
                ssize_t n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n <= 0) {
                        /* EOF or reset: BIRD stopped or restarted. A reply
                         * cut off mid-line counts the same. */
                        if (c->pending)
                                log_debug("BIRD control socket %s: connection lost mid-reply",
                                          c->path);
                        fail(c, -ECONNRESET);
                        return 0;
                }
                c->in_len += (size_t)n;
                size_t start = 0;
                for (size_t i = start; i < c->in_len; i++) {
                        if (c->in[i] != '\n')
                                continue;
                        c->in[i] = '\0';
                        char line[BIRDCTL_LINE_MAX];
                        memcpy(line, c->in + start, i - start + 1);
                        start = i + 1;
                        /* Keep the rest of the buffer in place while the
                         * line is handled: a callback may send again. */
                        memmove(c->in, c->in + start, c->in_len - start);
                        c->in_len -= start;
                        i = (size_t)-1;
                        start = 0;
                        int r = handle_line(c, line);
                        if (r < 0 || c->gen != gen || c->fd < 0)
                                return 0;
                }
                if (c->in_len == sizeof(c->in)) {
                        log_warning("BIRD control socket %s: reply line of 1 KiB or more", c->path);
                        fail(c, -EPROTO);
                        return 0;
                }
        }
        return 0;
}

static void on_timeout(struct timerq_item *it, uint64_t now)
{
        fail((struct birdctl *)((char *)it - offsetof(struct birdctl, timer)), -ETIMEDOUT);
}

static int conn_open(struct birdctl *c)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t len = strlen(c->path);
        if (len >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, c->path, len + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* A unix stream connect completes at once or fails; EAGAIN means
         * BIRD's accept backlog is full (busy). */
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = sd_event_add_io(c->event, &c->io, fd, EPOLLIN | EPOLLRDHUP, on_io, c);
        if (r >= 0)
                r = sd_event_source_set_priority(c->io, EV_PRIO_SPEAKER);
        if (r < 0) {
                c->io = sd_event_source_disable_unref(c->io);
                close(fd);
                return r;
        }
        c->fd = fd;
        c->gen++;
        c->state = ST_GREETING;
        return 0;
}

int birdctl_command(struct birdctl *c, const char *cmd, uint64_t timeout_usec, birdctl_reply_fn cb,
                    void *userdata)
{
        return birdctl_command_lines(c, cmd, timeout_usec, NULL, cb, userdata);
}

int birdctl_command_lines(struct birdctl *c, const char *cmd, uint64_t timeout_usec,
                          birdctl_line_fn line_fn, birdctl_reply_fn cb, void *userdata)
{
        if (c->pending)
                return -EBUSY;
        size_t len = strlen(cmd);
        if (len == 0 || len + 1 >= BIRDCTL_LINE_MAX || strpbrk(cmd, "\r\n"))
                return -EINVAL;
        if (c->state == ST_CLOSED) {
                int r = conn_open(c);
                if (r < 0)
                        return r;
        }
        int r = timerq_put(c->timers, &c->timer, clock_now(c->clk) + timeout_usec);
        if (r < 0)
                return r;
        memcpy(c->out, cmd, len);
        c->out[len] = '\n';
        c->out_len = len + 1;
        c->out_off = 0;
        c->all_len = 0;
        c->n_codes = 0;
        c->busy_usec = c->busy_max_usec = 0;
        c->pending = true;
        c->cb = cb;
        c->line_fn = line_fn;
        c->last_code = -1;
        c->userdata = userdata;
        if (c->state == ST_IDLE)
                c->state = ST_REPLY;
        /* Write at once on a ready connection: waiting for EPOLLOUT would
         * put the command behind every event already pending on the loop. */
        if (c->state == ST_REPLY) {
                ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0)
                        c->out_off = (size_t)n;
        }
        r = update_events(c);
        if (r < 0) {
                c->pending = false;
                timerq_cancel(c->timers, &c->timer);
                conn_close(c);
                return r;
        }
        return 0;
}

int birdctl_new(sd_event *e, struct clock *clk, const char *path, struct birdctl **out)
{
        struct birdctl *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->clk = clk;
        c->fd = -1;
        timerq_item_init(&c->timer, on_timeout);
        c->path = strdup(path);
        int r = c->path ? timerq_new(e, clk, 1000, &c->timers) : -ENOMEM;
        if (r >= 0)
                r = timerq_set_priority(c->timers, EV_PRIO_SPEAKER);
        if (r < 0) {
                birdctl_free(c);
                return r;
        }
        *out = c;
        return 0;
}

void birdctl_free(struct birdctl *c)
{
        if (!c)
                return;
        conn_close(c);
        if (c->timers)
                timerq_cancel(c->timers, &c->timer);
        timerq_free(c->timers);
        sd_event_unref(c->event);
        free(c->path);
        free(c);
}
