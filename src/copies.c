/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "copies.h"

#include <string.h>

void copies_init(struct copies *c)
{
	memset(c, 0, sizeof(*c));
}

static size_t alen(const struct tcp_packet *p)
{
	return p->family == 6 ? 16 : 4;
}

/* Only what forwarding leaves alone goes in: not the TTL. An index into
 * the table, not a defence: a capture is not an adversary's to flood
 * (worst case, a copy is judged twice). */
static uint64_t copy_hash(const struct tcp_packet *p)
{
	uint64_t h = (uint64_t)p->seq << 32 ^ p->ack;

	h ^= (uint64_t)p->sport << 48 ^ (uint64_t)p->dport << 32 ^ (uint64_t)p->ipid << 16 ^
	     p->flags;
	for (size_t i = 0; i < alen(p); i += 4) {
		uint32_t a, b;

		memcpy(&a, p->src + i, 4);
		memcpy(&b, p->dst + i, 4);
		h = (h ^ a ^ (uint64_t)b << 32) * 0x9e3779b97f4a7c15ULL;
	}
	return h ^ h >> 29;
}

static bool same_packet(const struct copy_entry *e, const struct tcp_packet *p, uint64_t h)
{
	return e->hash == h && e->family == p->family && e->seq == p->seq && e->ack == p->ack &&
	       e->sport == p->sport && e->dport == p->dport && e->flags == p->flags &&
	       e->window == p->window && e->ipid == p->ipid &&
	       e->payload_len == p->payload_len && !memcmp(e->src, p->src, alen(p)) &&
	       !memcmp(e->dst, p->dst, alen(p));
}

/* The copy a packet of direction p->dir would be the second of: forwarded
 * (in, then out with a TTL not higher) or looped back (out, then in, the
 * TTL unchanged). */
static bool copy_of(const struct copy_entry *e, const struct tcp_packet *p)
{
	if (e->dir == LINK_DIR_IN && p->link_dir == LINK_DIR_OUT)
		return p->ttl <= e->ttl;
	if (e->dir == LINK_DIR_OUT && p->link_dir == LINK_DIR_IN)
		return p->ttl == e->ttl;
	return false;
}

bool copies_seen(struct copies *c, const struct tcp_packet *pkt, uint64_t ts_us,
		 uint32_t *first_ifindex)
{
	uint64_t h = copy_hash(pkt);
	struct copy_entry *victim = NULL;
	bool victim_fresh = true;

	for (unsigned i = 0; i < COPY_PROBE; i++) {
		struct copy_entry *e = &c->slot[(h + i) & (COPY_SLOTS - 1)];
		bool fresh = e->ts_us && ts_us >= e->ts_us && ts_us - e->ts_us <= COPY_WINDOW_US;

		if (fresh && !e->claimed && same_packet(e, pkt, h) && copy_of(e, pkt)) {
			e->claimed = true;
			*first_ifindex = e->ifindex;
			c->merged++;
			return true;
		}
		/* Remember it in a free or stale slot, else over the oldest. */
		if (!fresh && victim_fresh) {
			victim = e;
			victim_fresh = false;
		} else if (fresh && victim_fresh && (!victim || e->ts_us < victim->ts_us)) {
			victim = e;
		}
	}
	*victim = (struct copy_entry){
		.ts_us = ts_us ? ts_us : 1, .hash = h, .seq = pkt->seq, .ack = pkt->ack,
		.payload_len = pkt->payload_len, .ifindex = pkt->link_ifindex,
		.sport = pkt->sport, .dport = pkt->dport, .ipid = pkt->ipid,
		.window = pkt->window, .family = pkt->family, .flags = pkt->flags,
		.ttl = pkt->ttl, .dir = pkt->link_dir,
	};
	memcpy(victim->src, pkt->src, alen(pkt));
	memcpy(victim->dst, pkt->dst, alen(pkt));
	return false;
}

bool copies_src_is_local(struct copies *c, const struct tcp_packet *pkt)
{
	for (unsigned i = 0; i < c->n_local; i++)
		if (c->local[i].family == pkt->family &&
		    !memcmp(c->local[i].addr, pkt->src, alen(pkt)))
			return true;
	if (pkt->flags & TCPF_RST)
		return false;
	unsigned k = c->n_local < COPY_LOCAL_MAX ? c->n_local++ : c->next_local++ % COPY_LOCAL_MAX;

	c->local[k].family = pkt->family;
	memset(c->local[k].addr, 0, sizeof(c->local[k].addr));
	memcpy(c->local[k].addr, pkt->src, alen(pkt));
	return true;
}
