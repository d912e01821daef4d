/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq/nflog.c without a kernel: the bind-and-configure request read back
 * attribute by attribute, and NFULNL_MSG_PACKET messages shaped like the
 * kernel's (built here with mnl_attr_put) read by its parser, including
 * missing, unknown, mis-sized and truncated attributes. Buffers are heap blocks
 * of the size under test, so ASan reports any access beyond them. */
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
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <sys/socket.h>

#include "nflog.h"
#include "seqgap.h"

#define PACKET_TYPE ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)
#define CONFIG_TYPE ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG)

/* ---- the configuration request ------------------------------------------- */

struct attr_set {
	const struct nlattr *tb[NFULA_MAX + 8];
	int count;
};

static int collect_cb(const struct nlattr *attr, void *data)
{
	struct attr_set *set = data;
	uint16_t type = mnl_attr_get_type(attr);

	assert_true(type <= NFULA_CFG_MAX);
	assert_null(set->tb[type]);
	set->tb[type] = attr;
	set->count++;
	return MNL_CB_OK;
}

static void read_config(const struct nflog_config *cfg, uint32_t expect_range,
			uint32_t expect_qthresh)
{
	uint8_t *buf = malloc(NFLOG_CONFIG_MAX);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct nfgenmsg *nfg;
	const struct nfulnl_msg_config_cmd *cmd;
	struct nfulnl_msg_config_mode mode;
	struct attr_set set = { 0 };
	int len;

	assert_non_null(buf);
	len = nflog_build_config(buf, NFLOG_CONFIG_MAX, cfg, 99);
	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_len, (uint32_t)len);
	assert_int_equal(nlh->nlmsg_type, CONFIG_TYPE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, 99);
	nfg = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nfg->nfgen_family, AF_UNSPEC);
	assert_int_equal(nfg->version, NFNETLINK_V0);
	assert_int_equal(ntohs(nfg->res_id), cfg->group);

	assert_int_equal(mnl_attr_parse(nlh, sizeof(*nfg), collect_cb, &set), MNL_CB_OK);
	assert_int_equal(set.count, cfg->flush_timeout_cs ? 5 : 4);

	assert_non_null(set.tb[NFULA_CFG_CMD]);
	assert_int_equal(mnl_attr_get_payload_len(set.tb[NFULA_CFG_CMD]), sizeof(*cmd));
	cmd = mnl_attr_get_payload(set.tb[NFULA_CFG_CMD]);
	assert_int_equal(cmd->command, NFULNL_CFG_CMD_BIND);

	assert_non_null(set.tb[NFULA_CFG_MODE]);
	assert_int_equal(mnl_attr_get_payload_len(set.tb[NFULA_CFG_MODE]), sizeof(mode));
	memcpy(&mode, mnl_attr_get_payload(set.tb[NFULA_CFG_MODE]), sizeof(mode));
	assert_int_equal(ntohl(mode.copy_range), expect_range);
	assert_int_equal(mode.copy_mode, NFULNL_COPY_PACKET);

	assert_non_null(set.tb[NFULA_CFG_QTHRESH]);
	assert_int_equal(mnl_attr_validate(set.tb[NFULA_CFG_QTHRESH], MNL_TYPE_U32), 0);
	assert_int_equal(ntohl(mnl_attr_get_u32(set.tb[NFULA_CFG_QTHRESH])), expect_qthresh);

	assert_non_null(set.tb[NFULA_CFG_FLAGS]);
	assert_int_equal(mnl_attr_validate(set.tb[NFULA_CFG_FLAGS], MNL_TYPE_U16), 0);
	assert_int_equal(ntohs(mnl_attr_get_u16(set.tb[NFULA_CFG_FLAGS])), NFULNL_CFG_F_SEQ);

	if (cfg->flush_timeout_cs) {
		assert_non_null(set.tb[NFULA_CFG_TIMEOUT]);
		assert_int_equal(mnl_attr_validate(set.tb[NFULA_CFG_TIMEOUT], MNL_TYPE_U32), 0);
		assert_int_equal(ntohl(mnl_attr_get_u32(set.tb[NFULA_CFG_TIMEOUT])),
				 cfg->flush_timeout_cs);
	} else {
		assert_null(set.tb[NFULA_CFG_TIMEOUT]);
	}
	free(buf);
}

static void test_config_defaults(void **state)
{
	struct nflog_config cfg = { .group = 5 };

	(void)state;
	read_config(&cfg, NFLOG_DEFAULT_COPY_RANGE, 1);
}

static void test_config_explicit(void **state)
{
	struct nflog_config cfg = {
		.group = 0xfffe, .copy_range = NFLOG_MAX_COPY_RANGE, .qthresh = 50,
		.flush_timeout_cs = 5,
	};

	(void)state;
	read_config(&cfg, NFLOG_MAX_COPY_RANGE, 50);
}

static void test_config_limits(void **state)
{
	struct nflog_config cfg = { .group = 5, .copy_range = NFLOG_MAX_COPY_RANGE + 1 };
	struct nflog_config ok = { .group = 5, .flush_timeout_cs = 1 };
	uint8_t full[NFLOG_CONFIG_MAX];
	int len;

	(void)state;
	errno = 0;
	assert_int_equal(nflog_build_config(full, sizeof(full), &cfg, 1), -1);
	assert_int_equal(errno, EINVAL);

	len = nflog_build_config(full, sizeof(full), &ok, 1);
	assert_true(len > 0);
	for (size_t size = 0; size < (size_t)len; size++) {
		uint8_t *buf = malloc(size ? size : 1);

		assert_non_null(buf);
		errno = 0;
		assert_int_equal(nflog_build_config(buf, size, &ok, 1), -1);
		assert_int_equal(errno, EMSGSIZE);
		free(buf);
	}
}

/* ---- packet messages --------------------------------------------------- */

struct packet_spec {
	uint16_t type;
	uint8_t family;
	size_t hdr_len;             /* NFULA_PACKET_HDR; 0: left out */
	size_t mark_len, outdev_len, indev_len, seq_len, ts_len;
	const char *prefix;         /* NULL: left out */
	size_t prefix_len;          /* bytes of prefix put, NUL included if counted */
	size_t payload_len;         /* 0: left out */
	bool extras;                /* attributes the reader does not use, or knows nothing of */
};

static const uint8_t k_payload[41] = {
	0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, /* ... */
};
static const uint32_t k_mark = 0x2a, k_outdev = 7, k_indev = 3, k_seq = 0xfffffffe;
static const uint64_t k_sec = 1795253019, k_usec = 593355;

static void put_be32_sized(struct nlmsghdr *nlh, uint16_t type, size_t claimed, uint32_t v)
{
	uint8_t tmp[16] = { 0 };
	uint32_t be = htonl(v);

	if (!claimed)
		return;
	assert_true(claimed <= sizeof(tmp));
	memcpy(tmp, &be, claimed < sizeof(be) ? claimed : sizeof(be));
	mnl_attr_put(nlh, type, claimed, tmp);
}

static struct nlmsghdr *build_packet(const struct packet_spec *s)
{
	static uint8_t work[4096];
	struct nlmsghdr *nlh, *copy;
	struct nfgenmsg *nfg;

	memset(work, 0, sizeof(work));
	nlh = mnl_nlmsg_put_header(work);
	nlh->nlmsg_type = s->type;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = s->family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(5);

	if (s->hdr_len) {
		struct nfulnl_msg_packet_hdr hdr = {
			.hw_protocol = htons(ETH_P_IP), .hook = NF_INET_LOCAL_OUT,
		};
		uint8_t tmp[8] = { 0 };

		memcpy(tmp, &hdr, s->hdr_len < sizeof(hdr) ? s->hdr_len : sizeof(hdr));
		mnl_attr_put(nlh, NFULA_PACKET_HDR, s->hdr_len, tmp);
	}
	if (s->prefix)
		mnl_attr_put(nlh, NFULA_PREFIX, s->prefix_len, s->prefix);
	put_be32_sized(nlh, NFULA_IFINDEX_INDEV, s->indev_len, k_indev);
	put_be32_sized(nlh, NFULA_IFINDEX_OUTDEV, s->outdev_len, k_outdev);
	put_be32_sized(nlh, NFULA_MARK, s->mark_len, k_mark);
	if (s->ts_len) {
		struct nfulnl_msg_packet_timestamp ts = {
			.sec = htobe64(k_sec), .usec = htobe64(k_usec),
		};
		uint8_t tmp[32] = { 0 };

		memcpy(tmp, &ts, s->ts_len < sizeof(ts) ? s->ts_len : sizeof(ts));
		mnl_attr_put(nlh, NFULA_TIMESTAMP, s->ts_len, tmp);
	}
	if (s->extras) {
		mnl_attr_put_u32(nlh, NFULA_UID, htonl(0));
		mnl_attr_put_u32(nlh, NFULA_GID, htonl(0));
		mnl_attr_put_u16(nlh, NFULA_HWTYPE, htons(1));
		mnl_attr_put(nlh, NFULA_MAX + 9, 3, "abc");
	}
	put_be32_sized(nlh, NFULA_SEQ, s->seq_len, k_seq);
	if (s->payload_len)
		mnl_attr_put(nlh, NFULA_PAYLOAD, s->payload_len, k_payload);

	copy = malloc(MNL_ALIGN(nlh->nlmsg_len));
	assert_non_null(copy);
	memcpy(copy, nlh, MNL_ALIGN(nlh->nlmsg_len));
	return copy;
}

static struct packet_spec full_spec(void)
{
	struct packet_spec s = {
		.type = PACKET_TYPE, .family = NFPROTO_IPV4,
		.hdr_len = sizeof(struct nfulnl_msg_packet_hdr),
		.mark_len = 4, .outdev_len = 4, .indev_len = 4, .seq_len = 4,
		.ts_len = sizeof(struct nfulnl_msg_packet_timestamp),
		.prefix = "rst", .prefix_len = 4,
		.payload_len = sizeof(k_payload),
		.extras = true,
	};
	return s;
}

static void test_parse_full(void **state)
{
	struct packet_spec s = full_spec();
	struct nlmsghdr *nlh = build_packet(&s);
	struct nflog_packet pkt;

	(void)state;
	assert_int_equal(nflog_parse_packet(nlh, &pkt), 0);
	assert_int_equal(pkt.hw_protocol, ETH_P_IP);
	assert_int_equal(pkt.hook, NF_INET_LOCAL_OUT);
	assert_string_equal(nflog_hook_name(pkt.hook), "output");
	assert_int_equal(pkt.family, NFPROTO_IPV4);
	assert_int_equal(pkt.group, 5);
	assert_int_equal(pkt.ifindex_in, k_indev);
	assert_int_equal(pkt.ifindex_out, k_outdev);
	assert_int_equal(pkt.mark, k_mark);
	assert_non_null(pkt.prefix);
	assert_string_equal(pkt.prefix, "rst");
	assert_true(pkt.has_ts);
	assert_int_equal(pkt.ts_us, k_sec * 1000000u + k_usec);
	assert_true(pkt.has_seq);
	assert_int_equal(pkt.seq, k_seq);
	/* An odd length: the attribute says 41, its padding is not payload. */
	assert_int_equal(pkt.len, sizeof(k_payload));
	assert_non_null(pkt.payload);
	assert_memory_equal(pkt.payload, k_payload, sizeof(k_payload));
	free(nlh);
}

static void test_parse_minimal(void **state)
{
	struct packet_spec s = {
		.type = PACKET_TYPE, .family = NFPROTO_IPV6,
		.hdr_len = sizeof(struct nfulnl_msg_packet_hdr),
	};
	struct nlmsghdr *nlh = build_packet(&s);
	struct nflog_packet pkt;

	(void)state;
	assert_int_equal(nflog_parse_packet(nlh, &pkt), 0);
	assert_int_equal(pkt.family, NFPROTO_IPV6);
	assert_null(pkt.payload);
	assert_int_equal(pkt.len, 0);
	assert_null(pkt.prefix);
	assert_int_equal(pkt.mark, 0);
	assert_int_equal(pkt.ifindex_in, 0);
	assert_int_equal(pkt.ifindex_out, 0);
	assert_false(pkt.has_ts);
	assert_int_equal(pkt.ts_us, 0);
	assert_false(pkt.has_seq);
	free(nlh);
}

/* Mis-sized attributes are ignored as if absent. */
static void test_parse_wrong_sizes(void **state)
{
	struct packet_spec s = full_spec();
	struct nlmsghdr *nlh;
	struct nflog_packet pkt;

	(void)state;
	s.mark_len = 2;
	s.outdev_len = 8;
	s.indev_len = 3;
	s.seq_len = 5;
	s.ts_len = 8;
	s.prefix_len = 3;  /* "rst" without its NUL: not a string we may hand out */
	nlh = build_packet(&s);
	assert_int_equal(nflog_parse_packet(nlh, &pkt), 0);
	assert_int_equal(pkt.mark, 0);
	assert_int_equal(pkt.ifindex_out, 0);
	assert_int_equal(pkt.ifindex_in, 0);
	assert_false(pkt.has_seq);
	assert_false(pkt.has_ts);
	assert_null(pkt.prefix);
	assert_int_equal(pkt.len, sizeof(k_payload));
	assert_int_equal(pkt.hook, NF_INET_LOCAL_OUT);
	free(nlh);

	/* An empty prefix attribute is no string either. */
	s = full_spec();
	s.prefix_len = 0;
	nlh = build_packet(&s);
	assert_int_equal(nflog_parse_packet(nlh, &pkt), 0);
	assert_null(pkt.prefix);
	free(nlh);
}

/* Without its packet header a message cannot be placed: refused. */
static void test_parse_refused(void **state)
{
	struct packet_spec s;
	struct nlmsghdr *nlh, *tiny;
	struct nflog_packet pkt;

	(void)state;
	s = full_spec();
	s.hdr_len = 3;
	nlh = build_packet(&s);
	errno = 0;
	assert_int_equal(nflog_parse_packet(nlh, &pkt), -1);
	assert_int_equal(errno, EBADMSG);
	free(nlh);

	s = full_spec();
	s.hdr_len = 0;
	nlh = build_packet(&s);
	errno = 0;
	assert_int_equal(nflog_parse_packet(nlh, &pkt), -1);
	assert_int_equal(errno, EBADMSG);
	free(nlh);

	s = full_spec();
	s.type = CONFIG_TYPE;
	nlh = build_packet(&s);
	errno = 0;
	assert_int_equal(nflog_parse_packet(nlh, &pkt), -1);
	assert_int_equal(errno, EPROTO);
	free(nlh);

	tiny = malloc(MNL_NLMSG_HDRLEN);
	assert_non_null(tiny);
	memset(tiny, 0, MNL_NLMSG_HDRLEN);
	tiny->nlmsg_len = MNL_NLMSG_HDRLEN;
	tiny->nlmsg_type = PACKET_TYPE;
	errno = 0;
	assert_int_equal(nflog_parse_packet(tiny, &pkt), -1);
	assert_int_equal(errno, EBADMSG);
	free(tiny);
}

/* Cut the message at every length; libmnl walks to the aligned end, so each
 * copy is exactly that long and ASan watches the bytes beyond it. */
static void test_parse_truncated(void **state)
{
	struct packet_spec s = full_spec();
	struct nlmsghdr *nlh = build_packet(&s);
	uint32_t full = nlh->nlmsg_len;
	int ok = 0;

	(void)state;
	for (uint32_t len = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)); len < full; len++) {
		struct nlmsghdr *cut = malloc(MNL_ALIGN(len));
		struct nflog_packet pkt;

		assert_non_null(cut);
		memset(cut, 0xa5, MNL_ALIGN(len));
		memcpy(cut, nlh, len);
		cut->nlmsg_len = len;
		if (nflog_parse_packet(cut, &pkt) == 0) {
			ok++;
			/* Whatever was kept lies inside the cut message. */
			if (pkt.payload)
				assert_true(pkt.payload + pkt.len <= (const uint8_t *)cut + len);
			if (pkt.prefix)
				assert_true(pkt.prefix + strlen(pkt.prefix) < (const char *)cut + len);
		}
		free(cut);
	}
	assert_true(ok > 0);
	free(nlh);
}

static void test_hook_names(void **state)
{
	(void)state;
	assert_string_equal(nflog_hook_name(NF_INET_PRE_ROUTING), "prerouting");
	assert_string_equal(nflog_hook_name(NF_INET_LOCAL_IN), "input");
	assert_string_equal(nflog_hook_name(NF_INET_FORWARD), "forward");
	assert_string_equal(nflog_hook_name(NF_INET_LOCAL_OUT), "output");
	assert_string_equal(nflog_hook_name(NF_INET_POST_ROUTING), "postrouting");
	assert_string_equal(nflog_hook_name(NF_INET_INGRESS), "ingress");
	assert_string_equal(nflog_hook_name(200), "?");
}

/* A jump in the numbering counts as packets only as far as the time since
 * the last message allows; the rest is implausible (the forged sequence
 * number of issue 14 jumped by 1,294,967,296 within a millisecond). */
static void test_seqgap_bound(void **state)
{
	(void)state;
	assert_int_equal(seqgap_plausible(1, 0), 1);
	assert_int_equal(seqgap_plausible(SEQGAP_SLACK, 0), SEQGAP_SLACK);
	assert_int_equal(seqgap_plausible(SEQGAP_SLACK + 1, 0), SEQGAP_SLACK);
	assert_int_equal(seqgap_plausible(UINT64_C(1294967296), 1000), SEQGAP_SLACK + 1000 * SEQGAP_PER_US);
	/* 10 s of a 1 Mpps overflow, read after a 10 s stall: all of it counts. */
	assert_int_equal(seqgap_plausible(UINT64_C(10000000), UINT64_C(10000000)), UINT64_C(10000000));
	assert_int_equal(seqgap_plausible(UINT64_MAX, UINT64_MAX), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_explicit),
		cmocka_unit_test(test_config_limits),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_minimal),
		cmocka_unit_test(test_parse_wrong_sizes),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_hook_names),
		cmocka_unit_test(test_seqgap_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
