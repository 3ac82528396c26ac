/* arp.c: RFC 826 for IPv4 over ethernet. */
#include <string.h>

#include "arp.h"

#define ARP_LEN 28
#define ARP_REQUEST 1
#define ARP_REPLY 2
#define ARP_RETRY_NS (200ull * 1000000ull)
/* Ask again this long before expiry, so a busy peer never falls out of the cache. */
#define ARP_REFRESH_NS (5ull * 1000000000ull)
#define NONE UINT64_MAX

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void arp_init(struct arp *a, struct eth_if *eth, uint32_t my_ip)
{
	memset(a, 0, sizeof(*a));
	a->eth = eth;
	a->ip = my_ip;
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		a->last_request[i] = NONE;
}

static int find(const struct arp *a, uint32_t ip)
{
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		if (a->cache[i].ip == ip)
			return i;
	return -1;
}

/* Whether request time x is older than y; NONE (no request: an expired entry) is oldest. */
static bool older(plat_time_t x, plat_time_t y)
{
	return x + 1 < y + 1;
}

/*
 * A slot for a new address: an unused one, else the stalest address being
 * resolved, else the valid entry closest to expiry.
 */
static int victim(const struct arp *a)
{
	int best = -1;

	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *c = &a->cache[i], *b = best < 0 ? NULL : &a->cache[best];

		if (c->ip == 0)
			return i;
		if (!b || (b->valid && !c->valid))
			best = i;
		else if (!b->valid && !c->valid && older(a->last_request[i], a->last_request[best]))
			best = i;
		else if (b->valid && c->valid && c->expires < b->expires)
			best = i;
	}
	return best;
}

static int slot_for(struct arp *a, uint32_t ip)
{
	int i = find(a, ip);

	if (i < 0) {
		i = victim(a);
		a->cache[i] = (struct arp_entry){.ip = ip};
		a->last_request[i] = NONE;
	}
	return i;
}

static void learn(struct arp *a, int i, const uint8_t *mac, plat_time_t now)
{
	memcpy(a->cache[i].mac, mac, ETH_ALEN);
	a->cache[i].expires = now + ARP_TTL_NS;
	a->cache[i].valid = true;
	a->last_request[i] = NONE;
}

static void send_arp(struct arp *a, uint16_t op, const uint8_t *dst, const uint8_t *tha,
                     uint32_t tpa)
{
	uint8_t p[ARP_LEN] = {0, 1, 0x08, 0x00, ETH_ALEN, 4, 0, (uint8_t)op};

	memcpy(p + 8, a->eth->mac, ETH_ALEN);
	put32(p + 14, a->ip);
	memcpy(p + 18, tha, ETH_ALEN);
	put32(p + 24, tpa);
	eth_send(a->eth, dst, ETH_P_ARP, p, sizeof(p));
}

void arp_input(struct arp *a, const uint8_t *pkt, size_t len, plat_time_t now)
{
	static const uint8_t hdr[6] = {0, 1, 0x08, 0x00, ETH_ALEN, 4};
	uint16_t op;
	uint32_t spa, tpa;
	const uint8_t *sha;
	int i;

	if (len < ARP_LEN || memcmp(pkt, hdr, sizeof(hdr)) != 0)
		return;
	op = (uint16_t)(pkt[6] << 8 | pkt[7]);
	sha = pkt + 8;
	spa = get32(pkt + 14);
	tpa = get32(pkt + 24);
	/* Probes (sender 0), group addresses and claims of our own address teach nothing. */
	if (spa != 0 && spa != a->ip && !(sha[0] & 1)) {
		i = find(a, spa);
		if (i < 0 && tpa == a->ip && (op == ARP_REQUEST || op == ARP_REPLY))
			i = slot_for(a, spa);
		if (i >= 0)
			learn(a, i, sha, now);
	}
	if (op == ARP_REQUEST && tpa == a->ip && a->ip != 0)
		send_arp(a, ARP_REPLY, sha, sha, spa);
}

/* Send a request for slot i unless one went out less than 200 ms ago. */
static void request(struct arp *a, int i, const uint8_t *dst, plat_time_t now)
{
	static const uint8_t zero[ETH_ALEN];
	plat_time_t last = a->last_request[i];

	if (last != NONE && now < last + ARP_RETRY_NS)
		return;
	a->last_request[i] = now;
	send_arp(a, ARP_REQUEST, dst, zero, a->cache[i].ip);
}

int arp_resolve(struct arp *a, uint32_t ip, uint8_t mac[ETH_ALEN], plat_time_t now)
{
	int i = find(a, ip);
	struct arp_entry *c;

	if (ip == 0)
		return -1;
	if (i < 0)
		i = slot_for(a, ip);
	c = &a->cache[i];
	if (c->valid && c->expires > now) {
		memcpy(mac, c->mac, ETH_ALEN);
		/* Unicast, as Linux does: the peer confirms without a broadcast. */
		if (c->expires - now < ARP_REFRESH_NS)
			request(a, i, c->mac, now);
		return 0;
	}
	c->valid = false;
	request(a, i, eth_broadcast, now);
	return -1;
}

void arp_tick(struct arp *a, plat_time_t now)
{
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		if (a->cache[i].valid && a->cache[i].expires <= now)
			a->cache[i].valid = false;
}
