/*
 * The request parser and the response head builder: pure functions over
 * byte strings, shared by the server (http.c) and the unit tests.  Not
 * installed.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
	enum http_method method;
	int minor; /* HTTP/1.minor */
	bool keep_alive; /* the connection stays open after the response */
	size_t body_len; /* Content-Length: request body bytes to skip */
	char path[HTTP_MAX_HEADER]; /* percent-decoded, no query, starts with "/" */
};

/*
 * Parse one request head (request line and headers up to the empty line)
 * at the start of buf[0..len).  Returns:
 *   > 0   the head is complete and valid: its length in bytes, req filled;
 *   0     incomplete: more bytes are needed (len < HTTP_MAX_HEADER);
 *   -400  malformed: bad request line, bad header, bad percent-encoding, or
 *         no end within HTTP_MAX_HEADER bytes;
 *   -505  "HTTP/d.d" with a major version other than 1.
 * Empty lines before the request line are skipped (RFC 9112, 2.2); a bare
 * LF ends a line as CRLF does.
 */
ptrdiff_t http_parse_request(const char *buf, size_t len, struct http_request *req);

struct http_head {
	int status; /* 200, 400, 404, 405, 505 */
	int minor; /* of the request: HTTP/1.0 keep-alive is said explicitly */
	bool keep_alive;
	const char *type; /* Content-Type */
	size_t length; /* Content-Length */
};

/* Longest head http_format_head writes. */
#define HTTP_HEAD_MAX 256

/*
 * Write the status line and headers of h, ending with the empty line, to
 * out (at least HTTP_HEAD_MAX bytes, not NUL-terminated).  Returns the
 * length.  405 carries "Allow: GET, HEAD".
 */
size_t http_format_head(char out[HTTP_HEAD_MAX], const struct http_head *h);

/* "OK", "Not Found", ... for the statuses above; "Error" otherwise. */
const char *http_reason(int status);

#endif
