/*
 * arp.h: ARP (RFC 826) for IPv4 over ethernet: answers requests for our
 * address, learns and caches neighbours, resolves next hops.
 * Part of the stitch network stack; see share/doc/stack.md.
 * Addresses are in host byte order.
 */
#ifndef ARP_H
#define ARP_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"
#include "ethernet.h"

#define ARP_CACHE_SIZE 64
#define ARP_TTL_NS (60ull * 1000000000ull) /* entries expire after 60 s */

struct arp_entry {
	uint32_t ip;
	uint8_t mac[ETH_ALEN];
	plat_time_t expires;
	bool valid;
};

/*
 * The cache: a slot with ip != 0 and !valid is an address being resolved
 * (or an expired one); last_request[i] is when slot i's last request went
 * out, UINT64_MAX when none is outstanding.
 */
struct arp {
	struct eth_if *eth;
	uint32_t ip; /* ours */
	struct arp_entry cache[ARP_CACHE_SIZE];
	plat_time_t last_request[ARP_CACHE_SIZE]; /* rate limit of requests */
};

void arp_init(struct arp *a, struct eth_if *eth, uint32_t my_ip);

/*
 * Handle an ARP payload: answer requests for our IP, learn senders.  A
 * sender already cached is refreshed by any packet; a new one is learned
 * from a request for our IP or a reply to us.
 */
void arp_input(struct arp *a, const uint8_t *pkt, size_t len, plat_time_t now);

/*
 * The MAC of ip: 0 and mac filled when cached and fresh; otherwise sends a
 * request (at most one per address per 200 ms) and returns -1.  An entry
 * close to expiry is refreshed with a request while it is still used.
 */
int arp_resolve(struct arp *a, uint32_t ip, uint8_t mac[ETH_ALEN], plat_time_t now);

/* Drop expired entries. */
void arp_tick(struct arp *a, plat_time_t now);

#endif
