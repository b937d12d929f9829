/* fuzz_config_service.c: one service file beside a fixed daemon file, read
 * by config_load as the daemon does on start and reload. The loader reads
 * paths, so the input is written to services.d/ of a private directory.
 * Every input must end as a config or as diagnostics, never both. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "speakers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char daemon_file[] = "{\"pop\": \"fuzz1\", \"asn\": 65001, \"backend\": \"bird\",\n"
                                  " \"services_dir\": \"services.d\",\n"
                                  " \"allowed_prefixes\": [\"0.0.0.0/0\", \"::/0\"]}\n";

static void write_file(const char *path, const void *data, size_t size)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
                abort();
}

static char *daemon_path, *service_path;

static void setup(void)
{
        const char *tmp = getenv("TMPDIR");
        char dir[4096], sub[4200];
        snprintf(dir, sizeof(dir), "%s/fuzz-config-service-XXXXXX", tmp ? tmp : "/tmp");
        if (!mkdtemp(dir))
                abort();
        snprintf(sub, sizeof(sub), "%s/services.d", dir);
        if (mkdir(sub, 0700) < 0 || asprintf(&daemon_path, "%s/anycast-healthd.json", dir) < 0 ||
            asprintf(&service_path, "%s/svc.json", sub) < 0)
                abort();
        write_file(daemon_path, daemon_file, sizeof(daemon_file) - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool registered;
        if (!registered) {
                speakers_register(); /* the speakers' blocks, as the daemon has them */
                registered = true;
        }
        if (!daemon_path)
                setup();
        write_file(service_path, data, size);
        struct config *c = NULL;
        struct diag d = {0};
        int r = config_load(daemon_path, &c, &d);
        if ((r == 0) != (c != NULL) || (r == 0) != (d.n == 0) || (c && c->n_services != 1))
                abort();
        config_free(c);
        diag_free(&d);
        return 0;
}
