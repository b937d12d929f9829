/* engine_harness.h: what the engine tests share. The engine runs on a real
 * sd-event loop and a fake clock (fake_clock.h), so tests step time instead
 * of sleeping; its checks are scripted runners (engine_harness.c defines
 * check_runner_*, so the linker takes them instead of the plugin host's);
 * its speaker is a recording backend; its configuration lives in a scratch
 * directory made per test. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "engine_ctl.h"
#include "engine_fleet.h"
#include "fake_clock.h"

#define HARNESS_LOG_MAX  512
#define HARNESS_LINE_MAX 160
#define HARNESS_MS       1000ULL

struct harness {
        char dir[64];
        sd_event *loop;
        struct fake_clock clock;
        struct config *cfg;
        struct engine *en;
        /* The recording backend: one line per update, in order:
         * "announce 203.0.113.1/32 a prepend=3 med=10 gshut=1" or
         * "withdraw 203.0.113.1/32 a"; and the commits. */
        char log[HARNESS_LOG_MAX][HARNESS_LINE_MAX];
        size_t n;
        unsigned commits;
        unsigned probes; /* answered, every runner together */
};
extern struct harness h;

/* Fixture (a checked fixture's setup and teardown): a new loop, clock and
 * scratch directory with an empty services.d; teardown stops the engine
 * and removes the directory. */
void harness_setup(void);
void harness_teardown(void);

/* Files relative to the scratch directory. */
void harness_write(const char *name, const char *text);
void harness_remove(const char *name);
/* Loads <dir>/d.json. */
struct config *harness_load(void);
/* Loads the configuration, clears the log, starts an engine on it. */
void harness_start(void);
/* Whether the recording speaker can send to the canaries only (it can
 * unless told otherwise; each setup resets it). Its lines for a route
 * on trial end in " to=canaries". */
void harness_speaker_canary(bool can);
/* The same, returning engine_new's failure instead of asserting on it. */
int harness_try_start(void);
void harness_stop(void);

/* Scripted results: probe n of SERVICE's checks returns results[n]; past
 * the end the last repeats, or with cycle the script starts over. "*"
 * scripts every service without a script of its own; with no script at
 * all a probe passes. A check whose plugin is "broken" refuses its
 * options. */
void harness_script(const char *service, const int *results, size_t n, bool cycle);
/* Probes past the first cap of each runner never answer (~0u: all do). */
void harness_probe_cap(unsigned cap);
/* An unsolicited result from SERVICE's first check, as a plugin reports
 * one (host->report); false when the engine gave that runner no report
 * function. */
bool harness_report(const char *service, int result, const char *msg);

/* Lines of the log that contain fragment. */
size_t harness_count(const char *fragment);
/* Line i is the update "what" followed by nothing or by its attributes. */
bool harness_line_is(size_t i, const char *what);
void harness_dump(void);

/* Moves the fake time forward by usec, firing every timer on the way. */
void harness_advance(uint64_t usec);
/* Runs the loop on real time for ms with the fake time standing still:
 * for what is real in these tests (hook processes and their timeouts). */
void harness_run_real(unsigned ms);
struct service_status harness_status(const char *service);

/* Steps the fake time 1 ms at a time until cond holds, for at most 10
 * minutes of it; fails with the log otherwise. */
#define HARNESS_RUN_UNTIL(cond)                                                                    \
        do {                                                                                       \
                for (int _i = 0; _i < 600000 && !(cond); _i++)                                     \
                        harness_advance(HARNESS_MS);                                               \
                if (!(cond))                                                                       \
                        harness_dump();                                                            \
                ck_assert_msg((cond), "never came true: " #cond);                                  \
        } while (0)
