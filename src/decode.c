/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bounds-checked decoding of a captured frame down to one TCP segment.
 *
 * Two lengths matter for every header: what the IP header claims (the datagram
 * the sender sent) and what the capture holds (a snaplen or an NFQUEUE copy
 * range may cut it short). A header that does not fit in the claimed datagram
 * is MALFORMED; one that fits but is cut by the capture is TRUNCATED. A prefix
 * of a valid packet is therefore never MALFORMED, only TRUNCATED or OK. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "decode.h"
#include "decode_internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86DD
#define ETHERTYPE_8021Q		0x8100
#define ETHERTYPE_8021AD	0x88A8
#define ETHERTYPE_QINQ_LEGACY	0x9100	/* pre-802.1ad vendor QinQ */
#define VLAN_VID_MASK		0x0fff
/* A type field up to this value is an IEEE 802.3 length: an 802.2 LLC header follows. */
#define ETH_MAX_LENGTH		1500
/* Linux cooked captures say ETH_P_802_2 for frames that start with an LLC header. */
#define SLL_PROTO_802_2		0x0004
/* Real networks stack two or three tags; more is a crafted frame. */
#define VLAN_MAX_TAGS		8

#define ETH_TYPE_OFF		12
#define ETH_HLEN		14
#define SLL_HLEN		16
#define SLL_PROTO_OFF		14
#define SLL2_HLEN		20
#define SLL2_PROTO_OFF		0
#define SLL_PKTTYPE_OFF		0	/* v1: 16 bits */
#define SLL2_IFINDEX_OFF	4	/* v2: 32 bits */
#define SLL2_PKTTYPE_OFF	10	/* v2: 8 bits */
#define SLL_OUTGOING		4	/* PACKET_OUTGOING: sent by the capturing host */
#define LOOPBACK_HLEN		4
/* FDDI (LINKTYPE_FDDI): frame control, 6-byte destination, 6-byte source. */
#define FDDI_HLEN		13
#define FDDI_FC_FORMAT		0x30	/* the FF bits of FC = CLFFZZZZ */
#define FDDI_FC_LLC		0x10	/* FF = 01: an LLC frame (asynchronous or synchronous) */

/* 802.2 LLC with a SNAP header (RFC 1042): DSAP AA, SSAP AA, control UI (03),
 * a 3-byte OUI, then a 2-byte ethertype. */
#define LLC_SAP_SNAP		0xaa
#define LLC_CTRL_UI		0x03
#define SNAP_OUI_OFF		3
#define SNAP_TYPE_OFF		6
#define LLC_SNAP_HLEN		8
#define SNAP_OUI_ETHERTYPE	0x000000	/* RFC 1042 encapsulated Ethernet */
#define SNAP_OUI_BRIDGE_TUNNEL	0x0000f8	/* 802.1H: also an ethertype */

/* Address family numbers a NULL/LOOP header may carry, by the OS that wrote it. */
#define BSD_AF_INET		2
#define LINUX_AF_INET6		10
#define OPENBSD_AF_INET6	24	/* also NetBSD */
#define FREEBSD_AF_INET6	28
#define DARWIN_AF_INET6		30

#define IPV4_MIN_HLEN		20
#define IPV4_DF			0x4000
#define IPV4_FRAG_OFFSET	0x1fff
#define IPV6_HLEN		40
#define IPV6_FRAG_OFFSET	0xfff8
/* RFC 8200 chains hold a handful of headers; a longer chain is an attack on
 * the parser (the "extension header loop"), not traffic. */
#define IPV6_MAX_EXT_HEADERS	16

#define TCP_MIN_HLEN		20

#define TCPOPT_EOL		0
#define TCPOPT_NOP		1
#define TCPOPT_MSS		2
#define TCPOPT_WSCALE		3
#define TCPOPT_SACK_PERMITTED	4
#define TCPOPT_SACK		5
#define TCPOPT_TIMESTAMPS	8
#define TCPOPT_MD5		19
#define TCPOPT_AO		29

#define TCPOLEN_MSS		4
#define TCPOLEN_WSCALE		3
#define TCPOLEN_SACK_PERMITTED	2
#define TCPOLEN_SACK_BLOCK	8
#define TCPOLEN_TIMESTAMPS	10
#define TCPOLEN_MD5		18
#define TCPOLEN_AO_MIN		4	/* kind, length, KeyID, RNextKeyID */

/* Field readers for a view whose length was already checked (bytes_sub
 * succeeded for the whole header). Should an offset here ever be wrong, the
 * accessor refuses and the field reads as 0: never memory we do not own. */
static uint8_t u8_at(const struct bytes *b, size_t off)
{
	uint8_t v = 0;

	get_u8(b, off, &v);
	return v;
}

static uint16_t be16_at(const struct bytes *b, size_t off)
{
	uint16_t v = 0;

	get_be16(b, off, &v);
	return v;
}

static uint32_t be32_at(const struct bytes *b, size_t off)
{
	uint32_t v = 0;

	get_be32(b, off, &v);
	return v;
}

static void copy_addr(uint8_t *dst, const struct bytes *hdr, size_t off, size_t len)
{
	struct bytes addr;

	if (bytes_sub(hdr, off, len, &addr))
		memcpy(dst, addr.p, addr.len);
}

enum decode_result header_at(const struct bytes *pkt, size_t ip_end, size_t off, size_t len,
			     struct bytes *hdr)
{
	if (off > ip_end || len > ip_end - off)
		return DECODE_MALFORMED;
	if (!bytes_sub(pkt, off, len, hdr))
		return DECODE_TRUNCATED;
	return DECODE_OK;
}

static void decode_tcp_options(const struct bytes *opts, struct tcp_options *opt)
{
	size_t off = 0;
	uint8_t kind, len;

	while (get_u8(opts, off, &kind) && kind != TCPOPT_EOL) {
		struct bytes o;
		bool len_ok;

		if (kind == TCPOPT_NOP) {
			off++;
			continue;
		}
		/* A length that cannot advance, or an option that does not fit,
		 * leaves no trustworthy boundary for what follows: stop there,
		 * as Linux's tcp_parse_options does, but keep the segment. */
		if (!get_u8(opts, off + 1, &len) || len < 2 || !bytes_sub(opts, off, len, &o)) {
			opt->malformed = true;
			return;
		}
		switch (kind) {
		case TCPOPT_MSS:
			len_ok = len == TCPOLEN_MSS;
			if (len_ok) {
				opt->has_mss = true;
				opt->mss = be16_at(&o, 2);
			}
			break;
		case TCPOPT_WSCALE:
			len_ok = len == TCPOLEN_WSCALE;
			if (len_ok) {
				opt->has_wscale = true;
				opt->wscale = u8_at(&o, 2);
			}
			break;
		case TCPOPT_SACK_PERMITTED:
			len_ok = len == TCPOLEN_SACK_PERMITTED;
			if (len_ok)
				opt->sack_permitted = true;
			break;
		case TCPOPT_SACK:
			len_ok = len > 2 && (len - 2) % TCPOLEN_SACK_BLOCK == 0;
			if (len_ok)
				opt->sack_blocks = (uint8_t)((len - 2) / TCPOLEN_SACK_BLOCK);
			break;
		case TCPOPT_TIMESTAMPS:
			len_ok = len == TCPOLEN_TIMESTAMPS;
			if (len_ok) {
				opt->has_timestamps = true;
				opt->tsval = be32_at(&o, 2);
				opt->tsecr = be32_at(&o, 6);
			}
			break;
		case TCPOPT_MD5:
			len_ok = len == TCPOLEN_MD5;
			if (len_ok)
				opt->has_md5 = true;
			break;
		case TCPOPT_AO:
			len_ok = len >= TCPOLEN_AO_MIN;
			if (len_ok)
				opt->has_ao = true;
			break;
		default:
			len_ok = true;
			break;
		}
		if (!len_ok)
			opt->malformed = true;
		off += len;
	}
}

/* Reset diagnostic payload, as specified by draft-ietf-tcpm-rst-diagnostic-payload-01
 * (April 2026; same layout as draft-boucadair-tcpm-rst-diagnostic-payload-17),
 * Section 4.1:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      magic 0x33AA             |          reason-code          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                     pen (Private Enterprise Number)           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * SEG.LEN must be exactly 8 and reason-code 0 is reserved; anything else with
 * the magic is malformed and must be ignored (Section 4.2). pen 0 means the
 * code comes from the IANA "TCP Failure Causes" registry; another pen names the
 * vendor whose registry defines it. The payload carries no text: for pen 0 we
 * fill the registry's description (the draft's Table 2). Earlier revisions used
 * CBOR (up to -15) and a 0xF317 free-text format (-16 only); both were dropped
 * from the draft and are not decoded.
 * https://datatracker.ietf.org/doc/draft-ietf-tcpm-rst-diagnostic-payload/ */
#define RST_DIAG_MAGIC		0x33AA
#define RST_DIAG_LEN		8

static const char *const tcp_failure_causes[] = {
	[1] = "Illegal option length",
	[2] = "Desynchronized state",
	[3] = "New data is received after CLOSE is called",
	[4] = "ABORT process",
	/* Table 2 says "... received by non-synchronized state connection",
	 * longer than struct rst_diag's text holds. */
	[5] = "Unexpected ACK in non-synchronized state",
	[6] = "Unexpected SYN in the window",
	[7] = "Unexpected security compartment",
	[8] = "Malformed message",
	[9] = "Not authorized",
	[10] = "Resource exceeded",
	[11] = "Network failure",
	[12] = "Reset received from the peer",
	[13] = "Destination unreachable",
	[14] = "Connection timeout",
	[15] = "Too much outstanding data",
	[16] = "Unacceptable performance",
	[17] = "Middlebox interference",
};

static void decode_rst_diag(const struct bytes *payload, struct tcp_packet *out)
{
	struct bytes d;
	uint16_t reason;
	uint32_t pen;

	if (!(out->flags & TCPF_RST) || tcp_seg_len(out) != RST_DIAG_LEN ||
	    !bytes_sub(payload, 0, RST_DIAG_LEN, &d) || be16_at(&d, 0) != RST_DIAG_MAGIC)
		return;
	reason = be16_at(&d, 2);
	if (reason == 0)
		return;
	pen = be32_at(&d, 4);
	out->diag.present = true;
	out->diag.reason = reason;
	out->diag.vendor = pen;
	if (pen == 0 && reason < ARRAY_SIZE(tcp_failure_causes) && tcp_failure_causes[reason])
		snprintf(out->diag.text, sizeof(out->diag.text), "%s", tcp_failure_causes[reason]);
}

/* The TCP segment at off of a datagram whose header claims ip_end bytes. */
static enum decode_result decode_tcp(const struct bytes *pkt, size_t off, size_t ip_end,
				     struct tcp_packet *out)
{
	struct bytes th, opts, payload;
	enum decode_result r;
	size_t doff, payload_off, cap_end;

	r = header_at(pkt, ip_end, off, TCP_MIN_HLEN, &th);
	if (r != DECODE_OK)
		return r;
	out->sport = be16_at(&th, 0);
	out->dport = be16_at(&th, 2);
	out->seq = be32_at(&th, 4);
	out->ack = be32_at(&th, 8);
	doff = (size_t)(u8_at(&th, 12) >> 4) * 4;
	out->flags = u8_at(&th, 13);
	out->window = be16_at(&th, 14);
	out->urgent = be16_at(&th, 18);
	out->doff = (uint8_t)doff;
	if (doff < TCP_MIN_HLEN)
		return DECODE_MALFORMED;
	r = header_at(pkt, ip_end, off, doff, &th);
	if (r != DECODE_OK)
		return r;
	if (bytes_sub(&th, TCP_MIN_HLEN, doff - TCP_MIN_HLEN, &opts))
		decode_tcp_options(&opts, &out->opt);

	/* Ethernet pads short frames: bytes past the claimed datagram are not payload. */
	payload_off = off + doff;
	cap_end = pkt->len < ip_end ? pkt->len : ip_end;
	out->payload_len = (uint32_t)(ip_end - payload_off);
	if (bytes_sub(pkt, payload_off, cap_end - payload_off, &payload)) {
		out->payload = payload.p;
		out->payload_caplen = (uint32_t)payload.len;
		decode_rst_diag(&payload, out);
	}
	return DECODE_OK;
}

static enum decode_result decode_ipv4(const struct bytes *pkt, struct tcp_packet *out)
{
	struct bytes hdr;
	size_t ihl, total_len;
	uint16_t frag;

	ihl = (size_t)(u8_at(pkt, 0) & 0x0f) * 4;
	if (ihl < IPV4_MIN_HLEN)
		return DECODE_MALFORMED;
	if (!bytes_sub(pkt, 0, ihl, &hdr))
		return DECODE_TRUNCATED;
	total_len = be16_at(&hdr, 2);
	if (total_len < ihl)
		return DECODE_MALFORMED;

	out->family = 4;
	out->tos = u8_at(&hdr, 1);
	out->ip_len = (uint32_t)total_len;
	out->ipid = be16_at(&hdr, 4);
	frag = be16_at(&hdr, 6);
	out->df = frag & IPV4_DF;
	out->ttl = u8_at(&hdr, 8);
	copy_addr(out->src, &hdr, 12, 4);
	copy_addr(out->dst, &hdr, 16, 4);

	/* A first fragment (MF set, offset 0) holds the TCP header: decode it. */
	if (frag & IPV4_FRAG_OFFSET)
		return DECODE_FRAGMENT;
	if (u8_at(&hdr, 9) != IPPROTO_TCP)
		return decode_ip_tunnel(pkt, ihl, total_len, u8_at(&hdr, 9), out);
	return decode_tcp(pkt, ihl, total_len, out);
}

/* Length of an IPv6 extension header from the length byte in its second octet. */
static size_t ipv6_ext_len(uint8_t type, uint8_t len_field)
{
	if (type == IPPROTO_FRAGMENT)
		return 8;				/* fixed; that octet is reserved */
	if (type == IPPROTO_AH)
		return ((size_t)len_field + 2) * 4;	/* RFC 4302: 32-bit words, minus 2 */
	return ((size_t)len_field + 1) * 8;		/* RFC 8200: 8-octet units, minus 1 */
}

static enum decode_result decode_ipv6(const struct bytes *pkt, struct tcp_packet *out)
{
	struct bytes hdr, ext;
	enum decode_result r;
	size_t ip_end, off, ext_len;
	unsigned int n_ext;
	uint16_t payload_len;
	uint8_t next;

	if (!bytes_sub(pkt, 0, IPV6_HLEN, &hdr))
		return DECODE_TRUNCATED;
	payload_len = be16_at(&hdr, 4);
	next = u8_at(&hdr, 6);
	out->family = 6;
	out->tos = (uint8_t)(be32_at(&hdr, 0) >> 20);
	out->ttl = u8_at(&hdr, 7);
	out->ip_len = IPV6_HLEN + (uint32_t)payload_len;
	copy_addr(out->src, &hdr, 8, 16);
	copy_addr(out->dst, &hdr, 24, 16);

	/* Payload length 0 behind a hop-by-hop header announces a jumbogram
	 * (RFC 2675), whose length hides in an option: not decoded. */
	if (payload_len == 0 && next == IPPROTO_HOPOPTS)
		return DECODE_MALFORMED;

	ip_end = IPV6_HLEN + (size_t)payload_len;
	off = IPV6_HLEN;
	for (n_ext = 0; next != IPPROTO_TCP; n_ext++) {
		if (n_ext == IPV6_MAX_EXT_HEADERS)
			return DECODE_MALFORMED;
		switch (next) {
		case IPPROTO_HOPOPTS:
			if (n_ext != 0)
				return DECODE_MALFORMED;	/* RFC 8200 4.1: first or nowhere */
			break;
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_FRAGMENT:
		case IPPROTO_AH:
			break;
		default:
			/* ESP, no next header, ICMPv6, an extension header
			 * whose layout we cannot know, or a tunnel (GRE, UDP). */
			return decode_ip_tunnel(pkt, off, ip_end, next, out);
		}
		r = header_at(pkt, ip_end, off, 2, &ext);
		if (r != DECODE_OK)
			return r;
		ext_len = ipv6_ext_len(next, u8_at(&ext, 1));
		r = header_at(pkt, ip_end, off, ext_len, &ext);
		if (r != DECODE_OK)
			return r;
		/* A first fragment (offset 0) holds the TCP header: go on. */
		if (next == IPPROTO_FRAGMENT && (be16_at(&ext, 2) & IPV6_FRAG_OFFSET))
			return DECODE_FRAGMENT;
		next = u8_at(&ext, 0);
		off += ext_len;
	}
	return decode_tcp(pkt, off, ip_end, out);
}

/* family is what the link layer announced (4 or 6), or 0 when only the
 * version nibble can tell. out arrives zeroed. */
enum decode_result decode_ip_view(const struct bytes *pkt, int family, struct tcp_packet *out)
{
	uint8_t version;

	if (!get_u8(pkt, 0, &version))
		return DECODE_TRUNCATED;
	version >>= 4;
	if (family != 0 && version != family)
		return DECODE_MALFORMED;
	if (version == 4)
		return decode_ipv4(pkt, out);
	if (version == 6)
		return decode_ipv6(pkt, out);
	return DECODE_NOT_IP;
}

/* The IP packet behind a link header of hlen bytes. */
static enum decode_result decode_link_payload(const struct bytes *frame, size_t hlen, int family,
					      struct tcp_packet *out)
{
	struct bytes pkt;

	if (hlen > frame->len || !bytes_sub(frame, hlen, frame->len - hlen, &pkt))
		return DECODE_TRUNCATED;
	return decode_ip_view(&pkt, family, out);
}

enum decode_result decode_ip(const uint8_t *buf, size_t caplen, struct tcp_packet *out)
{
	struct bytes pkt = { .p = buf, .len = caplen };

	memset(out, 0, sizeof(*out));
	return decode_ip_view(&pkt, 0, out);
}

static bool is_vlan_tpid(uint16_t ethertype)
{
	return ethertype == ETHERTYPE_8021Q || ethertype == ETHERTYPE_8021AD ||
	       ethertype == ETHERTYPE_QINQ_LEGACY;
}

/* An 802.2 LLC header at off. Only SNAP with an ethertype OUI can carry IP;
 * any other LLC frame (spanning tree, NetBIOS, IPX over 802.2...) is not IP.
 * Each byte is checked as it is read, so a cut header is TRUNCATED. */
enum decode_result decode_llc(const struct bytes *frame, size_t off, struct tcp_packet *out)
{
	static const uint8_t snap_llc[SNAP_OUI_OFF] = { LLC_SAP_SNAP, LLC_SAP_SNAP, LLC_CTRL_UI };
	uint32_t oui = 0;
	uint16_t ethertype;
	uint8_t b;
	size_t i;

	for (i = 0; i < SNAP_TYPE_OFF; i++) {
		if (!get_u8(frame, off + i, &b))
			return DECODE_TRUNCATED;
		if (i < SNAP_OUI_OFF && b != snap_llc[i])
			return DECODE_NOT_IP;	/* DSAP, SSAP or control of another protocol */
		if (i >= SNAP_OUI_OFF)
			oui = oui << 8 | b;
	}
	if (oui != SNAP_OUI_ETHERTYPE && oui != SNAP_OUI_BRIDGE_TUNNEL)
		return DECODE_NOT_IP;
	if (!get_be16(frame, off + SNAP_TYPE_OFF, &ethertype))
		return DECODE_TRUNCATED;
	/* No VLAN tag or nested LLC behind SNAP: IP or nothing. */
	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return decode_link_payload(frame, off + LLC_SNAP_HLEN, 4, out);
	case ETHERTYPE_IPV6:
		return decode_link_payload(frame, off + LLC_SNAP_HLEN, 6, out);
	default:
		return DECODE_NOT_IP;
	}
}

/* How to read a type field that is not an ethertype we decode. */
enum type_field {
	TYPE_ETHERNET,	/* Ethernet II / 802.3: up to 1500 is a length, LLC follows */
	TYPE_SLL,	/* Linux cooked: ETH_P_802_2 says LLC follows */
};

/* A link header whose ethertype sits at type_off and whose payload starts at
 * payload_off: Ethernet, and the cooked headers, which may carry tags too. */
static enum decode_result decode_ethertype(const struct bytes *frame, size_t type_off,
					   size_t payload_off, enum type_field kind,
					   struct tcp_packet *out)
{
	uint16_t ethertype;
	unsigned int n_tags;
	struct bytes tag;

	if (!get_be16(frame, type_off, &ethertype))
		return DECODE_TRUNCATED;
	for (n_tags = 0; is_vlan_tpid(ethertype); n_tags++) {
		if (n_tags == VLAN_MAX_TAGS)
			return DECODE_MALFORMED;
		if (!bytes_sub(frame, payload_off, 4, &tag))
			return DECODE_TRUNCATED;
		if (out->n_vlan < DECODE_MAX_VLANS)
			out->vlan[out->n_vlan++] = be16_at(&tag, 0) & VLAN_VID_MASK;
		ethertype = be16_at(&tag, 2);
		payload_off += 4;
	}
	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return decode_link_payload(frame, payload_off, 4, out);
	case ETHERTYPE_IPV6:
		return decode_link_payload(frame, payload_off, 6, out);
	default:
		break;
	}
	/* The field after an 802.1Q tag is an Ethernet length/type field,
	 * whatever header carried the tag. */
	if ((kind == TYPE_ETHERNET || n_tags > 0) && ethertype <= ETH_MAX_LENGTH)
		return decode_llc(frame, payload_off, out);
	if (kind == TYPE_SLL && n_tags == 0 && ethertype == SLL_PROTO_802_2)
		return decode_llc(frame, payload_off, out);
	return DECODE_NOT_IP;
}

enum decode_result decode_ethernet(const struct bytes *frame, struct tcp_packet *out)
{
	return decode_ethertype(frame, ETH_TYPE_OFF, ETH_HLEN, TYPE_ETHERNET, out);
}

/* FDDI: only LLC frames carry IP; MAC and SMT frames do not. The 13-byte
 * header is the 48-bit address form, the only one pcap files hold. */
static enum decode_result decode_fddi(const struct bytes *frame, struct tcp_packet *out)
{
	uint8_t fc;

	if (!get_u8(frame, 0, &fc))
		return DECODE_TRUNCATED;
	if ((fc & FDDI_FC_FORMAT) != FDDI_FC_LLC)
		return DECODE_NOT_IP;
	return decode_llc(frame, FDDI_HLEN, out);
}

static int family_of_af(uint32_t af)
{
	switch (af) {
	case BSD_AF_INET:
		return 4;
	case LINUX_AF_INET6:
	case OPENBSD_AF_INET6:
	case FREEBSD_AF_INET6:
	case DARWIN_AF_INET6:
		return 6;
	default:
		return 0;
	}
}

/* BSD loopback: the AF is in the writer's byte order for NULL, in network
 * order for LOOP. The small AF values cannot be confused once swapped. */
static enum decode_result decode_loopback(const struct bytes *frame, bool network_order,
					  struct tcp_packet *out)
{
	uint32_t af_be, af_le;
	int family;

	if (!get_be32(frame, 0, &af_be) || !get_le32(frame, 0, &af_le))
		return DECODE_TRUNCATED;
	family = family_of_af(af_be);
	if (family == 0 && !network_order)
		family = family_of_af(af_le);
	if (family == 0)
		return DECODE_NOT_IP;
	return decode_link_payload(frame, LOOPBACK_HLEN, family, out);
}

/* A Linux cooked header's packet type: the host's own outgoing packets, or
 * what it received (for it, broadcast, multicast, or another host's). */
static void cooked_dir(const struct bytes *frame, bool v2, struct tcp_packet *out)
{
	uint16_t t16;
	uint8_t t8;
	uint32_t ifindex;

	if (v2) {
		if (get_u8(frame, SLL2_PKTTYPE_OFF, &t8))
			out->link_dir = t8 == SLL_OUTGOING ? LINK_DIR_OUT : LINK_DIR_IN;
		if (get_be32(frame, SLL2_IFINDEX_OFF, &ifindex))
			out->link_ifindex = ifindex;
	} else if (get_be16(frame, SLL_PKTTYPE_OFF, &t16)) {
		out->link_dir = t16 == SLL_OUTGOING ? LINK_DIR_OUT : LINK_DIR_IN;
	}
}

enum decode_result decode_frame(int linktype, const uint8_t *buf, size_t caplen,
				struct tcp_packet *out)
{
	struct bytes frame = { .p = buf, .len = caplen };

	memset(out, 0, sizeof(*out));
	if (linktype == LINK_SLL || linktype == LINK_SLL2)
		cooked_dir(&frame, linktype == LINK_SLL2, out);
	switch (linktype) {
	case LINK_ETHERNET:
		return decode_ethernet(&frame, out);
	case LINK_FDDI:
		return decode_fddi(&frame, out);
	case LINK_SLL:
		return decode_ethertype(&frame, SLL_PROTO_OFF, SLL_HLEN, TYPE_SLL, out);
	case LINK_SLL2:
		return decode_ethertype(&frame, SLL2_PROTO_OFF, SLL2_HLEN, TYPE_SLL, out);
	case LINK_NULL:
		return decode_loopback(&frame, false, out);
	case LINK_LOOP:
		return decode_loopback(&frame, true, out);
	case LINK_RAW:
		return decode_ip_view(&frame, 0, out);
	case LINK_IPV4:
		return decode_ip_view(&frame, 4, out);
	case LINK_IPV6:
		return decode_ip_view(&frame, 6, out);
	default:
		return DECODE_LINKTYPE;
	}
}

const char *decode_result_name(enum decode_result r)
{
	static const char *const names[DECODE_RESULT_COUNT] = {
		[DECODE_OK] = "ok",
		[DECODE_NOT_IP] = "not-ip",
		[DECODE_NOT_TCP] = "not-tcp",
		[DECODE_FRAGMENT] = "fragment",
		[DECODE_TRUNCATED] = "truncated",
		[DECODE_MALFORMED] = "malformed",
		[DECODE_LINKTYPE] = "unknown-linktype",
	};

	if ((unsigned int)r >= DECODE_RESULT_COUNT)
		return "invalid";
	return names[r];
}

const char *tcp_flags_str(uint8_t flags, char *buf)
{
	static const char letters[] = "FSRPAUEC";	/* bit 0 (FIN) to bit 7 (CWR) */
	size_t i, n = 0;

	if (flags == 0)
		return strcpy(buf, "none");
	for (i = 0; i < 8; i++)
		if (flags & (1u << i))
			buf[n++] = letters[i];
	buf[n] = '\0';
	return buf;
}

uint32_t tcp_seg_len(const struct tcp_packet *p)
{
	return p->payload_len + !!(p->flags & TCPF_SYN) + !!(p->flags & TCPF_FIN);
}
