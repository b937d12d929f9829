/* frr_vty.h: a client for an FRR daemon's vty unix socket (bgpd.vty,
 * staticd.vty), spoken directly: the protocol vtysh itself speaks
 * (FRR 8.4 vtysh/vtysh.c vtysh_client_run, lib/vty.c vtysh_read).
 *
 * A command is its text followed by one NUL. The reply is the command's
 * output, then three NULs and one status byte: FRR's CMD_* code (0
 * CMD_SUCCESS, 1 CMD_WARNING, 2 CMD_ERR_NO_MATCH, 3 ambiguous, 4
 * incomplete, 13 CMD_WARNING_CONFIG_FAILED, ...). A new connection sits in
 * the VIEW node; the client sends `enable` first on every connection. The
 * node is per connection: `configure terminal`, `router bgp N`, ... move
 * it, as they would on a terminal. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "clock.h"

#define FRRVTY_CMD_MAX   4096
#define FRRVTY_REPLY_MAX (16 << 20) /* a running-config of a large router */

enum {
        FRRVTY_SUCCESS = 0,
        FRRVTY_WARNING_CONFIG_FAILED = 13,
};

struct frrvty_reply {
        int error;        /* 0, or a negative errno when no complete reply came */
        int status;       /* the status byte; -1 when error != 0 */
        const char *text; /* the output before the terminator, NUL-terminated */
        size_t len;
};

/* Finds the end of one reply in buf[0..len): returns the number of bytes
 * the reply takes (text, three NULs, status) with *status and *text_len
 * set, or 0 when it is not complete yet. Pure. */
size_t frrvty_reply_end(const char *buf, size_t len, int *status, size_t *text_len);

struct frrvty;
typedef void (*frrvty_reply_fn)(struct frrvty *v, const struct frrvty_reply *r, void *userdata);
/* The connection closed or failed while no command was pending (the daemon
 * stopped or restarted). */
typedef void (*frrvty_lost_fn)(struct frrvty *v, int error, void *userdata);

/* Creates a client for the socket at path; connects lazily (or with
 * frrvty_connect). Command timeouts run on clk. */
int frrvty_new(sd_event *e, struct clock *clk, const char *path, struct frrvty **out);
void frrvty_free(struct frrvty *v);
/* Closes the connection (a pending command is not answered); the next
 * command connects anew. May be called from a callback. */
void frrvty_close(struct frrvty *v);
void frrvty_set_lost(struct frrvty *v, frrvty_lost_fn fn, void *userdata);

/* Connects when not connected (a unix stream connect completes at once):
 * 1 when a new connection was made, 0 when one was open, or a negative
 * errno (-ENOENT, -ECONNREFUSED, -EACCES, -EAGAIN). */
int frrvty_connect(struct frrvty *v);

/* Sends one command (connecting first when needed) and calls cb once with
 * its reply, or an error: connect's, -ECONNRESET when the daemon closed the
 * connection before the reply was complete, -ETIMEDOUT after timeout_usec
 * (the connection is then closed, so a late reply cannot be taken for the
 * next command's), -EPROTO when `enable` was refused or a reply grew past
 * FRRVTY_REPLY_MAX. One command at a time: -EBUSY while one is pending,
 * -EINVAL for an empty or too long command or one with a newline or NUL.
 * The callback may send the next command. */
int frrvty_command(struct frrvty *v, const char *cmd, uint64_t timeout_usec, frrvty_reply_fn cb,
                   void *userdata);

bool frrvty_busy(const struct frrvty *v);
bool frrvty_connected(const struct frrvty *v);
const char *frrvty_path(const struct frrvty *v);

/* For a caller without a loop of its own (--withdraw-all): runs e until the
 * reply. The reply's text is copied to *text (malloc'd) when text is not
 * NULL. Returns the status byte or a negative errno. */
int frrvty_command_sync(sd_event *e, struct frrvty *v, const char *cmd, uint64_t timeout_usec,
                        char **text);
