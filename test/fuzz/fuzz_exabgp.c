/* fuzz_exabgp.c: bytes ExaBGP (or anything on its side of the pipe) writes
 * to our stdin. The first byte picks the read size, so lines are cut at
 * every place a pipe could cut them; the lines found must not depend on
 * where the reads fell, and each one is classified as the backend does: an
 * ExaBGP 6 refusal ("error: WHY") only from a line holding "error:" and its
 * reason, which is a piece of the line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exabgp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
        char *buf;
        size_t len, cap;
        int classify;
};

static void on_line(void *userdata, char *line, size_t len)
{
        struct seen *s = userdata;
        if (strlen(line) > len || line[len] != '\0')
                abort();
        if (s->len + len + 1 > s->cap) {
                s->cap = (s->len + len + 1) * 2;
                s->buf = realloc(s->buf, s->cap);
                if (!s->buf)
                        abort();
        }
        memcpy(s->buf + s->len, line, len);
        s->buf[s->len + len] = '\n';
        s->len += len + 1;
        if (s->classify) {
                struct exabgp_msg m;
                exabgp_classify(line, len, &m);
                if (m.kind > EXABGP_MSG_GARBAGE || memchr(m.peer, '\0', sizeof(m.peer)) == NULL ||
                    memchr(m.reason, '\0', sizeof(m.reason)) == NULL || m.state > EXABGP_PEER_DOWN)
                        abort();
                if (m.kind == EXABGP_MSG_REFUSAL &&
                    (!memmem(line, len, "error:", 6) ||
                     !memmem(line, len, m.reason, strlen(m.reason))))
                        abort();
        }
}

static int feed(const char *data, size_t size, size_t chunk, struct seen *s)
{
        struct exabgp_lines l;
        int dropped = 0;
        exabgp_lines_init(&l);
        for (size_t off = 0; off < size; off += chunk) {
                size_t n = size - off < chunk ? size - off : chunk;
                int r = exabgp_lines_feed(&l, data + off, n, on_line, s);
                if (r < 0)
                        abort();
                dropped += r;
        }
        exabgp_lines_free(&l);
        return dropped;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t chunk = data[0] ? data[0] : 1;
        const char *text = (const char *)data + 1;
        size--;
        struct seen whole = {.classify = 1}, cut = {0};
        int d1 = feed(text, size, size ? size : 1, &whole);
        int d2 = feed(text, size, chunk, &cut);
        if (d1 != d2 || whole.len != cut.len ||
            (whole.len && memcmp(whole.buf, cut.buf, whole.len)))
                abort();
        free(whole.buf);
        free(cut.buf);
        return 0;
}
