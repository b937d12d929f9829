/* main.c: anycast-healthd's command line, startup and shutdown. Everything
 * else lives in the library: this file wires config, plugin host, backend and
 * engine to one sd-event loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "ahd-build-config.h"
#include "backend.h"
#include "config.h"
#include "diag.h"
#include "engine.h"
#include "engine_ctl.h"
#include "engine_notify.h"
#include "engine_reload.h"
#include "event_priority.h"
#include "fleet.h"
#include "log.h"
#include "main_fleet.h"
#include "operator.h"
#include "plugin_host.h"
#include "probe.h"
#include "speakers.h"

#define STOP_GRACE_USEC (5ULL * 1000000ULL)
#define FLEET_STOP_USEC (1ULL * 1000000ULL)

struct daemon {
        sd_event *e;
        struct config *cfg;
        struct plugin_host *plugins;
        const struct backend_ops *ops;
        struct backend *be;
        struct engine *en;
        struct operator_io *operator_io; /* control socket and metrics */
        struct fleet *fleet;             /* NULL without a "fleet" block */
        bool stopping;
        sd_event_source *stop_timer;
};

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: anycast-healthd [OPTIONS]\n"
                "Decides per service whether this PoP advertises its anycast prefixes.\n\n"
                "  --config PATH    daemon configuration (default %s)\n",
                AHD_DEFAULT_CONFIG);
        for (size_t i = 0; speaker_at(i); i++)
                fprintf(f, "  --%-15s%s\n", speaker_at(i)->name, speaker_at(i)->usage);
        fputs("  --check-config   validate the configuration and plugins, start nothing\n"
              "  --probe SERVICE  run SERVICE's checks once, print each result; exit with\n"
              "                   the worst result code (0 OK .. 3 UNKNOWN), 4 on errors\n"
              "  --withdraw-all   withdraw every route of ours at the speaker, for a daemon\n"
              "                   that died (systemd ExecStopPost=; does nothing when\n"
              "                   $SERVICE_RESULT is \"success\")\n"
              "  --version        print the version\n"
              "  --help           this text\n",
              f);
}

/* Loads plugins and lets each validate its options; with e NULL nothing runs. */
static int validate_plugins(const struct config *cfg, struct diag *d)
{
        struct plugin_host *h = NULL;
        int r = plugin_host_new(NULL, cfg->plugin_dir, &h);
        if (r < 0) {
                diag_add(d, cfg->file, 0, 0, "cannot open plugin_dir %s: %s", cfg->plugin_dir,
                         strerror(-r));
                return r;
        }
        int ret = 0;
        for (size_t i = 0; i < cfg->n_services; i++) {
                for (size_t j = 0; j < cfg->services[i].n_checks; j++) {
                        struct check_runner *cr = NULL;
                        r = check_runner_new(h, &cfg->services[i], j, d, &cr);
                        if (r < 0)
                                ret = r;
                        check_runner_free(cr);
                }
        }
        plugin_host_free(h);
        return ret;
}

static int check_config(const char *path)
{
        struct diag d = {0};
        struct config *cfg = NULL;
        int r = config_load(path, &cfg, &d);
        if (r >= 0)
                r = validate_plugins(cfg, &d);
        diag_print(&d, stdout);
        bool ok = r >= 0 && d.n == 0;
        if (ok) {
                size_t checks = 0;
                for (size_t i = 0; i < cfg->n_services; i++)
                        checks += cfg->services[i].n_checks;
                printf("%s: OK (%zu service%s, %zu check%s)\n", path, cfg->n_services,
                       cfg->n_services == 1 ? "" : "s", checks, checks == 1 ? "" : "s");
        }
        diag_free(&d);
        config_free(cfg);
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int exit_now(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *dm = userdata;
        log_warning("backend did not finish stopping in time; exiting");
        /* Not a clean stop: a failure status makes systemd run the unit's
         * ExecStopPost= --withdraw-all. */
        return sd_event_exit(dm->e, EXIT_FAILURE);
}

static void fleet_stopped(void *userdata)
{
        struct daemon *dm = userdata;
        sd_event_exit(dm->e, 0);
}

/* The routes are dealt with; then the fleet lets go of our keys (revoking
 * the lease), so the other PoPs count us out at once, not a lease later. */
static void stop_done(void *userdata)
{
        struct daemon *dm = userdata;
        if (dm->fleet)
                fleet_stop(dm->fleet, FLEET_STOP_USEC, fleet_stopped, dm);
        else
                sd_event_exit(dm->e, 0);
}

static void drained(void *userdata)
{
        struct daemon *dm = userdata;
        dm->ops->stop(dm->be, true, stop_done, dm);
}

static void begin_stop(struct daemon *dm, const char *why)
{
        if (dm->stopping) {
                log_notice("%s again: exiting at once", why);
                sd_event_exit(dm->e, EXIT_FAILURE);
                return;
        }
        dm->stopping = true;
        bool withdraw = dm->ops->on_exit(engine_config(dm->en)) == ON_WITHDRAW;
        log_notice("%s: stopping, %s routes", why, withdraw ? "withdrawing" : "keeping");
        sd_notify(0, "STOPPING=1");
        /* Services with drain.on_shutdown drain first (bounded by their time). */
        uint64_t drain = withdraw ? engine_shutdown_drain(dm->en, drained, dm) : 0;
        sd_event_add_time_relative(dm->e, &dm->stop_timer, CLOCK_MONOTONIC, drain + STOP_GRACE_USEC,
                                   0, exit_now, dm);
        if (!withdraw)
                dm->ops->stop(dm->be, false, stop_done, dm);
}

/* Reloads through the engine and points the control socket and metrics at
 * the new configuration (SIGHUP and the control socket's "reload"). */
static int reload(struct daemon *dm, char **errors)
{
        struct diag d = {0};
        int r = engine_reload_file(dm->en, &d);
        if (r >= 0) {
                operator_set_config(dm->operator_io, engine_config(dm->en));
        } else if (errors) {
                char *buf = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&buf, &len);
                if (f) {
                        diag_print(&d, f);
                        if (d.n == 0)
                                fprintf(f, "%s\n", strerror(-r));
                        fclose(f);
                }
                *errors = buf;
        }
        diag_free(&d);
        return r;
}

static int control_reload(void *userdata, char **errors)
{
        return reload(userdata, errors);
}

static json_t *control_fleet(void *userdata, const char *service, char *err, size_t errlen)
{
        struct daemon *dm = userdata;
        const struct clock *c = clock_system();
        return daemon_fleet_json(dm->fleet, dm->en, service, c->now_rt(c), err, errlen);
}

/* How long a stop waits for the log's reader to take our last lines. */
#define LOG_STOP_USEC (2ULL * 1000 * 1000)

static void log_lateness(struct engine *en, const char *when)
{
        const struct latency_hist *st = engine_get_stats(en);
        log_info(
            "check start lateness %s over %llu starts: p50 %llu us, p99 %llu us, max %llu us", when,
            (unsigned long long)st->count, (unsigned long long)latency_hist_quantile(st, 0.50),
            (unsigned long long)latency_hist_quantile(st, 0.99), (unsigned long long)st->max_usec);
        st = engine_get_route_stats(en);
        log_info("route change delay (decision to the speaker's channel) %s over %llu changes: "
                 "p50 %llu us, p99 %llu us, max %llu us",
                 when, (unsigned long long)st->count,
                 (unsigned long long)latency_hist_quantile(st, 0.50),
                 (unsigned long long)latency_hist_quantile(st, 0.99),
                 (unsigned long long)st->max_usec);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct daemon *dm = userdata;
        switch (si->ssi_signo) {
        case SIGTERM:
        case SIGINT:
                begin_stop(dm, si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                break;
        case SIGHUP: {
                log_notice("SIGHUP: reloading %s", engine_config(dm->en)->file);
                reload(dm, NULL);
                break;
        }
        case SIGUSR1:
                /* A diagnostic: how late checks started since the last
                 * SIGUSR1 (or start); benchmarks use it to measure a window. */
                log_lateness(dm->en, "since last reset");
                engine_reset_stats(dm->en);
                break;
        }
        return 0;
}

static void route_sent(void *userdata, uint64_t delay_usec)
{
        struct daemon *dm = userdata;
        if (dm->en)
                engine_note_route_sent(dm->en, delay_usec);
}

static void stuck(void *userdata, const struct prefix *p, bool is_stuck, const char *why)
{
        struct daemon *dm = userdata;
        if (dm->en)
                engine_note_stuck(dm->en, p, is_stuck, why);
}

static void speaker_gone(void *userdata, const char *why)
{
        struct daemon *dm = userdata;
        log_notice("speaker gone (%s): exiting", why);
        sd_event_exit(dm->e, 0);
}

static int run(const char *path, const char *force)
{
        struct daemon dm = {0};
        struct diag d = {0};
        int r = config_load(path, &dm.cfg, &d);
        if (r < 0) {
                diag_print(&d, stderr);
                log_err("configuration %s has %zu problem%s; not starting", path, d.n,
                        d.n == 1 ? "" : "s");
                diag_free(&d);
                return EXIT_FAILURE;
        }
        dm.ops = speaker_by_name(force ? force : dm.cfg->backend);
        if (!dm.ops) {
                log_err("%s: no backend: set \"backend\" or pass the speaker's option "
                        "(anycast-healthd --help)",
                        path);
                config_free(dm.cfg);
                return EXIT_FAILURE;
        }
        if (dm.ops->prepare && dm.ops->prepare() < 0) {
                config_free(dm.cfg);
                return EXIT_FAILURE;
        }

        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigaddset(&ss, SIGUSR1);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        signal(SIGPIPE, SIG_IGN);

        int ret = EXIT_FAILURE;
        r = sd_event_default(&dm.e);
        if (r < 0) {
                log_err("cannot create event loop: %s", strerror(-r));
                goto out;
        }
        /* A stop withdraws: it goes ahead of check work (event_priority.h). */
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
                sd_event_source *src = NULL;
                r = sd_event_add_signal(dm.e, &src, sigs[i], on_signal, &dm);
                if (r >= 0)
                        r = sd_event_source_set_priority(src, EV_PRIO_SPEAKER);
                if (r >= 0)
                        r = sd_event_source_set_floating(src, true);
                sd_event_source_unref(src);
                if (r < 0) {
                        log_err("cannot watch signal %d: %s", sigs[i], strerror(-r));
                        goto out;
                }
        }

        r = plugin_host_new(dm.e, dm.cfg->plugin_dir, &dm.plugins);
        if (r < 0) {
                log_err("cannot open plugin_dir %s: %s", dm.cfg->plugin_dir, strerror(-r));
                goto out;
        }

        struct backend_hooks hooks = {.speaker_gone = speaker_gone,
                                      .route_sent = route_sent,
                                      .stuck = stuck,
                                      .userdata = &dm};
        r = dm.ops->create(dm.e, clock_system(), dm.cfg, &hooks, &dm.be);
        if (r < 0) {
                log_err("cannot start the %s backend: %s", dm.ops->name, strerror(-r));
                goto out;
        }

        r = engine_new(dm.e, clock_system(), dm.cfg, dm.plugins, dm.ops, dm.be, &d, &dm.en);
        if (r >= 0)
                config_drop_positions(dm.cfg);
        if (r < 0) {
                diag_print(&d, stderr);
                log_err("cannot start the engine: %s", strerror(-r));
                goto out;
        }
        /* From here on a reader of our log that stops reading costs lines,
         * never the loop (log.h). */
        r = log_async_start();
        if (r < 0) {
                log_err("cannot start the log writer: %s", strerror(-r));
                goto out;
        }
        r = engine_start(dm.en);
        if (r < 0) {
                log_err("cannot schedule checks: %s", strerror(-r));
                goto out;
        }
        if (daemon_fleet_start(dm.e, dm.cfg, &dm.en, &dm.fleet) < 0)
                goto out;
        struct control_hooks ctl_hooks = {
            .reload = control_reload, .fleet = dm.fleet ? control_fleet : NULL, .userdata = &dm};
        if (operator_start(dm.e, dm.cfg, dm.en, dm.ops, dm.be, &ctl_hooks, &dm.operator_io) < 0)
                goto out;
        sd_event_set_watchdog(dm.e, true);
        log_notice("started: pop %s, backend %s, %zu services", dm.cfg->pop, dm.ops->name,
                   dm.cfg->n_services);
        sd_notify(0, "READY=1"); /* STATUS= comes from the engine, on every change */

        r = sd_event_loop(dm.e);
        ret = r != 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        log_lateness(dm.en, "since last reset");
out:
        operator_stop(dm.operator_io);
        fleet_free(dm.fleet); /* no news for the engine after this */
        engine_free(dm.en);
        if (dm.be)
                dm.ops->free(dm.be);
        plugin_host_free(dm.plugins);
        sd_event_source_disable_unref(dm.stop_timer);
        sd_event_unref(dm.e);
        config_free(dm.cfg);
        diag_free(&d);
        log_async_stop(LOG_STOP_USEC);
        return ret;
}

int main(int argc, char **argv)
{
        enum {
                OPT_CONFIG = 256,
                OPT_CHECK,
                OPT_WITHDRAW,
                OPT_VERSION,
                OPT_HELP,
                OPT_PROBE,
                OPT_SPEAKER = 512 /* + the speaker's row: --NAME */
        };
        static const struct option fixed[] = {
            {"config", required_argument, NULL, OPT_CONFIG},
            {"check-config", no_argument, NULL, OPT_CHECK},
            {"withdraw-all", no_argument, NULL, OPT_WITHDRAW},
            {"version", no_argument, NULL, OPT_VERSION},
            {"help", no_argument, NULL, OPT_HELP},
            {"probe", required_argument, NULL, OPT_PROBE},
        };
        enum { N_FIXED = sizeof(fixed) / sizeof(fixed[0]), SPEAKERS_MAX = 8 };
        struct option opts[N_FIXED + SPEAKERS_MAX + 1] = {0};
        memcpy(opts, fixed, sizeof(fixed));
        for (size_t i = 0; speaker_at(i) && i < SPEAKERS_MAX; i++)
                opts[N_FIXED + i] =
                    (struct option){speaker_at(i)->name, no_argument, NULL, OPT_SPEAKER + (int)i};
        const char *path = AHD_DEFAULT_CONFIG;
        const char *force = NULL; /* --NAME: a speaker over the config's "backend" */
        bool check = false, withdraw = false;
        const char *probe = NULL;
        int o;

        log_setup("anycast-healthd");
        speakers_register();
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case OPT_CONFIG:
                        path = optarg;
                        break;
                case OPT_CHECK:
                        check = true;
                        break;
                case OPT_PROBE:
                        probe = optarg;
                        break;
                case OPT_WITHDRAW:
                        withdraw = true;
                        break;
                case OPT_VERSION:
                        printf("anycast-healthd %s\n", AHD_VERSION);
                        return EXIT_SUCCESS;
                case OPT_HELP:
                        usage(stdout);
                        return EXIT_SUCCESS;
                default:
                        if (o >= OPT_SPEAKER && speaker_at((size_t)(o - OPT_SPEAKER))) {
                                const struct backend_ops *sp =
                                    speaker_at((size_t)(o - OPT_SPEAKER));
                                if (force && strcmp(force, sp->name) != 0) {
                                        fprintf(stderr,
                                                "anycast-healthd: --%s and --%s exclude each "
                                                "other\n",
                                                force, sp->name);
                                        return EXIT_FAILURE;
                                }
                                force = sp->name;
                                break;
                        }
                        usage(stderr);
                        return EXIT_FAILURE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "anycast-healthd: unexpected argument \"%s\"\n", argv[optind]);
                usage(stderr);
                return EXIT_FAILURE;
        }
        if (check)
                return check_config(path);
        if (probe)
                return probe_service(path, probe, stdout, stderr);
        if (withdraw)
                return speaker_withdraw_all_main(path, force);
        return run(path, force);
}
