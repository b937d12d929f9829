/* control.c: the control socket's I/O: listening, per-client buffers,
 * permission checks and dispatch of parsed requests to engine_ctl.h.
 * Nothing here blocks the loop: sockets are non-blocking, a client gets at
 * most one request answered at a time (reading pauses while its reply is
 * being written), and the number of clients and the size of a request are
 * bounded. No client can keep a slot: the peer's credentials are checked at
 * accept (a refused peer is answered and closed without taking one), the
 * request must arrive within REQUEST_USEC of the accept however it
 * trickles in, and a reply being written gets REPLY_USEC more. One slot is
 * root's alone, so root's anycast-healthctl gets through whatever the
 * daemon's own user or the control group hold. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "control_proto.h"
#include "engine_ctl.h"
#include "engine_fleet.h"
#include "log.h"

#define MAX_CLIENTS     16
#define REQUEST_USEC    (2ULL * 1000000ULL)
#define REPLY_USEC      (10ULL * 1000000ULL)
#define MAX_PEER_GROUPS 256
#define LISTEN_BACKLOG  64

struct client {
        struct control *ctl;
        struct client *next;
        int fd;
        sd_event_source *io, *deadline;
        uid_t uid;
        pid_t pid;
        bool replying;    /* the deadline was moved on for a reply being written */
        bool eof;         /* the client shut down its side: close once flushed */
        bool close_after; /* a fatal error was answered: close once flushed */
        char in[CONTROL_REQUEST_MAX];
        size_t in_len;
        char *out;
        size_t out_len, out_off;
};

struct control {
        sd_event *e;
        const struct config *cfg;
        struct engine *en;
        struct control_hooks hooks;
        char *path;
        int fd;
        sd_event_source *src;
        gid_t gid;
        bool has_group;
        struct client *clients;
        size_t n_clients;
};

void control_set_config(struct control *c, const struct config *cfg)
{
        c->cfg = cfg;
}

static void client_free(struct client *cl)
{
        struct control *c = cl->ctl;
        for (struct client **pp = &c->clients; *pp; pp = &(*pp)->next) {
                if (*pp == cl) {
                        *pp = cl->next;
                        c->n_clients--;
                        break;
                }
        }
        sd_event_source_disable_unref(cl->io);
        sd_event_source_disable_unref(cl->deadline);
        if (cl->fd >= 0)
                close(cl->fd);
        free(cl->out);
        free(cl);
}

/* ---- permissions ---- */

static bool peer_in_group(int fd, gid_t want, gid_t primary)
{
        if (primary == want)
                return true;
        gid_t groups[MAX_PEER_GROUPS];
        socklen_t len = sizeof(groups);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false; /* too many groups or an old kernel: refuse, never guess */
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == want)
                        return true;
        return false;
}

/* Who the peer is (as of its connect) and whether it may use the socket. */
static bool peer_allowed(struct control *c, int fd, uid_t *uid, pid_t *pid)
{
        struct ucred uc;
        socklen_t len = sizeof(uc);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
                *uid = (uid_t)-1;
                *pid = 0;
                return false;
        }
        *uid = uc.uid;
        *pid = uc.pid;
        return uc.uid == 0 || uc.uid == geteuid() ||
               (c->has_group && peer_in_group(fd, c->gid, uc.gid));
}

/* ---- dispatch ---- */

static uint64_t realtime_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static char *status_reply(struct control *c, const char *service)
{
        size_t n = engine_service_count(c->en), first = 0, count = n;
        if (service) {
                int i = engine_service_find(c->en, service);
                if (i < 0)
                        return control_reply_error("unknown service \"%s\"", service);
                first = (size_t)i;
                count = 1;
        }
        struct service_status *st = calloc(count ? count : 1, sizeof(*st));
        if (!st)
                return control_reply_error("out of memory");
        for (size_t i = 0; i < count; i++) {
                int r = engine_service_status(c->en, first + i, &st[i]);
                if (r < 0) {
                        free(st);
                        return control_reply_error("cannot read the status: %s", strerror(-r));
                }
        }
        json_t *j = control_status_json(c->cfg->pop, realtime_usec(), st, count);
        free(st);
        char *line = control_reply_ok(j);
        json_decref(j);
        return line;
}

static char *action_reply(struct control *c, const struct control_request *rq, int r)
{
        if (r == ENGINE_UNSAVED) {
                int why = engine_state_file_error(c->en);
                return control_reply_error("%s applied, not saved: %s; it will not survive a "
                                           "restart until the daemon, retrying, writes the "
                                           "state file",
                                           control_verb_name(rq->verb), strerror(why ? -why : EIO));
        }
        if (r >= 0)
                return control_reply_ok(NULL);
        if (r == -ENOENT && rq->service)
                return control_reply_error("unknown service \"%s\"", rq->service);
        if (r == -EOPNOTSUPP || r == -ENOSYS)
                return control_reply_error("%s is not implemented by this daemon",
                                           control_verb_name(rq->verb));
        return control_reply_error("%s failed: %s", control_verb_name(rq->verb), strerror(-r));
}

static char *reload_reply(struct control *c)
{
        if (!c->hooks.reload)
                return control_reply_error("reload is not available in this daemon");
        char *errors = NULL;
        int r = c->hooks.reload(c->hooks.userdata, &errors);
        char *line;
        if (r >= 0)
                line = control_reply_ok(NULL);
        else
                line = control_reply_error("reload refused, the old configuration keeps "
                                           "running: %s",
                                           errors && errors[0] ? errors : strerror(-r));
        free(errors);
        return line;
}

static char *fleet_reply(struct control *c, const char *service)
{
        if (!c->hooks.fleet)
                return control_reply_error("fleet mode is off: the daemon file has no \"fleet\" "
                                           "block");
        if (service && engine_service_find(c->en, service) < 0)
                return control_reply_error("unknown service \"%s\"", service);
        char err[512] = "";
        json_t *j = c->hooks.fleet(c->hooks.userdata, service, err, sizeof(err));
        if (!j)
                return control_reply_error("%s", err[0] ? err : "the fleet view is not available");
        /* A non-object would make a reply without the members the CLI
         * reads: refuse it here rather than send "ok" with nothing. */
        if (!json_is_object(j)) {
                json_decref(j);
                return control_reply_error("the fleet view is not available");
        }
        char *line = control_reply_ok(j);
        json_decref(j);
        return line;
}

/* An operator's disable or drain against the service's fleet floor: NULL
 * when it may go ahead, else the refusal to send. With force a breach is
 * logged and let through: the operator knows something the fleet does not
 * (a PoP being torn down, etcd lying). */
static char *floor_refusal(struct control *c, struct client *cl, const struct control_request *rq)
{
        char why[512] = "";
        int r = engine_floor_manual(c->en, rq->service, why, sizeof(why));
        const char *verb = control_verb_name(rq->verb);
        if (r == 0 || (r < 0 && rq->force))
                return NULL;
        if (r < 0)
                /* Not knowing is no licence: the floor exists for exactly
                 * the case where this would be the last PoP. */
                return control_reply_error("%s refused: cannot check the fleet floor: %s; add "
                                           "--force to do it anyway",
                                           verb, strerror(-r));
        if (!why[0])
                snprintf(why, sizeof(why), "withdrawing %s here would leave it below its floor",
                         rq->service);
        if (!rq->force) {
                log_info("control: uid %d (pid %d): %s %s refused: %s", (int)cl->uid, (int)cl->pid,
                         verb, rq->service, why);
                return control_reply_error("%s refused: %s; add --force to do it anyway", verb,
                                           why);
        }
        log_warning("control: uid %d (pid %d): %s %s with force overrides the fleet floor: %s",
                    (int)cl->uid, (int)cl->pid, verb, rq->service, why);
        return NULL;
}

static char *dispatch(struct control *c, struct client *cl, const struct control_request *rq)
{
        /* Check the service first so no verb acts on a typo. */
        if (rq->service && control_verb_mutates(rq->verb) &&
            engine_service_find(c->en, rq->service) < 0)
                return control_reply_error("unknown service \"%s\"", rq->service);
        if (rq->verb == VERB_DISABLE || rq->verb == VERB_DRAIN) {
                /* before the log line below, which says the action happens */
                char *refused = floor_refusal(c, cl, rq);
                if (refused)
                        return refused;
        }
        if (control_verb_mutates(rq->verb))
                log_notice("control: uid %d (pid %d): %s%s%s%s%s", (int)cl->uid, (int)cl->pid,
                           control_verb_name(rq->verb), rq->service ? " " : "",
                           rq->service ? rq->service : "", rq->reason ? ": " : "",
                           rq->reason ? rq->reason : "");
        switch (rq->verb) {
        case VERB_STATUS:
                return status_reply(c, rq->service);
        case VERB_DISABLE:
                return action_reply(c, rq, engine_disable(c->en, rq->service, rq->reason));
        case VERB_ENABLE:
                return action_reply(c, rq, engine_enable(c->en, rq->service));
        case VERB_DRAIN:
                return action_reply(c, rq, engine_drain(c->en, rq->service, rq->reason));
        case VERB_CHECK:
                return action_reply(c, rq, engine_check_now(c->en, rq->service));
        case VERB_RELOAD:
                return reload_reply(c);
        case VERB_WITHDRAW_ALL:
                return action_reply(c, rq, engine_withdraw_all(c->en, rq->reason));
        case VERB_FLEET:
                return fleet_reply(c, rq->service);
        }
        return control_reply_error("unknown verb");
}

/* ---- client I/O ---- */

static void client_update_events(struct client *cl)
{
        uint32_t ev = 0;
        if (cl->out_off < cl->out_len)
                ev |= EPOLLOUT;
        else if (!cl->eof && !cl->close_after)
                ev |= EPOLLIN;
        sd_event_source_set_io_events(cl->io, ev);
}

/* Writes what the socket takes; false when the client is gone (freed). */
static bool client_flush(struct client *cl)
{
        while (cl->out_off < cl->out_len) {
                ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        client_free(cl);
                        return false;
                }
                cl->out_off += (size_t)n;
        }
        if (cl->out_off == cl->out_len) {
                free(cl->out);
                cl->out = NULL;
                cl->out_len = cl->out_off = 0;
                if (cl->eof || cl->close_after) {
                        client_free(cl);
                        return false;
                }
        }
        return true;
}

static void client_reply(struct client *cl, char *line)
{
        /* One request at a time: out is empty whenever a request is handled. */
        free(cl->out);
        cl->out = line;
        cl->out_len = strlen(line);
        cl->out_off = 0;
}

/* Handles the first complete line in the buffer, if any; true when one was. */
static bool client_handle_line(struct client *cl)
{
        char *nl = memchr(cl->in, '\n', cl->in_len);
        if (!nl)
                return false;
        size_t len = (size_t)(nl - cl->in);
        struct control_request rq;
        char err[512];
        char *line;
        if (control_request_parse(cl->in, len, &rq, err, sizeof(err)) < 0) {
                line = control_reply_error("%s", err);
        } else {
                line = dispatch(cl->ctl, cl, &rq);
                control_request_clear(&rq);
        }
        client_reply(cl, line);
        memmove(cl->in, nl + 1, cl->in_len - len - 1);
        cl->in_len -= len + 1;
        return true;
}

static void client_progress(struct client *cl)
{
        for (;;) {
                if (cl->out_len == 0 && !client_handle_line(cl)) {
                        if (cl->in_len == sizeof(cl->in)) {
                                client_reply(cl, control_reply_error("request longer than %d bytes",
                                                                     CONTROL_REQUEST_MAX - 1));
                                cl->close_after = true;
                        } else if (cl->eof && cl->in_len > 0) {
                                /* a last request without its newline still counts */
                                cl->in[cl->in_len++] = '\n';
                                client_handle_line(cl);
                        }
                }
                if (!client_flush(cl))
                        return;
                if (cl->out_len > 0 || !memchr(cl->in, '\n', cl->in_len))
                        break;
        }
        if (cl->eof && cl->out_len == 0) {
                client_free(cl);
                return;
        }
        client_update_events(cl);
}

static int client_deadline_cb(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct client *cl = userdata;
        if (cl->out_len > 0 && !cl->replying) {
                /* the request made it in time; its reply may take a while
                 * to read (a big status), but nothing more is read */
                cl->replying = true;
                cl->close_after = true;
                sd_event_source_set_time_relative(s, REPLY_USEC);
                sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                client_update_events(cl);
                return 0;
        }
        log_info("control: dropping a connection from uid %d (pid %d): %s", (int)cl->uid,
                 (int)cl->pid,
                 cl->out_len > 0 ? "its reply was not read in time"
                                 : "no complete request in time after connecting");
        client_free(cl);
        return 0;
}

static int client_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct client *cl = userdata;

        if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && cl->out_len == 0 && !cl->eof) {
                ssize_t n =
                    recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                        client_free(cl);
                        return 0;
                }
                if (n == 0)
                        cl->eof = true;
                else if (n > 0)
                        cl->in_len += (size_t)n;
        } else if ((revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLOUT)) {
                client_free(cl);
                return 0;
        }
        client_progress(cl);
        return 0;
}

/* Answers a client that gets no slot with one line and closes it. What it
 * sent is read first: closing a unix socket with unread data makes the
 * peer's next read fail (ECONNRESET) instead of showing our answer. */
static void refuse(int fd, char *line)
{
        char scratch[CONTROL_REQUEST_MAX];
        if (line && send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                log_debug("control: cannot answer a refused client: %m");
        while (recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0)
                ;
        free(line);
        close(fd);
}

static int accept_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct control *c = userdata;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning("control: accept: %m");
                return 0;
        }
        uid_t uid;
        pid_t pid;
        if (!peer_allowed(c, cfd, &uid, &pid)) {
                log_warning("control: refused uid %d (pid %d): not root and not in the control "
                            "group",
                            (int)uid, (int)pid);
                refuse(cfd,
                       control_reply_error("permission denied: uid %d is neither root nor a "
                                           "member of the control group%s%s",
                                           (int)uid, c->cfg->control.group ? " " : "",
                                           c->cfg->control.group ? c->cfg->control.group : ""));
                return 0;
        }
        if (c->n_clients >= MAX_CLIENTS || (uid != 0 && c->n_clients >= MAX_CLIENTS - 1)) {
                log_info("control: busy, refused uid %d (pid %d): %zu clients connected", (int)uid,
                         (int)pid, c->n_clients);
                refuse(cfd, control_reply_error("busy: %zu control clients connected, try again",
                                                c->n_clients));
                return 0;
        }
        struct client *cl = calloc(1, sizeof(*cl));
        if (!cl) {
                close(cfd);
                return 0;
        }
        cl->ctl = c;
        cl->fd = cfd;
        cl->uid = uid;
        cl->pid = pid;
        cl->next = c->clients;
        c->clients = cl;
        c->n_clients++;
        if (sd_event_add_io(c->e, &cl->io, cfd, EPOLLIN, client_io_cb, cl) < 0 ||
            sd_event_add_time_relative(c->e, &cl->deadline, CLOCK_MONOTONIC, REQUEST_USEC, 10000ULL,
                                       client_deadline_cb, cl) < 0) {
                log_warning("control: cannot watch a connection");
                client_free(cl);
        }
        return 0;
}

/* ---- the socket ---- */

/* A socket file that accepts a connection belongs to a running daemon. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode)) {
                log_err("control: %s exists and is not a socket", path);
                return -EEXIST;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
        close(fd);
        if (r == 0) {
                log_err("control: another daemon listens on %s", path);
                return -EADDRINUSE;
        }
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int make_parent(const char *path)
{
        char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        int r = mkdir(dirname(copy), 0755) < 0 && errno != EEXIST ? -errno : 0;
        free(copy);
        return r;
}

static int open_socket(struct control *c)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int r;

        if (strlen(c->path) >= sizeof(sa.sun_path)) {
                log_err("control: socket path %s is longer than %zu bytes", c->path,
                        sizeof(sa.sun_path) - 1);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, c->path);
        if ((r = make_parent(c->path)) < 0) {
                log_err("control: cannot create the directory of %s: %s", c->path, strerror(-r));
                return r;
        }
        if ((r = clear_stale(c->path, &sa)) < 0) {
                if (r != -EADDRINUSE && r != -EEXIST)
                        log_err("control: cannot remove a stale %s: %s", c->path, strerror(-r));
                return r;
        }
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -errno;
        /* Born 0660: never a moment where anyone else could connect. */
        mode_t old = umask(0117);
        r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0) {
                r = -errno;
                log_err("control: cannot bind %s: %s", c->path, strerror(-r));
                return r;
        }
        if (c->has_group && chown(c->path, (uid_t)-1, c->gid) < 0) {
                r = -errno;
                log_err("control: cannot give %s to group %s: %s", c->path, c->cfg->control.group,
                        strerror(-r));
                unlink(c->path);
                return r;
        }
        if (chmod(c->path, 0660) < 0 || listen(c->fd, LISTEN_BACKLOG) < 0) {
                r = -errno;
                log_err("control: cannot listen on %s: %s", c->path, strerror(-r));
                unlink(c->path);
                return r;
        }
        return 0;
}

int control_new(sd_event *e, const struct config *cfg, struct engine *en,
                const struct control_hooks *hooks, struct control **out)
{
        struct control *c = calloc(1, sizeof(*c));
        int r;

        *out = NULL;
        if (!c)
                return -ENOMEM;
        c->e = e;
        c->cfg = cfg;
        c->en = en;
        c->fd = -1;
        if (hooks)
                c->hooks = *hooks;
        c->path = strdup(cfg->control.socket);
        if (!c->path) {
                free(c);
                return -ENOMEM;
        }
        if (cfg->control.group) {
                /* getgrnam may ask NSS; this runs once at startup, before the loop. */
                errno = 0;
                struct group *g = getgrnam(cfg->control.group);
                if (!g) {
                        log_err("control: control.group \"%s\": %s", cfg->control.group,
                                errno ? strerror(errno) : "no such group");
                        r = errno ? -errno : -ENOENT;
                        goto fail;
                }
                c->gid = g->gr_gid;
                c->has_group = true;
        }
        if ((r = open_socket(c)) < 0)
                goto fail;
        r = sd_event_add_io(e, &c->src, c->fd, EPOLLIN, accept_cb, c);
        if (r < 0) {
                log_err("control: cannot watch %s: %s", c->path, strerror(-r));
                unlink(c->path);
                goto fail;
        }
        log_info("control: listening on %s", c->path);
        *out = c;
        return 0;
fail:
        if (c->fd >= 0)
                close(c->fd);
        free(c->path);
        free(c);
        return r;
}

void control_free(struct control *c)
{
        if (!c)
                return;
        while (c->clients)
                client_free(c->clients);
        sd_event_source_disable_unref(c->src);
        if (c->fd >= 0) {
                close(c->fd);
                unlink(c->path);
        }
        free(c->path);
        free(c);
}
