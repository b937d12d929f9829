/* jsonpos.h: line/column of every value in a JSON text, by path.
 * jansson reports positions only for syntax errors; configuration errors
 * must also name where a valid-but-wrong key sits, so this indexes the
 * text once (after jansson accepted it). Paths look like
 * "checks[0].options.port"; the root is "". Pure. */
#pragma once
#include <stddef.h>

struct jsonpos;

/* Indexes text (already accepted by jansson). NULL on allocation failure. */
struct jsonpos *jsonpos_index(const char *text, size_t len);
/* Position of the key (for object members) or of the value (array items,
 * root). Returns 0 and fills line/column (1-based), or -ENOENT. */
int jsonpos_lookup(const struct jsonpos *p, const char *path, int *line, int *column);
void jsonpos_free(struct jsonpos *p);
