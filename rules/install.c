/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rstwatch ruleset, built with libnftnl and sent as one nfnetlink batch.
 *
 * Why C and not `nft -f rules/rstwatch.nft`: loading the file needs
 * libnftables (the nft parser), and the divert rule has to be built with
 * libnftnl anyway, because which queue statement the kernel takes is only
 * known at run time. So the ruleset is described once, in the tables below,
 * and turned into netlink messages (install) or nft text (rules_print).
 * rules/rstwatch.nft is the commented copy for people; tests/live/t-rules.sh
 * loads both and diffs `nft list table inet rstwatch`, so they cannot drift
 * apart unnoticed. */
#include "install.h"

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

#define TABLE_COMMENT "rstwatch: TCP resets to NFQUEUE (rules/rstwatch.nft)"
#define DIVERT_CHAIN "divert"
#define QUEUE_COMMENT "to the rstwatch daemon"
#define PROBE_TABLE "rstwatch_probe"

/* lo is interface 1 in every network namespace (LOOPBACK_IFINDEX). */
#define LOOPBACK_IFINDEX 1

/* The room one batch may take. The ruleset needs about 3 KiB. */
#define BATCH_LIMIT (64 * 1024)

/* The kernel's next datagram; anyone else's are skipped (nfq/nlrecv.h). */
static ssize_t recv_kernel(struct mnl_socket *nl, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = nl_recv_kernel(mnl_socket_get_fd(nl), buf, len, 0);

		if (n >= 0 || errno != EPERM)
			return n;
	}
}

/* ---- the ruleset, described once ---- */

/* The prefix of the copy a queued reset leaves in its log group just before
 * it is queued (see rules/rstwatch.nft, chain divert): the reader knows the
 * copy's original is on its way through the queue, and that every copy the
 * kernel made before it has now been delivered. */
#define QUEUED_PREFIX RULES_QUEUED_PREFIX

enum match {
	M_IIF_LO,             /* iif "lo" */
	M_TCP_RST,            /* tcp flags & rst == rst */
	M_TCP_SYN_FIN,        /* tcp flags & (syn | fin) != 0 */
	M_TCP_NO_HANDSHAKE,   /* tcp flags & (fin | syn | rst) == 0 */
	M_CT_WATCH,           /* ct mark & WATCH == WATCH */
	M_CT_UNCONFIRMED,     /* ct status & confirmed == 0 */
};

enum action {
	A_ACCEPT,
	A_JUMP_DIVERT,
	A_GOTO_COPY,          /* goto copy: batched copy, then the hook's policy (accept) */
	A_GOTO_COPY_NOW,      /* goto copy_now: a copy sent at once */
	A_LOG_BATCHED,        /* log group G+k (per worker) */
	A_LOG_NOW,            /* log group G+k queue-threshold 1 (per worker) */
	A_LOG_QUEUED,         /* log prefix QUEUED group G+k queue-threshold 1 (per worker) */
	A_QUEUE,              /* counter queue num Q+k bypass (per worker) */
};

/* Index into chains[]. */
enum chain_id { CH_PRE, CH_OUT, CH_PRE_WATCH, CH_OUT_WATCH, CH_COPY, CH_COPY_NOW, CH_DIVERT,
		N_CHAINS };

struct chain_spec {
	const char *name;
	int hook;             /* NF_INET_*, or -1 for a regular chain */
	int prio;
	const char *prio_name;
	enum rules_level level;
	const char *comment;
};

struct rule_spec {
	enum chain_id chain;
	enum rules_level level;
	enum match m[2];
	unsigned nm;
	enum action act;
	/* One rule per worker (queue k and log group k). With more than one
	 * worker each is guarded by `symhash mod N == k`: the flow's symmetric
	 * hash picks its worker, the same for its copies and its queued
	 * resets, so one thread owns the flow without locks. */
	bool per_worker;
	const char *comment;  /* kernel limit: 128 bytes */
};

/* Creation order is listing order: the same as in rules/rstwatch.nft. */
static const struct chain_spec chains[N_CHAINS] = {
	[CH_PRE] = { "prerouting", NF_INET_PRE_ROUTING, NF_IP_PRI_RAW, "raw", RULES_LEVEL_RST,
		     "packets arriving or crossing, before conntrack" },
	[CH_OUT] = { "output", NF_INET_LOCAL_OUT, NF_IP_PRI_RAW, "raw", RULES_LEVEL_RST,
		     "packets this host sends, before conntrack" },
	[CH_PRE_WATCH] = { "prerouting_watch", NF_INET_PRE_ROUTING, NF_IP_PRI_MANGLE, "mangle",
			   RULES_LEVEL_HANDSHAKE, "flows on rstwatch's watch list, after conntrack" },
	[CH_OUT_WATCH] = { "output_watch", NF_INET_LOCAL_OUT, NF_IP_PRI_MANGLE, "mangle",
			   RULES_LEVEL_HANDSHAKE, "flows on rstwatch's watch list, after conntrack" },
	[CH_COPY] = { "copy", -1, 0, NULL, RULES_LEVEL_RST,
		      "copies to rstwatch, batched: observed, never held" },
	[CH_COPY_NOW] = { "copy_now", -1, 0, NULL, RULES_LEVEL_RST,
			  "copies to rstwatch, sent at once: observed, never held" },
	[CH_DIVERT] = { DIVERT_CHAIN, -1, 0, NULL, RULES_LEVEL_RST,
			"to the rstwatch queue: what rstwatch may drop" },
};

/* Why each rule is there is told in rules/rstwatch.nft. */
static const struct rule_spec rules[] = {
	{ CH_PRE, RULES_LEVEL_RST, { M_IIF_LO }, 1, A_ACCEPT, false,
	  "looped back: already seen at output" },
	{ CH_PRE, RULES_LEVEL_RST, { M_TCP_RST }, 1, A_JUMP_DIVERT, false,
	  "reset: crossing or addressed to this host" },
	{ CH_PRE, RULES_LEVEL_HANDSHAKE, { M_TCP_SYN_FIN }, 1, A_GOTO_COPY, false,
	  "handshake: SYN, SYN/ACK and FIN give the flow's baseline" },
	{ CH_OUT, RULES_LEVEL_RST, { M_TCP_RST, M_CT_UNCONFIRMED }, 2, A_GOTO_COPY_NOW, false,
	  "reset: this host's firewall refusing a new flow; copy, never queue" },
	{ CH_OUT, RULES_LEVEL_RST, { M_TCP_RST }, 1, A_JUMP_DIVERT, false,
	  "reset: sent by this host" },
	{ CH_OUT, RULES_LEVEL_HANDSHAKE, { M_TCP_SYN_FIN }, 1, A_GOTO_COPY, false,
	  "handshake: SYN, SYN/ACK and FIN this host sends" },
	{ CH_PRE_WATCH, RULES_LEVEL_HANDSHAKE, { M_IIF_LO }, 1, A_ACCEPT, false,
	  "looped back: already seen at output" },
	{ CH_PRE_WATCH, RULES_LEVEL_HANDSHAKE, { M_CT_WATCH, M_TCP_NO_HANDSHAKE }, 2,
	  A_GOTO_COPY_NOW, false, "watch: every packet of a flow rstwatch put on its watch list" },
	{ CH_OUT_WATCH, RULES_LEVEL_HANDSHAKE, { M_CT_WATCH, M_TCP_NO_HANDSHAKE }, 2,
	  A_GOTO_COPY_NOW, false, "watch: every packet of a flow rstwatch put on its watch list" },
	{ CH_COPY, RULES_LEVEL_RST, { 0 }, 0, A_LOG_BATCHED, true,
	  "to rstwatch's log group" },
	{ CH_COPY_NOW, RULES_LEVEL_RST, { 0 }, 0, A_LOG_NOW, true,
	  "to rstwatch's log group, flushing what it gathered" },
	{ CH_DIVERT, RULES_LEVEL_RST, { M_CT_UNCONFIRMED }, 1, A_ACCEPT, false,
	  "holds an unconfirmed conntrack entry: the queue would drop it" },
	{ CH_DIVERT, RULES_LEVEL_RST, { 0 }, 0, A_LOG_QUEUED, true,
	  "a copy first: rstwatch judges the reset after every copy made before it" },
	{ CH_DIVERT, RULES_LEVEL_RST, { 0 }, 0, A_QUEUE, true, QUEUE_COMMENT },
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

/* A rule is installed when its level and its chain's level are reached. */
static bool rule_applies(const struct rule_spec *rs, enum rules_level level)
{
	return rs->level <= level && chains[rs->chain].level <= level;
}

static unsigned n_workers(const struct rules_config *c)
{
	return (unsigned)(c->queue_last - c->queue_first) + 1;
}

/* How many copies of rs the table holds for c. */
static unsigned rule_copies(const struct rule_spec *rs, const struct rules_config *c)
{
	if (!rule_applies(rs, c->level))
		return 0;
	return rs->per_worker ? n_workers(c) : 1;
}

static const char *const level_names[] = { "rst", "handshake" };

/* ---- configuration ---- */

void rules_config_default(struct rules_config *c)
{
	memset(c, 0, sizeof(*c));
	c->queue_first = RULES_DEFAULT_QUEUE;
	c->queue_last = RULES_DEFAULT_QUEUE;
	c->nflog_group = RULES_DEFAULT_NFLOG_GROUP;
	c->mark_mask = RULES_DEFAULT_MARK_MASK;
	c->watch_bit = RULES_DEFAULT_WATCH_BIT;
	c->level = RULES_LEVEL_HANDSHAKE;
	c->bypass = true;
	c->impl = RULES_QUEUE_AUTO;
}

const char *rules_level_name(enum rules_level l)
{
	return (unsigned)l < sizeof(level_names) / sizeof(level_names[0]) ? level_names[l] : "?";
}

int rules_level_from_name(const char *name)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	/* The old third level: its watch-list chains are part of handshake now,
	 * as copies. Accepted so that existing configurations keep working. */
	if (strcmp(name, "watch") == 0)
		return RULES_LEVEL_HANDSHAKE;
	return -1;
}

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int rules_config_check(const struct rules_config *c, char *err, size_t errlen)
{
	const char *why = NULL;

	if (c->queue_last < c->queue_first)
		why = "queue range ends before it starts";
	else if (c->mark_mask == 0)
		why = "mark mask is empty";
	else if (c->watch_bit == 0 || (c->watch_bit & (c->watch_bit - 1)) != 0)
		why = "watch bit must be exactly one bit";
	else if ((c->watch_bit & c->mark_mask) != c->watch_bit)
		why = "watch bit lies outside the mark mask";
	else if ((unsigned)c->level > RULES_LEVEL_HANDSHAKE)
		why = "unknown context level";
	else if (n_workers(c) > RULES_MAX_WORKERS)
		why = "more queues than rstwatch runs threads for (at most " RULES_MAX_WORKERS_STR ")";
	else if ((unsigned)c->nflog_group + n_workers(c) - 1 > 0xffff)
		why = "nflog groups (one per queue) run past 65535";
	else if ((unsigned)c->impl > RULES_QUEUE_XT)
		why = "unknown queue implementation";
	if (why) {
		set_err(err, errlen, "%s", why);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- libnftnl expressions ---- */

/* Collects allocation failures so the builders below stay readable; the
 * rule is checked once it is complete. */
struct rb {
	struct nftnl_rule *r;
	bool oom;
};

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

static void put_queue(struct rb *b, const struct rules_config *c, enum rules_queue_impl impl,
		      uint16_t num);

/* The action of rule rs for worker k. */
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
		put_verdict(b, NFT_GOTO, chains[CH_COPY].name);
		break;
	case A_GOTO_COPY_NOW:
		put_verdict(b, NFT_GOTO, chains[CH_COPY_NOW].name);
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
static void put_queue(struct rb *b, const struct rules_config *c, enum rules_queue_impl impl,
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

/* What each message of a batch was, so an error reply can be named. */
#define MAX_MSGS 128

struct batch {
	char *buf;
	struct mnl_nlmsg_batch *b;
	uint32_t seq;
	unsigned n;
	uint32_t seqs[MAX_MSGS];
	char what[MAX_MSGS][64];
	bool overflow;
};

static int batch_init(struct batch *bt, uint32_t seq)
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

static void batch_fini(struct batch *bt)
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

static void batch_begin(struct batch *bt)
{
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	batch_next(bt);
}

static void batch_end(struct batch *bt)
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

static struct nftnl_table *table_new(const char *name, const char *comment)
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

static int add_table_msg(struct batch *bt, uint16_t type, uint16_t flags, const char *name,
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

static int add_chain_msg(struct batch *bt, const char *table, const char *name, int hook,
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

static struct nftnl_rule *rule_new(const char *table, const char *chain, const char *comment)
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

static int add_rule_msg(struct batch *bt, struct rb *b, const char *what)
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
static int build_ruleset(struct batch *bt, const struct rules_config *c,
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
		if (chains[i].level > c->level)
			continue;
		if (add_chain_msg(bt, RULES_TABLE, chains[i].name, chains[i].hook, chains[i].prio,
				  chains[i].comment) < 0)
			return -1;
	}

	for (unsigned i = 0; i < N_RULES; i++) {
		const struct rule_spec *rs = &rules[i];
		unsigned copies = rule_copies(rs, c);

		for (unsigned k = 0; k < copies; k++) {
			struct rb b = { .oom = false };
			char what[64];

			snprintf(what, sizeof(what), "rule %u of chain %s", ++idx[rs->chain],
				 chains[rs->chain].name);
			b.r = rule_new(RULES_TABLE, chains[rs->chain].name, rs->comment);
			if (!b.r)
				return -1;
			if (rs->per_worker && n_workers(c) > 1)
				put_symhash(&b, n_workers(c), k);
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

static struct mnl_socket *nl_open(uint32_t *portid)
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

struct replies {
	const struct batch *bt;
	unsigned got;
	int err[MAX_MSGS];       /* 0 ok, else errno, per message */
	bool seen[MAX_MSGS];
};

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
static int batch_talk(struct batch *bt, struct replies *rp)
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
static int batch_commit(struct batch *bt, int *bad)
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
			set_err(err, errlen, "probing queue support: %s", strerror(errno));
			return -1;
		}
		impl = rules_probe_choose(&p);
		if (impl == RULES_QUEUE_AUTO) {
			set_err(err, errlen,
				"the kernel takes neither the nft queue expression (%s) nor the xt "
				"NFQUEUE target (%s)",
				strerror(p.native_queue_err), strerror(p.xt_nfqueue_err));
			errno = p.xt_nfqueue_err;
			return -1;
		}
	}

	if (batch_init(&bt, (uint32_t)time(NULL)) < 0) {
		set_err(err, errlen, "%s", strerror(errno));
		return -1;
	}
	batch_begin(&bt);
	if (build_ruleset(&bt, c, impl) < 0) {
		set_err(err, errlen, "building the ruleset: %s", strerror(errno));
		goto out;
	}
	batch_end(&bt);
	if (batch_commit(&bt, &bad) < 0) {
		set_err(err, errlen, "loading table inet %s: %s%s%s", RULES_TABLE,
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

/* ---- check ---- */

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
		if (strcmp(chains[i].name, chain) == 0)
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
	if (st.unknown_chain || st.parse_errors || st.queue_rules != n_workers(c) ||
	    st.queues_seen != (uint32_t)((1ull << n_workers(c)) - 1))
		ret = RULES_ALTERED;
	for (unsigned i = 0; i < N_CHAINS; i++) {
		want = 0;
		for (unsigned k = 0; k < N_RULES; k++)
			if (rules[k].chain == i)
				want += rule_copies(&rules[k], c);
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

/* ---- nft text ---- */

static void print_match(FILE *f, enum match m, const struct rules_config *c)
{
	switch (m) {
	case M_IIF_LO:
		fputs("iif \"lo\"", f);
		break;
	case M_TCP_RST:
		fputs("tcp flags & rst == rst", f);
		break;
	case M_TCP_SYN_FIN:
		fputs("tcp flags & (syn | fin) != 0", f);
		break;
	case M_TCP_NO_HANDSHAKE:
		fputs("tcp flags & (fin | syn | rst) == 0", f);
		break;
	case M_CT_WATCH:
		fprintf(f, "ct mark & 0x%08x == 0x%08x", c->watch_bit, c->watch_bit);
		break;
	case M_CT_UNCONFIRMED:
		fputs("ct status & confirmed == 0", f);
		break;
	}
}

static void print_action(FILE *f, enum action a, const struct rules_config *c, unsigned k)
{
	unsigned group = c->nflog_group + k;

	switch (a) {
	case A_ACCEPT:
		fputs("accept", f);
		break;
	case A_JUMP_DIVERT:
		fputs("jump " DIVERT_CHAIN, f);
		break;
	case A_GOTO_COPY:
		fprintf(f, "goto %s", chains[CH_COPY].name);
		break;
	case A_GOTO_COPY_NOW:
		fprintf(f, "goto %s", chains[CH_COPY_NOW].name);
		break;
	case A_LOG_BATCHED:
		fprintf(f, "log group %u", group);
		break;
	case A_LOG_NOW:
		fprintf(f, "log group %u queue-threshold 1", group);
		break;
	case A_LOG_QUEUED:
		fprintf(f, "limit rate %u/second burst %u packets log prefix \"%s\" group %u "
			"queue-threshold 1", RULES_MARKER_RATE, RULES_MARKER_BURST, QUEUED_PREFIX,
			group);
		break;
	case A_QUEUE:
		/* nft queue, or the xt NFQUEUE target where the kernel lacks
		 * nft_queue; nft lists both alike. */
		fprintf(f, "counter queue num %u%s", c->queue_first + k, c->bypass ? " bypass" : "");
		break;
	}
}

int rules_print(FILE *f, const struct rules_config *c)
{
	unsigned n = n_workers(c);

	if (rules_config_check(c, NULL, 0) < 0)
		return -1;
	fprintf(f, "# rstwatch ruleset: level %s, queue %u", rules_level_name(c->level),
		c->queue_first);
	if (n > 1)
		fprintf(f, "-%u", c->queue_last);
	fprintf(f, ", nflog group %u", c->nflog_group);
	if (n > 1)
		fprintf(f, "-%u", c->nflog_group + n - 1);
	fprintf(f,
		", watch bit 0x%08x\n"
		"# (rules/rstwatch.nft explains every rule)\n"
		"table inet %s {\n\tcomment \"%s\"\n",
		c->watch_bit, RULES_TABLE, TABLE_COMMENT);
	for (unsigned i = 0; i < N_CHAINS; i++) {
		const struct chain_spec *ch = &chains[i];

		if (ch->level > c->level)
			continue;
		fprintf(f, "\n\tchain %s {\n\t\tcomment \"%s\"\n", ch->name, ch->comment);
		if (ch->hook >= 0)
			fprintf(f, "\t\ttype filter hook %s priority %s; policy accept;\n",
				ch->hook == NF_INET_PRE_ROUTING ? "prerouting" : "output",
				ch->prio_name);
		for (unsigned r = 0; r < N_RULES; r++) {
			const struct rule_spec *rs = &rules[r];
			unsigned copies = rule_copies(rs, c);

			if (rs->chain != i)
				continue;
			for (unsigned k = 0; k < copies; k++) {
				/* The queue rule needs a kernel that takes it: rstwatch
				 * adds it with whichever statement the kernel has, so
				 * this file stays loadable everywhere. */
				fputs(rs->act == A_QUEUE ? "\t\t# " : "\t\t", f);
				if (rs->per_worker && n > 1)
					fprintf(f, "symhash mod %u %u ", n, k);
				for (unsigned m = 0; m < rs->nm; m++) {
					print_match(f, rs->m[m], c);
					fputc(' ', f);
				}
				print_action(f, rs->act, c, k);
				fprintf(f, " comment \"%s\"\n", rs->comment);
			}
		}
		fputs("\t}\n", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}
