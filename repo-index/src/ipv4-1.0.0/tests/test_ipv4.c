/*
 * test_ipv4.c: checksums, the command line, ICMP echo, input checks,
 * dispatch, next hops and the ARP wait queue, against a fake platform.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_platform.h"
#include "ethernet.h"
#include "ipv4.h"

#define MS 1000000ull
#define S 1000000000ull
#define MY_IP 0x0a000002u /* 10.0.0.2 */
#define PEER_IP 0x0a000001u /* 10.0.0.1 */
#define FAR_IP 0xc0a80107u /* 192.168.1.7, off the subnet */

static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* RFC 1071 done the slow, obvious way: the reference for the fast one. */
static uint16_t naive_checksum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i < len; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void test_checksum(void)
{
	static const uint8_t rfc1071[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	/* A real header (checksum b861 included): sums to zero. */
	static const uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                                0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t buf[1600];
	int bad = 0;

	CHECK(ipv4_checksum(rfc1071, 8) == 0x220d);
	CHECK(ipv4_checksum(hdr, 20) == 0);
	CHECK(ipv4_checksum(rfc1071, 0) == 0xffff);
	CHECK(ipv4_checksum(rfc1071, 1) == 0xffff);
	CHECK(ipv4_checksum(rfc1071 + 2, 1) == (uint16_t)~0xf200);
	srand(1);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	/* Every length and alignment agrees with the reference. */
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= 300; len++)
			bad += ipv4_checksum(buf + off, len) != naive_checksum(buf + off, len);
	bad += ipv4_checksum(buf + 1, 1500) != naive_checksum(buf + 1, 1500);
	memset(buf, 0xff, sizeof(buf)); /* the carries at their worst */
	bad += ipv4_checksum(buf, 1501) != naive_checksum(buf, 1501);
	CHECK(bad == 0);
}

static void test_pseudo_checksum(void)
{
	uint8_t seg[64], whole[12 + 64];
	int bad = 0;

	for (size_t i = 0; i < sizeof(seg); i++)
		seg[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(seg); len++) {
		put32(whole, MY_IP);
		put32(whole + 4, FAR_IP);
		whole[8] = 0;
		whole[9] = 6;
		put16(whole + 10, (uint16_t)len);
		memcpy(whole + 12, seg, len);
		bad += ipv4_pseudo_checksum(MY_IP, FAR_IP, 6, seg, len) !=
		       naive_checksum(whole, 12 + len);
	}
	CHECK(bad == 0);
	/* A segment carrying its own checksum verifies to zero. */
	seg[16] = seg[17] = 0;
	put16(seg + 16, ipv4_pseudo_checksum(MY_IP, FAR_IP, 6, seg, 40));
	CHECK(ipv4_pseudo_checksum(MY_IP, FAR_IP, 6, seg, 40) == 0);
}

static void test_cmdline(void)
{
	struct ipv4_config c = {1, 2, 3};
	const char *bad[] = {"",
	                     "--ipv4=10.0.0.2",
	                     "--ipv4=10.0.0.2/33",
	                     "--ipv4=10.0.0/24",
	                     "--ipv4=10.0.0.256/24",
	                     "--ipv4=10.0.0.2/24x",
	                     "--ipv4=0.0.0.0/24",
	                     "--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.1.1",
	                     "--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0",
	                     "--ipv4= 10.0.0.2/24",
	                     "--ipv4=10.0.0.2/24 --ipv4-gateway="};

	CHECK(ipv4_parse_cmdline("--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1", &c) == 0);
	CHECK(c.addr == MY_IP && c.netmask == 0xffffff00u && c.gateway == PEER_IP);
	CHECK(ipv4_parse_cmdline("  x --ipv4-gatewayx=1 --ipv4=192.168.1.7/32  y ", &c) == 0);
	CHECK(c.addr == FAR_IP && c.netmask == 0xffffffffu && c.gateway == 0);
	CHECK(ipv4_parse_cmdline("--ipv4=10.1.2.3/8", &c) == 0 && c.netmask == 0xff000000u);
	c.addr = 42;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(ipv4_parse_cmdline(bad[i], &c) == -1);
	CHECK(ipv4_parse_cmdline(NULL, &c) == -1);
	CHECK(c.addr == 42); /* untouched on failure */
}

static struct ipv4 *ip;

static void setup(uint32_t gateway)
{
	struct ipv4_config c = {MY_IP, 0xffffff00u, gateway};

	fake_reset();
	fake_now = 1000 * S;
	ipv4_free(ip);
	ip = ipv4_new(&c);
}

/* Hand the stack a frame from the peer of type with len bytes of payload. */
static void push(uint16_t type, const uint8_t *payload, size_t len)
{
	uint8_t f[1600];

	memcpy(f, fake_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, type);
	memcpy(f + 14, payload, len);
	fake_in_push(f, 14 + len);
}

/* A datagram from src to dst into d (header of hl bytes, options zero); its length. */
static size_t datagram(uint8_t *d, size_t hl, uint32_t src, uint32_t dst, uint8_t proto,
                       const void *payload, size_t len)
{
	memset(d, 0, hl);
	d[0] = (uint8_t)(0x40 | hl / 4);
	put16(d + 2, (uint16_t)(hl + len));
	put16(d + 4, 0xabcd);
	put16(d + 6, 0x4000);
	d[8] = 64;
	d[9] = proto;
	put32(d + 12, src);
	put32(d + 16, dst);
	put16(d + 10, naive_checksum(d, hl));
	memcpy(d + hl, payload, len);
	return hl + len;
}

/* An echo request, identifier 0x1234, sequence 1, data "abcdefgh"; its length. */
static size_t echo_request(uint8_t *m)
{
	memcpy(m,
	       "\x08\x00\x00\x00\x12\x34\x00\x01"
	       "abcdefgh",
	       16);
	put16(m + 2, naive_checksum(m, 16));
	return 16;
}

static void push_arp(int op, uint32_t tpa)
{
	uint8_t p[28] = {0, 1, 0x08, 0x00, 6, 4, 0, (uint8_t)op};

	memcpy(p + 8, peer_mac, 6);
	put32(p + 14, PEER_IP);
	put32(p + 24, tpa);
	push(0x0806, p, sizeof(p));
}

/* The peer asks for us, as a host does before its first datagram; we learn it. */
static void learn_peer(void)
{
	push_arp(1, MY_IP);
	ipv4_poll(ip, fake_now);
	fake_out_n = 0;
}

static void push_ping(void)
{
	uint8_t m[16], d[64];
	size_t n = echo_request(m);

	push(0x0800, d, datagram(d, 20, PEER_IP, MY_IP, 1, m, n));
}

/* The reply to push_ping's request, computed independently of the stack. */
static const uint8_t ping_reply[50] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x53, 0x00, 0x00,
                                       0x00, 0x02, 0x08, 0x00, 0x45, 0x00, 0x00, 0x24, 0x00, 0x00,
                                       0x40, 0x00, 0x40, 0x01, 0x26, 0xd7, 0x0a, 0x00, 0x00, 0x02,
                                       0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x5c, 0x35, 0x12, 0x34,
                                       0x00, 0x01, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68};

static int is_ping_reply(size_t n)
{
	static const uint8_t zero[10];

	return n < fake_out_n && fake_out[n].len == 60 &&
	       memcmp(fake_out[n].data, ping_reply, 50) == 0 &&
	       memcmp(fake_out[n].data + 50, zero, 10) == 0;
}

static void test_new(void)
{
	struct ipv4_config c = {MY_IP, 0xffffff00u, 0};

	fake_reset();
	fake_has_net = 0;
	CHECK(ipv4_new(&c) == NULL);
	setup(PEER_IP);
	CHECK(ip != NULL);
	CHECK(ipv4_config(ip)->addr == MY_IP && ipv4_config(ip)->gateway == PEER_IP);
}

static void test_ping(void)
{
	setup(0);
	learn_peer();
	push_ping();
	ipv4_poll(ip, fake_now);
	CHECK(fake_out_n == 1 && is_ping_reply(0));
	CHECK(ipv4_checksum(fake_out[0].data + 14, 20) == 0);
	CHECK(ipv4_checksum(fake_out[0].data + 34, 16) == 0);
}

/* An unknown peer: the reply waits for ARP, then goes out. */
static void test_ping_waits_for_arp(void)
{
	setup(0);
	push_ping();
	ipv4_poll(ip, fake_now);
	CHECK(fake_out_n == 1);
	CHECK(fake_out[0].data[12] == 0x08 && fake_out[0].data[13] == 0x06);
	CHECK(memcmp(fake_out[0].data + 38, "\x0a\x00\x00\x01", 4) == 0);
	push_arp(2, MY_IP);
	ipv4_poll(ip, fake_now + 10 * MS);
	CHECK(fake_out_n == 2 && is_ping_reply(1));
}

static size_t ping_datagram(uint8_t *d)
{
	uint8_t m[16];
	size_t n = echo_request(m);

	return datagram(d, 20, PEER_IP, MY_IP, 1, m, n);
}

static void rechecksum(uint8_t *d)
{
	put16(d + 10, 0);
	put16(d + 10, naive_checksum(d, (size_t)(d[0] & 15) * 4));
}

/* Push d (n bytes) and tell whether the stack sent anything back. */
static int answered(const uint8_t *d, size_t n)
{
	fake_out_n = 0;
	push(0x0800, d, n);
	ipv4_poll(ip, fake_now);
	return fake_out_n != 0;
}

static void test_drops(void)
{
	uint8_t d[128];
	size_t n;

	setup(0);
	learn_peer();
	n = ping_datagram(d);
	CHECK(answered(d, n));
	d[10] ^= 1; /* IP header checksum */
	CHECK(!answered(d, n));
	n = ping_datagram(d);
	d[22] ^= 1; /* ICMP checksum */
	CHECK(!answered(d, n));
	n = ping_datagram(d);
	put16(d + 6, 0x2000); /* more fragments */
	rechecksum(d);
	CHECK(!answered(d, n));
	put16(d + 6, 0x0001); /* a fragment offset */
	rechecksum(d);
	CHECK(!answered(d, n));
	n = ping_datagram(d);
	put32(d + 16, 0x0a000003); /* for another host */
	rechecksum(d);
	CHECK(!answered(d, n));
	n = ping_datagram(d);
	CHECK(!answered(d, n - 1)); /* truncated */
	CHECK(answered(d, n + 6)); /* ethernet padding is ignored */
	d[0] = 0x65; /* version 6 */
	rechecksum(d);
	CHECK(!answered(d, n));
	n = ping_datagram(d);
	d[0] = 0x44; /* header shorter than 20 bytes */
	rechecksum(d);
	CHECK(!answered(d, n));
	n = ping_datagram(d);
	put32(d + 12, 0xffffffffu); /* a broadcast source */
	rechecksum(d);
	CHECK(!answered(d, n));
	n = ping_datagram(d);
	d[20] = 13; /* not an echo request */
	put16(d + 22, 0);
	put16(d + 22, naive_checksum(d + 20, n - 20));
	CHECK(!answered(d, n));
	CHECK(!answered(d, 10));
}

struct seen {
	int calls;
	uint32_t src, dst;
	uint8_t payload[64];
	size_t len;
	plat_time_t now;
};

static void record(void *ctx, uint32_t src, uint32_t dst, const uint8_t *payload, size_t len,
                   plat_time_t now)
{
	struct seen *s = ctx;

	s->calls++;
	s->src = src;
	s->dst = dst;
	s->len = len;
	s->now = now;
	memcpy(s->payload, payload, len < sizeof(s->payload) ? len : sizeof(s->payload));
}

static void test_dispatch(void)
{
	struct seen udp = {0}, icmp = {0};
	uint8_t d[128];
	size_t n;

	setup(0);
	learn_peer();
	ipv4_register(ip, 17, record, &udp);
	/* A header with options (24 bytes) and ethernet padding after the datagram. */
	n = datagram(d, 24, PEER_IP, MY_IP, 17, "hello", 5);
	push(0x0800, d, n + 7);
	ipv4_poll(ip, fake_now + 5);
	CHECK(udp.calls == 1 && udp.src == PEER_IP && udp.dst == MY_IP);
	CHECK(udp.len == 5 && memcmp(udp.payload, "hello", 5) == 0 && udp.now == fake_now + 5);
	CHECK(fake_out_n == 0);
	n = datagram(d, 20, PEER_IP, MY_IP, 99, "x", 1); /* nobody's */
	push(0x0800, d, n);
	ipv4_register(ip, 17, NULL, NULL);
	n = datagram(d, 20, PEER_IP, MY_IP, 17, "again", 5);
	push(0x0800, d, n);
	ipv4_poll(ip, fake_now);
	CHECK(udp.calls == 1 && fake_out_n == 0);
	/* An ICMP handler sees echo requests, which are answered all the same. */
	ipv4_register(ip, 1, record, &icmp);
	push_ping();
	ipv4_poll(ip, fake_now);
	CHECK(icmp.calls == 1 && icmp.len == 16 && icmp.payload[0] == 8);
	CHECK(fake_out_n == 1 && is_ping_reply(0));
}

static void test_send(void)
{
	static uint8_t payload[1481];
	const uint8_t *f = fake_out[0].data, *h = f + 14;

	setup(0);
	learn_peer();
	memset(payload, 0x77, sizeof(payload));
	CHECK(ipv4_send(ip, PEER_IP, 17, payload, 1480) == 0);
	CHECK(fake_out_n == 1 && fake_out[0].len == 1514);
	CHECK(memcmp(f, peer_mac, 6) == 0 && f[12] == 0x08 && f[13] == 0x00);
	CHECK(h[0] == 0x45 && h[2] == 0x05 && h[3] == 0xdc); /* total length 1500 */
	CHECK(h[6] == 0x40 && h[7] == 0 && h[8] == 64 && h[9] == 17);
	CHECK(memcmp(h + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8) == 0);
	CHECK(ipv4_checksum(h, 20) == 0 && h[1499] == 0x77);
	CHECK(ipv4_send(ip, PEER_IP, 17, payload, 1481) == -1);
	CHECK(ipv4_send(ip, MY_IP, 17, payload, 10) == -1);
	CHECK(ipv4_send(ip, FAR_IP, 17, payload, 10) == -1); /* no gateway */
	CHECK(fake_out_n == 1);
	CHECK(ipv4_send(ip, 0x0a0000ffu, 17, payload, 10) == 0);
	CHECK(fake_out_n == 2 && memcmp(fake_out[1].data, eth_broadcast, 6) == 0);
	fake_write_result = PLAT_R_EUNSPEC;
	CHECK(ipv4_send(ip, PEER_IP, 17, payload, 10) == -1);
}

static void test_gateway(void)
{
	const uint8_t *f = fake_out[1].data;

	setup(PEER_IP);
	CHECK(ipv4_send(ip, FAR_IP, 6, "syn", 3) == 0);
	/* ARP asks for the gateway, not for the far host. */
	CHECK(fake_out_n == 1 && fake_out[0].data[13] == 0x06);
	CHECK(memcmp(fake_out[0].data + 38, "\x0a\x00\x00\x01", 4) == 0);
	push_arp(2, MY_IP);
	ipv4_poll(ip, fake_now);
	CHECK(fake_out_n == 2 && memcmp(f, peer_mac, 6) == 0 && f[23] == 6);
	CHECK(memcmp(f + 30, "\xc0\xa8\x01\x07", 4) == 0 && memcmp(f + 34, "syn", 3) == 0);
}

static void test_queue(void)
{
	uint8_t b;
	int order_ok = 1;

	setup(0);
	for (b = 0; b < 16; b++)
		CHECK(ipv4_send(ip, PEER_IP, 17, &b, 1) == 0);
	CHECK(ipv4_send(ip, PEER_IP, 17, &b, 1) == -1); /* 16 wait at most */
	CHECK(fake_out_n == 1); /* one ARP request */
	ipv4_poll(ip, fake_now + 100 * MS);
	CHECK(fake_out_n == 1);
	ipv4_poll(ip, fake_now + 200 * MS); /* the request is repeated */
	CHECK(fake_out_n == 2 && fake_out[1].data[13] == 0x06);
	push_arp(2, MY_IP);
	ipv4_poll(ip, fake_now + 300 * MS);
	CHECK(fake_out_n == 18);
	for (size_t i = 0; i < 16 && fake_out_n == 18; i++)
		order_ok &= fake_out[2 + i].data[34] == i && fake_out[2 + i].data[13] == 0x00;
	CHECK(order_ok);

	/* Unanswered for a second: dropped, and a late reply sends nothing. */
	setup(0);
	CHECK(ipv4_send(ip, PEER_IP, 17, "a", 1) == 0);
	CHECK(ipv4_send(ip, PEER_IP, 17, "b", 1) == 0);
	ipv4_poll(ip, fake_now + 1 * S);
	fake_out_n = 0;
	push_arp(2, MY_IP);
	ipv4_poll(ip, fake_now + 1 * S);
	CHECK(fake_out_n == 0);
	/* The queue has room again. */
	for (b = 0; b < 16; b++)
		CHECK(ipv4_send(ip, 0x0a000009u, 17, &b, 1) == 0);
}

int main(void)
{
	test_checksum();
	test_pseudo_checksum();
	test_cmdline();
	test_new();
	test_ping();
	test_ping_waits_for_arp();
	test_drops();
	test_dispatch();
	test_send();
	test_gateway();
	test_queue();
	ipv4_free(ip);
	return check_done("ipv4");
}
