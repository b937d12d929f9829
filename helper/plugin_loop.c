/* plugin_loop.c: thin wrappers that map the ABI's io/timer/child watches to
 * sd-event sources. Each wrapper owns its source; freeing it from inside
 * its own callback is fine (sd-event holds a reference while dispatching). */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "plugin_loop.h"

static sd_event *loop;

struct ahc_io {
        sd_event_source *src;
        ahc_io_cb cb;
        void *userdata;
};

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

void plugin_loop_set(sd_event *e)
{
        loop = e;
}

sd_event *plugin_loop_get(void)
{
        return loop;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct ahc_io *io = userdata;
        io->cb(io->userdata, fd, revents);
        return 0;
}

int plugin_loop_io_add(int fd, uint32_t events, ahc_io_cb cb, void *userdata, struct ahc_io **out)
{
        if (!loop)
                return -ENOTCONN;
        struct ahc_io *io = calloc(1, sizeof(*io));
        if (!io)
                return -ENOMEM;
        *io = (struct ahc_io){.cb = cb, .userdata = userdata};
        int r = sd_event_add_io(loop, &io->src, fd, events, on_io, io);
        if (r < 0) {
                free(io);
                return r;
        }
        *out = io;
        return 0;
}

int plugin_loop_io_set_events(struct ahc_io *io, uint32_t events)
{
        return sd_event_source_set_io_events(io->src, events);
}

void plugin_loop_io_free(struct ahc_io *io)
{
        if (!io)
                return;
        sd_event_source_disable_unref(io->src);
        free(io);
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
