/*
 * tcp.h: TCP for the stitch network stack, server side (passive open).
 *
 * What it does: listens on ports, answers SYN with SYN-ACK and the MSS
 * option (1460), honours the peer's MSS, keeps a 64 KiB send buffer and a
 * 64 KiB receive buffer per connection (no window scaling), sends a sliding
 * window of segments limited by the peer's window and a congestion window
 * (slow start, congestion avoidance, fast retransmit on three duplicate
 * ACKs), retransmits on a timer whose RTO follows RFC 6298 (minimum 200 ms,
 * exponential backoff, a RST after TCP_MAX_RETRIES), closes in both
 * directions (FIN) and answers segments for unknown connections or closed
 * ports with RST.  Out-of-order segments are dropped and re-acknowledged.
 *
 * Single-threaded and cooperative like the rest of the stack: segments
 * arrive through ipv4_poll, timers run in tcp_tick.  A typical loop:
 *
 *	for (;;) {
 *		plat_yield(tcp_next_deadline(t));   (or an earlier deadline of the app)
 *		ipv4_poll(ip, plat_clock_monotonic());
 *		tcp_tick(t, plat_clock_monotonic());
 *		... tcp_accept, tcp_read, tcp_write, tcp_close ...
 *	}
 *
 * Ownership: a connection returned by tcp_accept belongs to the
 * application until it calls tcp_close or tcp_abort; after either call the
 * pointer must not be used again (the stack frees it when the connection
 * is over).  A connection reset by the peer or timed out stays allocated,
 * reading and writing -1, until the application closes it.
 *
 * Addresses and ports are in host byte order.  Times are plat_time_t
 * (nanoseconds of the monotonic clock).
 */
#ifndef TCP_H
#define TCP_H

#include <stddef.h>
#include <stdint.h>

#include <ipv4.h>

#define TCP_API_VERSION 0x010100 /* 1.1.0: tcp_writev and tcp_peer */

#define TCP_MSS 1460 /* ours, for an MTU of 1500 */
#define TCP_SNDBUF 65536 /* send buffer per connection, bytes */
#define TCP_RCVBUF 65536 /* receive buffer per connection, bytes */
#define TCP_MAX_CONNS 1024 /* connections of all states, per struct tcp */
#define TCP_MAX_LISTEN 16 /* listening ports */
#define TCP_MAX_RETRIES 10 /* retransmissions before giving up with RST */
#define TCP_TIME_WAIT_NS 2000000000ull /* TIME-WAIT lasts 2 s */

struct tcp;
struct tcp_conn;
typedef ptrdiff_t tcp_ssize_t;

#define TCP_AGAIN (-2) /* nothing to read yet / no room to write */

/*
 * A TCP instance on ip; registers itself as ip's protocol 6 handler.
 * NULL when memory runs out.  One per ipv4.
 */
struct tcp *tcp_new(struct ipv4 *ip);

/* Accept connections to port.  0, or -1 when all TCP_MAX_LISTEN slots are taken. */
int tcp_listen(struct tcp *t, uint16_t port);

/*
 * A newly established connection on a listening port (oldest first), or
 * NULL when none is waiting.  The application owns it from now on.
 */
struct tcp_conn *tcp_accept(struct tcp *t);

/*
 * Copy up to len received bytes into buf.  Returns the number of bytes
 * read; 0 when the peer closed its side and everything was read;
 * TCP_AGAIN when nothing is there yet; -1 when the connection was reset
 * (by the peer, or after too many retransmissions).  With len 0 it reads
 * nothing and says which: 0 at the end, -1 when reset, else TCP_AGAIN.
 */
tcp_ssize_t tcp_read(struct tcp_conn *c, void *buf, size_t len);

/*
 * Copy up to len bytes of buf into the send buffer and send what the
 * windows allow.  Returns the number of bytes taken (maybe fewer than
 * len); TCP_AGAIN when the send buffer is full; -1 when the connection
 * was reset.
 */
tcp_ssize_t tcp_write(struct tcp_conn *c, const void *buf, size_t len);

/* Free bytes in the send buffer: how much tcp_write would take now (0 when reset). */
size_t tcp_send_space(const struct tcp_conn *c);

/*
 * Close our side: a FIN follows what is queued.  Unread and later received
 * data is discarded.  The stack frees the connection once it is over (after
 * TIME-WAIT, or at once when it was reset); c must not be used again.
 */
void tcp_close(struct tcp_conn *c);

/* Drop the connection at once, sending RST; c must not be used again. */
void tcp_abort(struct tcp_conn *c);

/* Run what is due at now: retransmissions, delayed ACKs, TIME-WAIT expiry. */
void tcp_tick(struct tcp *t, plat_time_t now);

/* When tcp_tick must run next, or UINT64_MAX when no timer is set. */
plat_time_t tcp_next_deadline(const struct tcp *t);

/* 1.1.0: gathered writes, and the peer's address. */
struct tcp_iov {
	const void *base;
	size_t len;
};

/*
 * tcp_write of the n buffers of iov, in order, as one stream: returns the
 * number of bytes taken from them together (maybe fewer than their sum,
 * the taken bytes are a prefix); TCP_AGAIN when the send buffer is full;
 * -1 when the connection was reset or n is negative.
 */
tcp_ssize_t tcp_writev(struct tcp_conn *c, const struct tcp_iov *iov, int n);

/* The peer's address and port; either pointer may be NULL. */
void tcp_peer(const struct tcp_conn *c, uint32_t *ip, uint16_t *port);

#endif
