/* check_net.h: small socket helpers the built-in network plugins share.
 * Header-only (static inline) so each plugin stays one self-contained .so;
 * internal: not installed, not part of the plugin ABI. */
#pragma once
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 literal and a port as a socket address; -EINVAL if s is
 * neither (host names are refused: a check must not depend on DNS). */
static inline int check_parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss,
                                   socklen_t *len)
{
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        memset(ss, 0, sizeof(*ss));
        if (inet_pton(AF_INET, s, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons(port);
                *len = sizeof(*in);
                return 0;
        }
        if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                *len = sizeof(*in6);
                return 0;
        }
        return -EINVAL;
}

/* Makes close() send a reset, as load balancers' checks do: a graceful
 * close leaves a TIME_WAIT entry per probe on this host, and at thousands
 * of checks a second those exhaust the ephemeral ports. */
static inline void check_reset_on_close(int fd)
{
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}
