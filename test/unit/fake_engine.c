/* fake_engine.c: see fake_engine.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "anycast-healthd-check.h"
#include "engine_fleet.h"
#include "fake_engine.h"

struct service_status fake_services[2];
static struct prefix_status prefixes[3];
static struct check_status checks[2];
static char log_buf[4096];
static int fail_next;
static int state_file_error;
static int floor_r, floor_calls;
static const char *floor_why;
static char floor_service[64];

void fake_engine_reset(void)
{
        log_buf[0] = '\0';
        fail_next = 0;
        state_file_error = 0;
        floor_r = floor_calls = 0;
        floor_why = NULL;
        floor_service[0] = '\0';
        prefixes[0] = (struct prefix_status){"203.0.113.53/32", ROUTE_ANNOUNCE, "up",
                                             CONFIRM_CONFIRMED, AUDIENCE_EVERYONE};
        prefixes[1] = (struct prefix_status){"2001:db8:53::53/128", ROUTE_ANNOUNCE, "up",
                                             CONFIRM_PENDING, AUDIENCE_CANARIES};
        prefixes[2] = (struct prefix_status){"203.0.113.80/32", ROUTE_WITHDRAW, NULL,
                                             CONFIRM_CONFIRMED, AUDIENCE_NONE};
        checks[0] = (struct check_status){
            .plugin = "tcp",
            .state = CHECK_UP,
            .last_result = AHC_OK,
            .last_message = "connected in 1 ms",
            .last_duration_usec = 1234,
            .last_time_usec = FAKE_NOW_USEC - 500000,
            .results_by_code = {120, 2, 3, 1},
            .timeouts = 1,
        };
        /* durations: 0.8ms, 3ms, 40ms, 2s */
        duration_hist_add(&checks[0].durations, 800);
        duration_hist_add(&checks[0].durations, 3000);
        duration_hist_add(&checks[0].durations, 40000);
        duration_hist_add(&checks[0].durations, 2000000);
        checks[1] = (struct check_status){
            .plugin = "exec",
            .state = CHECK_DOWN,
            .last_result = AHC_CRITICAL,
            .last_message = "HTTP 503 \"busy\"",
            .last_duration_usec = 2500000,
            .last_time_usec = FAKE_NOW_USEC - 1000000,
            .results_by_code = {0, 0, 7, 0},
        };
        duration_hist_add(&checks[1].durations, 2500000);
        fake_services[0] = (struct service_status){
            .name = "dns",
            .state = SVC_UP,
            .health = SVC_UP,
            .since_usec = FAKE_NOW_USEC - 192000000, /* 3m12s */
            .transitions = 3,
            .reason = "check tcp[0] passed after 3 results",
            .prefixes = &prefixes[0],
            .n_prefixes = 2,
            .checks = &checks[0],
            .n_checks = 1,
            .fleet_announcing = -1, /* no fleet */
        };
        fake_services[1] = (struct service_status){
            .name = "web",
            .state = SVC_DOWN,
            .health = SVC_DOWN,
            .since_usec = FAKE_NOW_USEC - 7500000000ULL, /* 2h5m */
            .transitions = 12,
            .reason = "check exec[0] failed after 2 results",
            .dampening_penalty = 1500.5,
            .dampening_suppressed = true,
            .prefixes = &prefixes[2],
            .n_prefixes = 1,
            .checks = &checks[1],
            .n_checks = 1,
            .fleet_announcing = -1,
        };
}

const char *fake_engine_log(void)
{
        return log_buf;
}

void fake_engine_fail_next(int err)
{
        fail_next = err;
}

void fake_engine_set_state_file_error(int err)
{
        state_file_error = err;
}

int engine_state_file_error(struct engine *en)
{
        return state_file_error;
}

static int record(const char *verb, const char *service, const char *reason)
{
        size_t n = strlen(log_buf);
        snprintf(log_buf + n, sizeof(log_buf) - n, "%s%s%s%s%s;", verb, service ? " " : "",
                 service ? service : "", reason ? " " : "", reason ? reason : "");
        int r = fail_next;
        fail_next = 0;
        return r;
}

size_t engine_service_count(struct engine *en)
{
        return 2;
}

int engine_service_status(struct engine *en, size_t i, struct service_status *out)
{
        if (i >= 2)
                return -ENOENT;
        *out = fake_services[i];
        return 0;
}

int engine_service_find(struct engine *en, const char *name)
{
        for (int i = 0; i < 2; i++)
                if (strcmp(fake_services[i].name, name) == 0)
                        return i;
        return -ENOENT;
}

static int act(const char *verb, const char *service, const char *reason)
{
        if (service && engine_service_find(NULL, service) < 0)
                return -ENOENT;
        return record(verb, service, reason);
}

int engine_disable(struct engine *en, const char *service, const char *reason)
{
        return act("disable", service, reason);
}

int engine_enable(struct engine *en, const char *service)
{
        return act("enable", service, NULL);
}

int engine_drain(struct engine *en, const char *service, const char *reason)
{
        return act("drain", service, reason);
}

int engine_check_now(struct engine *en, const char *service)
{
        return act("check", service, NULL);
}

int engine_withdraw_all(struct engine *en, const char *reason)
{
        return act("withdraw-all", NULL, reason);
}

void fake_engine_set_floor(int r, const char *why)
{
        floor_r = r;
        floor_why = why;
}

int fake_engine_floor_calls(void)
{
        return floor_calls;
}

const char *fake_engine_floor_service(void)
{
        return floor_service;
}

int engine_floor_manual(struct engine *en, const char *service, char *why, size_t size)
{
        floor_calls++;
        snprintf(floor_service, sizeof(floor_service), "%s", service ? service : "");
        if (!service || engine_service_find(en, service) < 0)
                return -ENOENT;
        if (size)
                snprintf(why, size, "%s", floor_why ? floor_why : "");
        return floor_r;
}
