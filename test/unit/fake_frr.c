/* fake_frr.c: see fake_frr.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_frr.h"

static void conn_close(struct fake_frr *f)
{
        f->conn_src = sd_event_source_disable_unref(f->conn_src);
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
        f->in_len = 0;
}

void fake_frr_drop(struct fake_frr *f)
{
        conn_close(f);
}

static void answer(struct fake_frr *f, const char *cmd)
{
        struct fake_frr_reply r = {0};
        if (f->n_cmds < sizeof(f->cmds) / sizeof(f->cmds[0]))
                f->cmds[f->n_cmds++] = strdup(cmd);
        if (f->script)
                r = f->script(f, cmd);
        if (r.close) {
                conn_close(f);
                return;
        }
        const char *t = r.text ? r.text : "";
        size_t n = strlen(t);
        char *buf = malloc(n + 4);
        memcpy(buf, t, n);
        buf[n] = buf[n + 1] = buf[n + 2] = 0;
        buf[n + 3] = (char)r.status;
        if (r.split) {
                for (size_t i = 0; i < n + 4; i++)
                        if (write(f->fd, buf + i, 1) != 1)
                                break;
        } else if (write(f->fd, buf, n + 4) < 0) {
                /* the client went away */
        }
        free(buf);
}

static int on_conn(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct fake_frr *f = userdata;
        ssize_t n = read(fd, f->in + f->in_len, sizeof(f->in) - f->in_len);
        if (n <= 0) {
                conn_close(f);
                return 0;
        }
        f->in_len += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < f->in_len && f->fd >= 0; i++) {
                if (f->in[i] != '\0')
                        continue;
                char cmd[4096];
                snprintf(cmd, sizeof(cmd), "%s", f->in + start);
                start = i + 1;
                answer(f, cmd);
        }
        if (f->fd < 0)
                return 0;
        memmove(f->in, f->in + start, f->in_len - start);
        f->in_len -= start;
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct fake_frr *f = userdata;
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return 0;
        conn_close(f); /* one client at a time */
        f->fd = c;
        f->accepts++;
        sd_event_add_io(f->event, &f->conn_src, c, EPOLLIN, on_conn, f);
        return 0;
}

int fake_frr_start(struct fake_frr *f, sd_event *e, const char *path, fake_frr_fn script)
{
        f->event = e;
        f->script = script;
        f->fd = -1;
        snprintf(f->path, sizeof(f->path), "%s", path);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        unlink(path);
        f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(f->listen_fd, 8) < 0)
                return -errno;
        return sd_event_add_io(e, &f->listen_src, f->listen_fd, EPOLLIN, on_accept, f);
}

void fake_frr_clear(struct fake_frr *f)
{
        for (size_t i = 0; i < f->n_cmds; i++)
                free(f->cmds[i]);
        f->n_cmds = 0;
}

void fake_frr_stop(struct fake_frr *f)
{
        conn_close(f);
        f->listen_src = sd_event_source_disable_unref(f->listen_src);
        if (f->listen_fd >= 0)
                close(f->listen_fd);
        f->listen_fd = -1;
        unlink(f->path);
        fake_frr_clear(f);
}

unsigned fake_frr_count(const struct fake_frr *f, const char *cmd)
{
        unsigned n = 0;
        for (size_t i = 0; i < f->n_cmds; i++)
                n += strcmp(f->cmds[i], cmd) == 0;
        return n;
}

long fake_frr_find(const struct fake_frr *f, const char *cmd, size_t from)
{
        for (size_t i = from; i < f->n_cmds; i++)
                if (strcmp(f->cmds[i], cmd) == 0)
                        return (long)i;
        return -1;
}
