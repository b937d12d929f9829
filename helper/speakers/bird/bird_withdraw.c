/* bird_withdraw.c: --withdraw-all, see bird_withdraw.h. Runs after the
 * daemon is gone (systemd's ExecStopPost=), so it owns the include files:
 * it rewrites them empty with the backend's own atomic write and renderer,
 * and asks BIRD to load them with one `configure`, spoken with the
 * backend's control-socket client. Always both files and always a
 * configure: a daemon killed between writing and configuring leaves files
 * that already look right while BIRD still runs the old ones. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bird_backend.h"
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
};

static void on_reply(struct birdctl *c, const struct birdctl_reply *r, void *userdata)
{
        struct wait *w = userdata;
        w->done = true;
        w->error = r->error;
        w->code = r->code;
        snprintf(w->text, sizeof(w->text), "%s", r->text);
}

static int write_empty(const char *path, int family)
{
        char *text = NULL;
        const char *why = NULL;
        int r = bird_render(family, NULL, 0, 0, &text, &why);
        if (r == 0)
                r = bird_write_atomic(path, text);
        free(text);
        if (r < 0)
                log_err("withdraw-all: cannot empty %s: %s", path, strerror(-r));
        return r;
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int bird_withdraw_all(sd_event *e, const struct config *cfg, uint64_t timeout_usec)
{
        int wr = write_empty(cfg->bird.include_v4, AF_INET);
        int r = write_empty(cfg->bird.include_v6, AF_INET6);
        if (wr == 0)
                wr = r;

        struct birdctl *ctl = NULL;
        r = birdctl_new(e, cfg->bird.socket, &ctl);
        if (r < 0) {
                log_err("withdraw-all: %s", strerror(-r));
                return r;
        }
        struct wait w = {0};
        uint64_t start = now_usec();
        r = birdctl_command(ctl, "configure", timeout_usec, on_reply, &w);
        if (r == 0) {
                /* birdctl's own timeout ends the wait; the outer bound only
                 * guards against a loop that stops dispatching. */
                uint64_t end = start + timeout_usec + 1000000;
                while (!w.done && now_usec() < end)
                        if (sd_event_run(e, end - now_usec()) < 0)
                                break;
                r = w.done ? w.error : -ETIMEDOUT;
        }
        birdctl_free(ctl);
        unsigned long long ms = (now_usec() - start) / 1000;

        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_notice("withdraw-all: BIRD is not running (%s: %s); the include files are "
                           "empty, so BIRD announces none of our routes when it starts",
                           cfg->bird.socket, strerror(-r));
                return wr < 0 ? wr : 1;
        }
        if (r == -EACCES) {
                log_err("withdraw-all: no permission on BIRD's control socket %s: run as a "
                        "member of BIRD's group (bird)",
                        cfg->bird.socket);
                return r;
        }
        if (r < 0) {
                log_err("withdraw-all: BIRD did not confirm on %s: %s", cfg->bird.socket,
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
        log_notice("withdraw-all: BIRD loaded empty include files in %llu ms (%04d %s): "
                   "every route of ours is withdrawn",
                   ms, w.code, w.text);
        return 0;
}

int bird_withdraw_main(const char *config_path, enum backend_kind force)
{
        const char *result = getenv("SERVICE_RESULT");
        if (result && strcmp(result, "success") == 0) {
                log_info("withdraw-all: the daemon stopped cleanly (SERVICE_RESULT=success) "
                         "and did what on_exit says; nothing to do");
                return EXIT_SUCCESS;
        }
        struct diag d = {0};
        struct config *cfg = NULL;
        int r = config_load_daemon(config_path, &cfg, &d);
        if (r < 0) {
                diag_print(&d, stderr);
                log_err("withdraw-all: configuration %s has %zu problem%s; cannot find the "
                        "include files to empty",
                        config_path, d.n, d.n == 1 ? "" : "s");
                diag_free(&d);
                return EXIT_FAILURE;
        }
        diag_free(&d);
        enum backend_kind kind = force != BACKEND_NONE ? force : cfg->backend;
        int ret = EXIT_FAILURE;
        if (kind == BACKEND_EXABGP) {
                /* ExaBGP runs us as its process: only ExaBGP holds our
                 * routes and nothing outside it can change them. It
                 * restarts a daemon that died (the new one decides every
                 * route again), and stopping ExaBGP closes its sessions,
                 * which withdraws everything. There is nothing to undo. */
                log_err("withdraw-all is for the BIRD backend. In ExaBGP mode anycast-healthd is "
                        "ExaBGP's process: ExaBGP restarts it when it dies, and stopping ExaBGP "
                        "withdraws every route; no stop action is needed");
        } else if (kind != BACKEND_BIRD) {
                log_err("%s: no backend: set \"backend\" or pass --bird", config_path);
        } else {
                if (result)
                        log_notice("withdraw-all: the daemon did not stop cleanly "
                                   "(SERVICE_RESULT=%s); withdrawing every route",
                                   result);
                sd_event *e = NULL;
                r = sd_event_new(&e);
                if (r < 0)
                        log_err("withdraw-all: cannot create event loop: %s", strerror(-r));
                else if (bird_withdraw_all(e, cfg, BIRD_WITHDRAW_TIMEOUT_USEC) >= 0)
                        ret = EXIT_SUCCESS;
                sd_event_unref(e);
        }
        config_free(cfg);
        return ret;
}
