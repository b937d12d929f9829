/* fake_frr.h: a scripted FRR vty socket (bgpd.vty, staticd.vty) for unit
 * tests, on the test's own sd-event loop: reads NUL-terminated commands,
 * answers each from a script function with text, three NULs and a status
 * byte, and records what it saw. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct fake_frr_reply {
        const char *text;
        int status;
        bool close; /* close the connection instead of answering */
        bool split; /* write the reply one byte at a time */
};

struct fake_frr;
typedef struct fake_frr_reply (*fake_frr_fn)(struct fake_frr *f, const char *cmd);

struct fake_frr {
        sd_event *event;
        char path[108];
        int listen_fd, fd;
        sd_event_source *listen_src, *conn_src;
        fake_frr_fn script; /* NULL: status 0, no text */
        void *userdata;
        char in[8192];
        size_t in_len;
        char *cmds[4096];
        size_t n_cmds;
        unsigned accepts;
};

int fake_frr_start(struct fake_frr *f, sd_event *e, const char *path, fake_frr_fn script);
void fake_frr_stop(struct fake_frr *f);
/* Closes the current connection (the daemon "restarted"). */
void fake_frr_drop(struct fake_frr *f);
/* Number of commands equal to cmd; the index of the first one from `from`
 * (or -1). */
unsigned fake_frr_count(const struct fake_frr *f, const char *cmd);
long fake_frr_find(const struct fake_frr *f, const char *cmd, size_t from);
void fake_frr_clear(struct fake_frr *f);
