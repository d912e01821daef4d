/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ruleset_event.h"

#include "ruleset_live.h"
#include "ruleset_route.h"

#include <net/if.h>
#include <stdio.h>
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

/* A reset sent to lo answers a packet this host sent: to itself (its
 * source, the trigger's destination, is local) or out. */
static unsigned paths_of(const struct rst_event *ev, const char *reset_oifname)
{
	bool src_local = ev->ctx && ev->ctx->src_is_local;

	if (reset_oifname && !strcmp(reset_oifname, "lo"))
		return src_local ? RS_PATH_LOCAL : RS_PATH_OUTPUT;
	return src_local ? RS_PATH_INPUT : RS_PATH_FORWARD;
}

static void answer(const struct rs_model *m, const char *reset_oifname,
		   const char *trigger_oifname, const struct rst_event *ev, struct rs_answer *a)
{
	struct rs_trigger t;

	ruleset_trigger_of_reset(ev->pkt, trigger_ct(ev), reset_oifname,
				 paths_of(ev, reset_oifname), &t);
	if (trigger_oifname) {
		snprintf(t.oifname, sizeof(t.oifname), "%s", trigger_oifname);
		t.oif_known = true;
	}
	ruleset_explain(m, &t, a);
}

static void put(const struct rs_answer *a, bool changed, struct rst_event *ev,
		struct rule_names *out)
{
	ruleset_answer_json(a, changed, out->json, sizeof(out->json));
	ruleset_answer_text(a, changed, out->text, sizeof(out->text));
	ev->rule_json = out->json;
	ev->rule_text = out->text;
}

void ruleset_name_event(const struct rs_model *m, bool changed, const char *reset_oifname,
			const char *trigger_oifname, struct rst_event *ev, struct rule_names *out)
{
	struct rs_answer a;

	if (!m || ev->verdict.origin != ORIGIN_LOCAL_FIREWALL)
		return;
	answer(m, reset_oifname, trigger_oifname, ev, &a);
	put(&a, changed, ev, out);
}

static bool same_rules(const struct rs_answer *x, const struct rs_answer *y)
{
	if (x->n != y->n)
		return false;
	for (unsigned i = 0; i < x->n; i++)
		if (rs_rule_handle(x->rule[i]) != rs_rule_handle(y->rule[i]) ||
		    strcmp(rs_rule_table(x->rule[i]), rs_rule_table(y->rule[i])) ||
		    strcmp(rs_rule_family(x->rule[i]), rs_rule_family(y->rule[i])) ||
		    strcmp(rs_rule_text(x->rule[i]), rs_rule_text(y->rule[i])))
			return false;
	return true;
}

void ruleset_name_live(struct ruleset_current *c, struct rst_event *ev, uint32_t reset_oif,
		       const char *reset_oifname, struct rule_names *out)
{
	struct rs_shared *held, *alt_held;
	const struct rs_model *alt;
	bool changed;
	const struct rs_model *m = ruleset_current_take(c, ev->ts_us, &held, &changed, &alt,
							&alt_held);
	unsigned paths = paths_of(ev, reset_oifname);
	char oifname[IF_NAMESIZE];
	bool routed = false;
	struct rs_answer a, b;

	if (!m)
		return;
	/* Where the trigger was going: the route of its destination, as it
	 * came in (forwarded: by the interface the reset left by) or as this
	 * host sent it. */
	if ((paths == RS_PATH_FORWARD && reset_oif) || paths == RS_PATH_OUTPUT)
		routed = route_oifname(ev->pkt->family, ev->pkt->dst, ev->pkt->src,
				       paths == RS_PATH_FORWARD ? reset_oif : 0, oifname) == 0;
	answer(m, reset_oifname, routed ? oifname : NULL, ev, &a);
	if (alt) {
		/* The reset came around a change: which generation it met is not
		 * known. Both say the same: so be it. Only one finds a reject: a
		 * reset was sent, so that is the one. Else the newer, said so. */
		answer(alt, reset_oifname, routed ? oifname : NULL, ev, &b);
		if (!same_rules(&a, &b)) {
			if (!a.n && b.n)
				a = b;
			else if (!(a.n && !b.n))
				changed = true;
		}
	}
	put(&a, changed, ev, out);
	ruleset_current_drop(c, held);
	ruleset_current_drop(c, alt_held);
}
