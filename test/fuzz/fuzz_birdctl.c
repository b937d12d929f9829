/* fuzz_birdctl.c: bytes a BIRD control socket sends, fed to the real
 * birdctl client over a real unix socket, so the reply parser is tested
 * with the event handling that owns it (a parser that is right but leaves
 * the wrong poll events armed spins the daemon, which only shows here).
 * The first byte picks the write size, so lines arrive cut anywhere. After
 * every write the loop must go idle within a bound (no busy loop), each
 * command must be answered once, and none may be left pending at EOF. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bird_ctl.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Dispatches per write before the loop counts as spinning: a write makes
 * one read event, and each reply one follow-up command at most. */
#define IDLE_BOUND 1000
#define MAX_CMDS   3

static sd_event *event;
static struct birdctl *ctl;
static int listen_fd = -1;
static unsigned sent, answered;

static void setup(void)
{
        const char *tmp = getenv("TMPDIR");
        char dir[64];
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        /* sun_path is short: the directory name must stay short too */
        snprintf(dir, sizeof(dir), "%s/fuzz-bird-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
        if (!mkdtemp(dir))
                abort();
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bird.ctl", dir);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(listen_fd, 8) < 0 || sd_event_new(&event) < 0 ||
            birdctl_new(event, clock_system(), sa.sun_path, &ctl) < 0)
                abort();
        log_set_max_level(LOG_CRIT);
}

static void on_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata);

static void send_cmd(void)
{
        if (birdctl_command(ctl, "show status", 10 * 1000 * 1000ULL, on_reply, NULL) < 0)
                abort();
        sent++;
}

static void on_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata)
{
        answered++;
        if (answered > sent || !r->text || !r->all || (r->error == 0) != (r->code >= 0) ||
            r->error > 0)
                abort();
        /* the next command from inside the callback, as backend_bird does */
        if (r->error == 0 && sent < MAX_CMDS)
                send_cmd();
}

static void run_until_idle(void)
{
        for (int i = 0; i < IDLE_BOUND; i++) {
                int r = sd_event_run(event, 0);
                if (r < 0)
                        abort();
                if (r == 0)
                        return;
        }
        fprintf(stderr, "fuzz_birdctl: the loop does not go idle (busy loop)\n");
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        if (!ctl)
                setup();
        size_t chunk = data[0] ? data[0] : size;
        data++;
        size--;
        sent = answered = 0;
        send_cmd();
        int srv = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (srv < 0)
                abort();
        run_until_idle();
        for (size_t off = 0; off < size; off += chunk) {
                size_t n = size - off < chunk ? size - off : chunk;
                /* the client may have hung up on garbage: not our failure */
                (void)!send(srv, data + off, n, MSG_NOSIGNAL);
                run_until_idle();
        }
        close(srv);
        run_until_idle();
        if (birdctl_busy(ctl) || birdctl_connected(ctl) || answered != sent)
                abort();
        return 0;
}
