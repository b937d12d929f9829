/* fuzz_jsonpos.c: jsonpos indexes any text jansson accepted (a config file
 * the operator wrote); every value jansson sees must be found by its path,
 * or a configuration error would be reported without its position. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bounds the lookups per input: each is a linear scan. */
#define MAX_LOOKUPS 512

static void walk(const struct jsonpos *p, json_t *v, char *path, size_t len, size_t cap,
                 int *budget)
{
        int line, column;
        if (*budget <= 0)
                return;
        (*budget)--;
        if (jsonpos_lookup(p, path, &line, &column) != 0 || line < 1 || column < 1)
                abort();
        if (json_is_object(v)) {
                const char *key;
                json_t *m;
                json_object_foreach(v, key, m)
                {
                        int n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", key);
                        if (n > 0 && (size_t)n < cap - len)
                                walk(p, m, path, len + (size_t)n, cap, budget);
                        path[len] = '\0';
                }
        } else if (json_is_array(v)) {
                size_t i;
                json_t *m;
                json_array_foreach(v, i, m)
                {
                        int n = snprintf(path + len, cap - len, "[%zu]", i);
                        if (n > 0 && (size_t)n < cap - len)
                                walk(p, m, path, len + (size_t)n, cap, budget);
                        path[len] = '\0';
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_error_t err;
        json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
        if (!root)
                return 0;
        struct jsonpos *p = jsonpos_index((const char *)data, size);
        if (!p)
                abort();
        char path[8192] = "";
        int budget = MAX_LOOKUPS;
        walk(p, root, path, 0, sizeof(path), &budget);
        jsonpos_free(p);
        json_decref(root);
        return 0;
}
