/*
 * ipv4.h: IPv4 (RFC 791) without fragmentation, ICMP echo (RFC 792), and
 * the Internet checksum (RFC 1071) for the layers above.
 * Part of the stitch network stack; see share/doc/stack.md.
 * Addresses are in host byte order; the stack converts on the wire.
 */
#ifndef IPV4_H
#define IPV4_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"

enum { IPPROTO_ICMP_ = 1, IPPROTO_TCP_ = 6 };

struct ipv4_config {
	uint32_t addr, netmask, gateway; /* host order; gateway 0: none */
};

/*
 * Parse "--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1" out of a command line
 * (other words are ignored).  0, or -1 when --ipv4 is missing or
 * malformed (the "/N" prefix length is required), or --ipv4-gateway is
 * malformed or outside the subnet.
 */
int ipv4_parse_cmdline(const char *cmdline, struct ipv4_config *cfg);

/*
 * A protocol's receiver: src and dst of the datagram, its payload (valid
 * only during the call; the IP header and options stripped) and the time
 * given to ipv4_poll.
 */
typedef void (*ipv4_handler)(void *ctx, uint32_t src, uint32_t dst, const uint8_t *payload,
                             size_t len, plat_time_t now);

struct ipv4; /* opaque: allocated by ipv4_new */

/* Attach to the platform's network device.  NULL on failure (no network, out of memory). */
struct ipv4 *ipv4_new(const struct ipv4_config *cfg);
/* Release what ipv4_new allocated; NULL is allowed. */
void ipv4_free(struct ipv4 *ip);

/*
 * Deliver datagrams of proto for us to fn (one handler per protocol; a
 * later call replaces it, fn NULL removes it).  ICMP echo requests are
 * answered by ipv4 itself whether or not ICMP has a handler.
 */
void ipv4_register(struct ipv4 *ip, uint8_t proto, ipv4_handler fn, void *ctx);
const struct ipv4_config *ipv4_config(const struct ipv4 *ip);

/*
 * Send one datagram (no fragmentation: len <= MTU - 20; DF is set).
 * Resolves the next hop (the destination on the local subnet, else the
 * gateway) with ARP; while it resolves, up to 16 datagrams wait in a queue
 * and go out when the reply arrives (dropped after 1 s).  0 (sent or
 * queued), or -1 when dropped: too long, no route, queue full, or the
 * device failed.
 */
int ipv4_send(struct ipv4 *ip, uint32_t dst, uint8_t proto, const void *payload, size_t len);

/*
 * Read every waiting frame and dispatch it: ARP, ICMP echo (answered here),
 * and registered protocols; drops bad checksums, fragments and datagrams
 * for other hosts.  Also runs ARP expiry and the queue's timeouts.
 */
void ipv4_poll(struct ipv4 *ip, plat_time_t now);

/*
 * The Internet checksum (RFC 1071) of data, and the same over a TCP/UDP
 * pseudo-header (src, dst, proto, and len as the length).  The result is
 * a host-order number: store it big-endian (htons) in the header.  Over
 * data that holds a correct checksum, the result is 0.
 */
uint16_t ipv4_checksum(const void *data, size_t len);
uint16_t ipv4_pseudo_checksum(uint32_t src, uint32_t dst, uint8_t proto, const void *data,
                              size_t len);

#endif
