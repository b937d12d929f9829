/* fake_bird.h: a scripted BIRD control socket for unit tests, on the test's
 * own sd-event loop: greets, reads command lines, answers each from a
 * script function, and records what it saw. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

enum fake_after { FAKE_KEEP = 0, FAKE_CLOSE, FAKE_RESET, FAKE_SILENT };

struct fake_reply {
        const char *text;      /* written as is */
        enum fake_after after; /* FAKE_SILENT: no answer at all */
        uint64_t delay_usec;   /* answer this long after the command */
};

struct fake_bird;
typedef struct fake_reply (*fake_script_fn)(struct fake_bird *f, const char *cmd);

struct fake_bird {
        sd_event *event;
        char path[108];
        int listen_fd;
        sd_event_source *listen_src;
        int fd;
        sd_event_source *conn_src;
        sd_event_source *delay_timer;
        struct fake_reply delayed;
        const char *greeting;
        fake_script_fn script;
        void *userdata;
        char in[4096];
        size_t in_len;
        char *cmds[4096];
        size_t n_cmds;
        unsigned accepts;
        unsigned outstanding, max_outstanding;
};

/* Listens on dir/name. */
int fake_bird_start(struct fake_bird *f, sd_event *e, const char *path, fake_script_fn script);
void fake_bird_stop(struct fake_bird *f);
/* Number of commands equal to cmd. */
unsigned fake_bird_count(const struct fake_bird *f, const char *cmd);
/* Runs the loop until *flag is true or the deadline (generous) passes;
 * returns *flag. */
bool run_until(sd_event *e, const bool *flag, uint64_t max_usec);
/* Runs the loop for usec. */
void run_for(sd_event *e, uint64_t usec);
