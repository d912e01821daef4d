/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the parsers of what the kernel sends over netlink:
 * NFQUEUE packet messages (nfq/queue_msg.c), nfnetlink_log packets
 * (nfq/nflog.c) and conntrack entries (src/ct.c). The first input byte picks
 * the parser (and, for conntrack, whether a packet asks for the direction);
 * the rest is one datagram, walked message by message with mnl_cb_run as the
 * daemon does. Kernel datagrams are padded to NLMSG_ALIGNTO: the copy is too,
 * in a buffer of exactly that size, so ASan sees any read past it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "ct.h"
#include "decode.h"
#include "nflog.h"
#include "nlrecv.h"
#include "queue.h"

/* What the parsers returned lands here so that the compiler keeps the reads. */
static volatile uint32_t sink;

static void touch(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i < len; i++)
		s += p[i];
	sink += s;
}

static int on_message(const struct nlmsghdr *nlh, void *arg)
{
	unsigned which = *(const unsigned *)arg;

	if (which % 4 == 0) {
		struct nfqueue_packet p;

		if (nfqueue_parse_packet(nlh, &p) >= 0) {
			touch(p.payload, p.len);
			sink += p.id + p.mark + p.ifindex_in + (uint32_t)p.ts_us;
		}
	} else if (which % 4 == 1) {
		struct nflog_packet p;

		if (nflog_parse_packet(nlh, &p) == 0) {
			touch(p.payload, p.len);
			if (p.prefix)
				sink += (uint32_t)strlen(p.prefix);
			sink += p.seq + p.group + (uint32_t)p.ts_us;
		}
	} else {
		/* 3: with a packet, so that the direction is worked out too. */
		static const struct tcp_packet pkt = {
			.family = 4, .src = { 192, 0, 2, 1 }, .dst = { 192, 0, 2, 2 },
			.sport = 40000, .dport = 80,
		};
		struct ct_info ct;

		if (ct_parse_entry(nlh, which % 4 == 3 ? &pkt : NULL, &ct) == 0)
			sink += ct.tcp_state + ct.mark + ct.timeout_s + ct.reply_is_sender +
				(uint32_t)ct.packets[0];
	}
	return MNL_CB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned which;
	size_t len, padded;
	uint8_t *buf;

	if (size < 1)
		return 0;
	which = data[0];
	len = size - 1;
	padded = MNL_ALIGN(len);
	buf = malloc(padded ? padded : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	memset(buf + len, 0, padded - len);
	/* As the daemon does (nfq/nlrecv.h): only the whole messages. */
	mnl_cb_run(buf, nl_whole_messages(buf, padded), 0, 0, on_message, &which);
	free(buf);
	return 0;
}
