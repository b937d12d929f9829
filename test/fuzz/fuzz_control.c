/* fuzz_control.c: one control request line as a client could send it
 * (anyone in the socket's group): parsing must never crash or leak, and a
 * request it accepts must carry a verb we know. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > CONTROL_REQUEST_MAX)
                return 0; /* control.c refuses longer lines before parsing */
        struct control_request rq;
        char err[256];
        int r = control_request_parse((const char *)data, size, &rq, err, sizeof(err));
        if (r == 0) {
                if (strcmp(control_verb_name(rq.verb), "?") == 0)
                        abort();
                control_request_clear(&rq);
        } else if (r != -EINVAL) {
                abort();
        }
        return 0;
}
