/* fuzz_prefix.c: prefix_parse on any text; whatever it accepts must format
 * to a canonical form that parses back to the same prefix and formats the
 * same again, or the route files and the control output would drift. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prefix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        struct prefix p;
        const char *why = NULL;
        if (prefix_parse(s, &p, &why) == 0) {
                char a[PREFIX_STRLEN], b[PREFIX_STRLEN];
                struct prefix q;
                prefix_format(&p, a);
                if (prefix_parse(a, &q, &why) != 0 || !prefix_equal(&p, &q) ||
                    prefix_cmp(&p, &q) != 0 || !prefix_contains(&p, &q))
                        abort();
                prefix_format(&q, b);
                if (strcmp(a, b) != 0)
                        abort();
        } else if (!why) {
                abort(); /* every refusal names its reason */
        }
        free(s);
        return 0;
}
