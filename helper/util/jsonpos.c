/* jsonpos.c: maps a path ("checks[0].options.port") to the line/column of a
 * key in a JSON text. The text was already accepted by jansson, so this
 * scanner is tolerant rather than validating; columns count characters
 * like jansson does, so syntax and semantic errors line up. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"

#define MAX_DEPTH 4096

struct entry {
        char *path;
        int line, column;
};

struct jsonpos {
        struct entry *e;
        size_t n, cap;
};

struct scan {
        const char *s;
        size_t len, i;
        int line, column; /* of s[i] */
        char *path;       /* current path, grown as needed */
        size_t plen, pcap;
        struct jsonpos *out;
        bool oom;
};

static int peek(const struct scan *sc)
{
        return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

static void advance(struct scan *sc)
{
        unsigned char c = (unsigned char)sc->s[sc->i++];

        if (c == '\n') {
                sc->line++;
                sc->column = 1;
        } else if ((c & 0xc0) != 0x80) {
                /* UTF-8 continuation bytes belong to the previous character */
                sc->column++;
        }
}

static void skip_ws(struct scan *sc)
{
        for (int c = peek(sc); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(sc))
                advance(sc);
}

static bool path_append(struct scan *sc, const char *add, size_t n)
{
        if (sc->plen + n + 1 > sc->pcap) {
                size_t cap = (sc->plen + n + 1) * 2;
                char *p = realloc(sc->path, cap);
                if (!p) {
                        sc->oom = true;
                        return false;
                }
                sc->path = p;
                sc->pcap = cap;
        }
        memcpy(sc->path + sc->plen, add, n);
        sc->plen += n;
        sc->path[sc->plen] = '\0';
        return true;
}

static void record(struct scan *sc, int line, int column)
{
        struct jsonpos *o = sc->out;

        if (o->n == o->cap) {
                size_t cap = o->cap ? o->cap * 2 : 32;
                struct entry *e = realloc(o->e, cap * sizeof(*e));
                if (!e) {
                        sc->oom = true;
                        return;
                }
                o->e = e;
                o->cap = cap;
        }
        char *p = strndup(sc->path ? sc->path : "", sc->plen);
        if (!p) {
                sc->oom = true;
                return;
        }
        o->e[o->n++] = (struct entry){.path = p, .line = line, .column = column};
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static unsigned read_hex4(struct scan *sc)
{
        unsigned v = 0;

        for (int k = 0; k < 4; k++) {
                int h = hexval(peek(sc));
                if (h < 0)
                        return 0;
                v = v * 16 + (unsigned)h;
                advance(sc);
        }
        return v;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xc0 | (cp >> 6));
                out[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char)(0xe0 | (cp >> 12));
                out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char)(0xf0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* Scans a string at sc->i (the opening quote). With decode, appends the
 * decoded text to the path, as jansson would hand it to the caller. */
static void scan_string(struct scan *sc, bool decode)
{
        advance(sc); /* opening quote */
        for (int c = peek(sc); c >= 0 && c != '"'; c = peek(sc)) {
                if (c != '\\') {
                        char ch = (char)c;
                        if (decode)
                                path_append(sc, &ch, 1);
                        advance(sc);
                        continue;
                }
                advance(sc);
                c = peek(sc);
                if (c < 0)
                        return;
                advance(sc);
                char buf[4];
                size_t n = 1;
                switch (c) {
                case 'b':
                        buf[0] = '\b';
                        break;
                case 'f':
                        buf[0] = '\f';
                        break;
                case 'n':
                        buf[0] = '\n';
                        break;
                case 'r':
                        buf[0] = '\r';
                        break;
                case 't':
                        buf[0] = '\t';
                        break;
                case 'u': {
                        uint32_t cp = read_hex4(sc);
                        if (cp >= 0xd800 && cp < 0xdc00 && peek(sc) == '\\') {
                                advance(sc);
                                if (peek(sc) == 'u') {
                                        advance(sc);
                                        uint32_t lo = read_hex4(sc);
                                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                }
                        }
                        n = utf8_encode(cp, buf);
                        break;
                }
                default:
                        buf[0] = (char)c;
                        break;
                }
                if (decode)
                        path_append(sc, buf, n);
        }
        if (peek(sc) == '"')
                advance(sc);
}

static void scan_value(struct scan *sc, int depth);

/* After one member or item: drops its path component, then true when a
 * comma says another follows; consumes the closing bracket otherwise. */
static bool next_member(struct scan *sc, size_t base, int close)
{
        sc->plen = base;
        if (sc->path)
                sc->path[base] = '\0';
        skip_ws(sc);
        int c = peek(sc);
        if (c == ',') {
                advance(sc);
                return true;
        }
        if (c == close)
                advance(sc);
        return false;
}

static void scan_object(struct scan *sc, int depth)
{
        size_t base = sc->plen;

        advance(sc); /* { */
        for (;;) {
                skip_ws(sc);
                int c = peek(sc);
                if (c != '"') {
                        if (c == '}')
                                advance(sc);
                        return;
                }
                int line = sc->line, column = sc->column;
                if (base > 0)
                        path_append(sc, ".", 1);
                scan_string(sc, true);
                record(sc, line, column);
                skip_ws(sc);
                if (peek(sc) == ':')
                        advance(sc);
                skip_ws(sc);
                scan_value(sc, depth + 1);
                if (!next_member(sc, base, '}'))
                        return;
        }
}

static void scan_array(struct scan *sc, int depth)
{
        size_t base = sc->plen;

        advance(sc); /* [ */
        for (size_t idx = 0;; idx++) {
                skip_ws(sc);
                int c = peek(sc);
                if (c < 0)
                        return;
                if (c == ']') {
                        advance(sc);
                        return;
                }
                char buf[32];
                int n = snprintf(buf, sizeof(buf), "[%zu]", idx);
                path_append(sc, buf, (size_t)n);
                record(sc, sc->line, sc->column);
                scan_value(sc, depth + 1);
                if (!next_member(sc, base, ']'))
                        return;
        }
}

static void scan_value(struct scan *sc, int depth)
{
        int c = peek(sc);

        if (depth > MAX_DEPTH || sc->oom)
                return;
        if (c == '{')
                scan_object(sc, depth);
        else if (c == '[')
                scan_array(sc, depth);
        else if (c == '"')
                scan_string(sc, false);
        else
                /* number or literal: runs to the next delimiter. Not to a
                 * NUL (strchr finds the terminator): jansson skips one
                 * after a number. */
                while ((c = peek(sc)) >= 0 && (c == 0 || !strchr(",]} \t\r\n", c)))
                        advance(sc);
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

struct jsonpos *jsonpos_index(const char *text, size_t len)
{
        struct jsonpos *p = calloc(1, sizeof(*p));
        struct scan sc = {.s = text, .len = len, .line = 1, .column = 1, .out = p};

        if (!p)
                return NULL;
        skip_ws(&sc);
        record(&sc, sc.line, sc.column);
        scan_value(&sc, 0);
        free(sc.path);
        if (sc.oom) {
                jsonpos_free(p);
                return NULL;
        }
        qsort(p->e, p->n, sizeof(*p->e), entry_cmp);
        return p;
}

int jsonpos_lookup(const struct jsonpos *p, const char *path, int *line, int *column)
{
        size_t lo = 0, hi;

        if (!p)
                return -ENOENT;
        hi = p->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(p->e[mid].path, path);
                if (c == 0) {
                        *line = p->e[mid].line;
                        *column = p->e[mid].column;
                        return 0;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -ENOENT;
}

void jsonpos_free(struct jsonpos *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                free(p->e[i].path);
        free(p->e);
        free(p);
}
