/* net_fixture.h: what the network and file plugin tests share: a temporary plugin_dir
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

extern char nf_plugdir[256];
extern struct plugin_host *nf_host;
extern struct diag nf_diag;

/* Checked fixture: plugin dir, loop, host. */
void nf_setup(void);
void nf_teardown(void);

struct nf_svc;
/* One check service from a plugin name and its options' JSON. */
struct nf_svc *nf_svc1(const char *plugin, const char *options);
void nf_svc_free(struct nf_svc *s);
/* Builds the runner; the test fails when options are refused. */
struct check_runner *nf_runner(struct nf_svc *s);
/* check_runner_new's return; problems land in nf_diag. */
int nf_refused(const char *plugin, const char *options);
const struct diag_msg *nf_expect_diag(const char *needle);

struct nf_res {
        int n, code;
        char msg[300];
        uint64_t dur;
};
/* One probe with a host timeout; exactly one result, never from within start. */
struct nf_res nf_probe(struct check_runner *r, uint64_t timeout_usec);
/* Builds, probes once, frees. */
struct nf_res nf_probe1(const char *plugin, const char *options, uint64_t timeout_usec);
void nf_run_for(uint64_t usec);
/* The loop the host runs on (for test-side servers). */
sd_event *nf_event(void);
uint64_t nf_now_usec(void);

/* A loopback port free for TCP and UDP at the time of asking. */
int nf_free_port(void);
/* A TCP listener that never accepts: connects succeed, nothing answers. */
int nf_blackhole(int *port);
/* Starts argv with stdout and stderr to log; returns its pid. */
pid_t nf_spawn(char *const argv[], const char *log);
/* Waits (generously) until 127.0.0.1:port accepts TCP connections. */
void nf_wait_tcp(int port, pid_t pid, const char *log);
void nf_stop(pid_t pid);
/* A fresh temporary directory (for servers' files), and its removal. */
void nf_tmpdir(char *out, size_t size, const char *tag);
void nf_rmdir(const char *dir);
void nf_write(const char *path, const char *text);
/* Runs a shell command; fails the test when it fails. */
void nf_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ck_assert_has(haystack, needle)                                                            \
        ck_assert_msg(strstr((haystack), (needle)), "\"%s\" lacks \"%s\"", (haystack), (needle))
