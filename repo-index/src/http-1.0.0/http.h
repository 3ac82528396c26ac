/*
 * http: a small HTTP/1.1 server over the stack's tcp.
 *
 * GET and HEAD of static bodies found through a lookup callback, keep-alive
 * (the HTTP/1.1 default; "Connection: close" honoured; HTTP/1.0 closes unless
 * it asks for keep-alive), pipelined requests answered in order,
 * Content-Length and Content-Type by extension.  Errors: 404 for unknown
 * paths, 405 (with "Allow: GET, HEAD") for other methods, 400 for malformed
 * requests and 505 for an HTTP major version other than 1; 400 and 505 close
 * the connection.  The request line and headers may take up to
 * HTTP_MAX_HEADER bytes.
 *
 * Bodies are never copied whole: each poll writes as much of a response as
 * tcp_send_space allows and continues on later polls, so a body must stay
 * valid and unchanged while the server lives (crunch's data does).
 *
 * Single-threaded like the rest of the stack: call http_server_poll after
 * each ipv4_poll.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <tcp.h>

#define HTTP_VERSION "1.0.0"
#define HTTP_MAX_HEADER 8192 /* request line and headers, bytes */
#define HTTP_MAX_CONNS 64 /* concurrent connections per server */
#define HTTP_IDLE_NS (60ull * 1000000000ull) /* a connection without progress is closed */

/*
 * Find the body of path (the request target, percent-decoded, without query
 * or fragment, always starting with "/"; "/" means "/index.html"): return 0
 * and set data and len, or -1 when there is no such path.
 */
typedef int (*http_lookup_fn)(void *ctx, const char *path, const uint8_t **data, size_t *len);

struct http_server;

/*
 * Listen on port of t and answer with fn(ctx, ...).  NULL when tcp_listen
 * fails or memory runs out.
 */
struct http_server *http_server_new(struct tcp *t, uint16_t port, http_lookup_fn fn, void *ctx);

/*
 * Accept, read, parse and answer; call after each ipv4_poll.  now drives the
 * idle timeout (HTTP_IDLE_NS).  Connections beyond HTTP_MAX_CONNS wait in
 * tcp's accept queue until one ends.
 */
void http_server_poll(struct http_server *s, plat_time_t now);

/* Abort every connection and free s. */
void http_server_free(struct http_server *s);

/*
 * The media type for path by its extension (case-insensitive): "text/html",
 * "text/css", "image/png", ...; "text/html" for a path ending in "/" (an
 * index page); "application/octet-stream" otherwise.  A static string.
 */
const char *http_content_type(const char *path);

#endif
