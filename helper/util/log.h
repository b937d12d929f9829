/* log.h: the daemon's logging: journal under systemd, stderr otherwise.
 * Never stdout: a speaker may own it (backend_ops.prepare). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

void log_setup(const char *ident);
void log_set_max_level(int priority);

/* From here on lines are queued (1 MiB) and written by a thread, so that a
 * reader who does not read cannot stall the caller; a full queue drops
 * lines and says how many once there is room. Negative errno. The daemon
 * starts it before its loop; command-line modes never do. */
int log_async_start(void);
/* Waits until every queued line is written, at most timeout_usec:
 * 0, or -ETIMEDOUT while the reader still blocks. Any thread. */
int log_async_flush(uint64_t timeout_usec);
/* Flushes (bounded) and ends the writer; lines after it are direct again. */
void log_async_stop(uint64_t timeout_usec);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_crit(...)    log_msg(LOG_CRIT, __VA_ARGS__)
#define log_err(...)     log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)

/* Copies src into dst (size > 0; always terminated, an escape is never cut)
 * with each control character (below 0x20, and 0x7f) written as \xNN: text
 * from outside (plugin messages, reasons, names) must not forge log lines
 * or drive the terminal of whoever reads them. Returns dst. */
char *log_sanitise(char *dst, size_t size, const char *src);
