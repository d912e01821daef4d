/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The trigger packet through the ruleset model, as the kernel would take it:
 * the base chains of each hook on its path by priority, across tables and
 * families; jump pushes, goto replaces, return pops; accept ends a base
 * chain only, drop ends everything. Where the model cannot decide a match
 * (a field the reset does not tell, a rate limit, a ct mark) the walk goes
 * both ways. A path ending without `reject with tcp reset` cannot be the
 * one the packet took (a reset was sent), so the rejects the remaining
 * paths reach are the answer. */
#include "ruleset_model.h"

#include <stdio.h>
#include <string.h>

#include "decode.h"

#define DEPTH_MAX 16         /* nft allows 16 nested jumps too */
#define BRANCHES_MAX 512     /* ways a walk may split before it is cut */
#define STEPS_MAX 4000000u   /* statements looked at, all ways together */
#define VALUES_MAX 32        /* possible values of an undecided field tried one by one */
#define REASONS_MAX 6

#define XT_UNKNOWN "an iptables REJECT: nft's JSON does not show its --reject-with"

struct frame {
	const struct rs_chain *c;
	uint32_t rule;
};

struct path {
	int hooks[3];
	int nh, hi;                  /* hooks on the path, the one being walked */
	unsigned base;               /* next base chain of that hook */
	const struct rs_chain *basech;
	int depth;
	struct frame f[DEPTH_MAX];
	uint32_t reasons;            /* bits of eval.reason[] met on the way */
	bool local;                  /* RS_PATH_LOCAL: in and out by lo */
	/* The rule this path assumed a match of (a fork's taken side): if it
	 * goes on to the next rule without a verdict after all, it is the
	 * untaken side again, which the fork follows already. */
	const struct rs_rule *assumed;
};

struct eval {
	const struct rs_model *m;
	const struct rs_trigger *t;
	struct rs_answer *a;
	unsigned branches;
	uint32_t steps;
	bool cut;
	const char *reason[REASONS_MAX];
	unsigned n_reasons;
	uint32_t cand_reasons;
};

/* ---- the trigger's fields ---- */

struct values {
	int n;                       /* -1: unknown; 0: absent (no such field: no match) */
	uint8_t v[VALUES_MAX][RS_VALUE_MAX];
};

static void put_be(uint8_t *out, unsigned width, uint32_t v)
{
	for (unsigned i = 0; i < width; i++)
		out[width - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* The possible values of field f at hook (in a chain of priority prio). */
static void field_values(const struct rs_trigger *t, bool local, int hook, int prio,
			 enum rs_field f, struct values *vs)
{
	unsigned w = rs_field_width[f];
	bool v4 = t->family == 4;

	vs->n = 1;
	memset(vs->v[0], 0, w);
	switch (f) {
	case RF_IIFNAME:
		if (hook == RS_HOOK_OUTPUT)
			vs->n = 0;
		else if (local)
			memcpy(vs->v[0], "lo", 2);
		else if (!t->iif_known)
			vs->n = -1;
		else
			memcpy(vs->v[0], t->iifname, strnlen(t->iifname, 16));
		break;
	case RF_OIFNAME:
		if (hook == RS_HOOK_PREROUTING || hook == RS_HOOK_INPUT)
			vs->n = 0;
		else if (local)
			memcpy(vs->v[0], "lo", 2);
		else if (!t->oif_known)
			vs->n = -1;
		else
			memcpy(vs->v[0], t->oifname, strnlen(t->oifname, 16));
		break;
	case RF_L4PROTO:
		vs->v[0][0] = 6;
		break;
	case RF_IP_PROTOCOL:
	case RF_IP6_NEXTHDR:
		/* ip6 nexthdr is the first header's: extension headers unseen. */
		if ((f == RF_IP_PROTOCOL) != v4)
			vs->n = 0;
		else if (!v4)
			vs->n = -1;
		else
			vs->v[0][0] = 6;
		break;
	case RF_NFPROTO:
		vs->v[0][0] = v4 ? 2 : 10;
		break;
	case RF_PROTOCOL:
		put_be(vs->v[0], 2, v4 ? 0x0800 : 0x86dd);
		break;
	case RF_CT_STATE: {
		/* Before conntrack (priority raw and below) there is no entry:
		 * nft reads such a packet's state as invalid... untracked. */
		uint32_t st = prio <= -200 && (hook == RS_HOOK_PREROUTING || hook == RS_HOOK_OUTPUT)
			      ? RS_CT_UNTRACKED : t->ct_states;

		vs->n = 0;
		for (uint32_t b = 1; b && b <= RS_CT_UNTRACKED; b <<= 1)
			if (st & b)
				put_be(vs->v[vs->n++], 4, b);
		if (!vs->n)
			vs->n = -1;
		break;
	}
	case RF_IP_SADDR:
	case RF_IP_DADDR:
	case RF_IP6_SADDR:
	case RF_IP6_DADDR:
		if ((f == RF_IP_SADDR || f == RF_IP_DADDR) != v4)
			vs->n = 0;
		else
			memcpy(vs->v[0], f == RF_IP_SADDR || f == RF_IP6_SADDR ? t->saddr : t->daddr,
			       w);
		break;
	case RF_TCP_SPORT:
		put_be(vs->v[0], 2, t->sport);
		break;
	case RF_TCP_DPORT:
		put_be(vs->v[0], 2, t->dport);
		break;
	case RF_TCP_FLAGS: {
		/* Every combination of the bits the reset does not tell. */
		uint8_t unknown = (uint8_t)~t->tcp_flags_known, sub = 0;

		vs->n = 0;
		do {
			if (vs->n == VALUES_MAX) {
				vs->n = -1;
				break;
			}
			vs->v[vs->n++][0] = (uint8_t)((t->tcp_flags & t->tcp_flags_known) | sub);
			sub = (uint8_t)((sub - unknown) & unknown);
		} while (sub);
		break;
	}
	case RF_COUNT:
		vs->n = -1;
		break;
	}
}

/* The possible values of key k: each part's, concatenated. */
static void key_values(const struct rs_trigger *t, const struct path *p,
		       const struct rs_key *k, struct values *out)
{
	static _Thread_local struct values part;
	unsigned off = 0;

	out->n = 1;
	for (unsigned i = 0; i < k->n; i++) {
		unsigned w = rs_field_width[k->field[i]];

		field_values(t, p->local, p->hooks[p->hi], p->basech ? p->basech->prio : 0,
			     (enum rs_field)k->field[i], &part);
		if (part.n <= 0 || (part.n > 1 && out->n > 1)) {
			out->n = part.n <= 0 ? part.n : -1;
			return;
		}
		if (part.n > 1) {
			for (int j = 1; j < part.n; j++)
				memcpy(out->v[j], out->v[0], off);
			out->n = part.n;
		}
		for (int j = 0; j < out->n; j++)
			memcpy(out->v[j] + off, part.v[part.n > 1 ? j : 0], w);
		off += w;
	}
	if (k->masked)
		for (int j = 0; j < out->n; j++)
			for (unsigned b = 0; b < k->width; b++)
				out->v[j][b] &= k->mask[b];
}

/* ---- matches ---- */

/* The element of s that holds v (a value of key k), NULL if none. */
static const struct rs_elem *set_find(const struct rs_set *s, const struct rs_key *k,
				      const uint8_t *v)
{
	if (s->sorted) {
		uint32_t lo = 0, hi = s->n;

		while (lo < hi) {    /* past the last element starting at or below v */
			uint32_t mid = lo + (hi - lo) / 2;

			if (memcmp(s->e[mid].lo, v, s->width) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo && memcmp(v, s->e[lo - 1].hi, s->width) <= 0 ? &s->e[lo - 1] : NULL;
	}
	/* Concatenations (and sets whose intervals overlap): each part of an
	 * element is an interval of its own. */
	for (uint32_t i = 0; i < s->n; i++) {
		const struct rs_elem *e = &s->e[i];
		unsigned off = 0, p;

		for (p = 0; p < k->n; p++) {
			unsigned w = rs_field_width[k->field[p]];

			if (memcmp(v + off, e->lo + off, w) < 0 || memcmp(v + off, e->hi + off, w) > 0)
				break;
			off += w;
		}
		if (p == k->n)
			return e;
	}
	return NULL;
}

static bool value_matches(const struct rs_stmt *s, const uint8_t *v)
{
	unsigned w = s->key.width;

	if (s->set) {
		bool in = set_find(s->set, &s->key, v) != NULL;

		return s->op == OP_NE ? !in : in;
	}
	switch (s->op) {
	case OP_EQ: return memcmp(v, s->lo, w) >= 0 && memcmp(v, s->hi, w) <= 0;
	case OP_NE: return !(memcmp(v, s->lo, w) >= 0 && memcmp(v, s->hi, w) <= 0);
	case OP_LT: return memcmp(v, s->lo, w) < 0;
	case OP_GT: return memcmp(v, s->hi, w) > 0;
	case OP_LE: return memcmp(v, s->hi, w) <= 0;
	case OP_GE: return memcmp(v, s->lo, w) >= 0;
	case OP_IN:
		for (unsigned b = 0; b < w; b++)
			if (v[b] & s->lo[b])
				return true;
		return false;
	}
	return false;
}

enum tri { NO, YES, MAYBE };

static enum tri match(const struct eval *e, const struct path *p, const struct rs_stmt *s)
{
	static _Thread_local struct values vs;
	bool any_yes = false, any_no = false;

	key_values(e->t, p, &s->key, &vs);
	if (vs.n == 0)
		return NO;
	if (vs.n < 0)
		return MAYBE;
	for (int i = 0; i < vs.n; i++) {
		if (value_matches(s, vs.v[i]))
			any_yes = true;
		else
			any_no = true;
	}
	return any_yes && any_no ? MAYBE : any_yes ? YES : NO;
}

/* ---- the walk ---- */

static const char *field_reason(const struct rs_stmt *s)
{
	static const char *const names[RF_COUNT] = {
		[RF_IIFNAME] = "iifname: the reset does not tell where its trigger came in",
		[RF_OIFNAME] = "oifname: the reset does not tell where its trigger would have gone",
		[RF_CT_STATE] = "ct state: conntrack's view of the trigger is not known",
		[RF_TCP_FLAGS] = "tcp flags the reset does not tell",
		[RF_IP6_NEXTHDR] = "ip6 nexthdr: extension headers are not seen",
	};

	return names[s->key.field[0]] ?: "a field the reset does not tell";
}


static unsigned reason_bit(struct eval *e, const char *why)
{
	for (unsigned i = 0; i < e->n_reasons; i++)
		if (!strcmp(e->reason[i], why))
			return 1u << i;
	if (e->n_reasons == REASONS_MAX)
		return 0;
	e->reason[e->n_reasons] = why;
	return 1u << e->n_reasons++;
}

static void candidate(struct eval *e, const struct path *p, const struct rs_rule *r)
{
	struct rs_answer *a = e->a;

	e->cand_reasons |= p->reasons;
	for (unsigned i = 0; i < a->n && i < RS_CANDIDATES_MAX; i++)
		if (a->rule[i] == r)
			return;
	if (a->n < RS_CANDIDATES_MAX)
		a->rule[a->n++] = r;
	else
		a->more = true;
}

static bool family_on(const struct rs_table *t, int family)
{
	return t->fam == 46 || t->fam == family;
}

/* Into the next base chain of the path; false at its end (the packet went
 * on unrejected). */
static bool next_base(const struct eval *e, struct path *p)
{
	while (p->hi < p->nh) {
		int h = p->hooks[p->hi];

		while (p->base < e->m->n_base[h]) {
			const struct rs_chain *c = e->m->base[h][p->base++];

			if (family_on(c->table, e->t->family)) {
				p->basech = c;
				p->depth = 1;
				p->f[0].c = c;
				p->f[0].rule = 0;
				return true;
			}
		}
		p->hi++;
		p->base = 0;
	}
	return false;
}

/* The end of the current chain (or a return): back to the caller, or the
 * base chain's policy. false: the path ended (dropped, or past every chain). */
static bool chain_end(const struct eval *e, struct path *p)
{
	if (p->depth > 1) {
		p->depth--;
		return true;
	}
	if (p->basech->policy_drop)
		return false;
	p->depth = 0;
	return next_base(e, p);
}

/* Apply verdict v of rule r. false: the path ended here. */
static bool apply(struct eval *e, struct path *p, const struct rs_rule *r,
		  const struct rs_verdict *v)
{
	struct frame *f = &p->f[p->depth - 1];

	switch (v->kind) {
	case V_ACCEPT:
		p->depth = 0;
		return next_base(e, p);
	case V_CONTINUE:
		f->rule++;
		return true;
	case V_RETURN:
		return chain_end(e, p);
	case V_JUMP:
		if (p->depth == DEPTH_MAX) {
			e->cut = true;
			return false;
		}
		f->rule++;
		p->f[p->depth].c = v->chain;
		p->f[p->depth++].rule = 0;
		return true;
	case V_GOTO:
		f->c = v->chain;
		f->rule = 0;
		return true;
	case V_REJECT_TCP:
		candidate(e, p, r);
		return false;
	case V_XT_REJECT:
		/* Its --reject-with is in the iptables-save line, if we have it. */
		if (r->iptables && !r->xt_tcp_reset)
			return false;
		if (!r->iptables)
			p->reasons |= reason_bit(e, XT_UNKNOWN);
		candidate(e, p, r);
		return false;
	default:    /* drop, queue, reject with icmp: no reset from here */
		return false;
	}
}

static void walk(struct eval *e, struct path p, unsigned stmt);

/* The path splits: one way with the match taken (from statement stmt + 1),
 * the caller goes on with it not taken. */
static void fork_taken(struct eval *e, const struct path *p, unsigned stmt, const char *why)
{
	struct path q = *p;

	q.reasons |= reason_bit(e, why);
	q.assumed = &q.f[q.depth - 1].c->rules[q.f[q.depth - 1].rule];
	if (++e->branches > BRANCHES_MAX) {
		e->cut = true;
		return;
	}
	walk(e, q, stmt + 1);
}

/* A verdict map: every verdict the key's possible values find. */
static bool vmap(struct eval *e, struct path *p, const struct rs_rule *r, const struct rs_stmt *s)
{
	static _Thread_local struct values vs;
	const struct rs_elem *found[VALUES_MAX];
	int n = 0;

	key_values(e->t, p, &s->key, &vs);
	if (vs.n <= 0) {
		if (vs.n < 0)
			p->reasons |= reason_bit(e, "a verdict map key the reset does not tell");
		p->f[p->depth - 1].rule++;
		return true;    /* absent: no lookup (unknown: its verdicts are not followed) */
	}
	for (int i = 0; i < vs.n; i++) {
		const struct rs_elem *el = set_find(s->set, &s->key, vs.v[i]);
		int j;

		for (j = 0; j < n && found[j] != el; j++)
			;
		if (j == n)
			found[n++] = el;
	}
	for (int i = 0; i < n; i++) {
		struct path q = *p;

		if (n > 1)
			q.reasons |= reason_bit(e, "a verdict map key the reset does not tell");
		if (!found[i]) {
			q.f[q.depth - 1].rule++;    /* no element: the rule ends, no verdict */
		} else if (!apply(e, &q, r, &found[i]->v)) {
			continue;
		}
		if (i == n - 1) {
			*p = q;
			return true;
		}
		if (++e->branches > BRANCHES_MAX) {
			e->cut = true;
			return false;
		}
		walk(e, q, 0);
	}
	return false;
}

/* Follow path p from statement stmt of its current rule until it ends. */
static void walk(struct eval *e, struct path p, unsigned stmt)
{
	while (p.depth > 0) {
		struct frame *f = &p.f[p.depth - 1];
		const struct rs_rule *r;
		const struct rs_stmt *s;

		if (++e->steps > STEPS_MAX) {
			e->cut = true;
			return;
		}
		if (f->rule >= f->c->n_rules) {
			if (!chain_end(e, &p))
				return;
			stmt = 0;
			continue;
		}
		r = &f->c->rules[f->rule];
		if (stmt >= r->n)
			goto next_rule;     /* matched, no verdict */
		s = &r->s[stmt];
		switch (s->kind) {
		case S_NOOP:
			stmt++;
			continue;
		case S_MATCH:
			switch (match(e, &p, s)) {
			case YES:
				stmt++;
				continue;
			case MAYBE:
				/* Both ways: taken in a fork, not taken here. */
				fork_taken(e, &p, stmt, field_reason(s));
				__attribute__((fallthrough));
			case NO:
				goto next_rule;
			}
			continue;
		case S_UNDECIDABLE:
			fork_taken(e, &p, stmt, s->why);
			goto next_rule;
		case S_VMAP:
			if (!vmap(e, &p, r, s))
				return;
			stmt = 0;
			continue;
		case S_VERDICT:
			if (!apply(e, &p, r, &s->v))
				return;
			stmt = 0;
			continue;
		}
		continue;
next_rule:
		if (p.assumed == r)
			return;     /* the fork's other side is this very path */
		f->rule++;
		stmt = 0;
	}
}

/* ---- explain ---- */

void ruleset_trigger_of_reset(const struct tcp_packet *rst, uint32_t ct_states,
			      const char *reset_oifname, unsigned paths, struct rs_trigger *t)
{
	memset(t, 0, sizeof(*t));
	t->family = rst->family;
	memcpy(t->saddr, rst->dst, 16);
	memcpy(t->daddr, rst->src, 16);
	t->sport = rst->dport;
	t->dport = rst->sport;
	/* nf_reject answers a segment without ACK (a SYN) with RA, seq 0; one
	 * with ACK with R at its ack. Either way the trigger was no reset. */
	if (rst->flags & TCPF_ACK) {
		t->tcp_flags = TCPF_SYN;
		t->tcp_flags_known = TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN;
	} else {
		t->tcp_flags = TCPF_ACK;
		t->tcp_flags_known = TCPF_ACK | TCPF_RST | TCPF_SYN;
	}
	t->ct_states = ct_states ? ct_states
		: RS_CT_NEW | RS_CT_ESTABLISHED | RS_CT_RELATED | RS_CT_INVALID | RS_CT_UNTRACKED;
	t->paths = paths ? paths : RS_PATH_INPUT | RS_PATH_FORWARD;
	if (reset_oifname && *reset_oifname) {
		snprintf(t->iifname, sizeof(t->iifname), "%s", reset_oifname);
		t->iif_known = true;
	}
}

void ruleset_explain(const struct rs_model *m, const struct rs_trigger *t, struct rs_answer *a)
{
	static const struct { unsigned path; int hooks[3]; int nh; } paths[] = {
		{ RS_PATH_INPUT, { RS_HOOK_PREROUTING, RS_HOOK_INPUT }, 2 },
		{ RS_PATH_FORWARD, { RS_HOOK_PREROUTING, RS_HOOK_FORWARD }, 2 },
		{ RS_PATH_OUTPUT, { RS_HOOK_OUTPUT }, 1 },
		{ RS_PATH_LOCAL, { RS_HOOK_OUTPUT, RS_HOOK_PREROUTING, RS_HOOK_INPUT }, 3 },
	};
	struct eval e = { .m = m, .t = t, .a = a };

	memset(a, 0, sizeof(*a));
	a->generation = m->generation;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct path p = { .nh = paths[i].nh, .local = paths[i].path == RS_PATH_LOCAL };

		if (!(t->paths & paths[i].path))
			continue;
		memcpy(p.hooks, paths[i].hooks, sizeof(p.hooks));
		if (t->paths & (t->paths - 1))
			p.reasons = reason_bit(&e, "whether the trigger was for this host or "
					       "crossing it");
		if (next_base(&e, &p))
			walk(&e, p, 0);
	}
	if (e.cut)
		e.cand_reasons |= reason_bit(&e, "the walk was cut (too many undecided matches)");
	if (a->n == 0) {
		snprintf(a->why, sizeof(a->why), "%s", e.cut
			 ? "no rule found before the walk was cut (too many undecided matches)"
			 : "no reject with tcp reset in the ruleset matches the packet it answers");
		return;
	}
	/* One rule: the other ways would not have sent a reset. Unless it is
	 * an iptables REJECT that may not send one at all. */
	if (a->n == 1 && !e.cut) {
		if (a->rule[0]->xt_reject && !a->rule[0]->iptables)
			snprintf(a->why, sizeof(a->why), "%s", XT_UNKNOWN);
		return;
	}
	for (unsigned i = 0; i < e.n_reasons; i++) {
		size_t len = strlen(a->why);

		if (!(e.cand_reasons & (1u << i)))
			continue;
		snprintf(a->why + len, sizeof(a->why) - len, "%s%s", len ? "; " : "", e.reason[i]);
	}
}
