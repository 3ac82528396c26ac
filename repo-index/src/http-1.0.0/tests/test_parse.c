/* The request parser, the response head and the media types, on byte strings. */
#include <stdlib.h>

#include "test.h"
#include "../http_parse.h"

#define WHOLE 1 /* want: the whole input is one head */

static const struct parse_case {
	const char *in;
	ptrdiff_t want; /* WHOLE, 0, -400, -505, or a head length */
	enum http_method method;
	int minor;
	bool keep_alive;
	const char *path;
	size_t body_len;
} cases[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/", 0},
    {"HEAD /style.css HTTP/1.1\r\nHost: a\r\n\r\n", WHOLE, HTTP_HEAD, 1, true, "/style.css", 0},
    {"GET /a%20b.txt?x=1&y=%zz HTTP/1.1\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/a b.txt", 0},
    {"GET /%41%2f%2F HTTP/1.1\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/A//", 0},
    {"GET /a#frag HTTP/1.1\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/a", 0},
    {"GET / HTTP/1.0\r\n\r\n", WHOLE, HTTP_GET, 0, false, "/", 0},
    {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", WHOLE, HTTP_GET, 0, true, "/", 0},
    {"GET / HTTP/1.0\r\nconnection: Keep-Alive, close\r\n\r\n", WHOLE, HTTP_GET, 0, false, "/", 0},
    {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", WHOLE, HTTP_GET, 1, false, "/", 0},
    {"GET / HTTP/1.1\r\nConnection: Upgrade,  CLOSE \r\n\r\n", WHOLE, HTTP_GET, 1, false, "/", 0},
    {"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/", 0},
    {"GET / HTTP/1.9\r\n\r\n", WHOLE, HTTP_GET, 9, true, "/", 0},
    {"GET /x HTTP/1.1\nHost: a\n\n", WHOLE, HTTP_GET, 1, true, "/x", 0},
    {"\r\n\r\nGET /x HTTP/1.1\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/x", 0},
    {"GET http://example.org/p/q?r HTTP/1.1\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/p/q", 0},
    {"GET HTTP://example.org HTTP/1.1\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/", 0},
    {"GET https://example.org:8443/s HTTP/1.1\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/s", 0},
    {"GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/", 0},
    {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", WHOLE, HTTP_GET, 1, false, "/", 0},
    {"GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", WHOLE, HTTP_GET, 1, true,
     "/", 0},
    {"BREW /pot HTTP/1.1\r\n\r\n", WHOLE, HTTP_OTHER, 1, true, "/pot", 0},
    {"get / HTTP/1.1\r\n\r\n", WHOLE, HTTP_OTHER, 1, true, "/", 0},
    {"POST /f HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 39, HTTP_OTHER, 1, true, "/f", 5},
    {"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 19, HTTP_GET, 1, true, "/a", 0},

    /* incomplete */
    {"", 0, 0, 0, false, NULL, 0},
    {"\r\n", 0, 0, 0, false, NULL, 0},
    {"GET / HT", 0, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\n", 0, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nHost: a\r\n\r", 0, 0, 0, false, NULL, 0},

    /* malformed */
    {"GARBAGE\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET /\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET  / HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {" GET / HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1 \r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1 x\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"G(T / HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET x HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET * HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET http:///x HTTP/1.1\r\n\r\n", WHOLE, HTTP_GET, 1, true, "/x", 0},
    {"GET http://?q HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET /%zz HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET /%4 HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET /%00 HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.x\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / http/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/11\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.10\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/2.0\r\n\r\n", -505, 0, 0, false, NULL, 0},
    {"GET / HTTP/0.9\r\n\r\n", -505, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\n: a\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -400, 0, 0, false, NULL,
     0},
    {"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", -400, 0, 0, false,
     NULL, 0},
    {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET /\x01 HTTP/1.1\r\n\r\n", -400, 0, 0, false, NULL, 0},
    {"GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", -400, 0, 0, false, NULL, 0},
};

static struct http_request req;

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct parse_case *c = &cases[i];
		size_t len = strlen(c->in);
		ptrdiff_t want = c->want == WHOLE ? (ptrdiff_t)len : c->want;
		memset(&req, 0x55, sizeof req);
		ptrdiff_t got = http_parse_request(c->in, len, &req);
		CHECK_MSG(got == want, "case %zu \"%s\": got %td, want %td", i, c->in, got, want);
		if (got != want || got <= 0)
			continue;
		CHECK_MSG(req.method == c->method, "case %zu: method %d", i, (int)req.method);
		CHECK_MSG(req.minor == c->minor, "case %zu: minor %d", i, req.minor);
		CHECK_MSG(req.keep_alive == c->keep_alive, "case %zu: keep_alive %d", i,
		          req.keep_alive);
		CHECK_MSG(strcmp(req.path, c->path) == 0, "case %zu: path \"%s\"", i, req.path);
		CHECK_MSG(req.body_len == c->body_len, "case %zu: body_len %zu", i, req.body_len);
	}
}

/* A NUL inside a header line is malformed, not the end of the input. */
static void test_nul(void)
{
	static const char in[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	CHECK(http_parse_request(in, sizeof in - 1, &req) == -400);
}

/* Build a head of exactly n bytes: request line, one long header, empty line. */
static size_t long_head(char *buf, size_t n, bool terminated)
{
	const char *line = "GET / HTTP/1.1\r\nX: ";
	size_t k = strlen(line);
	memcpy(buf, line, k);
	size_t tail = terminated ? 4 : 0;
	memset(buf + k, 'a', n - k - tail);
	if (terminated)
		memcpy(buf + n - 4, "\r\n\r\n", 4);
	return n;
}

static void test_limits(void)
{
	static char buf[2 * HTTP_MAX_HEADER];
	size_t n = long_head(buf, HTTP_MAX_HEADER, true);
	CHECK(http_parse_request(buf, n, &req) == (ptrdiff_t)HTTP_MAX_HEADER);
	n = long_head(buf, HTTP_MAX_HEADER + 1, true);
	CHECK(http_parse_request(buf, n, &req) == -400);
	n = long_head(buf, HTTP_MAX_HEADER - 1, false);
	CHECK(http_parse_request(buf, n, &req) == 0);
	n = long_head(buf, HTTP_MAX_HEADER, false);
	CHECK(http_parse_request(buf, n, &req) == -400);
	/* a flood of empty lines is no request either */
	memset(buf, '\n', HTTP_MAX_HEADER);
	CHECK(http_parse_request(buf, HTTP_MAX_HEADER, &req) == -400);
	CHECK(http_parse_request(buf, 100, &req) == 0);
}

static void test_heads(void)
{
	char out[HTTP_HEAD_MAX];
	struct http_head h = {200, 1, true, "text/html", 12};
	size_t n = http_format_head(out, &h);
	const char *want = "HTTP/1.1 200 OK\r\nServer: stitch-http\r\nContent-Type: text/html\r\n"
	                   "Content-Length: 12\r\n\r\n";
	CHECK(n == strlen(want) && memcmp(out, want, n) == 0);

	h = (struct http_head){200, 0, true, "image/png", 1048576};
	n = http_format_head(out, &h);
	want = "HTTP/1.1 200 OK\r\nServer: stitch-http\r\nContent-Type: image/png\r\n"
	       "Content-Length: 1048576\r\nConnection: keep-alive\r\n\r\n";
	CHECK(n == strlen(want) && memcmp(out, want, n) == 0);

	h = (struct http_head){404, 1, false, "text/plain", 10};
	n = http_format_head(out, &h);
	want = "HTTP/1.1 404 Not Found\r\nServer: stitch-http\r\nContent-Type: text/plain\r\n"
	       "Content-Length: 10\r\nConnection: close\r\n\r\n";
	CHECK(n == strlen(want) && memcmp(out, want, n) == 0);

	h = (struct http_head){405, 1, true, "text/plain", 19};
	n = http_format_head(out, &h);
	want = "HTTP/1.1 405 Method Not Allowed\r\nServer: stitch-http\r\n"
	       "Content-Type: text/plain\r\nContent-Length: 19\r\nAllow: GET, HEAD\r\n\r\n";
	CHECK(n == strlen(want) && memcmp(out, want, n) == 0);

	/* the longest head fits */
	h = (struct http_head){505, 0, false, "application/octet-stream", (size_t)-1};
	n = http_format_head(out, &h);
	CHECK(n > 0 && n < HTTP_HEAD_MAX);
	CHECK(strcmp(http_reason(400), "Bad Request") == 0);
	CHECK(strcmp(http_reason(505), "HTTP Version Not Supported") == 0);
	CHECK(strcmp(http_reason(418), "Error") == 0);
}

static void test_types(void)
{
	static const char *const pairs[][2] = {
	    {"/index.html", "text/html"},
	    {"/a/b.HTM", "text/html"},
	    {"/", "text/html"},
	    {"/docs/", "text/html"},
	    {"/style.css", "text/css"},
	    {"/app.js", "text/javascript"},
	    {"/m.mjs", "text/javascript"},
	    {"/logo.png", "image/png"},
	    {"/p.JPG", "image/jpeg"},
	    {"/p.jpeg", "image/jpeg"},
	    {"/a.gif", "image/gif"},
	    {"/i.svg", "image/svg+xml"},
	    {"/r.txt", "text/plain"},
	    {"/d.json", "application/json"},
	    {"/favicon.ico", "image/x-icon"},
	    {"/m.wasm", "application/wasm"},
	    {"/f.woff2", "font/woff2"},
	    {"/f.woff", "font/woff"},
	    {"/big.bin", "application/octet-stream"},
	    {"/README", "application/octet-stream"},
	    {"/dir.d/README", "application/octet-stream"},
	    {"/trailing.", "application/octet-stream"},
	    {"/x.unknown", "application/octet-stream"},
	    {"", "application/octet-stream"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		const char *got = http_content_type(pairs[i][0]);
		CHECK_MSG(strcmp(got, pairs[i][1]) == 0, "\"%s\": %s", pairs[i][0], got);
	}
}

int main(void)
{
	test_cases();
	test_nul();
	test_limits();
	test_heads();
	test_types();
	return test_summary("test_parse");
}
