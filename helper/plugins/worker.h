/* worker.h: the process that runs one check of a plugin that is not
 * loop-safe, and the small typed messages it exchanges with the daemon over
 * a SOCK_SEQPACKET socketpair (one message per packet, so no framing).
 *
 * Option validation: the worker calls the plugin's create() first and sends
 * each problem as a WM_OPTERR record ("key\tmessage"; empty key for the
 * options object; code 1 for a warning, 0 for an error), then WM_READY or WM_FAILED. The daemon
 * reads that handshake synchronously when the check is built (worker_handshake), so problems land
 * in diag with their positions like a loop-safe plugin's. */
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include "anycast-healthd-check.h"
#include "plugin_opts.h"

enum worker_msg_type {
        WM_PROBE = 1, /* daemon -> worker: run one probe; seq */
        WM_OPTERR,    /* worker -> daemon: "key\tmessage", code 1 = warning */
        WM_LOG,       /* worker -> daemon: code = priority, text = line */
        WM_READY,     /* worker -> daemon: create() succeeded */
        WM_FAILED,    /* worker -> daemon: create() failed; code = its errno */
        WM_RESULT,    /* worker -> daemon: seq, code = ahc_result, text = message */
        WM_REPORT,    /* worker -> daemon: unsolicited result (host->report) */
};

#define WORKER_TEXT_MAX 512

struct worker_msg {
        uint32_t type;
        uint32_t seq;
        int32_t code;
        char text[WORKER_TEXT_MAX]; /* NUL-terminated */
};

/* Forks a worker for plugin with opts (the child uses its copy of them).
 * mem_limit caps the child's address space growth (RLIMIT_AS, not in
 * sanitizer builds). The parent gets the pid and its end of the socket
 * (non-blocking, close-on-exec). The child never returns. */
int worker_spawn(const struct ahc_plugin *plugin, struct ahc_opts *opts, uint64_t mem_limit,
                 pid_t *pid, int *fd);

/* Sends one probe request. */
int worker_send_probe(int fd, uint32_t seq);
/* Receives one message: 1 with *m filled, 0 on EOF, -EAGAIN, or -errno. */
int worker_recv(int fd, struct worker_msg *m);

/* Waits (blocking, at most timeout_usec) for the create() handshake; every
 * WM_OPTERR goes to report(userdata, key, warning, text), WM_LOG to the log with
 * label. Returns 0 on WM_READY, the plugin's negative errno on WM_FAILED,
 * -ETIMEDOUT, or -EPIPE when the worker died first. */
int worker_handshake(int fd, uint64_t timeout_usec, opts_report_fn report, void *userdata,
                     const char *label);

/* SIGKILLs the worker's process group. */
void worker_kill(pid_t pid);
/* Kills and reaps (blocking: SIGKILL cannot be ignored). */
void worker_kill_reap(pid_t pid);
/* Resident set size of pid in bytes, or 0 when unknown. */
uint64_t worker_rss(pid_t pid);
