/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pipeline_init(struct pipeline *pl, uint32_t max_flows)
{
	memset(pl, 0, sizeof(*pl));
	classify_settings_default(&pl->settings);
	pl->flows = flow_table_new(max_flows);
	pl->hosts = host_ttl_new();
	if (!pl->flows || !pl->hosts) {
		int e = errno;

		pipeline_free(pl);
		errno = e;
		return -1;
	}
	return 0;
}

void pipeline_free(struct pipeline *pl)
{
	flow_table_free(pl->flows);
	host_ttl_free(pl->hosts);
	pl->flows = NULL;
	pl->hosts = NULL;
}

int pipeline_seed(struct pipeline *pl, uint64_t seed)
{
	/* Not the same key twice: the host sets must not be the flow slots. */
	return flow_table_seed(pl->flows, seed) || host_ttl_seed(pl->hosts, ~seed) ? -1 : 0;
}

static void summarize(const struct flow *f, const struct ct_info *ct, uint64_t ts,
		      struct flow_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->state_before = ct && ct->present ? ct_state_name(ct->tcp_state) : "NONE";
	if (!f)
		return;
	s->known = true;
	s->flow_id = f->id;
	if (!(ct && ct->present))
		s->state_before = flow_state_name(f);
	s->age_us = ts > f->first_ts ? ts - f->first_ts : 0;
	s->idle_us = ts > f->last_ts ? ts - f->last_ts : 0;
	s->pkts[0] = f->dir[DIR_ORIG].pkts;
	s->pkts[1] = f->dir[DIR_RESP].pkts;
	s->bytes[0] = f->dir[DIR_ORIG].data_bytes;
	s->bytes[1] = f->dir[DIR_RESP].data_bytes;
	s->incarnation = f->incarnation;
	s->handshake_rtt_us = f->handshake_rtt_us;
}

/* Append a fact unless the verdict already has it (or has no room left). */
static void add_evidence(struct rst_verdict *v, const char *fact)
{
	if (!rst_evidence_has(v, fact))
		rst_evidence_add(v, fact);
}

/* Find pkt's flow and, for a reset, fill ev against the flow as it was:
 * everything but folding pkt into the flow. */
static struct flow *judge(struct pipeline *pl, const struct tcp_packet *pkt, uint64_t ts_us,
			  const struct rst_context *ctx, struct rst_event *ev, int *dir)
{
	struct flow *f = flow_lookup(pl->flows, pkt, ts_us, true, dir);

	pl->st.packets++;
	if (pkt->flags & TCPF_RST) {
		/* Field by field: the verdict (most of the event) is rst_classify's
		 * to fill, the flow summary summarize's. */
		ev->ts_us = ts_us;
		ev->in_iface = NULL;
		ev->pkt = pkt;
		ev->ctx = ctx;
		ev->action_reason = NULL;
		ev->has_ct_mark = 0;
		ev->amends_ts_us = 0;
		ev->ct_mark = 0;
		ev->copies = pkt->link_dir ? 1 : 0;
		ev->pcap_filename = NULL;
		ev->rule_json = ev->rule_text = NULL;
		ev->in_ifindex = pkt->link_dir == LINK_DIR_IN ? pkt->link_ifindex : 0;
		ev->out_ifindex = pkt->link_dir == LINK_DIR_OUT ? pkt->link_ifindex : 0;
		/* The host's baseline matters only before the sender spoke on
		 * this flow: a lookup for those resets alone. */
		const struct flow_dir *s = &f->dir[*dir];
		struct ttl_baseline host;
		bool host_known = s->pkts == s->rsts && !host_ttl_find(pl->hosts, pkt, ts_us, &host);

		rst_classify(pkt, f, *dir, ts_us, ctx, host_known ? &host : NULL, &pl->settings,
			     &ev->verdict);
		if (!f->dir[DIR_ORIG].pkts && !f->dir[DIR_RESP].pkts) {
			/* This reset opened its flow: whatever the verdict rests on
			 * (conntrack's state at most), it is not the flow's history,
			 * which a full table may have evicted. Say both. */
			struct flow_stats fs;

			add_evidence(&ev->verdict, "no-flow-history");
			flow_table_stats(pl->flows, &fs);
			if (fs.evicted)
				add_evidence(&ev->verdict, "flow-table-full");
		}
		summarize(f, ctx ? ctx->ct : NULL, ts_us, &ev->flow);
		ev->action = ACTION_ACCEPT;
		pl->st.resets++;
		pl->st.by_class[ev->verdict.cls]++;
		pl->st.by_origin[ev->verdict.origin]++;
		f->rst_last[*dir] = (uint8_t)((ev->verdict.cls + 1) |
					      (ev->verdict.follows ? FLOW_RST_ANSWER : 0));
	} else {
		/* Resets stay out of the baseline: a forged one would teach it
		 * the forger's TTL. */
		host_ttl_note(pl->hosts, pkt, ts_us);
	}
	return f;
}

bool pipeline_packet(struct pipeline *pl, const struct tcp_packet *pkt, uint64_t ts_us,
		     const struct rst_context *ctx, struct rst_event *ev,
		     struct rst_alive_probe *probe)
{
	int dir = DIR_ORIG;
	struct flow *f = judge(pl, pkt, ts_us, ctx, ev, &dir);

	if (probe && (pkt->flags & TCPF_RST))
		rst_alive_probe_init(probe, pkt, f, dir);
	flow_update(f, dir, pkt, ts_us);
	return pkt->flags & TCPF_RST;
}

/* ---- offline look-ahead -------------------------------------------------- */

struct pending_event {
	struct rst_event ev;        /* ev.pkt points at pkt, ev.ctx at ctx: the ring never moves */
	struct tcp_packet pkt;      /* without its payload (no writer reads it) */
	struct rst_context ctx;     /* the caller's is gone by the time ev is emitted */
	struct rst_alive_probe probe;
	uint64_t flow_id;
	uint64_t deadline_us;
	uint64_t copy_deadline_us;  /* a reset that came in: until when its out copy may come */
	uint32_t next;              /* the bucket's chain of waiting events, slot + 1 */
	int dir;                    /* the reset's direction in its flow */
	bool waiting;
	bool awaiting_copy;
};

void lookahead_init(struct lookahead *la, uint32_t max, uint64_t window_us)
{
	memset(la, 0, sizeof(*la));
	la->max = max ? max : 1;
	la->window_us = window_us;
}

void lookahead_free(struct lookahead *la)
{
	free(la->q);
	free(la->bucket);
	la->q = NULL;
	la->bucket = NULL;
	la->n = la->waiting = 0;
}

/* Most captures hold no suspect reset: the ring costs nothing until one. */
static int ring_alloc(struct lookahead *la)
{
	uint32_t nb = 1;

	if (la->q)
		return 0;
	while (nb < la->max)
		nb <<= 1;
	la->q = calloc(la->max, sizeof(*la->q));
	la->bucket = calloc(nb, sizeof(*la->bucket));
	if (!la->q || !la->bucket) {
		lookahead_free(la);
		return -1;
	}
	la->nbuckets = nb;
	return 0;
}

/* Flow ids are already the output of a 64-bit mix: their low bits spread. */
static uint32_t *chain_of(const struct lookahead *la, uint64_t flow_id)
{
	return &la->bucket[(uint32_t)flow_id & (la->nbuckets - 1)];
}

/* pe stops looking ahead: its verdict is final. */
static void settle(struct lookahead *la, struct pending_event *pe)
{
	uint32_t *link = chain_of(la, pe->flow_id);
	uint32_t ref = (uint32_t)(pe - la->q) + 1;

	if (!pe->waiting)
		return;
	while (*link != ref)
		link = &la->q[*link - 1].next;
	*link = pe->next;
	pe->waiting = false;
	la->waiting--;
}

void pipeline_flow_reclassed(struct flow *f, int dir, enum rst_class was, enum rst_class now)
{
	if (f && FLOW_RST_CLASS(f->rst_last[dir]) == (uint8_t)(was + 1))
		f->rst_last[dir] = (uint8_t)((f->rst_last[dir] & FLOW_RST_ANSWER) | (now + 1));
}

/* pkt, of flow f travelling in dir, against the resets of that flow still
 * within their window. */
static void watch(struct pipeline *pl, struct lookahead *la, struct flow *f,
		  const struct tcp_packet *pkt, int dir, uint64_t ts_us)
{
	uint64_t flow_id = f->id;
	uint32_t r, next;

	for (r = *chain_of(la, flow_id); r; r = next) {
		struct pending_event *pe = &la->q[r - 1];
		struct rst_verdict *v = &pe->ev.verdict;

		next = pe->next;
		if (pe->flow_id != flow_id || ts_us > pe->deadline_us ||
		    !rst_sender_alive(&pe->probe, pkt, dir))
			continue;
		/* Counted once, under its final class. */
		enum rst_class was = v->cls;

		pl->st.by_class[v->cls]--;
		pl->st.by_origin[v->origin]--;
		rst_mark_injected_alive(v);
		pipeline_flow_reclassed(f, pe->dir, was, v->cls);
		pl->st.by_class[v->cls]++;
		pl->st.by_origin[v->origin]++;
		la->st.alive++;
		settle(la, pe);
	}
}

/* The oldest event out, decided as it is. */
static int pop(struct lookahead *la, pipeline_emit_cb emit, void *arg)
{
	struct pending_event *pe = &la->q[la->head];

	settle(la, pe);
	la->head = (la->head + 1) % la->max;
	la->n--;
	return emit(&pe->ev, arg);    /* the slot is reused only by a later push */
}

/* Emit, in order, the oldest events whose verdict is final at ts_us. */
static int release(struct lookahead *la, uint64_t ts_us, pipeline_emit_cb emit, void *arg)
{
	while (la->n) {
		struct pending_event *pe = &la->q[la->head];
		int rc;

		if ((pe->waiting && ts_us <= pe->deadline_us) ||
		    (pe->awaiting_copy && ts_us <= pe->copy_deadline_us))
			break;
		if ((rc = pop(la, emit, arg)))
			return rc;
	}
	return 0;
}

/* ev (of pkt, in direction dir of f, before pkt is folded in) joins the
 * queue: to wait for what f does next if suspect, for its out copy if it came
 * in to a host that may forward it, else behind those waiting. */
static int push(struct lookahead *la, const struct rst_event *ev, const struct tcp_packet *pkt,
		const struct flow *f, int dir, bool suspect, bool copy, uint64_t ts_us,
		pipeline_emit_cb emit, void *arg)
{
	struct pending_event *pe;
	uint32_t *link;
	int rc;

	if (ring_alloc(la)) {
		/* Nothing waits (no ring, so n is 0): decided at once, in order. */
		la->st.cut += suspect;
		return emit(ev, arg);
	}
	if (la->n == la->max) {
		la->st.cut += la->q[la->head].waiting;
		if ((rc = pop(la, emit, arg)))
			return rc;
	}
	pe = &la->q[(la->head + la->n) % la->max];
	la->n++;
	pe->ev = *ev;
	pe->pkt = *pkt;
	pe->pkt.payload = NULL;
	pe->pkt.payload_caplen = 0;
	pe->ev.pkt = &pe->pkt;
	if (ev->ctx) {
		/* The caller's context lives on its stack (a capture's packet: it
		 * is read by the writers and the rule naming at emit time). Its
		 * conntrack view would dangle too; captures have none. */
		pe->ctx = *ev->ctx;
		pe->ctx.ct = NULL;
		pe->ev.ctx = &pe->ctx;
	}
	pe->waiting = suspect;
	pe->awaiting_copy = copy;
	pe->copy_deadline_us = ts_us + COPY_WINDOW_US;
	if (!suspect)
		return 0;
	rst_alive_probe_init(&pe->probe, pkt, f, dir);
	pe->flow_id = f->id;
	pe->dir = dir;
	pe->deadline_us = ts_us + la->window_us;
	link = chain_of(la, pe->flow_id);
	pe->next = *link;
	*link = (uint32_t)(pe - la->q) + 1;
	la->waiting++;
	la->st.held++;
	return 0;
}

int pipeline_packet_lookahead(struct pipeline *pl, struct lookahead *la,
			      const struct tcp_packet *pkt, uint64_t ts_us,
			      const struct rst_context *ctx, pipeline_emit_cb emit, void *arg)
{
	struct rst_event ev;
	int dir = DIR_ORIG, rc = 0;
	struct flow *f = judge(pl, pkt, ts_us, ctx, &ev, &dir);

	if (la->waiting)
		watch(pl, la, f, pkt, dir, ts_us);
	if (pkt->flags & TCPF_RST) {
		bool suspect = rst_suspect(&ev.verdict), copy = pkt->link_dir == LINK_DIR_IN;

		/* The common case, no reset waiting: out at once, no copy. */
		rc = !la->n && !suspect && !copy
			     ? emit(&ev, arg)
			     : push(la, &ev, pkt, f, dir, suspect, copy, ts_us, emit, arg);
	}
	flow_update(f, dir, pkt, ts_us);
	return rc ? rc : release(la, ts_us, emit, arg);
}

int lookahead_copy(struct lookahead *la, const struct tcp_packet *pkt, uint32_t out_ifindex,
		   uint64_t ts_us, pipeline_emit_cb emit, void *arg)
{
	/* Its original is among the newest: search from the end. */
	for (uint32_t k = la->n; k-- > 0;) {
		struct pending_event *pe = &la->q[(la->head + k) % la->max];
		const struct tcp_packet *o = &pe->pkt;
		size_t alen = o->family == 6 ? 16 : 4;

		if (!pe->awaiting_copy || o->family != pkt->family || o->seq != pkt->seq ||
		    o->ack != pkt->ack || o->sport != pkt->sport || o->dport != pkt->dport ||
		    o->flags != pkt->flags || memcmp(o->src, pkt->src, alen) ||
		    memcmp(o->dst, pkt->dst, alen))
			continue;
		pe->awaiting_copy = false;
		pe->ev.copies = 2;
		pe->ev.out_ifindex = out_ifindex;
		break;
	}
	return release(la, ts_us, emit, arg);
}

int lookahead_advance(struct lookahead *la, uint64_t ts_us, pipeline_emit_cb emit, void *arg)
{
	return release(la, ts_us, emit, arg);
}

int lookahead_flush(struct lookahead *la, pipeline_emit_cb emit, void *arg)
{
	return release(la, UINT64_MAX, emit, arg);
}
