/* fake_engine.h: a scripted engine_ctl.h for the operator-interface tests:
 * two services with fixed snapshots, and a log of the actions asked. */
#pragma once
#include "engine_ctl.h"

#define FAKE_NOW_USEC 1700000000000000ULL /* 2023-11-14T22:13:20Z */

/* Resets the services (dns: up, web: down, 1 check each) and the log. */
void fake_engine_reset(void);
/* Every action so far, "disable dns maintenance;enable web;" and so on. */
const char *fake_engine_log(void);
/* What the next action returns (0 by default; reset after each). */
void fake_engine_fail_next(int err);
/* What engine_state_file_error() returns (0 after a reset). */
void fake_engine_set_state_file_error(int err);
/* What engine_floor_manual() answers from now on (0 and no sentence after
 * a reset): 1 with why for a breach, a negative errno for a failure. */
void fake_engine_set_floor(int r, const char *why);
/* How many times engine_floor_manual() was asked since the reset, and
 * about which service last ("" before the first). */
int fake_engine_floor_calls(void);
const char *fake_engine_floor_service(void);
extern struct service_status fake_services[2];
