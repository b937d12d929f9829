/* log.c: one line per event, to the journal when systemd started us
 * (JOURNAL_STREAM), else to stderr. Never stdout.
 *
 * The daemon's loop must not wait on whoever reads its log: a full stderr
 * pipe (a busy speaker, a stopped pager) or a slow journald would otherwise
 * stall route changes for as long as the reader sleeps. Once
 * log_async_start() has run, lines go into a bounded queue that one thread
 * writes out in order; when the queue is full a line is dropped, counted,
 * and the count logged once the reader catches up. Before that (and in the
 * command-line modes) lines are written at once. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_QUEUE_BYTES (1U << 20) /* a burst of ~5,000 lines; then we drop */
#define LOG_LINE_MAX    4096

static const char *log_ident = "anycast-healthd";
static int log_max = LOG_INFO;
static bool log_journal;

/* A record in the ring: priority, length, then the formatted text. */
struct rec_head {
        uint16_t len;
        uint8_t priority;
};

static struct {
        pthread_mutex_t mu;
        pthread_cond_t more, empty;
        pthread_t thread;
        bool running, stopping, writing;
        char *ring;
        size_t head, used; /* head: next byte to write out */
        uint64_t dropped;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .more = PTHREAD_COND_INITIALIZER,
       .empty = PTHREAD_COND_INITIALIZER};

void log_setup(const char *ident)
{
        log_ident = ident;
        /* JOURNAL_STREAM says stderr already goes to the journal; use its
         * native protocol then so priorities survive. */
        log_journal = getenv("JOURNAL_STREAM") != NULL;
        const char *lvl = getenv("ANYCAST_HEALTHD_LOG_LEVEL");
        if (lvl && strcmp(lvl, "debug") == 0)
                log_max = LOG_DEBUG;
}

static void emit(int priority, const char *text)
{
        if (log_journal) {
                sd_journal_print(priority, "%s", text);
                return;
        }
        static const char *const names[] = {"emerg",   "alert",  "crit", "error",
                                            "warning", "notice", "info", "debug"};
        char line[LOG_LINE_MAX + 64];
        int n = snprintf(line, sizeof(line), "%s: %s: %s\n", log_ident, names[priority & 7], text);
        if (n < 0)
                return;
        size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
        /* One write per line, so a line is never split among other writers
         * of the same stderr (our workers, hooks). */
        for (size_t off = 0; off < len;) {
                ssize_t w = write(STDERR_FILENO, line + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return;
                off += (size_t)w;
        }
}

static void ring_copy_out(void *dst, size_t n)
{
        size_t first = LOG_QUEUE_BYTES - q.head < n ? LOG_QUEUE_BYTES - q.head : n;
        memcpy(dst, q.ring + q.head, first);
        memcpy((char *)dst + first, q.ring, n - first);
        q.head = (q.head + n) % LOG_QUEUE_BYTES;
        q.used -= n;
}

static void ring_copy_in(const void *src, size_t n)
{
        size_t tail = (q.head + q.used) % LOG_QUEUE_BYTES;
        size_t first = LOG_QUEUE_BYTES - tail < n ? LOG_QUEUE_BYTES - tail : n;
        memcpy(q.ring + tail, src, first);
        memcpy(q.ring, (const char *)src + first, n - first);
        q.used += n;
}

static void *writer(void *arg)
{
        (void)arg;
        char text[LOG_LINE_MAX];
        pthread_mutex_lock(&q.mu);
        for (;;) {
                while (q.used == 0 && !q.dropped && !q.stopping)
                        pthread_cond_wait(&q.more, &q.mu);
                if (q.used == 0 && !q.dropped)
                        break; /* stopping, and everything is out */
                int priority;
                if (q.used) {
                        struct rec_head h;
                        ring_copy_out(&h, sizeof(h));
                        ring_copy_out(text, h.len);
                        text[h.len] = '\0';
                        priority = h.priority;
                } else {
                        snprintf(text, sizeof(text),
                                 "log: %llu message%s dropped: the log's reader (stderr or the "
                                 "journal) was not keeping up",
                                 (unsigned long long)q.dropped, q.dropped == 1 ? "" : "s");
                        q.dropped = 0;
                        priority = LOG_WARNING;
                }
                q.writing = true;
                pthread_mutex_unlock(&q.mu);
                emit(priority, text);
                pthread_mutex_lock(&q.mu);
                q.writing = false;
                if (q.used == 0 && !q.dropped)
                        pthread_cond_broadcast(&q.empty);
        }
        pthread_cond_broadcast(&q.empty);
        pthread_mutex_unlock(&q.mu);
        return NULL;
}

/* A forked child has no writer thread; it writes its own lines directly
 * and must not write out the parent's queue a second time. */
static void atfork_prepare(void)
{
        pthread_mutex_lock(&q.mu);
}

static void atfork_parent(void)
{
        pthread_mutex_unlock(&q.mu);
}

static void atfork_child(void)
{
        q.running = false;
        q.used = 0;
        q.dropped = 0;
        pthread_mutex_unlock(&q.mu);
}

int log_async_start(void)
{
        static bool atfork_done;
        if (q.running)
                return 0;
        if (!q.ring && !(q.ring = malloc(LOG_QUEUE_BYTES)))
                return -ENOMEM;
        if (!atfork_done) {
                int r = pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
                if (r != 0)
                        return -r;
                atfork_done = true;
        }
        q.stopping = false;
        /* Signals stay with the loop: the writer blocks all of them. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int r = pthread_create(&q.thread, NULL, writer, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0)
                return -r;
        q.running = true;
        return 0;
}

static struct timespec deadline_after(uint64_t usec)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (usec % 1000000) * 1000;
        ts.tv_sec += (time_t)(usec / 1000000 + ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        return ts;
}

int log_async_flush(uint64_t timeout_usec)
{
        struct timespec until = deadline_after(timeout_usec);
        int r = 0;
        pthread_mutex_lock(&q.mu);
        while (q.running && (q.used || q.dropped || q.writing) && r == 0)
                r = pthread_cond_timedwait(&q.empty, &q.mu, &until);
        pthread_mutex_unlock(&q.mu);
        return r == 0 ? 0 : -ETIMEDOUT;
}

void log_set_max_level(int priority)
{
        log_max = priority;
}

void log_async_stop(uint64_t timeout_usec)
{
        if (!q.running)
                return;
        bool drained = log_async_flush(timeout_usec) == 0;
        pthread_mutex_lock(&q.mu);
        q.stopping = true;
        pthread_cond_signal(&q.more);
        pthread_mutex_unlock(&q.mu);
        /* A reader that never wakes up must not keep us from exiting: the
         * writer is then left blocked in its write, and lost with the
         * process. */
        if (drained)
                pthread_join(q.thread, NULL);
        else
                pthread_detach(q.thread);
        pthread_mutex_lock(&q.mu);
        q.running = false;
        pthread_mutex_unlock(&q.mu);
}

void log_msg(int priority, const char *fmt, ...)
{
        if (priority > log_max)
                return;
        char text[LOG_LINE_MAX];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        size_t len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;

        pthread_mutex_lock(&q.mu);
        if (!q.running) {
                pthread_mutex_unlock(&q.mu);
                emit(priority, text);
                return;
        }
        struct rec_head h = {.len = (uint16_t)len, .priority = (uint8_t)(priority & 7)};
        if (LOG_QUEUE_BYTES - q.used < sizeof(h) + len) {
                q.dropped++;
        } else {
                ring_copy_in(&h, sizeof(h));
                ring_copy_in(text, len);
                pthread_cond_signal(&q.more);
        }
        pthread_mutex_unlock(&q.mu);
}

char *log_sanitise(char *dst, size_t size, const char *src)
{
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)src; p && *p; p++) {
                bool ctl = *p < 0x20 || *p == 0x7f;
                size_t need = ctl ? 4 : 1;
                if (n + need >= size)
                        break;
                if (ctl)
                        snprintf(dst + n, 5, "\\x%02x", *p);
                else
                        dst[n] = (char)*p;
                n += need;
        }
        dst[n] = '\0';
        return dst;
}
