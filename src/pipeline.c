#include "pipeline.h"

#include <string.h>

int pipeline_init(struct pipeline *pl, uint32_t max_flows)
{
	memset(pl, 0, sizeof(*pl));
	classify_settings_default(&pl->settings);
	pl->flows = flow_table_new(max_flows);
	return pl->flows ? 0 : -1;
}

void pipeline_free(struct pipeline *pl)
{
	flow_table_free(pl->flows);
	pl->flows = NULL;
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
}

/* Append a fact unless the verdict already has it (or has no room left). */
static void add_evidence(struct rst_verdict *v, const char *fact)
{
	if (!rst_evidence_has(v, fact))
		rst_evidence_add(v, fact);
}

bool pipeline_packet(struct pipeline *pl, const struct tcp_packet *pkt, uint64_t ts_us,
		     const struct rst_context *ctx, struct rst_event *ev)
{
	int dir = DIR_ORIG;
	struct flow *f = flow_lookup(pl->flows, pkt, ts_us, true, &dir);
	bool is_rst = pkt->flags & TCPF_RST;

	pl->st.packets++;
	if (is_rst) {
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
		rst_classify(pkt, f, dir, ts_us, ctx, &pl->settings, &ev->verdict);
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
		f->rst_class = (uint8_t)(ev->verdict.cls + 1);
	}
	flow_update(f, dir, pkt, ts_us);
	return is_rst;
}
