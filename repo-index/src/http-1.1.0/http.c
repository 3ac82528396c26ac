/*
 * The server loop: one state machine per connection, driven by
 * http_server_poll.  A connection reads only while it has no complete
 * request buffered and no response in flight, so pipelined requests are
 * answered in order and a slow reader holds back its own requests only.
 *
 * Out of memory: a connection that cannot get its state is aborted; the
 * server goes on.
 */
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

struct http_conn {
	struct tcp_conn *tc;
	plat_time_t last; /* last progress: bytes read or written */
	size_t in_len; /* bytes buffered in in[] */
	size_t discard; /* request body bytes still to skip */
	/* the response in flight, if busy */
	bool busy;
	bool close_after;
	size_t head_len, head_off;
	const uint8_t *body;
	size_t body_len, body_off;
	char head[HTTP_HEAD_MAX];
	char in[HTTP_MAX_HEADER];
};

struct http_server {
	struct tcp *tcp;
	http_lookup_fn fn;
	void *ctx;
	struct http_conn *conns[HTTP_MAX_CONNS];
	struct http_request req; /* parser scratch (one poll at a time) */
};

enum { SEND_ERROR = -1, SEND_LATER = 0, SEND_DONE = 1 };
enum { INPUT_AGAIN, INPUT_REQUEST, INPUT_EOF, INPUT_RESET };

static const char body_400[] = "Bad Request\n";
static const char body_404[] = "Not Found\n";
static const char body_405[] = "Method Not Allowed\n";
static const char body_505[] = "HTTP Version Not Supported\n";

struct http_server *http_server_new(struct tcp *t, uint16_t port, http_lookup_fn fn, void *ctx)
{
	if (t == NULL || fn == NULL || tcp_listen(t, port) != 0)
		return NULL;
	struct http_server *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->tcp = t;
	s->fn = fn;
	s->ctx = ctx;
	return s;
}

void http_server_free(struct http_server *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < HTTP_MAX_CONNS; i++) {
		if (s->conns[i] != NULL) {
			tcp_abort(s->conns[i]->tc);
			free(s->conns[i]);
		}
	}
	free(s);
}

/* Set up the response: head, and the body unless it is a HEAD request. */
static void respond(struct http_conn *c, const struct http_head *h, const void *body,
                    bool head_only)
{
	c->head_len = http_format_head(c->head, h);
	c->head_off = 0;
	c->body = body;
	c->body_len = head_only ? 0 : h->length;
	c->body_off = 0;
	c->close_after = !h->keep_alive;
	c->busy = true;
}

static void respond_error(struct http_conn *c, int status, int minor, bool keep_alive,
                          bool head_only)
{
	const char *body = status == 404   ? body_404
	                   : status == 405 ? body_405
	                   : status == 505 ? body_505
	                                   : body_400;
	struct http_head h = {status, minor, keep_alive, "text/plain", strlen(body)};
	respond(c, &h, body, head_only);
}

static void answer(struct http_server *s, struct http_conn *c, const struct http_request *req)
{
	bool head_only = req->method == HTTP_HEAD;
	const uint8_t *data;
	size_t len;
	c->discard = req->body_len;
	if (req->method == HTTP_OTHER) {
		respond_error(c, 405, req->minor, req->keep_alive, false);
	} else if (s->fn(s->ctx, req->path, &data, &len) != 0) {
		respond_error(c, 404, req->minor, req->keep_alive, head_only);
	} else {
		struct http_head h = {200, req->minor, req->keep_alive,
		                      http_content_type(req->path), len};
		respond(c, &h, data, head_only);
	}
}

/*
 * Write what fits of the response in flight: head and body gathered in
 * one tcp_writev, bounded by the send space so nothing is buffered twice.
 */
static int send_some(struct http_conn *c)
{
	size_t space = tcp_send_space(c->tc);
	size_t head_left = c->head_len - c->head_off;
	size_t body_left = c->body_len - c->body_off;
	if (head_left + body_left == 0)
		return SEND_DONE;
	if (space == 0) {
		/* full, or reset: an empty write tells them apart (-1 when reset) */
		return tcp_writev(c->tc, NULL, 0) < 0 ? SEND_ERROR : SEND_LATER;
	}
	struct tcp_iov iov[2];
	int n = 0;
	if (head_left > 0) {
		size_t k = head_left < space ? head_left : space;
		iov[n++] = (struct tcp_iov){c->head + c->head_off, k};
		space -= k;
	}
	if (body_left > 0 && space > 0) {
		size_t k = body_left < space ? body_left : space;
		iov[n++] = (struct tcp_iov){c->body + c->body_off, k};
	}
	tcp_ssize_t w = tcp_writev(c->tc, iov, n);
	if (w == TCP_AGAIN)
		return SEND_LATER;
	if (w < 0)
		return SEND_ERROR;
	size_t done = (size_t)w;
	size_t k = done < head_left ? done : head_left;
	c->head_off += k;
	c->body_off += done - k;
	return c->head_off == c->head_len && c->body_off == c->body_len ? SEND_DONE : SEND_LATER;
}

static void consume(struct http_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/*
 * Parse the next buffered request and set up its response, reading more
 * when none is complete.
 */
static int next_request(struct http_server *s, struct http_conn *c, plat_time_t now)
{
	for (;;) {
		if (c->discard > 0) {
			size_t k = c->discard < c->in_len ? c->discard : c->in_len;
			consume(c, k);
			c->discard -= k;
		}
		if (c->discard == 0 && c->in_len > 0) {
			ptrdiff_t r = http_parse_request(c->in, c->in_len, &s->req);
			if (r > 0) {
				consume(c, (size_t)r);
				answer(s, c, &s->req);
				return INPUT_REQUEST;
			}
			if (r < 0) {
				respond_error(c, (int)-r, 1, false, false);
				c->in_len = 0;
				return INPUT_REQUEST;
			}
		}
		tcp_ssize_t n = tcp_read(c->tc, c->in + c->in_len, sizeof c->in - c->in_len);
		if (n == TCP_AGAIN)
			return INPUT_AGAIN;
		if (n == 0)
			return INPUT_EOF;
		if (n < 0)
			return INPUT_RESET;
		c->in_len += (size_t)n;
		c->last = now;
	}
}

static void drop(struct http_server *s, size_t slot, bool abort)
{
	struct http_conn *c = s->conns[slot];
	if (abort)
		tcp_abort(c->tc);
	else
		tcp_close(c->tc);
	free(c);
	s->conns[slot] = NULL;
}

static void serve(struct http_server *s, size_t slot, plat_time_t now)
{
	struct http_conn *c = s->conns[slot];
	for (;;) {
		if (c->busy) {
			int r = send_some(c);
			if (r == SEND_ERROR) {
				drop(s, slot, true);
				return;
			}
			if (r == SEND_LATER)
				break;
			c->last = now;
			c->busy = false;
			if (c->close_after) {
				drop(s, slot, false);
				return;
			}
		}
		int in = next_request(s, c, now);
		if (in == INPUT_EOF || in == INPUT_RESET) {
			drop(s, slot, in == INPUT_RESET);
			return;
		}
		if (in == INPUT_AGAIN)
			break;
	}
	if (now > c->last && now - c->last > HTTP_IDLE_NS)
		drop(s, slot, c->busy);
}

/* Take new connections into free slots; the others wait in tcp's queue. */
static void accept_all(struct http_server *s, plat_time_t now)
{
	for (size_t slot = 0; slot < HTTP_MAX_CONNS; slot++) {
		if (s->conns[slot] != NULL)
			continue;
		struct tcp_conn *tc = tcp_accept(s->tcp);
		if (tc == NULL)
			return;
		struct http_conn *c = malloc(sizeof *c);
		if (c == NULL) {
			tcp_abort(tc);
			continue;
		}
		memset(c, 0, offsetof(struct http_conn, head));
		c->tc = tc;
		c->last = now;
		s->conns[slot] = c;
	}
}

void http_server_poll(struct http_server *s, plat_time_t now)
{
	accept_all(s, now);
	for (size_t i = 0; i < HTTP_MAX_CONNS; i++)
		if (s->conns[i] != NULL)
			serve(s, i, now);
}
