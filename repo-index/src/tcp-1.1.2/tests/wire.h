/*
 * wire.h: the unit tests' network.  wire.c implements ipv4.h: what tcp
 * sends is checked (checksum, addresses) and queued; the test's hand-written
 * client reads it with wire_pop and answers with wire_send, which crafts a
 * segment and hands it to tcp's handler as ipv4_poll would.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stdbool.h>

#include "tcp_int.h"

#define SERVER_IP 0x0a000002u /* 10.0.0.2 */
#define CLIENT_IP 0x0a000001u /* 10.0.0.1 */
#define WIRE_QUEUE 4096

/* A segment on the wire, parsed. */
struct seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t mss; /* MSS option, 0 when absent */
	size_t len; /* data bytes */
	uint8_t data[TCP_MSS + 64];
};

/* A new tcp on a fresh wire (server 10.0.0.2/24), at time 0. */
struct tcp *wire_init(void);
/* Free the tcp and everything queued. */
void wire_done(struct tcp *t);

/* Segments tcp sent and nobody popped yet. */
size_t wire_pending(void);
/* The oldest sent segment; false when there is none. */
bool wire_pop(struct seg *s);
/* Forget every sent segment. */
void wire_clear(void);
/* Segments sent since wire_init whose checksum or addresses were wrong. */
unsigned wire_bad(void);

/* Deliver a segment from CLIENT_IP to tcp at now; mss > 0 adds the MSS option. */
void wire_send(struct tcp *t, plat_time_t now, uint16_t sport, uint16_t dport, uint32_t seq,
               uint32_t ack, uint8_t flags, uint16_t wnd, const void *data, size_t len,
               uint16_t mss);
/* The same, but one bit of the checksummed bytes flipped after checksumming. */
void wire_send_corrupt(struct tcp *t, plat_time_t now, uint16_t sport, uint16_t dport, uint32_t seq,
                       uint32_t ack, uint8_t flags, const void *data, size_t len);

/* A client connection driven by hand. */
struct client {
	uint16_t port, sport; /* server's port, ours */
	uint32_t snd_nxt; /* our next sequence number */
	uint32_t rcv_nxt; /* the server's next */
	uint32_t server_iss;
	uint16_t wnd; /* what we advertise */
};

/*
 * SYN (with MSS option mss), expect a SYN-ACK, send the ACK: 0 when the
 * handshake went as it should (the SYN-ACK is checked), else -1.
 */
int client_connect(struct tcp *t, struct client *cl, plat_time_t now, uint16_t port, uint16_t sport,
                   uint32_t iss, uint16_t mss);
/* Send flags with len bytes of data at snd_nxt, acking rcv_nxt; advances snd_nxt. */
void client_send(struct tcp *t, struct client *cl, plat_time_t now, uint8_t flags, const void *data,
                 size_t len);

/* A deterministic generator (xorshift64*) for drops and data. */
uint64_t rng_next(uint64_t *state);

#endif
