/* test_arp.c: answering, learning, resolving, rate limits and expiry against a fake platform. */
#include <string.h>

#include "check.h"
#include "fake_platform.h"
#include "arp.h"

#define MS 1000000ull
#define S 1000000000ull
#define MY_IP 0x0a000002u /* 10.0.0.2 */
#define PEER_IP 0x0a000001u /* 10.0.0.1 */

static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t zero_mac[6];

static struct eth_if eth;
static struct arp arp;

static void setup(void)
{
	fake_reset();
	fake_now = 1000 * S;
	eth_init(&eth);
	arp_init(&arp, &eth, MY_IP);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void packet(uint8_t *p, int op, const uint8_t *sha, uint32_t spa, const uint8_t *tha,
                   uint32_t tpa)
{
	static const uint8_t hdr[6] = {0, 1, 0x08, 0x00, 6, 4};

	memcpy(p, hdr, 6);
	p[6] = 0;
	p[7] = (uint8_t)op;
	memcpy(p + 8, sha, 6);
	put32(p + 14, spa);
	memcpy(p + 18, tha, 6);
	put32(p + 24, tpa);
}

/* Whether fake_out[n] is an ARP frame to dst with the given body. */
static int sent(size_t n, const uint8_t *dst, int op, const uint8_t *tha, uint32_t tpa)
{
	uint8_t want[28];
	const uint8_t *f = fake_out[n].data;

	packet(want, op, fake_mac, MY_IP, tha, tpa);
	return n < fake_out_n && memcmp(f, dst, 6) == 0 && memcmp(f + 6, fake_mac, 6) == 0 &&
	       f[12] == 0x08 && f[13] == 0x06 && memcmp(f + 14, want, 28) == 0;
}

static void test_answer_request(void)
{
	uint8_t p[28], mac[6];

	setup();
	packet(p, 1, peer_mac, PEER_IP, zero_mac, MY_IP);
	arp_input(&arp, p, sizeof(p), fake_now);
	CHECK(fake_out_n == 1);
	CHECK(sent(0, peer_mac, 2, peer_mac, PEER_IP));
	/* The asker is learned: no request is needed to answer it. */
	CHECK(arp_resolve(&arp, PEER_IP, mac, fake_now) == 0);
	CHECK(memcmp(mac, peer_mac, 6) == 0);
	CHECK(fake_out_n == 1);
}

static void test_ignore_others(void)
{
	uint8_t p[28], mac[6];

	setup();
	packet(p, 1, peer_mac, PEER_IP, zero_mac, 0x0a000003);
	arp_input(&arp, p, sizeof(p), fake_now);
	CHECK(fake_out_n == 0);
	/* Nor is a stranger asking about someone else worth a cache slot. */
	CHECK(arp_resolve(&arp, PEER_IP, mac, fake_now) == -1);
	/* A reply addressed to another host teaches nothing either. */
	setup();
	packet(p, 2, peer_mac, PEER_IP, zero_mac, 0x0a000003);
	arp_input(&arp, p, sizeof(p), fake_now);
	CHECK(arp_resolve(&arp, PEER_IP, mac, fake_now) == -1);
}

static void test_malformed(void)
{
	uint8_t p[28];

	setup();
	packet(p, 1, peer_mac, PEER_IP, zero_mac, MY_IP);
	arp_input(&arp, p, 27, fake_now);
	p[1] = 6; /* IEEE 802 hardware type */
	arp_input(&arp, p, sizeof(p), fake_now);
	p[1] = 1;
	p[2] = 0x86; /* IPv6 */
	arp_input(&arp, p, sizeof(p), fake_now);
	CHECK(fake_out_n == 0);
	/* A probe (sender 0.0.0.0) is answered but not learned. */
	packet(p, 1, peer_mac, 0, zero_mac, MY_IP);
	arp_input(&arp, p, sizeof(p), fake_now);
	CHECK(fake_out_n == 1 && sent(0, peer_mac, 2, peer_mac, 0));
}

static void test_resolve(void)
{
	uint8_t p[28], mac[6];

	setup();
	CHECK(arp_resolve(&arp, PEER_IP, mac, fake_now) == -1);
	CHECK(fake_out_n == 1 && sent(0, eth_broadcast, 1, zero_mac, PEER_IP));
	/* At most one request per 200 ms. */
	fake_now += 199 * MS;
	CHECK(arp_resolve(&arp, PEER_IP, mac, fake_now) == -1);
	CHECK(fake_out_n == 1);
	fake_now += 1 * MS;
	CHECK(arp_resolve(&arp, PEER_IP, mac, fake_now) == -1);
	CHECK(fake_out_n == 2 && sent(1, eth_broadcast, 1, zero_mac, PEER_IP));

	packet(p, 2, peer_mac, PEER_IP, fake_mac, MY_IP);
	arp_input(&arp, p, sizeof(p), fake_now);
	CHECK(fake_out_n == 2); /* replies are not answered */
	CHECK(arp_resolve(&arp, PEER_IP, mac, fake_now) == 0);
	CHECK(memcmp(mac, peer_mac, 6) == 0);
	CHECK(fake_out_n == 2);
}

static void test_expiry(void)
{
	uint8_t p[28], mac[6];
	plat_time_t t0;

	setup();
	t0 = fake_now;
	packet(p, 2, peer_mac, PEER_IP, fake_mac, MY_IP);
	arp_input(&arp, p, sizeof(p), t0);
	CHECK(arp_resolve(&arp, PEER_IP, mac, t0 + ARP_TTL_NS - 6 * S) == 0);
	CHECK(fake_out_n == 0);
	/* Near expiry the entry is still used, and confirmed with a unicast request. */
	CHECK(arp_resolve(&arp, PEER_IP, mac, t0 + ARP_TTL_NS - 4 * S) == 0);
	CHECK(fake_out_n == 1 && sent(0, peer_mac, 1, zero_mac, PEER_IP));
	arp_tick(&arp, t0 + ARP_TTL_NS - 1);
	CHECK(arp.cache[0].valid);
	arp_tick(&arp, t0 + ARP_TTL_NS);
	CHECK(!arp.cache[0].valid);
	CHECK(arp_resolve(&arp, PEER_IP, mac, t0 + ARP_TTL_NS) == -1);
	CHECK(fake_out_n == 2 && sent(1, eth_broadcast, 1, zero_mac, PEER_IP));

	/* Without arp_tick, resolve still refuses an expired entry. */
	setup();
	arp_input(&arp, p, sizeof(p), t0);
	CHECK(arp_resolve(&arp, PEER_IP, mac, t0 + ARP_TTL_NS) == -1);
}

static void test_update_and_full_cache(void)
{
	static const uint8_t moved[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x42};
	uint8_t p[28], mac[6];

	setup();
	packet(p, 2, peer_mac, PEER_IP, fake_mac, MY_IP);
	arp_input(&arp, p, sizeof(p), fake_now);
	/* A gratuitous announcement from a known host updates its entry. */
	packet(p, 1, moved, PEER_IP, zero_mac, PEER_IP);
	arp_input(&arp, p, sizeof(p), fake_now);
	CHECK(arp_resolve(&arp, PEER_IP, mac, fake_now) == 0 && memcmp(mac, moved, 6) == 0);
	/* More addresses than slots: the newest ones still resolve. */
	for (uint32_t i = 0; i < 2 * ARP_CACHE_SIZE; i++) {
		uint8_t m[6] = {0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};

		packet(p, 2, m, 0x0a010000 + i, fake_mac, MY_IP);
		arp_input(&arp, p, sizeof(p), fake_now + i);
		CHECK(arp_resolve(&arp, 0x0a010000 + i, mac, fake_now + i) == 0);
		CHECK(memcmp(mac, m, 6) == 0);
	}
	CHECK(arp_resolve(&arp, 0, mac, fake_now) == -1);
}

int main(void)
{
	test_answer_request();
	test_ignore_others();
	test_malformed();
	test_resolve();
	test_expiry();
	test_update_and_full_cache();
	return check_done("arp");
}
