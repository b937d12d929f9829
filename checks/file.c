/* file.c: a file must exist (or must not), optionally holding a given
 * substring: deploy-time switches ("touch /etc/foo/ready"), maintenance
 * markers, a status file another process writes. Options: path (required),
 * exists (default true), contains (a substring of the file's first 64 KiB).
 *
 * It answers from within probe(): stat() and one bounded read of a local
 * file are not worth a round trip through the loop. That read is the one
 * thing here that can wait on the disk, which is why it is bounded and why
 * the file must be a regular file (never a FIFO or a device that could
 * block or never end). A path on a network file system can still stall the
 * loop: point this check at local files only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anycast-healthd-check.h"

#define READ_MAX (64 * 1024)

struct file {
        const struct ahc_host *host;
        const char *path;
        bool exists;
        const char *contains; /* NULL: existence only */
        size_t contains_len;
};

/* Reads up to READ_MAX bytes of a regular file. Returns the length or a
 * negative errno; -EISDIR etc. for what is not a regular file. */
static ssize_t read_head(const char *path, char *buf)
{
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        ssize_t r = 0;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode))
                r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        size_t len = 0;
        while (r == 0 && len < READ_MAX) {
                ssize_t n = read(fd, buf + len, READ_MAX - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                else if (n == 0)
                        break;
                else
                        len += (size_t)n;
        }
        close(fd);
        return r < 0 ? r : (ssize_t)len;
}

static int file_probe(void *instance, struct ahc_probe *probe)
{
        struct file *f = instance;
        char msg[512];
        enum ahc_result res = AHC_OK;
        struct stat st;
        int err = stat(f->path, &st) < 0 ? errno : 0;

        if (err && err != ENOENT) {
                /* cannot tell (permissions, a loop of links): not healthy */
                res = AHC_CRITICAL;
                snprintf(msg, sizeof(msg), "%s: %s", f->path, strerror(err));
        } else if (!f->exists) {
                res = err ? AHC_OK : AHC_CRITICAL;
                snprintf(msg, sizeof(msg), err ? "%s does not exist" : "%s exists", f->path);
        } else if (err) {
                res = AHC_CRITICAL;
                snprintf(msg, sizeof(msg), "%s does not exist", f->path);
        } else if (!f->contains) {
                snprintf(msg, sizeof(msg), "%s exists", f->path);
        } else {
                char *buf = malloc(READ_MAX);
                if (!buf)
                        return -ENOMEM;
                ssize_t n = read_head(f->path, buf);
                if (n == -EINVAL)
                        snprintf(msg, sizeof(msg), "%s is not a regular file", f->path);
                else if (n < 0)
                        snprintf(msg, sizeof(msg), "%s: %s", f->path, strerror((int)-n));
                else if (!memmem(buf, (size_t)n, f->contains, f->contains_len))
                        snprintf(msg, sizeof(msg), "%s does not contain \"%s\"%s", f->path,
                                 f->contains, n == READ_MAX ? " in its first 64 KiB" : "");
                else
                        snprintf(msg, sizeof(msg), "%s contains \"%s\"", f->path, f->contains);
                if (n < 0 || !memmem(buf, (size_t)n, f->contains, f->contains_len))
                        res = AHC_CRITICAL;
                free(buf);
        }
        f->host->probe_done(probe, res, msg);
        return 0;
}

static void file_cancel(void *instance, struct ahc_probe *probe)
{
        /* nothing is ever in flight: probe() answers at once */
}

static int file_create(const struct ahc_host *host, struct ahc_opts *opts, void **instance)
{
        static const char *const known[] = {"path", "exists", "contains", NULL};
        int r = host->opt_only(opts, known);
        struct file f = {.host = host, .exists = true};

        int pr = host->opt_string(opts, "path", &f.path);
        if (pr == -ENOENT)
                r = host->opt_error(opts, NULL, "\"path\" is required");
        else if (pr < 0)
                r = pr;
        else if (f.path[0] != '/')
                r = host->opt_error(opts, "path", "must be an absolute path, not \"%s\"", f.path);

        int er = host->opt_bool(opts, "exists", &f.exists);
        if (er == -EINVAL)
                r = er;
        int cr = host->opt_string(opts, "contains", &f.contains);
        if (cr == -EINVAL)
                r = cr;
        else if (cr == 0 && !f.exists)
                r = host->opt_error(opts, "contains", "makes no sense with \"exists\": false");
        else if (cr == 0 && !f.contains[0])
                r = host->opt_error(opts, "contains", "must not be empty");
        if (cr == 0)
                f.contains_len = strlen(f.contains);
        if (r < 0)
                return r;

        struct file *p = malloc(sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = f;
        *instance = p;
        return 0;
}

static void file_destroy(void *instance)
{
        free(instance);
}

AHC_EXPORT const struct ahc_plugin anycast_healthd_check_plugin = {
    .abi_version = AHC_ABI_VERSION,
    .size = sizeof(struct ahc_plugin),
    .name = "file",
    .description = "a file exists (or not), optionally containing a string",
    .flags = AHC_PLUGIN_LOOP_SAFE,
    .create = file_create,
    .probe = file_probe,
    .cancel = file_cancel,
    .destroy = file_destroy,
};
