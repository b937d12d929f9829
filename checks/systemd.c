/* systemd.c: a systemd unit's state over D-Bus (sd-bus), event-driven. The
 * plugin subscribes to the unit object's PropertiesChanged signal, so a unit
 * that stops or fails is reported at once through host->report; polls are
 * answered from the cached state. ActiveState "active" and "reloading" are
 * OK, every other state CRITICAL (a unit that is not loaded: CRITICAL with
 * its LoadState); while the bus is unreachable polls say UNKNOWN.
 *
 * Options: unit (required, e.g. "nginx.service"); bus: "system" (default)
 * or a D-Bus address ("unix:path=/run/x") of a bus where
 * org.freedesktop.systemd1 lives (tests use a private one).
 *
 * The daemon has no sd-bus of its own: the connection is driven on the
 * host's loop through its fd (host io_add with sd_bus_get_events) and a host
 * timer for sd_bus_get_timeout; sd_bus_process does the work. The plugin
 * links libsystemd itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "anycast-healthd-check.h"

#define SD_DEST          "org.freedesktop.systemd1"
#define SD_PATH          "/org/freedesktop/systemd1"
#define SD_MANAGER       "org.freedesktop.systemd1.Manager"
#define SD_UNIT          "org.freedesktop.systemd1.Unit"
#define PROPS            "org.freedesktop.DBus.Properties"
#define RETRY_FIRST_USEC 200000ULL
#define RETRY_MAX_USEC   (10 * 1000000ULL)

struct sysd {
        const struct ahc_host *host;
        struct ahc_opts *opts;
        struct ahc_check *check; /* NULL on a host older than ABI 1.1 */
        const char *unit, *address;

        sd_bus *bus;
        struct ahc_io *io;
        struct ahc_timer *bus_timer, *retry_timer;
        sd_bus_slot *load_slot, *match_slot, *get_slot, *sub_slot;
        uint64_t retry_usec;

        bool known; /* the state below came from systemd */
        char load[32], active[32], sub[64];
        int last_reported;       /* -1: nothing reported yet */
        char error[256];         /* why the state is not known */
        struct ahc_probe *probe; /* a poll waiting for the first state */
};

static void pump(struct sysd *s);
static void bus_connect(struct sysd *s);

/* ---- state ---- */

static enum ahc_result state_result(const struct sysd *s, char *msg, size_t sz)
{
        if (!s->known) {
                snprintf(msg, sz, "unit %s: %.200s", s->unit,
                         s->error[0] ? s->error : "state not known yet");
                return AHC_UNKNOWN;
        }
        if (strcmp(s->load, "loaded") != 0 && strcmp(s->active, "active") != 0) {
                snprintf(msg, sz, "unit %s is %s (%s)", s->unit,
                         strcmp(s->load, "not-found") == 0 ? "not found" : s->load, s->active);
                return AHC_CRITICAL;
        }
        snprintf(msg, sz, "unit %s is %s (%s)", s->unit, s->active, s->sub);
        if (strcmp(s->active, "active") == 0 || strcmp(s->active, "reloading") == 0)
                return AHC_OK;
        if (strcmp(s->active, "inactive") == 0 || strcmp(s->active, "failed") == 0 ||
            strcmp(s->active, "activating") == 0 || strcmp(s->active, "deactivating") == 0 ||
            strcmp(s->active, "maintenance") == 0)
                return AHC_CRITICAL;
        return AHC_UNKNOWN;
}

/* The state changed (or became known): answer a waiting poll, and report
 * when the result differs from the last one reported. */
static void state_changed(struct sysd *s)
{
        char msg[256];
        enum ahc_result r = state_result(s, msg, sizeof(msg));
        if (s->probe && s->known) {
                struct ahc_probe *p = s->probe;
                s->probe = NULL;
                s->host->probe_done(p, r, msg);
        }
        if (s->known && (int)r != s->last_reported) {
                s->last_reported = (int)r;
                if (s->check)
                        s->host->report(s->check, r, msg);
        }
}

static void copy_prop(char *dst, size_t sz, const char *v)
{
        snprintf(dst, sz, "%s", v ? v : "");
}

/* Reads an a{sv} of Unit properties; returns whether a watched one was in it
 * (negative errno on a malformed message). */
static int read_props(struct sysd *s, sd_bus_message *m)
{
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        bool any = false;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                char *dst = NULL;
                size_t sz = 0;
                if (strcmp(name, "ActiveState") == 0)
                        dst = s->active, sz = sizeof(s->active);
                else if (strcmp(name, "SubState") == 0)
                        dst = s->sub, sz = sizeof(s->sub);
                else if (strcmp(name, "LoadState") == 0)
                        dst = s->load, sz = sizeof(s->load);
                if (dst) {
                        const char *v;
                        r = sd_bus_message_read(m, "v", "s", &v);
                        if (r < 0)
                                return r;
                        copy_prop(dst, sz, v);
                        any = true;
                } else {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : any;
}

static void set_error(struct sysd *s, const char *what, const sd_bus_error *e, int r)
{
        snprintf(s->error, sizeof(s->error), "%s: %s", what,
                 e && sd_bus_error_is_set(e) ? (e->message ? e->message : e->name)
                                             : strerror(r < 0 ? -r : r));
        s->known = false;
        if (s->probe) {
                char msg[256];
                struct ahc_probe *p = s->probe;
                s->probe = NULL;
                snprintf(msg, sizeof(msg), "unit %s: %.200s", s->unit, s->error);
                s->host->probe_done(p, AHC_UNKNOWN, msg);
        }
}

static int on_getall(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct sysd *s = userdata;
        s->get_slot = sd_bus_slot_unref(s->get_slot);
        if (sd_bus_message_is_method_error(m, NULL)) {
                set_error(s, "reading its state", sd_bus_message_get_error(m), EIO);
                return 0;
        }
        int r = read_props(s, m);
        if (r <= 0) {
                set_error(s, "reading its state", NULL, r < 0 ? r : -EBADMSG);
                return 0;
        }
        s->known = true;
        s->error[0] = '\0';
        state_changed(s);
        return 0;
}

static void get_state(struct sysd *s, const char *path)
{
        sd_bus_slot_unref(s->get_slot);
        s->get_slot = NULL;
        int r = sd_bus_call_method_async(s->bus, &s->get_slot, SD_DEST, path, PROPS, "GetAll",
                                         on_getall, s, "s", SD_UNIT);
        if (r < 0)
                set_error(s, "GetAll", NULL, r);
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct sysd *s = userdata;
        const char *iface;
        if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, SD_UNIT) != 0)
                return 0;
        int r = read_props(s, m);
        if (r < 0)
                return 0;
        /* Invalidated (not sent) properties: ask for the values. */
        bool invalidated = false;
        if (sd_bus_message_enter_container(m, 'a', "s") > 0) {
                const char *name;
                while (sd_bus_message_read(m, "s", &name) > 0)
                        invalidated |= strcmp(name, "ActiveState") == 0 ||
                                       strcmp(name, "SubState") == 0 ||
                                       strcmp(name, "LoadState") == 0;
        }
        if (invalidated)
                get_state(s, sd_bus_message_get_path(m));
        else if (r > 0 && s->known)
                state_changed(s);
        return 0;
}

static int on_load(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct sysd *s = userdata;
        s->load_slot = sd_bus_slot_unref(s->load_slot);
        if (sd_bus_message_is_method_error(m, NULL)) {
                set_error(s, "LoadUnit", sd_bus_message_get_error(m), EIO);
                return 0;
        }
        const char *path;
        int r = sd_bus_message_read(m, "o", &path);
        if (r < 0) {
                set_error(s, "LoadUnit", NULL, r);
                return 0;
        }
        /* The match first, then the state: D-Bus keeps order, so no change
         * can fall between the two. */
        r = sd_bus_match_signal_async(s->bus, &s->match_slot, SD_DEST, path, PROPS,
                                      "PropertiesChanged", on_changed, NULL, s);
        if (r < 0) {
                set_error(s, "subscribing to its changes", NULL, r);
                return 0;
        }
        get_state(s, path);
        return 0;
}

/* ---- the connection on the host's loop ---- */

static void bus_drop(struct sysd *s)
{
        s->host->io_free(s->io);
        s->io = NULL;
        s->host->timer_free(s->bus_timer);
        s->bus_timer = NULL;
        s->load_slot = sd_bus_slot_unref(s->load_slot);
        s->match_slot = sd_bus_slot_unref(s->match_slot);
        s->get_slot = sd_bus_slot_unref(s->get_slot);
        s->sub_slot = sd_bus_slot_unref(s->sub_slot);
        s->bus = sd_bus_close_unref(s->bus);
}

static void on_retry(void *userdata)
{
        struct sysd *s = userdata;
        s->host->timer_free(s->retry_timer);
        s->retry_timer = NULL;
        bus_connect(s);
}

/* The connection failed or broke: state unknown, try again later. */
static void bus_failed(struct sysd *s, const char *what, int r)
{
        bus_drop(s);
        set_error(s, what, NULL, r);
        s->host->log(s->opts, AHC_LOG_WARNING, "unit %s: %s; retrying", s->unit, s->error);
        s->retry_usec = s->retry_usec ? s->retry_usec * 2 : RETRY_FIRST_USEC;
        if (s->retry_usec > RETRY_MAX_USEC)
                s->retry_usec = RETRY_MAX_USEC;
        if (!s->retry_timer)
                s->host->timer_add(s->retry_usec, on_retry, s, &s->retry_timer);
}

static void on_bus_timer(void *userdata)
{
        struct sysd *s = userdata;
        s->host->timer_free(s->bus_timer);
        s->bus_timer = NULL;
        pump(s);
}

static void on_bus_io(void *userdata, int fd, uint32_t revents)
{
        pump(userdata);
}

/* Lets sd-bus do its work, then asks it what to wait for next. */
static void pump(struct sysd *s)
{
        int r;
        while ((r = sd_bus_process(s->bus, NULL)) > 0)
                ;
        if (r < 0) {
                bus_failed(s, "bus connection lost", r);
                return;
        }
        int events = sd_bus_get_events(s->bus);
        if (events < 0) {
                bus_failed(s, "bus connection lost", events);
                return;
        }
        r = s->host->io_set_events(s->io, (uint32_t)events);
        if (r < 0) {
                bus_failed(s, "watching the bus", r);
                return;
        }
        uint64_t until = UINT64_MAX;
        sd_bus_get_timeout(s->bus, &until);
        s->host->timer_free(s->bus_timer);
        s->bus_timer = NULL;
        if (until != UINT64_MAX) {
                uint64_t now = s->host->now_usec();
                s->host->timer_add(until > now ? until - now : 0, on_bus_timer, s, &s->bus_timer);
        }
}

static int on_subscribed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct sysd *s = userdata;
        s->sub_slot = sd_bus_slot_unref(s->sub_slot);
        /* systemd sends unit signals only while someone subscribed; a
         * failure here is worth a line but the state still gets read. */
        if (sd_bus_message_is_method_error(m, NULL))
                s->host->log(s->opts, AHC_LOG_WARNING, "unit %s: Subscribe: %s", s->unit,
                             sd_bus_message_get_error(m)->message);
        else
                s->retry_usec = 0; /* the connection works */
        return 0;
}

static void bus_connect(struct sysd *s)
{
        int r = sd_bus_new(&s->bus);
        if (r < 0) {
                bus_failed(s, "sd_bus_new", r);
                return;
        }
        const char *addr = s->address;
        if (!addr) {
                addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");
                if (!addr)
                        addr = "unix:path=/run/dbus/system_bus_socket";
        }
        r = sd_bus_set_address(s->bus, addr);
        if (r >= 0)
                r = sd_bus_set_bus_client(s->bus, 1);
        if (r >= 0)
                r = sd_bus_start(s->bus); /* connects without blocking; Hello is async */
        if (r < 0) {
                char what[300];
                snprintf(what, sizeof(what), "cannot connect to %s", addr);
                bus_failed(s, what, r);
                return;
        }
        r = s->host->io_add(sd_bus_get_fd(s->bus), (uint32_t)sd_bus_get_events(s->bus), on_bus_io,
                            s, &s->io);
        if (r >= 0)
                r = sd_bus_call_method_async(s->bus, &s->sub_slot, SD_DEST, SD_PATH, SD_MANAGER,
                                             "Subscribe", on_subscribed, s, "");
        if (r >= 0)
                r = sd_bus_call_method_async(s->bus, &s->load_slot, SD_DEST, SD_PATH, SD_MANAGER,
                                             "LoadUnit", on_load, s, "s", s->unit);
        if (r < 0) {
                bus_failed(s, "setting up the bus", r);
                return;
        }
        pump(s);
}

static void on_start(void *userdata)
{
        struct sysd *s = userdata;
        s->host->timer_free(s->retry_timer);
        s->retry_timer = NULL;
        bus_connect(s);
}

/* ---- plugin ---- */

static int sysd_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"unit", "bus", NULL};
        struct sysd *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = host;
        s->opts = opts;
        s->last_reported = -1;
        const char *bus = "system";
        int ret = host->opt_only(opts, known);
        int ru = host->opt_string(opts, "unit", &s->unit);
        int rb = host->opt_string(opts, "bus", &bus);
        if (ru == -EINVAL || rb == -EINVAL)
                ret = -EINVAL;
        else if (ru == -ENOENT)
                ret = host->opt_error(opts, NULL, "\"unit\" is required");
        else if (!s->unit[0] || strchr(s->unit, '/'))
                ret = host->opt_error(opts, "unit", "\"%s\" is not a unit name", s->unit);
        else if (strcmp(bus, "system") != 0 && !strchr(bus, ':'))
                ret = host->opt_error(opts, "bus",
                                      "must be \"system\" or a D-Bus address, not \"%s\"", bus);
        if (ret < 0) {
                free(s);
                return ret;
        }
        s->address = strcmp(bus, "system") == 0 ? NULL : bus;
        if (AHC_HOST_HAS(host, check))
                s->check = host->check(opts);
        /* Connect from the loop, so events flow before the first poll.
         * Without a loop (--check-config) nothing connects. */
        int r = host->timer_add(0, on_start, s, &s->retry_timer);
        if (r < 0 && r != -ENOTCONN) {
                free(s);
                return r;
        }
        *instance = s;
        return 0;
}

static int sysd_probe(void *instance, struct ahc_probe *probe)
{
        struct sysd *s = instance;
        if (s->known || (!s->bus && s->error[0])) {
                char msg[256];
                enum ahc_result r = state_result(s, msg, sizeof(msg));
                s->host->probe_done(probe, r, msg);
                return 0;
        }
        s->probe = probe; /* connecting: answered when the state arrives */
        return 0;
}

static void sysd_cancel(void *instance, struct ahc_probe *probe)
{
        struct sysd *s = instance;
        if (s->probe == probe)
                s->probe = NULL;
}

static void sysd_destroy(void *instance)
{
        struct sysd *s = instance;
        bus_drop(s);
        s->host->timer_free(s->retry_timer);
        free(s);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "systemd",
    .description = "a systemd unit is active; a unit that stops or fails is reported at once",
    .flags = AHC_PLUGIN_LOOP_SAFE,
    .create = sysd_create,
    .probe = sysd_probe,
    .cancel = sysd_cancel,
    .destroy = sysd_destroy,
};
