/* config_operator.h: the daemon file's operator-interface blocks, "control" (the
 * control socket) and "metrics" (the Prometheus endpoint), parsed in one
 * place, and the listen-address syntax the metrics server binds to. */
#pragma once
#include <sys/socket.h>

#include "config.h"

#define CONTROL_DEFAULT_SOCKET "/run/anycast-healthd/control.sock"
#define METRICS_DEFAULT_LISTEN "127.0.0.1:9273"

struct cfile;

void config_control_defaults(struct config *c);
/* Parses "control" and "metrics" of the daemon file (problems to f). */
void config_control_parse(struct cfile *f, struct config *c);
void config_control_free(struct config *c);

/* Parses "ADDRESS:PORT": an IPv4 literal, or an IPv6 literal in brackets,
 * and a port 0-65535 (0: any free port). No host names: the daemon must not
 * depend on DNS to start. Returns 0, or -EINVAL with *why set. */
int parse_listen_address(const char *s, struct sockaddr_storage *sa, socklen_t *len,
                         const char **why);
