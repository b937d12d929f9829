/* test_trigger.c: a test-only way to call the engine's manual actions
 * until the control socket (anycast-healthctl) is merged. Only active when
 * the environment names a file in AHD_TEST_TRIGGER: on SIGUSR2 the daemon
 * reads its lines ("disable NAME REASON", "enable NAME", "drain NAME
 * REASON", "check NAME", "withdraw-all REASON", "withdraw-all-clear",
 * "status"), runs them and appends one result line each to FILE.out.
 * Remove once the integration tests use anycast-healthctl. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_ctl.h"
#include "log.h"
#include "test_trigger.h"

static void status(struct engine *en, FILE *out)
{
        for (size_t i = 0; i < engine_service_count(en); i++) {
                struct service_status st;
                if (engine_service_status(en, i, &st) < 0)
                        continue;
                fprintf(out,
                        "service %s %s health=%s transitions=%llu drain_ms=%llu "
                        "penalty=%.0f suppressed=%d disabled=%d reason=%s\n",
                        st.name, svc_state_name(st.state), svc_state_name(st.health),
                        (unsigned long long)st.transitions,
                        (unsigned long long)(st.drain_remaining_usec / 1000), st.dampening_penalty,
                        st.dampening_suppressed, st.disabled, st.reason);
                for (size_t j = 0; j < st.n_prefixes; j++)
                        fprintf(out, "prefix %s %s %s %s confirm=%d\n", st.name,
                                st.prefixes[j].prefix, route_action_name(st.prefixes[j].action),
                                st.prefixes[j].as_what, st.prefixes[j].confirm);
        }
        char line[256];
        engine_status_line(en, line, sizeof(line));
        fprintf(out, "summary %s\n", line);
}

static int run_line(struct engine *en, char *line, FILE *out)
{
        char *verb = strtok(line, " \n");
        char *name = strtok(NULL, " \n");
        char *rest = strtok(NULL, "\n");
        if (!verb)
                return 0;
        if (strcmp(verb, "status") == 0) {
                status(en, out);
                return 0;
        }
        if (strcmp(verb, "withdraw-all") == 0) {
                char reason[512];
                snprintf(reason, sizeof(reason), "%s%s%s", name ? name : "", rest ? " " : "",
                         rest ? rest : "");
                return engine_withdraw_all(en, reason);
        }
        if (strcmp(verb, "withdraw-all-clear") == 0)
                return engine_withdraw_all_clear(en);
        if (strcmp(verb, "disable") == 0)
                return engine_disable(en, name, rest);
        if (strcmp(verb, "enable") == 0)
                return engine_enable(en, name);
        if (strcmp(verb, "drain") == 0)
                return engine_drain(en, name, rest);
        if (strcmp(verb, "check") == 0)
                return engine_check_now(en, name);
        return -EINVAL;
}

static int on_usr2(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct engine *en = userdata;
        const char *path = getenv("AHD_TEST_TRIGGER");
        char outpath[4096], line[1024];
        snprintf(outpath, sizeof(outpath), "%s.out", path);
        FILE *in = fopen(path, "re");
        FILE *out = fopen(outpath, "ae");
        if (!in || !out) {
                log_err("test trigger: cannot open %s or %s", path, outpath);
                goto done;
        }
        while (fgets(line, sizeof(line), in)) {
                char copy[1024];
                snprintf(copy, sizeof(copy), "%s", line);
                copy[strcspn(copy, "\n")] = '\0';
                int r = run_line(en, line, out);
                fprintf(out, "%s %s%s%s\n", r < 0 ? "ERR" : "OK", copy, r < 0 ? ": " : "",
                        r < 0 ? strerror(-r) : "");
        }
        if (truncate(path, 0) < 0)
                log_err("test trigger: cannot truncate %s", path);
done:
        if (in)
                fclose(in);
        if (out)
                fclose(out);
        return 0;
}

int test_trigger_setup(sd_event *e, struct engine *en)
{
        if (!getenv("AHD_TEST_TRIGGER"))
                return 0;
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGUSR2);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        log_warning("test trigger active (AHD_TEST_TRIGGER): for tests only");
        return sd_event_add_signal(e, NULL, SIGUSR2, on_usr2, en);
}
