/*
 * test_tcp.c: tcp against a fake ipv4 (wire.c) and a hand-written client.
 * Time is a fake clock in nanoseconds; nothing here needs a network.
 */
#include <stdlib.h>

#include "check.h"
#include "wire.h"

CHECK_DEFINE;

#define MS 1000000ull
#define SEC 1000000000ull
#define PORT 80

void run_api_tests(void); /* test_api.c */

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
}

static void fill(uint8_t *b, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pattern(off + i);
}

/* A listening tcp and one accepted connection from cl (client port 40000, ISS 1000). */
static struct tcp_conn *setup(struct tcp **tp, struct client *cl, uint16_t mss)
{
	struct tcp *t = wire_init();
	CHECK(tcp_listen(t, PORT) == 0);
	CHECK(client_connect(t, cl, 0, PORT, 40000, 1000, mss) == 0);
	struct tcp_conn *c = tcp_accept(t);
	CHECK(c != NULL);
	*tp = t;
	return c;
}

/* The client acknowledges everything it was sent so far (popping it). */
static size_t drain(struct seg *last)
{
	size_t n = 0;
	struct seg s;
	while (wire_pop(&s)) {
		n++;
		if (last)
			*last = s;
	}
	return n;
}

static void test_handshake_mss(void)
{
	struct tcp *t = wire_init();
	struct client cl;
	struct seg s;
	CHECK(tcp_listen(t, PORT) == 0);
	CHECK(tcp_accept(t) == NULL);
	CHECK(tcp_next_deadline(t) == UINT64_MAX);

	/* SYN with MSS 1000: SYN-ACK with our MSS 1460, then the ACK establishes. */
	wire_send(t, 0, 40000, PORT, 1000, 0, TH_SYN, 65535, NULL, 0, 1000);
	CHECK(wire_pop(&s));
	CHECK(s.flags == (TH_SYN | TH_ACK) && s.ack == 1001 && s.mss == TCP_MSS);
	CHECK(s.wnd == 65535 && s.sport == PORT && s.dport == 40000 && s.dst == CLIENT_IP);
	CHECK(tcp_accept(t) == NULL); /* not yet established */
	CHECK(tcp_next_deadline(t) == TCP_RTO_INITIAL);
	wire_send(t, 10 * MS, 40000, PORT, 1001, s.seq + 1, TH_ACK, 65535, NULL, 0, 0);
	CHECK(wire_pending() == 0);
	struct tcp_conn *c = tcp_accept(t);
	CHECK(c != NULL && c->state == TCPS_ESTABLISHED);
	CHECK(tcp_accept(t) == NULL);
	CHECK(tcp_next_deadline(t) == UINT64_MAX);
	/* the SYN-ACK's RTT of 10 ms gave the first estimate: RTO at its 200 ms minimum */
	CHECK(c->srtt == 10 * MS && c->rto == TCP_RTO_MIN);

	/* The peer's MSS is honoured: 5000 bytes leave as 1000-byte segments. */
	uint8_t buf[5000];
	fill(buf, 0, sizeof(buf));
	CHECK(tcp_write(c, buf, sizeof(buf)) == 5000);
	for (int i = 0; i < 5; i++) {
		CHECK(wire_pop(&s));
		CHECK(s.len == 1000 && s.seq == c->iss + 1 + 1000u * (unsigned)i);
		CHECK((s.flags & TH_ACK) && s.ack == 1001);
		CHECK(memcmp(s.data, buf + 1000 * i, 1000) == 0);
	}
	CHECK(s.flags & TH_PSH);
	CHECK(!wire_pop(&s));

	/* A SYN without the option: 536 (RFC 1122). */
	CHECK(client_connect(t, &cl, 20 * MS, PORT, 40001, 5000, 0) == 0);
	c = tcp_accept(t);
	CHECK(c != NULL && c->mss == TCP_DEFAULT_MSS);
	/* A repeated SYN gets the same SYN-ACK again. */
	wire_send(t, 30 * MS, 40002, PORT, 7000, 0, TH_SYN, 65535, NULL, 0, 1460);
	struct seg s2;
	CHECK(wire_pop(&s) && s.flags == (TH_SYN | TH_ACK));
	wire_send(t, 40 * MS, 40002, PORT, 7000, 0, TH_SYN, 65535, NULL, 0, 1460);
	CHECK(wire_pop(&s2) && s2.flags == (TH_SYN | TH_ACK) && s2.seq == s.seq && s2.ack == 7001);
	CHECK(wire_bad() == 0);
	wire_done(t);
}

static void test_synack_retransmit(void)
{
	struct tcp *t = wire_init();
	struct seg s;
	CHECK(tcp_listen(t, PORT) == 0);
	wire_send(t, 0, 40000, PORT, 1000, 0, TH_SYN, 65535, NULL, 0, 1460);
	CHECK(wire_pop(&s));
	plat_time_t at = TCP_RTO_INITIAL;
	for (int i = 1; i <= TCP_MAX_SYN_RETRIES; i++) {
		CHECK(tcp_next_deadline(t) == at);
		tcp_tick(t, at - 1);
		CHECK(wire_pending() == 0);
		tcp_tick(t, at);
		CHECK(wire_pop(&s) && s.flags == (TH_SYN | TH_ACK) && s.ack == 1001);
		at += TCP_RTO_INITIAL << i;
	}
	CHECK(tcp_conn_count(t) == 1);
	tcp_tick(t, at);
	CHECK(tcp_conn_count(t) == 0 && wire_pending() == 0);
	wire_done(t);
}

static void test_receive_in_order(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s;
	struct tcp_conn *c = setup(&t, &cl, 1460);
	uint8_t buf[65536], out[65536];
	fill(buf, 0, sizeof(buf));

	/* One segment: the ACK is delayed, and sent by tcp_tick when due. */
	client_send(t, &cl, 0, TH_ACK, buf, 1000);
	CHECK(wire_pending() == 0);
	CHECK(tcp_next_deadline(t) == TCP_DELACK_NS);
	tcp_tick(t, TCP_DELACK_NS);
	CHECK(wire_pop(&s) && s.ack == cl.snd_nxt && s.len == 0 && s.wnd == 65535 - 1000);
	/* Two full segments' worth: acknowledged at once. */
	client_send(t, &cl, 50 * MS, TH_ACK, buf + 1000, 1460);
	client_send(t, &cl, 50 * MS, TH_ACK, buf + 2460, 1460);
	CHECK(wire_pop(&s) && s.ack == cl.snd_nxt && s.wnd == 65535 - 3920);

	/* Fill the window: the advertised window shrinks to 0; more data is not taken. */
	size_t sent = 3920, wnd = s.wnd;
	while (wnd > 0) {
		size_t n = wnd < 1460 ? wnd : 1460;
		client_send(t, &cl, 60 * MS, TH_ACK, buf + sent, n);
		sent += n;
		wnd -= n;
	}
	drain(&s);
	CHECK(s.ack == cl.snd_nxt && s.wnd == 0);
	client_send(t, &cl, 60 * MS, TH_ACK | TH_PSH, buf, 100);
	cl.snd_nxt -= 100;
	CHECK(wire_pop(&s) && s.ack == cl.snd_nxt && s.wnd == 0);
	CHECK(sent == 65535);
	/* Reading makes room: a window update goes out without waiting. */
	CHECK(tcp_read(c, out, 20000) == 20000);
	CHECK(memcmp(out, buf, 20000) == 0);
	CHECK(wire_pop(&s) && s.ack == cl.snd_nxt && s.wnd == 20001);
	CHECK(tcp_read(c, out, sizeof(out)) == (tcp_ssize_t)(sent - 20000));
	CHECK(memcmp(out, buf + 20000, sent - 20000) == 0);
	CHECK(tcp_read(c, out, sizeof(out)) == TCP_AGAIN);
	CHECK(wire_bad() == 0);
	wire_done(t);
}

static void test_out_of_order_and_duplicates(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s;
	struct tcp_conn *c = setup(&t, &cl, 1460);
	uint8_t a[1000], b[1000], out[4000];
	fill(a, 0, 1000);
	fill(b, 1000, 1000);
	uint32_t x = cl.snd_nxt;

	/* B before A: dropped, and a duplicate ACK asks for A at once. */
	wire_send(t, 0, 40000, PORT, x + 1000, cl.rcv_nxt, TH_ACK, 65535, b, 1000, 0);
	CHECK(wire_pop(&s) && s.ack == x);
	CHECK(tcp_read(c, out, sizeof(out)) == TCP_AGAIN);
	wire_send(t, 0, 40000, PORT, x, cl.rcv_nxt, TH_ACK, 65535, a, 1000, 0);
	CHECK(tcp_read(c, out, sizeof(out)) == 1000 && memcmp(out, a, 1000) == 0);
	/* B again: now in order. */
	wire_send(t, 0, 40000, PORT, x + 1000, cl.rcv_nxt, TH_ACK, 65535, b, 1000, 0);
	CHECK(tcp_read(c, out, sizeof(out)) == 1000 && memcmp(out, b, 1000) == 0);
	drain(NULL);
	/* A duplicate of A: acknowledged at once, not delivered twice. */
	wire_send(t, 0, 40000, PORT, x, cl.rcv_nxt, TH_ACK, 65535, a, 1000, 0);
	CHECK(wire_pop(&s) && s.ack == x + 2000);
	CHECK(tcp_read(c, out, sizeof(out)) == TCP_AGAIN);
	/* Overlapping old and new bytes: only the new half is taken. */
	uint8_t ab[1000];
	memcpy(ab, b + 500, 500);
	fill(ab + 500, 2000, 500);
	wire_send(t, 0, 40000, PORT, x + 1500, cl.rcv_nxt, TH_ACK, 65535, ab, 1000, 0);
	CHECK(wire_pop(&s) && s.ack == x + 2500);
	CHECK(tcp_read(c, out, sizeof(out)) == 500 && memcmp(out, ab + 500, 500) == 0);
	/* A segment wholly beyond the window: not accepted, just acknowledged. */
	wire_send(t, 0, 40000, PORT, x + 2500 + 70000, cl.rcv_nxt, TH_ACK, 65535, a, 1000, 0);
	CHECK(wire_pop(&s) && s.ack == x + 2500);
	CHECK(tcp_read(c, out, sizeof(out)) == TCP_AGAIN);
	CHECK(wire_bad() == 0);
	wire_done(t);
}

static void test_retransmission_backoff(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s;
	struct tcp_conn *c = setup(&t, &cl, 1460);
	uint8_t buf[100], out[10];
	fill(buf, 0, sizeof(buf));

	/* The handshake's RTT of 0 gives the minimum RTO, 200 ms, doubling at each loss. */
	CHECK(tcp_write(c, buf, 100) == 100);
	CHECK(wire_pop(&s) && s.len == 100);
	uint32_t seq = s.seq;
	plat_time_t at = TCP_RTO_MIN;
	for (int i = 1; i <= TCP_MAX_RETRIES; i++) {
		CHECK(tcp_next_deadline(t) == at);
		tcp_tick(t, at - 1);
		CHECK(wire_pending() == 0);
		tcp_tick(t, at);
		CHECK(wire_pop(&s) && s.seq == seq && s.len == 100 &&
		      memcmp(s.data, buf, 100) == 0);
		plat_time_t rto = TCP_RTO_MIN << i;
		at += rto < TCP_RTO_MAX ? rto : TCP_RTO_MAX;
	}
	CHECK(c->cwnd == c->mss);
	/* One more timeout: give up with RST; the owner sees a reset. */
	tcp_tick(t, at);
	CHECK(wire_pop(&s) && (s.flags & TH_RST));
	CHECK(tcp_read(c, out, sizeof(out)) == -1);
	CHECK(tcp_write(c, buf, 1) == -1);
	CHECK(tcp_next_deadline(t) == UINT64_MAX);
	tcp_close(c);
	CHECK(tcp_conn_count(t) == 0);
	wire_done(t);

	/* An ACK after one retransmission: the RTO is back to normal, no sample from it (Karn). */
	c = setup(&t, &cl, 1460);
	CHECK(tcp_write(c, buf, 100) == 100);
	CHECK(wire_pop(&s));
	seq = s.seq;
	tcp_tick(t, TCP_RTO_MIN);
	CHECK(wire_pop(&s) && s.len == 100);
	plat_time_t srtt = c->srtt;
	wire_send(t, TCP_RTO_MIN + 300 * MS, 40000, PORT, cl.snd_nxt, seq + 100, TH_ACK, 65535,
	          NULL, 0, 0);
	CHECK(c->srtt == srtt && c->backoff == 0 && c->rexmit_at == 0);
	/* A clean sample of 300 ms. */
	CHECK(tcp_write(c, buf, 100) == 100);
	wire_send(t, TCP_RTO_MIN + 600 * MS, 40000, PORT, cl.snd_nxt, seq + 200, TH_ACK, 65535,
	          NULL, 0, 0);
	/* SRTT was 1 ns from the handshake: (7 * 1 ns + 300 ms) / 8 (RFC 6298 (2.3)) */
	CHECK(c->srtt == (7 + 300 * MS) / 8 && c->rttvar == (300 * MS - 1) / 4);
	CHECK(c->rto == c->srtt + 4 * c->rttvar);
	wire_done(t);
}

static void test_fast_retransmit(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s, first[10];
	struct tcp_conn *c = setup(&t, &cl, 1460);
	static uint8_t buf[10 * 1460];
	fill(buf, 0, sizeof(buf));
	CHECK(tcp_write(c, buf, sizeof(buf)) == (tcp_ssize_t)sizeof(buf));
	for (int i = 0; i < 10; i++)
		CHECK(wire_pop(&first[i]) && first[i].len == 1460);
	CHECK(!wire_pop(&s)); /* the initial window is 10 segments */
	/* Segment 2 is lost: the ACK of 1 opens the window, then three duplicates. */
	wire_send(t, 1 * MS, 40000, PORT, cl.snd_nxt, first[1].seq, TH_ACK, 65535, NULL, 0, 0);
	drain(NULL);
	for (int i = 0; i < 2; i++) {
		wire_send(t, 2 * MS, 40000, PORT, cl.snd_nxt, first[1].seq, TH_ACK, 65535, NULL, 0,
		          0);
		CHECK(wire_pending() == 0);
	}
	wire_send(t, 2 * MS, 40000, PORT, cl.snd_nxt, first[1].seq, TH_ACK, 65535, NULL, 0, 0);
	CHECK(wire_pop(&s) && s.seq == first[1].seq && s.len == 1460);
	CHECK(memcmp(s.data, buf + 1460, 1460) == 0);
	CHECK(c->in_recovery);
	/* A partial ACK (up to segment 5) resends the next hole at once. */
	wire_send(t, 3 * MS, 40000, PORT, cl.snd_nxt, first[5].seq, TH_ACK, 65535, NULL, 0, 0);
	CHECK(wire_pop(&s) && s.seq == first[5].seq);
	/* Everything: out of recovery, cwnd back to ssthresh. */
	wire_send(t, 4 * MS, 40000, PORT, cl.snd_nxt, first[9].seq + 1460, TH_ACK, 65535, NULL, 0,
	          0);
	CHECK(!c->in_recovery && c->cwnd == c->ssthresh);
	CHECK(c->snd.len == 0 && c->rexmit_at == 0);
	wire_done(t);
}

static void test_zero_window_probe(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s;
	struct tcp_conn *c = setup(&t, &cl, 1460);
	static uint8_t buf[10000];
	fill(buf, 0, sizeof(buf));

	/* The client's window is 0: nothing goes, but a probe does when the timer fires. */
	wire_send(t, 0, 40000, PORT, cl.snd_nxt, cl.rcv_nxt, TH_ACK, 0, NULL, 0, 0);
	CHECK(tcp_write(c, buf, sizeof(buf)) == (tcp_ssize_t)sizeof(buf));
	CHECK(wire_pending() == 0);
	CHECK(tcp_next_deadline(t) == TCP_RTO_MIN);
	tcp_tick(t, TCP_RTO_MIN);
	CHECK(wire_pop(&s) && s.len == 1 && s.seq == cl.rcv_nxt && s.data[0] == buf[0]);
	/* Still closed: the probes back off, and do not give up while answered. */
	plat_time_t at = TCP_RTO_MIN;
	for (int i = 1; i <= 2 * TCP_MAX_RETRIES; i++) {
		wire_send(t, at, 40000, PORT, cl.snd_nxt, cl.rcv_nxt, TH_ACK, 0, NULL, 0, 0);
		CHECK(wire_pending() == 0);
		at = tcp_next_deadline(t);
		tcp_tick(t, at);
		CHECK(wire_pop(&s) && s.len == 1 && s.seq == cl.rcv_nxt && !(s.flags & TH_RST));
	}
	CHECK(tcp_read(c, buf, 0) == TCP_AGAIN);
	/* The window opens: the data flows (the short tail at the next tcp_tick). */
	wire_send(t, at, 40000, PORT, cl.snd_nxt, cl.rcv_nxt, TH_ACK, 65535, NULL, 0, 0);
	CHECK(wire_pending() == 6 && tcp_next_deadline(t) == at);
	tcp_tick(t, at);
	size_t got = 0;
	while (wire_pop(&s)) {
		CHECK(s.seq == cl.rcv_nxt + got && memcmp(s.data, buf + got, s.len) == 0);
		got += s.len;
	}
	CHECK(got == sizeof(buf));
	wire_done(t);
}

static void test_peer_closes(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s;
	struct tcp_conn *c = setup(&t, &cl, 1460);
	char out[16];

	/* Data and FIN: read gives the data, then 0; the FIN is acknowledged at once. */
	client_send(t, &cl, 0, TH_ACK | TH_PSH | TH_FIN, "hello", 5);
	CHECK(wire_pop(&s) && s.ack == cl.snd_nxt && !(s.flags & TH_FIN));
	CHECK(c->state == TCPS_CLOSE_WAIT);
	CHECK(tcp_read(c, out, 0) == TCP_AGAIN);
	CHECK(tcp_read(c, out, sizeof(out)) == 5 && memcmp(out, "hello", 5) == 0);
	CHECK(tcp_read(c, out, 0) == 0);
	CHECK(tcp_read(c, out, sizeof(out)) == 0);
	CHECK(tcp_read(c, out, sizeof(out)) == 0);
	/* We may still send; then close: FIN after the data, LAST-ACK, freed on its ACK. */
	CHECK(tcp_write(c, "bye", 3) == 3);
	CHECK(wire_pop(&s) && s.len == 3);
	tcp_close(c);
	CHECK(wire_pop(&s) && (s.flags & TH_FIN) && s.seq == cl.rcv_nxt + 3 && s.len == 0);
	CHECK(tcp_conn_count(t) == 1);
	cl.rcv_nxt = s.seq + 1;
	client_send(t, &cl, 1 * MS, TH_ACK, NULL, 0);
	CHECK(tcp_conn_count(t) == 0);
	CHECK(tcp_next_deadline(t) == UINT64_MAX);
	wire_done(t);

	/* A lost FIN in LAST-ACK is sent again by the timer. */
	c = setup(&t, &cl, 1460);
	client_send(t, &cl, 0, TH_ACK | TH_FIN, NULL, 0);
	drain(NULL);
	CHECK(tcp_read(c, out, sizeof(out)) == 0);
	tcp_close(c);
	CHECK(wire_pop(&s) && (s.flags & TH_FIN));
	tcp_tick(t, TCP_RTO_MIN);
	CHECK(wire_pop(&s) && (s.flags & TH_FIN) && s.seq == cl.rcv_nxt);
	cl.rcv_nxt++;
	client_send(t, &cl, TCP_RTO_MIN, TH_ACK, NULL, 0);
	CHECK(tcp_conn_count(t) == 0);
	wire_done(t);
}

static void test_we_close(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s;
	struct tcp_conn *c = setup(&t, &cl, 1460);

	/* FIN-WAIT-1, FIN-WAIT-2, then TIME-WAIT for 2 s. */
	CHECK(tcp_write(c, "data", 4) == 4);
	tcp_close(c);
	CHECK(wire_pop(&s) && s.len == 4);
	CHECK(wire_pop(&s) && (s.flags & TH_FIN) && s.seq == cl.rcv_nxt + 4);
	CHECK(c->state == TCPS_FIN_WAIT_1);
	cl.rcv_nxt += 5;
	client_send(t, &cl, 1 * MS, TH_ACK, NULL, 0);
	CHECK(c->state == TCPS_FIN_WAIT_2 && wire_pending() == 0);
	/* Data after our close is acknowledged and dropped. */
	client_send(t, &cl, 2 * MS, TH_ACK | TH_PSH, "late", 4);
	client_send(t, &cl, 3 * MS, TH_ACK | TH_FIN, NULL, 0);
	drain(&s);
	CHECK(s.ack == cl.snd_nxt && c->state == TCPS_TIME_WAIT);
	CHECK(tcp_next_deadline(t) == 3 * MS + TCP_TIME_WAIT_NS);
	/* The client did not hear our ACK and sends its FIN again: ACK again, the 2 s restart. */
	wire_send(t, 1 * SEC, 40000, PORT, cl.snd_nxt - 1, cl.rcv_nxt, TH_ACK | TH_FIN, 65535, NULL,
	          0, 0);
	CHECK(wire_pop(&s) && s.ack == cl.snd_nxt && s.seq == cl.rcv_nxt && !(s.flags & TH_FIN));
	tcp_tick(t, 1 * SEC + TCP_TIME_WAIT_NS - 1);
	CHECK(tcp_conn_count(t) == 1);
	tcp_tick(t, 1 * SEC + TCP_TIME_WAIT_NS);
	CHECK(tcp_conn_count(t) == 0);
	wire_done(t);

	/* Both close at once: CLOSING, then TIME-WAIT. */
	c = setup(&t, &cl, 1460);
	tcp_close(c);
	CHECK(wire_pop(&s) && (s.flags & TH_FIN));
	client_send(t, &cl, 1 * MS, TH_ACK | TH_FIN, NULL, 0); /* does not ack our FIN */
	CHECK(c->state == TCPS_CLOSING);
	CHECK(wire_pop(&s) && s.ack == cl.snd_nxt);
	cl.rcv_nxt++;
	client_send(t, &cl, 2 * MS, TH_ACK, NULL, 0);
	CHECK(c->state == TCPS_TIME_WAIT);
	tcp_tick(t, 2 * MS + TCP_TIME_WAIT_NS);
	CHECK(tcp_conn_count(t) == 0);
	wire_done(t);

	/* A closed connection whose peer never closes goes after the FIN-WAIT-2 timeout. */
	c = setup(&t, &cl, 1460);
	tcp_close(c);
	drain(NULL);
	cl.rcv_nxt++;
	client_send(t, &cl, 1 * MS, TH_ACK, NULL, 0);
	CHECK(c->state == TCPS_FIN_WAIT_2);
	tcp_tick(t, 1 * MS + TCP_FIN_WAIT_2_NS);
	CHECK(tcp_conn_count(t) == 0);
	wire_done(t);
}

static void test_reset_sent(void)
{
	struct tcp *t = wire_init();
	struct seg s;
	CHECK(tcp_listen(t, PORT) == 0);
	/* SYN to a closed port: RST|ACK acknowledging the SYN, sequence 0. */
	wire_send(t, 0, 40000, 81, 5000, 0, TH_SYN, 65535, NULL, 0, 1460);
	CHECK(wire_pop(&s) && s.flags == (TH_RST | TH_ACK) && s.seq == 0 && s.ack == 5001);
	CHECK(s.sport == 81 && s.dport == 40000);
	/* Data without ACK to a closed port: the ACK covers the data. */
	wire_send(t, 0, 40000, 81, 5000, 0, TH_PSH, 65535, "abc", 3, 0);
	CHECK(wire_pop(&s) && s.flags == (TH_RST | TH_ACK) && s.ack == 5003);
	/* An ACK for no connection, even on a listening port: RST with the ACK's number. */
	wire_send(t, 0, 40000, PORT, 5000, 777, TH_ACK, 65535, "abc", 3, 0);
	CHECK(wire_pop(&s) && s.flags == TH_RST && s.seq == 777);
	wire_send(t, 0, 40000, PORT, 5000, 777, TH_SYN | TH_ACK, 65535, NULL, 0, 0);
	CHECK(wire_pop(&s) && s.flags == TH_RST && s.seq == 777);
	/* A RST is never answered; a listening port ignores a segment with neither SYN nor ACK. */
	wire_send(t, 0, 40000, 81, 5000, 0, TH_RST, 65535, NULL, 0, 0);
	wire_send(t, 0, 40000, PORT, 5000, 0, TH_RST | TH_ACK, 65535, NULL, 0, 0);
	wire_send(t, 0, 40000, PORT, 5000, 0, TH_FIN, 65535, NULL, 0, 0);
	CHECK(wire_pending() == 0 && tcp_conn_count(t) == 0);
	/* An ACK in SYN-RECEIVED that acknowledges the wrong number: RST, the half-open stays. */
	wire_send(t, 0, 40001, PORT, 9000, 0, TH_SYN, 65535, NULL, 0, 1460);
	CHECK(wire_pop(&s));
	wire_send(t, 0, 40001, PORT, 9001, s.seq + 5, TH_ACK, 65535, NULL, 0, 0);
	struct seg r;
	CHECK(wire_pop(&r) && r.flags == TH_RST && r.seq == s.seq + 5);
	CHECK(tcp_accept(t) == NULL && tcp_conn_count(t) == 1);
	CHECK(wire_bad() == 0);
	wire_done(t);
}

static void test_reset_received(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s;
	struct tcp_conn *c = setup(&t, &cl, 1460);
	char out[8];

	/* A RST whose number is in the window but not exact: a challenge ACK, nothing else. */
	wire_send(t, 0, 40000, PORT, cl.snd_nxt + 10, 0, TH_RST, 65535, NULL, 0, 0);
	CHECK(wire_pop(&s) && s.flags == TH_ACK && s.ack == cl.snd_nxt);
	CHECK(tcp_read(c, out, sizeof(out)) == TCP_AGAIN);
	/* A SYN on an established connection: a challenge ACK too. */
	wire_send(t, 0, 40000, PORT, cl.snd_nxt + 10, 0, TH_SYN, 65535, NULL, 0, 1460);
	CHECK(wire_pop(&s) && s.flags == TH_ACK);
	/* The exact one aborts: read and write say -1 until the owner closes. */
	CHECK(tcp_write(c, "x", 1) == 1);
	drain(NULL);
	client_send(t, &cl, 0, TH_RST, NULL, 0);
	CHECK(wire_pending() == 0);
	CHECK(tcp_read(c, out, sizeof(out)) == -1 && tcp_write(c, "x", 1) == -1);
	CHECK(tcp_read(c, out, 0) == -1);
	CHECK(tcp_send_space(c) == 0 && tcp_next_deadline(t) == UINT64_MAX);
	/* A segment for it now gets a RST. */
	client_send(t, &cl, 0, TH_ACK, "y", 1);
	CHECK(wire_pop(&s) && (s.flags & TH_RST));
	tcp_close(c);
	CHECK(tcp_conn_count(t) == 0);

	/* A connection reset before it was accepted is gone. */
	CHECK(client_connect(t, &cl, 0, PORT, 40001, 3000, 1460) == 0);
	client_send(t, &cl, 0, TH_RST, NULL, 0);
	CHECK(tcp_accept(t) == NULL && tcp_conn_count(t) == 0);
	/* So is a half-open one. */
	wire_send(t, 0, 40002, PORT, 3000, 0, TH_SYN, 65535, NULL, 0, 1460);
	drain(NULL);
	wire_send(t, 0, 40002, PORT, 3001, 0, TH_RST, 65535, NULL, 0, 0);
	CHECK(tcp_conn_count(t) == 0);

	/* tcp_abort: a RST with our next number, freed at once. */
	CHECK(client_connect(t, &cl, 0, PORT, 40003, 3000, 1460) == 0);
	c = tcp_accept(t);
	CHECK(c != NULL);
	tcp_abort(c);
	CHECK(wire_pop(&s) && (s.flags & TH_RST) && s.seq == cl.rcv_nxt);
	CHECK(tcp_conn_count(t) == 0);
	wire_done(t);
}

static void test_checksum(void)
{
	struct tcp *t;
	struct client cl;
	struct seg s;
	struct tcp_conn *c = setup(&t, &cl, 1460);
	char out[8];
	/* A corrupted segment is dropped: no data, no ACK. */
	wire_send_corrupt(t, 0, 40000, PORT, cl.snd_nxt, cl.rcv_nxt, TH_ACK | TH_FIN, "abcd", 4);
	CHECK(wire_pending() == 0 && tcp_read(c, out, sizeof(out)) == TCP_AGAIN);
	CHECK(c->state == TCPS_ESTABLISHED && tcp_next_deadline(t) == UINT64_MAX);
	/* Nor does a corrupted SYN open anything; the intact one does. */
	wire_send_corrupt(t, 0, 40001, PORT, 1, 0, TH_SYN, NULL, 0);
	CHECK(wire_pending() == 0 && tcp_conn_count(t) == 1);
	client_send(t, &cl, 0, TH_ACK, "abcd", 4);
	CHECK(tcp_read(c, out, sizeof(out)) == 4);
	/* Everything tcp sent carried a good checksum (wire.c checks each). */
	tcp_tick(t, TCP_DELACK_NS);
	CHECK(wire_pop(&s) && s.ack == cl.snd_nxt);
	CHECK(wire_bad() == 0);
	wire_done(t);
}

static void test_wraparound(void)
{
	struct tcp *t = wire_init();
	struct client cl;
	struct seg s;
	static uint8_t buf[20000], out[20000];
	fill(buf, 0, sizeof(buf));
	CHECK(tcp_listen(t, PORT) == 0);
	/* Both sides start just below 2^32. */
	t->isn_fixed = true;
	t->isn_next = 0xfffff000u;
	CHECK(client_connect(t, &cl, 0, PORT, 40000, 0xfffffc00u, 1460) == 0);
	struct tcp_conn *c = tcp_accept(t);
	CHECK(c != NULL && cl.server_iss == 0xfffff000u);
	/* Receiving across the wrap. */
	for (size_t off = 0; off < 5000; off += 1000)
		client_send(t, &cl, 0, TH_ACK, buf + off, 1000);
	CHECK(cl.snd_nxt == 0xfffffc01u + 5000 && cl.snd_nxt < 5000);
	CHECK(tcp_read(c, out, sizeof(out)) == 5000 && memcmp(out, buf, 5000) == 0);
	tcp_tick(t, TCP_DELACK_NS);
	drain(&s);
	CHECK(s.ack == cl.snd_nxt);
	/* Sending across the wrap, acknowledging as we go. */
	CHECK(tcp_write(c, buf, sizeof(buf)) == (tcp_ssize_t)sizeof(buf));
	size_t got = 0;
	for (int round = 0; round < 10 && got < sizeof(buf); round++) {
		while (wire_pop(&s)) {
			CHECK(s.seq == cl.rcv_nxt);
			memcpy(out + got, s.data, s.len);
			got += s.len;
			cl.rcv_nxt += (uint32_t)s.len;
		}
		client_send(t, &cl, (plat_time_t)round * MS, TH_ACK, NULL, 0);
	}
	CHECK(got == sizeof(buf) && memcmp(out, buf, sizeof(buf)) == 0);
	CHECK(c->snd_una == (uint32_t)(0xfffff001u + sizeof(buf)) && c->snd.len == 0);
	CHECK(c->rexmit_at == 0);
	/* And closing across it. */
	tcp_close(c);
	CHECK(wire_pop(&s) && (s.flags & TH_FIN) && s.seq == cl.rcv_nxt);
	cl.rcv_nxt++;
	client_send(t, &cl, 20 * MS, TH_ACK | TH_FIN, NULL, 0);
	CHECK(c->state == TCPS_TIME_WAIT);
	wire_done(t);
}

#define NCONN 64

static void test_concurrent(void)
{
	struct tcp *t = wire_init();
	static struct client cl[NCONN];
	struct tcp_conn *c[NCONN];
	struct seg s;
	char msg[32], out[32];
	CHECK(tcp_listen(t, PORT) == 0 && tcp_listen(t, 8080) == 0);
	for (int i = 0; i < NCONN; i++)
		CHECK(client_connect(t, &cl[i], 0, i % 2 ? 8080 : PORT, (uint16_t)(50000 + i),
		                     (uint32_t)i * 100000u, 1460) == 0);
	CHECK(tcp_conn_count(t) == NCONN);
	/* Accepted oldest first. */
	for (int i = 0; i < NCONN; i++) {
		c[i] = tcp_accept(t);
		CHECK(c[i] != NULL && c[i]->rport == 50000 + i);
	}
	CHECK(tcp_accept(t) == NULL);
	for (int i = 0; i < NCONN; i++) {
		int n = snprintf(msg, sizeof(msg), "request %d", i);
		client_send(t, &cl[i], 1 * MS, TH_ACK | TH_PSH, msg, (size_t)n);
	}
	/* Served in reverse order, each answer on its own connection, then closed. */
	for (int i = NCONN - 1; i >= 0; i--) {
		int n = snprintf(msg, sizeof(msg), "request %d", i);
		CHECK(tcp_read(c[i], out, sizeof(out)) == n && memcmp(out, msg, (size_t)n) == 0);
		n = snprintf(msg, sizeof(msg), "answer %d", i);
		CHECK(tcp_write(c[i], msg, (size_t)n) == n);
		tcp_close(c[i]);
	}
	int answers = 0, fins = 0;
	while (wire_pop(&s)) {
		int i = s.dport - 50000;
		CHECK(i >= 0 && i < NCONN && s.sport == (i % 2 ? 8080 : PORT));
		if (s.len) {
			int n = snprintf(msg, sizeof(msg), "answer %d", i);
			CHECK(s.seq == cl[i].rcv_nxt && s.len == (size_t)n &&
			      memcmp(s.data, msg, s.len) == 0);
			answers++;
		}
		if (s.flags & TH_FIN) {
			CHECK(s.seq == cl[i].rcv_nxt + s.len);
			fins++;
		}
		cl[i].rcv_nxt = s.seq + (uint32_t)s.len + !!(s.flags & TH_FIN);
	}
	CHECK(answers == NCONN && fins == NCONN);
	for (int i = 0; i < NCONN; i++)
		client_send(t, &cl[i], 2 * MS, TH_ACK | TH_FIN, NULL, 0);
	CHECK(drain(NULL) == NCONN);
	tcp_tick(t, 2 * MS + TCP_TIME_WAIT_NS);
	CHECK(tcp_conn_count(t) == 0);
	CHECK(wire_bad() == 0);
	wire_done(t);
}

/*
 * The lossy echo: the client sends 1 MiB through a wire that drops 3% of
 * the segments both ways; the server application echoes it back and
 * closes.  The client is a small go-back-N TCP: it keeps 8 segments in
 * flight, resends from its first unacknowledged byte after 300 ms, takes
 * only in-order data and acknowledges every segment.
 */
#define ECHO_SIZE (1u << 20)
#define DROP_PERMILLE 30

struct lossy_client {
	uint32_t iss, snd_una, snd_nxt; /* offsets into the data, not sequence numbers */
	uint32_t server_iss, rcv; /* bytes received in order */
	uint16_t server_wnd;
	bool got_fin, fin_acked;
	plat_time_t timer;
	uint8_t *sent, *got;
	uint64_t rng;
	unsigned drops;
};

static bool dropped(struct lossy_client *lc)
{
	if (rng_next(&lc->rng) % 1000 < DROP_PERMILLE) {
		lc->drops++;
		return true;
	}
	return false;
}

static void lossy_send(struct tcp *t, struct lossy_client *lc, plat_time_t now, uint8_t flags,
                       uint32_t off, uint32_t len)
{
	if (dropped(lc))
		return;
	uint32_t seq = lc->iss + 1 + off;
	uint32_t ack = lc->server_iss + 1 + lc->rcv + lc->got_fin;
	wire_send(t, now, 40000, PORT, seq, ack, flags, 65535, lc->sent + off, len, 0);
}

static void lossy_client_step(struct tcp *t, struct lossy_client *lc, plat_time_t now)
{
	struct seg s;
	bool ack = false;
	while (wire_pop(&s)) {
		if (dropped(lc))
			continue;
		uint32_t off = s.seq - (lc->server_iss + 1);
		if (s.len && off == lc->rcv && lc->rcv + s.len <= ECHO_SIZE) {
			memcpy(lc->got + lc->rcv, s.data, s.len);
			lc->rcv += (uint32_t)s.len;
		}
		if ((s.flags & TH_FIN) && off + s.len == lc->rcv)
			lc->got_fin = true;
		uint32_t acked = s.ack - (lc->iss + 1);
		if (seq_gt(acked, lc->snd_una) && acked <= ECHO_SIZE + 1) {
			lc->snd_una = acked > ECHO_SIZE ? ECHO_SIZE : acked;
			lc->fin_acked = acked == ECHO_SIZE + 1;
			lc->timer = now + 300 * MS;
		}
		lc->server_wnd = s.wnd;
		ack = true;
	}
	if (lc->snd_nxt < lc->snd_una)
		lc->snd_nxt = lc->snd_una;
	if (lc->snd_una < lc->snd_nxt && now >= lc->timer) {
		lc->snd_nxt = lc->snd_una; /* go back N */
		lc->timer = now + 300 * MS;
	}
	uint32_t limit = lc->server_wnd < 8 * 1460 ? lc->server_wnd : 8 * 1460;
	while (lc->snd_nxt < ECHO_SIZE && lc->snd_nxt - lc->snd_una < limit) {
		uint32_t len = ECHO_SIZE - lc->snd_nxt < 1460 ? ECHO_SIZE - lc->snd_nxt : 1460;
		if (lc->snd_nxt - lc->snd_una + len > limit)
			break;
		if (lc->snd_una == lc->snd_nxt)
			lc->timer = now + 300 * MS;
		lossy_send(t, lc, now, TH_ACK, lc->snd_nxt, len);
		lc->snd_nxt += len;
		ack = false;
	}
	/* Once the server's FIN is in, our FIN goes with every answer until acknowledged. */
	if (lc->got_fin && !lc->fin_acked && (ack || now >= lc->timer)) {
		lossy_send(t, lc, now, TH_ACK | TH_FIN, ECHO_SIZE, 0);
		lc->timer = now + 300 * MS;
	} else if (ack) {
		lossy_send(t, lc, now, TH_ACK, lc->snd_nxt, 0);
	}
}

static void test_lossy_echo(void)
{
	struct tcp *t = wire_init();
	struct lossy_client lc = {.iss = 123456789u, .server_wnd = 65535, .rng = 42};
	lc.sent = malloc(ECHO_SIZE);
	lc.got = malloc(ECHO_SIZE);
	uint8_t *echo = malloc(ECHO_SIZE);
	uint64_t r = 7;
	for (size_t i = 0; i < ECHO_SIZE; i += 8) {
		uint64_t v = rng_next(&r);
		memcpy(lc.sent + i, &v, 8);
	}
	CHECK(tcp_listen(t, PORT) == 0);

	/* The handshake, retried by the client like any segment. */
	struct tcp_conn *c = NULL;
	plat_time_t now = 0;
	struct seg s;
	while (!c && now < 10 * SEC) {
		wire_send(t, now, 40000, PORT, lc.iss, 0, TH_SYN, 65535, NULL, 0, 1460);
		while (wire_pop(&s))
			if (s.flags == (TH_SYN | TH_ACK) && !dropped(&lc)) {
				lc.server_iss = s.seq;
				lossy_send(t, &lc, now, TH_ACK, 0, 0);
			}
		c = tcp_accept(t);
		now += 100 * MS;
	}
	CHECK(c != NULL);
	if (!c)
		goto out;

	size_t rd = 0, wr = 0;
	bool closed = false;
	for (int step = 0; step < 2000000 && !(lc.fin_acked && lc.got_fin); step++) {
		now += 1 * MS / 4;
		lossy_client_step(t, &lc, now);
		tcp_tick(t, now);
		tcp_ssize_t n;
		while (rd < ECHO_SIZE && (n = tcp_read(c, echo + rd, ECHO_SIZE - rd)) > 0)
			rd += (size_t)n;
		while (wr < rd && (n = tcp_write(c, echo + wr, rd - wr)) > 0)
			wr += (size_t)n;
		if (wr == ECHO_SIZE && !closed) {
			CHECK(tcp_read(c, echo, 1) == TCP_AGAIN);
			tcp_close(c);
			closed = true;
		}
	}
	CHECK(rd == ECHO_SIZE && memcmp(echo, lc.sent, ECHO_SIZE) == 0);
	CHECK(lc.rcv == ECHO_SIZE && memcmp(lc.got, lc.sent, ECHO_SIZE) == 0);
	CHECK(closed && lc.got_fin && lc.fin_acked);
	CHECK(lc.drops > 20);
	/* TIME-WAIT, then nothing is left. */
	tcp_tick(t, now + TCP_TIME_WAIT_NS);
	CHECK(tcp_conn_count(t) == 0);
	CHECK(wire_bad() == 0);
	/* The simulated transfer took a reasonable time despite the drops. */
	CHECK(now < 60 * SEC);
out:
	free(lc.sent);
	free(lc.got);
	free(echo);
	wire_done(t);
}

static void test_limits(void)
{
	struct tcp *t = wire_init();
	for (int i = 0; i < TCP_MAX_LISTEN; i++)
		CHECK(tcp_listen(t, (uint16_t)(1000 + i)) == 0);
	CHECK(tcp_listen(t, 1000) == 0); /* already */
	CHECK(tcp_listen(t, 2000) == -1);
	/* Unaccepted connections are bounded: the extra SYNs get no answer. */
	struct seg s;
	for (int i = 0; i < TCP_MAX_PENDING + 10; i++)
		wire_send(t, 0, (uint16_t)(10000 + i), 1000, 1, 0, TH_SYN, 65535, NULL, 0, 1460);
	CHECK(drain(&s) == TCP_MAX_PENDING);
	CHECK(tcp_conn_count(t) == TCP_MAX_PENDING);
	wire_done(t);
}

int main(void)
{
	CHECK_TEST(test_handshake_mss);
	CHECK_TEST(test_synack_retransmit);
	CHECK_TEST(test_receive_in_order);
	CHECK_TEST(test_out_of_order_and_duplicates);
	CHECK_TEST(test_retransmission_backoff);
	CHECK_TEST(test_fast_retransmit);
	CHECK_TEST(test_zero_window_probe);
	CHECK_TEST(test_peer_closes);
	CHECK_TEST(test_we_close);
	CHECK_TEST(test_reset_sent);
	CHECK_TEST(test_reset_received);
	CHECK_TEST(test_checksum);
	CHECK_TEST(test_wraparound);
	CHECK_TEST(test_concurrent);
	CHECK_TEST(test_lossy_echo);
	CHECK_TEST(test_limits);
	run_api_tests();
	return check_done("tcp");
}
