/* fuzz_state_file.c: the manual state file as found on disk after a crash,
 * a bad disk or an operator's editor. Whatever parses must dump to a text
 * that parses again and dumps the same: the daemon rewrites the file on
 * every change, and a state that does not survive that would be lost. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manual_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct manual_state st, again;
        char err[512];
        int r = manual_state_parse((const char *)data, size, &st, err, sizeof(err));
        if (r != 0) {
                if (r != -EBADMSG || st.n != 0 || st.entries || st.withdraw_all_reason)
                        abort();
                return 0;
        }
        char *a = manual_state_dump(&st);
        if (!a)
                abort();
        if (manual_state_parse(a, strlen(a), &again, err, sizeof(err)) != 0)
                abort();
        char *b = manual_state_dump(&again);
        if (!b || strcmp(a, b) != 0 || again.n != st.n)
                abort();
        free(a);
        free(b);
        manual_state_free(&st);
        manual_state_free(&again);
        return 0;
}
