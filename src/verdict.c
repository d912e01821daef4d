/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A verdict's vocabulary (class, origin, sender and hook names, evidence),
 * and what is done with a verdict once rst_classify has given it: how far
 * away its sender sits, whether it is worth holding, whether what its
 * claimed sender sends next proves it forged. Shared by the live hold, the
 * observe-mode amendment, the offline look-ahead and the writers. */
#include "classify.h"

#include <string.h>

#include "seq.h"

static const char *const class_names[RST_CLASS_COUNT] = {
	[RST_REFUSED] = "refused",
	[RST_SYN_CONFLICT] = "syn-conflict",
	[RST_ACCEPT_OVERFLOW] = "accept-overflow",
	[RST_HALF_OPEN] = "half-open",
	[RST_FIREWALL] = "firewall",
	[RST_TIME_WAIT] = "time-wait",
	[RST_ABORT] = "abort",
	[RST_IDLE_TIMEOUT] = "idle-timeout",
	[RST_UNREAD_DATA] = "unread-data",
	[RST_INJECTED] = "injected",
	[RST_UNKNOWN] = "unknown",
};

const char *rst_class_name(enum rst_class c)
{
	return (unsigned)c < RST_CLASS_COUNT ? class_names[c] : "unknown";
}

int rst_class_from_name(const char *name)
{
	int i;

	for (i = 0; i < RST_CLASS_COUNT; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

const char *rst_origin_name(enum rst_origin o)
{
	switch (o) {
	case ORIGIN_ENDPOINT: return "endpoint";
	case ORIGIN_LOCAL_FIREWALL: return "local-firewall";
	case ORIGIN_MIDDLEBOX: return "middlebox";
	default: return "unknown";
	}
}

const char *rst_sender_name(enum rst_sender s)
{
	switch (s) {
	case SENDER_CLIENT: return "client";
	case SENDER_SERVER: return "server";
	default: return "unknown";
	}
}

const char *rst_hook_name(enum rst_hook h)
{
	switch (h) {
	case HOOK_PREROUTING: return "prerouting";
	case HOOK_OUTPUT: return "output";
	default: return "capture";
	}
}

void rst_evidence_add(struct rst_verdict *v, const char *name)
{
	size_t n;

	if (v->n_evidence >= RST_EVIDENCE_MAX)
		return;
	n = strlen(name);
	if (n > RST_EVIDENCE_LEN - 1)
		n = RST_EVIDENCE_LEN - 1;
	memcpy(v->evidence[v->n_evidence], name, n);
	v->evidence[v->n_evidence++][n] = 0;
}

bool rst_evidence_has(const struct rst_verdict *v, const char *prefix)
{
	size_t n = strlen(prefix);
	unsigned i;

	for (i = 0; i < v->n_evidence; i++)
		if (!strncmp(v->evidence[i], prefix, n))
			return true;
	return false;
}

uint8_t ttl_initial_guess(uint8_t ttl)
{
	return ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

bool rst_hops_estimate(const struct rst_verdict *v, uint8_t rst_ttl, struct rst_hops *h)
{
	if (v->origin != ORIGIN_MIDDLEBOX && v->cls != RST_INJECTED)
		return false;
	memset(h, 0, sizeof(*h));
	h->rst_initial = ttl_initial_guess(rst_ttl);
	h->rst = (uint8_t)(h->rst_initial - rst_ttl);
	if (v->expected_ttl >= 0 && v->expected_ttl <= 255) {
		h->sender_known = true;
		h->sender_initial = ttl_initial_guess((uint8_t)v->expected_ttl);
		h->sender = (uint8_t)(h->sender_initial - v->expected_ttl);
	}
	return true;
}

bool rst_suspect(const struct rst_verdict *v)
{
	return v->cls == RST_INJECTED || v->origin == ORIGIN_MIDDLEBOX ||
	       rst_evidence_has(v, "ttl-mismatch") || rst_evidence_has(v, "ipid-jump");
}

void rst_alive_probe_init(struct rst_alive_probe *p, const struct tcp_packet *rst,
			  const struct flow *f_before, int dir)
{
	const struct flow_dir *s = f_before ? &f_before->dir[dir] : NULL;
	bool sent_seq = s && (s->flags & DF_SEQ), sent_ack = s && (s->flags & DF_ACK);
	/* An RA with seq 0 answers a segment without ACK: its seq is no
	 * position of the sender's (RFC 793 reset generation). */
	bool no_seq = (rst->flags & TCPF_ACK) && rst->seq == 0;

	p->dir = dir;
	p->seq_known = !no_seq || sent_seq;
	p->rst_seq = no_seq ? (sent_seq ? s->snd_nxt : 0) : rst->seq;
	if (sent_seq && seq_after(s->snd_nxt, p->rst_seq))
		p->rst_seq = s->snd_nxt;
	p->ack_known = sent_ack || (rst->flags & TCPF_ACK);
	p->ack_before = sent_ack ? s->ack : 0;
	/* A socket's RA acks what it had received: a segment it sent before
	 * the reset, reordered behind it, acks no more than that. */
	if ((rst->flags & TCPF_ACK) && (!sent_ack || seq_after(rst->ack, p->ack_before)))
		p->ack_before = rst->ack;
}

bool rst_sender_alive(const struct rst_alive_probe *p, const struct tcp_packet *pkt, int dir)
{
	if (dir != p->dir || (pkt->flags & (TCPF_RST | TCPF_SYN)))
		return false;
	if (p->ack_known && (pkt->flags & TCPF_ACK) && seq_after(pkt->ack, p->ack_before))
		return true;
	/* Data (or a FIN) ending beyond the limit, or an empty segment past
	 * it: sequence space the sender had not used when the reset was made. */
	return p->seq_known && seq_after(pkt->seq + tcp_seg_len(pkt), p->rst_seq);
}

void rst_mark_injected_alive(struct rst_verdict *v)
{
	static const char alive[] = "sender-alive-after-reset";

	if (v->cls != RST_INJECTED || v->origin == ORIGIN_ENDPOINT)
		v->origin = ORIGIN_MIDDLEBOX;
	v->cls = RST_INJECTED;
	v->confidence = 0.9f;
	if (rst_evidence_has(v, alive))
		return;
	/* The fact that decided it must be in the event: with the evidence
	 * full, it takes the last slot. */
	if (v->n_evidence == RST_EVIDENCE_MAX)
		v->n_evidence--;
	rst_evidence_add(v, alive);
}
