/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rstwatch ruleset, built with libnftnl and sent as one nfnetlink batch.
 *
 * Why C and not `nft -f rules/rstwatch.nft`: loading the file needs
 * libnftables (the nft parser), and the divert rule has to be built with
 * libnftnl anyway, because which queue statement the kernel takes is only
 * known at run time. So the ruleset is described once, in spec.c's tables,
 * and turned into netlink messages (batch.c) or nft text (rules_print).
 * This file probes what the kernel takes, installs and removes the table;
 * check.c tells whether it is still there.
 * rules/rstwatch.nft is the commented copy for people; tests/live/t-rules.sh
 * loads both and diffs `nft list table inet rstwatch`, so they cannot drift
 * apart unnoticed. */
#include "install.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_ipv4.h>

#include "batch.h"
#include "nlrecv.h"
#include "spec.h"

/* ---- probe ---- */

static int compat_rev_cb(const struct nlmsghdr *nlh, void *data)
{
	int *rev = data;
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_COMPAT_REV &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*rev = (int)ntohl(mnl_attr_get_u32(a));
	}
	return MNL_CB_OK;
}

/* Ask nft_compat which NFQUEUE target revision it has, as iptables-nft does
 * before it builds a rule. */
static int probe_compat(struct rules_probe *out)
{
	char buf[8192] __attribute__((aligned(4)));
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint32_t portid, seq = (uint32_t)time(NULL);
	ssize_t n;
	int r, rev = -1;

	nl = nl_open(&portid);
	if (!nl)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFT_COMPAT << 8) | NFNL_MSG_COMPAT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_IPV4;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	mnl_attr_put_strz(nlh, NFTA_COMPAT_NAME, "NFQUEUE");
	mnl_attr_put_u32(nlh, NFTA_COMPAT_REV, htonl(3));
	mnl_attr_put_u32(nlh, NFTA_COMPAT_TYPE, htonl(1)); /* 1: target */
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		mnl_socket_close(nl);
		return -1;
	}
	out->nft_compat = false;
	for (;;) {
		n = recv_kernel(nl, buf, sizeof(buf));
		if (n < 0)
			break;
		r = mnl_cb_run(buf, nl_whole_messages(buf, (size_t)n), seq, portid, compat_rev_cb, &rev);
		if (r <= 0) {
			/* The subsystem answered if it acked or named a missing
			 * target / revision; anything else means it is absent. */
			out->nft_compat = r == 0 || errno == ENOENT || errno == EPROTONOSUPPORT;
			break;
		}
	}
	out->xt_nfqueue_rev = rev;
	mnl_socket_close(nl);
	return 0;
}

int rules_probe(struct rules_probe *out)
{
	struct rules_config c;
	struct replies rp;
	struct batch bt;
	int ret = -1, saved;
	int native_msg, xt_msg;

	memset(out, 0, sizeof(*out));
	out->xt_nfqueue_rev = -1;
	rules_config_default(&c);
	if (batch_init(&bt, (uint32_t)time(NULL)) < 0)
		return -1;

	/* A throwaway table with one rule per candidate. The batch has no END
	 * message, so the kernel checks every message, answers each, and then
	 * aborts the transaction: nothing is ever committed, not even for a
	 * moment (this is how `nft --check` works). */
	batch_begin(&bt);
	if (add_table_msg(&bt, NFT_MSG_NEWTABLE, NLM_F_CREATE, PROBE_TABLE, NULL, "probe table") < 0 ||
	    add_chain_msg(&bt, PROBE_TABLE, "probe", NF_INET_PRE_ROUTING, NF_IP_PRI_RAW, NULL) < 0)
		goto out;
	for (int impl = RULES_QUEUE_NATIVE; impl <= RULES_QUEUE_XT; impl++) {
		struct rb b = { .oom = false };

		b.r = rule_new(PROBE_TABLE, "probe", NULL);
		if (!b.r)
			goto out;
		put_queue(&b, &c, (enum rules_queue_impl)impl, c.queue_first);
		if (add_rule_msg(&bt, &b, impl == RULES_QUEUE_NATIVE ? "native" : "xt") < 0)
			goto out;
	}
	native_msg = (int)bt.n - 2;
	xt_msg = (int)bt.n - 1;
	if (batch_talk(&bt, &rp) < 0)
		goto out;
	if (rp.err[0] || rp.err[1]) {
		/* The table or chain was refused: the probe says nothing. */
		errno = rp.err[0] ? rp.err[0] : rp.err[1];
		goto out;
	}
	out->native_queue_err = rp.err[native_msg];
	out->xt_nfqueue_err = rp.err[xt_msg];
	if (probe_compat(out) < 0)
		goto out;
	ret = 0;
out:
	saved = errno;
	batch_fini(&bt);
	errno = saved;
	return ret;
}

enum rules_queue_impl rules_probe_choose(const struct rules_probe *p)
{
	if (p->native_queue_err == 0)
		return RULES_QUEUE_NATIVE;
	if (p->xt_nfqueue_err == 0)
		return RULES_QUEUE_XT;
	return RULES_QUEUE_AUTO;
}

/* ---- install / remove ---- */

int rules_build_batch(const struct rules_config *c, enum rules_queue_impl impl, uint32_t seq,
		      void **buf, size_t *len)
{
	struct batch bt;
	int saved;

	*buf = NULL;
	*len = 0;
	if (rules_config_check(c, NULL, 0) < 0 || impl == RULES_QUEUE_AUTO) {
		errno = EINVAL;
		return -1;
	}
	if (batch_init(&bt, seq) < 0)
		return -1;
	batch_begin(&bt);
	if (build_ruleset(&bt, c, impl) < 0)
		goto fail;
	batch_end(&bt);
	if (bt.overflow) {
		errno = EMSGSIZE;
		goto fail;
	}
	*len = mnl_nlmsg_batch_size(bt.b);
	*buf = malloc(*len);
	if (!*buf)
		goto fail;
	memcpy(*buf, mnl_nlmsg_batch_head(bt.b), *len);
	batch_fini(&bt);
	return 0;
fail:
	saved = errno;
	batch_fini(&bt);
	errno = saved;
	return -1;
}

int rules_install(const struct rules_config *c, char *err, size_t errlen)
{
	enum rules_queue_impl impl = c->impl;
	struct batch bt;
	int ret = -1, saved, bad;

	if (rules_config_check(c, err, errlen) < 0)
		return -1;
	if (impl == RULES_QUEUE_AUTO) {
		struct rules_probe p;

		if (rules_probe(&p) < 0) {
			rules_set_err(err, errlen, "probing queue support: %s", strerror(errno));
			return -1;
		}
		impl = rules_probe_choose(&p);
		if (impl == RULES_QUEUE_AUTO) {
			rules_set_err(err, errlen,
				"the kernel takes neither the nft queue expression (%s) nor the xt "
				"NFQUEUE target (%s)",
				strerror(p.native_queue_err), strerror(p.xt_nfqueue_err));
			errno = p.xt_nfqueue_err;
			return -1;
		}
	}

	if (batch_init(&bt, (uint32_t)time(NULL)) < 0) {
		rules_set_err(err, errlen, "%s", strerror(errno));
		return -1;
	}
	batch_begin(&bt);
	if (build_ruleset(&bt, c, impl) < 0) {
		rules_set_err(err, errlen, "building the ruleset: %s", strerror(errno));
		goto out;
	}
	batch_end(&bt);
	if (batch_commit(&bt, &bad) < 0) {
		rules_set_err(err, errlen, "loading table inet %s: %s%s%s", RULES_TABLE,
			bad >= 0 ? bt.what[bad] : "", bad >= 0 ? ": " : "", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	saved = errno;
	batch_fini(&bt);
	errno = saved;
	return ret;
}

int rules_remove(void)
{
	struct batch bt;
	int ret = -1, saved, bad;

	if (batch_init(&bt, (uint32_t)time(NULL)) < 0)
		return -1;
	batch_begin(&bt);
	if (add_table_msg(&bt, NFT_MSG_NEWTABLE, NLM_F_CREATE, RULES_TABLE, NULL,
			  "table (placeholder)") < 0 ||
	    add_table_msg(&bt, NFT_MSG_DELTABLE, 0, RULES_TABLE, NULL, "table") < 0)
		goto out;
	batch_end(&bt);
	if (batch_commit(&bt, &bad) < 0)
		goto out;
	ret = 0;
out:
	saved = errno;
	batch_fini(&bt);
	errno = saved;
	return ret;
}

