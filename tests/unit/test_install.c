/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The install batch of rules/batch.c, taken apart again with libnftnl:
 * message order and flags, chains, and every rule's expressions. No kernel
 * needed; tests/live/t-rules.sh loads the same batch into a namespace.
 *
 * The expected expressions below are what `nft --debug=netlink -f
 * rules/rstwatch.nft` prints for the same rules (nft 1.0.6, libnftnl 1.2.4),
 * so they pin the installer to the bytecode nft itself makes from the file;
 * the symhash guards of several queues are what it prints for `rules print
 * --queue 7300-7301` with the queue rules uncommented.
 * If a libnftnl update changes how it prints expressions, regenerate them
 * from that command, not from the installer. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include "install.h"

#define MAX_RULES 96

struct parsed {
	int n_msgs;
	uint16_t types[128];
	int n_chains;
	char chain_names[8][32];
	uint32_t chain_hook[8];
	int32_t chain_prio[8];
	bool chain_base[8];
	int n_rules;
	char rule_chain[MAX_RULES][32];
	char rule_text[MAX_RULES][2048];    /* expressions, nft --debug=netlink style */
	char rule_comment[MAX_RULES][160];
	struct nftnl_rule *rule[MAX_RULES];
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	char *out = data;

	/* Every comment type (table, chain, rule) is 0. */
	if (nftnl_udata_type(attr) == 0) {
		uint8_t len = nftnl_udata_len(attr);

		assert_true(len > 0 && len <= NFTNL_UDATA_COMMENT_MAXLEN);
		assert_int_equal(((const char *)nftnl_udata_get(attr))[len - 1], '\0');
		snprintf(out, 160, "%s", (const char *)nftnl_udata_get(attr));
	}
	return 0;
}

/* The rule's expressions as libnftnl prints them, without the header line
 * and the userdata line (the comment is checked on its own). */
static void rule_exprs_text(struct nftnl_rule *r, char *out, size_t len)
{
	char all[4096], *line, *save = NULL;
	size_t used = 0;
	int first = 1;

	nftnl_rule_snprintf(all, sizeof(all), r, NFTNL_OUTPUT_DEFAULT, 0);
	out[0] = '\0';
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			first = 0;
			continue;
		}
		if (strncmp(line, "  userdata", 10) == 0)
			continue;
		used += (size_t)snprintf(out + used, len - used, "%s\n", line);
	}
}

static void parse_batch(const struct rules_config *c, enum rules_queue_impl impl,
			struct parsed *p)
{
	void *buf;
	size_t len;
	const struct nlmsghdr *nlh;
	int rem;
	uint32_t seq = 1000;

	memset(p, 0, sizeof(*p));
	assert_int_equal(rules_build_batch(c, impl, seq, &buf, &len), 0);
	nlh = buf;
	rem = (int)len;
	while (mnl_nlmsg_ok(nlh, rem)) {
		uint16_t type = nlh->nlmsg_type;

		assert_true(p->n_msgs < 128);
		p->types[p->n_msgs++] = type;
		/* One transaction: consecutive sequence numbers from the first. */
		assert_int_equal(nlh->nlmsg_seq, seq++);
		if (type == NFNL_MSG_BATCH_BEGIN || type == NFNL_MSG_BATCH_END) {
			const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

			assert_int_equal(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);
		} else {
			const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

			assert_int_equal(NFNL_SUBSYS_ID(type), NFNL_SUBSYS_NFTABLES);
			assert_int_equal(g->nfgen_family, NFPROTO_INET);
			/* Every message is acknowledged, so a failure names it. */
			assert_true(nlh->nlmsg_flags & NLM_F_ACK);
		}
		switch (NFNL_MSG_TYPE(type)) {
		case NFT_MSG_NEWTABLE:
		case NFT_MSG_DELTABLE:
			if (NFNL_SUBSYS_ID(type) == NFNL_SUBSYS_NFTABLES) {
				struct nftnl_table *t = nftnl_table_alloc();

				assert_int_equal(nftnl_table_nlmsg_parse(nlh, t), 0);
				/* It touches no other table. */
				assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME),
						    RULES_TABLE);
				nftnl_table_free(t);
			}
			break;
		case NFT_MSG_NEWCHAIN: {
			struct nftnl_chain *ch = nftnl_chain_alloc();
			int i = p->n_chains++;

			assert_true(i < 8);
			assert_int_equal(nftnl_chain_nlmsg_parse(nlh, ch), 0);
			assert_string_equal(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), RULES_TABLE);
			snprintf(p->chain_names[i], sizeof(p->chain_names[i]), "%s",
				 nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));
			p->chain_base[i] = nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM);
			if (p->chain_base[i]) {
				p->chain_hook[i] = nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM);
				p->chain_prio[i] = nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO);
				assert_string_equal(nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE), "filter");
				assert_int_equal(nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY), NF_ACCEPT);
			}
			nftnl_chain_free(ch);
			break;
		}
		case NFT_MSG_NEWRULE: {
			struct nftnl_rule *r = nftnl_rule_alloc();
			int i = p->n_rules++;
			uint32_t ulen = 0;
			const void *ud;

			assert_true(i < MAX_RULES);
			assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
			assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), RULES_TABLE);
			/* Appended in order: the listing keeps the file's order. */
			assert_true(nlh->nlmsg_flags & NLM_F_APPEND);
			snprintf(p->rule_chain[i], sizeof(p->rule_chain[i]), "%s",
				 nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
			rule_exprs_text(r, p->rule_text[i], sizeof(p->rule_text[i]));
			ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ulen);
			assert_non_null(ud);
			nftnl_udata_parse(ud, ulen, comment_cb, p->rule_comment[i]);
			assert_true(p->rule_comment[i][0] != '\0');
			p->rule[i] = r;
			break;
		}
		default:
			break;
		}
		nlh = mnl_nlmsg_next(nlh, &rem);
	}
	assert_int_equal(rem, 0);
	free(buf);
}

static void free_parsed(struct parsed *p)
{
	for (int i = 0; i < p->n_rules; i++)
		nftnl_rule_free(p->rule[i]);
}

static int find_rule(const struct parsed *p, const char *chain, int nth)
{
	for (int i = 0; i < p->n_rules; i++)
		if (strcmp(p->rule_chain[i], chain) == 0 && nth-- == 0)
			return i;
	return -1;
}

static int count_rules(const struct parsed *p, const char *chain)
{
	int n = 0;

	for (int i = 0; i < p->n_rules; i++)
		n += strcmp(p->rule_chain[i], chain) == 0;
	return n;
}

#define TCP_DEP "  [ meta load l4proto => reg 1 ]\n  [ cmp eq reg 1 0x00000006 ]\n" \
		"  [ payload load 1b @ transport header + 13 => reg 1 ]\n"
#define TCP_RST TCP_DEP "  [ bitwise reg 1 = ( reg 1 & 0x00000004 ) ^ 0x00000000 ]\n" \
		"  [ cmp eq reg 1 0x00000004 ]\n"
#define TCP_SYN_FIN TCP_DEP "  [ bitwise reg 1 = ( reg 1 & 0x00000003 ) ^ 0x00000000 ]\n" \
		"  [ cmp neq reg 1 0x00000000 ]\n"
#define TCP_NO_HANDSHAKE TCP_DEP \
		"  [ bitwise reg 1 = ( reg 1 & 0x00000007 ) ^ 0x00000000 ]\n" \
		"  [ cmp eq reg 1 0x00000000 ]\n"
#define CT_UNCONFIRMED "  [ ct load status => reg 1 ]\n" \
		"  [ bitwise reg 1 = ( reg 1 & 0x00000008 ) ^ 0x00000000 ]\n" \
		"  [ cmp eq reg 1 0x00000000 ]\n"
#define CT_WATCH(bit) "  [ ct load mark => reg 1 ]\n" \
		"  [ bitwise reg 1 = ( reg 1 & " bit " ) ^ 0x00000000 ]\n" \
		"  [ cmp eq reg 1 " bit " ]\n"
#define IIF_LO "  [ meta load iif => reg 1 ]\n  [ cmp eq reg 1 0x00000001 ]\n"
#define JUMP_DIVERT "  [ immediate reg 0 jump -> divert ]\n"
#define GOTO_COPY "  [ immediate reg 0 goto -> copy ]\n"
#define GOTO_COPY_NOW "  [ immediate reg 0 goto -> copy_now ]\n"
#define ACCEPT "  [ immediate reg 0 accept ]\n"
/* symhash mod n == k, as libnftnl prints it (n and k as decimal / hex). */
#define SYMHASH(n, k) "  [ hash reg 1 = symhash() % mod " n " ]\n" \
		"  [ cmp eq reg 1 " k " ]\n"
#define LOG_BATCHED(g) "  [ log group " g " snaplen 0 qthreshold 0 ]\n"
#define LOG_NOW(g) "  [ log group " g " snaplen 0 qthreshold 1 ]\n"
/* The marker, rate-limited (RULES_MARKER_RATE, RULES_MARKER_BURST). */
#define LOG_QUEUED(g) "  [ limit rate 20000/second burst 2000 type packets flags 0x0 ]\n" \
		"  [ log prefix rstwatch: queued group " g " snaplen 0 qthreshold 1 ]\n"
#define QUEUE(q) "  [ counter pkts 0 bytes 0 ]\n  [ queue num " q " bypass ]\n"

/* Message order: BEGIN, add/delete/add table, chains, rules, END. */
static void test_batch_order(void **state)
{
	struct rules_config c;
	struct parsed p;

	(void)state;
	rules_config_default(&c);
	parse_batch(&c, RULES_QUEUE_XT, &p);
	assert_int_equal(p.types[0], NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(p.types[1], (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE);
	assert_int_equal(p.types[2], (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE);
	assert_int_equal(p.types[3], (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE);
	for (int i = 4; i < 4 + p.n_chains; i++)
		assert_int_equal(p.types[i], (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN);
	for (int i = 4 + p.n_chains; i < p.n_msgs - 1; i++)
		assert_int_equal(p.types[i], (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE);
	assert_int_equal(p.types[p.n_msgs - 1], NFNL_MSG_BATCH_END);
	assert_int_equal(p.n_msgs, 4 + p.n_chains + p.n_rules + 1);
	free_parsed(&p);
}

/* Level rst: the two raw base chains and the three regular chains; level
 * handshake (the default) adds the two watch chains at mangle priority. */
static void test_chains_by_level(void **state)
{
	static const char *const names[] = { "prerouting", "output", "prerouting_watch",
					     "output_watch", "copy", "copy_now", "divert" };
	static const uint32_t hooks[] = { NF_INET_PRE_ROUTING, NF_INET_LOCAL_OUT,
					  NF_INET_PRE_ROUTING, NF_INET_LOCAL_OUT };
	static const int32_t prios[] = { -300, -300, -150, -150 };
	struct rules_config c;
	struct parsed p;

	(void)state;
	rules_config_default(&c);
	for (int level = RULES_LEVEL_RST; level <= RULES_LEVEL_HANDSHAKE; level++) {
		int k = 0;

		c.level = (enum rules_level)level;
		parse_batch(&c, RULES_QUEUE_NATIVE, &p);
		assert_int_equal(p.n_chains, level == RULES_LEVEL_HANDSHAKE ? 7 : 5);
		for (int i = 0; i < 7; i++) {
			if (i >= 2 && i <= 3 && level != RULES_LEVEL_HANDSHAKE)
				continue;
			assert_string_equal(p.chain_names[k], names[i]);
			assert_int_equal(p.chain_base[k], i < 4);
			if (i < 4) {
				assert_int_equal(p.chain_hook[k], hooks[i]);
				assert_int_equal(p.chain_prio[k], prios[i]);
			}
			k++;
		}
		assert_int_equal(k, p.n_chains);
		free_parsed(&p);
	}
}

/* Default level (handshake), one queue: the rules of rules/rstwatch.nft,
 * expression by expression. */
static void test_rules_handshake(void **state)
{
	struct rules_config c;
	struct parsed p;
	int i;

	(void)state;
	rules_config_default(&c);
	parse_batch(&c, RULES_QUEUE_NATIVE, &p);
	assert_int_equal(count_rules(&p, "prerouting"), 3);
	assert_int_equal(count_rules(&p, "output"), 3);
	assert_int_equal(count_rules(&p, "prerouting_watch"), 2);
	assert_int_equal(count_rules(&p, "output_watch"), 1);
	assert_int_equal(count_rules(&p, "copy"), 1);
	assert_int_equal(count_rules(&p, "copy_now"), 1);
	assert_int_equal(count_rules(&p, "divert"), 3);
	assert_int_equal(p.n_rules, 14);

	i = find_rule(&p, "prerouting", 0);
	assert_string_equal(p.rule_text[i], IIF_LO ACCEPT);
	i = find_rule(&p, "prerouting", 1);
	assert_string_equal(p.rule_text[i], TCP_RST JUMP_DIVERT);
	/* Handshakes are copied (goto: the copy chain ends in the hook's
	 * policy, accept), never queued. */
	i = find_rule(&p, "prerouting", 2);
	assert_string_equal(p.rule_text[i], TCP_SYN_FIN GOTO_COPY);

	/* The new-flow firewall reset: copied at once, never queued. */
	i = find_rule(&p, "output", 0);
	assert_string_equal(p.rule_text[i], TCP_RST CT_UNCONFIRMED GOTO_COPY_NOW);
	assert_string_equal(p.rule_comment[i],
			    "reset: this host's firewall refusing a new flow; copy, never queue");
	i = find_rule(&p, "output", 1);
	assert_string_equal(p.rule_text[i], TCP_RST JUMP_DIVERT);
	i = find_rule(&p, "output", 2);
	assert_string_equal(p.rule_text[i], TCP_SYN_FIN GOTO_COPY);

	i = find_rule(&p, "prerouting_watch", 0);
	assert_string_equal(p.rule_text[i], IIF_LO ACCEPT);
	i = find_rule(&p, "prerouting_watch", 1);
	assert_string_equal(p.rule_text[i], CT_WATCH("0x00800000") TCP_NO_HANDSHAKE GOTO_COPY_NOW);
	i = find_rule(&p, "output_watch", 0);
	assert_string_equal(p.rule_text[i], CT_WATCH("0x00800000") TCP_NO_HANDSHAKE GOTO_COPY_NOW);

	/* One worker: no symhash guard anywhere. */
	i = find_rule(&p, "copy", 0);
	assert_string_equal(p.rule_text[i], LOG_BATCHED("7300"));
	i = find_rule(&p, "copy_now", 0);
	assert_string_equal(p.rule_text[i], LOG_NOW("7300"));

	i = find_rule(&p, "divert", 0);
	assert_string_equal(p.rule_text[i], CT_UNCONFIRMED ACCEPT);
	assert_string_equal(p.rule_comment[i],
			    "holds an unconfirmed conntrack entry: the queue would drop it");
	/* The marker copy, then the queue rule, last in divert. */
	i = find_rule(&p, "divert", 1);
	assert_string_equal(p.rule_text[i], LOG_QUEUED("7300"));
	i = find_rule(&p, "divert", 2);
	assert_string_equal(p.rule_text[i], QUEUE("7300"));
	assert_string_equal(p.rule_comment[i], "to the rstwatch daemon");
	for (i = 0; i < p.n_rules; i++)
		assert_null(strstr(p.rule_text[i], "symhash"));
	free_parsed(&p);
}

/* Level rst: resets only. No SYN/FIN match, no watch chain, nothing goes
 * to the batched copy chain (it stays, empty of users). */
static void test_rules_rst_level(void **state)
{
	struct rules_config c;
	struct parsed p;
	int i;

	(void)state;
	rules_config_default(&c);
	c.level = RULES_LEVEL_RST;
	parse_batch(&c, RULES_QUEUE_NATIVE, &p);
	assert_int_equal(count_rules(&p, "prerouting"), 2);
	assert_int_equal(count_rules(&p, "output"), 2);
	assert_int_equal(count_rules(&p, "prerouting_watch"), 0);
	assert_int_equal(count_rules(&p, "output_watch"), 0);
	assert_int_equal(count_rules(&p, "copy"), 1);
	assert_int_equal(count_rules(&p, "copy_now"), 1);
	assert_int_equal(count_rules(&p, "divert"), 3);
	assert_int_equal(p.n_rules, 9);
	for (i = 0; i < p.n_rules; i++) {
		assert_null(strstr(p.rule_text[i], "0x00000003"));   /* no SYN/FIN match */
		assert_null(strstr(p.rule_text[i], "ct load mark"));
		assert_null(strstr(p.rule_text[i], GOTO_COPY));
	}
	i = find_rule(&p, "prerouting", 1);
	assert_string_equal(p.rule_text[i], TCP_RST JUMP_DIVERT);
	i = find_rule(&p, "output", 0);
	assert_string_equal(p.rule_text[i], TCP_RST CT_UNCONFIRMED GOTO_COPY_NOW);
	i = find_rule(&p, "output", 1);
	assert_string_equal(p.rule_text[i], TCP_RST JUMP_DIVERT);
	i = find_rule(&p, "divert", 1);
	assert_string_equal(p.rule_text[i], LOG_QUEUED("7300"));
	i = find_rule(&p, "divert", 2);
	assert_string_equal(p.rule_text[i], QUEUE("7300"));
	free_parsed(&p);
}

/* The watch chains (part of handshake, the old level "watch"): the
 * configured watch bit, matched after conntrack, copied at once. */
static void test_watch_chains(void **state)
{
	struct rules_config c;
	struct parsed p;
	int i;

	(void)state;
	rules_config_default(&c);
	c.level = (enum rules_level)rules_level_from_name("watch");
	assert_int_equal(c.level, RULES_LEVEL_HANDSHAKE);
	c.mark_mask = 0x0000ff00;
	c.watch_bit = 0x00000100;
	parse_batch(&c, RULES_QUEUE_NATIVE, &p);
	assert_int_equal(p.n_rules, 14);
	assert_int_equal(count_rules(&p, "prerouting_watch"), 2);
	assert_int_equal(count_rules(&p, "output_watch"), 1);
	i = find_rule(&p, "prerouting_watch", 0);
	assert_string_equal(p.rule_text[i], IIF_LO ACCEPT);
	i = find_rule(&p, "prerouting_watch", 1);
	assert_string_equal(p.rule_text[i], CT_WATCH("0x00000100") TCP_NO_HANDSHAKE GOTO_COPY_NOW);
	assert_string_equal(p.rule_comment[i],
			    "watch: every packet of a flow rstwatch put on its watch list");
	i = find_rule(&p, "output_watch", 0);
	assert_string_equal(p.rule_text[i], CT_WATCH("0x00000100") TCP_NO_HANDSHAKE GOTO_COPY_NOW);
	/* Watched packets are never queued: nothing in the ruleset but the
	 * two reset rules jumps to divert. */
	for (i = 0; i < p.n_rules; i++)
		if (strstr(p.rule_text[i], JUMP_DIVERT))
			assert_non_null(strstr(p.rule_text[i], TCP_RST JUMP_DIVERT));
	free_parsed(&p);
}

/* Two queues (two workers): every per-worker rule exists twice, guarded by
 * symhash mod 2 == k, with log group G+k and queue Q+k, one queue each. The
 * rules before them (matches, guards) are not duplicated. */
static void test_two_queues(void **state)
{
	struct rules_config c;
	struct parsed p;
	int i;

	(void)state;
	rules_config_default(&c);
	c.queue_first = 7300;
	c.queue_last = 7301;
	c.nflog_group = 500;
	parse_batch(&c, RULES_QUEUE_NATIVE, &p);
	assert_int_equal(count_rules(&p, "prerouting"), 3);
	assert_int_equal(count_rules(&p, "output"), 3);
	assert_int_equal(count_rules(&p, "prerouting_watch"), 2);
	assert_int_equal(count_rules(&p, "output_watch"), 1);
	assert_int_equal(count_rules(&p, "copy"), 2);
	assert_int_equal(count_rules(&p, "copy_now"), 2);
	assert_int_equal(count_rules(&p, "divert"), 5);
	assert_int_equal(p.n_rules, 18);

	i = find_rule(&p, "prerouting", 2);
	assert_string_equal(p.rule_text[i], TCP_SYN_FIN GOTO_COPY);
	i = find_rule(&p, "copy", 0);
	assert_string_equal(p.rule_text[i], SYMHASH("2", "0x00000000") LOG_BATCHED("500"));
	i = find_rule(&p, "copy", 1);
	assert_string_equal(p.rule_text[i], SYMHASH("2", "0x00000001") LOG_BATCHED("501"));
	i = find_rule(&p, "copy_now", 0);
	assert_string_equal(p.rule_text[i], SYMHASH("2", "0x00000000") LOG_NOW("500"));
	i = find_rule(&p, "copy_now", 1);
	assert_string_equal(p.rule_text[i], SYMHASH("2", "0x00000001") LOG_NOW("501"));

	i = find_rule(&p, "divert", 0);
	assert_string_equal(p.rule_text[i], CT_UNCONFIRMED ACCEPT);
	/* Both markers before both queue rules: whichever worker a reset
	 * belongs to, its marker is sent before it is queued. */
	i = find_rule(&p, "divert", 1);
	assert_string_equal(p.rule_text[i], SYMHASH("2", "0x00000000") LOG_QUEUED("500"));
	i = find_rule(&p, "divert", 2);
	assert_string_equal(p.rule_text[i], SYMHASH("2", "0x00000001") LOG_QUEUED("501"));
	i = find_rule(&p, "divert", 3);
	assert_string_equal(p.rule_text[i], SYMHASH("2", "0x00000000") QUEUE("7300"));
	i = find_rule(&p, "divert", 4);
	assert_string_equal(p.rule_text[i], SYMHASH("2", "0x00000001") QUEUE("7301"));

	/* The guard is a symmetric hash (the same both ways of a flow) with
	 * offset 0, so k runs 0 ... n-1. */
	for (int k = 0; k < 2; k++) {
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(p.rule[find_rule(&p, "divert",
										      3 + k)]);
		struct nftnl_expr *e = nftnl_expr_iter_next(it);

		assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "hash");
		assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_TYPE), NFT_HASH_SYM);
		assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_MODULUS), 2);
		assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_OFFSET), 0);
		while ((e = nftnl_expr_iter_next(it)))
			if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "queue") == 0)
				break;
		assert_non_null(e);
		assert_int_equal(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM), 7300 + k);
		assert_int_equal(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL), 1);
		nftnl_expr_iter_destroy(it);
	}

	/* Only per-worker rules carry the guard. */
	for (i = 0; i < p.n_rules; i++) {
		bool per_worker = strcmp(p.rule_chain[i], "copy") == 0 ||
				  strcmp(p.rule_chain[i], "copy_now") == 0 ||
				  (strcmp(p.rule_chain[i], "divert") == 0 &&
				   i != find_rule(&p, "divert", 0));

		assert_int_equal(strstr(p.rule_text[i], "symhash") != NULL, per_worker);
	}
	free_parsed(&p);
}

static const struct nftnl_expr *last_expr(struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e, *last = NULL;

	while ((e = nftnl_expr_iter_next(it)))
		last = e;
	nftnl_expr_iter_destroy(it);
	return last;
}

/* Native queue, four queues: one rule per queue, each for one queue (total
 * 1, the kernel's own range spreading is not used), CPU fanout never set. */
static void test_queue_native(void **state)
{
	struct rules_config c;
	struct parsed p;
	const struct nftnl_expr *e;

	(void)state;
	rules_config_default(&c);
	c.queue_first = 4;
	c.queue_last = 7;
	parse_batch(&c, RULES_QUEUE_NATIVE, &p);
	assert_int_equal(count_rules(&p, "divert"), 1 + 4 + 4);
	for (int k = 0; k < 4; k++) {
		int i = find_rule(&p, "divert", 5 + k);
		char want[256];

		snprintf(want, sizeof(want),
			 "  [ hash reg 1 = symhash() %% mod 4 ]\n  [ cmp eq reg 1 0x%08x ]\n"
			 "  [ counter pkts 0 bytes 0 ]\n  [ queue num %d bypass ]\n", k, 4 + k);
		assert_string_equal(p.rule_text[i], want);
		e = last_expr(p.rule[i]);
		assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "queue");
		assert_int_equal(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM), 4 + k);
		assert_int_equal(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL), 1);
		assert_int_equal(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS),
				 NFT_QUEUE_FLAG_BYPASS);
	}
	free_parsed(&p);

	c.bypass = false;
	parse_batch(&c, RULES_QUEUE_NATIVE, &p);
	for (int k = 0; k < 4; k++) {
		e = last_expr(p.rule[find_rule(&p, "divert", 5 + k)]);
		assert_int_equal(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS), 0);
	}
	free_parsed(&p);
}

/* xt: per queue exactly the payload `iptables-nft -j NFQUEUE --queue-num N
 * --queue-bypass` sends: NFQUEUE rev 3, struct xt_NFQ_info_v3 padded to 8,
 * one queue (queues_total 1). */
static void test_queue_xt(void **state)
{
	struct rules_config c;
	struct parsed p;
	const struct nftnl_expr *e;

	(void)state;
	rules_config_default(&c);
	c.queue_first = 4;
	c.queue_last = 7;
	parse_batch(&c, RULES_QUEUE_XT, &p);
	for (int k = 0; k < 4; k++) {
		const uint8_t want[8] = { (uint8_t)(4 + k), 0, 1, 0, NFQ_FLAG_BYPASS, 0, 0, 0 };
		uint32_t len = 0;
		const void *info;

		e = last_expr(p.rule[find_rule(&p, "divert", 5 + k)]);
		assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "target");
		assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "NFQUEUE");
		assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV), 3);
		info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
		assert_int_equal(len, 8);
		/* Host byte order, as x_tables wants (little-endian here). */
		assert_memory_equal(info, want, sizeof(want));
		assert_int_equal(((const struct xt_NFQ_info_v3 *)info)->flags & NFQ_FLAG_CPU_FANOUT,
				 0);
	}
	free_parsed(&p);
}

/* The most workers rstwatch runs still fit one batch. */
static void test_max_workers(void **state)
{
	struct rules_config c;
	struct parsed p;

	(void)state;
	rules_config_default(&c);
	c.queue_first = 100;
	c.queue_last = 100 + RULES_MAX_WORKERS - 1;
	parse_batch(&c, RULES_QUEUE_XT, &p);
	assert_int_equal(count_rules(&p, "divert"), 1 + 2 * RULES_MAX_WORKERS);
	assert_int_equal(count_rules(&p, "copy"), RULES_MAX_WORKERS);
	assert_int_equal(p.n_rules, 10 + 4 * RULES_MAX_WORKERS);
	assert_non_null(strstr(p.rule_text[find_rule(&p, "copy", RULES_MAX_WORKERS - 1)],
			       "symhash() % mod 16 ]\n  [ cmp eq reg 1 0x0000000f ]\n"
			       LOG_BATCHED("7315")));
	free_parsed(&p);
}

static void test_config_check(void **state)
{
	struct rules_config c;
	char err[128];

	(void)state;
	rules_config_default(&c);
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(c.level, RULES_LEVEL_HANDSHAKE);
	assert_true(c.bypass);

	c.queue_first = 5;
	c.queue_last = 4;
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "queue range"));

	rules_config_default(&c);
	c.watch_bit = 0x00c00000;   /* two bits */
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), -1);
	c.watch_bit = 0x01000000;   /* outside 0x00ff0000 */
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "outside"));

	/* One worker thread per queue, RULES_MAX_WORKERS at most. */
	rules_config_default(&c);
	c.queue_first = 10;
	c.queue_last = 10 + RULES_MAX_WORKERS - 1;
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), 0);
	c.queue_last++;
	err[0] = '\0';
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more queues"));
	assert_non_null(strstr(err, RULES_MAX_WORKERS_STR));
	c.queue_first = 0;
	c.queue_last = 65535;
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), -1);
	assert_int_equal(rules_build_batch(&c, RULES_QUEUE_XT, 1, &(void *){ NULL },
					   &(size_t){ 0 }), -1);

	/* One log group per queue: the last must still be a group number. */
	rules_config_default(&c);
	c.queue_first = 1;
	c.queue_last = 2;
	c.nflog_group = 65534;      /* groups 65534, 65535 */
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), 0);
	c.nflog_group = 65535;      /* groups 65535, 65536 */
	err[0] = '\0';
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "65535"));
	c.queue_last = 1;           /* one queue: group 65535 alone is fine */
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), 0);

	rules_config_default(&c);
	c.level = (enum rules_level)(RULES_LEVEL_HANDSHAKE + 1);
	assert_int_equal(rules_config_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "level"));

	rules_config_default(&c);
	assert_int_equal(rules_build_batch(&c, RULES_QUEUE_AUTO, 1, &(void *){ NULL },
					   &(size_t){ 0 }), -1);

	assert_int_equal(rules_level_from_name("rst"), RULES_LEVEL_RST);
	assert_int_equal(rules_level_from_name("handshake"), RULES_LEVEL_HANDSHAKE);
	/* The old third level: its watch chains are part of handshake now. */
	assert_int_equal(rules_level_from_name("watch"), RULES_LEVEL_HANDSHAKE);
	assert_int_equal(rules_level_from_name("nope"), -1);
	assert_string_equal(rules_level_name(RULES_LEVEL_RST), "rst");
	assert_string_equal(rules_level_name(RULES_LEVEL_HANDSHAKE), "handshake");
	assert_string_equal(rules_level_name((enum rules_level)2), "?");
}

static void test_print(void **state)
{
	struct rules_config c;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	rules_config_default(&c);
	c.queue_first = 10;
	c.queue_last = 11;
	c.nflog_group = 12;
	f = open_memstream(&text, &len);
	assert_int_equal(rules_print(f, &c), 0);
	fclose(f);
	assert_non_null(strstr(text, "level handshake, queue 10-11, nflog group 12-13,"));
	assert_non_null(strstr(text, "table inet rstwatch {"));
	assert_non_null(strstr(text, "type filter hook prerouting priority raw; policy accept;"));
	assert_non_null(strstr(text, "chain output_watch {"));
	assert_non_null(strstr(text, "type filter hook output priority mangle; policy accept;"));
	assert_non_null(strstr(text, "\t\ttcp flags & (syn | fin) != 0 goto copy comment"));
	assert_non_null(strstr(text, "tcp flags & rst == rst ct status & confirmed == 0 "
				     "goto copy_now comment"));
	assert_non_null(strstr(text, "ct mark & 0x00800000 == 0x00800000 "
				     "tcp flags & (fin | syn | rst) == 0 goto copy_now comment"));
	assert_non_null(strstr(text, "\t\tsymhash mod 2 0 log group 12 comment"));
	assert_non_null(strstr(text, "\t\tsymhash mod 2 1 log group 13 queue-threshold 1 comment"));
	assert_non_null(strstr(text, "\t\tsymhash mod 2 1 limit rate 20000/second burst 2000 "
				     "packets log prefix \"" RULES_QUEUED_PREFIX
				     "\" group 13 queue-threshold 1 comment"));
	/* The queue rules are shown, as comments: the text loads anywhere. */
	assert_non_null(strstr(text, "\t\t# symhash mod 2 0 counter queue num 10 bypass comment"));
	assert_non_null(strstr(text, "\t\t# symhash mod 2 1 counter queue num 11 bypass comment"));
	assert_null(strstr(text, "jump divert comment \"handshake"));
	assert_null(strstr(text, "10-11 bypass"));
	free(text);

	/* One queue: no hash at all. */
	rules_config_default(&c);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_int_equal(rules_print(f, &c), 0);
	fclose(f);
	assert_null(strstr(text, "symhash"));
	assert_non_null(strstr(text, "\t\t# counter queue num 7300 bypass comment"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_order),
		cmocka_unit_test(test_chains_by_level),
		cmocka_unit_test(test_rules_handshake),
		cmocka_unit_test(test_rules_rst_level),
		cmocka_unit_test(test_watch_chains),
		cmocka_unit_test(test_two_queues),
		cmocka_unit_test(test_queue_native),
		cmocka_unit_test(test_queue_xt),
		cmocka_unit_test(test_max_workers),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
