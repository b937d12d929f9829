/* plugin_fixture.h: what the plugin tests share: a temporary plugin_dir
 * holding the built plugins, a real sd-event loop and plugin host, services
 * built from JSON text, probes run to their one result, and real servers
 * (nginx, nsd, socat) started as plain child processes on free loopback
 * ports. */
#pragma once
#include <check.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "diag.h"
#include "plugin_host.h"

extern char fx_plugdir[256];
extern struct plugin_host *fx_host;
extern struct diag fx_diag;

/* Checked fixture: plugin dir, loop, host. */
void fx_setup(void);
void fx_teardown(void);

struct fx_svc;
/* One check service from a plugin name and its options' JSON. */
struct fx_svc *fx_svc1(const char *plugin, const char *options);
void fx_svc_free(struct fx_svc *s);
/* Builds the runner; the test fails when options are refused. */
struct check_runner *fx_runner(struct fx_svc *s);
/* check_runner_new's return; problems land in fx_diag. */
int fx_refused(const char *plugin, const char *options);
const struct diag_msg *fx_expect_diag(const char *needle);

struct fx_res {
        int n, code;
        char msg[300];
        uint64_t dur;
};
/* One probe with a host timeout; exactly one result, never from within start. */
struct fx_res fx_probe(struct check_runner *r, uint64_t timeout_usec);
/* Builds, probes once, frees. */
struct fx_res fx_probe1(const char *plugin, const char *options, uint64_t timeout_usec);
void fx_run_for(uint64_t usec);
/* The loop the host runs on (for test-side servers). */
sd_event *fx_event(void);
uint64_t fx_now_usec(void);

/* A loopback port free for TCP and UDP at the time of asking. */
int fx_free_port(void);
/* A TCP listener that never accepts: connects succeed, nothing answers. */
int fx_blackhole(int *port);
/* Starts argv with stdout and stderr to log; returns its pid. */
pid_t fx_spawn(char *const argv[], const char *log);
/* Waits (generously) until 127.0.0.1:port accepts TCP connections. */
void fx_wait_tcp(int port, pid_t pid, const char *log);
void fx_stop(pid_t pid);
/* A fresh temporary directory (for servers' files), and its removal. */
void fx_tmpdir(char *out, size_t size, const char *tag);
void fx_rmdir(const char *dir);
void fx_write(const char *path, const char *text);
/* Runs a shell command; fails the test when it fails. */
void fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ck_assert_has(haystack, needle)                                                            \
        ck_assert_msg(strstr((haystack), (needle)), "\"%s\" lacks \"%s\"", (haystack), (needle))
