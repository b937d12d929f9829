/* file_read.c: non-blocking, regular-files-only reads (file_read.h). The
 * type is checked on the open descriptor, never by a stat() beforehand,
 * so a file swapped in between cannot slip through. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_read.h"

const char *file_type_name(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFREG:
                return "a regular file";
        case S_IFDIR:
                return "a directory";
        case S_IFIFO:
                return "a FIFO";
        case S_IFSOCK:
                return "a socket";
        case S_IFCHR:
                return "a character device";
        case S_IFBLK:
                return "a block device";
        case S_IFLNK:
                return "a symbolic link";
        default:
                return "of unknown type";
        }
}

static int fail(int r, char *why, size_t whylen)
{
        if (why && whylen)
                snprintf(why, whylen, "%s", strerror(-r));
        return r;
}

int file_open_regular(const char *path, struct stat *st, char *why, size_t whylen)
{
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return fail(-errno, why, whylen);
        if (fstat(fd, st) < 0) {
                int r = -errno;
                close(fd);
                return fail(r, why, whylen);
        }
        if (!S_ISREG(st->st_mode)) {
                int r = S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
                close(fd);
                if (why && whylen)
                        snprintf(why, whylen, "not a regular file (%s)",
                                 file_type_name(st->st_mode));
                return r;
        }
        return fd;
}

int file_read_regular(const char *path, size_t max, char **out, size_t *len, char *why,
                      size_t whylen)
{
        struct stat st;
        int fd = file_open_regular(path, &st, why, whylen);
        if (fd < 0)
                return fd;
        if ((uintmax_t)st.st_size > max) {
                close(fd);
                if (why && whylen)
                        snprintf(why, whylen, "too large (%jd bytes, at most %zu)",
                                 (intmax_t)st.st_size, max);
                return -EFBIG;
        }
        size_t size = (size_t)st.st_size, n = 0;
        char *buf = malloc(size + 1);
        if (!buf) {
                close(fd);
                return fail(-ENOMEM, why, whylen);
        }
        while (n < size) {
                ssize_t r = read(fd, buf + n, size - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        int e = -errno;
                        free(buf);
                        close(fd);
                        return fail(e, why, whylen);
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        close(fd);
        if (n != size) {
                free(buf);
                if (why && whylen)
                        snprintf(why, whylen, "short read (the file shrank while read)");
                return -EIO;
        }
        buf[n] = '\0';
        *out = buf;
        *len = n;
        return 0;
}
