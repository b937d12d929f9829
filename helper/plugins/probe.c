/* probe.c: see probe.h. The checks run on a loop of their own with the same
 * plugin host the daemon uses, so what --probe shows is what the daemon
 * would see: worker isolation, timeouts and option validation included. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "anycast-healthd-check.h"
#include "config.h"
#include "diag.h"
#include "plugin_host.h"
#include "check_result.h"
#include "probe.h"

struct probe_check {
        struct probe_run *run;
        const struct check_cfg *cfg;
        size_t index;
        struct check_runner *runner;
        bool done;
        int result;
        uint64_t duration;
        char msg[256];
};

struct probe_run {
        sd_event *e;
        FILE *out;
        size_t pending;
};

static void on_result(void *userdata, int result, const char *msg, uint64_t duration)
{
        struct probe_check *c = userdata;
        c->done = true;
        c->result = result;
        c->duration = duration;
        snprintf(c->msg, sizeof(c->msg), "%s", msg ? msg : "");
        if (--c->run->pending == 0)
                sd_event_exit(c->run->e, 0);
}

static void on_report(void *userdata, int result, const char *msg)
{
        struct probe_check *c = userdata;
        fprintf(c->run->out, "checks[%zu] %s reported %s: %s\n", c->index, c->cfg->plugin,
                check_result_label(result), msg ? msg : "");
}

static const struct service_cfg *find_service(const struct config *cfg, const char *name)
{
        for (size_t i = 0; i < cfg->n_services; i++)
                if (strcmp(cfg->services[i].name, name) == 0)
                        return &cfg->services[i];
        return NULL;
}

int probe_service(const char *config_path, const char *service, FILE *out, FILE *err)
{
        struct diag d = {0};
        struct config *cfg = NULL;
        struct plugin_host *host = NULL;
        struct probe_check *checks = NULL;
        struct probe_run run = {.out = out};
        int ret = PROBE_EXIT_ERROR;

        if (config_load(config_path, &cfg, &d) < 0) {
                diag_print(&d, err);
                goto out;
        }
        const struct service_cfg *svc = find_service(cfg, service);
        if (!svc) {
                fprintf(err, "anycast-healthd: no service \"%s\" in %s\n", service, config_path);
                goto out;
        }
        int r = sd_event_new(&run.e);
        if (r >= 0)
                r = plugin_host_new(run.e, cfg->plugin_dir, &host);
        if (r < 0) {
                fprintf(err, "anycast-healthd: cannot start the plugin host: %s\n", strerror(-r));
                goto out;
        }
        checks = calloc(svc->n_checks, sizeof(*checks));
        if (!checks)
                goto out;
        bool loaded = true;
        for (size_t i = 0; i < svc->n_checks; i++) {
                checks[i] = (struct probe_check){.run = &run, .cfg = &svc->checks[i], .index = i};
                if (check_runner_new(host, svc, i, &d, &checks[i].runner) < 0)
                        loaded = false;
                else
                        check_runner_set_report_fn(checks[i].runner, on_report, &checks[i]);
        }
        if (!loaded) {
                diag_print(&d, err);
                goto out;
        }
        for (size_t i = 0; i < svc->n_checks; i++) {
                r = check_runner_start(checks[i].runner, svc->checks[i].timeout_usec, on_result,
                                       &checks[i]);
                if (r < 0) {
                        fprintf(err, "anycast-healthd: cannot start checks[%zu]: %s\n", i,
                                strerror(-r));
                        goto out;
                }
                run.pending++;
        }
        r = sd_event_loop(run.e);
        if (r < 0) {
                fprintf(err, "anycast-healthd: event loop: %s\n", strerror(-r));
                goto out;
        }
        ret = AHC_OK;
        fprintf(out, "service %s: %zu check%s\n", svc->name, svc->n_checks,
                svc->n_checks == 1 ? "" : "s");
        for (size_t i = 0; i < svc->n_checks; i++) {
                struct probe_check *c = &checks[i];
                fprintf(out, "checks[%zu] %-10s %-8s %9.3f ms  %s\n", i, c->cfg->plugin,
                        check_result_label(c->result), c->duration / 1000.0, c->msg);
                int code =
                    c->result >= AHC_OK && c->result <= AHC_UNKNOWN ? c->result : AHC_UNKNOWN;
                if (code > ret)
                        ret = code;
        }
out:
        if (checks)
                for (size_t i = 0; i < svc->n_checks; i++)
                        check_runner_free(checks[i].runner);
        free(checks);
        plugin_host_free(host);
        sd_event_unref(run.e);
        config_free(cfg);
        diag_free(&d);
        fflush(out);
        return ret;
}
