/* file_read.h: opening a named file the daemon reads (service and daemon
 * files, the state file, a speaker's files read back) so that nothing
 * dropped in its place can stall the loop: a FIFO or a device would block
 * open() or read() forever, and every check would wait with it. */
#pragma once
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* What mode is, in words for a message: "a FIFO", "a directory"... */
const char *file_type_name(mode_t mode);

/* Opens path for reading without blocking (O_NONBLOCK, O_NOCTTY,
 * O_CLOEXEC) and refuses anything but a regular file. Returns the fd (st
 * filled), or a negative errno: that of open()/fstat(), -EISDIR for a
 * directory, -EINVAL for another non-regular file. On error why (if not
 * NULL) holds the reason for a message, e.g. "not a regular file (a FIFO)". */
int file_open_regular(const char *path, struct stat *st, char *why, size_t whylen);

/* Reads all of the regular file path (file_open_regular) into a malloc'd,
 * NUL-terminated buffer. max bounds the size: -EFBIG above it. Other
 * errors as file_open_regular, or -EIO for a file that shrank under us. */
int file_read_regular(const char *path, size_t max, char **out, size_t *len, char *why,
                      size_t whylen);
