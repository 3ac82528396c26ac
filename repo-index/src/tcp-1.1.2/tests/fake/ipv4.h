/*
 * ipv4.h for the unit tests: the ipv4 contract of share/doc/stack.md,
 * implemented by tests/wire.c as an in-memory wire instead of a network.
 */
#ifndef IPV4_H
#define IPV4_H

#include <stddef.h>
#include <stdint.h>

#include <platform.h>

enum { IPPROTO_ICMP_ = 1, IPPROTO_TCP_ = 6 };

struct ipv4_config {
	uint32_t addr, netmask, gateway;
};

int ipv4_parse_cmdline(const char *cmdline, struct ipv4_config *cfg);

typedef void (*ipv4_handler)(void *ctx, uint32_t src, uint32_t dst, const uint8_t *payload,
                             size_t len, plat_time_t now);

struct ipv4;
struct ipv4 *ipv4_new(const struct ipv4_config *cfg);
void ipv4_register(struct ipv4 *ip, uint8_t proto, ipv4_handler fn, void *ctx);
const struct ipv4_config *ipv4_config(const struct ipv4 *ip);
int ipv4_send(struct ipv4 *ip, uint32_t dst, uint8_t proto, const void *payload, size_t len);
void ipv4_poll(struct ipv4 *ip, plat_time_t now);

uint16_t ipv4_checksum(const void *data, size_t len);
uint16_t ipv4_pseudo_checksum(uint32_t src, uint32_t dst, uint8_t proto, const void *data,
                              size_t len);

#endif
