/* ethernet.c: ethernet II framing. */
#include <string.h>

#include "ethernet.h"

#define ETH_ZLEN 60 /* the shortest frame on the wire, without FCS */

const uint8_t eth_broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int eth_init(struct eth_if *e)
{
	struct plat_net_info info;

	if (plat_net_info(&info) != PLAT_R_OK)
		return -1;
	memcpy(e->mac, info.mac_address, ETH_ALEN);
	/* tx holds 1500 bytes of payload: a larger device MTU cannot be used. */
	e->mtu = info.mtu < 1500 ? info.mtu : 1500;
	return 0;
}

int eth_send(struct eth_if *e, const uint8_t dst[ETH_ALEN], uint16_t type, const void *payload,
             size_t len)
{
	uint8_t *f = e->tx;
	size_t size = ETH_HLEN + len;

	if (len > e->mtu)
		return -1;
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, e->mac, ETH_ALEN);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	if (payload != f + ETH_HLEN)
		memcpy(f + ETH_HLEN, payload, len);
	if (size < ETH_ZLEN) {
		memset(f + size, 0, ETH_ZLEN - size);
		size = ETH_ZLEN;
	}
	return plat_net_write(f, size) == PLAT_R_OK ? 0 : -1;
}

int eth_parse(const struct eth_if *e, const uint8_t *frame, size_t len, uint16_t *type,
              const uint8_t **src, const uint8_t **payload, size_t *plen)
{
	if (len < ETH_HLEN || len > ETH_HLEN + e->mtu)
		return -1;
	if (memcmp(frame, e->mac, ETH_ALEN) != 0 && memcmp(frame, eth_broadcast, ETH_ALEN) != 0)
		return -1;
	*type = (uint16_t)(frame[12] << 8 | frame[13]);
	*src = frame + ETH_ALEN;
	*payload = frame + ETH_HLEN;
	*plen = len - ETH_HLEN;
	return 0;
}
