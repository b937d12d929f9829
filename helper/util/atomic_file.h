/* atomic_file.h: crash-safe file replacement. */
#pragma once
#include <sys/types.h>

/* Writes text to path atomically with the given mode (temp file in the same
 * directory, fsync, rename, directory fsync). Returns 0 or a negative errno;
 * on error the old file is untouched and no temp file is left. */
int atomic_write_file(const char *path, const char *text, mode_t mode);
