/* test_ethernet.c: framing, addressing and the MTU limit against a fake platform. */
#include <string.h>

#include "check.h"
#include "fake_platform.h"
#include "ethernet.h"

static const uint8_t peer[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static void test_init(void)
{
	struct eth_if e;

	fake_reset();
	fake_has_net = 0;
	CHECK(eth_init(&e) == -1);
	fake_has_net = 1;
	CHECK(eth_init(&e) == 0);
	CHECK(memcmp(e.mac, fake_mac, ETH_ALEN) == 0);
	CHECK(e.mtu == 1500);
}

static void test_send(void)
{
	struct eth_if e;
	uint8_t payload[1501];

	fake_reset();
	eth_init(&e);
	memset(payload, 0xab, sizeof(payload));
	CHECK(eth_send(&e, peer, ETH_P_ARP, payload, 28) == 0);
	CHECK(fake_out_n == 1 && fake_out[0].len == 60); /* padded to the minimum */
	CHECK(memcmp(fake_out[0].data, peer, 6) == 0);
	CHECK(memcmp(fake_out[0].data + 6, fake_mac, 6) == 0);
	CHECK(fake_out[0].data[12] == 0x08 && fake_out[0].data[13] == 0x06);
	CHECK(memcmp(fake_out[0].data + 14, payload, 28) == 0);
	CHECK(fake_out[0].data[14 + 28] == 0 && fake_out[0].data[59] == 0);

	CHECK(eth_send(&e, eth_broadcast, ETH_P_IPV4, payload, 1500) == 0);
	CHECK(fake_out_n == 2 && fake_out[1].len == 1514);
	CHECK(fake_out[1].data[12] == 0x08 && fake_out[1].data[13] == 0x00);
	CHECK(memcmp(fake_out[1].data, eth_broadcast, 6) == 0);
	CHECK(eth_send(&e, peer, ETH_P_IPV4, payload, 1501) == -1);
	CHECK(fake_out_n == 2);

	/* Built in place: the payload is not copied over itself. */
	memset(e.tx + ETH_HLEN, 0x5a, 100);
	CHECK(eth_send(&e, peer, ETH_P_IPV4, e.tx + ETH_HLEN, 100) == 0);
	CHECK(fake_out_n == 3 && fake_out[2].len == 114 && fake_out[2].data[113] == 0x5a);

	fake_write_result = PLAT_R_EUNSPEC;
	CHECK(eth_send(&e, peer, ETH_P_IPV4, payload, 100) == -1);
}

/* A frame to dst from peer of type 0x0800 with n payload bytes. */
static size_t frame(uint8_t *f, const uint8_t *dst, size_t n)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0x11, n);
	return 14 + n;
}

static void test_parse(void)
{
	static const uint8_t other[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};
	static const uint8_t multicast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	struct eth_if e;
	uint8_t f[1600];
	const uint8_t *src, *payload;
	uint16_t type;
	size_t plen, n;

	fake_reset();
	eth_init(&e);
	n = frame(f, fake_mac, 46);
	CHECK(eth_parse(&e, f, n, &type, &src, &payload, &plen) == 0);
	CHECK(type == ETH_P_IPV4 && plen == 46 && payload == f + 14);
	CHECK(memcmp(src, peer, 6) == 0);

	n = frame(f, eth_broadcast, 28);
	CHECK(eth_parse(&e, f, n, &type, &src, &payload, &plen) == 0 && plen == 28);
	n = frame(f, other, 46);
	CHECK(eth_parse(&e, f, n, &type, &src, &payload, &plen) == -1);
	n = frame(f, multicast, 46);
	CHECK(eth_parse(&e, f, n, &type, &src, &payload, &plen) == -1);

	n = frame(f, fake_mac, 0);
	CHECK(eth_parse(&e, f, n, &type, &src, &payload, &plen) == 0 && plen == 0);
	CHECK(eth_parse(&e, f, 13, &type, &src, &payload, &plen) == -1);
	CHECK(eth_parse(&e, f, 0, &type, &src, &payload, &plen) == -1);
	n = frame(f, fake_mac, 1500);
	CHECK(eth_parse(&e, f, n, &type, &src, &payload, &plen) == 0 && plen == 1500);
	n = frame(f, fake_mac, 1501);
	CHECK(eth_parse(&e, f, n, &type, &src, &payload, &plen) == -1);
}

int main(void)
{
	test_init();
	test_send();
	test_parse();
	return check_done("ethernet");
}
