/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the event says of the rule: the `rule` object (built with libjansson,
 * which escapes as JSON requires) and the words of the text line; and the
 * iptables-save lines of iptables-nft rules. */
#include "ruleset_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rs_rule_family(const struct rs_rule *r) { return r->chain->table->family; }
const char *rs_rule_table(const struct rs_rule *r) { return r->chain->table->name; }
const char *rs_rule_chain(const struct rs_rule *r) { return r->chain->name; }
uint64_t rs_rule_handle(const struct rs_rule *r) { return r->handle; }
const char *rs_rule_text(const struct rs_rule *r) { return r->text; }

/* ---- iptables-save ---- */

static struct rs_chain *chain_of(struct rs_model *m, const char *family, const char *table,
				 const char *chain)
{
	for (unsigned i = 0; i < m->n_chains; i++) {
		struct rs_chain *c = &m->chains[i];

		if (!strcmp(c->name, chain) && !strcmp(c->table->name, table) &&
		    !strcmp(c->table->family, family))
			return c;
	}
	return NULL;
}

/* Give each rule of chain c its -A line, if the chain has as many rules as
 * lines (else the positions cannot be trusted). */
static unsigned assign(struct rs_model *m, struct rs_chain *c, char **lines, unsigned n)
{
	unsigned got = 0;

	if (!c || c->n_rules != n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		struct rs_rule *r = &c->rules[i];

		if (!r->xt_reject)
			continue;
		r->iptables = rs_strdup(m, lines[i]);
		r->xt_tcp_reset = strstr(lines[i], "--reject-with tcp-reset") != NULL;
		got += r->iptables != NULL;
	}
	return got;
}

unsigned ruleset_add_iptables_save(struct rs_model *m, int family, const char *text, size_t len)
{
	const char *fam = family == 6 ? "ip6" : "ip";
	char *copy = strndup(text, len), *save = NULL, *line, table[64] = "";
	char chain[64] = "", **lines = NULL;
	unsigned n = 0, cap = 0, got = 0;

	if (!copy)
		return 0;
	/* -A lines of one chain come together, in the chain's order. */
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64];

		if (line[0] == '*') {
			got += assign(m, chain_of(m, fam, table, chain), lines, n);
			n = 0;
			snprintf(table, sizeof(table), "%s", line + 1);
			chain[0] = '\0';
			continue;
		}
		if (strncmp(line, "-A ", 3) || sscanf(line + 3, "%63s", name) != 1)
			continue;
		if (strcmp(name, chain)) {
			got += assign(m, chain_of(m, fam, table, chain), lines, n);
			n = 0;
			snprintf(chain, sizeof(chain), "%s", name);
		}
		if (n == cap) {
			char **more = realloc(lines, (cap = cap ? 2 * cap : 16) * sizeof(*lines));

			if (!more)
				break;
			lines = more;
		}
		lines[n++] = line;
	}
	got += assign(m, chain_of(m, fam, table, chain), lines, n);
	free(lines);
	free(copy);
	return got;
}

/* ---- the answer ---- */

/* s cut to at most max bytes on a UTF-8 boundary, "..." marking the cut. */
static json_t *cut_string(const char *s, size_t max)
{
	char b[256];
	size_t n = strlen(s);
	json_t *j;

	if (max > sizeof(b) - 4)
		max = sizeof(b) - 4;
	if (n > max) {
		n = max;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		memcpy(b, s, n);
		memcpy(b + n, "...", 4);
		s = b;
	}
	j = json_string(s);
	return j ? j : json_string("?");    /* not UTF-8 */
}

static json_t *rule_object(const struct rs_rule *r, size_t text_max)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "family", json_string(r->chain->table->family));
	json_object_set_new(o, "table", cut_string(r->chain->table->name, 64));
	json_object_set_new(o, "chain", cut_string(r->chain->name, 64));
	json_object_set_new(o, "handle", json_integer((json_int_t)r->handle));
	json_object_set_new(o, "text", cut_string(r->text, text_max));
	if (r->comment)
		json_object_set_new(o, "comment", cut_string(r->comment, 128));
	if (r->iptables)
		json_object_set_new(o, "iptables", cut_string(r->iptables, text_max));
	return o;
}

void ruleset_answer_json(const struct rs_answer *a, bool changed, char *out, size_t size)
{
	json_t *o = a->n == 1 && !a->why[0] ? rule_object(a->rule[0], 240) : json_object();
	char *s;

	if (!size)
		return;
	snprintf(out, size, "{}");
	if (!o)
		return;
	if (a->n != 1 || a->why[0]) {
		json_t *list = json_array();

		for (unsigned i = 0; list && i < a->n; i++)
			json_array_append_new(list, rule_object(a->rule[i], 120));
		json_object_set_new(o, "candidates", list);
		if (a->more)
			json_object_set_new(o, "more_candidates", json_true());
		json_object_set_new(o, "why", cut_string(a->why, 160));
	}
	if (a->generation)
		json_object_set_new(o, "generation", json_integer(a->generation));
	if (changed)
		json_object_set_new(o, "ruleset_changed", json_true());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s && strlen(s) < size)
		snprintf(out, size, "%s", s);
	free(s);
	json_decref(o);
}

static size_t name_rule(const struct rs_rule *r, char *out, size_t size)
{
	int n = snprintf(out, size, "%s %s %s handle %llu", r->chain->table->family,
			 r->chain->table->name, r->chain->name, (unsigned long long)r->handle);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

void ruleset_answer_text(const struct rs_answer *a, bool changed, char *out, size_t size)
{
	size_t len = 0;

	if (!size)
		return;
	out[0] = '\0';
#define ADD(...) do { if (len < size) { int n_ = snprintf(out + len, size - len, __VA_ARGS__); \
	if (n_ > 0) len = len + (size_t)n_ < size ? len + (size_t)n_ : size - 1; } } while (0)
	if (a->n == 1 && !a->why[0]) {
		ADD("rejected by ");
		len += name_rule(a->rule[0], out + len, size - len);
		ADD(": %s", a->rule[0]->iptables ? a->rule[0]->iptables : a->rule[0]->text);
		if (a->rule[0]->comment)
			ADD(" # %s", a->rule[0]->comment);
	} else if (a->n) {
		ADD("rejected by %s", a->n > 1 ? "one of " : "");
		for (unsigned i = 0; i < a->n; i++) {
			ADD("%s", i ? ", " : "");
			len += name_rule(a->rule[i], out + len, size - len);
		}
		ADD("%s (not sure: %s)", a->more ? ", ..." : "", a->why);
	} else {
		ADD("a reject rule on this gateway sent it, but %s", a->why);
	}
	if (changed)
		ADD(" [the ruleset changed around the reset: named from generation %u]",
		    a->generation);
#undef ADD
}
