/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rstwatch table as netlink messages: libnftnl expressions for each
 * match and action of spec.c's rules, gathered in one nfnetlink batch, sent,
 * and every message's reply collected. */
#include "batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter_ipv4.h>

#include "nlrecv.h"
#include "spec.h"

/* lo is interface 1 in every network namespace (LOOPBACK_IFINDEX). */
#define LOOPBACK_IFINDEX 1

/* The room one batch may take. The ruleset needs about 3 KiB. */
#define BATCH_LIMIT (64 * 1024)

/* The kernel's next datagram; anyone else's are skipped (nfq/nlrecv.h). */
ssize_t recv_kernel(struct mnl_socket *nl, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = nl_recv_kernel(mnl_socket_get_fd(nl), buf, len, 0);

		if (n >= 0 || errno != EPERM)
			return n;
	}
}

/* ---- libnftnl expressions ---- */

static struct nftnl_expr *expr(struct rb *b, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		b->oom = true;
	return e;
}

static void add(struct rb *b, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(b->r, e);
}

static void put_meta(struct rb *b, uint32_t key)
{
	struct nftnl_expr *e = expr(b, "meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	add(b, e);
}

static void put_ct(struct rb *b, uint32_t key)
{
	struct nftnl_expr *e = expr(b, "ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	add(b, e);
}

static void put_cmp(struct rb *b, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr(b, "cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	add(b, e);
}

static void put_bitwise(struct rb *b, const void *mask, uint32_t len)
{
	static const uint8_t zero[4];
	struct nftnl_expr *e = expr(b, "bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	add(b, e);
}

/* tcp flags & mask <op> value: what nft emits, dependency included. */
static void put_tcp_flags(struct rb *b, uint8_t mask, uint32_t op, uint8_t value)
{
	const uint8_t tcp = IPPROTO_TCP;
	struct nftnl_expr *e;

	put_meta(b, NFT_META_L4PROTO);
	put_cmp(b, NFT_CMP_EQ, &tcp, 1);
	e = expr(b, "payload");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 13);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	add(b, e);
	put_bitwise(b, &mask, 1);
	put_cmp(b, op, &value, 1);
}

/* ct key & mask <op> value; conntrack keeps marks and status in host order. */
static void put_ct_bits(struct rb *b, uint32_t key, uint32_t mask, uint32_t op, uint32_t value)
{
	put_ct(b, key);
	put_bitwise(b, &mask, sizeof(mask));
	put_cmp(b, op, &value, sizeof(value));
}

static void put_match(struct rb *b, enum match m, const struct rules_config *c)
{
	const uint32_t lo = LOOPBACK_IFINDEX;

	switch (m) {
	case M_IIF_LO:
		put_meta(b, NFT_META_IIF);
		put_cmp(b, NFT_CMP_EQ, &lo, sizeof(lo));
		break;
	case M_TCP_RST:
		put_tcp_flags(b, 0x04, NFT_CMP_EQ, 0x04);
		break;
	case M_TCP_SYN_FIN:
		put_tcp_flags(b, 0x03, NFT_CMP_NEQ, 0);
		break;
	case M_TCP_NO_HANDSHAKE:
		put_tcp_flags(b, 0x07, NFT_CMP_EQ, 0);
		break;
	case M_CT_WATCH:
		put_ct_bits(b, NFT_CT_MARK, c->watch_bit, NFT_CMP_EQ, c->watch_bit);
		break;
	case M_CT_UNCONFIRMED:
		put_ct_bits(b, NFT_CT_STATUS, IPS_CONFIRMED, NFT_CMP_EQ, 0);
		break;
	}
}

static void put_verdict(struct rb *b, int verdict, const char *chain)
{
	struct nftnl_expr *e = expr(b, "immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
		if (chain)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	add(b, e);
}

/* symhash mod n == k: the flow's symmetric hash (the same both ways) picks
 * worker k. The hash lands in a register as a host-order u32. */
static void put_symhash(struct rb *b, unsigned n, unsigned k)
{
	const uint32_t want = k;
	struct nftnl_expr *e = expr(b, "hash");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_SYM);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, n);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_OFFSET, 0);
	}
	add(b, e);
	put_cmp(b, NFT_CMP_EQ, &want, sizeof(want));
}

/* limit rate RATE/second burst BURST packets */
static void put_limit(struct rb *b, uint64_t rate, uint32_t burst)
{
	struct nftnl_expr *e = expr(b, "limit");

	if (e) {
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	}
	add(b, e);
}

/* log [prefix P] group G [queue-threshold 1]. A rule's threshold overrides
 * the group's (nfnetlink_log takes the lower): the copy goes out at once,
 * and with it, in order, every copy the group had gathered. */
static void put_log(struct rb *b, uint16_t group, bool now, const char *prefix)
{
	struct nftnl_expr *e = expr(b, "log");

	if (e) {
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
		if (now)
			nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, 1);
		if (prefix)
			nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	}
	add(b, e);
}

static void put_action(struct rb *b, enum action a, const struct rules_config *c,
		       enum rules_queue_impl impl, unsigned k)
{
	uint16_t group = (uint16_t)(c->nflog_group + k);

	switch (a) {
	case A_ACCEPT:
		put_verdict(b, NF_ACCEPT, NULL);
		break;
	case A_JUMP_DIVERT:
		put_verdict(b, NFT_JUMP, DIVERT_CHAIN);
		break;
	case A_GOTO_COPY:
		put_verdict(b, NFT_GOTO, spec_chains[CH_COPY].name);
		break;
	case A_GOTO_COPY_NOW:
		put_verdict(b, NFT_GOTO, spec_chains[CH_COPY_NOW].name);
		break;
	case A_LOG_BATCHED:
		put_log(b, group, false, NULL);
		break;
	case A_LOG_NOW:
		put_log(b, group, true, NULL);
		break;
	case A_LOG_QUEUED:
		put_limit(b, RULES_MARKER_RATE, RULES_MARKER_BURST);
		put_log(b, group, true, QUEUED_PREFIX);
		break;
	case A_QUEUE:
		put_queue(b, c, impl, (uint16_t)(c->queue_first + k));
		break;
	}
}

/* The rule that hands a packet to queue num. One queue per rule: with
 * several workers, put_symhash has already picked the flow's (the kernel's
 * own spreading over a range hashes with a seed of its own, and the flow's
 * copies must reach the same worker as its resets). */
void put_queue(struct rb *b, const struct rules_config *c, enum rules_queue_impl impl,
		      uint16_t num)
{
	struct nftnl_expr *e;

	add(b, expr(b, "counter"));
	if (impl == RULES_QUEUE_NATIVE) {
		e = expr(b, "queue");
		if (e) {
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, num);
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
			nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
					   c->bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
		}
		add(b, e);
		return;
	}
	/* What `iptables-nft -j NFQUEUE --queue-num N --queue-bypass` sends:
	 * the x_tables target through nft_compat, revision 3. The kernel wants
	 * the info padded to XT_ALIGN, 8 bytes here, and libnftnl takes
	 * ownership of the buffer. */
	e = expr(b, "target");
	if (e) {
		size_t len = (sizeof(struct xt_NFQ_info_v3) + 7) & ~(size_t)7;
		struct xt_NFQ_info_v3 *info = calloc(1, len);

		if (!info) {
			b->oom = true;
			nftnl_expr_free(e);
			return;
		}
		info->queuenum = num;
		info->queues_total = 1;
		info->flags = c->bypass ? NFQ_FLAG_BYPASS : 0;
		nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
		nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
		nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, (uint32_t)len);
	}
	add(b, e);
}

/* ---- netlink batch ---- */

int batch_init(struct batch *bt, uint32_t seq)
{
	memset(bt, 0, sizeof(*bt));
	/* mnl_nlmsg_batch wants twice its limit: a message may overrun it. */
	bt->buf = malloc(2 * BATCH_LIMIT);
	if (!bt->buf)
		return -1;
	bt->b = mnl_nlmsg_batch_start(bt->buf, BATCH_LIMIT);
	if (!bt->b) {
		free(bt->buf);
		return -1;
	}
	bt->seq = seq;
	return 0;
}

void batch_fini(struct batch *bt)
{
	if (bt->b)
		mnl_nlmsg_batch_stop(bt->b);
	free(bt->buf);
	bt->buf = NULL;
	bt->b = NULL;
}

static void batch_next(struct batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->overflow = true;
}

void batch_begin(struct batch *bt)
{
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	batch_next(bt);
}

void batch_end(struct batch *bt)
{
	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	batch_next(bt);
}

/* Start an acknowledged nf_tables message and remember what it was. */
__attribute__((format(printf, 4, 5)))
static struct nlmsghdr *batch_msg(struct batch *bt, uint16_t type, uint16_t flags,
				  const char *fmt, ...)
{
	struct nlmsghdr *nlh;
	va_list ap;

	if (bt->n >= MAX_MSGS) {
		bt->overflow = true;
		return NULL;
	}
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, NFPROTO_INET,
				    flags | NLM_F_ACK, bt->seq);
	bt->seqs[bt->n] = bt->seq++;
	va_start(ap, fmt);
	vsnprintf(bt->what[bt->n], sizeof(bt->what[0]), fmt, ap);
	va_end(ap);
	bt->n++;
	return nlh;
}

/* A comment as nft stores it: one NUL-terminated TLV in the object's
 * userdata, which the kernel keeps without reading. NULL on failure. */
static struct nftnl_udata_buf *comment_udata(uint8_t type, const char *comment)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 8);

	if (ud && !nftnl_udata_put_strz(ud, type, comment)) {
		nftnl_udata_buf_free(ud);
		return NULL;
	}
	return ud;
}

struct nftnl_table *table_new(const char *name, const char *comment)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return NULL;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (comment) {
		struct nftnl_udata_buf *ud = comment_udata(NFTNL_UDATA_TABLE_COMMENT, comment);

		if (!ud || nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud),
						nftnl_udata_buf_len(ud)) < 0) {
			nftnl_udata_buf_free(ud);
			nftnl_table_free(t);
			return NULL;
		}
		nftnl_udata_buf_free(ud);
	}
	return t;
}

int add_table_msg(struct batch *bt, uint16_t type, uint16_t flags, const char *name,
			 const char *comment, const char *what)
{
	struct nftnl_table *t = table_new(name, comment);
	struct nlmsghdr *nlh;

	if (!t)
		return -1;
	nlh = batch_msg(bt, type, flags, "%s", what);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_next(bt);
	}
	nftnl_table_free(t);
	return 0;
}

int add_chain_msg(struct batch *bt, const char *table, const char *name, int hook,
			 int prio, const char *comment)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nftnl_udata_buf *ud = NULL;
	struct nlmsghdr *nlh;
	int ret = -1;

	if (!ch)
		return -1;
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	if (comment) {
		ud = comment_udata(NFTNL_UDATA_CHAIN_COMMENT, comment);
		if (!ud || nftnl_chain_set_data(ch, NFTNL_CHAIN_USERDATA, nftnl_udata_buf_data(ud),
						nftnl_udata_buf_len(ud)) < 0)
			goto out;
	}
	nlh = batch_msg(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE, "chain %s", name);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, ch);
		batch_next(bt);
	}
	ret = 0;
out:
	nftnl_udata_buf_free(ud);
	nftnl_chain_free(ch);
	return ret;
}

struct nftnl_rule *rule_new(const char *table, const char *chain, const char *comment)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_udata_buf *ud;

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (comment) {
		ud = comment_udata(NFTNL_UDATA_RULE_COMMENT, comment);
		if (!ud || nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
					       nftnl_udata_buf_len(ud)) < 0) {
			nftnl_udata_buf_free(ud);
			nftnl_rule_free(r);
			return NULL;
		}
		nftnl_udata_buf_free(ud);
	}
	return r;
}

int add_rule_msg(struct batch *bt, struct rb *b, const char *what)
{
	struct nlmsghdr *nlh;
	int ret = b->oom ? -1 : 0;

	if (ret == 0) {
		nlh = batch_msg(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, "%s", what);
		if (nlh) {
			nftnl_rule_nlmsg_build_payload(nlh, b->r);
			batch_next(bt);
		}
	}
	nftnl_rule_free(b->r);
	b->r = NULL;
	if (ret < 0)
		errno = ENOMEM;
	return ret;
}

/* The messages that (re)create the table for c, between BEGIN and END. */
int build_ruleset(struct batch *bt, const struct rules_config *c,
			 enum rules_queue_impl impl)
{
	unsigned idx[N_CHAINS] = { 0 };

	/* Add, delete, add: the first add makes the delete succeed whether or
	 * not the table existed, and the whole batch commits atomically, so
	 * there is no moment without the table or with two versions of it. */
	if (add_table_msg(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE, RULES_TABLE, NULL,
			  "table (placeholder)") < 0 ||
	    add_table_msg(bt, NFT_MSG_DELTABLE, 0, RULES_TABLE, NULL, "old table") < 0 ||
	    add_table_msg(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE, RULES_TABLE, TABLE_COMMENT,
			  "table") < 0)
		return -1;

	for (unsigned i = 0; i < N_CHAINS; i++) {
		if (spec_chains[i].level > c->level)
			continue;
		if (add_chain_msg(bt, RULES_TABLE, spec_chains[i].name, spec_chains[i].hook, spec_chains[i].prio,
				  spec_chains[i].comment) < 0)
			return -1;
	}

	for (unsigned i = 0; i < N_SPEC_RULES; i++) {
		const struct rule_spec *rs = &spec_rules[i];
		unsigned copies = spec_rule_copies(rs, c);

		for (unsigned k = 0; k < copies; k++) {
			struct rb b = { .oom = false };
			char what[64];

			snprintf(what, sizeof(what), "rule %u of chain %s", ++idx[rs->chain],
				 spec_chains[rs->chain].name);
			b.r = rule_new(RULES_TABLE, spec_chains[rs->chain].name, rs->comment);
			if (!b.r)
				return -1;
			if (rs->per_worker && spec_workers(c) > 1)
				put_symhash(&b, spec_workers(c), k);
			for (unsigned m = 0; m < rs->nm; m++)
				put_match(&b, rs->m[m], c);
			put_action(&b, rs->act, c, impl, k);
			if (add_rule_msg(bt, &b, what) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- talking to the kernel ---- */

struct mnl_socket *nl_open(uint32_t *portid)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int saved = errno;

		mnl_socket_close(nl);
		errno = saved;
		return NULL;
	}
	*portid = mnl_socket_get_portid(nl);
	return nl;
}

static int reply_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct replies *rp = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
		return MNL_CB_OK;
	for (unsigned i = 0; i < rp->bt->n; i++) {
		if (rp->bt->seqs[i] == nlh->nlmsg_seq && !rp->seen[i]) {
			rp->seen[i] = true;
			rp->err[i] = -e->error;
			rp->got++;
			break;
		}
	}
	return MNL_CB_OK;
}

/* Send a batch and collect one acknowledgement or error per message. The
 * kernel processes the batch inside sendmsg, so the replies are all queued
 * when it returns; the wait is only a bound against a kernel that would
 * not answer at all. */
int batch_talk(struct batch *bt, struct replies *rp)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = reply_error_cb };
	char buf[8192] __attribute__((aligned(4)));
	struct mnl_socket *nl;
	uint32_t portid;
	int ret = -1, saved;

	memset(rp, 0, sizeof(*rp));
	rp->bt = bt;
	if (bt->overflow) {
		errno = EMSGSIZE;
		return -1;
	}
	nl = nl_open(&portid);
	if (!nl)
		return -1;
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0)
		goto out;
	while (rp->got < bt->n) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, 2000);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			goto out;
		}
		n = recv_kernel(nl, buf, sizeof(buf));
		if (n < 0)
			goto out;
		/* seq 0: the replies carry one seq per message of the batch;
		 * reply_error_cb matches them. */
		if (mnl_cb_run2(buf, nl_whole_messages(buf, (size_t)n), 0, portid, NULL, rp, ctl,
				NLMSG_MIN_TYPE) < 0)
			goto out;
	}
	ret = 0;
out:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return ret;
}

/* Send a batch that must apply as a whole. 0, or -1 + errno; *bad is the
 * index of the first message the kernel refused, -1 if none was. */
int batch_commit(struct batch *bt, int *bad)
{
	struct replies rp;

	*bad = -1;
	if (batch_talk(bt, &rp) < 0)
		return -1;
	for (unsigned i = 0; i < bt->n; i++) {
		if (rp.err[i]) {
			*bad = (int)i;
			errno = rp.err[i];
			return -1;
		}
	}
	return 0;
}

