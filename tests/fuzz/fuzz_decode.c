/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for src/decode.c. The first input byte picks a link type,
 * the rest is the captured frame. libFuzzer hands over a heap copy of exactly
 * the input's size, so ASan sees any read past the capture. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Seeds and regression inputs index this table: append, never reorder. */
static const int linktypes[] = {
	LINK_NULL, LINK_ETHERNET, LINK_RAW, LINK_LOOP, LINK_SLL, LINK_IPV4, LINK_IPV6, LINK_SLL2,
	147,	/* a link type the decoder does not know */
	LINK_FDDI,
};

/* The payload sum lands here so that the compiler keeps every read. */
static volatile uint8_t payload_sum;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *frame = data + 1;
	struct tcp_packet pkt;
	uint8_t sum = 0;
	char flags[9];
	uint32_t i;

	if (size < 1)
		return 0;
	if (decode_frame(linktypes[data[0] % ARRAY_SIZE(linktypes)], frame, size - 1, &pkt) !=
	    DECODE_OK)
		return 0;

	/* Touch every payload byte the decoder promised is there. */
	for (i = 0; i < pkt.payload_caplen; i++)
		sum += pkt.payload[i];
	payload_sum = sum;

	/* What the rest of rstwatch relies on, beyond memory safety. */
	if (pkt.payload < frame || pkt.payload + pkt.payload_caplen > frame + (size - 1) ||
	    pkt.payload_caplen > pkt.payload_len || pkt.doff < 20 ||
	    (pkt.family != 4 && pkt.family != 6) ||
	    memchr(pkt.diag.text, '\0', sizeof(pkt.diag.text)) == NULL)
		__builtin_trap();
	if (strlen(tcp_flags_str(pkt.flags, flags)) >= sizeof(flags))
		__builtin_trap();
	/* Tunnels: within the nesting limit, named, with an outer IP header. */
	if (pkt.tunnel.depth > DECODE_MAX_TUNNELS || pkt.n_vlan > DECODE_MAX_VLANS ||
	    (pkt.tunnel.type != TUNNEL_NONE) != (pkt.tunnel.depth > 0) ||
	    (pkt.tunnel.type != TUNNEL_NONE) != (pkt.tunnel_zone != 0) ||
	    pkt.tunnel.type >= TUNNEL_TYPE_COUNT ||
	    (pkt.tunnel.depth && pkt.tunnel.family != 4 && pkt.tunnel.family != 6))
		__builtin_trap();
	return 0;
}
