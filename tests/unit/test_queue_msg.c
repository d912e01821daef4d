/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NFQUEUE packet messages: built as the kernel builds them, parsed back
 * (nfqueue_parse_packet), compared; and the malformed ones refused or
 * flagged, never read past. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>

#include "nlrecv.h"
#include "queue.h"

static const uint8_t ip_packet[40] = { 0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6 };

static struct nlmsghdr *packet_msg(uint8_t *buf, uint16_t queue, uint32_t id, bool with_hdr)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(id), .hw_protocol = htons(0x0800),
					   .hook = NF_INET_PRE_ROUTING };

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->res_id = htons(queue);
	if (with_hdr)
		mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	return nlh;
}

static void test_round_trip(void **state)
{
	uint8_t buf[512];
	struct nlmsghdr *nlh = packet_msg(buf, 7300, 4242, true);
	struct nfqnl_msg_packet_timestamp ts = { .sec = htobe64(1700000000), .usec = htobe64(123456) };
	struct nfqueue_packet p;

	(void)state;
	mnl_attr_put_u32(nlh, NFQA_MARK, htonl(0x00ff0001));
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_INDEV, htonl(3));
	mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(1500));
	mnl_attr_put(nlh, NFQA_TIMESTAMP, sizeof(ts), &ts);
	mnl_attr_put(nlh, 31, 4, "new!");    /* newer than our headers: skipped */
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(ip_packet), ip_packet);
	assert_int_equal(nfqueue_parse_packet(nlh, &p), 0);
	assert_int_equal(p.id, 4242);
	assert_int_equal(p.queue_num, 7300);
	assert_int_equal(p.hw_protocol, 0x0800);
	assert_int_equal(p.hook, NF_INET_PRE_ROUTING);
	assert_int_equal(p.mark, 0x00ff0001);
	assert_int_equal(p.ifindex_in, 3);
	assert_int_equal(p.ifindex_out, 0);
	assert_int_equal(p.len, sizeof(ip_packet));
	assert_int_equal(p.orig_len, 1500);
	assert_memory_equal(p.payload, ip_packet, sizeof(ip_packet));
	assert_true(p.has_ts);
	assert_int_equal(p.ts_us, 1700000000123456ULL);
}

static void test_malformed_attribute_flagged(void **state)
{
	uint8_t buf[512];
	struct nlmsghdr *nlh = packet_msg(buf, 1, 9, true);
	struct nfqueue_packet p;

	(void)state;
	mnl_attr_put_u16(nlh, NFQA_MARK, 1);    /* a u32 of 2 bytes */
	assert_int_equal(nfqueue_parse_packet(nlh, &p), 1);
	assert_int_equal(p.id, 9);              /* still answerable */
	assert_int_equal(p.mark, 0);
}

static void test_refused(void **state)
{
	uint8_t buf[512];
	struct nlmsghdr *nlh = packet_msg(buf, 1, 9, false);
	struct nfqueue_packet p;

	(void)state;
	errno = 0;
	assert_int_equal(nfqueue_parse_packet(nlh, &p), -1);
	assert_int_equal(errno, EBADMSG);       /* no id: nothing to answer */
	nlh = packet_msg(buf, 1, 9, true);
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
	assert_int_equal(nfqueue_parse_packet(nlh, &p), -1);
	assert_int_equal(errno, EPROTO);
	nlh = packet_msg(buf, 1, 9, true);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;  /* shorter than its nfgenmsg */
	assert_int_equal(nfqueue_parse_packet(nlh, &p), -1);
	assert_int_equal(errno, EPROTO);
}

/* A message whose length is 2^31 or more passes libmnl's signed check; only
 * the whole messages before it are walked. */
static void test_whole_messages(void **state)
{
	uint8_t buf[1024];
	struct nlmsghdr *first = packet_msg(buf, 1, 1, true), *second;
	size_t len1 = first->nlmsg_len;

	(void)state;
	second = packet_msg(buf + len1, 1, 2, true);
	assert_int_equal(nl_whole_messages(buf, len1 + second->nlmsg_len), len1 + second->nlmsg_len);
	second->nlmsg_len = 0x80000034u;
	assert_int_equal(nl_whole_messages(buf, len1 + 64), len1);
	second->nlmsg_len = 8;                  /* shorter than a header */
	assert_int_equal(nl_whole_messages(buf, len1 + 64), len1);
	assert_int_equal(nl_whole_messages(buf, len1 + 7), len1);   /* a tail too short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed_attribute_flagged),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_whole_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
