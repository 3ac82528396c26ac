/*
 * tcp.c: the instance, the connection table, the accept queue and the calls
 * of the application.
 */
#include <stdlib.h>

#include "tcp_int.h"

/* ---- rings ---- */

size_t tcp_ring_write(struct tcp_ring *r, const void *src, size_t n)
{
	size_t room = TCP_RING_SIZE - r->len;
	if (n > room)
		n = room;
	size_t tail = (r->head + r->len) & (TCP_RING_SIZE - 1);
	size_t first = TCP_RING_SIZE - tail;
	if (first > n)
		first = n;
	memcpy(r->buf + tail, src, first);
	memcpy(r->buf, (const uint8_t *)src + first, n - first);
	r->len += (uint32_t)n;
	return n;
}

void tcp_ring_peek(const struct tcp_ring *r, size_t off, void *dst, size_t n)
{
	size_t at = (r->head + off) & (TCP_RING_SIZE - 1);
	size_t first = TCP_RING_SIZE - at;
	if (first > n)
		first = n;
	memcpy(dst, r->buf + at, first);
	memcpy((uint8_t *)dst + first, r->buf, n - first);
}

void tcp_ring_drop(struct tcp_ring *r, size_t n)
{
	r->head = (uint32_t)((r->head + n) & (TCP_RING_SIZE - 1));
	r->len -= (uint32_t)n;
}

/* ---- the instance ---- */

struct tcp *tcp_new(struct ipv4 *ip)
{
	struct tcp *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ip = ip;
	t->addr = ipv4_config(ip)->addr;
	ipv4_register(ip, IPPROTO_TCP_, tcp_input, t);
	return t;
}

int tcp_listen(struct tcp *t, uint16_t port)
{
	if (tcp_listening(t, port))
		return 0;
	if (t->nlisten == TCP_MAX_LISTEN)
		return -1;
	t->listen[t->nlisten++] = port;
	return 0;
}

bool tcp_listening(const struct tcp *t, uint16_t port)
{
	for (int i = 0; i < t->nlisten; i++)
		if (t->listen[i] == port)
			return true;
	return false;
}

size_t tcp_conn_count(const struct tcp *t)
{
	return (size_t)t->nconns;
}

/* ---- the connection table ---- */

static unsigned hash_of(uint32_t raddr, uint16_t rport, uint16_t lport)
{
	uint32_t h = raddr * 0x9e3779b1u ^ ((uint32_t)rport << 16 | lport) * 0x85ebca6bu;
	return (h ^ h >> 16) & (TCP_HASH_SIZE - 1);
}

struct tcp_conn *tcp_conn_find(struct tcp *t, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	struct tcp_conn *c = t->hash[hash_of(raddr, rport, lport)];
	while (c && !(c->raddr == raddr && c->rport == rport && c->lport == lport))
		c = c->hnext;
	return c;
}

/* A 64-bit mix (splitmix64's finalizer). */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ x >> 31;
}

/*
 * RFC 6528: a clock ticking every 4 us plus a keyed hash of the
 * connection's addresses, so that sequence numbers of successive
 * connections between the same ends grow and others cannot guess them.
 */
static uint32_t initial_seq(struct tcp *t, const struct tcp_seg *s)
{
	if (t->isn_fixed)
		return t->isn_next;
	if (!t->secret)
		t->secret = mix64(t->now ^ (uint64_t)(uintptr_t)t ^ 0x7463702d73656564ull) | 1;
	uint64_t h = mix64(t->secret ^ ((uint64_t)s->src << 32 | s->dst));
	h = mix64(h ^ ((uint64_t)s->sport << 16 | s->dport));
	return (uint32_t)(t->now / 4000) + (uint32_t)h;
}

struct tcp_conn *tcp_conn_new(struct tcp *t, const struct tcp_seg *s)
{
	if (t->nconns >= TCP_MAX_CONNS || t->npending >= TCP_MAX_PENDING)
		return NULL;
	struct tcp_conn *c = malloc(sizeof(*c));
	uint8_t *bufs = malloc(TCP_SNDBUF + TCP_RCVBUF); /* untouched until used */
	if (!c || !bufs) {
		free(c);
		free(bufs);
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->snd.buf = bufs;
	c->rcv.buf = bufs + TCP_SNDBUF;
	c->state = TCPS_SYN_RECEIVED;
	c->raddr = s->src;
	c->rport = s->sport;
	c->lport = s->dport;
	c->iss = initial_seq(t, s);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->mss = s->mss ? s->mss : TCP_DEFAULT_MSS;
	if (c->mss > TCP_MSS)
		c->mss = TCP_MSS;
	if (c->mss < 64)
		c->mss = 64;
	c->cwnd = TCP_INITIAL_CWND;
	c->ssthresh = UINT32_MAX;
	c->rto = TCP_RTO_INITIAL;
	c->rtt_time = t->now; /* the SYN-ACK's: the first RTT sample if it is not resent */

	unsigned h = hash_of(c->raddr, c->rport, c->lport);
	c->hnext = t->hash[h];
	t->hash[h] = c;
	c->next = t->all;
	if (t->all)
		t->all->prev = c;
	t->all = c;
	t->nconns++;
	t->npending++;
	return c;
}

static void unqueue(struct tcp_conn *c)
{
	struct tcp *t = c->t;
	struct tcp_conn **pp = &t->qhead, *prev = NULL;
	while (*pp != c) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	*pp = c->qnext;
	if (t->qtail == c)
		t->qtail = prev;
	c->queued = false;
}

void tcp_conn_free(struct tcp_conn *c)
{
	struct tcp *t = c->t;
	if (c->state == TCPS_SYN_RECEIVED || c->queued)
		t->npending--;
	if (c->queued)
		unqueue(c);
	struct tcp_conn **pp = &t->hash[hash_of(c->raddr, c->rport, c->lport)];
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	tcp_set_flush(c, false);
	t->nconns--;
	free(c->snd.buf);
	free(c);
}

void tcp_conn_drop(struct tcp_conn *c)
{
	if (!c->owned) {
		tcp_conn_free(c);
		return;
	}
	c->state = TCPS_CLOSED;
	c->reset = true;
	c->rexmit_at = c->ack_at = c->expire_at = 0;
	tcp_set_flush(c, false);
}

void tcp_enqueue(struct tcp_conn *c)
{
	struct tcp *t = c->t;
	c->qnext = NULL;
	if (t->qtail)
		t->qtail->qnext = c;
	else
		t->qhead = c;
	t->qtail = c;
	c->queued = true;
}

void tcp_set_flush(struct tcp_conn *c, bool on)
{
	if (c->want_flush != on)
		c->t->nflush += on ? 1 : -1;
	c->want_flush = on;
}

/* ---- the application's calls ---- */

struct tcp_conn *tcp_accept(struct tcp *t)
{
	struct tcp_conn *c = t->qhead;
	if (!c)
		return NULL;
	t->qhead = c->qnext;
	if (!t->qhead)
		t->qtail = NULL;
	c->queued = false;
	c->owned = true;
	t->npending--;
	return c;
}

tcp_ssize_t tcp_read(struct tcp_conn *c, void *buf, size_t len)
{
	if (c->reset)
		return -1;
	if (c->rcv.len == 0)
		return c->peer_fin ? 0 : TCP_AGAIN;
	if (len == 0)
		return TCP_AGAIN; /* 0 would mean the end */
	if (len > c->rcv.len)
		len = c->rcv.len;
	tcp_ring_peek(&c->rcv, 0, buf, len);
	tcp_ring_drop(&c->rcv, len);
	/*
	 * Tell the peer about the room we made when the window it knows is
	 * getting small and ours grew by two segments (RFC 1122 4.2.3.3, the
	 * receiver's side of silly window avoidance).
	 */
	uint32_t known = c->rcv_adv - c->rcv_nxt;
	if (!c->peer_fin && known < TCP_RCVBUF / 2 && tcp_rcv_window(c) >= known + 2u * c->mss)
		tcp_send_ack(c);
	return (tcp_ssize_t)len;
}

static bool can_send(const struct tcp_conn *c)
{
	return !c->reset && (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT);
}

tcp_ssize_t tcp_write(struct tcp_conn *c, const void *buf, size_t len)
{
	if (!can_send(c))
		return -1;
	if (len == 0)
		return 0;
	size_t n = tcp_ring_write(&c->snd, buf, len);
	if (n == 0)
		return TCP_AGAIN;
	tcp_output(c, false);
	return (tcp_ssize_t)n;
}

tcp_ssize_t tcp_writev(struct tcp_conn *c, const struct tcp_iov *iov, int n)
{
	if (!can_send(c) || n < 0)
		return -1;
	size_t total = 0;
	bool any = false;
	for (int i = 0; i < n; i++) {
		if (iov[i].len == 0)
			continue;
		any = true;
		size_t k = tcp_ring_write(&c->snd, iov[i].base, iov[i].len);
		total += k;
		if (k < iov[i].len)
			break;
	}
	if (total == 0)
		return any ? TCP_AGAIN : 0;
	tcp_output(c, false);
	return (tcp_ssize_t)total;
}

void tcp_peer(const struct tcp_conn *c, uint32_t *ip, uint16_t *port)
{
	if (ip)
		*ip = c->raddr;
	if (port)
		*port = c->rport;
}

size_t tcp_send_space(const struct tcp_conn *c)
{
	if (!can_send(c))
		return 0;
	return TCP_SNDBUF - c->snd.len;
}

void tcp_close(struct tcp_conn *c)
{
	c->owned = false;
	c->rcv.head = c->rcv.len = 0; /* nobody will read it */
	switch (c->state) {
	case TCPS_ESTABLISHED:
		c->state = TCPS_FIN_WAIT_1;
		break;
	case TCPS_CLOSE_WAIT:
		c->state = TCPS_LAST_ACK;
		break;
	default: /* CLOSED: reset or timed out */
		tcp_conn_free(c);
		return;
	}
	c->fin_queued = true;
	c->fin_seq = c->snd_una + c->snd.len;
	tcp_output(c, true);
}

void tcp_abort(struct tcp_conn *c)
{
	if (!c->reset)
		tcp_send_rst(c);
	c->owned = false;
	tcp_conn_free(c);
}

/* ---- timers ---- */

static void tick_conn(struct tcp_conn *c, plat_time_t now)
{
	if (c->expire_at && now >= c->expire_at) {
		tcp_conn_free(c);
		return;
	}
	if (c->rexmit_at && now >= c->rexmit_at) {
		tcp_rexmit_timeout(c); /* may free c */
		return;
	}
	if (c->want_flush) {
		tcp_set_flush(c, false);
		tcp_output(c, true);
	}
	if (c->ack_at && now >= c->ack_at)
		tcp_send_ack(c);
}

void tcp_tick(struct tcp *t, plat_time_t now)
{
	if (now > t->now)
		t->now = now;
	struct tcp_conn *next;
	for (struct tcp_conn *c = t->all; c; c = next) {
		next = c->next;
		tick_conn(c, t->now);
	}
}

plat_time_t tcp_next_deadline(const struct tcp *t)
{
	if (t->nflush)
		return t->now;
	plat_time_t d = UINT64_MAX;
	for (const struct tcp_conn *c = t->all; c; c = c->next) {
		if (c->rexmit_at && c->rexmit_at < d)
			d = c->rexmit_at;
		if (c->ack_at && c->ack_at < d)
			d = c->ack_at;
		if (c->expire_at && c->expire_at < d)
			d = c->expire_at;
	}
	return d;
}
