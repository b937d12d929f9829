/*
 * anycast-healthd-check.h: the public ABI between anycast-healthd and its
 * check plugins. This is the only header a plugin includes; a plugin links
 * nothing of the daemon. Everything the daemon offers arrives in
 * struct ahc_host, everything the plugin offers leaves in struct ahc_plugin.
 *
 * Compatibility rules (they are the contract):
 *  - Both structs start with abi_version and size. Fields are only ever
 *    appended; a field is usable when offsetof(field) < size.
 *  - AHC_ABI_VERSION changes only for an incompatible change; the daemon
 *    refuses a plugin with another major ABI version.
 *  - A plugin built against an older header has a smaller struct ahc_plugin
 *    (the daemon reads only what its size covers) and never looks past the
 *    fields it knows in struct ahc_host. A plugin built against a newer
 *    header may run on an older daemon: before using an appended host
 *    function it tests AHC_HOST_HAS(host, field).
 *  - Revisions of ABI 1 (what each appended, oldest first):
 *      1.0  everything up to now_usec
 *      1.1  struct ahc_host: check, report (event-driven results)
 *      1.2  struct ahc_host: opt_intv, opt_strmap (option getters)
 *      1.3  struct ahc_host: opt_warning (a hint that refuses nothing)
 *  - A plugin exports exactly one symbol, AHC_PLUGIN_SYMBOL, a
 *    const struct ahc_plugin marked AHC_EXPORT (plugins are best built with
 *    -fvisibility=hidden). Everything else in the plugin is static.
 *
 * Results follow the monitoring-plugins convention: 0 OK, 1 WARNING
 * (service degraded), 2 CRITICAL (down), 3 UNKNOWN (down).
 *
 * Threading: the daemon has one event loop and no threads in its core. A
 * plugin that sets AHC_PLUGIN_LOOP_SAFE promises never to block: it starts
 * its probe, returns, and reports through host->probe_done() from an I/O,
 * timer or child callback it registered with the host. A plugin without
 * that flag runs in a worker process of its own that the daemon supervises:
 * there probe() may block, and must call probe_done() before it returns;
 * create() runs in that worker and runs again whenever the daemon restarts
 * the worker (after a crash, a hang or too much memory). A worker plugin's
 * timeout is enforced by killing the worker, so its cancel() is never called
 * and may be NULL.
 */
#ifndef ANYCAST_HEALTHD_CHECK_H
#define ANYCAST_HEALTHD_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AHC_ABI_VERSION   1u
#define AHC_PLUGIN_SYMBOL "anycast_healthd_check_plugin"
#define AHC_EXPORT        __attribute__((visibility("default")))

enum ahc_result {
        AHC_OK = 0,
        AHC_WARNING = 1,
        AHC_CRITICAL = 2,
        AHC_UNKNOWN = 3,
};

/* The plugin never blocks and may run inside the daemon's event loop. */
#define AHC_PLUGIN_LOOP_SAFE (1u << 0)

/* Event bits for io_add()/io_set_events(); same values as EPOLLIN etc. */
#define AHC_IO_IN  0x001u
#define AHC_IO_OUT 0x004u
#define AHC_IO_ERR 0x008u
#define AHC_IO_HUP 0x010u

/* syslog priorities for host->log(). */
#define AHC_LOG_ERR     3
#define AHC_LOG_WARNING 4
#define AHC_LOG_NOTICE  5
#define AHC_LOG_INFO    6
#define AHC_LOG_DEBUG   7

struct ahc_opts;  /* the check's "options" object, read through the host */
struct ahc_probe; /* one probe in flight; valid until probe_done or cancel */
struct ahc_io;    /* a registered file descriptor watch */
struct ahc_timer; /* a registered one-shot timer */
struct ahc_child; /* a registered child-process watch */
struct ahc_check; /* one check instance, for unsolicited reports (ABI 1.1) */

typedef void (*ahc_io_cb)(void *userdata, int fd, uint32_t revents);
typedef void (*ahc_timer_cb)(void *userdata);
/* si_code is CLD_EXITED, CLD_KILLED or CLD_DUMPED; status the exit code or signal. */
typedef void (*ahc_child_cb)(void *userdata, pid_t pid, int si_code, int status);

struct ahc_host {
        uint32_t abi_version;
        uint32_t size;

        /* Logs one line, prefixed by the daemon with service and check. */
        void (*log)(const struct ahc_opts *ctx, int priority, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));

        /*
         * Options. Getters return 0 when the key is present and of the
         * right type, -ENOENT when absent (nothing reported: optional keys
         * are fine), -EINVAL when of the wrong type (already reported with
         * file:line:column). Returned pointers live as long as the check.
         */
        int (*opt_string)(struct ahc_opts *o, const char *key, const char **out);
        int (*opt_int)(struct ahc_opts *o, const char *key, long long *out);
        int (*opt_bool)(struct ahc_opts *o, const char *key, bool *out);
        /* A JSON array of strings; *out is NULL-terminated. */
        int (*opt_strv)(struct ahc_opts *o, const char *key, const char *const **out, size_t *n);
        /* A duration string with unit ("500ms", "2s") in microseconds. */
        int (*opt_duration)(struct ahc_opts *o, const char *key, uint64_t *out_usec);
        /* Reports a problem at the key's position (key NULL: the options
         * object itself). Always returns -EINVAL. */
        int (*opt_error)(struct ahc_opts *o, const char *key, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));
        /* Reports every key not in the NULL-terminated list; -EINVAL if any. */
        int (*opt_only)(struct ahc_opts *o, const char *const *known);

        /* Event loop services: only for AHC_PLUGIN_LOOP_SAFE plugins. */
        int (*io_add)(int fd, uint32_t events, ahc_io_cb cb, void *userdata, struct ahc_io **out);
        int (*io_set_events)(struct ahc_io *io, uint32_t events);
        void (*io_free)(struct ahc_io *io); /* does not close fd */
        int (*timer_add)(uint64_t usec_from_now, ahc_timer_cb cb, void *userdata,
                         struct ahc_timer **out);
        void (*timer_free)(struct ahc_timer *t);
        /* Watches a child the plugin forked; the host reaps it. */
        int (*child_add)(pid_t pid, ahc_child_cb cb, void *userdata, struct ahc_child **out);
        void (*child_free)(struct ahc_child *c);

        /* Reports the probe's result exactly once. msg may be NULL; only
         * its first line is kept. After this the probe handle is invalid. */
        void (*probe_done)(struct ahc_probe *p, enum ahc_result result, const char *msg);

        /* CLOCK_MONOTONIC in microseconds. */
        uint64_t (*now_usec)(void);

        /* ---- ABI 1.1: event-driven results ---- */

        /*
         * The handle of the check instance that create() is building, for
         * report(). Call it in create() with the opts create() received and
         * keep the handle; it stays valid until destroy() returns.
         */
        struct ahc_check *(*check)(struct ahc_opts *o);
        /*
         * Reports a result at any moment, unasked: when the plugin learns
         * of a change (a watched process died, a unit failed) it need not
         * wait to be polled. Call it only when the state changes, not as a
         * heartbeat. The daemon folds it in like a probe result, except that
         * a failing report (CRITICAL, UNKNOWN) takes the check down at once
         * instead of after "fall" results: it is an observation, not a
         * sample. Passing reports count as one result towards "rise".
         * Delivery is deferred to the loop, so the plugin may call it from
         * any of its callbacks and from probe(), once create() returned and
         * until destroy() is called. A worker plugin may call it too, also
         * from a thread of its own (it becomes one message to the daemon).
         * msg may be NULL; only its first line is kept.
         */
        void (*report)(struct ahc_check *c, enum ahc_result result, const char *msg);

        /* ---- ABI 1.2: option getters ---- */

        /* A JSON array of integers; *out lives as long as the check. */
        int (*opt_intv)(struct ahc_opts *o, const char *key, const long long **out, size_t *n);
        /* A JSON object of strings: *out is name, value, name, value, ...
         * NULL-terminated, in file order; *n counts the pairs. */
        int (*opt_strmap)(struct ahc_opts *o, const char *key, const char *const **out, size_t *n);

        /* ---- ABI 1.3: hints ---- */

        /* Reports a hint at the key's position, like opt_error, except that
         * it refuses nothing: the check is built, --check-config prints it
         * as a warning and still exits 0. Use it for options that are valid
         * but probably not what was meant. Returns 0. */
        int (*opt_warning)(struct ahc_opts *o, const char *key, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));
};

/* Whether host offers field (an appended host function): use it only then. */
#define AHC_HOST_HAS(host, field)                                                                  \
        ((host)->size >= offsetof(struct ahc_host, field) + sizeof((host)->field) &&               \
         (host)->field != NULL)

struct ahc_plugin {
        uint32_t abi_version; /* AHC_ABI_VERSION */
        uint32_t size;        /* sizeof(struct ahc_plugin) */
        const char *name;     /* matches the file name without .so */
        const char *description;
        uint32_t flags; /* AHC_PLUGIN_* */

        /* Validates options and builds one check instance. Report every
         * problem through host->opt_*; return 0 or a negative errno. */
        int (*create)(const struct ahc_host *host, struct ahc_opts *opts, void **instance);

        /* Starts one probe. Returns 0 (the result comes through
         * host->probe_done, possibly before probe returns) or a negative
         * errno (the probe counts as UNKNOWN). At most one probe per
         * instance is in flight. */
        int (*probe)(void *instance, struct ahc_probe *probe);

        /* The host gave up on the probe (timeout, shutdown): release what
         * it holds. probe_done must not be called for it afterwards. */
        void (*cancel)(void *instance, struct ahc_probe *probe);

        void (*destroy)(void *instance);
};

#ifdef __cplusplus
}
#endif
#endif
