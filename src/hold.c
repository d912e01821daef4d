/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hold.h"

#include <stdio.h>
#include <string.h>

void kept_event_set(struct kept_event *k, const struct rst_event *ev)
{
	k->ev = *ev;
	k->pkt = *ev->pkt;
	k->pkt.payload = NULL;
	k->ev.pkt = &k->pkt;
	k->ctx = *ev->ctx;
	k->ev.ctx = &k->ctx;
	if (ev->ctx->ct) {
		k->ct = *ev->ctx->ct;
		k->ctx.ct = &k->ct;
	}
	if (ev->in_iface) {
		snprintf(k->ifname, sizeof(k->ifname), "%s", ev->in_iface);
		k->ev.in_iface = k->ifname;
	}
}

uint64_t hold_time_us(uint32_t rtt_us, uint64_t min_us, uint64_t max_us)
{
	uint64_t t = 2 * (uint64_t)rtt_us;

	if (t < min_us)
		t = min_us;
	return t > max_us ? max_us : t;
}

struct held_reset *hold_add(struct hold_table *t)
{
	for (unsigned i = 0; i < HOLD_MAX; i++)
		if (!t->e[i].in_use) {
			t->e[i].in_use = true;
			t->n++;
			return &t->e[i];
		}
	return NULL;
}

/* pkt travels in the reset's direction (same sender) or the other way on
 * its 4-tuple; -1 if it belongs to another flow. */
static int same_flow_dir(const struct tcp_packet *rst, const struct tcp_packet *p)
{
	size_t alen = rst->family == 4 ? 4 : 16;

	if (p->family != rst->family)
		return -1;
	if (p->sport == rst->sport && p->dport == rst->dport &&
	    !memcmp(p->src, rst->src, alen) && !memcmp(p->dst, rst->dst, alen))
		return 1;
	if (p->sport == rst->dport && p->dport == rst->sport &&
	    !memcmp(p->src, rst->dst, alen) && !memcmp(p->dst, rst->src, alen))
		return 0;
	return -1;
}

struct held_reset *hold_find_alive(struct hold_table *t, const struct tcp_packet *pkt)
{
	if (!t->n)
		return NULL;
	for (unsigned i = 0; i < HOLD_MAX; i++) {
		struct held_reset *h = &t->e[i];
		int same;

		if (!h->in_use)
			continue;
		same = same_flow_dir(&h->k.pkt, pkt);
		if (same < 0)
			continue;
		if (rst_sender_alive(&h->probe, pkt, same ? h->probe.dir : !h->probe.dir))
			return h;
	}
	return NULL;
}

static uint64_t due_at(const struct held_reset *h)
{
	return h->queued && h->release_us < h->until_us ? h->release_us : h->until_us;
}

struct held_reset *hold_find_due(struct hold_table *t, uint64_t now_us)
{
	if (!t->n)
		return NULL;
	for (unsigned i = 0; i < HOLD_MAX; i++)
		if (t->e[i].in_use && due_at(&t->e[i]) <= now_us)
			return &t->e[i];
	return NULL;
}

struct held_reset *hold_first(struct hold_table *t)
{
	return hold_find_due(t, UINT64_MAX);
}

void hold_remove(struct hold_table *t, struct held_reset *h)
{
	if (h->in_use) {
		h->in_use = false;
		t->n--;
	}
}

uint64_t hold_next_due(const struct hold_table *t)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; t->n && i < HOLD_MAX; i++)
		if (t->e[i].in_use && due_at(&t->e[i]) < next)
			next = due_at(&t->e[i]);
	return next;
}
