/* net_fixture.h: what the network and file plugin tests add to
 * plugin_fixture.h (plugin dir, loop, host, services, probes): real servers
 * (nginx, nsd, socat) started as plain child processes on free loopback
 * ports. */
#pragma once
#include <check.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "diag.h"
#include "plugin_fixture.h"

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
