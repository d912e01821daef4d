/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rules_check: is the rstwatch table still there, and does it hold the
 * rules the configuration asks for? One dump, for the flush watchdog. */
#include "install.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include "batch.h"
#include "nlrecv.h"
#include "spec.h"

struct check_state {
	const struct rules_config *c;
	unsigned count[N_CHAINS];
	unsigned unknown_chain;
	uint32_t queues_seen;    /* bit k: a divert rule queues to queue_first + k as c asks */
	unsigned queue_rules;    /* divert rules with a queue expression of any kind */
	unsigned parse_errors;
};

/* The queue number e hands packets to if it is one of ours as c asks
 * (single queue, bypass as configured), else -1. */
static int queue_expr_num(struct nftnl_expr *e, const struct rules_config *c)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint16_t flags = c->bypass ? NFT_QUEUE_FLAG_BYPASS : 0;

	if (!name)
		return -1;
	if (strcmp(name, "queue") == 0)
		return nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL) == 1 &&
		       nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS) == flags
		       ? nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM) : -2;
	if (strcmp(name, "target") == 0) {
		const char *tg = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);
		uint32_t len = 0;
		const struct xt_NFQ_info_v3 *info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);

		return tg && strcmp(tg, "NFQUEUE") == 0 &&
		       nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV) == 3 && info &&
		       len >= sizeof(*info) && info->queues_total == 1 &&
		       info->flags == (c->bypass ? NFQ_FLAG_BYPASS : 0) ? info->queuenum : -2;
	}
	return -1;
}

static int check_expr_cb(struct nftnl_expr *e, void *data)
{
	struct check_state *st = data;
	int num = queue_expr_num(e, st->c);

	if (num == -1)
		return 0;
	st->queue_rules++;
	if (num >= st->c->queue_first && num <= st->c->queue_last)
		st->queues_seen |= 1u << (num - st->c->queue_first);
	return 0;
}

static int check_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct check_state *st = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *chain;
	unsigned i;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		st->parse_errors++;
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	for (i = 0; chain && i < N_CHAINS; i++)
		if (strcmp(spec_chains[i].name, chain) == 0)
			break;
	if (!chain || i == N_CHAINS)
		st->unknown_chain++;
	else
		st->count[i]++;
	if (i == CH_DIVERT)
		nftnl_expr_foreach(r, check_expr_cb, st);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* One request and its answer (a dump, or an object and its ack). */
static int nl_query(struct mnl_socket *nl, uint32_t portid, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data)
{
	/* Large enough for any dump part the kernel builds for this reader
	 * (it sizes them by our receive length, up to 32 KiB). */
	char buf[32768] __attribute__((aligned(4)));
	uint32_t seq = nlh->nlmsg_seq;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv_kernel(nl, buf, sizeof(buf));
		int r;

		if (n < 0)
			return -1;
		r = mnl_cb_run(buf, nl_whole_messages(buf, (size_t)n), seq, portid, cb, data);
		if (r < 0)
			return -1;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int ignore_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

int rules_check(const struct rules_config *c)
{
	char buf[1024] __attribute__((aligned(4)));
	struct check_state st;
	struct nftnl_table *t = NULL;
	struct nftnl_rule *r = NULL;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t portid, seq = (uint32_t)time(NULL);
	int ret = -1, saved;
	unsigned want;

	if (rules_config_check(c, NULL, 0) < 0)
		return -1;
	nl = nl_open(&portid);
	if (!nl)
		return -1;

	/* Is the table there at all? */
	t = table_new(RULES_TABLE, NULL);
	if (!t)
		goto out;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	if (nl_query(nl, portid, nlh, ignore_cb, NULL) < 0) {
		if (errno == ENOENT)
			ret = RULES_MISSING;
		goto out;
	}

	/* Its rules: a dump filtered on the table. */
	memset(&st, 0, sizeof(st));
	st.c = c;
	r = nftnl_rule_alloc();
	if (!r)
		goto out;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, RULES_TABLE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, ++seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	if (nl_query(nl, portid, nlh, check_rule_cb, &st) < 0) {
		/* The table went away between the two requests. */
		if (errno == ENOENT)
			ret = RULES_MISSING;
		goto out;
	}

	ret = RULES_INTACT;
	if (st.unknown_chain || st.parse_errors || st.queue_rules != spec_workers(c) ||
	    st.queues_seen != (uint32_t)((1ull << spec_workers(c)) - 1))
		ret = RULES_ALTERED;
	for (unsigned i = 0; i < N_CHAINS; i++) {
		want = 0;
		for (unsigned k = 0; k < N_SPEC_RULES; k++)
			if (spec_rules[k].chain == i)
				want += spec_rule_copies(&spec_rules[k], c);
		if (st.count[i] != want)
			ret = RULES_ALTERED;
	}
out:
	saved = errno;
	if (t)
		nftnl_table_free(t);
	if (r)
		nftnl_rule_free(r);
	mnl_socket_close(nl);
	errno = saved;
	return ret;
}

