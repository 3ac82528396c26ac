/* ipv4_checksum.c: the Internet checksum (RFC 1071). */
#include <arpa/inet.h>
#include <string.h>

#include "ipv4.h"

/*
 * The sum of data as native-order 16-bit words, unfolded.  RFC 1071: the
 * one's complement sum does not depend on byte order if it is folded and
 * swapped at the end, and 32-bit words summed into 64 bits fold to the
 * same value as 16-bit words, with the carries kept in the top half.
 */
static uint64_t sum(const uint8_t *p, size_t len, uint64_t acc)
{
	uint32_t w[8];
	uint16_t h;

	for (; len >= sizeof(w); p += sizeof(w), len -= sizeof(w)) {
		memcpy(w, p, sizeof(w)); /* unaligned-safe; compiles to plain loads */
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
	}
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(w, p, 4);
		acc += w[0];
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd byte is the high half of a word padded with zero. */
		uint8_t last[2] = {p[0], 0};

		memcpy(&h, last, 2);
		acc += h;
	}
	return acc;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t fold(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)~ntohs((uint16_t)acc);
}

uint16_t ipv4_checksum(const void *data, size_t len)
{
	return fold(sum(data, len, 0));
}

uint16_t ipv4_pseudo_checksum(uint32_t src, uint32_t dst, uint8_t proto, const void *data,
                              size_t len)
{
	uint8_t ph[12] = {0};

	put32(ph, src);
	put32(ph + 4, dst);
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;

	return fold(sum(data, len, sum(ph, sizeof(ph), 0)));
}
