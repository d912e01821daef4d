/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tunnels: TCP carried inside GRE (with ERSPAN and Aruba's 802.11), VXLAN and
 * Geneve, decoded as Zeek and Suricata do, so that a capture taken on a
 * mirror port, a tunnel endpoint or an overlay network still shows its
 * resets. The segment decoded is the innermost; the event names the outermost
 * tunnel (struct tunnel_info), and every layer feeds tunnel_zone, which keeps
 * flows of different tunnels apart. Every read is bounds-checked (bytes.h). */
#include <netinet/in.h>
#include <string.h>

#include "decode_internal.h"

#define GRE_FLAG_CSUM		0x8000
#define GRE_FLAG_ROUTING	0x4000	/* RFC 1701 source routing: long obsolete */
#define GRE_FLAG_KEY		0x2000
#define GRE_FLAG_SEQ		0x1000
#define GRE_VERSION_MASK	0x0007	/* 1 is PPTP's enhanced GRE, which carries PPP */
#define GRE_HLEN		4
#define GRE_OPT_LEN		4	/* checksum+reserved, key, sequence: 4 bytes each */

#define GRE_PROTO_IPV4		0x0800
#define GRE_PROTO_IPV6		0x86DD
#define GRE_PROTO_TEB		0x6558	/* transparent Ethernet bridging */
#define GRE_PROTO_ERSPAN_II	0x88BE	/* type I without, type II with a sequence number */
#define GRE_PROTO_ERSPAN_III	0x22EB
/* Aruba access points tunnel 802.11 frames to their controller with these
 * protocol types (Zeek's GRE analyzer and Wireshark's aruba_erm). */
#define GRE_PROTO_ARUBA_FIRST	0x8200
#define GRE_PROTO_ARUBA_LAST	0x8216

#define ERSPAN_II_HLEN		8
#define ERSPAN_III_HLEN		12
#define ERSPAN_III_PLATFORM_LEN	8	/* optional subheader, flag O */
#define ERSPAN_SESSION_MASK	0x03ff
#define ERSPAN_III_O_FLAG	0x01	/* last bit of byte 11 */
#define ERSPAN_III_FT_SHIFT	2	/* frame type, bits 1-5 of byte 10 (after P) */
#define ERSPAN_III_FT_MASK	0x1f
#define ERSPAN_III_FT_ETHERNET	0
#define ERSPAN_III_FT_IP	2

#define UDP_HLEN		8
#define UDP_PORT_VXLAN		4789
#define UDP_PORT_GENEVE		6081
#define VXLAN_HLEN		8
#define VXLAN_FLAG_VNI		0x08	/* I: the VNI is valid; RFC 7348 makes it mandatory */
#define GENEVE_HLEN		8
#define GENEVE_VERSION_SHIFT	6
#define GENEVE_OPTLEN_MASK	0x3f	/* in 4-byte words */

/* 802.11 data frames (Aruba GRE): frame control, duration, three addresses,
 * sequence control; a fourth address between two distribution systems, a QoS
 * field on QoS subtypes, an HT control field when the order bit says so. */
#define WLAN_HLEN		24
#define WLAN_ADDR4_LEN		6
#define WLAN_QOS_LEN		2
#define WLAN_HTC_LEN		4
#define WLAN_TYPE_DATA		2
#define WLAN_SUBTYPE_QOS	0x08
#define WLAN_SUBTYPE_NODATA	0x04	/* null and CF frames: no body */
#define WLAN_FLAG_TODS		0x01
#define WLAN_FLAG_FROMDS	0x02
#define WLAN_FLAG_PROTECTED	0x40	/* encrypted body */
#define WLAN_FLAG_ORDER		0x80

/* The bytes of the datagram from off to its end, as far as captured: a
 * tunnel's payload is judged against its own headers' lengths from here. */
static bool payload_of(const struct bytes *pkt, size_t off, size_t ip_end, struct bytes *out)
{
	size_t end = pkt->len < ip_end ? pkt->len : ip_end;

	return off <= end && bytes_sub(pkt, off, end - off, out);
}

static uint32_t zone_mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193;	/* FNV-1a's prime: enough for a 16-bit zone */
	return h ^ (h >> 15);
}

static uint32_t zone_addr(const uint8_t *a, size_t alen)
{
	uint32_t h = 0x811c9dc5, w;
	size_t i;

	for (i = 0; i < alen; i += 4) {
		memcpy(&w, a + i, 4);
		h = zone_mix(h, w);
	}
	return h;
}

/* One more tunnel layer around the segment. out->src/dst still hold this
 * layer's outer addresses. The zone is symmetric in the two addresses: both
 * directions of a tunnel carry one inner flow. */
static enum decode_result enter_tunnel(enum tunnel_type type, bool has_key, uint32_t key,
				       struct tcp_packet *out)
{
	size_t alen = out->family == 6 ? 16 : 4;
	uint32_t zone = out->tunnel_zone;

	if (out->tunnel.depth == DECODE_MAX_TUNNELS)
		return DECODE_MALFORMED;
	if (out->tunnel.depth == 0) {
		out->tunnel.type = (uint8_t)type;
		out->tunnel.family = out->family;
		out->tunnel.has_key = has_key;
		out->tunnel.key = key;
		memcpy(out->tunnel.src, out->src, sizeof(out->tunnel.src));
		memcpy(out->tunnel.dst, out->dst, sizeof(out->tunnel.dst));
	}
	out->tunnel.depth++;
	/* The inner IP header sets its own; an IPv6 one leaves these alone. */
	out->df = false;
	out->ipid = 0;
	zone = zone_mix(zone, (uint32_t)type << 8 | out->family);
	zone = zone_mix(zone, zone_addr(out->src, alen) + zone_addr(out->dst, alen));
	zone = zone_mix(zone, has_key ? key : 0);
	out->tunnel_zone = (uint16_t)(zone % 0xffff + 1);
	return DECODE_OK;
}

/* The rest of b after its first hlen bytes, or false if b is shorter. */
static bool after(const struct bytes *b, size_t hlen, struct bytes *rest)
{
	return hlen <= b->len && bytes_sub(b, hlen, b->len - hlen, rest);
}

/* An 802.11 data frame carrying 802.2 LLC/SNAP. */
static enum decode_result decode_wlan(const struct bytes *frame, struct tcp_packet *out)
{
	uint8_t fc0, fc1, subtype;
	size_t hlen = WLAN_HLEN;

	if (!get_u8(frame, 0, &fc0) || !get_u8(frame, 1, &fc1))
		return DECODE_TRUNCATED;
	subtype = fc0 >> 4;
	if (((fc0 >> 2) & 3) != WLAN_TYPE_DATA || (subtype & WLAN_SUBTYPE_NODATA) ||
	    (fc1 & WLAN_FLAG_PROTECTED))
		return DECODE_NOT_IP;	/* management, control, no body, or encrypted */
	if ((fc1 & (WLAN_FLAG_TODS | WLAN_FLAG_FROMDS)) == (WLAN_FLAG_TODS | WLAN_FLAG_FROMDS))
		hlen += WLAN_ADDR4_LEN;
	if (subtype & WLAN_SUBTYPE_QOS) {
		hlen += WLAN_QOS_LEN;
		if (fc1 & WLAN_FLAG_ORDER)
			hlen += WLAN_HTC_LEN;
	}
	return decode_llc(frame, hlen, out);
}

/* An ERSPAN type III header at the start of p: session id, then an Ethernet
 * frame or an IP packet after the optional platform subheader. */
static enum decode_result decode_erspan_iii(const struct bytes *p, struct tcp_packet *out)
{
	struct bytes inner;
	enum decode_result r;
	uint16_t session;
	uint8_t b10, b11, ft;
	size_t hlen = ERSPAN_III_HLEN;

	if (!get_be16(p, 2, &session) || !get_u8(p, 10, &b10) || !get_u8(p, 11, &b11))
		return DECODE_TRUNCATED;
	if (b11 & ERSPAN_III_O_FLAG)
		hlen += ERSPAN_III_PLATFORM_LEN;
	ft = (b10 >> ERSPAN_III_FT_SHIFT) & ERSPAN_III_FT_MASK;
	if (ft != ERSPAN_III_FT_ETHERNET && ft != ERSPAN_III_FT_IP)
		return DECODE_NOT_IP;
	r = enter_tunnel(TUNNEL_ERSPAN, true, session & ERSPAN_SESSION_MASK, out);
	if (r != DECODE_OK)
		return r;
	if (!after(p, hlen, &inner))
		return DECODE_TRUNCATED;
	return ft == ERSPAN_III_FT_IP ? decode_ip_view(&inner, 0, out) : decode_ethernet(&inner, out);
}

static enum decode_result decode_gre(const struct bytes *gre, struct tcp_packet *out)
{
	struct bytes inner;
	enum decode_result r;
	uint16_t flags, proto, session;
	uint32_t key = 0;
	size_t hlen = GRE_HLEN;

	if (!get_be16(gre, 0, &flags) || !get_be16(gre, 2, &proto))
		return DECODE_TRUNCATED;
	if ((flags & GRE_VERSION_MASK) || (flags & GRE_FLAG_ROUTING))
		return DECODE_NOT_TCP;	/* PPTP's PPP, or a source route we do not follow */
	if (flags & GRE_FLAG_CSUM)
		hlen += GRE_OPT_LEN;
	if ((flags & GRE_FLAG_KEY) && !get_be32(gre, hlen, &key))
		return DECODE_TRUNCATED;
	if (flags & GRE_FLAG_KEY)
		hlen += GRE_OPT_LEN;
	if (flags & GRE_FLAG_SEQ)
		hlen += GRE_OPT_LEN;
	if (!after(gre, hlen, &inner))
		return DECODE_TRUNCATED;

	switch (proto) {
	case GRE_PROTO_ERSPAN_III:
		return decode_erspan_iii(&inner, out);
	case GRE_PROTO_ERSPAN_II:
		if (!(flags & GRE_FLAG_SEQ)) {
			/* Type I: the mirrored frame follows the GRE header. */
			r = enter_tunnel(TUNNEL_ERSPAN, false, 0, out);
			return r != DECODE_OK ? r : decode_ethernet(&inner, out);
		}
		if (!get_be16(&inner, 2, &session))
			return DECODE_TRUNCATED;
		r = enter_tunnel(TUNNEL_ERSPAN, true, session & ERSPAN_SESSION_MASK, out);
		if (r != DECODE_OK)
			return r;
		if (!after(&inner, ERSPAN_II_HLEN, &inner))
			return DECODE_TRUNCATED;
		return decode_ethernet(&inner, out);
	default:
		break;
	}
	r = enter_tunnel(TUNNEL_GRE, flags & GRE_FLAG_KEY, key, out);
	if (r != DECODE_OK)
		return r;
	switch (proto) {
	case GRE_PROTO_IPV4:
		return decode_ip_view(&inner, 4, out);
	case GRE_PROTO_IPV6:
		return decode_ip_view(&inner, 6, out);
	case GRE_PROTO_TEB:
		return decode_ethernet(&inner, out);
	default:
		if (proto >= GRE_PROTO_ARUBA_FIRST && proto <= GRE_PROTO_ARUBA_LAST)
			return decode_wlan(&inner, out);
		return DECODE_NOT_IP;
	}
}

/* A UDP datagram: VXLAN or Geneve by destination port (as Suricata and
 * Zeek's defaults), anything else is simply not TCP. */
static enum decode_result decode_udp(const struct bytes *udp, struct tcp_packet *out)
{
	struct bytes hdr, inner;
	enum decode_result r;
	uint16_t dport, proto;
	uint32_t vni;
	uint8_t b0;
	size_t hlen;

	if (!get_be16(udp, 2, &dport))
		return DECODE_TRUNCATED;
	if (dport != UDP_PORT_VXLAN && dport != UDP_PORT_GENEVE)
		return DECODE_NOT_TCP;
	if (!after(udp, UDP_HLEN, &hdr) || !get_be32(&hdr, 4, &vni) || !get_u8(&hdr, 0, &b0))
		return DECODE_TRUNCATED;
	vni >>= 8;
	if (dport == UDP_PORT_VXLAN) {
		if (!(b0 & VXLAN_FLAG_VNI))
			return DECODE_NOT_TCP;	/* not VXLAN after all */
		r = enter_tunnel(TUNNEL_VXLAN, true, vni, out);
		if (r != DECODE_OK)
			return r;
		return after(&hdr, VXLAN_HLEN, &inner) ? decode_ethernet(&inner, out)
						       : DECODE_TRUNCATED;
	}
	if (b0 >> GENEVE_VERSION_SHIFT)
		return DECODE_NOT_TCP;		/* only version 0 exists */
	hlen = GENEVE_HLEN + (size_t)(b0 & GENEVE_OPTLEN_MASK) * 4;
	if (!get_be16(&hdr, 2, &proto))
		return DECODE_TRUNCATED;
	r = enter_tunnel(TUNNEL_GENEVE, true, vni, out);
	if (r != DECODE_OK)
		return r;
	if (!after(&hdr, hlen, &inner))
		return DECODE_TRUNCATED;
	switch (proto) {
	case GRE_PROTO_TEB:
		return decode_ethernet(&inner, out);
	case GRE_PROTO_IPV4:
		return decode_ip_view(&inner, 4, out);
	case GRE_PROTO_IPV6:
		return decode_ip_view(&inner, 6, out);
	default:
		return DECODE_NOT_IP;
	}
}

enum decode_result decode_ip_tunnel(const struct bytes *pkt, size_t off, size_t ip_end,
				    uint8_t proto, struct tcp_packet *out)
{
	struct bytes payload;
	enum decode_result r;

	if (proto != IPPROTO_GRE && proto != IPPROTO_UDP)
		return DECODE_NOT_TCP;
	/* The fixed header must fit in what the outer datagram claims. */
	r = header_at(pkt, ip_end, off, proto == IPPROTO_GRE ? GRE_HLEN : UDP_HLEN, &payload);
	if (r != DECODE_OK)
		return r;
	if (!payload_of(pkt, off, ip_end, &payload))
		return DECODE_TRUNCATED;
	return proto == IPPROTO_GRE ? decode_gre(&payload, out) : decode_udp(&payload, out);
}

const char *tunnel_type_name(enum tunnel_type t)
{
	static const char *const names[TUNNEL_TYPE_COUNT] = {
		[TUNNEL_NONE] = "none",
		[TUNNEL_GRE] = "gre",
		[TUNNEL_ERSPAN] = "erspan",
		[TUNNEL_VXLAN] = "vxlan",
		[TUNNEL_GENEVE] = "geneve",
	};

	return (unsigned int)t < TUNNEL_TYPE_COUNT ? names[t] : "invalid";
}
