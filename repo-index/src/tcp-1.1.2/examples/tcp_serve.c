/*
 * tcp_serve.c: a small server on the whole stack, for trying tcp by hand.
 *
 * On port 80: "GET /big" answers 1 MiB (byte i is i * 7 + 3, mod 256),
 * any other GET a short page, each with Content-Length, then closes; a
 * connection that starts with "ECHO\n" gets everything it sends back until
 * it closes.
 *
 *   cc -o tcp_serve tcp_serve.c $(pkg-config --cflags --static --libs tcp)
 *   ip netns exec NS ./tcp_serve --net=tap0 --ipv4=10.0.0.2/24
 *   ip netns exec NS curl -o /dev/null http://10.0.0.2/big
 */
#include <stdio.h>
#include <string.h>

#include "tcp.h"

#define MAX_SESSIONS 512
#define BIG (1u << 20)

struct session {
	struct tcp_conn *c;
	char req[1024];
	size_t rlen;
	bool echo;
	char head[128];
	size_t head_len, head_sent;
	const uint8_t *body;
	size_t body_len, body_sent;
	uint8_t buf[16384]; /* echo: read but not yet written */
	size_t blen;
};

static struct session sessions[MAX_SESSIONS];
static uint8_t big[BIG];
static const char small[] = "hello from tcp\n";

static void say(const char *s)
{
	plat_console_write(s, strlen(s));
}

static void respond(struct session *s)
{
	if (strncmp(s->req, "ECHO\n", 5) == 0) {
		s->echo = true;
		s->blen = s->rlen - 5;
		memcpy(s->buf, s->req + 5, s->blen);
		return;
	}
	bool is_big = strncmp(s->req, "GET /big ", 9) == 0;
	s->body = is_big ? big : (const uint8_t *)small;
	s->body_len = is_big ? BIG : sizeof(small) - 1;
	int n = snprintf(s->head, sizeof(s->head),
	                 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	                 s->body_len);
	s->head_len = (size_t)n;
}

/* Returns false when the session is over (its connection closed). */
static bool serve(struct session *s)
{
	tcp_ssize_t n = 0;
	if (s->echo) {
		while (s->blen < sizeof(s->buf) &&
		       (n = tcp_read(s->c, s->buf + s->blen, sizeof(s->buf) - s->blen)) > 0)
			s->blen += (size_t)n;
		if (s->blen && (n = tcp_write(s->c, s->buf, s->blen)) > 0) {
			memmove(s->buf, s->buf + n, s->blen - (size_t)n);
			s->blen -= (size_t)n;
		}
		n = tcp_read(s->c, s->buf + s->blen, 0);
		if (n == -1 || (n == 0 && s->blen == 0)) {
			tcp_close(s->c);
			return false;
		}
		return true;
	}
	if (!s->head_len) {
		n = tcp_read(s->c, s->req + s->rlen, sizeof(s->req) - 1 - s->rlen);
		if (n == -1 || n == 0) {
			tcp_close(s->c);
			return false;
		}
		if (n > 0) {
			s->rlen += (size_t)n;
			s->req[s->rlen] = 0;
		}
		if (strstr(s->req, "\r\n\r\n") ||
		    (s->rlen >= 5 && strncmp(s->req, "ECHO\n", 5) == 0))
			respond(s);
		if (s->echo)
			return serve(s);
		if (!s->head_len)
			return true;
	}
	while (s->head_sent < s->head_len &&
	       (n = tcp_write(s->c, s->head + s->head_sent, s->head_len - s->head_sent)) > 0)
		s->head_sent += (size_t)n;
	while (s->head_sent == s->head_len && s->body_sent < s->body_len &&
	       (n = tcp_write(s->c, s->body + s->body_sent, s->body_len - s->body_sent)) > 0)
		s->body_sent += (size_t)n;
	if (n == -1 || s->body_sent == s->body_len) {
		tcp_close(s->c);
		return false;
	}
	return true;
}

int plat_app_main(const struct plat_start_info *si)
{
	struct ipv4_config cfg;
	if (ipv4_parse_cmdline(si->cmdline, &cfg) < 0) {
		say("tcp_serve: expected --ipv4=A.B.C.D/N\n");
		return 2;
	}
	struct ipv4 *ip = ipv4_new(&cfg);
	struct tcp *t = ip ? tcp_new(ip) : NULL;
	if (!t || tcp_listen(t, 80) < 0) {
		say("tcp_serve: no network\n");
		return 1;
	}
	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 7 + 3);
	say("tcp_serve: listening on port 80\n");
	for (;;) {
		plat_time_t now = plat_clock_monotonic();
		plat_time_t deadline = tcp_next_deadline(t);
		if (deadline > now + 1000000000ull)
			deadline = now + 1000000000ull;
		plat_yield(deadline);
		now = plat_clock_monotonic();
		ipv4_poll(ip, now);
		tcp_tick(t, now);
		struct tcp_conn *c;
		while ((c = tcp_accept(t))) {
			size_t i = 0;
			while (i < MAX_SESSIONS && sessions[i].c)
				i++;
			if (i == MAX_SESSIONS) {
				tcp_abort(c);
				continue;
			}
			memset(&sessions[i], 0, sizeof(sessions[i]));
			sessions[i].c = c;
		}
		for (size_t i = 0; i < MAX_SESSIONS; i++)
			if (sessions[i].c && !serve(&sessions[i]))
				sessions[i].c = NULL;
	}
}
