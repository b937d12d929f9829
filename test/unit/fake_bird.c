/* fake_bird.c: see fake_bird.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fake_bird.h"

static void conn_close(struct fake_bird *f, bool reset)
{
        f->conn_src = sd_event_source_disable_unref(f->conn_src);
        f->delay_timer = sd_event_source_disable_unref(f->delay_timer);
        if (f->fd >= 0) {
                if (reset) {
                        struct linger l = {.l_onoff = 1, .l_linger = 0};
                        setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
                }
                close(f->fd);
        }
        f->fd = -1;
        f->in_len = 0;
        f->outstanding = 0;
}

static void send_reply(struct fake_bird *f, struct fake_reply r)
{
        if (r.text && f->fd >= 0) {
                size_t len = strlen(r.text);
                ssize_t n = send(f->fd, r.text, len, MSG_NOSIGNAL);
                /* The client may have given up (its timeout) and closed. */
                if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
                        conn_close(f, false);
                        return;
                }
                if (n != (ssize_t)len)
                        abort();
        }
        if (f->outstanding)
                f->outstanding--;
        if (r.after == FAKE_CLOSE)
                conn_close(f, false);
        else if (r.after == FAKE_RESET)
                conn_close(f, true);
}

static int on_delay(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct fake_bird *f = userdata;
        f->delay_timer = sd_event_source_disable_unref(f->delay_timer);
        send_reply(f, f->delayed);
        return 0;
}

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct fake_bird *f = userdata;
        ssize_t n = read(fd, f->in + f->in_len, sizeof(f->in) - f->in_len - 1);
        if (n <= 0) {
                conn_close(f, false);
                return 0;
        }
        f->in_len += (size_t)n;
        char *nl;
        while (f->fd == fd && (nl = memchr(f->in, '\n', f->in_len))) {
                *nl = '\0';
                char *cmd = strdup(f->in);
                size_t used = (size_t)(nl - f->in) + 1;
                memmove(f->in, f->in + used, f->in_len - used);
                f->in_len -= used;
                if (f->n_cmds < sizeof(f->cmds) / sizeof(f->cmds[0]))
                        f->cmds[f->n_cmds++] = cmd;
                else
                        free(cmd);
                f->outstanding++;
                if (f->outstanding > f->max_outstanding)
                        f->max_outstanding = f->outstanding;
                struct fake_reply r = f->script(f, f->cmds[f->n_cmds - 1]);
                if (r.after == FAKE_SILENT)
                        continue;
                if (r.delay_usec) {
                        uint64_t now;
                        sd_event_now(f->event, CLOCK_MONOTONIC, &now);
                        f->delayed = r;
                        sd_event_add_time(f->event, &f->delay_timer, CLOCK_MONOTONIC,
                                          now + r.delay_usec, 0, on_delay, f);
                } else {
                        send_reply(f, r);
                }
        }
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct fake_bird *f = userdata;
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return 0;
        if (f->fd >= 0)
                conn_close(f, false); /* one client at a time, like our tests */
        f->fd = c;
        f->accepts++;
        sd_event_add_io(f->event, &f->conn_src, c, EPOLLIN, on_conn, f);
        const char *g = f->greeting ? f->greeting : "0001 BIRD 2.0.12 ready.\n";
        if (write(c, g, strlen(g)) < 0)
                abort();
        return 0;
}

int fake_bird_start(struct fake_bird *f, sd_event *e, const char *path, fake_script_fn script)
{
        f->event = e;
        f->fd = -1;
        f->script = script;
        snprintf(f->path, sizeof(f->path), "%s", path);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        unlink(path);
        f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (f->listen_fd < 0)
                return -errno;
        if (bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(f->listen_fd, 8) < 0)
                return -errno;
        return sd_event_add_io(e, &f->listen_src, f->listen_fd, EPOLLIN, on_accept, f);
}

void fake_bird_stop(struct fake_bird *f)
{
        conn_close(f, false);
        f->listen_src = sd_event_source_disable_unref(f->listen_src);
        if (f->listen_fd >= 0)
                close(f->listen_fd);
        f->listen_fd = -1;
        unlink(f->path);
        for (size_t i = 0; i < f->n_cmds; i++)
                free(f->cmds[i]);
        f->n_cmds = 0;
}

unsigned fake_bird_count(const struct fake_bird *f, const char *cmd)
{
        unsigned n = 0;
        for (size_t i = 0; i < f->n_cmds; i++)
                n += strcmp(f->cmds[i], cmd) == 0;
        return n;
}

bool run_until(sd_event *e, const bool *flag, uint64_t max_usec)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t end = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 + max_usec;
        while (!*flag) {
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
                if (now >= end)
                        break;
                sd_event_run(e, end - now);
        }
        return *flag;
}

void run_for(sd_event *e, uint64_t usec)
{
        bool never = false;
        run_until(e, &never, usec);
}
