/* test_trigger.h: test-only manual actions on SIGUSR2 (test_trigger.c). */
#pragma once
#include <systemd/sd-event.h>

struct engine;

/* Does nothing unless AHD_TEST_TRIGGER is set in the environment. */
int test_trigger_setup(sd_event *e, struct engine *en);
