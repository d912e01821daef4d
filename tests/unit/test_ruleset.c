/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset model and its evaluator: the JSON real nft wrote for
 * ruleset_sample.nft (ruleset_sample.sh remakes it), and a table of resets ->
 * the rule that sent each, or the candidates and why. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ruleset.h"
#include "ruleset_live.h"
#include "ruleset_model.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *b;

	assert_non_null(f);
	b = malloc(1 << 20);
	assert_non_null(b);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static struct rs_model *sample(void)
{
	char err[200] = "";
	size_t len;
	char *text = slurp("tests/unit/ruleset_sample.json", &len);
	struct rs_model *m = ruleset_parse(text, len, 0, err, sizeof(err));

	free(text);
	if (!m)
		fail_msg("%s", err);
	return m;
}

/* A reset as nf_reject makes it: answering a SYN (RA) or an ACK (R). */
static struct tcp_packet reset_of(int family, const char *src, uint16_t sport, const char *dst,
				  uint16_t dport, bool answers_syn)
{
	struct tcp_packet p;

	memset(&p, 0, sizeof(p));
	p.family = (uint8_t)family;
	assert_int_equal(inet_pton(family == 6 ? AF_INET6 : AF_INET, src, p.src), 1);
	assert_int_equal(inet_pton(family == 6 ? AF_INET6 : AF_INET, dst, p.dst), 1);
	p.sport = sport;
	p.dport = dport;
	p.flags = answers_syn ? (TCPF_RST | TCPF_ACK) : TCPF_RST;
	return p;
}

struct case_ {
	const char *what;
	int family;
	const char *rst_src;     /* the reset's source: the trigger's destination */
	uint16_t rst_sport;      /* the trigger's destination port */
	const char *rst_dst;
	bool answers_syn;
	uint32_t ct;
	const char *iif;
	unsigned paths;
	const char *expect;      /* "family table chain handle", or candidates "a|b" */
};

static const struct case_ cases[] = {
	{ "named set, ct state anonymous set", 4, "198.51.100.5", 80, "192.0.2.7", true,
	  RS_CT_NEW, "veth1", RS_PATH_FORWARD, "inet filter forward 13" },
	{ "ct state established,related", 4, "198.51.100.5", 9130, "192.0.2.50", false,
	  RS_CT_ESTABLISHED, "veth1", RS_PATH_FORWARD, "inet filter forward 11" },
	{ "interval set", 4, "203.0.113.15", 9125, "192.0.2.50", true, RS_CT_NEW, "veth1",
	  RS_PATH_FORWARD, "inet filter forward 14" },
	{ "prefix in an interval set", 4, "198.51.100.200", 9125, "192.0.2.50", true, RS_CT_NEW,
	  "veth1", RS_PATH_FORWARD, "inet filter forward 14" },
	{ "concatenation", 4, "198.51.100.5", 9121, "192.0.2.1", true, RS_CT_NEW, "veth1",
	  RS_PATH_FORWARD, "inet filter forward 15" },
	{ "verdict map, jump", 4, "198.51.100.5", 9122, "192.0.2.50", true, RS_CT_NEW, "veth1",
	  RS_PATH_FORWARD, "inet filter sub 8" },
	{ "anonymous verdict map, goto, IPv6 only", 6, "2001:db8:1::5", 9126, "2001:db8:2::9",
	  true, RS_CT_NEW, "veth1", RS_PATH_FORWARD, "inet filter gtc 10" },
	{ "IPv6 prefix, tcp flags mask", 6, "2001:db8:1::5", 80, "2001:db8:2::9", true, RS_CT_NEW,
	  "veth1", RS_PATH_FORWARD, "inet filter forward 21" },
	{ "iifname, oifname undecided: the others would not reset", 4, "198.51.100.5", 9128,
	  "192.0.2.50", true, RS_CT_ESTABLISHED, "veth0", RS_PATH_FORWARD,
	  "inet filter forward 20|inet filter forward 22|inet filter forward 23" },
	{ "ip family table, input", 4, "198.51.100.1", 22, "192.0.2.50", true, RS_CT_NEW,
	  "veth1", RS_PATH_INPUT, "ip f4 in 2" },
	{ "ct mark and limit: candidates", 4, "198.51.100.5", 443, "192.0.2.50", false,
	  RS_CT_ESTABLISHED, "veth1", RS_PATH_FORWARD,
	  "inet filter forward 22|inet filter forward 23" },
	{ "vmap drop: no reset from this ruleset", 4, "198.51.100.5", 9123, "192.0.2.50", true,
	  RS_CT_NEW, "veth1", RS_PATH_FORWARD, "" },
};

static void check_answer(const struct case_ *c, const struct rs_answer *a)
{
	char got[512] = "";
	size_t len = 0;

	for (unsigned i = 0; i < a->n; i++)
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s %s %s %llu",
					i ? "|" : "", rs_rule_family(a->rule[i]),
					rs_rule_table(a->rule[i]), rs_rule_chain(a->rule[i]),
					(unsigned long long)rs_rule_handle(a->rule[i]));
	if (strcmp(got, c->expect))
		fail_msg("%s: expected \"%s\", got \"%s\" (%s)", c->what, c->expect, got, a->why);
	/* Named when one, said why when not. */
	if (a->n != 1)
		assert_true(a->why[0] != '\0');
}

static void test_table(void **state)
{
	struct rs_model *m = sample();

	(void)state;
	assert_int_equal(ruleset_rules(m), 16);
	assert_int_equal(ruleset_elements(m), 11);   /* anonymous sets too */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *c = &cases[i];
		struct tcp_packet rst = reset_of(c->family, c->rst_src, c->rst_sport, c->rst_dst,
						 40000, c->answers_syn);
		struct rs_trigger t;
		struct rs_answer a;

		ruleset_trigger_of_reset(&rst, c->ct, c->iif, c->paths, &t);
		ruleset_explain(m, &t, &a);
		check_answer(c, &a);
	}
	ruleset_free(m);
}

/* An iptables-nft REJECT: the JSON says only "xt target REJECT"; with the
 * iptables-save line the rule is named with it. */
static void test_iptables(void **state)
{
	struct rs_model *m = sample();
	struct tcp_packet rst = reset_of(4, "198.51.100.1", 9140, "192.0.2.50", 40000, true);
	size_t len;
	char *save = slurp("tests/unit/ruleset_sample.iptables", &len);
	char json[RULESET_JSON_MAX], text[RULESET_TEXT_MAX];
	struct rs_trigger t;
	struct rs_answer a;

	(void)state;
	ruleset_trigger_of_reset(&rst, RS_CT_NEW, "veth1", RS_PATH_INPUT, &t);
	ruleset_explain(m, &t, &a);
	assert_int_equal(a.n, 1);
	assert_non_null(strstr(a.why, "--reject-with"));
	assert_int_equal(ruleset_add_iptables_save(m, 4, save, len), 1);
	ruleset_explain(m, &t, &a);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.why, "");
	ruleset_answer_text(&a, false, text, sizeof(text));
	assert_string_equal(text, "rejected by ip filter INPUT handle 2: -A INPUT -p tcp -m tcp "
			    "--dport 9140 -j REJECT --reject-with tcp-reset");
	ruleset_answer_json(&a, false, json, sizeof(json));
	assert_non_null(strstr(json, "\"iptables\":\"-A INPUT -p tcp"));
	free(save);
	ruleset_free(m);
}

/* The text and JSON forms: nft's syntax rebuilt from the JSON, the comment
 * after '#', candidates and why; a ruleset changed since the reset says so. */
static void test_format(void **state)
{
	struct rs_model *m = sample();
	struct tcp_packet rst = reset_of(4, "198.51.100.5", 9130, "192.0.2.50", 40000, false);
	char json[RULESET_JSON_MAX], text[RULESET_TEXT_MAX];
	struct rs_trigger t;
	struct rs_answer a;

	(void)state;
	ruleset_trigger_of_reset(&rst, RS_CT_ESTABLISHED, "veth1", RS_PATH_FORWARD, &t);
	ruleset_explain(m, &t, &a);
	ruleset_answer_text(&a, false, text, sizeof(text));
	assert_string_equal(text, "rejected by inet filter forward handle 11: ct state "
			    "established,related tcp dport 9130 counter packets 0 bytes 0 reject "
			    "with tcp reset # legacy app");
	ruleset_answer_json(&a, true, json, sizeof(json));
	assert_string_equal(json, "{\"family\":\"inet\",\"table\":\"filter\",\"chain\":\"forward\","
			    "\"handle\":11,\"text\":\"ct state established,related tcp dport 9130 "
			    "counter packets 0 bytes 0 reject with tcp reset\",\"comment\":"
			    "\"legacy app\",\"ruleset_changed\":true}");
	rst = reset_of(4, "198.51.100.5", 443, "192.0.2.50", 40000, false);
	ruleset_trigger_of_reset(&rst, RS_CT_ESTABLISHED, "veth1", RS_PATH_FORWARD, &t);
	ruleset_explain(m, &t, &a);
	ruleset_answer_text(&a, false, text, sizeof(text));
	assert_string_equal(text, "rejected by one of inet filter forward handle 22, inet filter "
			    "forward handle 23 (not sure: ct mark; limit)");
	ruleset_answer_json(&a, false, json, sizeof(json));
	assert_non_null(strstr(json, "\"candidates\":[{\"family\":\"inet\""));
	assert_non_null(strstr(json, "\"why\":\"ct mark; limit\""));
	ruleset_free(m);
}

/* Round trip: each rule's text, rebuilt from nft's JSON, is what nft itself
 * prints for it (ruleset_sample.txt: nft -a list ruleset), comment aside.
 * iptables-nft rules excepted: nft translates their xt target, the event
 * shows their iptables-save line instead. */
static void test_text_round_trip(void **state)
{
	struct rs_model *m = sample();
	size_t len;
	char *text = slurp("tests/unit/ruleset_sample.txt", &len), *save = NULL, *line;
	char family[16] = "", table[64] = "";
	unsigned compared = 0;

	(void)state;
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *h = strstr(line, " # handle "), *body = line, *c;
		unsigned long long handle;

		if (sscanf(line, "table %15s %63s {", family, table) == 2 || !h)
			continue;
		while (*body == '\t')
			body++;
		if (!strncmp(body, "chain ", 6) || !strncmp(body, "set ", 4) ||
		    !strncmp(body, "map ", 4) || !strncmp(body, "table ", 6))
			continue;
		handle = strtoull(h + 10, NULL, 10);
		*h = '\0';
		if ((c = strstr(body, " comment \"")))
			*c = '\0';
		for (unsigned i = 0; i < m->n_chains; i++) {
			const struct rs_chain *ch = &m->chains[i];

			if (strcmp(ch->table->family, family) || strcmp(ch->table->name, table))
				continue;
			for (unsigned r = 0; r < ch->n_rules; r++) {
				if (ch->rules[r].handle != handle || ch->rules[r].xt_reject)
					continue;
				assert_string_equal(ch->rules[r].text, body);
				compared++;
			}
		}
	}
	assert_int_equal(compared, ruleset_rules(m) - 1);
	free(text);
	ruleset_free(m);
}

/* Malformed input: a clear error, never a crash; a bound on memory. */
static void test_bad_input(void **state)
{
	static const char *const bad[] = { "", "{", "[]", "{\"nftables\": 3}", "nft" };
	char err[200];
	size_t len;
	char *text;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(ruleset_parse(bad[i], strlen(bad[i]), 0, err, sizeof(err)));
		assert_true(err[0] != '\0');
	}
	text = slurp("tests/unit/ruleset_sample.json", &len);
	assert_null(ruleset_parse(text, len, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "more than"));
	/* Every prefix of the real thing parses or fails cleanly. */
	for (size_t cut = 0; cut < len; cut += 97) {
		struct rs_model *m = ruleset_parse(text, cut, 0, err, sizeof(err));

		ruleset_free(m);
	}
	free(text);
}

/* A change between the reset and the lookup: a reset clearly older than the
 * current generation is named from the one before; one between the end of
 * the read before and the change being seen gets both to ask; one while a
 * committed generation is unread says the ruleset changed. */
static void test_generations(void **state)
{
	struct ruleset_current c;
	struct rs_shared *held, *alt_held;
	const struct rs_model *got, *alt;
	struct rs_model *g1 = sample(), *g2 = sample();
	bool changed;

	(void)state;
	ruleset_set_generation(g1, 7);
	ruleset_set_generation(g2, 8);
	ruleset_current_init(&c);
	assert_null(ruleset_current_take(&c, 1000, &held, &changed, &alt, &alt_held));
	assert_int_equal(ruleset_current_set(&c, g1, 0, 0), 0);
	ruleset_current_changed(&c, 8);
	/* g1's read ended at 9 s, g2's change was seen at 10 s. */
	assert_int_equal(ruleset_current_set(&c, g2, 9000000, 10000000), 0);
	got = ruleset_current_take(&c, 20000000, &held, &changed, &alt, &alt_held); /* after */
	assert_ptr_equal(got, g2);
	assert_null(alt);
	assert_false(changed);
	ruleset_current_drop(&c, held);
	got = ruleset_current_take(&c, 5000000, &held, &changed, &alt, &alt_held);  /* before */
	assert_ptr_equal(got, g1);
	assert_null(alt);
	assert_false(changed);
	ruleset_current_drop(&c, held);
	got = ruleset_current_take(&c, 9500000, &held, &changed, &alt, &alt_held);  /* between */
	assert_ptr_equal(got, g2);
	assert_ptr_equal(alt, g1);
	assert_false(changed);
	ruleset_current_drop(&c, held);
	ruleset_current_drop(&c, alt_held);
	/* Committed, its read failed: no waiting, but the answer says so. */
	ruleset_current_changed(&c, 9);
	ruleset_current_unread(&c);
	got = ruleset_current_take(&c, 20000000, &held, &changed, &alt, &alt_held);
	assert_ptr_equal(got, g2);
	assert_true(changed);
	/* Still held by a reset when a newer one comes: freed when given back. */
	assert_int_equal(ruleset_current_set(&c, sample(), 30000000, 30000000), 0);
	assert_int_equal(ruleset_current_set(&c, sample(), 40000000, 40000000), 0);
	assert_int_equal(ruleset_generation(got), 8);
	ruleset_current_drop(&c, held);
	ruleset_current_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_iptables),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_generations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
