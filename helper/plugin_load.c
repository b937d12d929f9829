/* plugin_load.c: the loader's refusals are the point: a name that could
 * leave plugin_dir, a file whose real path lies outside it, a missing
 * descriptor, another ABI version, a too small descriptor, missing hooks or
 * a descriptor that names another plugin. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        if (asprintf(&file, "%s/%s.so", reg->dir, name) < 0)
                return -ENOMEM;
        if (!realpath(file, file_real)) {
                int r = -errno;
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

        void *handle = dlopen(file_real, RTLD_NOW | RTLD_LOCAL);
        if (!handle)
                return refuse(err, errsz, -ENOEXEC, "plugin \"%s\": cannot load: %s", name,
                              dlerror());
        const struct ahc_plugin *desc = dlsym(handle, AHC_PLUGIN_SYMBOL);
        if (!desc)
                return refuse(err, errsz, -ENOEXEC, "plugin \"%s\": %s exports no %s", name,
                              file_real, AHC_PLUGIN_SYMBOL);
        int r = check_desc(name, desc, err, errsz);
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
