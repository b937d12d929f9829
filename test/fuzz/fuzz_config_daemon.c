/* fuzz_config_daemon.c: the daemon file, read by the loader the daemon and
 * --check-config use. The loader reads paths, so each input is written to
 * a file in a private directory; config_load_daemon reads no service file,
 * so a fuzzed "services_dir" cannot wander off over the host's files.
 * Every input must end as a config or as diagnostics, never both. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "speakers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *file_path(void)
{
        static char *path;
        if (!path) {
                const char *tmp = getenv("TMPDIR");
                char dir[4096];
                snprintf(dir, sizeof(dir), "%s/fuzz-config-daemon-XXXXXX", tmp ? tmp : "/tmp");
                if (!mkdtemp(dir) || asprintf(&path, "%s/anycast-healthd.json", dir) < 0)
                        abort();
        }
        return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool registered;
        if (!registered) {
                speakers_register(); /* the speakers' blocks, as the daemon has them */
                registered = true;
        }
        const char *path = file_path();
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
                abort();
        struct config *c = NULL;
        struct diag d = {0};
        int r = config_load_daemon(path, &c, &d);
        if ((r == 0) != (c != NULL) || (r == 0) != (d.n == 0))
                abort();
        config_free(c);
        diag_free(&d);
        return 0;
}
