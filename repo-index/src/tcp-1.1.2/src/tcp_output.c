/*
 * tcp_output.c: building and sending segments, the send policy (windows,
 * silly window avoidance) and the retransmission timer (RFC 6298).
 */
#include "tcp_int.h"

enum out_mode {
	OUT_NORMAL, /* what the windows allow; a short tail waits while data is in flight */
	OUT_FORCE, /* the same, but a short tail goes now */
	OUT_ONE, /* one segment at snd_nxt, at least one byte even into a closed window */
};

static plat_time_t min_time(plat_time_t a, plat_time_t b)
{
	return a < b ? a : b;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
	uint32_t room = min32(TCP_RCVBUF - c->rcv.len, TCP_MAX_WINDOW);
	uint32_t known = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/*
	 * Never move the right edge back, and move it forward by at least a
	 * segment or not at all (RFC 1122 4.2.3.3).
	 */
	if (room < known + TCP_MSS && room < TCP_MAX_WINDOW)
		return known;
	return room > known ? room : known;
}

/* Arm the retransmission timer: RTO doubled for each backoff, at most TCP_RTO_MAX. */
static void timer_start(struct tcp_conn *c)
{
	plat_time_t rto =
	    c->backoff >= 16 ? TCP_RTO_MAX : min_time(c->rto << c->backoff, TCP_RTO_MAX);
	c->rexmit_at = c->t->now + rto;
}

void tcp_timer_restart(struct tcp_conn *c)
{
	if (c->snd_max == c->snd_una)
		c->rexmit_at = 0;
	else
		timer_start(c);
}

void tcp_rtt_sample(struct tcp_conn *c, plat_time_t r)
{
	if (r == 0)
		r = 1;
	if (!c->srtt) {
		c->srtt = r;
		c->rttvar = r / 2;
	} else {
		plat_time_t d = c->srtt > r ? c->srtt - r : r - c->srtt;
		c->rttvar = (3 * c->rttvar + d) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
	}
	plat_time_t var = 4 * c->rttvar;
	c->rto = c->srtt + (var > TCP_CLOCK_G ? var : TCP_CLOCK_G);
	if (c->rto < TCP_RTO_MIN)
		c->rto = TCP_RTO_MIN;
	if (c->rto > TCP_RTO_MAX)
		c->rto = TCP_RTO_MAX;
}

/* Header fields common to every segment; returns the header length. */
static size_t put_header(uint8_t *h, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                         uint8_t flags, uint16_t wnd, bool mss_option)
{
	size_t hl = TCP_HLEN;
	if (mss_option) {
		h[20] = 2; /* kind: MSS */
		h[21] = 4;
		put16(h + 22, TCP_MSS);
		hl += 4;
	}
	put16(h, sport);
	put16(h + 2, dport);
	put32(h + 4, seq);
	put32(h + 8, ack);
	h[12] = (uint8_t)(hl / 4 << 4);
	h[13] = flags;
	put16(h + 14, wnd);
	put16(h + 16, 0);
	put16(h + 18, 0);
	return hl;
}

/* Checksum the segment in t->tx and hand it to ipv4 (a failed send is a lost segment). */
static void transmit(struct tcp *t, uint32_t dst, size_t len)
{
	uint16_t sum = ipv4_pseudo_checksum(t->addr, dst, IPPROTO_TCP_, t->tx, len);
	put16(t->tx + 16, sum);
	(void)ipv4_send(t->ip, dst, IPPROTO_TCP_, t->tx, len);
}

void tcp_send_segment(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct tcp *t = c->t;
	uint32_t wnd = (flags & TH_RST) ? 0 : tcp_rcv_window(c);
	uint32_t ack = (flags & TH_ACK) ? c->rcv_nxt : 0;
	size_t hl =
	    put_header(t->tx, c->lport, c->rport, seq, ack, flags, (uint16_t)wnd, flags & TH_SYN);
	if (len)
		tcp_ring_peek(&c->snd, seq - c->snd_una, t->tx + hl, len);
	transmit(t, c->raddr, hl + len);
	if ((flags & (TH_ACK | TH_RST)) == TH_ACK) {
		if (seq_gt(c->rcv_nxt + wnd, c->rcv_adv))
			c->rcv_adv = c->rcv_nxt + wnd;
		c->last_ack = c->rcv_nxt;
		c->ack_at = 0;
	}
}

void tcp_send_ack(struct tcp_conn *c)
{
	tcp_send_segment(c, c->snd_max, 0, TH_ACK);
}

void tcp_send_synack(struct tcp_conn *c)
{
	tcp_send_segment(c, c->iss, 0, TH_SYN | TH_ACK);
	c->snd_nxt = c->snd_max = c->iss + 1;
	timer_start(c);
}

void tcp_send_rst(struct tcp_conn *c)
{
	tcp_send_segment(c, c->snd_max, 0, TH_RST | TH_ACK);
}

void tcp_send_reset(struct tcp *t, const struct tcp_seg *s)
{
	if (s->flags & TH_RST)
		return;
	uint32_t seq = 0, ack = 0;
	uint8_t flags = TH_RST;
	if (s->flags & TH_ACK) {
		seq = s->ack;
	} else {
		ack = s->seq + s->len + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);
		flags |= TH_ACK;
	}
	size_t hl = put_header(t->tx, s->dport, s->sport, seq, ack, flags, 0, false);
	transmit(t, s->src, hl);
}

static bool can_output(const struct tcp_conn *c)
{
	switch (c->state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		return true;
	default:
		return false;
	}
}

static void output(struct tcp_conn *c, enum out_mode mode)
{
	if (!can_output(c))
		return;
	for (;;) {
		uint32_t flight = c->snd_nxt - c->snd_una; /* counts a sent FIN too */
		uint32_t avail = c->snd.len > flight ? c->snd.len - flight : 0;
		uint32_t win = min32(c->snd_wnd, c->cwnd);
		uint32_t usable = win > flight ? win - flight : 0;
		uint32_t len = min32(min32(avail, c->mss), usable);
		if (mode == OUT_ONE && len == 0 && avail)
			len = 1; /* the window shrank below what was in flight */
		bool fin = c->fin_queued && c->snd_nxt + len == c->fin_seq;
		if (len == 0 && !fin)
			break;
		if (mode != OUT_ONE && flight > 0 && len < c->mss && !fin) {
			/* a small segment cut by the window: wait for it to open (sender SWS) */
			if (len < avail && len < c->max_sndwnd / 2)
				break;
			/* a short tail: let the application add to it until tcp_tick */
			if (len == avail && mode == OUT_NORMAL) {
				tcp_set_flush(c, true);
				break;
			}
		}
		uint8_t flags = TH_ACK | (fin ? TH_FIN : 0) | (len && len == avail ? TH_PSH : 0);
		if (!c->rtt_active && c->snd_nxt == c->snd_max) {
			c->rtt_active = true;
			c->rtt_seq = c->snd_nxt;
			c->rtt_time = c->t->now;
		}
		tcp_send_segment(c, c->snd_nxt, len, flags);
		c->snd_nxt += len + fin;
		if (seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (!c->rexmit_at)
			timer_start(c);
		if (mode == OUT_ONE || fin)
			break;
	}
	/*
	 * Something unacknowledged, or data waiting for a closed window (to
	 * probe it when the timer fires): the timer must run.
	 */
	if (!c->rexmit_at &&
	    (c->snd_max != c->snd_una || (c->snd_wnd == 0 && c->snd.len > c->snd_nxt - c->snd_una)))
		timer_start(c);
}

void tcp_output(struct tcp_conn *c, bool force)
{
	output(c, force ? OUT_FORCE : OUT_NORMAL);
}

void tcp_fast_retransmit(struct tcp_conn *c)
{
	uint32_t len = min32(c->snd.len, c->mss);
	bool fin = c->fin_queued && c->snd_una + len == c->fin_seq;
	if (len == 0 && !fin)
		return;
	c->rtt_active = false; /* Karn: no sample from a retransmitted segment */
	tcp_send_segment(c, c->snd_una, len, TH_ACK | (fin ? TH_FIN : 0));
}

void tcp_rexmit_timeout(struct tcp_conn *c)
{
	c->rexmit_at = 0;
	if (c->state == TCPS_SYN_RECEIVED) {
		if (++c->retries > TCP_MAX_SYN_RETRIES) {
			tcp_conn_free(c);
			return;
		}
		c->backoff++;
		tcp_send_synack(c);
		return;
	}
	if (++c->retries > TCP_MAX_RETRIES) {
		tcp_send_rst(c);
		tcp_conn_drop(c);
		return;
	}
	if (c->backoff < 16)
		c->backoff++;
	c->rtt_active = false;
	if (c->snd_wnd > 0) {
		/* a loss: RFC 5681 (4) and go back to the first unacknowledged byte */
		uint32_t flight = c->snd_max - c->snd_una;
		c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
		c->cwnd = c->mss;
		c->in_recovery = false;
		c->dupacks = 0;
	}
	c->snd_nxt = c->snd_una;
	if (c->snd_wnd == 0 && c->snd.len > 0) {
		/*
		 * A window probe: one byte the peer may take.  snd_nxt stays,
		 * so the byte goes again with the rest when the window opens.
		 */
		tcp_send_segment(c, c->snd_una, 1, TH_ACK);
		if (seq_gt(c->snd_una + 1, c->snd_max))
			c->snd_max = c->snd_una + 1;
	} else {
		output(c, OUT_ONE);
	}
	if (!c->rexmit_at)
		timer_start(c);
}
