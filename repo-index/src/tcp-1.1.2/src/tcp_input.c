/*
 * tcp_input.c: arriving segments.  The order of the checks is RFC 793's
 * "SEGMENT ARRIVES" (sequence number, RST, SYN, ACK, data, FIN), with the
 * challenge ACKs of RFC 5961 and the congestion control of RFC 5681/6582.
 */
#include "tcp_int.h"

static int parse(const struct tcp *t, uint32_t src, uint32_t dst, const uint8_t *p, size_t len,
                 struct tcp_seg *s)
{
	if (len < TCP_HLEN || dst != t->addr)
		return -1;
	if (ipv4_pseudo_checksum(src, dst, IPPROTO_TCP_, p, len) != 0)
		return -1;
	size_t off = (size_t)(p[12] >> 4) * 4;
	if (off < TCP_HLEN || off > len)
		return -1;
	s->src = src;
	s->dst = dst;
	s->sport = get16(p);
	s->dport = get16(p + 2);
	s->seq = get32(p + 4);
	s->ack = get32(p + 8);
	s->flags = p[13] & 0x3f;
	s->wnd = get16(p + 14);
	s->mss = 0;
	s->data = p + off;
	s->len = (uint32_t)(len - off);
	if (s->sport == 0 || s->dport == 0)
		return -1;
	/* Options: only MSS matters, and only on a SYN. */
	for (size_t i = TCP_HLEN; i < off && (s->flags & TH_SYN);) {
		uint8_t kind = p[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= off || p[i + 1] < 2 || i + p[i + 1] > off)
			break;
		if (kind == 2 && p[i + 1] == 4)
			s->mss = get16(p + i + 2);
		i += p[i + 1];
	}
	return 0;
}

/* A segment for no connection: a new one on a listening port, or RST. */
static void no_conn(struct tcp *t, const struct tcp_seg *s)
{
	if (s->flags & TH_RST)
		return;
	if (!tcp_listening(t, s->dport)) {
		tcp_send_reset(t, s);
		return;
	}
	if ((s->flags & (TH_SYN | TH_ACK | TH_FIN)) == TH_SYN) {
		struct tcp_conn *c = tcp_conn_new(t, s);
		if (c) /* else the peer retries its SYN later */
			tcp_send_synack(c);
		return;
	}
	if (s->flags & TH_ACK)
		tcp_send_reset(t, s);
	/* LISTEN drops anything else (RFC 793) */
}

static uint32_t known_window(const struct tcp_conn *c)
{
	return seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}

static bool in_window(const struct tcp_conn *c, uint32_t seq, uint32_t wnd)
{
	return seq_ge(seq, c->rcv_nxt) && seq_lt(seq, c->rcv_nxt + wnd);
}

/* RFC 793's acceptability test; a FIN needs no room in the window. */
static bool acceptable(const struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t seglen = s->len + !!(s->flags & TH_SYN);
	uint32_t wnd = known_window(c);
	if (seglen == 0)
		return s->seq == c->rcv_nxt || in_window(c, s->seq, wnd);
	if (wnd == 0)
		return false;
	return in_window(c, s->seq, wnd) || in_window(c, s->seq + seglen - 1, wnd);
}

static void enter_time_wait(struct tcp_conn *c)
{
	c->state = TCPS_TIME_WAIT;
	c->rexmit_at = 0;
	c->expire_at = c->t->now + TCP_TIME_WAIT_NS;
}

static void duplicate_ack(struct tcp_conn *c)
{
	if (++c->dupacks == 3 && !c->in_recovery) {
		uint32_t flight = c->snd_max - c->snd_una;
		c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
		c->recover = c->snd_max;
		tcp_fast_retransmit(c);
		c->cwnd = c->ssthresh + 3u * c->mss;
		c->in_recovery = true;
	} else if (c->dupacks > 3 && c->in_recovery) {
		c->cwnd += c->mss; /* each duplicate is a segment that left the network */
	}
}

static void grow_cwnd(struct tcp_conn *c, uint32_t acked)
{
	if (c->in_recovery) {
		if (seq_ge(c->snd_una, c->recover)) {
			c->cwnd = c->ssthresh;
			c->in_recovery = false;
		} else {
			/* a partial ACK: the next hole is lost too (RFC 6582) */
			tcp_fast_retransmit(c);
			c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
		}
		return;
	}
	if (c->cwnd < c->ssthresh)
		c->cwnd += acked < c->mss ? acked : c->mss;
	else
		c->cwnd += c->mss * c->mss / c->cwnd + 1;
	if (c->cwnd > 4u * TCP_MAX_WINDOW)
		c->cwnd = 4u * TCP_MAX_WINDOW;
}

/* New data acknowledged; false when that finished the connection (c is freed). */
static bool new_ack(struct tcp_conn *c, uint32_t ack)
{
	uint32_t acked = ack - c->snd_una;
	bool fin_acked = c->fin_queued && seq_gt(ack, c->fin_seq);
	tcp_ring_drop(&c->snd, fin_acked ? acked - 1 : acked);
	c->snd_una = ack;
	if (seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	if (c->rtt_active && seq_gt(ack, c->rtt_seq)) {
		tcp_rtt_sample(c, c->t->now - c->rtt_time);
		c->rtt_active = false;
	}
	c->retries = 0;
	c->backoff = 0;
	c->dupacks = 0;
	grow_cwnd(c, acked);
	tcp_timer_restart(c);
	if (!fin_acked)
		return true;
	switch (c->state) {
	case TCPS_FIN_WAIT_1:
		c->state = TCPS_FIN_WAIT_2;
		c->expire_at = c->t->now + TCP_FIN_WAIT_2_NS;
		break;
	case TCPS_CLOSING:
		enter_time_wait(c);
		break;
	case TCPS_LAST_ACK:
		tcp_conn_free(c);
		return false;
	default:
		break;
	}
	return true;
}

/* The ACK field; false when processing must stop (c may be freed). */
static bool process_ack(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (seq_gt(s->ack, c->snd_max)) {
		tcp_send_ack(c); /* acknowledges what we never sent */
		return false;
	}
	if (seq_lt(s->ack, c->snd_una))
		return true; /* an old ACK: its data may still be good */
	bool update =
	    seq_lt(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && seq_le(c->snd_wl2, s->ack));
	if (s->ack == c->snd_una) {
		if (c->snd_max != c->snd_una && s->len == 0 && !(s->flags & (TH_SYN | TH_FIN)) &&
		    s->wnd == c->snd_wnd && s->wnd != 0)
			duplicate_ack(c);
		if (c->snd_wnd == 0)
			c->retries = 0; /* it answers our window probes: it is alive */
	} else if (!new_ack(c, s->ack)) {
		return false;
	}
	if (update) {
		if (c->snd_wnd == 0 && s->wnd > 0) {
			/* The window opened: the probes' backoff is over, data goes now. */
			c->backoff = 0;
			c->retries = 0;
			c->rexmit_at = 0;
		}
		c->snd_wnd = s->wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (s->wnd > c->max_sndwnd)
			c->max_sndwnd = s->wnd;
	}
	return true;
}

/* SYN-RECEIVED and the ACK of our SYN: established. */
static bool establish(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (seq_le(s->ack, c->snd_una) || seq_gt(s->ack, c->snd_max)) {
		tcp_send_reset(c->t, s);
		return false;
	}
	c->state = TCPS_ESTABLISHED;
	c->snd_una = s->ack;
	c->snd_wnd = c->max_sndwnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	if (c->retries == 0)
		tcp_rtt_sample(c, c->t->now - c->rtt_time);
	c->retries = 0;
	c->backoff = 0;
	c->rtt_active = false;
	tcp_timer_restart(c);
	tcp_enqueue(c);
	return true;
}

static void peer_fin(struct tcp_conn *c)
{
	c->rcv_nxt++;
	c->peer_fin = true;
	switch (c->state) {
	case TCPS_ESTABLISHED:
		c->state = TCPS_CLOSE_WAIT;
		break;
	case TCPS_FIN_WAIT_1:
		if (c->snd_una == c->fin_seq + 1)
			enter_time_wait(c);
		else
			c->state = TCPS_CLOSING;
		break;
	case TCPS_FIN_WAIT_2:
		enter_time_wait(c);
		break;
	default:
		break;
	}
}

/* The segment's text and FIN, in order only. */
static void receive(struct tcp_conn *c, const struct tcp_seg *s)
{
	const uint8_t *data = s->data;
	uint32_t len = s->len;
	bool fin = (s->flags & TH_FIN) != 0;
	bool ack_now = false;
	if (len == 0 && !fin)
		return;
	if (c->state != TCPS_ESTABLISHED && c->state != TCPS_FIN_WAIT_1 &&
	    c->state != TCPS_FIN_WAIT_2) {
		tcp_send_ack(c); /* after the peer's FIN: nothing more can come */
		return;
	}
	int32_t skip = seq_diff(c->rcv_nxt, s->seq);
	if (skip < 0 || (uint32_t)skip >= len + fin) {
		tcp_send_ack(c); /* a hole before it, or all of it is old */
		return;
	}
	if (skip > 0) {
		data += skip;
		len -= (uint32_t)skip;
		ack_now = true;
	}
	uint32_t wnd = known_window(c);
	if (len > wnd) {
		len = wnd;
		fin = false;
		ack_now = true;
	}
	if (len) {
		if (c->owned || c->queued) /* else closed by the application: discarded */
			tcp_ring_write(&c->rcv, data, len);
		c->rcv_nxt += len;
	}
	if (fin) {
		peer_fin(c);
		ack_now = true;
	}
	/* Every second full segment, and at once when the window is full (the peer waits). */
	if (ack_now || c->rcv_nxt - c->last_ack >= 2u * c->mss || known_window(c) == 0)
		tcp_send_ack(c);
	else if (!c->ack_at)
		c->ack_at = c->t->now + TCP_DELACK_NS;
}

static void segment_arrives(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (c->state == TCPS_SYN_RECEIVED && (s->flags & (TH_SYN | TH_ACK)) == TH_SYN &&
	    s->seq == c->irs) {
		tcp_send_synack(c); /* our SYN-ACK was lost */
		return;
	}
	if (!acceptable(c, s)) {
		if (s->flags & TH_RST)
			return;
		tcp_send_ack(c);
		if (c->state == TCPS_TIME_WAIT && (s->flags & TH_FIN))
			enter_time_wait(c); /* the peer did not hear our ACK of its FIN */
		/* A closed window accepts no data, but its ACKs still count. */
		if (known_window(c) == 0 && s->seq == c->rcv_nxt && (s->flags & TH_ACK) &&
		    c->state != TCPS_SYN_RECEIVED && process_ack(c, s))
			tcp_output(c, false);
		return;
	}
	if (s->flags & TH_RST) {
		if (s->seq == c->rcv_nxt)
			tcp_conn_drop(c);
		else
			tcp_send_ack(c); /* challenge ACK (RFC 5961 3.2) */
		return;
	}
	if (s->flags & TH_SYN) {
		tcp_send_ack(c); /* challenge ACK (RFC 5961 4.2) */
		return;
	}
	if (!(s->flags & TH_ACK))
		return;
	if (c->state == TCPS_SYN_RECEIVED && !establish(c, s))
		return;
	if (!process_ack(c, s))
		return;
	receive(c, s);
	if (c->state == TCPS_TIME_WAIT)
		return;
	tcp_output(c, false);
}

void tcp_input(void *ctx, uint32_t src, uint32_t dst, const uint8_t *pkt, size_t len,
               plat_time_t now)
{
	struct tcp *t = ctx;
	struct tcp_seg s;
	if (now > t->now)
		t->now = now;
	if (parse(t, src, dst, pkt, len, &s) < 0)
		return;
	struct tcp_conn *c = tcp_conn_find(t, src, s.sport, s.dport);
	if (c && c->state == TCPS_TIME_WAIT && (s.flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN &&
	    seq_gt(s.seq, c->rcv_nxt)) {
		tcp_conn_free(c); /* a new incarnation (RFC 1122 4.2.2.13) */
		c = NULL;
	}
	if (!c) {
		no_conn(t, &s);
		return;
	}
	if (c->state == TCPS_CLOSED) {
		tcp_send_reset(t, &s); /* reset; only its owner still holds it */
		return;
	}
	segment_arrives(c, &s);
}
