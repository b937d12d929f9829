/* plugin_fixture.h: what plugin tests share: a temporary plugin directory
 * with the built plugins copied in, a plugin host on a real sd-event loop,
 * services built from JSON text, and running the loop until a result. */
#pragma once
#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "plugin_host.h"

extern char fx_plugdir[256];
extern sd_event *fx_loop;
extern struct plugin_host *fx_host;
extern struct diag fx_diag;

void fx_setup(void);
void fx_teardown(void);

struct fx_svc {
        struct service_cfg cfg;
        json_t *root;
        char *text;
};
/* A service from a service file's text (name, file and checks only). */
struct fx_svc *fx_svc_new(const char *text);
/* One check service from a plugin name and its options' JSON. */
struct fx_svc *fx_svc1(const char *plugin, const char *options);
void fx_svc_free(struct fx_svc *s);
/* A runner for the service's only check; fails the test on problems. */
struct check_runner *fx_runner(struct fx_svc *s);

struct fx_res {
        int n, code;
        char msg[300];
        uint64_t dur, at;
};
uint64_t fx_now(void);
void fx_on_result(void *userdata, int result, const char *msg, uint64_t dur);
void fx_on_report(void *userdata, int result, const char *msg);
void fx_run_until(const int *n, int want, uint64_t max_usec);
void fx_run_for(uint64_t usec);
/* One probe, exactly one result, never from within start. */
struct fx_res fx_probe(struct check_runner *r, uint64_t timeout);
/* Builds, probes once, frees. */
struct fx_res fx_probe1(const char *plugin, const char *options, uint64_t timeout);
/* check_runner_new's return for refused options; problems land in fx_diag. */
int fx_refused(const char *plugin, const char *options);
/* The diag entry containing needle; fails the test when there is none. */
const struct diag_msg *fx_expect_diag(const char *needle);
