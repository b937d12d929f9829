/* frr_withdraw.c: --withdraw-all, see frr_withdraw.h. Runs after the
 * daemon is gone (systemd's ExecStopPost=), so everything of ours in FRR
 * is fair game: what bgpd's running config shows under our route-map
 * prefix, and the blackhole statics of those prefixes and of every prefix
 * the configuration names. Spoken with the backend's vty client. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frr_config.h"
#include "frr_render.h"
#include "frr_vty.h"
#include "frr_withdraw.h"
#include "log.h"

struct found {
        struct frr_route *r;
        size_t n;
        struct frr_rm_set rms;
};

static void add_prefix(struct found *f, const struct prefix *p, bool net)
{
        for (size_t i = 0; i < f->n; i++)
                if (prefix_cmp(&f->r[i].prefix, p) == 0) {
                        if (net)
                                f->r[i].net_held = HELD_YES;
                        return;
                }
        struct frr_route *v = reallocarray(f->r, f->n + 1, sizeof(*v));
        if (!v)
                return;
        f->r = v;
        /* The static is removed whether or not it is there. */
        f->r[f->n++] = (struct frr_route){.prefix = *p,
                                          .attrs = {.med = -1},
                                          .net_held = net ? HELD_YES : HELD_NO,
                                          .static_held = HELD_UNKNOWN};
}

static void on_network(const struct prefix *p, void *userdata)
{
        add_prefix(userdata, p, true);
}

static void on_route_map(const char *name, void *userdata)
{
        struct found *f = userdata;
        frr_rm_set_add(&f->rms, name);
}

static char *vty_path(const struct config *cfg, const char *name)
{
        char *p = NULL;
        return asprintf(&p, "%s/%s.vty", frr_settings(cfg)->socket_dir, name) < 0 ? NULL : p;
}

int frr_withdraw_all(sd_event *e, const struct config *cfg, uint64_t timeout_usec)
{
        struct found f = {0};
        struct frrvty *vty[2] = {NULL, NULL};
        const char *names[2] = {"staticd", "bgpd"};
        int ret = 0;
        for (int d = 0; d < 2; d++) {
                char *path = vty_path(cfg, names[d]);
                int r = path ? frrvty_new(e, clock_system(), path, &vty[d]) : -ENOMEM;
                free(path);
                if (r < 0) {
                        log_err("withdraw-all: %s", strerror(-r));
                        ret = r;
                        goto out;
                }
        }
        char *text = NULL;
        uint32_t asn = 0;
        int r = frrvty_command_sync(e, vty[FRR_BGPD], "show running-config", timeout_usec, &text);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_notice("withdraw-all: bgpd is not running (%s: %s): it announces nothing "
                           "of ours, and forgot our commands",
                           frrvty_path(vty[FRR_BGPD]), strerror(-r));
                ret = 1;
        } else if (r == -EACCES) {
                log_err("withdraw-all: no permission on %s: run as a member of group frrvty",
                        frrvty_path(vty[FRR_BGPD]));
                ret = r;
                goto out;
        } else if (r < 0) {
                log_err("withdraw-all: bgpd did not answer on %s: %s", frrvty_path(vty[FRR_BGPD]),
                        strerror(-r));
                ret = r;
                goto out;
        } else {
                asn = frr_parse_running(text, on_network, on_route_map, &f);
        }
        free(text);
        size_t networks = f.n, rms = f.rms.n;
        for (size_t i = 0; i < cfg->n_services; i++)
                for (size_t j = 0; j < cfg->services[i].n_prefixes; j++)
                        add_prefix(&f, &cfg->services[i].prefixes[j], false);
        if (ret == 1) {
                /* bgpd away: only our statics can still go */
                for (size_t i = 0; i < f.n; i++)
                        f.r[i].net_held = HELD_NO;
                frr_rm_set_free(&f.rms);
        }
        struct frr_batch batch = {0};
        size_t bad;
        struct frr_rm_set held = f.rms;
        r = frr_plan(f.r, f.n, &held, asn, 0, 0, &batch, &bad);
        if (r < 0) {
                ret = r;
                goto out;
        }
        size_t refused = 0;
        for (size_t i = 0; i < batch.n; i++) {
                const struct frr_cmd *c = &batch.v[i];
                char *reply = NULL;
                r = frrvty_command_sync(e, vty[c->daemon], c->text, timeout_usec, &reply);
                if (c->daemon == FRR_STATICD && (r == -ENOENT || r == -ECONNREFUSED)) {
                        free(reply);
                        log_notice("withdraw-all: staticd is not running (%s)",
                                   frrvty_path(vty[FRR_STATICD]));
                        /* skip the rest of staticd's part */
                        while (i + 1 < batch.n && batch.v[i + 1].daemon == FRR_STATICD)
                                i++;
                        continue;
                }
                if (r < 0) {
                        log_err("withdraw-all: %s did not answer `%s`: %s", names[c->daemon],
                                c->text, strerror(-r));
                        free(reply);
                        ret = r;
                        break;
                }
                bool ok = r == FRRVTY_SUCCESS ||
                          (c->kind == CMD_NO_NETWORK && reply && strstr(reply, "Can't find"));
                if (!ok) {
                        refused++;
                        log_err("withdraw-all: %s refused `%s`: %s", names[c->daemon], c->text,
                                reply ? reply : "");
                }
                free(reply);
        }
        frr_batch_free(&batch);
        if (ret == 0 && refused)
                ret = -EREMOTEIO;
        if (ret == 0)
                log_notice("withdraw-all: removed %zu network statements and %zu route-maps "
                           "from bgpd (router bgp %" PRIu32 ") and the blackhole statics: "
                           "every route of ours is withdrawn",
                           networks, rms, asn);
out:
        for (int d = 0; d < 2; d++)
                frrvty_free(vty[d]);
        for (size_t i = 0; i < f.n; i++)
                attrs_free(&f.r[i].attrs);
        free(f.r);
        frr_rm_set_free(&f.rms);
        return ret;
}

int frr_withdraw_all_action(const struct config *cfg)
{
        sd_event *e = NULL;
        int r = sd_event_new(&e);
        if (r < 0) {
                log_err("withdraw-all: cannot create event loop: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        r = frr_withdraw_all(e, cfg, FRR_WITHDRAW_TIMEOUT_USEC);
        sd_event_unref(e);
        return r >= 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
