/* fake_clock.c: the stepped clock of fake_clock.h. */
#include <check.h>
#include <time.h>

#include "fake_clock.h"
#include "timerq.h"

static struct fake_clock *of(const struct clock *c)
{
        return (struct fake_clock *)c;
}

static uint64_t fake_now(const struct clock *c)
{
        return of(c)->mono;
}

static uint64_t fake_now_rt(const struct clock *c)
{
        return of(c)->real;
}

static int fake_attach(struct clock *c, struct timerq *q)
{
        struct fake_clock *fc = of(c);
        ck_assert_uint_lt(fc->n_queues, FAKE_CLOCK_MAX_QUEUES);
        fc->queues[fc->n_queues++] = q;
        return 0;
}

static void fake_detach(struct clock *c, struct timerq *q)
{
        struct fake_clock *fc = of(c);
        for (size_t i = 0; i < fc->n_queues; i++)
                if (fc->queues[i] == q) {
                        fc->queues[i] = fc->queues[--fc->n_queues];
                        return;
                }
}

void fake_clock_init(struct fake_clock *fc, sd_event *loop)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        *fc = (struct fake_clock){
            .clock = {.now = fake_now,
                      .now_rt = fake_now_rt,
                      .attach = fake_attach,
                      .detach = fake_detach},
            .mono = 1000 * 1000000ULL,
            .real = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000,
            .loop = loop,
        };
}

/* Returns how many sources it dispatched. */
static int settle(struct fake_clock *fc)
{
        /* A loop that never runs dry is a bug under test (a source that
         * re-arms itself at once): fail rather than hang. */
        for (int i = 0; i < 1000000; i++) {
                int r = sd_event_run(fc->loop, 0);
                ck_assert_int_ge(r, 0);
                if (r == 0)
                        return i;
        }
        ck_abort_msg("the loop is never idle");
        return 0;
}

void fake_clock_settle(struct fake_clock *fc)
{
        settle(fc);
}

static uint64_t next_due(const struct fake_clock *fc)
{
        uint64_t next = UINT64_MAX;
        for (size_t i = 0; i < fc->n_queues; i++) {
                uint64_t d = timerq_next_due(fc->queues[i]);
                if (d < next)
                        next = d;
        }
        return next;
}

void fake_clock_advance(struct fake_clock *fc, uint64_t usec)
{
        uint64_t target = fc->mono + usec;

        bool stuck = false;
        for (int guard = 0;; guard++) {
                ck_assert_msg(guard < 10000000, "timers keep firing at one instant");
                int ran = settle(fc);
                uint64_t next = next_due(fc);
                if (next > target)
                        break;
                /* Due items that did not fire and a loop with nothing to
                 * run: a route change is pending that nothing commits. */
                ck_assert_msg(!(stuck && ran == 0), "due timers blocked by a pending route "
                                                    "change that nothing commits");
                if (next > fc->mono) {
                        fc->real += next - fc->mono;
                        fc->mono = next;
                }
                /* By index: a fire may make or free a queue. A queue that
                 * stops early (a route change pending) goes on after the
                 * settle above runs the commit. */
                size_t fired = 0;
                for (size_t i = 0; i < fc->n_queues; i++)
                        fired += timerq_run_due(fc->queues[i], fc->mono);
                stuck = fired == 0;
        }
        fc->real += target - fc->mono;
        fc->mono = target;
        fake_clock_settle(fc);
}
