/* fake_systemd.c: see fake_systemd.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_systemd.h"

#define MAX_UNITS 16

struct unit {
        struct fake_systemd *f;
        char *id, *path;
        char load[32], active[32], sub[32];
        sd_bus_slot *slot;
};

struct fake_systemd {
        sd_bus *bus;
        sd_bus_slot *manager;
        struct unit units[MAX_UNITS];
        size_t n;
        unsigned subscribers;
};

static int prop_str(sd_bus *bus, const char *path, const char *interface, const char *property,
                    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        struct unit *u = userdata;
        const char *v = strcmp(property, "Id") == 0            ? u->id
                        : strcmp(property, "LoadState") == 0   ? u->load
                        : strcmp(property, "ActiveState") == 0 ? u->active
                                                               : u->sub;
        return sd_bus_message_append(reply, "s", v);
}

static const sd_bus_vtable unit_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Id", "s", prop_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("LoadState", "s", prop_str, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ActiveState", "s", prop_str, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("SubState", "s", prop_str, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

static struct unit *find(struct fake_systemd *f, const char *id)
{
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->units[i].id, id) == 0)
                        return &f->units[i];
        return NULL;
}

static struct unit *add(struct fake_systemd *f, const char *id, const char *load)
{
        if (f->n == MAX_UNITS)
                return NULL;
        struct unit *u = &f->units[f->n];
        *u = (struct unit){.f = f};
        if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", id, &u->path) < 0)
                return NULL;
        u->id = strdup(id);
        snprintf(u->load, sizeof(u->load), "%s", load);
        snprintf(u->active, sizeof(u->active), "inactive");
        snprintf(u->sub, sizeof(u->sub), "dead");
        if (!u->id ||
            sd_bus_add_object_vtable(f->bus, &u->slot, u->path, "org.freedesktop.systemd1.Unit",
                                     unit_vtable, u) < 0) {
                free(u->id);
                free(u->path);
                return NULL;
        }
        f->n++;
        return u;
}

static int m_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct fake_systemd *f = userdata;
        const char *id;
        int r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        struct unit *u = find(f, id);
        if (!u)
                return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit",
                                         "Unit %s not loaded.", id);
        return sd_bus_reply_method_return(m, "o", u->path);
}

static int m_load_unit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct fake_systemd *f = userdata;
        const char *id;
        int r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        struct unit *u = find(f, id);
        if (!u)
                u = add(f, id, "not-found"); /* as systemd: a path for any name */
        if (!u)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "o", u->path);
}

static int m_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct fake_systemd *f = userdata;
        f->subscribers++;
        return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("GetUnit", "s", "o", m_get_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("LoadUnit", "s", "o", m_load_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Subscribe", "", "", m_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

int fake_systemd_new(sd_event *e, const char *address, struct fake_systemd **out)
{
        struct fake_systemd *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        int r = sd_bus_new(&f->bus);
        if (r >= 0)
                r = sd_bus_set_address(f->bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(f->bus, 1);
        if (r >= 0)
                r = sd_bus_start(f->bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(f->bus, &f->manager, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", manager_vtable, f);
        if (r >= 0)
                r = sd_bus_request_name(f->bus, "org.freedesktop.systemd1", 0);
        if (r >= 0)
                r = sd_bus_attach_event(f->bus, e, 0);
        if (r < 0) {
                fake_systemd_free(f);
                return r;
        }
        *out = f;
        return 0;
}

void fake_systemd_free(struct fake_systemd *f)
{
        if (!f)
                return;
        for (size_t i = 0; i < f->n; i++) {
                sd_bus_slot_unref(f->units[i].slot);
                free(f->units[i].id);
                free(f->units[i].path);
        }
        sd_bus_slot_unref(f->manager);
        if (f->bus)
                sd_bus_detach_event(f->bus);
        sd_bus_flush_close_unref(f->bus);
        free(f);
}

int fake_systemd_set(struct fake_systemd *f, const char *unit, const char *active, const char *sub)
{
        struct unit *u = find(f, unit);
        if (!u)
                u = add(f, unit, "loaded");
        if (!u)
                return -ENOMEM;
        snprintf(u->load, sizeof(u->load), "loaded");
        snprintf(u->active, sizeof(u->active), "%s", active);
        snprintf(u->sub, sizeof(u->sub), "%s", sub);
        int r = sd_bus_emit_properties_changed(f->bus, u->path, "org.freedesktop.systemd1.Unit",
                                               "LoadState", "ActiveState", "SubState", NULL);
        if (r >= 0)
                r = sd_bus_flush(f->bus);
        return r;
}

unsigned fake_systemd_subscribers(const struct fake_systemd *f)
{
        return f->subscribers;
}

int fake_bus_start(const char *dir, char **address, pid_t *pid)
{
        char sock[512];
        snprintf(sock, sizeof(sock), "%s/bus", dir);
        if (asprintf(address, "unix:path=%s", sock) < 0)
                return -ENOMEM;
        pid_t p = fork();
        if (p < 0)
                return -errno;
        if (p == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                char arg[600];
                snprintf(arg, sizeof(arg), "--address=%s", *address);
                execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile",
                       "--nosyslog", arg, (char *)NULL);
                _exit(127);
        }
        *pid = p;
        /* Ready once the socket accepts. */
        for (int i = 0; i < 500; i++) {
                if (access(sock, F_OK) == 0)
                        return 0;
                if (waitpid(p, NULL, WNOHANG) == p)
                        return -ECHILD;
                usleep(10000);
        }
        fake_bus_stop(p);
        return -ETIMEDOUT;
}

void fake_bus_stop(pid_t pid)
{
        if (pid > 0) {
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        }
}
