/* config_block.h: what a parser of one block of a configuration file
 * uses: one open JSON file with its position index, and typed getters that
 * report every problem at the key's line/column. The config_*.c files use
 * it, and each speaker parses its own block of the daemon file with it
 * (struct speaker_block in config.h). Implemented in config_util.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "diag.h"

#define CFG_PATH_MAX 512

struct cfile {
        struct diag *d;
        char *file; /* name used in messages */
        char *dir;  /* absolute directory holding the file */
        char *text;
        struct jsonpos *pos; /* NULL until the text parsed */
        json_t *root;        /* NULL until the text parsed */
};

/* Reads and parses file; root must be an object. Returns 0, or -EINVAL
 * with the problem reported. f must be released with cfile_done() either way. */
int cfile_open(struct cfile *f, const char *file, struct diag *d);
void cfile_done(struct cfile *f);

/* Reports at the position of path, or of its nearest known parent. */
void cfg_err(struct cfile *f, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "parent.key" / "parent[i]"; buf is CFG_PATH_MAX long. */
const char *cfg_key(char *buf, const char *parent, const char *key);
const char *cfg_idx(char *buf, const char *parent, size_t i);

/* Reports each member of obj not in keys (NULL-terminated). */
void cfg_only_keys(struct cfile *f, json_t *obj, const char *path, const char *what,
                   const char *const *keys);
/* The same, also accepting every key for which also(key) is true. */
void cfg_only_keys_or(struct cfile *f, json_t *obj, const char *path, const char *what,
                      const char *const *keys, bool (*also)(const char *key));

/* Getters: 1 when present and valid (*out set), 0 when absent (*out
 * untouched), -1 when present but wrong (reported). */
int cfg_object(struct cfile *f, json_t *obj, const char *path, const char *key, json_t **out);
int cfg_array(struct cfile *f, json_t *obj, const char *path, const char *key, json_t **out);
int cfg_string(struct cfile *f, json_t *obj, const char *path, const char *key, const char **out);
int cfg_bool(struct cfile *f, json_t *obj, const char *path, const char *key, bool *out);
int cfg_int(struct cfile *f, json_t *obj, const char *path, const char *key, int64_t min,
            int64_t max, int64_t *out);
int cfg_duration(struct cfile *f, json_t *obj, const char *path, const char *key, uint64_t *usec,
                 const char **text);
int cfg_on_action(struct cfile *f, json_t *obj, const char *path, const char *key,
                  enum on_action *out);
/* A string naming a path; stored absolute, relative to the file's directory. */
int cfg_path(struct cfile *f, json_t *obj, const char *path, const char *key, char **out);

const char *cfg_type_name(const json_t *v);
/* Joins dir and p unless p is absolute. Never NULL. */
char *cfg_abspath(const char *dir, const char *p);
/* Allocation failure while loading configuration aborts, like diag.c:
 * there is no useful report left to give. */
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
