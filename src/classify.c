/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reset classifier. Each rule below matches one signature of design §3 and
 * is tried in an order where the more specific signature wins (a reset after
 * both FINs is time-wait even though it is also stateless, and so on). Every
 * rule records the facts that decided it as evidence, in stable names. */
#include "classify.h"

#include <linux/netfilter/nf_conntrack_tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "seq.h"

void classify_settings_default(struct classify_settings *s)
{
	s->idle_threshold_s = 300;
	s->refuse_window_ms = 3000;
	s->overflow_window_ms = 1000;
	s->ttl_tolerance = 1;
	s->ct_established_timeout_s = 432000;
	s->ct_unacked_timeout_s = 300;
}

/* A fact with a value in it. */
static void evidence(struct rst_verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void evidence(struct rst_verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->n_evidence >= RST_EVIDENCE_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(v->evidence[v->n_evidence++], RST_EVIDENCE_LEN, fmt, ap);
	va_end(ap);
}

static void verdict(struct rst_verdict *v, enum rst_class c, enum rst_origin o, float conf)
{
	v->cls = c;
	v->origin = o;
	v->confidence = conf;
}

/* What the flow says about the reset, computed once for all rules. */
struct facts {
	const struct flow_dir *s;   /* the reset's sender, as seen before it */
	const struct flow_dir *p;   /* its peer */
	uint8_t s_last, p_last;     /* their last resets as judged (struct flow rst_last) */
	uint32_t s_pkts, p_pkts;    /* packets other than resets */
	bool stateless;             /* R without ACK: built for a segment, not by a socket */
	bool seq_socket;            /* seq = the sender's snd.nxt */
	bool seq_peer_ack;          /* seq = what the peer last acknowledged (its rcv.nxt) */
	bool seq_known;             /* the peer's rcv.nxt is known, so the window can be judged */
	bool in_window;
	bool ttl_mismatch;
	bool ttl_from_host;         /* judged against the host's other flows (no packet of the
				     * sender's on this one) */
	uint8_t ttl_expected;       /* the sender's usual TTL / hop limit (its own on the flow,
				     * else its host's), when either is known */
	bool ipid_jump;
	bool rst_seq_change;        /* the sender reset before, with another seq */
	bool partial;               /* data segments were not seen (rst_context.partial_view) */
	bool bytes_known;           /* both ISNs seen: seq/ack give the bytes sent each way */
	uint32_t sent, received;    /* payload bytes the sender sent / received, by seq arithmetic */
	uint64_t gap_us;            /* silence on the flow before the reset (0: unknown) */
	uint64_t trigger_gap_us;    /* silence before the peer's packet the reset answers */
	uint64_t unusual_us;        /* a silence this long is unusual for the flow (0: no history) */
	bool settled;               /* nothing outstanding either way: all data acknowledged */
	bool fin_then_reset;        /* the reset follows the sender's own FIN at once
				     * (FIN_THEN_RESET_US), the FIN not sent again */
	bool peer_fin_crossed;      /* the peer's FIN was seen, but the sender's reset does
				     * not ack it: the two crossed, the sender never got it
				     * (not in TIME-WAIT) */
	uint64_t fin_silence_us;    /* if so, how long the peer had been silent before the
				     * FIN (partial view: by the reset's TSecr), with
				     * nothing outstanding but the FIN (full view) */
	bool rst_window_opened;     /* the reset's window exceeds the sender's last one by
				     * RST_WINDOW_OPENED_BYTES or more (full view) */
	bool fin_unacked;           /* the sender retransmitted its FIN, and no ack of it was
				     * seen (a partial view sees only the peer's SYN/ACK and
				     * FIN acks) */
	uint64_t peer_silent_us;    /* partial view: how long the sender had heard nothing from
				     * its peer, by the reset's TSecr (0: unknown) */
	bool peer_window_closed;    /* the peer's last window was 0: it had stopped reading */
	bool zero_window_probes;    /* the sender's last probes were zero-window probes (its
				     * peer's window was 0 when it sent them), not keepalives */
	uint64_t age_us;
};

static bool seq_exact(const struct facts *x)
{
	return x->seq_socket || x->seq_peer_ack;
}

/* A silence the flow's own history makes unusual: this many round trips of
 * its handshake, and at least the shortest keepalive timeout Linux allows
 * (idle 1 s, one probe 1 s later). */
#define UNUSUAL_SILENCE_RTTS 1000
#define UNUSUAL_SILENCE_MIN_US 2000000ULL
/* A receiver announces a window that reading opened once it grew by two
 * segments (tcp_cleanup_rbuf); a reset offering more than that beyond the
 * sender's last window was made by a close that freed unread data. Two
 * full-sized Ethernet segments. */
#define RST_WINDOW_OPENED_BYTES 2920u
/* A FIN and a reset this close together come from one close: shutdown(),
 * then close() with SO_LINGER {1,0}. */
#define FIN_THEN_RESET_US 10000ULL
/* An IPv4 ID jump counts only this soon after the sender's previous packet. */
#define IPID_JUMP_WINDOW_US 1000000ULL

static uint64_t ms(uint64_t us)
{
	return us / 1000;
}

/* Idle time from conntrack: an established entry's timeout restarts at every
 * packet, so what is left of it tells how long the flow has been silent. While
 * data is unacknowledged (or retransmitted) conntrack restarts it at the
 * shorter unacknowledged timeout instead: a timeout left below that one is
 * measured from it (or the flow was silent for days; the shorter reading is
 * the one not to overstate). */
static uint64_t ct_idle_us(const struct ct_info *ct, const struct classify_settings *st)
{
	uint32_t from = st->ct_established_timeout_s;

	if (!ct || ct->tcp_state != TCP_CONNTRACK_ESTABLISHED)
		return 0;
	if (ct->timeout_s <= st->ct_unacked_timeout_s && st->ct_unacked_timeout_s < from)
		from = st->ct_unacked_timeout_s;
	return ct->timeout_s < from ? (uint64_t)(from - ct->timeout_s) * 1000000 : 0;
}

/* A socket's reset echoes in TSecr the TSval of the last segment it accepted
 * from its peer. Anchored on a peer packet the flow saw (its TSval and when),
 * that tells when the sender last heard its peer, even when none of the
 * packets since were seen: the silence a keepalive or idle timeout acts on.
 * The peer's clock is taken to tick once a millisecond (Linux since 4.13,
 * the BSDs, macOS, Windows); a slower one makes the silence look longer. */
static uint64_t tsecr_silence_us(const struct tcp_packet *r, const struct flow *f,
				 const struct flow_dir *p, uint64_t ts)
{
	uint64_t anchor, heard;
	int32_t ahead_ms;

	if (!r->opt.has_timestamps || !r->opt.tsecr || !p->tsval_ms)
		return 0;
	anchor = f->first_ts + (uint64_t)(p->tsval_ms - 1) * 1000;
	ahead_ms = (int32_t)(r->opt.tsecr - p->tsval);
	if (ahead_ms < 0 && (uint64_t)-(int64_t)ahead_ms * 1000 > anchor - f->first_ts)
		return 0;    /* echoes a time before the flow began: not this peer's clock */
	heard = anchor + (int64_t)ahead_ms * 1000;
	return ts > heard ? ts - heard : 0;
}

static void gather(struct facts *x, const struct tcp_packet *r, const struct flow *f, int dir,
		   uint64_t ts, const struct rst_context *ctx, const struct ttl_baseline *host,
		   const struct classify_settings *st)
{
	static const struct flow_dir none;
	const struct flow_dir *s = f ? &f->dir[dir] : &none;
	const struct flow_dir *p = f ? &f->dir[!dir] : &none;

	memset(x, 0, sizeof(*x));
	x->s = s;
	x->p = p;
	x->s_last = f ? f->rst_last[dir] : 0;
	x->p_last = f ? f->rst_last[!dir] : 0;
	x->s_pkts = s->pkts - s->rsts;
	x->p_pkts = p->pkts - p->rsts;
	x->stateless = !(r->flags & TCPF_ACK);
	x->seq_socket = (s->flags & DF_SEQ) && r->seq == s->snd_nxt;
	x->seq_peer_ack = (p->flags & DF_ACK) && r->seq == p->ack;
	/* A stateless R answering a segment of the peer's that crossed the
	 * sender's FIN carries that segment's ack: the FIN's own seq, one below
	 * what the peer acknowledged once it took the FIN. */
	if (!(r->flags & TCPF_ACK) && (s->flags & DF_FIN) && (p->flags & DF_ACK) &&
	    (s->flags & DF_SEQ) && p->ack == s->snd_nxt && r->seq == p->ack - 1)
		x->seq_peer_ack = true;
	if (p->flags & DF_ACK) {
		/* Without the peer's SYN its window scale is unknown: assume the
		 * largest, so that "outside the window" is never a false alarm. */
		uint8_t ws = p->wscale <= 14 ? p->wscale : 14;
		uint64_t win = (uint64_t)p->win << ws;

		if (win < 1)
			win = 1;
		if (win > 0x3fffffff)
			win = 0x3fffffff;
		x->seq_known = true;
		x->in_window = seq_in_window(r->seq, p->ack, (uint32_t)win);
	}
	/* The sender's own packets on the flow say what its TTL is; before it
	 * spoke on this flow, what it sent on its others (its host's baseline). */
	if (x->s_pkts > 0) {
		x->ttl_mismatch = r->ttl + st->ttl_tolerance < s->ttl_min ||
				  r->ttl > s->ttl_max + st->ttl_tolerance;
		x->ttl_expected = s->ttl_last;
	} else if (host) {
		x->ttl_mismatch = r->ttl + st->ttl_tolerance < host->min ||
				  r->ttl > host->max + st->ttl_tolerance;
		x->ttl_expected = host->last;
		x->ttl_from_host = true;
	}
	/* A sender whose IDs count up (a connected socket's counter) does not
	 * suddenly jump; Linux's own stateless resets carry ID 0. A host-wide
	 * counter (Windows) moves with all of the host's traffic: after a
	 * silence of the sender's, a jump is normal, not a sign of forgery. */
	if (r->family == 4 && x->s_pkts >= 2 && s->ipid_zero == 0 && r->ipid != 0 &&
	    ts >= s->last_ts && ts - s->last_ts < IPID_JUMP_WINDOW_US)
		x->ipid_jump = (uint16_t)(r->ipid - s->ipid) > 1024;
	x->rst_seq_change = s->rsts > 0 && r->seq != s->rst_seq;
	x->peer_window_closed = (p->flags & DF_ACK) && p->win == 0;
	x->partial = ctx->partial_view;
	if ((r->flags & TCPF_ACK) && (s->flags & DF_SYN) && (p->flags & DF_SYN)) {
		uint32_t sent = r->seq - s->isn - 1 - !!(s->flags & DF_FIN);
		uint32_t received = r->ack - p->isn - 1 - !!(p->flags & DF_FIN);

		x->bytes_known = sent < 0x80000000u && received < 0x80000000u;
		x->sent = sent;
		x->received = received;
	}
	if (f) {
		x->age_us = ts > f->first_ts ? ts - f->first_ts : 0;
		x->gap_us = x->partial ? ct_idle_us(ctx->ct, st)
				       : ts > f->last_ts ? ts - f->last_ts : 0;
		/* A box whose state expired answers the first packet after the
		 * silence at once: the silence to judge is the one before it. */
		if (x->partial && !x->stateless)
			x->peer_silent_us = tsecr_silence_us(r, f, p, ts);
		if (f->handshake_rtt_us) {
			uint64_t rtts = (uint64_t)f->handshake_rtt_us * UNUSUAL_SILENCE_RTTS;

			x->unusual_us = rtts > UNUSUAL_SILENCE_MIN_US ? rtts : UNUSUAL_SILENCE_MIN_US;
		}
		/* Live, conntrack's timer says it: the established timeout runs
		 * only while no data is unacknowledged. Offline, the sequence
		 * numbers do. */
		x->settled = x->partial
			? ctx->ct && ctx->ct->present && ctx->ct->tcp_state == TCP_CONNTRACK_ESTABLISHED &&
			  ctx->ct->timeout_s > st->ct_unacked_timeout_s
			: (s->flags & DF_SEQ) && (p->flags & DF_SEQ) && s->ack == p->snd_nxt &&
			  p->ack == s->snd_nxt;
		/* Its last window must be scaled (not its SYN's): it sent more. */
		if (!x->partial && (r->flags & TCPF_ACK) && s->wscale <= 14 && x->s_pkts >= 2 &&
		    !(s->flags & DF_SYN_RETX) && (p->flags & DF_DATA) && r->window > s->win)
			x->rst_window_opened = ((uint64_t)(r->window - s->win) << s->wscale) >=
					       RST_WINDOW_OPENED_BYTES;
		x->zero_window_probes = (f->zero_window_probed >> dir) & 1;
		x->fin_unacked = ((f->fin_retx >> dir) & 1) &&
				 (!(p->flags & DF_ACK) || seq_before(p->ack, s->snd_nxt));
		x->fin_then_reset = (s->flags & DF_FIN) && !((f->fin_retx >> dir) & 1) &&
				    ts >= s->fin_ts && ts - s->fin_ts <= FIN_THEN_RESET_US;
		x->peer_fin_crossed = !x->stateless && (p->flags & DF_FIN) && (p->flags & DF_SEQ) &&
				      r->ack == p->snd_nxt - 1;
		if (x->fin_then_reset && x->partial)
			x->fin_silence_us = x->peer_silent_us;
		else if (x->fin_then_reset && s->fin_ts > p->last_ts && (s->flags & DF_SEQ) &&
			 (p->flags & DF_SEQ) && s->ack == p->snd_nxt && p->ack == s->snd_nxt - 1)
			x->fin_silence_us = s->fin_ts - p->last_ts;
		else if (x->fin_then_reset && x->peer_fin_crossed && p->fin_ts > s->fin_ts &&
			 (s->flags & DF_SEQ) && s->ack == p->snd_nxt - 1 &&
			 (p->ack == s->snd_nxt || p->ack == s->snd_nxt - 1) && !s->keepalives &&
			 !p->keepalives &&
			 ((s->flags | p->flags) & DF_DATA)) {
			/* The peer's FIN came after the sender's: its packets
			 * before the FIN were the last exchange's, and the
			 * silence ran from the newest data either way. */
			uint64_t last = s->last_data_ts > p->last_data_ts ? s->last_data_ts
									  : p->last_data_ts;

			if (s->fin_ts > last)
				x->fin_silence_us = s->fin_ts - last;
		}
		x->trigger_gap_us = x->gap_us;
		if (!x->partial && f->dir[!dir].last_ts == f->last_ts &&
		    (uint64_t)f->idle_before_last_ms * 1000 > x->trigger_gap_us)
			x->trigger_gap_us = (uint64_t)f->idle_before_last_ms * 1000;
	}
}

static enum rst_sender sender_of(const struct flow *f, int dir, struct rst_verdict *v)
{
	uint16_t lo, hi;

	if (!f)
		return SENDER_UNKNOWN;
	if (f->orig_guessed) {
		/* No SYN seen: trust the guess only if the ports tell a server
		 * (a well-known port) from a client (an ephemeral port). */
		lo = f->key.port[DIR_RESP];
		hi = f->key.port[DIR_ORIG];
		if (lo == hi || !(lo < 1024 || (hi >= 32768 && lo < 32768)))
			return SENDER_UNKNOWN;
		rst_evidence_add(v, "orig-by-port");
	}
	return dir == DIR_ORIG ? SENDER_CLIENT : SENDER_SERVER;
}

/* Live mode with only resets queued: conntrack is all the history there is. */
static void classify_from_ct(const struct tcp_packet *r, const struct ct_info *ct,
			     const struct classify_settings *st, struct rst_verdict *v)
{
	evidence(v, "ct-state:%s", ct_state_name(ct->tcp_state));
	switch (ct->tcp_state) {
	case TCP_CONNTRACK_SYN_SENT:
		if (ct->reply_is_sender && !(r->flags & TCPF_SYN)) {
			rst_evidence_add(v, "answers-syn");
			verdict(v, RST_REFUSED, ORIGIN_ENDPOINT, 0.7f);
			return;
		}
		break;
	case TCP_CONNTRACK_ESTABLISHED: {
		uint64_t idle = ct_idle_us(ct, st) / 1000000;

		if (idle > st->idle_threshold_s) {
			evidence(v, "ct-idle:%llus", (unsigned long long)idle);
			verdict(v, RST_IDLE_TIMEOUT, ORIGIN_ENDPOINT, 0.6f);
		} else if (r->flags & TCPF_ACK) {
			rst_evidence_add(v, "socket-reset-shape");
			verdict(v, RST_ABORT, ORIGIN_ENDPOINT, 0.45f);
		} else {
			rst_evidence_add(v, "stateless-reset");
			verdict(v, RST_HALF_OPEN, ORIGIN_ENDPOINT, 0.45f);
		}
		return;
	}
	case TCP_CONNTRACK_TIME_WAIT:
	case TCP_CONNTRACK_LAST_ACK:
	case TCP_CONNTRACK_CLOSE:
		verdict(v, RST_TIME_WAIT, ORIGIN_ENDPOINT, 0.6f);
		return;
	default:
		break;
	}
	rst_evidence_add(v, "no-flow-history");
	verdict(v, RST_UNKNOWN, ORIGIN_UNKNOWN, 0.2f);
}

static void evidence_ttl_mismatch(const struct facts *x, const struct tcp_packet *r,
				  struct rst_verdict *v)
{
	evidence(v, "ttl-mismatch:%u/%u", x->ttl_expected, r->ttl);
	if (x->ttl_from_host)
		rst_evidence_add(v, "host-baseline");
}

/* Resets that carry signs of not coming from the endpoint they claim. */
static bool classify_forged(const struct facts *x, const struct tcp_packet *r,
			    const struct classify_settings *st, struct rst_verdict *v)
{
	if (x->ttl_mismatch) {
		evidence_ttl_mismatch(x, r, v);
		if (x->trigger_gap_us > (uint64_t)st->idle_threshold_s * 1000000) {
			/* A stateful box whose entry expired answers for the endpoint. */
			evidence(v, "idle:%llus", (unsigned long long)(x->trigger_gap_us / 1000000));
			verdict(v, RST_IDLE_TIMEOUT, ORIGIN_MIDDLEBOX, 0.7f);
		} else if (seq_exact(x) && !x->rst_seq_change) {
			/* It knows the connection's exact sequence: a firewall or IPS
			 * on the path that tracks state, not a blind guesser. */
			rst_evidence_add(v, "seq-exact");
			verdict(v, RST_FIREWALL, ORIGIN_MIDDLEBOX, 0.75f);
		} else if (x->partial && !x->rst_seq_change) {
			/* Data unseen: its seq can be neither confirmed nor faulted. */
			rst_evidence_add(v, "seq-unverified");
			verdict(v, RST_FIREWALL, ORIGIN_MIDDLEBOX, 0.6f);
		} else {
			/* In the window it saw the connection: it sits on the path. A
			 * blind forger's seq misses the window; where it is, no one can say. */
			bool blind = x->seq_known && !x->in_window;

			if (x->rst_seq_change)
				evidence(v, "rst-seq-change:%u", x->s->rst_seq_jumps + 1u);
			rst_evidence_add(v, blind ? "seq-outside-window" : "seq-not-next");
			verdict(v, RST_INJECTED, blind ? ORIGIN_UNKNOWN : ORIGIN_MIDDLEBOX, 0.85f);
		}
		return true;
	}
	if (seq_exact(x) || x->partial)
		return false;
	if (x->seq_known && !x->in_window) {
		rst_evidence_add(v, "seq-outside-window");
		verdict(v, RST_INJECTED, ORIGIN_UNKNOWN, 0.6f);
		return true;
	}
	if (x->rst_seq_change && x->seq_known) {
		rst_evidence_add(v, "rst-seq-change");
		verdict(v, RST_INJECTED, ORIGIN_UNKNOWN, 0.65f);
		return true;
	}
	if (x->ipid_jump && x->seq_known) {
		rst_evidence_add(v, "ipid-jump");
		rst_evidence_add(v, "seq-not-next");
		verdict(v, RST_INJECTED, ORIGIN_UNKNOWN, 0.6f);
		return true;
	}
	return false;
}

/* The peer's SYN is pending and the sender answers it. */
static bool classify_handshake(const struct facts *x, const struct tcp_packet *r, int dir,
			       uint64_t ts,
			       const struct classify_settings *st, struct rst_verdict *v)
{
	const struct flow_dir *s = x->s, *p = x->p;
	uint64_t delay;

	if ((s->flags & DF_SYN) && !(p->flags & (DF_SYN | DF_SEEN)) && dir == DIR_ORIG) {
		/* The originator gives up on its own unanswered SYN. */
		rst_evidence_add(v, "own-syn-unanswered");
		verdict(v, RST_ABORT, ORIGIN_ENDPOINT, 0.4f);
		return true;
	}
	if (!(p->flags & DF_SYN) || (p->flags & DF_ACK) || (s->flags & DF_SYN) || dir != DIR_RESP)
		return false;
	if (!(r->flags & TCPF_ACK) || (r->ack != p->isn + 1 && r->ack != p->snd_nxt)) {
		rst_evidence_add(v, "bad-ack-for-syn");
		verdict(v, RST_INJECTED, ORIGIN_UNKNOWN, 0.6f);
		return true;
	}
	delay = ts > p->last_ts ? ts - p->last_ts : 0;
	if (x->ttl_mismatch) {
		/* Shaped as the server's answer, with a TTL unlike the server's
		 * on its other flows: a box on the path rejected the SYN. */
		evidence_ttl_mismatch(x, r, v);
		rst_evidence_add(v, "answers-syn");
		verdict(v, RST_FIREWALL, ORIGIN_MIDDLEBOX, 0.6f);
	} else if (delay <= (uint64_t)st->refuse_window_ms * 1000) {
		rst_evidence_add(v, "answers-syn");
		verdict(v, RST_REFUSED, ORIGIN_ENDPOINT, r->seq == 0 ? 0.95f : 0.85f);
	} else {
		evidence(v, "slow-answer:%llums", (unsigned long long)ms(delay));
		verdict(v, RST_REFUSED, ORIGIN_ENDPOINT, 0.6f);
	}
	if (p->pkts > 1)
		rst_evidence_add(v, "syn-retransmitted");
	return true;
}

static void evidence_bytes(const struct facts *x, struct rst_verdict *v)
{
	if (x->bytes_known)
		evidence(v, "bytes:sent=%u,received=%u", x->sent, x->received);
}

/* After a reset claimed from the peer (a firewall's reject, a forgery, the
 * peer's own abort) killed the sender's end, the peer talked on, and the
 * sender's kernel answered that with the stateless R it sends for a segment
 * of no connection (NO_SOCKET). Not a restart: a consequence, named by the
 * reset that caused it and classed by its cause. */
static bool classify_follow_on(const struct facts *x, uint64_t ts, struct rst_verdict *v)
{
	const struct flow_dir *s = x->s, *p = x->p;
	enum rst_class cause;

	if (!p->rsts || !p->rst_ts || !FLOW_RST_CLASS(x->p_last) || ts < p->rst_ts ||
	    (s->rsts && s->rst_ts >= p->rst_ts) || !x->stateless || x->ttl_mismatch)
		return false;
	/* A connection to kill: synchronized (the sender acknowledged, or the
	 * peer answered the handshake; a partial view sees no bare ACKs). A
	 * reset inside the handshake answers no connection of the sender's. */
	if (!(s->flags & DF_ACK) && !((p->flags & DF_SYN) && (p->flags & DF_ACK)))
		return false;
	/* The segment it answers came after the peer's reset; a partial view
	 * may not have seen it (data of a flow not watched). */
	if (!(p->last_ts > p->rst_ts) && !x->partial)
		return false;
	uint64_t since_ms = ms(ts - p->rst_ts);

	cause = (enum rst_class)(FLOW_RST_CLASS(x->p_last) - 1);
	v->follows = FLOW_RST_CLASS(x->p_last);
	v->follows_ms = since_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)since_ms;
	rst_evidence_add(v, "answers-earlier-reset");
	evidence(v, "earlier-reset:%s:%ums", rst_class_name(cause), v->follows_ms);
	verdict(v, cause, ORIGIN_ENDPOINT, 0.75f);
	return true;
}

static bool classify_established(const struct facts *x, const struct tcp_packet *r, int dir,
				 const struct classify_settings *st, struct rst_verdict *v)
{
	const struct flow_dir *s = x->s, *p = x->p;
	bool s_synced = s->flags & (DF_ACK | DF_SYN);
	uint64_t idle_us = (uint64_t)st->idle_threshold_s * 1000000;

	/* A SYN met by a bare ACK (RFC 5961 challenge ACK from a side that
	 * still holds a connection on the 4-tuple), answered by R. A partial
	 * view does not show the ACK; the new ISN and the R are enough. */
	if (x->stateless && (s->flags & DF_SYN_RETX) && x->partial) {
		rst_evidence_add(v, "syn-new-isn");
		verdict(v, RST_SYN_CONFLICT, ORIGIN_ENDPOINT, 0.7f);
		return true;
	}
	if (x->stateless && x->seq_peer_ack && p->last_ts >= s->last_ts &&
	    ((s->flags & DF_SYN_RETX) ||
	     ((s->flags & DF_SYN) && !(s->flags & DF_ACK) && !(p->flags & DF_SYN)))) {
		bool seen_old = s->flags & DF_SYN_RETX;

		rst_evidence_add(v, seen_old ? "syn-new-isn" : "syn-met-by-ack");
		rst_evidence_add(v, "answers-challenge-ack");
		verdict(v, RST_SYN_CONFLICT, ORIGIN_ENDPOINT, seen_old ? 0.85f : 0.6f);
		return true;
	}
	/* Data the peer sent after the sender's FIN reached a closed socket:
	 * data after close, whether or not the peer's own FIN followed it (both
	 * FINs seen is not TIME-WAIT then). */
	if ((s->flags & DF_FIN) && (p->flags & DF_DATA) && p->last_data_ts > s->fin_ts) {
		rst_evidence_add(v, "data-after-fin");
		verdict(v, RST_UNREAD_DATA, ORIGIN_ENDPOINT, 0.8f);
		return true;
	}
	/* Its FIN sent again and never acknowledged (the peer's own FIN, if
	 * any, acked no more): never in TIME-WAIT, and no data came after its
	 * close; it gave up on an unresponsive peer and aborted (SO_LINGER 0
	 * in FIN_WAIT1 or CLOSING). */
	if (x->fin_unacked && !x->stateless) {
		rst_evidence_add(v, "own-fin-unacked");
		evidence_bytes(x, v);
		verdict(v, RST_ABORT, ORIGIN_ENDPOINT, x->partial ? 0.6f : 0.7f);
		return true;
	}
	if ((s->flags & DF_FIN) && (p->flags & DF_FIN) && !x->peer_fin_crossed) {
		rst_evidence_add(v, "after-both-fins");
		if (x->stateless)
			rst_evidence_add(v, "stateless-reset");
		verdict(v, RST_TIME_WAIT, ORIGIN_ENDPOINT, 0.8f);
		return true;
	}
	/* With the accept queue full the server never got a socket for the
	 * flow: nothing after its SYN/ACK, not even an ACK of the client's data,
	 * and its reset is the stateless answer to the client's ACK. */
	if (dir == DIR_RESP && (s->flags & DF_SYN) && !(s->flags & (DF_DATA | DF_FIN)) &&
	    s->snd_nxt == s->isn + 1 && !(p->flags & DF_FIN) &&
	    x->age_us < (uint64_t)st->overflow_window_ms * 1000 &&
	    (x->partial ? x->stateless && x->seq_socket
			: s->ack == p->isn + 1 && (p->flags & DF_ACK))) {
		rst_evidence_add(v, "after-handshake");
		rst_evidence_add(v, "server-silent-after-synack");
		evidence(v, "flow-age:%llums", (unsigned long long)ms(x->age_us));
		verdict(v, RST_ACCEPT_OVERFLOW, ORIGIN_ENDPOINT, x->partial ? 0.75f : 0.85f);
		return true;
	}
	/* A FIN and at once a reset (shutdown, then close with SO_LINGER 0)
	 * ending a silence of the peer's that the flow makes unusual, nothing
	 * outstanding but the FIN: an application's idle timer (haproxy's
	 * keep-alive timeout with option nolinger). A client that closes when
	 * it reads the FIN sends its own, which crosses the reset: the reset
	 * does not ack it, and the sender was never in TIME-WAIT. Live, the
	 * silence is the reset's TSecr and what was outstanding is unknown. */
	if (x->fin_then_reset && !x->stateless && (!(p->flags & DF_FIN) || x->peer_fin_crossed) &&
	    x->unusual_us && x->fin_silence_us > x->unusual_us) {
		evidence(v, "peer-silent:%llums", (unsigned long long)ms(x->fin_silence_us));
		rst_evidence_add(v, "unusual-silence");
		rst_evidence_add(v, "after-own-fin");
		if (x->peer_fin_crossed)
			rst_evidence_add(v, "peer-fin-crossed");
		verdict(v, RST_IDLE_TIMEOUT, ORIGIN_ENDPOINT, x->partial ? 0.45f : 0.5f);
		return true;
	}
	if (x->partial && (s->flags & DF_FIN) && !(p->flags & DF_FIN)) {
		/* Closed, and reset anyway: the peer kept sending (data unseen). */
		rst_evidence_add(v, "after-own-fin");
		evidence_bytes(x, v);
		verdict(v, RST_UNREAD_DATA, ORIGIN_ENDPOINT, 0.5f);
		return true;
	}
	if (x->stateless && s_synced && !(s->flags & DF_FIN) &&
	    (x->partial || (x->seq_peer_ack && p->last_ts > s->last_ts))) {
		rst_evidence_add(v, "stateless-reset");
		rst_evidence_add(v, x->partial ? "seq-unverified" : "answers-peer-segment");
		if (x->gap_us >= 1000000)
			evidence(v, "idle:%llus", (unsigned long long)(x->gap_us / 1000000));
		verdict(v, RST_HALF_OPEN, ORIGIN_ENDPOINT, x->partial ? 0.6f : 0.8f);
		return true;
	}
	/* The peer's window was shut: it had stopped reading, and the sender's
	 * probes (if any) were zero-window probes, answered with window 0, not
	 * keepalives. The sender gave up on a peer that reads nothing (nginx's
	 * send_timeout with reset_timedout_connection): an abort, whatever the
	 * silence. */
	if (!x->stateless && s_synced && x->peer_window_closed && !(p->flags & DF_FIN) &&
	    !x->rst_window_opened) {
		rst_evidence_add(v, "peer-zero-window");
		if (x->zero_window_probes)
			evidence(v, "zero-window-probes:%u", s->keepalives);
		evidence_bytes(x, v);
		verdict(v, RST_ABORT, ORIGIN_ENDPOINT, 0.8f);
		return true;
	}
	if (s->keepalives > 0 && !x->zero_window_probes && p->last_ts < s->last_ts) {
		evidence(v, "keepalive-probes:%u", s->keepalives);
		rst_evidence_add(v, "peer-silent");
		verdict(v, RST_IDLE_TIMEOUT, ORIGIN_ENDPOINT, 0.85f);
		return true;
	}
	/* The partial view sees no probes, but the sender's TSecr says how long
	 * its peer had been silent: past the threshold, that silence is the
	 * cause (a reset for unread data follows the peer's data at once). */
	if (x->peer_silent_us > idle_us) {
		evidence(v, "peer-silent:%llus", (unsigned long long)(x->peer_silent_us / 1000000));
		rst_evidence_add(v, "tsecr");
		verdict(v, RST_IDLE_TIMEOUT, ORIGIN_ENDPOINT, 0.6f);
		return true;
	}
	/* The server resets with the client's data newest and never answered:
	 * it closed a socket whose receive queue still held that data. A partial
	 * view has only the byte counts: it got more than it ever sent back
	 * (none, or an error answer to an oversized request). The
	 * wire cannot tell it from a server that read the request whole and
	 * aborted without an answer (nginx return 444 with reset_timedout_
	 * connection, haproxy reject with nolinger): both resets are the same
	 * tcp_send_active_reset, so the other candidate is named. */
	if (dir == DIR_RESP && !x->stateless && !(s->flags & DF_FIN) &&
	    (x->partial ? x->bytes_known && x->received > x->sent
			: (p->flags & DF_DATA) && r->ack == p->snd_nxt &&
			  (!(s->flags & DF_DATA) || p->last_data_ts > s->last_data_ts))) {
		rst_evidence_add(v, "unanswered-peer-data");
		evidence_bytes(x, v);
		rst_evidence_add(v, "could-be:abort");
		verdict(v, RST_UNREAD_DATA, ORIGIN_ENDPOINT, x->partial ? 0.5f : 0.6f);
		return true;
	}
	if (x->gap_us > idle_us) {
		evidence(v, "idle:%llus", (unsigned long long)(x->gap_us / 1000000));
		verdict(v, RST_IDLE_TIMEOUT, ORIGIN_ENDPOINT, 0.7f);
		return true;
	}
	/* Below the threshold: a socket's reset ending a silence of its peer
	 * that the flow's history makes unusual (thousands of its round trips),
	 * with nothing outstanding either way, is a keepalive timeout with
	 * settings of seconds or an application's idle timer. The wire cannot
	 * tell it from an application that aborts after as long a pause of its
	 * own: hence the lower confidence (README, Reset classes). */
	uint64_t silence = x->partial ? x->peer_silent_us : x->gap_us;

	/* Keepalives the peer answered (unanswered ones were decided above)
	 * show a live peer: a reset after them is an abort. */
	if (!x->stateless && s_synced && !(s->flags & DF_FIN) && x->settled && x->unusual_us &&
	    silence > x->unusual_us && (x->partial || seq_exact(x)) && !s->keepalives) {
		evidence(v, "peer-silent:%llums", (unsigned long long)ms(silence));
		rst_evidence_add(v, "unusual-silence");
		verdict(v, RST_IDLE_TIMEOUT, ORIGIN_ENDPOINT, 0.5f);
		return true;
	}
	if (s_synced && seq_exact(x) && !x->stateless && x->rst_window_opened) {
		/* Its reset offers more receive space than its last segment, by
		 * more than reading would have announced first: closing freed
		 * data the application never read (a response sent, the rest of
		 * an oversized request left unread: nginx's 400 with
		 * lingering_close off). */
		rst_evidence_add(v, "rst-window-opened");
		evidence_bytes(x, v);
		verdict(v, RST_UNREAD_DATA, ORIGIN_ENDPOINT, 0.7f);
		return true;
	}
	if (s_synced && (seq_exact(x) || (x->partial && !x->stateless))) {
		float conf = x->stateless ? 0.5f : x->partial ? 0.6f : 0.75f;

		rst_evidence_add(v, x->stateless ? "stateless-reset" : "socket-reset");
		evidence_bytes(x, v);
		if (s->flags & DF_FIN) {
			rst_evidence_add(v, "after-own-fin");
			conf = 0.5f;
		}
		if (dir == DIR_ORIG && (p->flags & DF_DATA) &&
		    (!(s->flags & DF_DATA) || p->last_data_ts > s->last_data_ts))
			rst_evidence_add(v, "peer-data-pending");
		verdict(v, RST_ABORT, ORIGIN_ENDPOINT, conf);
		return true;
	}
	return false;
}

void rst_classify(const struct tcp_packet *r, const struct flow *f, int dir, uint64_t ts,
		  const struct rst_context *ctx, const struct ttl_baseline *host,
		  const struct classify_settings *st, struct rst_verdict *v)
{
	static const struct rst_context capture_ctx = { .hook = HOOK_CAPTURE };
	const struct ct_info *ct;
	struct facts x;

	if (!ctx)
		ctx = &capture_ctx;
	ct = ctx->ct && ctx->ct->present ? ctx->ct : NULL;
	/* Every field but the evidence text past n_evidence (never read) is
	 * set here: a memset of the whole verdict costs more than the rest of
	 * a flood reset's classification. */
	v->n_evidence = 0;
	v->expected_ttl = -1;
	v->follows = 0;
	v->follows_ms = 0;
	verdict(v, RST_UNKNOWN, ORIGIN_UNKNOWN, 0.2f);
	v->sender = sender_of(f, dir, v);
	gather(&x, r, f, dir, ts, ctx, host, st);
	if (x.s_pkts > 0 || x.ttl_from_host)
		v->expected_ttl = x.ttl_expected;

	if (r->payload_len)
		evidence(v, "rst-with-data:%u", r->payload_len);
	if (r->diag.present)
		evidence(v, "diag-reason:%u", r->diag.reason);

	if (ctx->hook == HOOK_OUTPUT && (!ctx->src_is_local || ctx->via_log)) {
		/* On the output path with someone else's source address: only
		 * nf_reject builds such a packet, i.e. a rule of this host. With
		 * the host's own address (a connection to the host itself, such
		 * as its ssh): a reset leaving with its flow's conntrack entry
		 * unconfirmed (which is what sends it through the log group) was
		 * made for a packet a rule stopped before conntrack confirmed it;
		 * the host's own TCP stack answers only packets that passed. */
		rst_evidence_add(v, "made-by-this-host");
		if (ctx->via_log)
			rst_evidence_add(v, "new-flow");
		if (ctx->src_is_local)
			rst_evidence_add(v, "to-this-host");
		verdict(v, RST_FIREWALL, ORIGIN_LOCAL_FIREWALL, 0.95f);
		return;
	}
	if (!f || (x.s_pkts == 0 && x.p_pkts == 0)) {
		if (ct)
			classify_from_ct(r, ct, st, v);
		else
			rst_evidence_add(v, "no-flow-history");
		return;
	}
	if (classify_handshake(&x, r, dir, ts, st, v)) {
		/* decided */
	} else if (x.s->rsts > 0 && FLOW_RST_CLASS(x.s_last) && !x.ttl_mismatch &&
		   !x.rst_seq_change) {
		/* The same sender resetting again (a retransmitted trigger, or
		 * the RA-then-R pair of a closing socket): same cause. */
		enum rst_class prev = (enum rst_class)(FLOW_RST_CLASS(x.s_last) - 1);

		rst_evidence_add(v, "after-own-reset");
		verdict(v, prev, (x.s_last & FLOW_RST_ANSWER) ? ORIGIN_ENDPOINT
			: prev == RST_FIREWALL ? ORIGIN_MIDDLEBOX
			: prev == RST_INJECTED || prev == RST_UNKNOWN ? ORIGIN_UNKNOWN
			: ORIGIN_ENDPOINT, 0.7f);
	} else if (classify_follow_on(&x, ts, v)) {
		/* decided */
	} else if (!classify_forged(&x, r, st, v) && !classify_established(&x, r, dir, st, v)) {
		if (!x.seq_known)
			rst_evidence_add(v, "peer-ack-unseen");
		else
			rst_evidence_add(v, "seq-unexplained");
		verdict(v, RST_UNKNOWN, ORIGIN_UNKNOWN, 0.3f);
	}
	if (ct)
		evidence(v, "ct-state:%s", ct_state_name(ct->tcp_state));
	if (f->orig_guessed && v->cls != RST_UNKNOWN) {
		rst_evidence_add(v, "mid-stream");
		v->confidence *= 0.9f;
	}
}
