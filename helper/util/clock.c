/* clock.c: the system clock behind clock.h. */
#include <time.h>

#include "clock.h"

static uint64_t read_clock(clockid_t id)
{
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t system_now(const struct clock *c)
{
        (void)c;
        return read_clock(CLOCK_MONOTONIC);
}

static uint64_t system_now_rt(const struct clock *c)
{
        (void)c;
        return read_clock(CLOCK_REALTIME);
}

static struct clock system_clock = {.now = system_now, .now_rt = system_now_rt};

struct clock *clock_system(void)
{
        return &system_clock;
}
