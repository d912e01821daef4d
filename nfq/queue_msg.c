/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NFQUEUE packet messages parsed into struct nfqueue_packet: one attribute
 * callback, unknown attributes skipped, known ones size-checked. Apart from
 * the socket code (queue.c) so that it can be fuzzed on its own
 * (tests/fuzz/fuzz_netlink.c). */
#include "queue.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

struct pkt_attrs {
	const struct nlattr *tb[NFQA_MAX + 1];
	unsigned bad;
};

static int pkt_attr_cb(const struct nlattr *attr, void *data)
{
	struct pkt_attrs *pa = data;
	int type = mnl_attr_get_type(attr);
	int ok;

	/* Attributes newer than our headers (NFQA_PRIORITY ...) are skipped. */
	if (mnl_attr_type_valid(attr, NFQA_MAX) < 0)
		return MNL_CB_OK;

	switch (type) {
	case NFQA_PACKET_HDR:
		ok = mnl_attr_validate2(attr, MNL_TYPE_UNSPEC,
					sizeof(struct nfqnl_msg_packet_hdr));
		break;
	case NFQA_TIMESTAMP:
		ok = mnl_attr_validate2(attr, MNL_TYPE_UNSPEC,
					sizeof(struct nfqnl_msg_packet_timestamp));
		break;
	case NFQA_MARK:
	case NFQA_IFINDEX_INDEV:
	case NFQA_IFINDEX_OUTDEV:
	case NFQA_CAP_LEN:
	case NFQA_SKB_INFO:
		ok = mnl_attr_validate(attr, MNL_TYPE_U32);
		break;
	case NFQA_PAYLOAD:
		ok = 0;
		break;
	default:
		return MNL_CB_OK;
	}
	/* A malformed attribute is left out rather than ending the parse: the
	 * packet header, and with it the id the verdict needs, may still be
	 * intact. */
	if (ok < 0) {
		pa->bad++;
		return MNL_CB_OK;
	}
	pa->tb[type] = attr;
	return MNL_CB_OK;
}

static uint32_t attr_u32(const struct nlattr *a)
{
	return a ? ntohl(mnl_attr_get_u32(a)) : 0;
}

int nfqueue_parse_packet(const struct nlmsghdr *nlh, struct nfqueue_packet *out)
{
	struct pkt_attrs pa = { .bad = 0 };
	const struct nfqnl_msg_packet_hdr *ph;
	struct nfqueue_packet *p = out;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg)) {
		errno = EPROTO;
		return -1;
	}
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), pkt_attr_cb, &pa);
	if (!pa.tb[NFQA_PACKET_HDR]) {
		errno = EBADMSG;
		return -1;
	}
	ph = mnl_attr_get_payload(pa.tb[NFQA_PACKET_HDR]);

	memset(p, 0, sizeof(*p));
	p->id = ntohl(ph->packet_id);
	p->queue_num = ntohs(((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->res_id);
	p->hw_protocol = ntohs(ph->hw_protocol);
	p->hook = ph->hook;
	if (pa.tb[NFQA_PAYLOAD]) {
		p->len = mnl_attr_get_payload_len(pa.tb[NFQA_PAYLOAD]);
		p->payload = p->len ? mnl_attr_get_payload(pa.tb[NFQA_PAYLOAD]) : NULL;
	}
	/* NFQA_CAP_LEN is only present when the copy was cut short. */
	p->orig_len = pa.tb[NFQA_CAP_LEN] ? attr_u32(pa.tb[NFQA_CAP_LEN]) : (uint32_t)p->len;
	p->mark = attr_u32(pa.tb[NFQA_MARK]);
	p->ifindex_in = attr_u32(pa.tb[NFQA_IFINDEX_INDEV]);
	p->ifindex_out = attr_u32(pa.tb[NFQA_IFINDEX_OUTDEV]);
	p->skb_info = attr_u32(pa.tb[NFQA_SKB_INFO]);
	if (pa.tb[NFQA_TIMESTAMP]) {
		struct nfqnl_msg_packet_timestamp ts;

		/* memcpy: the attribute payload is only 4-byte aligned. */
		memcpy(&ts, mnl_attr_get_payload(pa.tb[NFQA_TIMESTAMP]), sizeof(ts));
		p->has_ts = true;
		p->ts_us = be64toh(ts.sec) * 1000000u + be64toh(ts.usec);
	}
	return pa.bad ? 1 : 0;
}
