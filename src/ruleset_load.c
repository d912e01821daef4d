/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset model from `nft -j list ruleset` (libjansson, the parser nft
 * itself uses for -j): tables, chains, named sets and maps, rules compiled
 * into matches of packet fields against byte strings. What the model does
 * not know becomes an undecidable statement, never an error: the evaluator
 * then names candidates instead of a rule. */
#include "ruleset_model.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names: chains and sets by family, table and name ---- */

struct rs_names {
	uint32_t mask;
	struct { const char *key; void *obj; } *slot;
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static void name_key(char *out, size_t size, const char *family, const char *table,
		     const char *name)
{
	snprintf(out, size, "%s\x1f%s\x1f%s", family, table, name);
}

static int names_init(struct rs_model *m, struct rs_names *n, unsigned count)
{
	uint32_t size = 16;

	while (size < 2 * count + 1)
		size <<= 1;
	n->mask = size - 1;
	n->slot = rs_alloc(m, size * sizeof(*n->slot));
	return n->slot ? 0 : -1;
}

static void *names_find(const struct rs_names *n, const char *key)
{
	for (uint32_t i = fnv1a(key) & n->mask; n->slot[i].key; i = (i + 1) & n->mask)
		if (strcmp(n->slot[i].key, key) == 0)
			return n->slot[i].obj;
	return NULL;
}

static int names_add(struct rs_model *m, struct rs_names *n, const char *key, void *obj)
{
	uint32_t i = fnv1a(key) & n->mask;

	while (n->slot[i].key)
		i = (i + 1) & n->mask;
	n->slot[i].key = rs_strdup(m, key);
	n->slot[i].obj = obj;
	return n->slot[i].key ? 0 : -1;
}

struct loader {
	struct rs_model *m;
	struct rs_names chains, sets;
	char *err;
	size_t errlen;
};

static const struct rs_chain *chain_named(struct loader *ld, const struct rs_table *t,
					  const char *name)
{
	char key[512];

	if (!name)
		return NULL;
	name_key(key, sizeof(key), t->family, t->name, name);
	return names_find(&ld->chains, key);
}

/* A verdict object ({"accept": null}, {"jump": {"target": "x"}}, ...);
 * false if j is none. */
static bool verdict_of(struct loader *ld, const struct rs_table *t, json_t *j,
		       struct rs_verdict *v)
{
	static const struct { const char *name; uint8_t kind; } simple[] = {
		{ "accept", V_ACCEPT }, { "drop", V_DROP }, { "continue", V_CONTINUE },
		{ "return", V_RETURN }, { "queue", V_QUEUE },
	};
	json_t *r;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (json_object_get(j, simple[i].name)) {
			v->kind = simple[i].kind;
			return true;
		}
	if ((r = json_object_get(j, "jump")) || (r = json_object_get(j, "goto"))) {
		v->kind = json_object_get(j, "jump") ? V_JUMP : V_GOTO;
		v->chain = chain_named(ld, t, json_string_value(json_object_get(r, "target")));
		if (!v->chain)
			v->kind = V_NONE;    /* a chain the dump lacks: undecidable */
		return true;
	}
	if (json_object_iter_at(j, "reject")) {
		const char *type = json_string_value(json_object_get(json_object_get(j, "reject"),
								      "type"));

		v->kind = type && strcmp(type, "tcp reset") == 0 ? V_REJECT_TCP : V_REJECT_OTHER;
		return true;
	}
	if ((r = json_object_get(j, "xt")) &&
	    !strcmp(json_string_value(json_object_get(r, "type")) ?: "", "target") &&
	    !strcmp(json_string_value(json_object_get(r, "name")) ?: "", "REJECT")) {
		v->kind = V_XT_REJECT;
		return true;
	}
	return false;
}

/* ---- sets ---- */

/* A named set's declared type as the field whose values it holds. */
static bool set_part_of(const char *type, uint8_t *field)
{
	static const struct { const char *type; enum rs_field f; } map[] = {
		{ "ipv4_addr", RF_IP_SADDR }, { "ipv6_addr", RF_IP6_SADDR },
		{ "inet_service", RF_TCP_DPORT }, { "inet_proto", RF_L4PROTO },
		{ "ifname", RF_IIFNAME }, { "ct_state", RF_CT_STATE }, { "nf_proto", RF_NFPROTO },
	};

	for (size_t i = 0; type && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].type, type)) {
			*field = (uint8_t)map[i].f;
			return true;
		}
	return false;
}

static int elem_cmp(const void *a, const void *b, void *width)
{
	return memcmp(((const struct rs_elem *)a)->lo, ((const struct rs_elem *)b)->lo,
		      *(const uint8_t *)width);
}

/* Elements (an array, or one) of a set whose values are key k's. With
 * verdicts, each is [value, verdict]. */
static int set_fill(struct loader *ld, const struct rs_table *t, struct rs_set *s,
		    const struct rs_key *k, json_t *elems, bool verdicts)
{
	size_t n = json_is_array(elems) ? json_array_size(elems) : elems ? 1 : 0, i;

	s->width = k->width;
	s->parts = k->n;
	s->verdicts = verdicts;
	s->e = n ? rs_alloc(ld->m, n * sizeof(*s->e)) : NULL;
	if (n && !s->e)
		return -1;
	for (i = 0; i < n; i++) {
		json_t *e = json_is_array(elems) ? json_array_get(elems, i) : elems, *val = e;
		struct rs_elem *el = &s->e[s->n];
		uint8_t *lo = rs_alloc(ld->m, 2u * k->width);

		if (!lo)
			return -1;
		if (verdicts) {
			if (!json_is_array(e) || json_array_size(e) != 2)
				goto undecidable;
			val = json_array_get(e, 0);
			if (!verdict_of(ld, t, json_array_get(e, 1), &el->v) || el->v.kind == V_NONE)
				goto undecidable;
		}
		if (json_object_get(val, "elem"))
			val = json_object_get(json_object_get(val, "elem"), "val");
		if (!rs_interval_of(k, val, lo, lo + k->width))
			goto undecidable;
		el->lo = lo;
		el->hi = lo + k->width;
		s->n++;
	}
	ld->m->n_elements += s->n;
	s->sorted = s->parts == 1;
	if (s->sorted && s->n > 1) {
		qsort_r(s->e, s->n, sizeof(*s->e), elem_cmp, &s->width);
		for (i = 1; i < s->n && s->sorted; i++)
			s->sorted = memcmp(s->e[i - 1].hi, s->e[i].lo, s->width) < 0;
	}
	return 0;
undecidable:
	s->undecidable = "a set element the model cannot read";
	return 0;
}

static int add_set(struct loader *ld, struct rs_set *s, json_t *o, bool is_map)
{
	const struct rs_table *t = NULL;
	const char *family = json_string_value(json_object_get(o, "family"));
	const char *table = json_string_value(json_object_get(o, "table"));
	const char *name = json_string_value(json_object_get(o, "name"));
	json_t *type = json_object_get(o, "type"), *v;
	struct rs_key k = { 0 };
	char key[512];
	size_t i;

	for (unsigned j = 0; family && table && j < ld->m->n_tables; j++)
		if (!strcmp(ld->m->tables[j].family, family) && !strcmp(ld->m->tables[j].name, table))
			t = &ld->m->tables[j];
	if (!t || !name)
		return 0;
	s->name = rs_strdup(ld->m, name);
	if (json_is_string(type)) {
		k.n = set_part_of(json_string_value(type), &k.field[0]);
	} else if (json_is_array(type) && json_array_size(type) <= RS_KEY_PARTS) {
		json_array_foreach(type, i, v) {
			if (!set_part_of(json_string_value(v), &k.field[k.n]))
				break;
			k.n++;
		}
		if (k.n != json_array_size(type))
			k.n = 0;
	}
	for (i = 0; i < k.n; i++)
		k.width = (uint8_t)(k.width + rs_field_width[k.field[i]]);
	if (!k.n) {
		s->undecidable = "a set of a type the model does not know";
	} else if (is_map && strcmp(json_string_value(json_object_get(o, "map")) ?: "", "verdict")) {
		s->undecidable = "a data map";
	} else if (set_fill(ld, t, s, &k, json_object_get(o, "elem"), is_map) < 0) {
		return -1;
	}
	name_key(key, sizeof(key), family, table, name);
	return names_add(ld->m, &ld->sets, key, s);
}

/* An anonymous set in a rule ({"set": [...]}), for key k. */
static const struct rs_set *anon_set(struct loader *ld, const struct rs_table *t,
				     const struct rs_key *k, json_t *elems, bool verdicts)
{
	struct rs_set *s = rs_alloc(ld->m, sizeof(*s));

	if (!s)
		return NULL;
	s->name = "";
	if (set_fill(ld, t, s, k, elems, verdicts) < 0)
		return NULL;
	return s;
}

static const struct rs_set *set_ref(struct loader *ld, const struct rs_table *t, const char *at)
{
	char key[512];

	name_key(key, sizeof(key), t->family, t->name, at + 1);
	return names_find(&ld->sets, key);
}

/* ---- rules ---- */

/* What a statement reads, for an undecidable one's reason: "ct mark". */
static const char *describe(struct loader *ld, const char *stmt, json_t *left)
{
	char b[64];
	json_t *o;

	if (left && (o = json_object_get(left, "meta")))
		snprintf(b, sizeof(b), "meta %s", json_string_value(json_object_get(o, "key")) ?: "?");
	else if (left && (o = json_object_get(left, "ct")))
		snprintf(b, sizeof(b), "ct %s", json_string_value(json_object_get(o, "key")) ?: "?");
	else if (left && (o = json_object_get(left, "payload")) && json_object_get(o, "base"))
		snprintf(b, sizeof(b), "a raw payload match (@%s)",
			 json_string_value(json_object_get(o, "base")) ?: "?");
	else if (left && (o = json_object_get(left, "payload")))
		snprintf(b, sizeof(b), "%s %s",
			 json_string_value(json_object_get(o, "protocol")) ?: "payload",
			 json_string_value(json_object_get(o, "field")) ?: "?");
	else if (left)
		snprintf(b, sizeof(b), "a %s match", json_object_iter_key(json_object_iter(left)) ?: "?");
	else
		snprintf(b, sizeof(b), "%s", stmt);
	return rs_strdup(ld->m, b) ?: "?";
}

static int match_of(struct loader *ld, const struct rs_table *t, json_t *mt, struct rs_stmt *s)
{
	static const char *const ops[] = { [OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<",
					   [OP_GT] = ">", [OP_LE] = "<=", [OP_GE] = ">=",
					   [OP_IN] = "in" };
	const char *op = json_string_value(json_object_get(mt, "op"));
	json_t *left = json_object_get(mt, "left"), *right = json_object_get(mt, "right");
	const char *at = json_string_value(right);
	uint8_t *v;

	s->kind = S_UNDECIDABLE;
	s->why = describe(ld, "match", left);
	if (!op || !rs_key_of(left, &s->key))
		return 0;
	for (s->op = 0; s->op <= OP_IN && strcmp(ops[s->op], op); s->op++)
		;
	if (s->op > OP_IN)
		return 0;
	if (at && at[0] == '@') {
		s->set = set_ref(ld, t, at);
		if (!s->set || s->set->undecidable || s->set->width != s->key.width ||
		    (s->op != OP_EQ && s->op != OP_NE))
			return 0;
	} else if (json_object_get(right, "set")) {
		s->set = anon_set(ld, t, &s->key, json_object_get(right, "set"), false);
		if (!s->set)
			return -1;
		if (s->set->undecidable || (s->op != OP_EQ && s->op != OP_NE))
			return 0;
	} else {
		if (!(v = rs_alloc(ld->m, 2u * s->key.width)))
			return -1;
		if (!rs_interval_of(&s->key, right, v, v + s->key.width))
			return 0;
		s->lo = v;
		s->hi = v + s->key.width;
	}
	s->kind = S_MATCH;
	return 0;
}

static int stmt_of(struct loader *ld, const struct rs_table *t, json_t *e, struct rs_stmt *s)
{
	static const char *const noops[] = { "counter", "log", "mangle", "set", "notrack",
					     "nftrace", "flow", "meter" };
	const char *what = json_object_iter_key(json_object_iter(e)) ?: "?";
	json_t *vm;

	memset(s, 0, sizeof(*s));
	if (json_object_get(e, "match"))
		return match_of(ld, t, json_object_get(e, "match"), s);
	if (verdict_of(ld, t, e, &s->v)) {
		s->kind = s->v.kind == V_NONE ? S_UNDECIDABLE : S_VERDICT;
		s->why = "a jump to a chain the ruleset lacks";
		return 0;
	}
	if ((vm = json_object_get(e, "vmap"))) {
		json_t *data = json_object_get(vm, "data");
		const char *at = json_string_value(data);

		s->kind = S_UNDECIDABLE;
		s->why = "a verdict map the model cannot read";
		if (!rs_key_of(json_object_get(vm, "key"), &s->key))
			return 0;
		if (at && at[0] == '@')
			s->set = set_ref(ld, t, at);
		else if (json_object_get(data, "set") &&
			 !(s->set = anon_set(ld, t, &s->key, json_object_get(data, "set"), true)))
			return -1;
		if (s->set && !s->set->undecidable && s->set->verdicts &&
		    s->set->width == s->key.width)
			s->kind = S_VMAP;
		return 0;
	}
	for (size_t i = 0; i < sizeof(noops) / sizeof(noops[0]); i++)
		if (!strcmp(what, noops[i])) {
			s->kind = S_NOOP;
			return 0;
		}
	/* limit, quota, ct count, an xt match, numgen, fib, ...: whether the
	 * packet got past it depends on what the model does not see. */
	s->kind = S_UNDECIDABLE;
	s->why = rs_strdup(ld->m, !strcmp(what, "xt") ? "an iptables match" : what) ?: "?";
	return 0;
}

static int add_rule(struct loader *ld, json_t *o)
{
	const char *family = json_string_value(json_object_get(o, "family"));
	const char *table = json_string_value(json_object_get(o, "table"));
	const char *chain = json_string_value(json_object_get(o, "chain"));
	const char *comment = json_string_value(json_object_get(o, "comment"));
	json_t *expr = json_object_get(o, "expr"), *e;
	struct rs_chain *ch;
	struct rs_rule *r;
	struct rs_stmt *s;
	char key[512];
	size_t i;

	if (!family || !table || !chain || !json_is_array(expr))
		return 0;
	name_key(key, sizeof(key), family, table, chain);
	ch = names_find(&ld->chains, key);
	if (!ch || ch->n_rules == ch->cap_rules)
		return 0;
	r = &ch->rules[ch->n_rules++];
	r->chain = ch;
	r->handle = (uint64_t)json_integer_value(json_object_get(o, "handle"));
	r->comment = comment ? rs_strdup(ld->m, comment) : NULL;
	r->text = rs_render_rule(ld->m, expr);
	r->n = (uint16_t)(json_array_size(expr) > 0xffff ? 0xffff : json_array_size(expr));
	r->s = s = rs_alloc(ld->m, r->n * sizeof(*s) + 1);
	if (!s || !r->text)
		return -1;
	json_array_foreach(expr, i, e) {
		if (i == r->n)
			break;
		if (stmt_of(ld, ch->table, e, &s[i]) < 0)
			return -1;
		r->xt_reject |= s[i].kind == S_VERDICT && s[i].v.kind == V_XT_REJECT;
	}
	ld->m->n_rules++;
	return 0;
}

/* ---- tables and chains ---- */

static int fam_of(const char *family)
{
	return !strcmp(family, "inet") ? 46 : !strcmp(family, "ip") ? 4
	       : !strcmp(family, "ip6") ? 6 : 0;
}

static int hook_of(const char *hook)
{
	static const char *const names[RS_HOOKS] = { "prerouting", "input", "forward", "output" };

	for (int i = 0; hook && i < RS_HOOKS; i++)
		if (!strcmp(names[i], hook))
			return i;
	return -1;
}

static int add_chain(struct loader *ld, struct rs_chain *ch, json_t *o)
{
	const char *family = json_string_value(json_object_get(o, "family"));
	const char *table = json_string_value(json_object_get(o, "table"));
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *type = json_string_value(json_object_get(o, "type"));
	char key[512];

	for (unsigned j = 0; family && table && j < ld->m->n_tables; j++)
		if (!strcmp(ld->m->tables[j].family, family) && !strcmp(ld->m->tables[j].name, table))
			ch->table = &ld->m->tables[j];
	if (!ch->table || !name)
		return 1;
	ch->name = rs_strdup(ld->m, name);
	ch->hook = hook_of(json_string_value(json_object_get(o, "hook")));
	/* nat chains see a flow's first packet only and cannot reject; the
	 * netdev, bridge and arp families are not on a reset's path. */
	ch->base = ch->hook >= 0 && ch->table->fam && type && strcmp(type, "nat");
	ch->prio = (int)json_integer_value(json_object_get(o, "prio"));
	ch->policy_drop = !strcmp(json_string_value(json_object_get(o, "policy")) ?: "", "drop");
	name_key(key, sizeof(key), family, table, name);
	return ch->name ? names_add(ld->m, &ld->chains, key, ch) : -1;
}

static int base_cmp(const void *a, const void *b)
{
	const struct rs_chain *x = *(const struct rs_chain *const *)a,
			      *y = *(const struct rs_chain *const *)b;

	/* The kernel runs a hook's chains by priority; equal ones in the order
	 * they were registered, which the dump's order follows. */
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int build(struct loader *ld, json_t *list)
{
	struct rs_model *m = ld->m;
	unsigned nt = 0, nc = 0, ns = 0;
	size_t i;
	json_t *o, *v;

	json_array_foreach(list, i, o) {
		nt += json_object_get(o, "table") != NULL;
		nc += json_object_get(o, "chain") != NULL;
		ns += json_object_get(o, "set") != NULL || json_object_get(o, "map") != NULL;
	}
	m->tables = rs_alloc(m, (nt + 1) * sizeof(*m->tables));
	m->chains = rs_alloc(m, (nc + 1) * sizeof(*m->chains));
	m->sets = rs_alloc(m, (ns + 1) * sizeof(*m->sets));
	if (!m->tables || !m->chains || !m->sets || names_init(m, &ld->chains, nc) < 0 ||
	    names_init(m, &ld->sets, ns) < 0)
		return -1;
	json_array_foreach(list, i, o) {
		const char *family, *name;

		if (!(v = json_object_get(o, "table")))
			continue;
		family = json_string_value(json_object_get(v, "family"));
		name = json_string_value(json_object_get(v, "name"));
		if (!family || !name)
			continue;
		m->tables[m->n_tables].family = rs_strdup(m, family);
		m->tables[m->n_tables].name = rs_strdup(m, name);
		/* rstwatch's own table accepts or copies, never rejects. */
		m->tables[m->n_tables].fam = !strcmp(family, "inet") && !strcmp(name, "rstwatch")
					     ? 0 : fam_of(family);
		m->n_tables++;
	}
	json_array_foreach(list, i, o) {
		int r;

		if (!(v = json_object_get(o, "chain")))
			continue;
		if ((r = add_chain(ld, &m->chains[m->n_chains], v)) < 0)
			return -1;
		m->n_chains += r == 0;
	}
	json_array_foreach(list, i, o) {
		bool is_map = json_object_get(o, "map") != NULL;

		if (!(v = json_object_get(o, is_map ? "map" : "set")))
			continue;
		if (add_set(ld, &m->sets[m->n_sets], v, is_map) < 0)
			return -1;
		m->n_sets++;
	}
	json_array_foreach(list, i, o) {
		struct rs_chain *ch;
		char key[512];

		if (!(v = json_object_get(o, "rule")))
			continue;
		name_key(key, sizeof(key), json_string_value(json_object_get(v, "family")) ?: "",
			 json_string_value(json_object_get(v, "table")) ?: "",
			 json_string_value(json_object_get(v, "chain")) ?: "");
		if ((ch = names_find(&ld->chains, key)))
			ch->cap_rules++;
	}
	for (unsigned c = 0; c < m->n_chains; c++)
		if (m->chains[c].cap_rules &&
		    !(m->chains[c].rules = rs_alloc(m, m->chains[c].cap_rules *
						    sizeof(struct rs_rule))))
			return -1;
	json_array_foreach(list, i, o)
		if ((v = json_object_get(o, "rule")) && add_rule(ld, v) < 0)
			return -1;
	for (int h = 0; h < RS_HOOKS; h++) {
		for (unsigned c = 0; c < m->n_chains; c++)
			m->n_base[h] += m->chains[c].base && m->chains[c].hook == h;
		if (!(m->base[h] = rs_alloc(m, (m->n_base[h] + 1) * sizeof(*m->base[h]))))
			return -1;
		m->n_base[h] = 0;
		for (unsigned c = 0; c < m->n_chains; c++)
			if (m->chains[c].base && m->chains[c].hook == h)
				m->base[h][m->n_base[h]++] = &m->chains[c];
		qsort(m->base[h], m->n_base[h], sizeof(*m->base[h]), base_cmp);
	}
	return 0;
}

struct rs_model *ruleset_parse(const char *text, size_t len, size_t max_bytes, char *err,
			       size_t errlen)
{
	struct loader ld = { .err = err, .errlen = errlen };
	json_error_t je;
	json_t *root, *list;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "not JSON: line %d column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	list = json_object_get(root, "nftables");
	if (!json_is_array(list)) {
		snprintf(err, errlen, "not an nft -j ruleset: no \"nftables\" array");
		json_decref(root);
		return NULL;
	}
	ld.m = calloc(1, sizeof(*ld.m));
	if (!ld.m) {
		snprintf(err, errlen, "%s", strerror(errno));
		json_decref(root);
		return NULL;
	}
	ld.m->max_bytes = max_bytes ? max_bytes : RULESET_MAX_BYTES_DEFAULT;
	if (build(&ld, list) < 0) {
		if (ld.m->over)
			snprintf(err, errlen, "the ruleset model needs more than %zu MiB",
				 ld.m->max_bytes >> 20);
		else
			snprintf(err, errlen, "%s", strerror(ENOMEM));
		ruleset_free(ld.m);
		ld.m = NULL;
	}
	json_decref(root);
	/* The parse tree took about ten times the model (measured: 130 MiB of
	 * RSS for a 14 MiB model): give it back to the system, not to a heap
	 * that the daemon would keep at its peak. */
	malloc_trim(0);
	return ld.m;
}

struct rs_model *ruleset_load_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0;
	struct rs_model *m;

	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *more = cap < RULESET_MAX_BYTES_DEFAULT ? realloc(text, cap = cap ? 2 * cap
										   : 65536) : NULL;

			if (!more) {
				snprintf(err, errlen, cap >= RULESET_MAX_BYTES_DEFAULT
					 ? "larger than %u MiB" : "out of memory",
					 RULESET_MAX_BYTES_DEFAULT >> 20);
				free(text);
				fclose(f);
				return NULL;
			}
			text = more;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	m = ruleset_parse(text, len, 0, err, errlen);
	free(text);
	return m;
}
