/* healthctl.c: anycast-healthctl, the operator's command line for a running
 * anycast-healthd: one request over the control socket, one reply, printed
 * as a table for people or as the daemon's JSON with --json.
 * Exit codes: 0 done, 1 the daemon refused or could not be reached, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ahd-build-config.h"
#include "config_operator.h"
#include "control_proto.h"
#include "log.h"
#include "healthctl_render.h"

#define EXIT_REFUSED      1
#define EXIT_USAGE        2
#define REPLY_MAX         (64 << 20)
#define REPLY_TIMEOUT_SEC 60 /* a reload validates every plugin: allow time */

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: anycast-healthctl [--socket PATH] [--json] VERB [ARGS]\n"
                "Talks to a running anycast-healthd over its control socket.\n\n"
                "Verbs:\n"
                "  status [SERVICE]                    state, checks and prefixes\n"
                "  disable SERVICE --reason TEXT [--force]\n"
                "                                      withdraw (or keep, per on_disabled) until "
                "enabled\n"
                "  enable SERVICE                      undo disable (and withdraw-all for it)\n"
                "  drain SERVICE [--reason TEXT] [--force]\n"
                "                                      graceful shutdown community, then "
                "withdraw\n"
                "  check SERVICE                       run the service's checks now\n"
                "  reload                              re-read the configuration\n"
                "  withdraw-all --reason TEXT --yes-really\n"
                "                                      emergency: withdraw every prefix\n"
                "  fleet [SERVICE]                     which PoPs announce, and the floors\n\n"
                "Options:\n"
                "  --socket PATH   control socket (default %s)\n"
                "  --json          print the daemon's JSON reply as is\n"
                "  --reason TEXT   why (logged, shown in status, kept across restarts)\n"
                "  --force         disable or drain even when that breaks the fleet floor\n"
                "  --yes-really, --confirm   confirm withdraw-all\n"
                "  --version, --help\n\n"
                "Exit status: 0 done, 1 refused or daemon unreachable, 2 usage error.\n",
                CONTROL_DEFAULT_SOCKET);
}

static int connect_socket(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "anycast-healthctl: socket path too long: %s\n", path);
                return -1;
        }
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                perror("anycast-healthctl: socket");
                return -1;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;
                if (e == EACCES || e == EPERM)
                        fprintf(stderr,
                                "anycast-healthctl: permission denied on %s: run as root or as a "
                                "member of the daemon's control group\n",
                                path);
                else
                        fprintf(stderr,
                                "anycast-healthctl: cannot reach anycast-healthd at %s: %s (is it "
                                "running? see --socket)\n",
                                path, strerror(e));
                close(fd);
                return -1;
        }
        struct timeval tv = {.tv_sec = REPLY_TIMEOUT_SEC};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
        while (len) {
                ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Reads one reply line (malloc'd, without the newline) or NULL. */
static char *read_line(int fd)
{
        char *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (len + 4096 > cap) {
                        cap = cap ? cap * 2 : 65536;
                        char *nb = realloc(buf, cap);
                        if (!nb || cap > REPLY_MAX) {
                                free(nb ? nb : buf);
                                fprintf(stderr, "anycast-healthctl: reply too large\n");
                                return NULL;
                        }
                        buf = nb;
                }
                ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "anycast-healthctl: no reply from the daemon: %s\n",
                                errno == EAGAIN ? "timed out" : strerror(errno));
                        free(buf);
                        return NULL;
                }
                if (n == 0) {
                        fprintf(stderr, "anycast-healthctl: the daemon closed the connection "
                                        "without a reply\n");
                        free(buf);
                        return NULL;
                }
                char *nl = memchr(buf + len, '\n', (size_t)n);
                len += (size_t)n;
                if (nl) {
                        *nl = '\0';
                        return buf;
                }
        }
}

static int parse_verb(const char *s, enum control_verb *v)
{
        for (int i = VERB_STATUS; i <= VERB_FLEET; i++) { /* VERB_FLEET: the last */
                if (strcmp(s, control_verb_name((enum control_verb)i)) == 0) {
                        *v = (enum control_verb)i;
                        return 0;
                }
        }
        return -1;
}

static void print_done(enum control_verb v, const char *service, const char *reason)
{
        switch (v) {
        case VERB_DISABLE:
                printf("%s: disabled (%s)\n", service, reason);
                break;
        case VERB_ENABLE:
                printf("%s: enabled\n", service);
                break;
        case VERB_DRAIN:
                printf("%s: draining\n", service);
                break;
        case VERB_CHECK:
                printf("%s: checks started\n", service);
                break;
        case VERB_RELOAD:
                printf("configuration reloaded\n");
                break;
        case VERB_WITHDRAW_ALL:
                printf("every prefix withdrawn (%s); enable services one by one to announce "
                       "again\n",
                       reason);
                break;
        case VERB_STATUS:
        case VERB_FLEET:
                break;
        }
}

int main(int argc, char **argv)
{
        enum {
                OPT_SOCKET = 256,
                OPT_JSON,
                OPT_REASON,
                OPT_CONFIRM,
                OPT_FORCE,
                OPT_VERSION,
                OPT_HELP
        };
        static const struct option opts[] = {
            {"socket", required_argument, NULL, OPT_SOCKET},
            {"json", no_argument, NULL, OPT_JSON},
            {"reason", required_argument, NULL, OPT_REASON},
            {"yes-really", no_argument, NULL, OPT_CONFIRM},
            {"confirm", no_argument, NULL, OPT_CONFIRM},
            {"force", no_argument, NULL, OPT_FORCE},
            {"version", no_argument, NULL, OPT_VERSION},
            {"help", no_argument, NULL, OPT_HELP},
            {0},
        };
        const char *sock = CONTROL_DEFAULT_SOCKET, *reason = NULL, *service = NULL;
        bool json = false, confirm = false, force = false;
        enum control_verb verb;
        int o;

        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case OPT_SOCKET:
                        sock = optarg;
                        break;
                case OPT_JSON:
                        json = true;
                        break;
                case OPT_REASON:
                        reason = optarg;
                        break;
                case OPT_CONFIRM:
                        confirm = true;
                        break;
                case OPT_FORCE:
                        force = true;
                        break;
                case OPT_VERSION:
                        printf("anycast-healthctl %s\n", AHD_VERSION);
                        return EXIT_SUCCESS;
                case OPT_HELP:
                        usage(stdout);
                        return EXIT_SUCCESS;
                default:
                        usage(stderr);
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return EXIT_USAGE;
        }
        if (parse_verb(argv[optind], &verb) < 0) {
                fprintf(stderr, "anycast-healthctl: unknown verb \"%s\"\n", argv[optind]);
                usage(stderr);
                return EXIT_USAGE;
        }
        int nargs = argc - optind - 1;
        /* the daemon's own rules for the verb (control_proto.c) */
        unsigned allows = control_verb_allows(verb), requires = control_verb_requires(verb);
        bool takes_service = allows & CONTROL_KEY_SERVICE;
        bool needs_service = requires & CONTROL_KEY_SERVICE;
        if ((needs_service && nargs != 1) || (!takes_service && nargs != 0) || nargs > 1) {
                fprintf(stderr, "anycast-healthctl: %s %s\n", argv[optind],
                        needs_service   ? "takes one SERVICE"
                        : takes_service ? "takes at most one SERVICE"
                                        : "takes no arguments");
                return EXIT_USAGE;
        }
        if (nargs == 1)
                service = argv[optind + 1];
        if ((requires & CONTROL_KEY_REASON) && (!reason || !reason[0])) {
                fprintf(stderr,
                        "anycast-healthctl: %s needs --reason TEXT (it is logged and "
                        "shown in status)\n",
                        argv[optind]);
                return EXIT_USAGE;
        }
        if (reason && !(allows & CONTROL_KEY_REASON)) {
                fprintf(stderr, "anycast-healthctl: %s takes no --reason\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (force && !(allows & CONTROL_KEY_FORCE)) {
                fprintf(stderr, "anycast-healthctl: %s takes no --force (only disable and drain)\n",
                        argv[optind]);
                return EXIT_USAGE;
        }
        if ((requires & CONTROL_KEY_CONFIRM) && !confirm) {
                fprintf(stderr, "anycast-healthctl: withdraw-all withdraws every prefix of this "
                                "PoP; add --yes-really if you mean it\n");
                return EXIT_USAGE;
        }

        json_t *rq = control_request_new(verb, service, reason, confirm, force);
        char *line = json_dumps(rq, JSON_COMPACT);
        json_decref(rq);
        if (!line)
                return EXIT_REFUSED;
        int fd = connect_socket(sock);
        if (fd < 0) {
                free(line);
                return EXIT_REFUSED;
        }
        size_t n = strlen(line);
        line[n] = '\n'; /* replaces the terminator: send n + 1 bytes */
        int r = send_all(fd, line, n + 1);
        free(line);
        /* A daemon that refuses us (busy, permission) answers and closes at
         * once, maybe before our request is out: its line is still there. */
        if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
                fprintf(stderr, "anycast-healthctl: cannot send the request: %s\n", strerror(-r));
                close(fd);
                return EXIT_REFUSED;
        }
        char *reply = read_line(fd);
        close(fd);
        if (!reply)
                return EXIT_REFUSED;

        json_error_t je;
        json_t *j = json_loads(reply, 0, &je);
        if (!j || !json_is_object(j)) {
                fprintf(stderr, "anycast-healthctl: the daemon's reply is not JSON: %s\n", je.text);
                free(reply);
                json_decref(j);
                return EXIT_REFUSED;
        }
        bool ok = json_is_true(json_object_get(j, "ok"));
        int ret = ok ? EXIT_SUCCESS : EXIT_REFUSED;
        if (json) {
                printf("%s\n", reply);
        } else if (!ok) {
                const char *err = json_string_value(json_object_get(j, "error"));
                char shown[CONTROL_REQUEST_MAX];
                fprintf(stderr, "anycast-healthctl: %s\n",
                        log_sanitise(shown, sizeof(shown), err ? err : "refused"));
        } else if (verb == VERB_STATUS || verb == VERB_FLEET) {
                char *text =
                    verb == VERB_STATUS ? healthctl_render_status(j) : healthctl_render_fleet(j);
                if (text) {
                        fputs(text, stdout);
                } else {
                        /* an older or newer daemon: say so instead of exiting mute */
                        fprintf(stderr,
                                "anycast-healthctl: the daemon's reply is not a %s "
                                "view (try --json)\n",
                                control_verb_name(verb));
                        ret = EXIT_REFUSED;
                }
                free(text);
        } else {
                print_done(verb, service, reason);
        }
        json_decref(j);
        free(reply);
        return ret;
}
