/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A worker's conntrack marks: the class, dropped and watch bits it writes on
 * a judged reset's entry, and the watch list of flows whose watch bit it set
 * (or took over), cleared when --watch-seconds is up. Split from worker.c;
 * one worker thread calls these for its own struct worker. */
#include "worker_marks.h"

#include <errno.h>
#include <string.h>

static bool tuple_is(const struct tcp_packet *t, const uint8_t *src, const uint8_t *dst,
		     uint16_t sport, uint16_t dport)
{
	return !memcmp(t->src, src, 16) && !memcmp(t->dst, dst, 16) &&
	       t->sport == sport && t->dport == dport;
}

/* p's flow on the watch list, in either direction: the tuple as the reset
 * travelled, or its reply (flows that share a source address and ports
 * towards two destinations are two flows). */
static struct watch_entry *watch_find(struct worker *w, const struct tcp_packet *p)
{
	unsigned i;

	for (i = 0; i < w->n_watch; i++) {
		const struct tcp_packet *t = &w->watch[i].tuple;

		if (t->family == p->family &&
		    (tuple_is(t, p->src, p->dst, p->sport, p->dport) ||
		     tuple_is(t, p->dst, p->src, p->dport, p->sport)))
			return &w->watch[i];
	}
	return NULL;
}

static void watch_add(struct worker *w, const struct tcp_packet *p, uint64_t until)
{
	struct watch_entry *e = watch_find(w, p);

	if (e) {
		e->until_us = until;
		return;
	}
	if (w->n_watch == WATCH_MAX)
		return;    /* the bit then stays until conntrack forgets the flow */
	w->watch[w->n_watch].tuple = *p;
	w->watch[w->n_watch++].until_us = until;
}

/* A mark update, counted: ENOENT is the entry deleted or expired since it was
 * looked up (a busy table's early drop, `conntrack -D`, a refused flow's
 * entry going as its reset passes), not a failure. */
static int ct_mark_counted(struct worker *w, const struct tcp_packet *pkt, uint32_t value,
			   uint32_t mask)
{
	if (ct_mark_update(w->ct, pkt, value, mask) == 0) {
		metrics_inc(&w->m.ct_marks_set);
		return 0;
	}
	if (errno == ENOENT) {
		metrics_inc(&w->m.ct_marks_gone);
	} else {
		metrics_inc(&w->m.ct_mark_errors);
		metrics_inc(&w->m.ct_failures[CT_OP_MARK][ct_failure_of(errno)]);
	}
	return -1;
}

/* A copy that is no SYN, FIN or reset comes from the watch chains: its
 * flow's watch bit is set. If this worker did not set it (an HA peer did,
 * and conntrackd brought the mark over at the failover; or an earlier
 * rstwatch that was killed), nobody would clear it, and every packet of the
 * flow would be copied here for the rest of its life: take it over for
 * --watch-seconds, as if this worker had set it now. */
void worker_watch_adopt(struct worker *w, const struct tcp_packet *p, uint64_t now)
{
	if (w->ct && !(p->flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)) && !watch_find(w, p))
		watch_add(w, p, now + (uint64_t)w->d->policy.watch_seconds * 1000000);
}

/* Take flows off the watch list whose time is up. */
void worker_watch_expire(struct worker *w, uint64_t now)
{
	unsigned i = 0;

	while (i < w->n_watch) {
		if (w->watch[i].until_us > now) {
			i++;
			continue;
		}
		if (w->ct)
			ct_mark_counted(w, &w->watch[i].tuple, 0, policy_watch_bit(&w->d->policy));
		w->watch[i] = w->watch[--w->n_watch];
	}
}

/* Tag the flow's conntrack entry with v's class (and the dropped and watch
 * bits); ev records the mark. */
void worker_tag_flow(struct worker *w, const struct tcp_packet *pkt, const struct ct_info *ct,
		     struct rst_event *ev, bool drop, bool watch, uint64_t ts)
{
	struct daemon *d = w->d;
	uint32_t mark = policy_mark(&d->policy, &ev->verdict, drop, watch);

	if (ct_mark_counted(w, pkt, mark, d->policy.mark_mask) == 0) {
		ev->has_ct_mark = 1;
		ev->ct_mark = (ct->mark & ~d->policy.mark_mask) | mark;
		if (watch)
			watch_add(w, pkt, ts + (uint64_t)d->policy.watch_seconds * 1000000);
	}
}
