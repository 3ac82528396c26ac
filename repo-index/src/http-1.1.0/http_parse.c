/* The request parser, the response head builder and the media types. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

/* A non-owning slice of the input. */
struct slice {
	const char *p;
	size_t n;
};

static bool is_tchar(unsigned char c)
{
	/* RFC 9110, 5.6.2 */
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(struct slice s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_tchar((unsigned char)s.p[i]))
			return false;
	return true;
}

static bool slice_eq_ci(struct slice s, const char *lit)
{
	return strlen(lit) == s.n && strncasecmp(s.p, lit, s.n) == 0;
}

static struct slice trim_ows(struct slice s)
{
	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	return s;
}

/*
 * The next line of buf[*pos..end) without its CRLF or LF; end is the end of
 * the head, so every line there is terminated.
 */
static struct slice next_line(const char *buf, size_t *pos, size_t end)
{
	const char *p = buf + *pos;
	const char *nl = memchr(p, '\n', end - *pos);
	struct slice s = {p, (size_t)(nl - p)};
	*pos = (size_t)(nl - buf) + 1;
	if (s.n > 0 && s.p[s.n - 1] == '\r')
		s.n--;
	return s;
}

/* Index just past the empty line that ends the head, or 0 when not in buf[start..len). */
static size_t find_head_end(const char *buf, size_t start, size_t len)
{
	size_t i = start;
	for (;;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		if (nl == NULL)
			return 0;
		size_t n = (size_t)(nl - (buf + i));
		if (n == 0 || (n == 1 && buf[i] == '\r'))
			return (size_t)(nl - buf) + 1;
		i = (size_t)(nl - buf) + 1;
	}
}

/* No control characters but HTAB, no DEL (a bare CR is one). */
static bool clean_line(struct slice s)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The path of an origin-form ("/a/b?q") or absolute-form
 * ("http://host/a/b?q") target, percent-decoded into out (at least t.n + 2
 * bytes).  0 or -1.
 */
static int decode_target(struct slice t, char *out)
{
	if (t.n > 8 && strncasecmp(t.p, "https://", 8) == 0) {
		t.p += 8;
		t.n -= 8;
	} else if (t.n > 7 && strncasecmp(t.p, "http://", 7) == 0) {
		t.p += 7;
		t.n -= 7;
	} else if (t.n == 0 || t.p[0] != '/') {
		return -1;
	}
	if (t.p[0] != '/') {
		/* skip the authority */
		size_t i = 0;
		while (i < t.n && t.p[i] != '/' && t.p[i] != '?' && t.p[i] != '#')
			i++;
		if (i == 0)
			return -1;
		t.p += i;
		t.n -= i;
	}
	size_t o = 0;
	out[o++] = '/';
	size_t i = (t.n > 0 && t.p[0] == '/') ? 1 : 0;
	for (; i < t.n && t.p[i] != '?' && t.p[i] != '#'; i++) {
		char c = t.p[i];
		if (c == '%') {
			int hi = i + 2 < t.n ? hexval(t.p[i + 1]) : -1;
			int lo = i + 2 < t.n ? hexval(t.p[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_version(struct slice v, int *minor)
{
	if (v.n != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[6] != '.' || v.p[5] < '0' ||
	    v.p[5] > '9' || v.p[7] < '0' || v.p[7] > '9')
		return -400;
	if (v.p[5] != '1')
		return -505;
	*minor = v.p[7] - '0';
	return 0;
}

static int parse_request_line(struct slice l, struct http_request *req)
{
	const char *sp1 = memchr(l.p, ' ', l.n);
	if (sp1 == NULL)
		return -400;
	struct slice method = {l.p, (size_t)(sp1 - l.p)};
	struct slice rest = {sp1 + 1, l.n - method.n - 1};
	const char *sp2 = memchr(rest.p, ' ', rest.n);
	if (sp2 == NULL)
		return -400;
	struct slice target = {rest.p, (size_t)(sp2 - rest.p)};
	struct slice version = {sp2 + 1, rest.n - target.n - 1};
	if (!is_token(method) || target.n == 0)
		return -400;
	int rc = parse_version(version, &req->minor);
	if (rc != 0)
		return rc;
	if (decode_target(target, req->path) != 0)
		return -400;
	if (method.n == 3 && memcmp(method.p, "GET", 3) == 0)
		req->method = HTTP_GET;
	else if (method.n == 4 && memcmp(method.p, "HEAD", 4) == 0)
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_OTHER;
	return 0;
}

/* What the headers say, before it is folded into the request. */
struct head_facts {
	bool close, keep_alive, chunked, has_length;
	int hosts;
	size_t length;
};

static int parse_connection(struct slice v, struct head_facts *f)
{
	while (v.n > 0) {
		const char *comma = memchr(v.p, ',', v.n);
		size_t n = comma ? (size_t)(comma - v.p) : v.n;
		struct slice opt = trim_ows((struct slice){v.p, n});
		if (slice_eq_ci(opt, "close"))
			f->close = true;
		else if (slice_eq_ci(opt, "keep-alive"))
			f->keep_alive = true;
		v.p += n;
		v.n -= n;
		if (comma) {
			v.p++;
			v.n--;
		}
	}
	return 0;
}

static int parse_length(struct slice v, struct head_facts *f)
{
	size_t len = 0;
	if (v.n == 0 || v.n > 18)
		return -400;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -400;
		len = len * 10 + (size_t)(v.p[i] - '0');
	}
	if (f->has_length && f->length != len)
		return -400;
	f->has_length = true;
	f->length = len;
	return 0;
}

static int parse_header(struct slice l, struct head_facts *f)
{
	const char *colon = memchr(l.p, ':', l.n);
	if (colon == NULL)
		return -400;
	/* a line starting with white space (obsolete folding) fails the token test */
	struct slice name = {l.p, (size_t)(colon - l.p)};
	struct slice value = trim_ows((struct slice){colon + 1, l.n - name.n - 1});
	if (!is_token(name))
		return -400;
	if (slice_eq_ci(name, "connection"))
		return parse_connection(value, f);
	if (slice_eq_ci(name, "content-length"))
		return parse_length(value, f);
	if (slice_eq_ci(name, "transfer-encoding"))
		f->chunked = true;
	else if (slice_eq_ci(name, "host"))
		f->hosts++;
	return 0;
}

ptrdiff_t http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	size_t lim = len < HTTP_MAX_HEADER ? len : HTTP_MAX_HEADER;
	size_t pos = 0;
	/* empty lines before the request line */
	while (pos < lim &&
	       (buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < lim && buf[pos + 1] == '\n')))
		pos += buf[pos] == '\r' ? 2 : 1;
	size_t end = find_head_end(buf, pos, lim);
	if (end == 0)
		return len >= HTTP_MAX_HEADER ? -400 : 0;

	struct slice line = next_line(buf, &pos, end);
	if (!clean_line(line))
		return -400;
	int rc = parse_request_line(line, req);
	if (rc != 0)
		return rc;

	struct head_facts f = {0};
	for (;;) {
		line = next_line(buf, &pos, end);
		if (line.n == 0)
			break;
		if (!clean_line(line))
			return -400;
		if ((rc = parse_header(line, &f)) != 0)
			return rc;
	}
	/* RFC 9112: several Host fields, or a length with a transfer coding, are errors */
	if (f.hosts > 1 || (f.chunked && f.has_length))
		return -400;
	req->body_len = f.length;
	if (req->minor >= 1)
		req->keep_alive = !f.close;
	else
		req->keep_alive = f.keep_alive && !f.close;
	/* a chunked body cannot be skipped here: answer, then close */
	if (f.chunked)
		req->keep_alive = false;
	return (ptrdiff_t)end;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

size_t http_format_head(char out[HTTP_HEAD_MAX], const struct http_head *h)
{
	const char *conn = "";
	if (!h->keep_alive)
		conn = "Connection: close\r\n";
	else if (h->minor == 0)
		conn = "Connection: keep-alive\r\n";
	int n = snprintf(out, HTTP_HEAD_MAX,
	                 "HTTP/1.1 %d %s\r\n"
	                 "Server: stitch-http\r\n"
	                 "Content-Type: %s\r\n"
	                 "Content-Length: %zu\r\n"
	                 "%s%s"
	                 "\r\n",
	                 h->status, http_reason(h->status), h->type, h->length,
	                 h->status == 405 ? "Allow: GET, HEAD\r\n" : "", conn);
	/* every argument is bounded: the media types are short, the rest fixed */
	if (n < 0 || n >= HTTP_HEAD_MAX)
		return 0;
	return (size_t)n;
}

static const struct {
	const char *ext;
	const char *type;
} media_types[] = {
    /* sorted by extension */
    {"bin", "application/octet-stream"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"gif", "image/gif"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/x-icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"md", "text/markdown"},
    {"mjs", "text/javascript"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain"},
    {"wasm", "application/wasm"},
    {"webm", "video/webm"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
};

const char *http_content_type(const char *path)
{
	size_t n = strlen(path);
	if (n > 0 && path[n - 1] == '/')
		return "text/html";
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	if (dot == NULL || (slash != NULL && dot < slash) || dot[1] == '\0')
		return "application/octet-stream";
	size_t lo = 0, hi = sizeof media_types / sizeof media_types[0];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(dot + 1, media_types[mid].ext);
		if (c == 0)
			return media_types[mid].type;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return "application/octet-stream";
}
