/* wire.c: the fake ipv4 of the unit tests (see wire.h). */
#include <stdlib.h>

#include "check.h"
#include "wire.h"

struct ipv4 {
	struct ipv4_config cfg;
	ipv4_handler fn;
	void *ctx;
};

struct packet {
	uint32_t dst;
	size_t len;
	uint8_t data[TCP_HLEN + 40 + TCP_MSS];
};

static struct ipv4 the_ip;
static struct packet *queue;
static size_t q_head, q_len;
static unsigned bad;

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t ipv4_checksum(const void *data, size_t len)
{
	return fold(sum16(data, len, 0));
}

uint16_t ipv4_pseudo_checksum(uint32_t src, uint32_t dst, uint8_t proto, const void *data,
                              size_t len)
{
	uint32_t sum =
	    (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + (uint32_t)len;
	return fold(sum16(data, len, sum));
}

struct ipv4 *ipv4_new(const struct ipv4_config *cfg)
{
	the_ip.cfg = *cfg;
	return &the_ip;
}

void ipv4_register(struct ipv4 *ip, uint8_t proto, ipv4_handler fn, void *ctx)
{
	if (proto == IPPROTO_TCP_) {
		ip->fn = fn;
		ip->ctx = ctx;
	}
}

const struct ipv4_config *ipv4_config(const struct ipv4 *ip)
{
	return &ip->cfg;
}

int ipv4_send(struct ipv4 *ip, uint32_t dst, uint8_t proto, const void *payload, size_t len)
{
	if (proto != IPPROTO_TCP_ || len > sizeof(queue->data) ||
	    ipv4_pseudo_checksum(ip->cfg.addr, dst, proto, payload, len) != 0) {
		bad++;
		return -1;
	}
	if (q_len == WIRE_QUEUE)
		return -1;
	struct packet *p = &queue[(q_head + q_len++) % WIRE_QUEUE];
	p->dst = dst;
	p->len = len;
	memcpy(p->data, payload, len);
	return 0;
}

void ipv4_poll(struct ipv4 *ip, plat_time_t now)
{
	(void)ip;
	(void)now;
}

int ipv4_parse_cmdline(const char *cmdline, struct ipv4_config *cfg)
{
	(void)cmdline;
	(void)cfg;
	return -1;
}

struct tcp *wire_init(void)
{
	if (!queue)
		queue = malloc(WIRE_QUEUE * sizeof(*queue));
	q_head = q_len = 0;
	bad = 0;
	struct ipv4_config cfg = {SERVER_IP, 0xffffff00u, 0};
	struct tcp *t = tcp_new(ipv4_new(&cfg));
	CHECK(t != NULL && the_ip.fn != NULL);
	return t;
}

void wire_done(struct tcp *t)
{
	while (t->all) {
		t->all->owned = false;
		tcp_conn_free(t->all);
	}
	free(t);
	q_head = q_len = 0;
}

size_t wire_pending(void)
{
	return q_len;
}

void wire_clear(void)
{
	q_head = q_len = 0;
}

unsigned wire_bad(void)
{
	return bad;
}

bool wire_pop(struct seg *s)
{
	if (!q_len)
		return false;
	const struct packet *p = &queue[q_head];
	q_head = (q_head + 1) % WIRE_QUEUE;
	q_len--;
	const uint8_t *d = p->data;
	size_t off = (size_t)(d[12] >> 4) * 4;
	s->src = SERVER_IP;
	s->dst = p->dst;
	s->sport = get16(d);
	s->dport = get16(d + 2);
	s->seq = get32(d + 4);
	s->ack = get32(d + 8);
	s->flags = d[13];
	s->wnd = get16(d + 14);
	s->mss = 0;
	if (off >= TCP_HLEN + 4 && d[20] == 2 && d[21] == 4)
		s->mss = get16(d + 22);
	s->len = p->len - off;
	memcpy(s->data, d + off, s->len);
	return true;
}

static size_t build(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                    uint8_t flags, uint16_t wnd, const void *data, size_t len, uint16_t mss)
{
	size_t hl = mss ? 24 : 20;
	memset(b, 0, hl);
	put16(b, sport);
	put16(b + 2, dport);
	put32(b + 4, seq);
	put32(b + 8, ack);
	b[12] = (uint8_t)(hl / 4 << 4);
	b[13] = flags;
	put16(b + 14, wnd);
	if (mss) {
		b[20] = 2;
		b[21] = 4;
		put16(b + 22, mss);
	}
	if (len)
		memcpy(b + hl, data, len);
	put16(b + 16, ipv4_pseudo_checksum(CLIENT_IP, SERVER_IP, IPPROTO_TCP_, b, hl + len));
	return hl + len;
}

void wire_send(struct tcp *t, plat_time_t now, uint16_t sport, uint16_t dport, uint32_t seq,
               uint32_t ack, uint8_t flags, uint16_t wnd, const void *data, size_t len,
               uint16_t mss)
{
	(void)t;
	uint8_t b[24 + 2048];
	size_t n = build(b, sport, dport, seq, ack, flags, wnd, data, len, mss);
	the_ip.fn(the_ip.ctx, CLIENT_IP, SERVER_IP, b, n, now);
}

void wire_send_corrupt(struct tcp *t, plat_time_t now, uint16_t sport, uint16_t dport, uint32_t seq,
                       uint32_t ack, uint8_t flags, const void *data, size_t len)
{
	(void)t;
	uint8_t b[24 + 2048];
	size_t n = build(b, sport, dport, seq, ack, flags, 65535, data, len, 0);
	b[n - 1] ^= 0x10;
	the_ip.fn(the_ip.ctx, CLIENT_IP, SERVER_IP, b, n, now);
}

int client_connect(struct tcp *t, struct client *cl, plat_time_t now, uint16_t port, uint16_t sport,
                   uint32_t iss, uint16_t mss)
{
	struct seg s;
	cl->port = port;
	cl->sport = sport;
	cl->wnd = 65535;
	wire_send(t, now, sport, port, iss, 0, TH_SYN, cl->wnd, NULL, 0, mss);
	if (!wire_pop(&s) || s.flags != (TH_SYN | TH_ACK) || s.ack != iss + 1 || s.mss != TCP_MSS ||
	    s.sport != port || s.dport != sport || s.dst != CLIENT_IP)
		return -1;
	cl->snd_nxt = iss + 1;
	cl->server_iss = s.seq;
	cl->rcv_nxt = s.seq + 1;
	client_send(t, cl, now, TH_ACK, NULL, 0);
	return 0;
}

void client_send(struct tcp *t, struct client *cl, plat_time_t now, uint8_t flags, const void *data,
                 size_t len)
{
	wire_send(t, now, cl->sport, cl->port, cl->snd_nxt, cl->rcv_nxt, flags, cl->wnd, data, len,
	          0);
	cl->snd_nxt += (uint32_t)len + !!(flags & TH_FIN) + !!(flags & TH_SYN);
}

uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}
