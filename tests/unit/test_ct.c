/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/ct.c without a kernel: the requests it builds, read back attribute by
 * attribute, and kernel-shaped answers (built here with mnl_attr_put) read by
 * its parser, including missing, unknown, mis-sized and truncated attributes.
 * Buffers are heap blocks of the exact size under test, so ASan reports any
 * byte read or written past them. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ct.h"
#include "decode.h"

#define CT_NEW_TYPE ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW)
#define CT_GET_TYPE ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET)

static struct tcp_packet packet_v4(void)
{
	struct tcp_packet p = { .family = 4, .sport = 40001, .dport = 8080, .flags = TCPF_RST };

	inet_pton(AF_INET, "198.51.100.1", p.src);
	inet_pton(AF_INET, "198.51.100.2", p.dst);
	return p;
}

static struct tcp_packet packet_v6(void)
{
	struct tcp_packet p = { .family = 6, .sport = 443, .dport = 52000, .flags = TCPF_RST };

	inet_pton(AF_INET6, "2001:db8::2", p.src);
	inet_pton(AF_INET6, "2001:db8:ffff::1", p.dst);
	return p;
}

/* The same flow seen in the other direction. */
static struct tcp_packet swapped(const struct tcp_packet *p)
{
	struct tcp_packet r = *p;

	memcpy(r.src, p->dst, sizeof(r.src));
	memcpy(r.dst, p->src, sizeof(r.dst));
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

/* ---- reading a request back ------------------------------------------------ */

/* Every attribute of one nest, by type; a second attribute of a type already
 * seen, or a type above max, fails the test. */
struct attr_set {
	const struct nlattr *tb[32];
	uint16_t max;
	int count;
};

static int collect_cb(const struct nlattr *attr, void *data)
{
	struct attr_set *set = data;
	uint16_t type = mnl_attr_get_type(attr);

	assert_true(type <= set->max);
	assert_null(set->tb[type]);
	set->tb[type] = attr;
	set->count++;
	return MNL_CB_OK;
}

static void collect_nested(const struct nlattr *nest, uint16_t max, struct attr_set *set)
{
	memset(set, 0, sizeof(*set));
	set->max = max;
	assert_true(mnl_attr_validate(nest, MNL_TYPE_NESTED) == 0);
	assert_int_equal(mnl_attr_parse_nested(nest, collect_cb, set), MNL_CB_OK);
}

static void check_tuple(const struct nlattr *tuple, const struct tcp_packet *p)
{
	struct attr_set t, ip, proto;
	size_t alen = p->family == 4 ? 4 : 16;
	uint16_t src = p->family == 4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC;
	uint16_t dst = p->family == 4 ? CTA_IP_V4_DST : CTA_IP_V6_DST;

	collect_nested(tuple, CTA_TUPLE_MAX, &t);
	assert_int_equal(t.count, 2);
	assert_non_null(t.tb[CTA_TUPLE_IP]);
	assert_non_null(t.tb[CTA_TUPLE_PROTO]);

	collect_nested(t.tb[CTA_TUPLE_IP], CTA_IP_MAX, &ip);
	assert_int_equal(ip.count, 2);
	assert_non_null(ip.tb[src]);
	assert_non_null(ip.tb[dst]);
	assert_int_equal(mnl_attr_get_payload_len(ip.tb[src]), alen);
	assert_int_equal(mnl_attr_get_payload_len(ip.tb[dst]), alen);
	assert_memory_equal(mnl_attr_get_payload(ip.tb[src]), p->src, alen);
	assert_memory_equal(mnl_attr_get_payload(ip.tb[dst]), p->dst, alen);

	collect_nested(t.tb[CTA_TUPLE_PROTO], CTA_PROTO_MAX, &proto);
	assert_int_equal(proto.count, 3);
	assert_int_equal(mnl_attr_validate(proto.tb[CTA_PROTO_NUM], MNL_TYPE_U8), 0);
	assert_int_equal(mnl_attr_get_u8(proto.tb[CTA_PROTO_NUM]), IPPROTO_TCP);
	assert_int_equal(mnl_attr_validate(proto.tb[CTA_PROTO_SRC_PORT], MNL_TYPE_U16), 0);
	assert_int_equal(ntohs(mnl_attr_get_u16(proto.tb[CTA_PROTO_SRC_PORT])), p->sport);
	assert_int_equal(mnl_attr_validate(proto.tb[CTA_PROTO_DST_PORT], MNL_TYPE_U16), 0);
	assert_int_equal(ntohs(mnl_attr_get_u16(proto.tb[CTA_PROTO_DST_PORT])), p->dport);
}

static void check_header(const struct nlmsghdr *nlh, int len, uint16_t type, uint16_t flags,
			 uint32_t seq, const struct tcp_packet *p)
{
	const struct nfgenmsg *nfg;

	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_len, (uint32_t)len);
	assert_true(mnl_nlmsg_ok(nlh, len));
	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, flags);
	assert_int_equal(nlh->nlmsg_seq, seq);
	assert_int_equal(nlh->nlmsg_pid, 0);
	nfg = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nfg->nfgen_family, p->family == 4 ? AF_INET : AF_INET6);
	assert_int_equal(nfg->version, NFNETLINK_V0);
	assert_int_equal(nfg->res_id, 0);
}

static void collect_top(const struct nlmsghdr *nlh, struct attr_set *set)
{
	memset(set, 0, sizeof(*set));
	set->max = CTA_MAX;
	assert_int_equal(mnl_attr_parse(nlh, sizeof(struct nfgenmsg), collect_cb, set), MNL_CB_OK);
}

static void build_get_roundtrip(const struct tcp_packet *p)
{
	uint8_t *buf = malloc(CT_REQUEST_MAX);
	struct attr_set top;
	int len;

	assert_non_null(buf);
	len = ct_build_get(buf, CT_REQUEST_MAX, p, 0x01020304);
	check_header((struct nlmsghdr *)buf, len, CT_GET_TYPE, NLM_F_REQUEST, 0x01020304, p);
	collect_top((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.count, 1);
	assert_non_null(top.tb[CTA_TUPLE_ORIG]);
	check_tuple(top.tb[CTA_TUPLE_ORIG], p);
	free(buf);
}

static void test_build_get_v4(void **state)
{
	struct tcp_packet p = packet_v4();

	(void)state;
	build_get_roundtrip(&p);
}

static void test_build_get_v6(void **state)
{
	struct tcp_packet p = packet_v6();

	(void)state;
	build_get_roundtrip(&p);
}

static void build_mark_roundtrip(const struct tcp_packet *p, uint32_t value, uint32_t mask)
{
	uint8_t *buf = malloc(CT_REQUEST_MAX);
	struct attr_set top;
	int len;

	assert_non_null(buf);
	len = ct_build_mark(buf, CT_REQUEST_MAX, p, value, mask, 77);
	check_header((struct nlmsghdr *)buf, len, CT_NEW_TYPE, NLM_F_REQUEST | NLM_F_ACK, 77, p);
	collect_top((struct nlmsghdr *)buf, &top);
	assert_int_equal(top.count, 3);
	check_tuple(top.tb[CTA_TUPLE_ORIG], p);
	assert_non_null(top.tb[CTA_MARK]);
	assert_int_equal(mnl_attr_validate(top.tb[CTA_MARK], MNL_TYPE_U32), 0);
	/* Bits of value outside the mask must never reach the kernel: it
	 * XORs CTA_MARK into the bits it keeps. */
	assert_int_equal(ntohl(mnl_attr_get_u32(top.tb[CTA_MARK])), value & mask);
	assert_non_null(top.tb[CTA_MARK_MASK]);
	assert_int_equal(mnl_attr_validate(top.tb[CTA_MARK_MASK], MNL_TYPE_U32), 0);
	assert_int_equal(ntohl(mnl_attr_get_u32(top.tb[CTA_MARK_MASK])), mask);
	free(buf);
}

static void test_build_mark_v4(void **state)
{
	struct tcp_packet p = packet_v4();

	(void)state;
	build_mark_roundtrip(&p, 0x00030000, 0x00ff0000);
	build_mark_roundtrip(&p, 0xdeadbeef, 0x00ff0000);
}

static void test_build_mark_v6(void **state)
{
	struct tcp_packet p = packet_v6();

	(void)state;
	build_mark_roundtrip(&p, 0x00050000, 0x00ff0000);
	build_mark_roundtrip(&p, 0xffffffff, 0);
}

/* Every size short of the message fails cleanly, writing nothing beyond it. */
static void test_build_small_buffer(void **state)
{
	struct tcp_packet v4 = packet_v4(), v6 = packet_v6();
	const struct tcp_packet *pkts[] = { &v4, &v6 };
	uint8_t full[CT_REQUEST_MAX];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		int get_len = ct_build_get(full, sizeof(full), pkts[i], 1);
		int mark_len = ct_build_mark(full, sizeof(full), pkts[i], 1, 1, 1);

		assert_true(get_len > 0 && mark_len > get_len);
		for (size_t size = 0; size < (size_t)mark_len; size++) {
			uint8_t *buf = malloc(size ? size : 1);

			assert_non_null(buf);
			errno = 0;
			if (size < (size_t)get_len) {
				assert_int_equal(ct_build_get(buf, size, pkts[i], 1), -1);
				assert_int_equal(errno, EMSGSIZE);
			} else {
				assert_int_equal(ct_build_get(buf, size, pkts[i], 1), get_len);
			}
			errno = 0;
			assert_int_equal(ct_build_mark(buf, size, pkts[i], 1, 1, 1), -1);
			assert_int_equal(errno, EMSGSIZE);
			free(buf);
		}
	}
}

static void test_build_bad_family(void **state)
{
	struct tcp_packet p = packet_v4();
	uint8_t buf[CT_REQUEST_MAX];

	(void)state;
	p.family = 0;
	errno = 0;
	assert_int_equal(ct_build_get(buf, sizeof(buf), &p, 1), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
	errno = 0;
	assert_int_equal(ct_build_mark(buf, sizeof(buf), &p, 1, 1, 1), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
}

/* ---- kernel-shaped answers ------------------------------------------------- */

/* What the answer holds; a field set to a size of 0 is left out, any other
 * size is what the attribute claims (to build mis-sized attributes). */
struct entry_spec {
	const struct tcp_packet *orig;   /* original direction */
	const struct tcp_packet *reply;  /* NULL: no CTA_TUPLE_REPLY */
	uint8_t family_af;
	size_t src_len;                  /* CTA_IP_*_SRC of the original tuple */
	uint8_t protonum;
	size_t status_len, mark_len, timeout_len, id_len, use_len;
	size_t state_len;                /* CTA_PROTOINFO_TCP_STATE; 0 with protoinfo: no state */
	bool protoinfo;
	size_t packets_len, bytes_len;   /* in CTA_COUNTERS_ORIG; reply ones are always right */
	bool counters;
	size_t start_len;
	bool timestamp;
	bool unknown_attrs;
};

static const uint32_t k_status = IPS_CONFIRMED | IPS_ASSURED | IPS_SEEN_REPLY;
static const uint32_t k_mark = 0x00030001, k_timeout = 431999, k_id = 0x9abcdef0;
static const uint64_t k_pkts[2] = { 7, 5 }, k_bytes[2] = { 0x1122334455ull, 900 };
static const uint64_t k_start = 1795253019593355812ull;

static void put_sized(struct nlmsghdr *nlh, uint16_t type, size_t claimed, const void *value,
		      size_t value_len)
{
	uint8_t tmp[32] = { 0 };

	assert_true(claimed <= sizeof(tmp));
	memcpy(tmp, value, claimed < value_len ? claimed : value_len);
	mnl_attr_put(nlh, type, claimed, tmp);
}

static void put_be32_sized(struct nlmsghdr *nlh, uint16_t type, size_t claimed, uint32_t v)
{
	uint32_t be = htonl(v);

	if (claimed)
		put_sized(nlh, type, claimed, &be, sizeof(be));
}

static void put_be64_sized(struct nlmsghdr *nlh, uint16_t type, size_t claimed, uint64_t v)
{
	uint64_t be = htobe64(v);

	if (claimed)
		put_sized(nlh, type, claimed, &be, sizeof(be));
}

static void put_kernel_tuple(struct nlmsghdr *nlh, uint16_t type, const struct tcp_packet *p,
			     size_t src_len, uint8_t protonum)
{
	struct nlattr *tuple, *ip, *proto;
	size_t alen = p->family == 4 ? 4 : 16;

	tuple = mnl_attr_nest_start(nlh, type);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	put_sized(nlh, p->family == 4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, src_len, p->src, alen);
	mnl_attr_put(nlh, p->family == 4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, alen, p->dst);
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, protonum);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(p->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(p->dport));
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
}

/* Returns a heap copy of exactly nlmsg_len bytes. */
static struct nlmsghdr *build_entry(const struct entry_spec *s)
{
	static uint8_t work[4096];
	struct nlmsghdr *nlh, *copy;
	struct nfgenmsg *nfg;
	struct nlattr *nest, *tcp;

	memset(work, 0, sizeof(work));
	nlh = mnl_nlmsg_put_header(work);
	nlh->nlmsg_type = CT_NEW_TYPE;
	nlh->nlmsg_flags = NLM_F_MULTI; /* as ctnetlink_get_conntrack sends it */
	nlh->nlmsg_seq = 12;
	nlh->nlmsg_pid = 4242;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = s->family_af;
	nfg->version = NFNETLINK_V0;

	if (s->orig)
		put_kernel_tuple(nlh, CTA_TUPLE_ORIG, s->orig, s->src_len, s->protonum);
	if (s->reply)
		put_kernel_tuple(nlh, CTA_TUPLE_REPLY, s->reply, s->reply->family == 4 ? 4 : 16,
				 IPPROTO_TCP);
	put_be32_sized(nlh, CTA_STATUS, s->status_len, k_status);
	put_be32_sized(nlh, CTA_MARK, s->mark_len, k_mark);
	put_be32_sized(nlh, CTA_ID, s->id_len, k_id);
	put_be32_sized(nlh, CTA_USE, s->use_len, 1);
	put_be32_sized(nlh, CTA_TIMEOUT, s->timeout_len, k_timeout);
	if (s->protoinfo) {
		nest = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
		if (s->state_len) {
			uint8_t st[8] = { TCP_CONNTRACK_ESTABLISHED };

			mnl_attr_put(nlh, CTA_PROTOINFO_TCP_STATE, s->state_len, st);
		}
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, 7);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_REPLY, 7);
		mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, 2, "\x23\x00");
		mnl_attr_nest_end(nlh, tcp);
		mnl_attr_nest_end(nlh, nest);
	}
	if (s->counters) {
		nest = mnl_attr_nest_start(nlh, CTA_COUNTERS_ORIG);
		mnl_attr_put(nlh, CTA_COUNTERS_PAD, 0, NULL); /* the kernel's alignment pad */
		put_be64_sized(nlh, CTA_COUNTERS_PACKETS, s->packets_len, k_pkts[0]);
		put_be64_sized(nlh, CTA_COUNTERS_BYTES, s->bytes_len, k_bytes[0]);
		mnl_attr_nest_end(nlh, nest);
		nest = mnl_attr_nest_start(nlh, CTA_COUNTERS_REPLY);
		put_be64_sized(nlh, CTA_COUNTERS_PACKETS, 8, k_pkts[1]);
		put_be64_sized(nlh, CTA_COUNTERS_BYTES, 8, k_bytes[1]);
		mnl_attr_nest_end(nlh, nest);
	}
	if (s->timestamp) {
		nest = mnl_attr_nest_start(nlh, CTA_TIMESTAMP);
		put_be64_sized(nlh, CTA_TIMESTAMP_START, s->start_len, k_start);
		put_be64_sized(nlh, CTA_TIMESTAMP_STOP, 8, k_start + 5);
		mnl_attr_nest_end(nlh, nest);
	}
	if (s->unknown_attrs) {
		mnl_attr_put_u32(nlh, CTA_MAX + 7, 0xffffffff);
		mnl_attr_put(nlh, CTA_LABELS, 16, "0123456789abcdef");
	}

	copy = malloc(nlh->nlmsg_len);
	assert_non_null(copy);
	memcpy(copy, nlh, nlh->nlmsg_len);
	return copy;
}

static struct entry_spec full_spec(const struct tcp_packet *orig, const struct tcp_packet *reply)
{
	struct entry_spec s = {
		.orig = orig, .reply = reply,
		.family_af = orig->family == 4 ? AF_INET : AF_INET6,
		.src_len = orig->family == 4 ? 4 : 16, .protonum = IPPROTO_TCP,
		.status_len = 4, .mark_len = 4, .timeout_len = 4, .id_len = 4, .use_len = 4,
		.protoinfo = true, .state_len = 1,
		.counters = true, .packets_len = 8, .bytes_len = 8,
		.timestamp = true, .start_len = 8,
		.unknown_attrs = true,
	};
	return s;
}

static void check_full(const struct ct_info *ci, bool reply_is_sender)
{
	assert_true(ci->present);
	assert_int_equal(ci->tcp_state, TCP_CONNTRACK_ESTABLISHED);
	assert_int_equal(ci->status, k_status);
	assert_int_equal(ci->mark, k_mark);
	assert_int_equal(ci->timeout_s, k_timeout);
	assert_int_equal(ci->id, k_id);
	assert_true(ci->has_counters);
	assert_int_equal(ci->packets[0], k_pkts[0]);
	assert_int_equal(ci->packets[1], k_pkts[1]);
	assert_int_equal(ci->bytes[0], k_bytes[0]);
	assert_int_equal(ci->bytes[1], k_bytes[1]);
	assert_true(ci->has_start);
	assert_int_equal(ci->start_ns, k_start);
	assert_int_equal(ci->reply_is_sender, reply_is_sender);
}

static void parse_full(const struct tcp_packet *orig)
{
	struct tcp_packet reply = swapped(orig);
	struct entry_spec s = full_spec(orig, &reply);
	struct nlmsghdr *nlh = build_entry(&s);
	struct ct_info ci;

	assert_int_equal(ct_parse_entry(nlh, orig, &ci), 0);
	check_full(&ci, false);
	assert_int_equal(ct_parse_entry(nlh, &reply, &ci), 0);
	check_full(&ci, true);
	assert_int_equal(ct_parse_entry(nlh, NULL, &ci), 0);
	check_full(&ci, false);
	free(nlh);
}

static void test_parse_full_v4(void **state)
{
	struct tcp_packet p = packet_v4();

	(void)state;
	parse_full(&p);
}

static void test_parse_full_v6(void **state)
{
	struct tcp_packet p = packet_v6();

	(void)state;
	parse_full(&p);
}

/* Under DNAT the reply comes from the real server, not the address the client
 * dialled: the reply tuple, not the swapped original, identifies it. */
static void test_parse_nat_reply(void **state)
{
	struct tcp_packet orig = packet_v4(), reply, from_server;
	struct entry_spec s;
	struct nlmsghdr *nlh;
	struct ct_info ci;

	(void)state;
	reply = swapped(&orig);
	inet_pton(AF_INET, "203.0.113.9", reply.src);
	reply.sport = 80;
	s = full_spec(&orig, &reply);
	nlh = build_entry(&s);
	from_server = reply;

	assert_int_equal(ct_parse_entry(nlh, &from_server, &ci), 0);
	assert_true(ci.reply_is_sender);
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), 0);
	assert_false(ci.reply_is_sender);
	free(nlh);
}

static void test_parse_missing_optional(void **state)
{
	struct tcp_packet orig = packet_v4(), reply = swapped(&orig);
	struct entry_spec s = {
		.orig = &orig, .family_af = AF_INET, .src_len = 4, .protonum = IPPROTO_TCP,
		.status_len = 4,
	};
	struct nlmsghdr *nlh = build_entry(&s);
	struct ct_info ci;

	(void)state;
	assert_int_equal(ct_parse_entry(nlh, &reply, &ci), 0);
	assert_true(ci.present);
	assert_int_equal(ci.status, k_status);
	assert_int_equal(ci.tcp_state, TCP_CONNTRACK_NONE);
	assert_string_equal(ct_state_name(ci.tcp_state), "NONE");
	assert_int_equal(ci.mark, 0);
	assert_int_equal(ci.timeout_s, 0);
	assert_int_equal(ci.id, 0);
	assert_false(ci.has_counters);
	assert_false(ci.has_start);
	/* No reply tuple: the source alone tells the direction. */
	assert_true(ci.reply_is_sender);
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), 0);
	assert_false(ci.reply_is_sender);
	free(nlh);

	/* Empty nests where the kernel would have put something. */
	s.protoinfo = true;
	s.counters = true;
	s.timestamp = true;
	nlh = build_entry(&s);
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), 0);
	assert_int_equal(ci.tcp_state, TCP_CONNTRACK_NONE);
	assert_false(ci.has_counters);
	assert_false(ci.has_start);
	free(nlh);
}

/* A known attribute of the wrong size is ignored as if absent; the rest of the
 * entry still counts. */
static void test_parse_wrong_sizes(void **state)
{
	struct tcp_packet orig = packet_v4(), reply = swapped(&orig);
	struct entry_spec s;
	struct nlmsghdr *nlh;
	struct ct_info ci;

	(void)state;
	s = full_spec(&orig, &reply);
	s.mark_len = 2;
	s.timeout_len = 8;
	s.id_len = 3;
	s.state_len = 4;
	s.packets_len = 4;
	s.start_len = 12;
	nlh = build_entry(&s);
	assert_int_equal(ct_parse_entry(nlh, &reply, &ci), 0);
	assert_true(ci.present);
	assert_int_equal(ci.status, k_status);
	assert_int_equal(ci.mark, 0);
	assert_int_equal(ci.timeout_s, 0);
	assert_int_equal(ci.id, 0);
	assert_int_equal(ci.tcp_state, TCP_CONNTRACK_NONE);
	assert_false(ci.has_counters);
	assert_int_equal(ci.packets[1], 0);
	assert_false(ci.has_start);
	assert_true(ci.reply_is_sender);
	free(nlh);

	s = full_spec(&orig, &reply);
	s.bytes_len = 16;
	s.status_len = 1;
	nlh = build_entry(&s);
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), 0);
	assert_int_equal(ci.status, 0);
	assert_int_equal(ci.mark, k_mark);
	assert_false(ci.has_counters);
	assert_true(ci.has_start);
	free(nlh);
}

/* Without a usable original tuple the entry cannot be placed: refused. */
static void test_parse_refused(void **state)
{
	struct tcp_packet orig = packet_v4(), reply = swapped(&orig), v6 = packet_v6();
	struct entry_spec s;
	struct nlmsghdr *nlh;
	struct ct_info ci;

	(void)state;
	s = full_spec(&orig, &reply);
	s.src_len = 3;
	nlh = build_entry(&s);
	errno = 0;
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), -1);
	assert_int_equal(errno, EBADMSG);
	assert_false(ci.present);
	free(nlh);

	s = full_spec(&orig, &reply);
	s.src_len = 16;  /* an IPv6-sized address in an IPv4 tuple */
	nlh = build_entry(&s);
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), -1);
	free(nlh);

	s = full_spec(&orig, &reply);
	s.protonum = IPPROTO_UDP;
	nlh = build_entry(&s);
	errno = 0;
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), -1);
	assert_int_equal(errno, EBADMSG);
	free(nlh);

	s = full_spec(&orig, &reply);
	s.orig = NULL;
	nlh = build_entry(&s);
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), -1);
	free(nlh);

	/* IPv6 addresses under an AF_INET header: no IPv4 address to read. */
	s = full_spec(&v6, NULL);
	s.family_af = AF_INET;
	nlh = build_entry(&s);
	assert_int_equal(ct_parse_entry(nlh, &v6, &ci), -1);
	free(nlh);

	s = full_spec(&orig, &reply);
	s.family_af = AF_UNSPEC;
	nlh = build_entry(&s);
	errno = 0;
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), -1);
	assert_int_equal(errno, EBADMSG);
	free(nlh);
}

static void test_parse_not_an_entry(void **state)
{
	struct tcp_packet orig = packet_v4(), reply = swapped(&orig);
	struct entry_spec s = full_spec(&orig, &reply);
	struct nlmsghdr *nlh = build_entry(&s);
	struct nlmsghdr *tiny;
	struct ct_info ci;

	(void)state;
	nlh->nlmsg_type = CT_GET_TYPE;
	errno = 0;
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), -1);
	assert_int_equal(errno, EPROTO);
	nlh->nlmsg_type = NLMSG_ERROR;
	assert_int_equal(ct_parse_entry(nlh, &orig, &ci), -1);
	free(nlh);

	/* A header with no room for the nfgenmsg. */
	tiny = malloc(MNL_NLMSG_HDRLEN);
	assert_non_null(tiny);
	memset(tiny, 0, MNL_NLMSG_HDRLEN);
	tiny->nlmsg_len = MNL_NLMSG_HDRLEN;
	tiny->nlmsg_type = CT_NEW_TYPE;
	errno = 0;
	assert_int_equal(ct_parse_entry(tiny, &orig, &ci), -1);
	assert_int_equal(errno, EBADMSG);
	free(tiny);
}

/* Cut the answer at every length: attributes that run past the end are
 * dropped, never read. libmnl walks up to the aligned end of a message, so
 * each copy is exactly that long and ASan watches the bytes beyond it. */
static void test_parse_truncated(void **state)
{
	struct tcp_packet v4 = packet_v4(), r4 = swapped(&v4), v6 = packet_v6(), r6 = swapped(&v6);
	struct entry_spec specs[2] = { full_spec(&v4, &r4), full_spec(&v6, &r6) };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct nlmsghdr *nlh = build_entry(&specs[i]);
		uint32_t full = nlh->nlmsg_len;
		uint32_t min = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));
		int ok = 0;

		for (uint32_t len = min; len < full; len++) {
			struct nlmsghdr *cut = malloc(MNL_ALIGN(len));
			struct ct_info ci;

			assert_non_null(cut);
			memset(cut, 0xa5, MNL_ALIGN(len));
			memcpy(cut, nlh, len);
			cut->nlmsg_len = len;
			if (ct_parse_entry(cut, specs[i].orig, &ci) == 0) {
				ok++;
				assert_true(ci.present);
			} else {
				assert_false(ci.present);
			}
			free(cut);
		}
		/* Once the original tuple is complete the entry parses. */
		assert_true(ok > 0);
		free(nlh);
	}
}

/* Failures are named by errno, a fixed set: anything unforeseen is "other". */
static void test_failure_names(void **state)
{
	(void)state;
	assert_string_equal(ct_failure_name(ct_failure_of(ETIMEDOUT)), "ETIMEDOUT");
	assert_string_equal(ct_failure_name(ct_failure_of(ENOMEM)), "ENOMEM");
	assert_string_equal(ct_failure_name(ct_failure_of(EBUSY)), "EBUSY");
	assert_string_equal(ct_failure_name(ct_failure_of(ENOBUFS)), "ENOBUFS");
	assert_string_equal(ct_failure_name(ct_failure_of(EPROTO)), "other");
	assert_string_equal(ct_failure_name(ct_failure_of(0)), "other");
	assert_string_equal(ct_failure_name(CT_FAIL_COUNT), "other");
}

static void test_state_names(void **state)
{
	const char *seen[TCP_CONNTRACK_TIMEOUT_MAX + 1];

	(void)state;
	assert_string_equal(ct_state_name(TCP_CONNTRACK_NONE), "NONE");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_SYN_SENT), "SYN_SENT");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_SYN_RECV), "SYN_RECV");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_FIN_WAIT), "FIN_WAIT");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_CLOSE_WAIT), "CLOSE_WAIT");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_LAST_ACK), "LAST_ACK");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_TIME_WAIT), "TIME_WAIT");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_CLOSE), "CLOSE");
	assert_string_equal(ct_state_name(TCP_CONNTRACK_SYN_SENT2), "SYN_SENT2");
	for (int s = 0; s <= TCP_CONNTRACK_TIMEOUT_MAX; s++) {
		seen[s] = ct_state_name((uint8_t)s);
		assert_non_null(seen[s]);
		assert_string_not_equal(seen[s], "UNKNOWN");
		for (int t = 0; t < s; t++)
			assert_string_not_equal(seen[s], seen[t]);
	}
	assert_string_equal(ct_state_name(TCP_CONNTRACK_TIMEOUT_MAX + 1), "UNKNOWN");
	assert_string_equal(ct_state_name(255), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_get_v4),
		cmocka_unit_test(test_build_get_v6),
		cmocka_unit_test(test_build_mark_v4),
		cmocka_unit_test(test_build_mark_v6),
		cmocka_unit_test(test_build_small_buffer),
		cmocka_unit_test(test_build_bad_family),
		cmocka_unit_test(test_parse_full_v4),
		cmocka_unit_test(test_parse_full_v6),
		cmocka_unit_test(test_parse_nat_reply),
		cmocka_unit_test(test_parse_missing_optional),
		cmocka_unit_test(test_parse_wrong_sizes),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_not_an_entry),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_failure_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
