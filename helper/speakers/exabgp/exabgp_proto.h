/* exabgp_proto.h: what ExaBGP writes to our stdin, as data. Pure.
 * A line splitter that copes with partial reads and garbage, and a
 * classifier for one line: an ack (done/error), the reason ExaBGP 6 gives
 * before an error, or a JSON event. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Lines longer than this (without the newline) are dropped whole. ExaBGP's
 * own events are far shorter; an UPDATE with a full table could be longer,
 * and we ignore those anyway. */
#define EXABGP_LINE_MAX (64 * 1024)

struct exabgp_lines {
        char *buf; /* the partial line so far, EXABGP_LINE_MAX + 1 bytes */
        size_t len;
        bool discarding; /* inside an over-long line: skip to its newline */
};

/* Called with each complete line, NUL-terminated, without "\n" or "\r\n". */
typedef void (*exabgp_line_fn)(void *userdata, char *line, size_t len);

void exabgp_lines_init(struct exabgp_lines *l);
void exabgp_lines_free(struct exabgp_lines *l);
/* Feeds n bytes; calls fn for each line they complete. Returns how many
 * over-long lines were dropped (the caller logs), or -ENOMEM. The callback
 * may not free l. */
int exabgp_lines_feed(struct exabgp_lines *l, const char *data, size_t n, exabgp_line_fn fn,
                      void *userdata);

enum exabgp_msg_kind {
        EXABGP_MSG_EMPTY,    /* blank line */
        EXABGP_MSG_DONE,     /* ack: the command was accepted */
        EXABGP_MSG_ERROR,    /* ack: the command was refused */
        EXABGP_MSG_REFUSAL,  /* "error: WHY", the line before some "error" acks (6) */
        EXABGP_MSG_STATE,    /* neighbor state change */
        EXABGP_MSG_SHUTDOWN, /* ExaBGP is stopping */
        EXABGP_MSG_IGNORED,  /* valid JSON event we do not act on (update, ...) */
        EXABGP_MSG_GARBAGE,  /* neither an ack nor a JSON object we understand */
};

enum exabgp_peer_state {
        EXABGP_PEER_UNKNOWN = 0,
        EXABGP_PEER_CONNECTED,
        EXABGP_PEER_UP,
        EXABGP_PEER_DOWN,
};

struct exabgp_msg {
        enum exabgp_msg_kind kind;
        /* EXABGP_MSG_STATE: */
        enum exabgp_peer_state state;
        char peer[64]; /* neighbor.address.peer, "" if absent */
        /* STATE: neighbor.reason for down; REFUSAL: its WHY. "" if none
         * (truncated). */
        char reason[256];
};

/* Classifies one line (as the splitter yields it; a trailing "\r" or
 * surrounding blanks are tolerated). Never fails: unknown input is GARBAGE. */
void exabgp_classify(const char *line, size_t len, struct exabgp_msg *m);
