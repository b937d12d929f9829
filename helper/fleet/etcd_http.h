/* etcd_http.h: the fleet's HTTP client for etcd v3's JSON gateway: POSTs of
 * JSON bodies and streaming POSTs (/v3/watch, /v3/lease/keepalive) on
 * libcurl's multi interface, driven by the daemon's sd-event loop. Nothing
 * here blocks the loop: curl's sockets and its timer are sd-event sources
 * (EV_PRIO_RESULT), and every callback runs from the loop, outside libcurl,
 * so a callback may start, cancel or free anything, this client included.
 *
 * URLs hold literal addresses (the fleet's etcd endpoints): no name is
 * resolved. No proxy from the environment, no redirects (a redirect is a
 * status), HTTP/1.1, "Content-Type: application/json". */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* A reply body larger than this fails the request with -EMSGSIZE, and so
 * does a streamed line larger than ETCD_HTTP_LINE_MAX: a broken or hostile
 * endpoint must not grow the daemon without bound. */
#define ETCD_HTTP_BODY_MAX (16u * 1024 * 1024)
#define ETCD_HTTP_LINE_MAX (1u * 1024 * 1024)

struct etcd_http; /* one per fleet member: a CURLM on the loop */

/* All NULL: plain http. Any set: https with peer and host verification;
 * ca_file NULL then means the system's CAs, cert_file and key_file the
 * client certificate (etcd's --client-cert-auth). The strings are copied. */
struct etcd_http_tls {
        const char *ca_file, *cert_file, *key_file;
};

/* tls may be NULL (plain http). 0 or negative errno. */
int etcd_http_new(sd_event *e, const struct etcd_http_tls *tls, struct etcd_http **out);
/* Cancels everything in flight; no callback runs after it. NULL is a no-op.
 * May be called from inside a callback of this client. */
void etcd_http_free(struct etcd_http *h);

/* The end of a request, run once, from the loop (never from inside
 * etcd_http_post/stream/cancel):
 *  - err < 0, status 0: a transport error: -ETIMEDOUT, -ECONNREFUSED,
 *    -EHOSTUNREACH, -ENETUNREACH, -ECONNRESET (the peer closed or reset
 *    the connection, or sent nothing), -EPROTO (TLS: handshake,
 *    verification, certificate files; or a reply that is not HTTP),
 *    -EMSGSIZE (reply or line over the cap), -ENOMEM, -EINVAL (bad URL),
 *    -EIO (anything else).
 *  - err 0: an HTTP reply with that status (any: 200, 404, 500 ...); body
 *    and len are the reply body (NUL terminated; NULL, 0 when empty).
 *    For a stream with a 2xx status the lines went to line(), and body
 *    is what followed the last newline, if anything; a stream whose status
 *    is not 2xx hands no lines, its whole body comes here.
 * body is valid during the callback only. */
typedef void (*etcd_http_done_fn)(void *userdata, int err, long status, const char *body,
                                  size_t len);
/* One complete line of a streamed 2xx reply, without its "\n" (and NUL
 * terminated in its place), as it arrives. Valid during the callback. */
typedef void (*etcd_http_line_fn)(void *userdata, const char *line, size_t len);

struct etcd_http_req; /* a request in flight: valid until done() or cancel */

/* POSTs body (copied: the caller may free it at once) to url, e.g.
 * "http://192.0.2.66:2379/v3/kv/put". timeout_usec bounds the whole
 * exchange, connect included (0: unbounded, which the daemon never
 * wants). *req (req may be NULL) is the handle to cancel. 0, or negative
 * errno and no callback. */
int etcd_http_post(struct etcd_http *h, const char *url, const char *body, uint64_t timeout_usec,
                   etcd_http_done_fn done, void *userdata, struct etcd_http_req **req);
/* A streaming POST (etcd's /v3/watch): line() runs for each complete line
 * of the response body as it arrives, done() when the stream ends or
 * fails. Only the connect is bounded (connect_timeout_usec, 0: curl's
 * default of 300 s): a quiet watch is normal, so there is no low-speed
 * limit; TCP keepalive finds a peer that went away. */
int etcd_http_stream(struct etcd_http *h, const char *url, const char *body,
                     uint64_t connect_timeout_usec, etcd_http_line_fn line, etcd_http_done_fn done,
                     void *userdata, struct etcd_http_req **req);
/* Ends req at once; no callback of it runs after this. req must still be
 * in flight (its done() not yet run); NULL is a no-op. Cancelling a
 * request from inside its own done() is a no-op too. */
void etcd_http_cancel(struct etcd_http *h, struct etcd_http_req *req);
/* Requests in flight (started and not yet done or cancelled). */
size_t etcd_http_in_flight(const struct etcd_http *h);
