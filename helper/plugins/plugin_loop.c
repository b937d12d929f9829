/* plugin_loop.c: the ABI's io/timer/child watches on the daemon's loop.
 *
 * File descriptors live in one epoll set of our own, nested in sd-event as
 * a single source: sd-event dispatches one source per loop iteration, so at
 * thousands of probes a second one source per socket would cost one
 * iteration (an epoll_wait) per ready socket; here one dispatch serves
 * every ready socket. A watch freed while its batch is being dispatched is
 * only marked dead and freed after the batch, so a stale event in the same
 * batch can never reach freed or reused memory.
 *
 * Timers and child watches map to sd-event sources directly; freeing one
 * from inside its own callback is fine (sd-event holds a reference). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "event_priority.h"
#include "plugin_loop.h"

#define IO_BATCH  256
#define IO_ROUNDS 4 /* batches per dispatch before letting other sources run */

static sd_event *loop;
static int io_epfd = -1;
static sd_event_source *io_src;
static bool io_dispatching;

struct ahc_io {
        int fd;
        ahc_io_cb cb;
        void *userdata;
        bool dead;
        struct ahc_io *next_dead;
};

static struct ahc_io *io_dead;

struct ahc_timer {
        sd_event_source *src;
        ahc_timer_cb cb;
        void *userdata;
};

struct ahc_child {
        sd_event_source *src;
        ahc_child_cb cb;
        void *userdata;
};

static void io_teardown(void)
{
        io_src = sd_event_source_disable_unref(io_src);
        if (io_epfd >= 0)
                close(io_epfd);
        io_epfd = -1;
}

void plugin_loop_set(sd_event *e)
{
        if (loop != e)
                io_teardown();
        loop = e;
}

sd_event *plugin_loop_get(void)
{
        return loop;
}

static void io_reap(void)
{
        while (io_dead) {
                struct ahc_io *io = io_dead;
                io_dead = io->next_dead;
                free(io);
        }
}

static int on_epoll(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct epoll_event evs[IO_BATCH];

        io_dispatching = true;
        for (int round = 0; round < IO_ROUNDS; round++) {
                int n = epoll_wait(io_epfd, evs, IO_BATCH, 0);
                bool yield = false;
                for (int i = 0; i < n && !yield; i++) {
                        struct ahc_io *io = evs[i].data.ptr;
                        if (!io->dead)
                                io->cb(io->userdata, io->fd, evs[i].events);
                        /* a decided route change: let the loop commit it;
                         * the events left are level-triggered, seen again */
                        yield = ev_route_pending();
                }
                if (n < IO_BATCH || yield)
                        break;
        }
        io_dispatching = false;
        io_reap();
        return 0;
}

static int io_setup(void)
{
        if (io_epfd >= 0)
                return 0;
        io_epfd = epoll_create1(EPOLL_CLOEXEC);
        if (io_epfd < 0)
                return -errno;
        int r = sd_event_add_io(loop, &io_src, io_epfd, EPOLLIN, on_epoll, NULL);
        if (r < 0) {
                close(io_epfd);
                io_epfd = -1;
        }
        return r;
}

int plugin_loop_io_add(int fd, uint32_t events, ahc_io_cb cb, void *userdata, struct ahc_io **out)
{
        if (!loop)
                return -ENOTCONN;
        int r = io_setup();
        if (r < 0)
                return r;
        struct ahc_io *io = calloc(1, sizeof(*io));
        if (!io)
                return -ENOMEM;
        *io = (struct ahc_io){.fd = fd, .cb = cb, .userdata = userdata};
        struct epoll_event ev = {.events = events, .data.ptr = io};
        if (epoll_ctl(io_epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                r = -errno;
                free(io);
                return r;
        }
        *out = io;
        return 0;
}

int plugin_loop_io_set_events(struct ahc_io *io, uint32_t events)
{
        struct epoll_event ev = {.events = events, .data.ptr = io};
        return epoll_ctl(io_epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void plugin_loop_io_free(struct ahc_io *io)
{
        if (!io)
                return;
        /* Fails harmlessly when the plugin already closed the fd. */
        epoll_ctl(io_epfd, EPOLL_CTL_DEL, io->fd, NULL);
        if (io_dispatching) {
                io->dead = true;
                io->next_dead = io_dead;
                io_dead = io;
        } else {
                free(io);
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct ahc_timer *t = userdata;
        t->cb(t->userdata);
        return 0;
}

int plugin_loop_timer_add(uint64_t usec_from_now, ahc_timer_cb cb, void *userdata,
                          struct ahc_timer **out)
{
        if (!loop)
                return -ENOTCONN;
        struct ahc_timer *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        *t = (struct ahc_timer){.cb = cb, .userdata = userdata};
        int r = sd_event_add_time_relative(loop, &t->src, CLOCK_MONOTONIC, usec_from_now, 1000,
                                           on_timer, t);
        if (r < 0) {
                free(t);
                return r;
        }
        *out = t;
        return 0;
}

void plugin_loop_timer_free(struct ahc_timer *t)
{
        if (!t)
                return;
        sd_event_source_disable_unref(t->src);
        free(t);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct ahc_child *c = userdata;
        c->cb(c->userdata, si->si_pid, si->si_code, si->si_status);
        return 0;
}

int plugin_loop_child_add(pid_t pid, ahc_child_cb cb, void *userdata, struct ahc_child **out)
{
        if (!loop)
                return -ENOTCONN;
        struct ahc_child *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = (struct ahc_child){.cb = cb, .userdata = userdata};
        int r = sd_event_add_child(loop, &c->src, pid, WEXITED, on_child, c);
        if (r < 0) {
                free(c);
                return r;
        }
        *out = c;
        return 0;
}

void plugin_loop_child_free(struct ahc_child *c)
{
        if (!c)
                return;
        sd_event_source_disable_unref(c->src);
        free(c);
}

uint64_t plugin_loop_now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
