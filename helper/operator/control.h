/* control.h: the control socket on the daemon's loop. A unix stream
 * socket (config "control"), one JSON request per line, one reply per line
 * (control_proto.h); every verb reaches the engine through engine_ctl.h.
 *
 * Who may use it: root, the daemon's own user, and members of
 * control.group. The socket file is mode 0660 and group control.group (the
 * daemon's group without one), so nobody else can connect; each connection
 * is checked against the peer's credentials (SO_PEERCRED, SO_PEERGROUPS) as
 * well, before it takes one of the 16 client slots, so a socket made
 * reachable by mistake still refuses everything, status included.
 *
 * Limits: a request must arrive within 2 s of connecting and its reply be
 * read within 10 s more; with every slot taken a client is told "busy: N
 * control clients connected, try again" and closed; the last slot is
 * root's. */
#pragma once
#include <stddef.h>
#include <jansson.h>
#include <systemd/sd-event.h>

#include "config.h"

struct engine;
struct control;

struct control_hooks {
        /* Validates and applies the configuration anew: 0, or a negative
         * errno with *errors (malloc'd, one problem per line) explaining
         * why the old configuration keeps running. NULL: reload is not
         * available and the verb says so. */
        int (*reload)(void *userdata, char **errors);
        /* The fleet's view for the verb "fleet" (one service, or every one
         * when service is NULL): a new reference to the object whose
         * members join the reply ({"pop","now","fleet","services"}), or
         * NULL with a sentence for the operator in err. NULL: fleet mode
         * is off and the verb says so. */
        json_t *(*fleet)(void *userdata, const char *service, char *err, size_t errlen);
        void *userdata; /* for every hook above */
};

/* Creates the socket at cfg->control.socket and serves it on e. Errors are
 * logged here (a missing group, a socket another daemon listens on). */
int control_new(sd_event *e, const struct config *cfg, struct engine *en,
                const struct control_hooks *hooks, struct control **out);
/* Closes every connection and removes the socket file. NULL is fine. */
void control_free(struct control *c);
/* After a reload: the configuration to take the PoP name from. */
void control_set_config(struct control *c, const struct config *cfg);
