/* ipv4.c: IPv4 input and output, the ARP wait queue, and ICMP echo. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ipv4.h"
#include "arp.h"
#include "ethernet.h"

#define IP_HLEN 20
#define IP_TTL 64
#define IP_DF 0x4000
#define IP_MF_OFFSET 0x3fff /* more-fragments flag and fragment offset */
#define IP_BROADCAST 0xffffffffu
#define QUEUE_LEN 16
#define QUEUE_TIMEOUT_NS 1000000000ull
#define ARP_TICK_NS 1000000000ull
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

/* A datagram, header included, waiting for ARP to resolve its next hop. */
struct queued {
	uint32_t hop;
	plat_time_t since;
	size_t len;
	uint8_t data[1500];
};

struct ipv4 {
	struct ipv4_config cfg;
	struct eth_if eth;
	struct arp arp;
	struct {
		ipv4_handler fn;
		void *ctx;
	} handlers[256];
	struct queued queue[QUEUE_LEN];
	uint8_t order[QUEUE_LEN]; /* queue slots in arrival order */
	size_t queued;
	uint16_t ident;
	plat_time_t next_tick;
	/* Larger than any frame the MTU allows, so that an oversized one shows as such. */
	uint8_t rx[2048];
	uint8_t icmp[1500];
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct ipv4 *ipv4_new(const struct ipv4_config *cfg)
{
	struct ipv4 *ip = calloc(1, sizeof(*ip));

	if (!ip)
		return NULL;
	if (eth_init(&ip->eth) < 0 || ip->eth.mtu < IP_HLEN + 8) {
		free(ip);
		return NULL;
	}
	ip->cfg = *cfg;
	arp_init(&ip->arp, &ip->eth, cfg->addr);
	return ip;
}

void ipv4_free(struct ipv4 *ip)
{
	free(ip);
}

void ipv4_register(struct ipv4 *ip, uint8_t proto, ipv4_handler fn, void *ctx)
{
	ip->handlers[proto].fn = fn;
	ip->handlers[proto].ctx = fn ? ctx : NULL;
}

const struct ipv4_config *ipv4_config(const struct ipv4 *ip)
{
	return &ip->cfg;
}

/* The subnet's broadcast address, or 0 when the subnet has none (/31, /32). */
static uint32_t subnet_broadcast(const struct ipv4_config *c)
{
	return ~c->netmask > 1 ? c->addr | ~c->netmask : 0;
}

/*
 * Where dst's datagrams go on the link: dst itself on our subnet, else the
 * gateway; IP_BROADCAST for broadcasts.  0 or -1 (no route).
 */
static int next_hop(const struct ipv4_config *c, uint32_t dst, uint32_t *hop)
{
	if (dst == 0 || dst == c->addr)
		return -1;
	if (dst == IP_BROADCAST || dst == subnet_broadcast(c))
		*hop = IP_BROADCAST;
	else if (((dst ^ c->addr) & c->netmask) == 0)
		*hop = dst;
	else if (c->gateway)
		*hop = c->gateway;
	else
		return -1;
	return 0;
}

/* Write the header and payload of a datagram to dst into d; its length. */
static size_t build(struct ipv4 *ip, uint8_t *d, uint32_t dst, uint8_t proto, const void *payload,
                    size_t len)
{
	d[0] = 0x45; /* version 4, no options */
	d[1] = 0;
	put16(d + 2, (uint16_t)(IP_HLEN + len));
	put16(d + 4, ip->ident++);
	/* Never fragmented: DF lets path MTU discovery work. */
	put16(d + 6, IP_DF);
	d[8] = IP_TTL;
	d[9] = proto;
	put16(d + 10, 0);
	put32(d + 12, ip->cfg.addr);
	put32(d + 16, dst);
	put16(d + 10, ipv4_checksum(d, IP_HLEN));
	if (payload != d + IP_HLEN)
		memcpy(d + IP_HLEN, payload, len);
	return IP_HLEN + len;
}

static int enqueue(struct ipv4 *ip, uint32_t hop, uint32_t dst, uint8_t proto, const void *payload,
                   size_t len, plat_time_t now)
{
	bool busy[QUEUE_LEN] = {false};
	size_t i = 0;
	struct queued *q;

	if (ip->queued == QUEUE_LEN)
		return -1;
	for (size_t k = 0; k < ip->queued; k++)
		busy[ip->order[k]] = true;
	while (busy[i])
		i++;
	q = &ip->queue[i];
	q->hop = hop;
	q->since = now;
	q->len = build(ip, q->data, dst, proto, payload, len);
	ip->order[ip->queued++] = (uint8_t)i;
	return 0;
}

/* Send what waits for a resolved hop, drop what waited too long; in arrival order. */
static void flush(struct ipv4 *ip, plat_time_t now)
{
	uint8_t mac[ETH_ALEN];

	for (size_t k = 0; k < ip->queued;) {
		struct queued *q = &ip->queue[ip->order[k]];

		if (now < q->since + QUEUE_TIMEOUT_NS &&
		    arp_resolve(&ip->arp, q->hop, mac, now) < 0) {
			k++;
			continue;
		}
		if (now < q->since + QUEUE_TIMEOUT_NS)
			eth_send(&ip->eth, mac, ETH_P_IPV4, q->data, q->len);
		memmove(ip->order + k, ip->order + k + 1, ip->queued - k - 1);
		ip->queued--;
	}
}

int ipv4_send(struct ipv4 *ip, uint32_t dst, uint8_t proto, const void *payload, size_t len)
{
	uint8_t *d = ip->eth.tx + ETH_HLEN, mac[ETH_ALEN];
	plat_time_t now = plat_clock_monotonic();
	uint32_t hop;

	if (len > ip->eth.mtu - IP_HLEN || next_hop(&ip->cfg, dst, &hop) < 0)
		return -1;
	if (hop == IP_BROADCAST)
		memcpy(mac, eth_broadcast, ETH_ALEN);
	/* Resolve before building: a request ARP sends goes through the same tx buffer. */
	else if (arp_resolve(&ip->arp, hop, mac, now) < 0)
		return enqueue(ip, hop, dst, proto, payload, len, now);
	/* Datagrams already waiting for this hop go first. */
	if (ip->queued)
		flush(ip, now);
	len = build(ip, d, dst, proto, payload, len);
	return eth_send(&ip->eth, mac, ETH_P_IPV4, d, len);
}

/* Answer an echo request (RFC 792) with the same identifier, sequence and data. */
static void icmp_input(struct ipv4 *ip, uint32_t src, const uint8_t *p, size_t len)
{
	uint8_t *r = ip->icmp;

	if (len < 8 || len > sizeof(ip->icmp) || p[0] != ICMP_ECHO_REQUEST || p[1] != 0)
		return;
	if (ipv4_checksum(p, len) != 0)
		return;
	memcpy(r, p, len);
	r[0] = ICMP_ECHO_REPLY;
	put16(r + 2, 0);
	put16(r + 2, ipv4_checksum(r, len));
	ipv4_send(ip, src, IPPROTO_ICMP_, r, len);
}

static bool martian_source(uint32_t src)
{
	/* 0.0.0.0/8, 127.0.0.0/8, multicast and reserved: no reply could reach them. */
	return (src >> 24) == 0 || (src >> 24) == 127 || src >= 0xe0000000u;
}

static void ip_input(struct ipv4 *ip, const uint8_t *p, size_t len, plat_time_t now)
{
	size_t hl, total;
	uint32_t src, dst;
	uint8_t proto;

	if (len < IP_HLEN || p[0] >> 4 != 4)
		return;
	hl = (size_t)(p[0] & 0x0f) * 4;
	total = get16(p + 2);
	/* total < len is ethernet padding; total > len is a truncated datagram. */
	if (hl < IP_HLEN || hl > total || total > len)
		return;
	if (ipv4_checksum(p, hl) != 0 || (get16(p + 6) & IP_MF_OFFSET) != 0)
		return;
	src = get32(p + 12);
	dst = get32(p + 16);
	if (dst != ip->cfg.addr || martian_source(src))
		return;
	proto = p[9];
	if (proto == IPPROTO_ICMP_)
		icmp_input(ip, src, p + hl, total - hl);
	if (ip->handlers[proto].fn)
		ip->handlers[proto].fn(ip->handlers[proto].ctx, src, dst, p + hl, total - hl, now);
}

static void frame_input(struct ipv4 *ip, const uint8_t *f, size_t len, plat_time_t now)
{
	const uint8_t *src, *payload;
	uint16_t type;
	size_t plen;

	if (eth_parse(&ip->eth, f, len, &type, &src, &payload, &plen) < 0)
		return;
	if (type == ETH_P_IPV4) {
		ip_input(ip, payload, plen, now);
	} else if (type == ETH_P_ARP) {
		arp_input(&ip->arp, payload, plen, now);
		/* A reply may release queued datagrams: send them before anything newer. */
		if (ip->queued)
			flush(ip, now);
	}
}

void ipv4_poll(struct ipv4 *ip, plat_time_t now)
{
	size_t n;

	while (plat_net_read(ip->rx, sizeof(ip->rx), &n) == PLAT_R_OK)
		frame_input(ip, ip->rx, n, now);
	/* Also retries ARP (at most every 200 ms) for what still waits. */
	if (ip->queued)
		flush(ip, now);
	if (now >= ip->next_tick) {
		arp_tick(&ip->arp, now);
		ip->next_tick = now + ARP_TICK_NS;
	}
}
