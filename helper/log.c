/* log.c: one line per event, to the journal when systemd started us
 * (JOURNAL_STREAM or NOTIFY_SOCKET), else to stderr. Never stdout. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "log.h"

static const char *log_ident = "anycast-healthd";
static int log_max = LOG_INFO;
static bool log_journal;

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

void log_set_max_level(int priority)
{
        log_max = priority;
}

void log_msg(int priority, const char *fmt, ...)
{
        if (priority > log_max)
                return;
        va_list ap;
        va_start(ap, fmt);
        if (log_journal) {
                sd_journal_printv(priority, fmt, ap);
        } else {
                static const char *const names[] = {"emerg",   "alert",  "crit", "error",
                                                    "warning", "notice", "info", "debug"};
                char buf[4096];
                vsnprintf(buf, sizeof(buf), fmt, ap);
                fprintf(stderr, "%s: %s: %s\n", log_ident, names[priority & 7], buf);
        }
        va_end(ap);
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
