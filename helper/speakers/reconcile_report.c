/* reconcile_report.c: reconciliation's verdicts, logged and reported
 * (reconcile_report.h). */
#include "log.h"
#include "reconcile_report.h"

bool reconcile_judge(const struct reconcile_report *r, struct reconcile_track *t,
                     const struct prefix *p, bool differs, const char *what, uint64_t now)
{
        enum reconcile_state was = t->state;
        char text[PREFIX_STRLEN];
        prefix_format(p, text);
        switch (reconcile_note(t, differs, now, r->stuck_after)) {
        case RECONCILE_DRIFTED:
                (*r->drift_total)++;
                log_warning("%s: reconcile: %s %s; %s", r->speaker, text, what, r->repair);
                break;
        case RECONCILE_BECAME_STUCK:
                log_err("%s: reconcile: %s still %s after %llu s of repairs: stuck", r->speaker,
                        text, what, (unsigned long long)(r->stuck_after / 1000000));
                if (r->hooks->stuck)
                        r->hooks->stuck(r->hooks->userdata, p, true, what);
                break;
        case RECONCILE_RECOVERED:
                log_notice("%s: reconcile: %s is as asked again", r->speaker, text);
                if (was == RECONCILE_STUCK && r->hooks->stuck)
                        r->hooks->stuck(r->hooks->userdata, p, false, NULL);
                break;
        case RECONCILE_SAME:
                break;
        }
        return differs;
}
