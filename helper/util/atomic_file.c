/* atomic_file.c: replace a file so that a reader (a speaker at its next start,
 * the daemon after a crash) sees the old content or the new, never a part:
 * write a temp file beside it, fsync, rename over, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

int atomic_write_file(const char *path, const char *text, mode_t mode)
{
        char *d = strdup(path), *base = strdup(path), *tmp = NULL;
        int fd = -1, dfd = -1, r = 0;
        if (!d || !base) {
                r = -ENOMEM;
                goto out;
        }
        const char *dir = dirname(d);
        if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, basename(base)) < 0) {
                tmp = NULL;
                r = -ENOMEM;
                goto out;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                free(tmp);
                tmp = NULL;
                goto out;
        }
        /* Explicit: our umask may be strict (a speaker may start us with 0137). */
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto out;
        }
        size_t len = strlen(text), off = 0;
        while (off < len) {
                ssize_t n = write(fd, text + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        goto out;
                }
                off += (size_t)n;
        }
        if (fsync(fd) < 0 || close(fd) < 0) {
                fd = -1;
                r = -errno;
                goto out;
        }
        fd = -1;
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto out;
        }
        free(tmp);
        tmp = NULL;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                r = -errno;
out:
        if (fd >= 0)
                close(fd);
        if (dfd >= 0)
                close(dfd);
        if (tmp) {
                unlink(tmp);
                free(tmp);
        }
        free(d);
        free(base);
        return r;
}
