/*
 * tcp_int.h: what the parts of tcp share, and the unit tests see.
 *
 * tcp.c owns the instance, the connection table and the application calls;
 * tcp_input.c handles arriving segments (the state machine of RFC 793);
 * tcp_output.c builds and sends segments, and runs the retransmission timer.
 */
#ifndef TCP_INT_H
#define TCP_INT_H

#include <stdbool.h>
#include <string.h>

#include "tcp.h"

#define TCP_HLEN 20
#define TCP_HASH_SIZE 256
#define TCP_MAX_PENDING 256 /* SYN-RECEIVED plus unaccepted */
#define TCP_MAX_SYN_RETRIES 5 /* SYN-ACK retransmissions */
#define TCP_DEFAULT_MSS 536 /* peer sent no MSS option (RFC 1122) */
#define TCP_MAX_WINDOW 65535 /* no window scaling */
#define TCP_INITIAL_CWND (10 * TCP_MSS) /* RFC 6928, in bytes */
#define TCP_RTO_INITIAL 1000000000ull /* RFC 6298 (2.1) */
#define TCP_RTO_MIN 200000000ull
#define TCP_RTO_MAX 60000000000ull
#define TCP_CLOCK_G 1000000ull /* granularity G of RFC 6298 */
#define TCP_DELACK_NS 40000000ull /* delayed ACK */
#define TCP_FIN_WAIT_2_NS 60000000000ull /* a closed connection whose peer never closes */

enum tcp_flag { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08, TH_ACK = 0x10 };

enum tcp_state {
	TCPS_CLOSED, /* reset or timed out, waiting for the application's tcp_close */
	TCPS_SYN_RECEIVED,
	TCPS_ESTABLISHED,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_CLOSE_WAIT,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_TIME_WAIT,
};

/* Sequence number comparisons modulo 2^32. */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}
static inline bool seq_le(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) > 0;
}
static inline bool seq_ge(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) >= 0;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * A byte ring of TCP_SNDBUF or TCP_RCVBUF bytes (both powers of two):
 * len bytes starting at buf[head].  Copies, never per-byte calls.
 */
struct tcp_ring {
	uint8_t *buf;
	uint32_t head, len;
};

#define TCP_RING_SIZE 65536u
_Static_assert(TCP_SNDBUF == TCP_RING_SIZE && TCP_RCVBUF == TCP_RING_SIZE,
               "the rings assume 64 KiB buffers");

/* Append up to n bytes of src; returns how many fitted. */
size_t tcp_ring_write(struct tcp_ring *r, const void *src, size_t n);
/* Copy n bytes starting off bytes after the head into dst (off + n <= len). */
void tcp_ring_peek(const struct tcp_ring *r, size_t off, void *dst, size_t n);
/* Forget n bytes at the head (n <= len). */
void tcp_ring_drop(struct tcp_ring *r, size_t n);

/* A parsed segment, in host order; data points into the received datagram. */
struct tcp_seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t mss; /* the MSS option, 0 when absent */
	const uint8_t *data;
	uint32_t len; /* data bytes */
};

struct tcp_conn {
	struct tcp *t;
	struct tcp_conn *hnext; /* hash chain */
	struct tcp_conn *next, *prev; /* every connection, for the timers */
	struct tcp_conn *qnext; /* accept queue */
	enum tcp_state state;
	bool owned; /* accepted and not yet closed by the application */
	bool queued; /* in the accept queue */
	bool reset; /* reset or timed out: read and write say -1 */
	bool peer_fin; /* the peer's FIN arrived (in order) */
	bool fin_queued; /* tcp_close: a FIN follows the data */
	bool want_flush; /* a short tail waits for tcp_tick */
	bool in_recovery; /* fast recovery (RFC 6582) */
	bool rtt_active; /* timing the segment that starts at rtt_seq */

	uint32_t raddr;
	uint16_t rport, lport;

	/* send side; the send ring's head is at sequence number snd_una */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t fin_seq; /* when fin_queued */
	uint32_t max_sndwnd; /* the largest window the peer offered */
	uint32_t cwnd, ssthresh, recover;
	uint16_t mss; /* segment size we send */
	uint8_t dupacks;
	uint8_t retries;
	uint8_t backoff;
	uint32_t rtt_seq;
	plat_time_t rtt_time;
	plat_time_t srtt, rttvar, rto; /* 0 srtt: no sample yet */

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: the right edge we advertised */
	uint32_t last_ack; /* rcv_nxt of the last segment we sent */

	/* timers, 0 when off */
	plat_time_t rexmit_at; /* retransmission or window probe */
	plat_time_t ack_at; /* delayed ACK */
	plat_time_t expire_at; /* TIME-WAIT or orphaned FIN-WAIT-2 end */

	struct tcp_ring snd, rcv;
};

struct tcp {
	struct ipv4 *ip;
	uint32_t addr; /* ours */
	plat_time_t now; /* the latest time we were given */
	uint64_t secret; /* for initial sequence numbers (RFC 6528) */
	uint16_t listen[TCP_MAX_LISTEN];
	int nlisten;
	int nconns, npending;
	struct tcp_conn *hash[TCP_HASH_SIZE];
	struct tcp_conn *all; /* doubly linked */
	struct tcp_conn *qhead, *qtail; /* accept queue */
	int nflush; /* connections with want_flush */
	/* Tests: when isn_fixed, the next connection's ISS is isn_next. */
	bool isn_fixed;
	uint32_t isn_next;
	uint8_t tx[TCP_HLEN + 4 + TCP_MSS]; /* the segment being built */
};

/* tcp.c */
struct tcp_conn *tcp_conn_find(struct tcp *t, uint32_t raddr, uint16_t rport, uint16_t lport);
struct tcp_conn *tcp_conn_new(struct tcp *t, const struct tcp_seg *s);
/* Unlink c from the table and the queues and free it, whatever its state. */
void tcp_conn_free(struct tcp_conn *c);
/* The peer reset c, or we gave up: free it or leave it closed for its owner. */
void tcp_conn_drop(struct tcp_conn *c);
bool tcp_listening(const struct tcp *t, uint16_t port);
void tcp_enqueue(struct tcp_conn *c);
void tcp_set_flush(struct tcp_conn *c, bool on);
size_t tcp_conn_count(const struct tcp *t);

/* tcp_input.c: the ipv4 handler for protocol 6 */
void tcp_input(void *ctx, uint32_t src, uint32_t dst, const uint8_t *pkt, size_t len,
               plat_time_t now);

/* tcp_output.c */
/* Send what the windows allow; force sends a short tail now. */
void tcp_output(struct tcp_conn *c, bool force);
void tcp_send_synack(struct tcp_conn *c);
void tcp_send_ack(struct tcp_conn *c);
/* Send one segment of c: len bytes of the send ring from seq, with flags. */
void tcp_send_segment(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags);
/* A RST answering segment s that belongs to no connection (RFC 793, "reset generation"). */
void tcp_send_reset(struct tcp *t, const struct tcp_seg *s);
/* A RST on c, with its current sequence numbers. */
void tcp_send_rst(struct tcp_conn *c);
/* Resend the first unacknowledged segment (fast retransmit, RFC 5681 3.2). */
void tcp_fast_retransmit(struct tcp_conn *c);
/* The retransmission timer fired. */
void tcp_rexmit_timeout(struct tcp_conn *c);
/* A new RTT sample (RFC 6298 (2.2), (2.3)). */
void tcp_rtt_sample(struct tcp_conn *c, plat_time_t r);
void tcp_timer_restart(struct tcp_conn *c);
/* The window we would advertise now. */
uint32_t tcp_rcv_window(const struct tcp_conn *c);

#endif
