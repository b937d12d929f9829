/* bird_ctl.h: a client for BIRD's control socket, spoken directly (the
 * protocol birdc uses, documented as stable for other programs).
 *
 * Reply lines: "DDDD-text" (more follows), "DDDD text" (the last line of a
 * reply), " text" (continuation of the previous line's code), "+text"
 * (unsolicited, not part of any reply). The connection opens with the
 * greeting "0001 BIRD x.y.z ready.". Codes 0xxx are success, 8xxx runtime
 * errors, 9xxx parse errors. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "clock.h"

/* BIRD closes the connection on a line of 1 KiB or more; we enforce the
 * same limit in both directions. */
#define BIRDCTL_LINE_MAX 1024

enum birdctl_line_kind {
        BIRDCTL_LINE_MORE,  /* "DDDD-text" */
        BIRDCTL_LINE_LAST,  /* "DDDD text" or "DDDD" */
        BIRDCTL_LINE_CONT,  /* " text" */
        BIRDCTL_LINE_ASYNC, /* "+text" */
};

struct birdctl_line {
        enum birdctl_line_kind kind;
        int code;         /* -1 for CONT and ASYNC */
        const char *text; /* points into the parsed line */
};

/* Parses one line (without its newline). Returns 0, or -EBADMSG for a line
 * that is none of the four forms. Pure. */
int birdctl_parse_line(const char *line, struct birdctl_line *out);

/* True for codes that mean BIRD refused the command (8xxx, 9xxx). */
static inline bool birdctl_code_is_error(int code)
{
        return code >= 8000;
}

/* A reply's numbered lines beyond this many keep only their text. */
#define BIRDCTL_CODES_MAX 16

struct birdctl_reply {
        int error;        /* 0, or a negative errno when no complete reply came */
        int code;         /* final line's code; -1 when error != 0 */
        const char *text; /* final line's text ("" when none) */
        const char *all;  /* every reply line's text, '\n'-separated */
        /* The code of every numbered line ("DDDD-" and "DDDD "), in order,
         * the final one last: `configure status` says its state on a
         * "DDDD-" line and ends with "0000". */
        const int *codes;
        size_t n_codes;
        /* birdctl_command_lines: loop time spent reading the reply, in
         * all and in its longest dispatch (0 for other commands). */
        uint64_t busy_usec, busy_max_usec;
};

/* What an answer to `configure` means, by its final code alone (BIRD's
 * cmd_reconfig_msg(), sysdep/unix/main.c; the same in 2.0.x and 3.x). */
enum birdctl_configure {
        BIRDCTL_CONFIGURE_DONE,     /* 0003 Reconfigured: running now */
        BIRDCTL_CONFIGURE_PENDING,  /* 0004 in progress, 0005 queued, any other 0xxx:
                                     * parsed, completion to be confirmed with
                                     * `configure status` */
        BIRDCTL_CONFIGURE_SHUTDOWN, /* 0006 ignored, BIRD shutting down */
        BIRDCTL_CONFIGURE_REFUSED,  /* 8xxx, 9xxx: BIRD kept its running config */
};
enum birdctl_configure birdctl_configure_answer(int code);

/* What `configure status` says (cmd_reconfig_status(): a "DDDD-" line with
 * 0003 up and running, 0004 in progress, 0005 in progress with the next
 * one queued, 0006 shutting down; maybe 0022 undo scheduled; "0000"). */
enum birdctl_status {
        BIRDCTL_STATUS_DONE,     /* 0003: every configure sent so far is running */
        BIRDCTL_STATUS_PROGRESS, /* 0004 or 0005 */
        BIRDCTL_STATUS_SHUTDOWN, /* 0006 */
        BIRDCTL_STATUS_REFUSED,  /* final code 8xxx/9xxx (e.g. restricted, unknown) */
        BIRDCTL_STATUS_UNKNOWN,  /* none of those codes */
};
/* Pure: reads r->codes only, never the text. */
enum birdctl_status birdctl_status_answer(const struct birdctl_reply *r);

struct birdctl;
typedef void (*birdctl_reply_fn)(struct birdctl *c, const struct birdctl_reply *r, void *userdata);

/* Creates a client for the socket at path; connects lazily. Command
 * timeouts run on clk. */
int birdctl_new(sd_event *e, struct clock *clk, const char *path, struct birdctl **out);
/* Frees the client, closing its connection; a pending callback is not
 * called. Must not be called from inside the callback. */
void birdctl_free(struct birdctl *c);

/* Sends one command (connecting and reading the greeting first when not
 * connected) and calls cb once with the outcome: the final reply line, or
 * an error: -ENOENT/-ECONNREFUSED/-EACCES/-EAGAIN from connect,
 * -ECONNRESET when BIRD closed or reset the connection before the final
 * line (also mid-line), -ETIMEDOUT when no final line came within
 * timeout_usec (the connection is then closed, so a late reply cannot be
 * taken for the next command's), -EPROTO for a bad greeting or a malformed
 * line. Only one command at a time: returns -EBUSY while one is pending,
 * -EINVAL for a command with a newline or too long. The callback may send
 * the next command. */
int birdctl_command(struct birdctl *c, const char *cmd, uint64_t timeout_usec, birdctl_reply_fn cb,
                    void *userdata);

/* As birdctl_command, for a reply too long to keep (a route listing):
 * line_fn sees every line of the reply in order, the final one included,
 * with a continuation line's code set to the code it continues; the reply
 * then carries an empty `all`. line_fn must not free c or send a command. */
typedef void (*birdctl_line_fn)(struct birdctl *c, const struct birdctl_line *l, void *userdata);
int birdctl_command_lines(struct birdctl *c, const char *cmd, uint64_t timeout_usec,
                          birdctl_line_fn line_fn, birdctl_reply_fn cb, void *userdata);

bool birdctl_busy(const struct birdctl *c);
bool birdctl_connected(const struct birdctl *c);
