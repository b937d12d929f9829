/* plugin_load.c: the loader's refusals are the point: a name that could
 * leave plugin_dir, a file whose real path lies outside it, a missing
 * descriptor, another ABI version, a too small descriptor, missing hooks or
 * a descriptor that names another plugin.
 *
 * And before anything is mapped, who could have put the file there: dlopen()
 * runs the plugin's constructors at once, as the daemon's user (root, and
 * under --check-config too). So plugin_dir and every directory above it, and
 * the .so itself, must be owned by root or the daemon's effective uid and
 * not writable by group or others; a parent may be world-writable only when
 * sticky (/tmp), since then nobody else can rename what root or we own in
 * it. With that chain safe by path, the file is opened once, checked with
 * fstat() and loaded through /proc/self/fd/N, so the checked file is the
 * loaded one (without /proc the checked path is loaded; the safe chain
 * leaves no one else a way to swap it in between).
 *
 * That descriptor stays open for the life of the process, one per plugin
 * file, like the mapping: glibc knows a library by its name first, so a
 * closed N reused for another plugin would hand back the first one. */
#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_load.h"

/* struct ahc_plugin as ABI 1.0 defined it: every later field is optional. */
#define PLUGIN_SIZE_1_0                                                                            \
        (offsetof(struct ahc_plugin, destroy) + sizeof(((struct ahc_plugin *)0)->destroy))

struct loaded_plugin {
        struct loaded_plugin *next;
        char *name;
        const struct ahc_plugin *desc;
};

int plugin_registry_init(struct plugin_registry *reg, const char *dir)
{
        *reg = (struct plugin_registry){.dir = strdup(dir)};
        return reg->dir ? 0 : -ENOMEM;
}

void plugin_registry_done(struct plugin_registry *reg)
{
        /* No dlclose: a plugin stays mapped for the life of the process. */
        while (reg->list) {
                struct loaded_plugin *p = reg->list;
                reg->list = p->next;
                free(p->name);
                free(p);
        }
        free(reg->dir);
        reg->dir = NULL;
}

static bool valid_name(const char *name)
{
        if (!*name)
                return false;
        for (const char *c = name; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
                        return false;
        return true;
}

static int refuse(char *err, size_t errsz, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(char *err, size_t errsz, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
        return r;
}

static int check_desc(const char *name, const struct ahc_plugin *d, char *err, size_t errsz)
{
        if (d->abi_version != AHC_ABI_VERSION)
                return refuse(err, errsz, -EPROTO,
                              "plugin \"%s\": ABI version %u, this daemon speaks %u", name,
                              d->abi_version, AHC_ABI_VERSION);
        /* Smaller than today's struct is fine (built against an older
         * revision of ABI 1): fields past d->size are read as absent. */
        if (d->size < PLUGIN_SIZE_1_0)
                return refuse(err, errsz, -EPROTO,
                              "plugin \"%s\": descriptor of %u bytes, ABI version %u needs %zu",
                              name, d->size, AHC_ABI_VERSION, PLUGIN_SIZE_1_0);
        if (!d->name || strcmp(d->name, name) != 0)
                return refuse(err, errsz, -EPROTO, "plugin \"%s\": descriptor names itself \"%s\"",
                              name, d->name ? d->name : "(null)");
        const char *missing = !d->create                                        ? "create"
                              : !d->probe                                       ? "probe"
                              : !d->destroy                                     ? "destroy"
                              : (d->flags & AHC_PLUGIN_LOOP_SAFE) && !d->cancel ? "cancel"
                                                                                : NULL;
        if (missing)
                return refuse(err, errsz, -EPROTO, "plugin \"%s\": no %s() hook", name, missing);
        return 0;
}

/* Refuses what = "plugin directory"/"directory"/"plugin file" at path unless
 * only root or we could have written it. */
static int check_owner_mode(const char *what, const char *path, const struct stat *st,
                            bool sticky_ok, char *err, size_t errsz)
{
        uid_t me = geteuid();
        unsigned mode = (unsigned)st->st_mode & 07777;
        if (st->st_uid != 0 && st->st_uid != me)
                return refuse(err, errsz, -EPERM,
                              "%s %s (owner uid %u, mode %04o) is owned by neither root nor the "
                              "daemon's uid %u, so its owner could run code in the daemon; "
                              "chown root %s",
                              what, path, (unsigned)st->st_uid, mode, (unsigned)me, path);
        if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
                return 0;
        if (sticky_ok && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
                return 0;
        const char *by = (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others"
                         : (st->st_mode & S_IWGRP)                          ? "group"
                                                                            : "others";
        return refuse(err, errsz, -EPERM,
                      "%s %s (owner uid %u, mode %04o) is writable by %s, who could run code in "
                      "the daemon; chmod go-w %s",
                      what, path, (unsigned)st->st_uid, mode, by, path);
}

/* dir is a real path (no symlinks, no "..") so its parents are its prefixes. */
static int check_dir_chain(const char *dir, char *err, size_t errsz)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s", dir);
        for (bool self = true;; self = false) {
                struct stat st;
                if (stat(path, &st) < 0)
                        return refuse(err, errsz, -errno, "plugin directory %s: %s: %s", dir, path,
                                      strerror(errno));
                int r = check_owner_mode(self ? "plugin directory" : "directory above plugin_dir",
                                         path, &st, !self, err, errsz);
                if (r < 0)
                        return r;
                char *slash = strrchr(path, '/');
                if (!slash || slash == path) {
                        if (strcmp(path, "/") == 0)
                                return 0;
                        path[1] = '\0';
                } else {
                        *slash = '\0';
                }
        }
}

/* The plugin files loaded through /proc/self/fd, by inode. */
static struct kept_fd {
        dev_t dev;
        ino_t ino;
        int fd;
} * kept;
static size_t n_kept;

/* The descriptor to load st's file through: one kept before for the same
 * file, else fd, now kept. -ENOMEM when it cannot be kept. */
static int keep_fd(int fd, const struct stat *st)
{
        for (size_t i = 0; i < n_kept; i++)
                if (kept[i].dev == st->st_dev && kept[i].ino == st->st_ino)
                        return kept[i].fd;
        struct kept_fd *k = realloc(kept, (n_kept + 1) * sizeof(*k));
        if (!k)
                return -ENOMEM;
        kept = k;
        kept[n_kept++] = (struct kept_fd){.dev = st->st_dev, .ino = st->st_ino, .fd = fd};
        return fd;
}

/* Opens, checks and maps file (a real path) as plugin name. */
static void *open_checked(const char *name, const char *file, char *err, size_t errsz, int *ret)
{
        int fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                *ret = refuse(err, errsz, -errno, "plugin \"%s\": %s: %s", name, file,
                              strerror(errno));
                return NULL;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                *ret = refuse(err, errsz, -errno, "plugin \"%s\": %s: %s", name, file,
                              strerror(errno));
                close(fd);
                return NULL;
        }
        char what[128];
        snprintf(what, sizeof(what), "plugin \"%s\": file", name);
        if (!S_ISREG(st.st_mode))
                *ret = refuse(err, errsz, -EPERM, "%s %s is not a regular file", what, file);
        else
                *ret = check_owner_mode(what, file, &st, false, err, errsz);
        if (*ret < 0) {
                close(fd);
                return NULL;
        }
        char fdpath[64];
        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
        void *handle = NULL;
        if (access(fdpath, F_OK) < 0) {
                handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
                close(fd);
        } else {
                int use = keep_fd(fd, &st);
                if (use < 0) {
                        close(fd);
                        *ret = -ENOMEM;
                        return NULL;
                }
                if (use != fd) {
                        close(fd);
                        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", use);
                }
                handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
        }
        if (!handle)
                *ret = refuse(err, errsz, -ENOEXEC, "plugin \"%s\": cannot load %s: %s", name, file,
                              dlerror());
        return handle;
}

int plugin_load(struct plugin_registry *reg, const char *name, const struct ahc_plugin **out,
                char *err, size_t errsz)
{
        for (struct loaded_plugin *p = reg->list; p; p = p->next)
                if (strcmp(p->name, name) == 0) {
                        *out = p->desc;
                        return 0;
                }
        if (!valid_name(name))
                return refuse(err, errsz, -EINVAL,
                              "plugin name \"%s\" is not valid (letters, digits, '_' and '-' only)",
                              name);
        char dir_real[PATH_MAX], file_real[PATH_MAX], *file = NULL;
        if (!realpath(reg->dir, dir_real))
                return refuse(err, errsz, -errno, "plugin directory %s: %s", reg->dir,
                              strerror(errno));
        int r = check_dir_chain(dir_real, err, errsz);
        if (r < 0)
                return r;
        if (asprintf(&file, "%s/%s.so", reg->dir, name) < 0)
                return -ENOMEM;
        if (!realpath(file, file_real)) {
                r = -errno;
                free(file);
                if (r == -ENOENT)
                        return refuse(err, errsz, r, "unknown plugin \"%s\" (no %s.so in %s)", name,
                                      name, reg->dir);
                return refuse(err, errsz, r, "plugin \"%s\": %s", name, strerror(-r));
        }
        free(file);
        size_t dl = strlen(dir_real);
        if (strncmp(file_real, dir_real, dl) != 0 || (file_real[dl] != '/' && dl != 1))
                return refuse(err, errsz, -EPERM, "plugin \"%s\": %s lies outside %s", name,
                              file_real, dir_real);

        void *handle = open_checked(name, file_real, err, errsz, &r);
        if (!handle)
                return r;
        const struct ahc_plugin *desc = dlsym(handle, AHC_PLUGIN_SYMBOL);
        if (!desc)
                return refuse(err, errsz, -ENOEXEC, "plugin \"%s\": %s exports no %s", name,
                              file_real, AHC_PLUGIN_SYMBOL);
        r = check_desc(name, desc, err, errsz);
        if (r < 0)
                return r;

        struct loaded_plugin *lp = calloc(1, sizeof(*lp));
        if (!lp || !(lp->name = strdup(name))) {
                free(lp);
                return -ENOMEM;
        }
        lp->desc = desc;
        lp->next = reg->list;
        reg->list = lp;
        *out = desc;
        return 0;
}
