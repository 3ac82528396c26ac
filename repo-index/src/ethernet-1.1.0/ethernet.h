/*
 * ethernet.h: ethernet II framing over the platform's network device.
 * Part of the stitch network stack; see share/doc/stack.md.
 */
#ifndef ETHERNET_H
#define ETHERNET_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define ETH_ALEN 6
#define ETH_HLEN 14
enum { ETH_P_IPV4 = 0x0800, ETH_P_ARP = 0x0806 };
extern const uint8_t eth_broadcast[ETH_ALEN];

struct eth_if {
	uint8_t mac[ETH_ALEN];
	size_t mtu;
	uint8_t tx[ETH_HLEN + 1500]; /* scratch frame buffer */
};

/* Take the MAC and MTU (at most 1500) from the platform. 0 or -1 (no device). */
int eth_init(struct eth_if *e);

/*
 * Build and write one frame to dst.  0, or -1 when payload is larger than
 * the MTU or the write fails.  Frames shorter than the ethernet minimum
 * (60 bytes without FCS) are padded with zeros.  payload may already sit at
 * e->tx + ETH_HLEN (then it is not copied): upper layers build in place.
 */
int eth_send(struct eth_if *e, const uint8_t dst[ETH_ALEN], uint16_t type, const void *payload,
             size_t len);

/*
 * Parse a received frame.  Returns 0 and fills type, src and the payload
 * (pointers into frame) when the frame is addressed to e (its MAC, or
 * broadcast); -1 otherwise (too short, longer than the MTU allows, or for
 * another host).
 */
int eth_parse(const struct eth_if *e, const uint8_t *frame, size_t len, uint16_t *type,
              const uint8_t **src, const uint8_t **payload, size_t *plen);

#endif
