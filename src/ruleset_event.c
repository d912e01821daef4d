/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ruleset_event.h"

#include "ruleset_live.h"

#include <string.h>

/* What conntrack said of the trigger, as the event tells it. */
static uint32_t trigger_ct(const struct rst_event *ev)
{
	const struct rst_context *c = ev->ctx;

	/* Copied: the reset's entry was not confirmed, its trigger the flow's
	 * first packet. Queued with an entry: the flow was established. */
	if (c && c->via_log)
		return RS_CT_NEW;
	if (c && c->ct && c->ct->present)
		return RS_CT_ESTABLISHED;
	if (!c || c->hook == HOOK_CAPTURE || (c->hook == HOOK_OUTPUT && !c->ct)) {
		/* Offline: a SYN refused is new; a segment of a flow seen set up
		 * was established. */
		if (ev->pkt->flags & TCPF_ACK)
			return RS_CT_NEW;
		return ev->flow.known ? RS_CT_ESTABLISHED : 0;
	}
	return 0;
}

void ruleset_name_event(const struct rs_model *m, bool changed, const char *reset_oifname,
			struct rst_event *ev, struct rule_names *out)
{
	const struct rst_context *c = ev->ctx;
	bool src_local = c && c->src_is_local;
	unsigned paths;
	struct rs_trigger t;
	struct rs_answer a;

	if (!m || ev->verdict.origin != ORIGIN_LOCAL_FIREWALL)
		return;
	/* A reset sent to lo answers a packet this host sent: to itself (its
	 * source, the trigger's destination, is local) or out. */
	if (reset_oifname && !strcmp(reset_oifname, "lo"))
		paths = src_local ? RS_PATH_LOCAL : RS_PATH_OUTPUT;
	else
		paths = src_local ? RS_PATH_INPUT : RS_PATH_FORWARD;
	ruleset_trigger_of_reset(ev->pkt, trigger_ct(ev), reset_oifname, paths, &t);
	ruleset_explain(m, &t, &a);
	ruleset_answer_json(&a, changed, out->json, sizeof(out->json));
	ruleset_answer_text(&a, changed, out->text, sizeof(out->text));
	ev->rule_json = out->json;
	ev->rule_text = out->text;
}

void ruleset_name_live(struct ruleset_current *c, struct rst_event *ev,
		       const char *reset_oifname, struct rule_names *out)
{
	struct rs_shared *held;
	bool changed;
	const struct rs_model *m = ruleset_current_take(c, ev->ts_us, &held, &changed);

	if (!m)
		return;
	ruleset_name_event(m, changed, reset_oifname, ev, out);
	ruleset_current_drop(c, held);
}
