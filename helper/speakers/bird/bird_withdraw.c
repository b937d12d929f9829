/* bird_withdraw.c: --withdraw-all, see bird_withdraw.h. Runs after the
 * daemon is gone (systemd's ExecStopPost=), so it owns the include files:
 * it rewrites them empty with the backend's own atomic write and renderer,
 * and asks BIRD to load them with one `configure`, spoken with the
 * backend's control-socket client. Always all four files (both families,
 * main and canary: routes on trial count too) and always a
 * configure: a daemon killed between writing and configuring leaves files
 * that already look right while BIRD still runs the old ones. An answer
 * "in progress" (0004, 0005: BIRD 3's usual one) is followed by
 * `configure status` until it says 0003 or the time is up: accepted either
 * way (BIRD parsed the empty files and applies them), but the log says
 * which. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bird_backend.h"
#include "bird_config.h"
#include "bird_render.h"
#include "bird_withdraw.h"
#include "bird_ctl.h"
#include "diag.h"
#include "log.h"

struct wait {
        bool done;
        int error;
        int code;
        char text[BIRDCTL_LINE_MAX];
        int codes[BIRDCTL_CODES_MAX];
        size_t n_codes;
};

static void on_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata)
{
        struct wait *w = userdata;
        w->done = true;
        w->error = r->error;
        w->code = r->code;
        snprintf(w->text, sizeof(w->text), "%s", r->text);
        w->n_codes = r->n_codes;
        memcpy(w->codes, r->codes, r->n_codes * sizeof(r->codes[0]));
}

static int write_empty(const char *path, int family, bool canary)
{
        char *text = NULL;
        const char *why = NULL;
        int r = bird_render_file(family, canary, NULL, 0, 0, &text, &why);
        if (r == 0)
                r = bird_write_atomic(path, text);
        free(text);
        if (r < 0)
                log_err("withdraw-all: cannot empty %s: %s", path, strerror(-r));
        return r;
}

static uint64_t now_usec(void)
{
        return clock_now(clock_system());
}

/* One command, its answer in *w; returns 0 or a negative errno. */
static int run_command(sd_event *e, struct birdctl *ctl, const char *cmd, uint64_t timeout_usec,
                       struct wait *w)
{
        *w = (struct wait){0};
        int r = birdctl_command(ctl, cmd, timeout_usec, on_reply, w);
        if (r < 0)
                return r;
        /* birdctl's own timeout ends the wait; the outer bound only
         * guards against a loop that stops dispatching. */
        uint64_t end = now_usec() + timeout_usec + 1000000;
        while (!w->done && now_usec() < end)
                if (sd_event_run(e, end - now_usec()) < 0)
                        break;
        return w->done ? w->error : -ETIMEDOUT;
}

/* Time left below which no `configure status` is asked any more. */
#define STATUS_MIN_USEC (20 * 1000ULL)

/* After 0004/0005: `configure status` every 10 ms up to 200 ms apart
 * until 0003 or until; returns the last status (by code only). */
static enum birdctl_status wait_applied(sd_event *e, struct birdctl *ctl, uint64_t until)
{
        uint64_t delay = 10 * 1000;
        for (;;) {
                uint64_t now = now_usec();
                if (now + STATUS_MIN_USEC >= until)
                        return BIRDCTL_STATUS_PROGRESS;
                if (delay > until - now)
                        delay = until - now;
                struct timespec ts = {(time_t)(delay / 1000000), (long)(delay % 1000000) * 1000};
                nanosleep(&ts, NULL);
                if (delay < 200 * 1000)
                        delay *= 2;
                now = now_usec();
                struct wait s;
                int r =
                    run_command(e, ctl, "configure status",
                                until > now + STATUS_MIN_USEC ? until - now : STATUS_MIN_USEC, &s);
                if (r < 0)
                        return BIRDCTL_STATUS_UNKNOWN;
                struct birdctl_reply rep = {.code = s.code, .codes = s.codes, .n_codes = s.n_codes};
                enum birdctl_status st = birdctl_status_answer(&rep);
                if (st != BIRDCTL_STATUS_PROGRESS)
                        return st;
        }
}

int bird_withdraw_all(sd_event *e, const struct config *cfg, uint64_t timeout_usec)
{
        /* The main files and the canary files beside them (routes on
         * trial): all four, a failure on one does not spare the others. */
        int wr = 0, r;
        for (int k = 0; k < 4; k++) {
                const char *inc =
                    k % 2 ? bird_settings(cfg)->include_v6 : bird_settings(cfg)->include_v4;
                char *path = k >= 2 ? bird_canary_path(inc) : strdup(inc);
                r = path ? write_empty(path, k % 2 ? AF_INET6 : AF_INET, k >= 2) : -ENOMEM;
                if (!path)
                        log_err("withdraw-all: out of memory");
                free(path);
                if (wr == 0)
                        wr = r;
        }

        struct birdctl *ctl = NULL;
        r = birdctl_new(e, clock_system(), bird_settings(cfg)->socket, &ctl);
        if (r < 0) {
                log_err("withdraw-all: %s", strerror(-r));
                return r;
        }
        struct wait w = {0};
        uint64_t start = now_usec();
        r = run_command(e, ctl, "configure", timeout_usec, &w);
        enum birdctl_status applied = BIRDCTL_STATUS_DONE;
        if (r == 0 && birdctl_configure_answer(w.code) == BIRDCTL_CONFIGURE_PENDING)
                applied = wait_applied(e, ctl, start + timeout_usec);
        birdctl_free(ctl);
        unsigned long long ms = (now_usec() - start) / 1000;

        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_notice("withdraw-all: BIRD is not running (%s: %s); the include files are "
                           "empty, so BIRD announces none of our routes when it starts",
                           bird_settings(cfg)->socket, strerror(-r));
                return wr < 0 ? wr : 1;
        }
        if (r == -EACCES) {
                log_err("withdraw-all: no permission on BIRD's control socket %s: run as a "
                        "member of BIRD's group (bird)",
                        bird_settings(cfg)->socket);
                return r;
        }
        if (r < 0) {
                log_err("withdraw-all: BIRD did not confirm on %s: %s", bird_settings(cfg)->socket,
                        strerror(-r));
                return r;
        }
        if (birdctl_code_is_error(w.code)) {
                /* The empty files stay: they are what a BIRD with a working
                 * bird.conf must load, and they announce nothing. */
                log_err("withdraw-all: BIRD refused its configuration: %04d %s", w.code, w.text);
                return -EREMOTEIO;
        }
        if (wr < 0)
                return wr;
        if (applied != BIRDCTL_STATUS_DONE) {
                log_warning("withdraw-all: BIRD accepted the empty include files (%04d) but "
                            "configure status did not confirm them applied within %llu ms",
                            w.code, ms);
                return 0;
        }
        log_notice("withdraw-all: BIRD loaded empty include files in %llu ms (%04d %s%s): "
                   "every route of ours is withdrawn",
                   ms, w.code, w.text,
                   birdctl_configure_answer(w.code) == BIRDCTL_CONFIGURE_PENDING
                       ? ", then configure status 0003"
                       : "");
        return 0;
}

int bird_withdraw_all_action(const struct config *cfg)
{
        sd_event *e = NULL;
        int r = sd_event_new(&e);
        if (r < 0) {
                log_err("withdraw-all: cannot create event loop: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        r = bird_withdraw_all(e, cfg, BIRD_WITHDRAW_TIMEOUT_USEC);
        sd_event_unref(e);
        return r >= 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
