/* config_operator.c: "control" and "metrics" in the daemon file. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "config_operator.h"

static const char *const control_keys[] = {"socket", "group", NULL};
static const char *const metrics_keys[] = {"listen", NULL};

void config_control_defaults(struct config *c)
{
        c->control.socket = xstrdup(CONTROL_DEFAULT_SOCKET);
        c->control.group = NULL;
        c->metrics.listen = xstrdup(METRICS_DEFAULT_LISTEN);
}

void config_control_free(struct config *c)
{
        free(c->control.socket);
        free(c->control.group);
        free(c->metrics.listen);
}

int parse_listen_address(const char *s, struct sockaddr_storage *sa, socklen_t *len,
                         const char **why)
{
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon, *port_s;
        bool v6 = s[0] == '[';

        memset(sa, 0, sizeof(*sa));
        if (v6) {
                const char *end = strchr(s, ']');
                if (!end || end[1] != ':') {
                        *why = "expected \"[IPV6]:PORT\"";
                        return -EINVAL;
                }
                colon = end + 1;
                if ((size_t)(end - s - 1) >= sizeof(host)) {
                        *why = "not an IPv6 address";
                        return -EINVAL;
                }
                memcpy(host, s + 1, end - s - 1);
                host[end - s - 1] = '\0';
        } else {
                colon = strrchr(s, ':');
                if (!colon || (size_t)(colon - s) >= sizeof(host)) {
                        *why = "expected \"ADDRESS:PORT\"";
                        return -EINVAL;
                }
                memcpy(host, s, colon - s);
                host[colon - s] = '\0';
        }
        port_s = colon + 1;
        if (!port_s[0] || strspn(port_s, "0123456789") != strlen(port_s) || strlen(port_s) > 5 ||
            atoi(port_s) > 65535) {
                *why = "port must be a number from 0 to 65535";
                return -EINVAL;
        }
        uint16_t port = htons((uint16_t)atoi(port_s));
        if (v6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
                if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
                        *why = "not an IPv6 address";
                        return -EINVAL;
                }
                a->sin6_family = AF_INET6;
                a->sin6_port = port;
                *len = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)sa;
                if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
                        *why = "not an IPv4 address (IPv6 goes in brackets; no host names)";
                        return -EINVAL;
                }
                a->sin_family = AF_INET;
                a->sin_port = port;
                *len = sizeof(*a);
        }
        return 0;
}

static void parse_control(struct cfile *f, struct config *c)
{
        json_t *o;
        const char *s;

        if (cfg_object(f, f->root, "", "control", &o) <= 0)
                return;
        c->control.configured = true;
        cfg_only_keys(f, o, "control", "\"control\"", control_keys);
        cfg_path(f, o, "control", "socket", &c->control.socket);
        if (cfg_string(f, o, "control", "group", &s) > 0) {
                /* Existence is checked when the socket is created: the file
                 * may be validated on a machine without the group. */
                if (!s[0] || strpbrk(s, ": \t\n/"))
                        cfg_err(f, "control.group", "\"group\" must be a group name, not \"%s\"",
                                s);
                else
                        c->control.group = xstrdup(s);
        }
}

static void parse_metrics(struct cfile *f, struct config *c)
{
        json_t *o;
        const char *s;

        if (cfg_object(f, f->root, "", "metrics", &o) <= 0)
                return;
        c->metrics.configured = true;
        cfg_only_keys(f, o, "metrics", "\"metrics\"", metrics_keys);
        if (cfg_string(f, o, "metrics", "listen", &s) > 0) {
                struct sockaddr_storage sa;
                socklen_t len;
                const char *why;
                if (s[0] && parse_listen_address(s, &sa, &len, &why) < 0) {
                        cfg_err(f, "metrics.listen", "\"listen\" \"%s\": %s", s, why);
                        return;
                }
                free(c->metrics.listen);
                c->metrics.listen = xstrdup(s);
        }
}

void config_control_parse(struct cfile *f, struct config *c)
{
        parse_control(f, c);
        parse_metrics(f, c);
}
