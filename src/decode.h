/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bounds-checked decoding of a captured frame down to one TCP segment.
 *
 * Every field is read through the accessors of src/bytes.h, so a truncated or
 * malformed packet yields a decode_result, never an out-of-bounds read. The
 * decoder is pure: no I/O, no allocation, shared by the live and offline paths. */
#ifndef RSTWATCH_DECODE_H
#define RSTWATCH_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum decode_result {
	DECODE_OK = 0,
	DECODE_NOT_IP,     /* link payload is not IPv4 or IPv6 */
	DECODE_NOT_TCP,    /* IP, but the transport is not TCP (ESP, no-next-header, UDP...) */
	DECODE_FRAGMENT,   /* a non-first fragment: there is no TCP header to read */
	DECODE_TRUNCATED,  /* the capture ends before the headers do */
	DECODE_MALFORMED,  /* header fields contradict themselves (IHL < 5, doff < 5, ext loop) */
	DECODE_LINKTYPE,   /* a link type this decoder does not know */
	DECODE_RESULT_COUNT
};

/* Link types we decode (values are the pcap LINKTYPE_* numbers). */
enum link_type {
	LINK_NULL = 0,      /* BSD loopback: 4-byte host-order AF */
	LINK_ETHERNET = 1,  /* with 802.1Q / 802.1ad / QinQ tags; 802.3 + LLC/SNAP */
	LINK_FDDI = 10,     /* FDDI: FC, dst, src, then 802.2 LLC/SNAP */
	LINK_RAW = 101,     /* raw IPv4 or IPv6 */
	LINK_LOOP = 108,    /* OpenBSD loopback: 4-byte network-order AF */
	LINK_SLL = 113,     /* Linux cooked v1 */
	LINK_IPV4 = 228,
	LINK_IPV6 = 229,
	LINK_SLL2 = 276,    /* Linux cooked v2 */
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80

/* Encapsulations decoded to reach the TCP segment inside (src/decode_tunnel.c). */
enum tunnel_type {
	TUNNEL_NONE = 0,
	TUNNEL_GRE,        /* GRE (RFC 2784/2890): IP or Ethernet (0x6558), Aruba 802.11 */
	TUNNEL_ERSPAN,     /* ERSPAN type I, II (GRE 0x88BE) or III (GRE 0x22EB) */
	TUNNEL_VXLAN,      /* UDP port 4789 (RFC 7348) */
	TUNNEL_GENEVE,     /* UDP port 6081 (RFC 8926) */
	TUNNEL_TYPE_COUNT
};

/* Tunnels inside tunnels up to this depth; one more is a crafted packet. */
#define DECODE_MAX_TUNNELS 3
/* VLAN tags kept per packet (Ethernet headers stack up to 8 each). */
#define DECODE_MAX_VLANS 8

struct tunnel_info {
	uint8_t type;           /* enum tunnel_type; TUNNEL_NONE: not tunnelled */
	uint8_t family;         /* of the outer IP header: 4 or 6 */
	uint8_t depth;          /* tunnel layers around the segment (1: one) */
	bool has_key;
	uint32_t key;           /* GRE key, ERSPAN session id, or VXLAN/Geneve VNI */
	uint8_t src[16], dst[16]; /* the outer IP header's addresses */
};

struct tcp_options {
	uint16_t mss;
	uint8_t wscale;
	uint8_t sack_blocks;    /* number of SACK blocks carried */
	uint32_t tsval, tsecr;
	bool has_mss, has_wscale, sack_permitted, has_timestamps;
	bool has_md5;           /* RFC 2385 TCP-MD5 signature (kind 19) */
	bool has_ao;            /* RFC 5925 TCP-AO (kind 29) */
	bool malformed;         /* option length 0/1 or running past the header: parsing stopped there */
};

/* Reset diagnostic payload (draft-boucadair-tcpm-rst-diagnostic-payload):
 * a reset whose payload starts with magic 0x33AA carries a reason code. */
struct rst_diag {
	bool present;
	uint16_t reason;
	uint32_t vendor;        /* 0 when absent */
	char text[48];          /* reason description, printable ASCII only, NUL-terminated */
};

/* Which way a captured packet went through the capturing host, where the
 * capture says (Linux cooked headers' packet type, pcapng epb_flags). */
enum link_dir { LINK_DIR_UNKNOWN = 0, LINK_DIR_IN, LINK_DIR_OUT };

struct tcp_packet {
	uint8_t family;         /* 4 or 6 */
	uint8_t link_dir;       /* enum link_dir */
	uint32_t link_ifindex;  /* interface index a Linux cooked v2 header names, 0 if none */
	uint8_t src[16], dst[16]; /* IPv4 addresses use the first 4 bytes */
	uint8_t ttl;            /* TTL, or IPv6 hop limit */
	uint8_t tos;            /* TOS / traffic class */
	bool df;                /* IPv4 don't-fragment (always false for IPv6) */
	uint16_t ipid;          /* IPv4 identification (0 for IPv6) */
	uint8_t n_vlan;         /* VLAN tags seen, at most DECODE_MAX_VLANS kept */
	uint16_t vlan[DECODE_MAX_VLANS]; /* their ids, outermost first (a tunnel's inner
				  * frame's tags after the capture's own) */
	struct tunnel_info tunnel; /* the outermost tunnel the segment came in, if any */
	uint16_t tunnel_zone;   /* 0 outside tunnels; else a hash of every tunnel layer
				 * (type, both outer addresses, key), 1..65535: flows
				 * in different tunnels stay apart (src/flow.c) */
	uint32_t ip_len;        /* IP datagram length claimed by the header */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;          /* TCPF_* */
	uint16_t window;        /* raw window field, unscaled */
	uint16_t urgent;
	uint8_t doff;           /* TCP header length in bytes */
	struct tcp_options opt;
	uint32_t payload_len;   /* from the IP length: what the sender sent */
	uint32_t payload_caplen;/* how much of it the capture holds */
	const uint8_t *payload; /* points into the caller's buffer */
	struct rst_diag diag;
};

/* Decode an IPv4/IPv6 packet starting at buf. */
enum decode_result decode_ip(const uint8_t *buf, size_t caplen, struct tcp_packet *out);

/* Strip the link layer of linktype, then decode_ip. */
enum decode_result decode_frame(int linktype, const uint8_t *buf, size_t caplen,
				struct tcp_packet *out);

const char *decode_result_name(enum decode_result r);

/* "gre", "erspan", "vxlan", "geneve" ("none" for TUNNEL_NONE). */
const char *tunnel_type_name(enum tunnel_type t);

/* "RA", "S", "FA"...: flags as letters in the order F S R P A U E C. buf >= 9 bytes. */
const char *tcp_flags_str(uint8_t flags, char *buf);

/* TCP segment length in sequence space: payload + SYN + FIN. */
uint32_t tcp_seg_len(const struct tcp_packet *p);

#endif
