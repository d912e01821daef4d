/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What src/decode.c and src/decode_tunnel.c share: a tunnel's payload is
 * decoded again from its own first layer (Ethernet, 802.2 LLC or IP) by the
 * same functions as the capture's outer frame. Not for the rest of rstwatch. */
#ifndef RSTWATCH_DECODE_INTERNAL_H
#define RSTWATCH_DECODE_INTERNAL_H

#include "bytes.h"
#include "decode.h"

/* A view of the len bytes of a header at off inside a datagram whose header
 * claims ip_end bytes, of which pkt holds what the capture kept: MALFORMED if
 * the claim cannot hold it, TRUNCATED if the capture does not. */
enum decode_result header_at(const struct bytes *pkt, size_t ip_end, size_t off, size_t len,
			     struct bytes *hdr);

/* An IP packet; family 4 or 6 if the layer below announced one, else 0. */
enum decode_result decode_ip_view(const struct bytes *pkt, int family, struct tcp_packet *out);

/* An Ethernet II / 802.3 frame (with VLAN tags). */
enum decode_result decode_ethernet(const struct bytes *frame, struct tcp_packet *out);

/* An 802.2 LLC header at off of frame: SNAP with an ethertype, or not IP. */
enum decode_result decode_llc(const struct bytes *frame, size_t off, struct tcp_packet *out);

/* The transport proto of an IP datagram, at off of pkt (claimed end ip_end),
 * is not TCP: decode the tunnel it may be (GRE, VXLAN, Geneve), else NOT_TCP.
 * out holds the outer IP header's fields. */
enum decode_result decode_ip_tunnel(const struct bytes *pkt, size_t off, size_t ip_end,
				    uint8_t proto, struct tcp_packet *out);

#endif
