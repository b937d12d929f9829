/* operator.c: starts and stops the control socket and the metrics endpoint
 * together, so main.c needs one call each way. */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "metrics.h"
#include "operator.h"

struct operator_io {
        struct control *control;
        struct metrics *metrics;
};

int operator_start(sd_event *e, const struct config *cfg, struct engine *en,
                   const struct backend_ops *bops, struct backend *be,
                   const struct control_hooks *hooks, struct operator_io **out)
{
        struct operator_io *o = calloc(1, sizeof(*o));
        int r;

        *out = NULL;
        if (!o)
                return -ENOMEM;
        /* What the operator configured must work; the defaults are best
         * effort (e.g. a speaker runs us as a user who cannot create /run/...). */
        r = control_new(e, cfg, en, hooks, &o->control);
        if (r < 0 && cfg->control.configured) {
                operator_stop(o);
                return r;
        }
        if (r < 0)
                log_warning("control: no control socket at the default %s; set "
                            "\"control\": { \"socket\": ... } to a path this user can create",
                            cfg->control.socket);
        r = metrics_new(e, cfg, en, bops, be, &o->metrics);
        if (r < 0 && cfg->metrics.configured) {
                operator_stop(o);
                return r;
        }
        if (r < 0)
                log_warning("metrics: not serving on the default %s; set \"metrics\": { "
                            "\"listen\": ... } (\"\" turns it off)",
                            cfg->metrics.listen);
        *out = o;
        return 0;
}

void operator_set_config(struct operator_io *o, const struct config *cfg)
{
        if (!o)
                return;
        if (o->control)
                control_set_config(o->control, cfg);
        metrics_set_config(o->metrics, cfg);
}

void operator_stop(struct operator_io *o)
{
        if (!o)
                return;
        control_free(o->control);
        metrics_free(o->metrics);
        free(o);
}
