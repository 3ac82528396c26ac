/*
 * The server loop against a fake tcp: the tcp_* functions of the contract
 * over in-memory buffers.  The test plays the client: it puts bytes in a
 * connection's input, polls the server, reads what was written and
 * "acknowledges" it to free send space.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "test.h"
#include "../http.h"

/* ---- the fake tcp ---- */

#define FAKE_SNDBUF 65536
#define FAKE_MAX 128

struct tcp_conn {
	char in[1 << 16]; /* client to server */
	size_t in_len, in_off;
	bool peer_fin, reset;
	uint8_t *out; /* everything the server wrote */
	size_t out_len, out_cap;
	size_t acked; /* bytes of out the client acknowledged */
	size_t seen; /* bytes of out the test has looked at */
	int closed, aborted; /* calls */
	int misuse; /* calls after close or abort */
	int overruns; /* writes beyond the send space */
	int writes;
};

struct tcp {
	bool listening;
	uint16_t port;
	struct tcp_conn *queue[FAKE_MAX];
	size_t queued, next;
};

static bool released(const struct tcp_conn *c)
{
	return c->closed + c->aborted > 0;
}

static void use(const struct tcp_conn *c)
{
	if (released(c))
		((struct tcp_conn *)c)->misuse++;
}

int tcp_listen(struct tcp *t, uint16_t port)
{
	t->listening = true;
	t->port = port;
	return 0;
}

struct tcp_conn *tcp_accept(struct tcp *t)
{
	return t->next < t->queued ? t->queue[t->next++] : NULL;
}

tcp_ssize_t tcp_read(struct tcp_conn *c, void *buf, size_t len)
{
	use(c);
	if (c->reset)
		return -1;
	size_t n = c->in_len - c->in_off;
	if (n == 0)
		return c->peer_fin ? 0 : TCP_AGAIN;
	if (n > len)
		n = len;
	memcpy(buf, c->in + c->in_off, n);
	c->in_off += n;
	return (tcp_ssize_t)n;
}

size_t tcp_send_space(const struct tcp_conn *c)
{
	use(c);
	return c->reset ? 0 : FAKE_SNDBUF - (c->out_len - c->acked);
}

static void out_append(struct tcp_conn *c, const void *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		c->out_cap = (c->out_len + n) * 2;
		c->out = realloc(c->out, c->out_cap);
		if (c->out == NULL)
			abort();
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

tcp_ssize_t tcp_write(struct tcp_conn *c, const void *buf, size_t len)
{
	use(c);
	c->writes++;
	if (c->reset)
		return -1;
	if (len == 0)
		return 0;
	size_t space = tcp_send_space(c);
	if (space == 0)
		return TCP_AGAIN;
	if (len > space)
		c->overruns++;
	size_t k = len < space ? len : space;
	out_append(c, buf, k);
	return (tcp_ssize_t)k;
}

void tcp_close(struct tcp_conn *c)
{
	use(c);
	c->closed++;
}

void tcp_abort(struct tcp_conn *c)
{
	use(c);
	c->aborted++;
}

/* ---- the client side ---- */

static struct tcp fake;

static struct tcp_conn *connect_(void)
{
	struct tcp_conn *c = calloc(1, sizeof *c);
	if (c == NULL || fake.queued == FAKE_MAX)
		abort();
	fake.queue[fake.queued++] = c;
	return c;
}

static void send_bytes(struct tcp_conn *c, const void *p, size_t n)
{
	if (c->in_len + n > sizeof c->in)
		abort();
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
}

static void send_str(struct tcp_conn *c, const char *s)
{
	send_bytes(c, s, strlen(s));
}

static void ack(struct tcp_conn *c)
{
	c->acked = c->out_len;
}

static void conn_free(struct tcp_conn *c)
{
	free(c->out);
	free(c);
}

struct response {
	int status;
	char head[1024]; /* NUL-terminated */
	long length; /* Content-Length, -1 when absent */
	const uint8_t *body;
	size_t body_len;
};

/*
 * Take the next response from what the server wrote; the body is expected
 * unless head_only.  0, or -1 when it is not all there yet.
 */
static int next_response(struct tcp_conn *c, bool head_only, struct response *r)
{
	const char *p = (const char *)c->out + c->seen;
	size_t avail = c->out_len - c->seen;
	size_t hl = 0;
	for (size_t i = 0; i + 4 <= avail; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
			hl = i + 4;
			break;
		}
	if (hl == 0 || hl >= sizeof r->head)
		return -1;
	memcpy(r->head, p, hl);
	r->head[hl] = '\0';
	r->status = strncmp(r->head, "HTTP/1.1 ", 9) == 0 ? (int)strtol(r->head + 9, NULL, 10) : 0;
	const char *cl = strstr(r->head, "\r\nContent-Length: ");
	r->length = cl ? strtol(cl + 18, NULL, 10) : -1;
	size_t blen = head_only || r->length < 0 ? 0 : (size_t)r->length;
	if (avail < hl + blen)
		return -1;
	r->body = (const uint8_t *)p + hl;
	r->body_len = blen;
	c->seen += hl + blen;
	return 0;
}

static bool has_header(const struct response *r, const char *line)
{
	char want[256];
	snprintf(want, sizeof want, "\r\n%s\r\n", line);
	return strstr(r->head, want) != NULL;
}

/* ---- the site ---- */

#define BIG (1u << 20)
static uint8_t big[BIG];
static const char index_html[] = "<!doctype html><title>t</title><p>hello\n";
static const char style_css[] = "body { color: black }\n";

static int lookup(void *ctx, const char *path, const uint8_t **data, size_t *len)
{
	int *calls = ctx;
	(*calls)++;
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		*data = (const uint8_t *)index_html;
		*len = strlen(index_html);
	} else if (strcmp(path, "/style.css") == 0) {
		*data = (const uint8_t *)style_css;
		*len = strlen(style_css);
	} else if (strcmp(path, "/big.bin") == 0) {
		*data = big;
		*len = BIG;
	} else if (strcmp(path, "/empty") == 0) {
		*data = (const uint8_t *)"";
		*len = 0;
	} else {
		return -1;
	}
	return 0;
}

static struct http_server *srv;
static int lookups;
static plat_time_t now = 1000;

static void poll_(void)
{
	http_server_poll(srv, now);
}

/* Poll and acknowledge until c's output stops growing or n rounds pass. */
static void pump(struct tcp_conn *c, int n)
{
	for (int i = 0; i < n; i++) {
		size_t before = c->out_len;
		poll_();
		ack(c);
		if (c->out_len == before && i > 0)
			break;
	}
}

/* ---- the tests ---- */

static void test_get(void)
{
	struct tcp_conn *c = connect_();
	send_str(c, "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n");
	poll_();
	struct response r;
	CHECK(next_response(c, false, &r) == 0);
	CHECK(r.status == 200);
	CHECK(has_header(&r, "Content-Type: text/html"));
	CHECK(has_header(&r, "Server: stitch-http"));
	CHECK(r.length == (long)strlen(index_html));
	CHECK(r.body_len == strlen(index_html) && memcmp(r.body, index_html, r.body_len) == 0);
	CHECK(strstr(r.head, "Connection:") == NULL);
	CHECK(c->closed == 0 && c->aborted == 0);
	/* the head and a small body leave in one write */
	CHECK(c->writes == 1);

	/* the same connection serves the next request */
	send_str(c, "GET /style.css HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n");
	poll_();
	CHECK(next_response(c, false, &r) == 0);
	CHECK(r.status == 200 && has_header(&r, "Content-Type: text/css"));
	CHECK(r.body_len == strlen(style_css) && memcmp(r.body, style_css, r.body_len) == 0);

	/* the client closes: so does the server */
	c->peer_fin = true;
	poll_();
	CHECK(c->closed == 1 && c->aborted == 0);
	poll_();
	CHECK(c->misuse == 0);
}

static void test_head_and_errors(void)
{
	struct tcp_conn *c = connect_();
	struct response r;
	send_str(c, "HEAD /big.bin HTTP/1.1\r\n\r\n");
	poll_();
	CHECK(next_response(c, true, &r) == 0);
	CHECK(r.status == 200 && r.length == BIG);
	CHECK(has_header(&r, "Content-Type: application/octet-stream"));
	CHECK(c->out_len == c->seen); /* no body */

	send_str(c, "GET /missing.html HTTP/1.1\r\n\r\n");
	poll_();
	CHECK(next_response(c, false, &r) == 0);
	CHECK(r.status == 404 && r.body_len == 10 && memcmp(r.body, "Not Found\n", 10) == 0);

	send_str(c, "HEAD /missing.html HTTP/1.1\r\n\r\n");
	poll_();
	CHECK(next_response(c, true, &r) == 0);
	CHECK(r.status == 404 && r.length == 10 && c->out_len == c->seen);

	/* another method: 405 with Allow, and its body is skipped */
	send_str(c, "POST /index.html HTTP/1.1\r\nContent-Length: 11\r\n\r\nGET / HTTP/");
	poll_();
	CHECK(next_response(c, false, &r) == 0);
	CHECK(r.status == 405 && has_header(&r, "Allow: GET, HEAD"));
	CHECK(c->closed == 0);

	send_str(c, "GET /empty HTTP/1.1\r\n\r\n");
	poll_();
	CHECK(next_response(c, false, &r) == 0);
	CHECK(r.status == 200 && r.length == 0);
	CHECK(c->out_len == c->seen);
	CHECK(c->closed == 0 && c->aborted == 0);
}

/* Each malformed request gets a 400 (or 505) and the connection is closed. */
static void test_malformed(void)
{
	static const struct {
		const char *req;
		int status;
	} bad[] = {
	    {"GARBAGE\r\n\r\n", 400},
	    {"GET /\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400},
	    {"GET / HTTP/x\r\n\r\n", 400},
	    {"GET / HTTP/3.0\r\n\r\n", 505},
	    {"GET /%zz HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", 400},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tcp_conn *c = connect_();
		struct response r;
		send_str(c, bad[i].req);
		poll_();
		CHECK_MSG(next_response(c, false, &r) == 0 && r.status == bad[i].status,
		          "request %zu: status %d", i, r.status);
		CHECK(has_header(&r, "Connection: close"));
		CHECK_MSG(c->out_len == c->seen, "request %zu: one response only", i);
		CHECK(c->closed == 1);
	}

	/* a head longer than 8 KiB, arriving in pieces */
	struct tcp_conn *c = connect_();
	send_str(c, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 200; i++) {
		send_str(c, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
		poll_();
		if (c->out_len > 0)
			break;
	}
	struct response r;
	CHECK(next_response(c, false, &r) == 0 && r.status == 400);
	CHECK(c->closed == 1 && c->in_off <= HTTP_MAX_HEADER + 64);
}

static void test_versions(void)
{
	struct tcp_conn *c = connect_();
	struct response r;
	send_str(c, "GET / HTTP/1.0\r\n\r\n");
	poll_();
	CHECK(next_response(c, false, &r) == 0 && r.status == 200);
	CHECK(has_header(&r, "Connection: close"));
	CHECK(c->closed == 1);

	c = connect_();
	send_str(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	poll_();
	CHECK(next_response(c, false, &r) == 0 && r.status == 200);
	CHECK(has_header(&r, "Connection: keep-alive"));
	CHECK(c->closed == 0);
	send_str(c, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	poll_();
	CHECK(next_response(c, false, &r) == 0 && r.status == 200);
	CHECK(has_header(&r, "Connection: close"));
	CHECK(c->closed == 1);
}

static void test_pipelined(void)
{
	struct tcp_conn *c = connect_();
	send_str(c, "GET /style.css HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"
	            "HEAD / HTTP/1.1\r\n\r\nGET /big.bin HTTP/1.1\r\n\r\n"
	            "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /style.css HTTP/1.1\r\n\r\n");
	pump(c, 100);
	struct response r;
	CHECK(next_response(c, false, &r) == 0 && r.status == 200 &&
	      r.body_len == strlen(style_css));
	CHECK(next_response(c, false, &r) == 0 && r.status == 404);
	CHECK(next_response(c, true, &r) == 0 && r.status == 200 &&
	      r.length == (long)strlen(index_html));
	CHECK(next_response(c, false, &r) == 0 && r.status == 200 && r.body_len == BIG &&
	      memcmp(r.body, big, BIG) == 0);
	CHECK(next_response(c, false, &r) == 0 && r.status == 200 &&
	      memcmp(r.body, index_html, r.body_len) == 0);
	/* nothing after the response that closed */
	CHECK(c->out_len == c->seen);
	CHECK(c->closed == 1 && c->overruns == 0);
}

/* One byte per poll: the request is assembled across reads. */
static void test_trickle(void)
{
	struct tcp_conn *c = connect_();
	const char *req = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
	for (size_t i = 0; req[i] != '\0'; i++) {
		CHECK(c->out_len == 0);
		send_bytes(c, req + i, 1);
		poll_();
	}
	struct response r;
	CHECK(next_response(c, false, &r) == 0 && r.status == 200);
}

/* 1 MiB through a 64 KiB send buffer: never more than the space, streamed over polls. */
static void test_stream(void)
{
	struct tcp_conn *c = connect_();
	send_str(c, "GET /big.bin HTTP/1.1\r\n\r\n");
	int polls = 0;
	size_t peak = 0;
	while (polls < 1000) {
		poll_();
		polls++;
		size_t inflight = c->out_len - c->acked;
		peak = inflight > peak ? inflight : peak;
		if (inflight == 0)
			break;
		/* the client acknowledges half of what is in flight each time */
		c->acked += (inflight + 1) / 2;
	}
	struct response r;
	CHECK(next_response(c, false, &r) == 0);
	CHECK(r.status == 200 && r.body_len == BIG && memcmp(r.body, big, BIG) == 0);
	CHECK(peak == FAKE_SNDBUF);
	CHECK_MSG(polls > 16, "polls %d", polls);
	CHECK(c->overruns == 0 && c->closed == 0);

	/* the send buffer stays full: nothing is written, nothing breaks */
	send_str(c, "GET /big.bin HTTP/1.1\r\n\r\n");
	poll_();
	size_t len = c->out_len;
	poll_();
	poll_();
	CHECK(c->out_len == len && c->overruns == 0);
	/* the peer resets it in the middle of the body */
	c->reset = true;
	poll_();
	CHECK(c->aborted == 1 && c->misuse == 0);
}

/* HTTP_MAX_CONNS connections at once all complete; one more waits its turn. */
static void test_many(void)
{
	struct tcp_conn *cs[HTTP_MAX_CONNS + 1];
	/* the earlier tests' clients hang up */
	for (size_t i = 0; i < fake.queued; i++)
		fake.queue[i]->peer_fin = true;
	poll_();
	for (int i = 0; i <= HTTP_MAX_CONNS; i++) {
		cs[i] = connect_();
		send_str(cs[i], "GET /big.bin HTTP/1.1\r\n\r\n");
	}
	for (int round = 0; round < 100; round++) {
		poll_();
		for (int i = 0; i < HTTP_MAX_CONNS; i++)
			ack(cs[i]);
	}
	int ok = 0;
	for (int i = 0; i < HTTP_MAX_CONNS; i++) {
		struct response r;
		if (next_response(cs[i], false, &r) == 0 && r.status == 200 && r.body_len == BIG &&
		    memcmp(r.body, big, BIG) == 0)
			ok++;
		cs[i]->peer_fin = true;
	}
	CHECK_MSG(ok == HTTP_MAX_CONNS, "%d complete", ok);
	struct tcp_conn *last = cs[HTTP_MAX_CONNS];
	CHECK(last->aborted == 0 && last->out_len == 0 && last->in_off == 0);
	CHECK(fake.next == fake.queued - 1);
	/* the others hang up: the slots are free again */
	poll_();
	for (int i = 0; i < HTTP_MAX_CONNS; i++)
		CHECK(cs[i]->closed == 1);
	pump(last, 100);
	struct response r;
	CHECK(next_response(last, false, &r) == 0 && r.status == 200 && r.body_len == BIG);
	CHECK(fake.next == fake.queued);
}

static void test_idle_and_reset(void)
{
	struct tcp_conn *idle = connect_();
	struct tcp_conn *reset = connect_();
	poll_();
	reset->reset = true;
	poll_();
	CHECK(reset->aborted == 1);
	CHECK(idle->closed == 0);
	now += HTTP_IDLE_NS / 2;
	poll_();
	CHECK(idle->closed == 0);
	now += HTTP_IDLE_NS;
	poll_();
	CHECK(idle->closed == 1 && idle->aborted == 0);
}

int main(void)
{
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < BIG; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		big[i] = (uint8_t)x;
	}
	srv = http_server_new(&fake, 80, lookup, &lookups);
	CHECK(srv != NULL && fake.listening && fake.port == 80);

	test_get();
	test_head_and_errors();
	test_malformed();
	test_versions();
	test_pipelined();
	test_trickle();
	test_stream();
	test_many();
	test_idle_and_reset();

	http_server_free(srv);
	int misuse = 0;
	for (size_t i = 0; i < fake.queued; i++) {
		misuse += fake.queue[i]->misuse;
		conn_free(fake.queue[i]);
	}
	CHECK(misuse == 0);
	CHECK(lookups > 0);
	return test_summary("test_server");
}
