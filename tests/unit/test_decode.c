/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of src/decode.c: tables of frames (input ; expected result and
 * fields), TCP options, reset diagnostic payloads, and every prefix of valid
 * packets. Each input is decoded from a copy that ends right before a
 * PROT_NONE page, so reading one byte past the capture faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "guard.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decode.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FRAME 2048
/* Not a pcap link type: the row is fed to decode_ip, not decode_frame. */
#define VIA_DECODE_IP (-1)

static enum decode_result decode_guarded(struct guarded *g, int linktype, const uint8_t *src,
					 size_t len, struct tcp_packet *out)
{
	guard_put(g, src, len);
	if (linktype == VIA_DECODE_IP)
		return decode_ip(g->data, len, out);
	return decode_frame(linktype, g->data, len, out);
}

/* ---- hex input -------------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex digits, blanks ignored. A typo in a table is a test failure. */
static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, d;

	for (; *hex; hex++) {
		if (*hex == ' ')
			continue;
		d = hex_digit(*hex);
		if (d < 0)
			fail_msg("bad hex digit '%c'", *hex);
		if (hi < 0) {
			hi = d;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | d);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

/* ---- building blocks of the frame table -------------------------------- */

#define MACS		"020000000002 020000000001 "
/* 198.51.100.1 -> 203.0.113.2, id 0x1234, DF, TTL 64, proto TCP, 40 bytes */
#define IP4_40		"45000028 12344000 40060000 c6336401 cb007102 "
/* 40000 -> 80, seq 0x11223344, SYN, window 64240 */
#define TCP_SYN		"9c400050 11223344 00000000 5002faf0 00000000 "
/* 80 -> 40000, seq 0, ack 0x11223345, RST|ACK, window 0 */
#define TCP_RA		"00509c40 00000000 11223345 50140000 00000000 "
#define IP6_ADDRS	"20010db8000000000000000000000001 20010db8000000000000000000000002 "
/* hop limit 64, payload length 20, next header TCP */
#define IP6_20		"60000000 00140640 " IP6_ADDRS
#define ETH_V4_SYN	MACS "0800 " IP4_40 TCP_SYN
#define ETH_V6_RA	MACS "86dd " IP6_20 TCP_RA
#define VLAN_1		"0001 8100 "
/* 802.2 LLC (DSAP AA, SSAP AA, UI) + SNAP OUI 000000 + ethertype */
#define SNAP_V4		"aaaa03 000000 0800 "
#define SNAP_V6		"aaaa03 000000 86dd "
/* FDDI: frame control, then destination and source */
#define FDDI_LLC	"50 " MACS

/* hop-by-hop (8) -> dstopts (8) -> routing (24) -> fragment (8, first) -> AH (24) -> TCP */
#define IP6_EXT_CHAIN \
	"3c00 0104 00000000 " \
	"2b00 0104 00000000 " \
	"2c02 0000 00000000 20010db8000000000000000000000003 " \
	"3300 0001 abcdef01 " \
	"0604 0000 00000100 00000001 000000000000000000000000 "
#define IP6_EXT_CHAIN_LEN 72

/* destination options headers, 8 bytes each: one more follows / TCP follows */
#define DST_THEN_DST	"3c00 0104 00000000 "
#define DST_THEN_TCP	"0600 0104 00000000 "
#define DST_X5		DST_THEN_DST DST_THEN_DST DST_THEN_DST DST_THEN_DST DST_THEN_DST

#define V4_ADDRS	.family = 4, .src = { 198, 51, 100, 1 }, .dst = { 203, 0, 113, 2 }
#define V6_ADDRS	.family = 6, \
			.src = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, \
			.dst = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }
#define IP4_40_FIELDS	V4_ADDRS, .ttl = 64, .df = true, .ipid = 0x1234, .ip_len = 40
#define IP6_20_FIELDS	V6_ADDRS, .ttl = 64, .ip_len = 60
#define SYN_FIELDS	.sport = 40000, .dport = 80, .seq = 0x11223344, .flags = TCPF_SYN, \
			.window = 64240, .doff = 20
#define RA_FIELDS	.sport = 80, .dport = 40000, .ack = 0x11223345, \
			.flags = TCPF_RST | TCPF_ACK, .doff = 20

struct frame_case {
	const char *name;
	int linktype;
	const char *hex;
	enum decode_result result;
	/* DECODE_OK: every field is compared, and payload must point here.
	 * DECODE_FRAGMENT, DECODE_NOT_TCP: the IP fields are compared. */
	size_t payload_off;
	struct tcp_packet want;
};

static const struct frame_case frame_cases[] = {
	/* link layers */
	{ "frame: ethernet ipv4 syn", LINK_ETHERNET, ETH_V4_SYN,
	  DECODE_OK, 54, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: ethernet ipv6 rst", LINK_ETHERNET, ETH_V6_RA,
	  DECODE_OK, 74, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: ethernet 802.1Q vid 100 pcp 5", LINK_ETHERNET,
	  MACS "8100 a064 0800 " IP4_40 TCP_SYN,
	  DECODE_OK, 58, { IP4_40_FIELDS, SYN_FIELDS, .n_vlan = 1, .vlan = { 100 } } },
	{ "frame: ethernet QinQ 88a8 outer 200, 8100 inner 100", LINK_ETHERNET,
	  MACS "88a8 00c8 8100 0064 0800 " IP4_40 TCP_SYN,
	  DECODE_OK, 62, { IP4_40_FIELDS, SYN_FIELDS, .n_vlan = 2, .vlan = { 200, 100 } } },
	{ "frame: ethernet 9100 tag", LINK_ETHERNET,
	  MACS "9100 012c 86dd " IP6_20 TCP_RA,
	  DECODE_OK, 78, { IP6_20_FIELDS, RA_FIELDS, .n_vlan = 1, .vlan = { 300 } } },
	{ "frame: ethernet 8 vlan tags", LINK_ETHERNET,
	  MACS "8100 " VLAN_1 VLAN_1 VLAN_1 VLAN_1 VLAN_1 VLAN_1 VLAN_1 "0001 0800 " IP4_40 TCP_SYN,
	  DECODE_OK, 86, { IP4_40_FIELDS, SYN_FIELDS, .n_vlan = 8,
			   .vlan = { 1, 1, 1, 1, 1, 1, 1, 1 } } },
	{ "frame: ethernet 9 vlan tags", LINK_ETHERNET,
	  MACS "8100 " VLAN_1 VLAN_1 VLAN_1 VLAN_1 VLAN_1 VLAN_1 VLAN_1 VLAN_1 "0001 0800 "
	  IP4_40 TCP_SYN,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "frame: ethernet arp", LINK_ETHERNET,
	  MACS "0806 0001 0800 0604 0001 020000000001 c6336401 000000000000 cb007102",
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: ethertype ipv4 carrying ipv6", LINK_ETHERNET,
	  MACS "0800 " IP6_20 TCP_RA,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "frame: ethernet padding is not payload", LINK_ETHERNET,
	  MACS "0800 " IP4_40 TCP_RA "000000000000",
	  DECODE_OK, 54, { IP4_40_FIELDS, RA_FIELDS } },
	{ "frame: ethernet header only", LINK_ETHERNET, MACS "0800",
	  DECODE_TRUNCATED, 0, { 0 } },
	{ "frame: empty ethernet", LINK_ETHERNET, "",
	  DECODE_TRUNCATED, 0, { 0 } },
	/* 802.3 length field + LLC/SNAP */
	{ "frame: 802.3 llc/snap ipv4", LINK_ETHERNET, MACS "0030 " SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_OK, 62, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: 802.3 llc/snap ipv6", LINK_ETHERNET, MACS "0044 " SNAP_V6 IP6_20 TCP_RA,
	  DECODE_OK, 82, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: 802.3 length 1500 is still a length", LINK_ETHERNET,
	  MACS "05dc " SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_OK, 62, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: type 1501 is neither length nor ethertype", LINK_ETHERNET,
	  MACS "05dd " SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: 802.1Q then 802.3 llc/snap", LINK_ETHERNET,
	  MACS "8100 0064 0044 " SNAP_V6 IP6_20 TCP_RA,
	  DECODE_OK, 86, { IP6_20_FIELDS, RA_FIELDS, .n_vlan = 1, .vlan = { 100 } } },
	{ "frame: 802.3 llc/snap oui 0000f8 (802.1H)", LINK_ETHERNET,
	  MACS "0030 aaaa03 0000f8 0800 " IP4_40 TCP_SYN,
	  DECODE_OK, 62, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: 802.3 spanning tree llc", LINK_ETHERNET,
	  MACS "0026 424203 0000 00 00 8000020000000001",
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: 802.3 raw (novell)", LINK_ETHERNET, MACS "0030 ffff 002e 0000",
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: 802.3 llc/snap cisco oui", LINK_ETHERNET,
	  MACS "0030 aaaa03 00000c 2000 " IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: 802.3 llc/snap arp", LINK_ETHERNET,
	  MACS "0024 aaaa03 000000 0806 0001 0800 0604 0001 020000000001 c6336401",
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: 802.3 snap control not UI", LINK_ETHERNET,
	  MACS "0030 aaaa13 000000 0800 " IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: 802.3 snap ethertype ipv4 carrying ipv6", LINK_ETHERNET,
	  MACS "0044 " SNAP_V4 IP6_20 TCP_RA,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "frame: 802.3 llc cut after dsap", LINK_ETHERNET, MACS "0030 aa",
	  DECODE_TRUNCATED, 0, { 0 } },
	{ "frame: 802.3 snap cut in ethertype", LINK_ETHERNET, MACS "0030 aaaa03 000000 08",
	  DECODE_TRUNCATED, 0, { 0 } },

	/* FDDI */
	{ "frame: fddi llc/snap ipv4", LINK_FDDI, FDDI_LLC SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_OK, 61, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: fddi llc/snap ipv6, fc 0x57", LINK_FDDI, "57 " MACS SNAP_V6 IP6_20 TCP_RA,
	  DECODE_OK, 81, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: fddi synchronous llc, fc 0xd0", LINK_FDDI, "d0 " MACS SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_OK, 61, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: fddi smt frame, fc 0x41", LINK_FDDI, "41 " MACS SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: fddi mac frame, fc 0xc3", LINK_FDDI, "c3 " MACS SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: fddi implementer frame, fc 0x60", LINK_FDDI, "60 " MACS SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: fddi netbios llc", LINK_FDDI, FDDI_LLC "f0f003 0000",
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: fddi snap arp", LINK_FDDI,
	  FDDI_LLC "aaaa03 000000 0806 0001 0800 0604 0001",
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: fddi header only", LINK_FDDI, FDDI_LLC,
	  DECODE_TRUNCATED, 0, { 0 } },
	{ "frame: fddi smt frame cut short", LINK_FDDI, "41 0200",
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: empty fddi", LINK_FDDI, "",
	  DECODE_TRUNCATED, 0, { 0 } },

	{ "frame: sll ipv4", LINK_SLL,
	  "0000 0001 0006 0200000000010000 0800 " IP4_40 TCP_SYN,
	  DECODE_OK, 56, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: sll 802.1Q", LINK_SLL,
	  "0004 0001 0006 0200000000010000 8100 0064 86dd " IP6_20 TCP_RA,
	  DECODE_OK, 80, { IP6_20_FIELDS, RA_FIELDS, .n_vlan = 1, .vlan = { 100 } } },
	{ "frame: sll 802.2 (proto 4) llc/snap ipv4", LINK_SLL,
	  "0000 0001 0006 0200000000010000 0004 " SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_OK, 64, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: sll 802.3 raw (proto 1) is not llc", LINK_SLL,
	  "0000 0001 0006 0200000000010000 0001 " SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: sll 802.1Q then 802.3 llc/snap", LINK_SLL,
	  "0000 0001 0006 0200000000010000 8100 0064 0030 " SNAP_V4 IP4_40 TCP_SYN,
	  DECODE_OK, 68, { IP4_40_FIELDS, SYN_FIELDS, .n_vlan = 1, .vlan = { 100 } } },
	{ "frame: sll2 802.2 (proto 4) llc/snap ipv6", LINK_SLL2,
	  "0004 0000 00000002 0001 00 06 0200000000010000 " SNAP_V6 IP6_20 TCP_RA,
	  DECODE_OK, 88, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: sll2 ipv6", LINK_SLL2,
	  "86dd 0000 00000002 0001 00 06 0200000000010000 " IP6_20 TCP_RA,
	  DECODE_OK, 80, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: sll2 ipv4", LINK_SLL2,
	  "0800 0000 00000002 0001 04 06 0200000000010000 " IP4_40 TCP_SYN,
	  DECODE_OK, 60, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: sll2 arp", LINK_SLL2,
	  "0806 0000 00000002 0001 04 06 0200000000010000 0001",
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: null little-endian AF_INET", LINK_NULL, "02000000 " IP4_40 TCP_SYN,
	  DECODE_OK, 44, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: null big-endian AF_INET", LINK_NULL, "00000002 " IP4_40 TCP_SYN,
	  DECODE_OK, 44, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: null little-endian AF_INET6 10 (Linux)", LINK_NULL, "0a000000 " IP6_20 TCP_RA,
	  DECODE_OK, 64, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: null big-endian AF_INET6 24 (OpenBSD)", LINK_NULL, "00000018 " IP6_20 TCP_RA,
	  DECODE_OK, 64, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: null little-endian AF_INET6 28 (FreeBSD)", LINK_NULL, "1c000000 " IP6_20 TCP_RA,
	  DECODE_OK, 64, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: null big-endian AF_INET6 30 (Darwin)", LINK_NULL, "0000001e " IP6_20 TCP_RA,
	  DECODE_OK, 64, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: null unknown AF", LINK_NULL, "07000000 " IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: null AF_INET carrying ipv6", LINK_NULL, "02000000 " IP6_20 TCP_RA,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "frame: null header cut", LINK_NULL, "020000",
	  DECODE_TRUNCATED, 0, { 0 } },
	{ "frame: loop AF_INET", LINK_LOOP, "00000002 " IP4_40 TCP_SYN,
	  DECODE_OK, 44, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: loop AF_INET6", LINK_LOOP, "00000018 " IP6_20 TCP_RA,
	  DECODE_OK, 64, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: loop is network order only", LINK_LOOP, "02000000 " IP4_40 TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: raw ipv4", LINK_RAW, IP4_40 TCP_SYN,
	  DECODE_OK, 40, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: raw ipv6", LINK_RAW, IP6_20 TCP_RA,
	  DECODE_OK, 60, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: raw version 5", LINK_RAW, "55000028 12344000 40060000 c6336401 cb007102 " TCP_SYN,
	  DECODE_NOT_IP, 0, { 0 } },
	{ "frame: linktype ipv4", LINK_IPV4, IP4_40 TCP_SYN,
	  DECODE_OK, 40, { IP4_40_FIELDS, SYN_FIELDS } },
	{ "frame: linktype ipv6", LINK_IPV6, IP6_20 TCP_RA,
	  DECODE_OK, 60, { IP6_20_FIELDS, RA_FIELDS } },
	{ "frame: linktype ipv4 carrying ipv6", LINK_IPV4, IP6_20 TCP_RA,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "frame: linktype ipv6 carrying ipv4", LINK_IPV6, IP4_40 TCP_SYN,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "frame: unknown linktype 147", 147, IP4_40 TCP_SYN,
	  DECODE_LINKTYPE, 0, { 0 } },

	/* IPv4 */
	{ "ipv4: options, ihl 6, tos 0xb8", VIA_DECODE_IP,
	  "46b8002c 12344000 40060000 c6336401 cb007102 01010100 " TCP_SYN,
	  DECODE_OK, 44, { V4_ADDRS, .ttl = 64, .tos = 0xb8, .df = true, .ipid = 0x1234,
			   .ip_len = 44, SYN_FIELDS } },
	{ "ipv4: options, ihl 15", VIA_DECODE_IP,
	  "4f000050 12344000 40060000 c6336401 cb007102 "
	  "01010101 01010101 01010101 01010101 01010101 01010101 01010101 01010101 01010101 01010100 "
	  TCP_SYN,
	  DECODE_OK, 80, { V4_ADDRS, .ttl = 64, .df = true, .ipid = 0x1234, .ip_len = 80,
			   SYN_FIELDS } },
	{ "ipv4: ihl 4", VIA_DECODE_IP, "44000028 12344000 40060000 c6336401 cb007102 " TCP_SYN,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "ipv4: ihl 0", VIA_DECODE_IP, "40000028 12344000 40060000 c6336401 cb007102 " TCP_SYN,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "ipv4: total length below header length", VIA_DECODE_IP,
	  "45000013 12344000 40060000 c6336401 cb007102 " TCP_SYN,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "ipv4: total length leaves no room for tcp", VIA_DECODE_IP,
	  "45000014 12344000 40060000 c6336401 cb007102 " TCP_SYN,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "ipv4: header cut by capture", VIA_DECODE_IP, "45000028 12344000 40060000 c6336401 cb",
	  DECODE_TRUNCATED, 0, { 0 } },
	{ "ipv4: non-first fragment", VIA_DECODE_IP,
	  "45000028 123400b9 40060000 c6336401 cb007102 " TCP_SYN,
	  DECODE_FRAGMENT, 0, { V4_ADDRS, .ttl = 64, .ipid = 0x1234, .ip_len = 40 } },
	{ "ipv4: first fragment with MF", VIA_DECODE_IP,
	  "45000030 12342000 40060000 c6336401 cb007102 " TCP_SYN "0102030405060708",
	  DECODE_OK, 40, { V4_ADDRS, .ttl = 64, .ipid = 0x1234, .ip_len = 48, SYN_FIELDS,
			   .payload_len = 8, .payload_caplen = 8 } },
	{ "ipv4: udp", VIA_DECODE_IP,
	  "4500001c 12344000 40110000 c6336401 cb007102 9c400035 00080000",
	  DECODE_NOT_TCP, 0, { V4_ADDRS, .ttl = 64, .df = true, .ipid = 0x1234, .ip_len = 28 } },
	{ "ipv4: capture shorter than total length", VIA_DECODE_IP,
	  "450005dc 12344000 40060000 c6336401 cb007102 "
	  "00509c40 00000001 11223345 501801f5 00000000 68656c6c6f20776f726c64",
	  DECODE_OK, 40, { V4_ADDRS, .ttl = 64, .df = true, .ipid = 0x1234, .ip_len = 1500,
			   .sport = 80, .dport = 40000, .seq = 1, .ack = 0x11223345,
			   .flags = TCPF_PSH | TCPF_ACK, .window = 501, .doff = 20,
			   .payload_len = 1460, .payload_caplen = 11 } },

	/* IPv6 */
	{ "ipv6: traffic class 0xb8, hop limit 255", VIA_DECODE_IP,
	  "6b800000 001406ff " IP6_ADDRS TCP_RA,
	  DECODE_OK, 60, { V6_ADDRS, .ttl = 255, .tos = 0xb8, .ip_len = 60, RA_FIELDS } },
	{ "ipv6: hop-by-hop, dstopts, routing, fragment, AH", VIA_DECODE_IP,
	  "60000000 005c0040 " IP6_ADDRS IP6_EXT_CHAIN TCP_RA,
	  DECODE_OK, 40 + IP6_EXT_CHAIN_LEN + 20,
	  { V6_ADDRS, .ttl = 64, .ip_len = 132, RA_FIELDS } },
	{ "ipv6: hop-by-hop after dstopts", VIA_DECODE_IP,
	  "60000000 00243c40 " IP6_ADDRS "0000 0104 00000000 0600 0104 00000000 " TCP_RA,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "ipv6: 16 extension headers", VIA_DECODE_IP,
	  "60000000 00943c40 " IP6_ADDRS DST_X5 DST_X5 DST_X5 DST_THEN_TCP TCP_RA,
	  DECODE_OK, 188, { V6_ADDRS, .ttl = 64, .ip_len = 188, RA_FIELDS } },
	{ "ipv6: 17 extension headers", VIA_DECODE_IP,
	  "60000000 009c3c40 " IP6_ADDRS DST_X5 DST_X5 DST_X5 DST_THEN_DST DST_THEN_TCP TCP_RA,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "ipv6: esp", VIA_DECODE_IP,
	  "60000000 00103240 " IP6_ADDRS "00000100 00000001 0102030405060708",
	  DECODE_NOT_TCP, 0, { V6_ADDRS, .ttl = 64, .ip_len = 56 } },
	{ "ipv6: no next header", VIA_DECODE_IP, "60000000 00003b40 " IP6_ADDRS,
	  DECODE_NOT_TCP, 0, { V6_ADDRS, .ttl = 64, .ip_len = 40 } },
	{ "ipv6: dstopts then no next header", VIA_DECODE_IP,
	  "60000000 00083c40 " IP6_ADDRS "3b00 0104 00000000",
	  DECODE_NOT_TCP, 0, { V6_ADDRS, .ttl = 64, .ip_len = 48 } },
	{ "ipv6: udp", VIA_DECODE_IP, "60000000 00081140 " IP6_ADDRS "9c400035 00080000",
	  DECODE_NOT_TCP, 0, { V6_ADDRS, .ttl = 64, .ip_len = 48 } },
	{ "ipv6: non-first fragment", VIA_DECODE_IP,
	  "60000000 00182c40 " IP6_ADDRS "0600 00b9 abcdef01 0102030405060708 0102030405060708",
	  DECODE_FRAGMENT, 0, { V6_ADDRS, .ttl = 64, .ip_len = 64 } },
	{ "ipv6: jumbogram", VIA_DECODE_IP,
	  "60000000 00000040 " IP6_ADDRS "0600 c204 00010000 " TCP_RA,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "ipv6: extension header past payload length", VIA_DECODE_IP,
	  "60000000 00143c40 " IP6_ADDRS "0603 0104 00000000 " TCP_RA,
	  DECODE_MALFORMED, 0, { 0 } },
	{ "ipv6: extension header cut by capture", VIA_DECODE_IP,
	  "60000000 003c3c40 " IP6_ADDRS "0604 0122 00000000 00000000",
	  DECODE_TRUNCATED, 0, { 0 } },
	{ "ipv6: header cut by capture", VIA_DECODE_IP, "60000000 00140640 20010db8",
	  DECODE_TRUNCATED, 0, { 0 } },

	/* TCP header */
	{ "tcp: data offset 4", VIA_DECODE_IP,
	  IP4_40 "9c400050 11223344 00000000 4002faf0 00000000",
	  DECODE_MALFORMED, 0, { 0 } },
	{ "tcp: data offset 0", VIA_DECODE_IP,
	  IP4_40 "9c400050 11223344 00000000 0002faf0 00000000",
	  DECODE_MALFORMED, 0, { 0 } },
	{ "tcp: data offset past ip payload", VIA_DECODE_IP,
	  IP4_40 "9c400050 11223344 00000000 6002faf0 00000000 01010101",
	  DECODE_MALFORMED, 0, { 0 } },
	{ "tcp: data offset 15 past ipv6 payload", VIA_DECODE_IP,
	  IP6_20 "00509c40 00000000 11223345 f0140000 00000000",
	  DECODE_MALFORMED, 0, { 0 } },
	{ "tcp: data offset past capture", VIA_DECODE_IP,
	  "45000030 12344000 40060000 c6336401 cb007102 "
	  "9c400050 11223344 00000000 7002faf0 00000000 01010101",
	  DECODE_TRUNCATED, 0, { 0 } },
	{ "tcp: fixed header cut by capture", VIA_DECODE_IP,
	  IP4_40 "9c400050 11223344 00000000 50",
	  DECODE_TRUNCATED, 0, { 0 } },
	{ "tcp: all flags, urgent pointer", VIA_DECODE_IP,
	  IP4_40 "9c400050 11223344 55667788 50ff1000 0000abcd",
	  DECODE_OK, 40, { IP4_40_FIELDS, .sport = 40000, .dport = 80, .seq = 0x11223344,
			   .ack = 0x55667788, .flags = 0xff, .window = 4096, .urgent = 0xabcd,
			   .doff = 20 } },
};

static void assert_ip_fields(const struct tcp_packet *got, const struct tcp_packet *want)
{
	assert_int_equal(got->family, want->family);
	assert_memory_equal(got->src, want->src, sizeof(want->src));
	assert_memory_equal(got->dst, want->dst, sizeof(want->dst));
	assert_int_equal(got->ttl, want->ttl);
	assert_int_equal(got->tos, want->tos);
	assert_int_equal(got->df, want->df);
	assert_int_equal(got->ipid, want->ipid);
	assert_int_equal(got->n_vlan, want->n_vlan);
	assert_memory_equal(got->vlan, want->vlan, sizeof(want->vlan));
	assert_int_equal(got->ip_len, want->ip_len);
}

static void assert_options(const struct tcp_options *got, const struct tcp_options *want)
{
	assert_int_equal(got->has_mss, want->has_mss);
	assert_int_equal(got->mss, want->mss);
	assert_int_equal(got->has_wscale, want->has_wscale);
	assert_int_equal(got->wscale, want->wscale);
	assert_int_equal(got->sack_permitted, want->sack_permitted);
	assert_int_equal(got->sack_blocks, want->sack_blocks);
	assert_int_equal(got->has_timestamps, want->has_timestamps);
	assert_int_equal(got->tsval, want->tsval);
	assert_int_equal(got->tsecr, want->tsecr);
	assert_int_equal(got->has_md5, want->has_md5);
	assert_int_equal(got->has_ao, want->has_ao);
	assert_int_equal(got->malformed, want->malformed);
}

static void assert_diag(const struct rst_diag *got, const struct rst_diag *want)
{
	assert_int_equal(got->present, want->present);
	assert_int_equal(got->reason, want->reason);
	assert_int_equal(got->vendor, want->vendor);
	assert_string_equal(got->text, want->text);
}

/* Every field of a decoded segment; the payload must start payload_off bytes into data. */
static void assert_packet(const struct tcp_packet *got, const struct tcp_packet *want,
			  const uint8_t *data, size_t payload_off)
{
	assert_ip_fields(got, want);
	assert_int_equal(got->sport, want->sport);
	assert_int_equal(got->dport, want->dport);
	assert_int_equal(got->seq, want->seq);
	assert_int_equal(got->ack, want->ack);
	assert_int_equal(got->flags, want->flags);
	assert_int_equal(got->window, want->window);
	assert_int_equal(got->urgent, want->urgent);
	assert_int_equal(got->doff, want->doff);
	assert_options(&got->opt, &want->opt);
	assert_int_equal(got->payload_len, want->payload_len);
	assert_int_equal(got->payload_caplen, want->payload_caplen);
	assert_ptr_equal(got->payload, data + payload_off);
	assert_diag(&got->diag, &want->diag);
}

static void test_frame_case(void **state)
{
	const struct frame_case *c = *state;
	uint8_t frame[MAX_FRAME];
	struct tcp_packet pkt;
	struct guarded g;
	enum decode_result r;
	size_t len;

	len = from_hex(c->hex, frame, sizeof(frame));
	r = decode_guarded(&g, c->linktype, frame, len, &pkt);
	assert_string_equal(decode_result_name(r), decode_result_name(c->result));
	if (r == DECODE_OK)
		assert_packet(&pkt, &c->want, g.data, c->payload_off);
	else if (r == DECODE_FRAGMENT || r == DECODE_NOT_TCP)
		assert_ip_fields(&pkt, &c->want);
	guard_free(&g);
}

/* Each prefix of a frame that decodes is a capture cut short: it must come
 * out TRUNCATED, or OK holding exactly the payload bytes inside the prefix. */
static void test_frame_prefixes(void **state)
{
	uint8_t frame[MAX_FRAME];
	struct tcp_packet pkt;
	struct guarded g;
	enum decode_result r;
	size_t i, n, len, held;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(frame_cases); i++) {
		const struct frame_case *c = &frame_cases[i];

		if (c->result != DECODE_OK)
			continue;
		len = from_hex(c->hex, frame, sizeof(frame));
		for (n = 0; n < len; n++) {
			r = decode_guarded(&g, c->linktype, frame, n, &pkt);
			if (n < c->payload_off) {
				if (r != DECODE_TRUNCATED)
					fail_msg("%s: %zu-byte prefix: %s", c->name, n,
						 decode_result_name(r));
				guard_free(&g);
				continue;
			}
			held = n - c->payload_off;
			if (held > c->want.payload_len)
				held = c->want.payload_len;	/* the rest is link padding */
			if (r != DECODE_OK || pkt.payload != g.data + c->payload_off ||
			    pkt.payload_caplen != held || pkt.payload_len != c->want.payload_len)
				fail_msg("%s: %zu-byte prefix: %s, payload %u/%u", c->name, n,
					 decode_result_name(r), pkt.payload_caplen, pkt.payload_len);
			guard_free(&g);
		}
	}
}

/* ---- segments built around options and payloads ----------------------- */

/* 198.51.100.1:40000 -> 203.0.113.2:80, IPv4 without options, TTL 64,
 * seq 1000, ack 2000, window 8192. Returns the datagram length. */
static size_t build_ipv4_segment(uint8_t *buf, uint8_t flags, const uint8_t *opts, size_t optlen,
				 const uint8_t *payload, size_t payload_len)
{
	static const uint8_t ip_template[20] = {
		0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0,
		198, 51, 100, 1, 203, 0, 113, 2,
	};
	static const uint8_t tcp_template[20] = {
		0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0,
		0, 0, 0x20, 0, 0, 0, 0, 0,
	};
	size_t doff = 20 + optlen, total = 20 + doff + payload_len;

	assert_true(optlen % 4 == 0 && optlen <= 40 && total <= MAX_FRAME);
	memcpy(buf, ip_template, 20);
	buf[2] = (uint8_t)(total >> 8);
	buf[3] = (uint8_t)total;
	memcpy(buf + 20, tcp_template, 20);
	buf[32] = (uint8_t)(doff / 4 << 4);
	buf[33] = flags;
	if (optlen)
		memcpy(buf + 40, opts, optlen);
	if (payload_len)
		memcpy(buf + 40 + optlen, payload, payload_len);
	return total;
}

struct option_case {
	const char *name;
	const char *hex;	/* the option bytes, a multiple of 4 */
	struct tcp_options want;
};

static const struct option_case option_cases[] = {
	{ "option: none", "", { 0 } },
	{ "option: mss", "020405b4", { .has_mss = true, .mss = 1460 } },
	{ "option: window scale", "01030307", { .has_wscale = true, .wscale = 7 } },
	{ "option: sack permitted", "01010402", { .sack_permitted = true } },
	{ "option: sack 1 block", "0101050a 00000064 000000c8", { .sack_blocks = 1 } },
	{ "option: sack 3 blocks",
	  "0101051a 00000064 000000c8 0000012c 00000190 000001f4 00000258", { .sack_blocks = 3 } },
	{ "option: sack 4 blocks",
	  "01010522 00000064 000000c8 0000012c 00000190 000001f4 00000258 00000320 00000384",
	  { .sack_blocks = 4 } },
	{ "option: timestamps", "0101080a 0000abcd 00001234",
	  { .has_timestamps = true, .tsval = 0xabcd, .tsecr = 0x1234 } },
	{ "option: md5 signature", "1312 00112233445566778899aabbccddeeff 0000", { .has_md5 = true } },
	{ "option: tcp-ao", "1d10 0102 00112233445566778899aabb", { .has_ao = true } },
	{ "option: linux syn", "020405b4 0402080a 0000abcd 00000000 01030307",
	  { .has_mss = true, .mss = 1460, .sack_permitted = true, .has_timestamps = true,
	    .tsval = 0xabcd, .has_wscale = true, .wscale = 7 } },
	{ "option: unknown kind skipped by length", "fe04abcd 020405b4",
	  { .has_mss = true, .mss = 1460 } },
	{ "option: eol ends the list", "00000000 020405b4", { 0 } },
	{ "option: length 0", "01010200 020405b4", { .malformed = true } },
	{ "option: length 1", "01010201 020405b4", { .malformed = true } },
	{ "option: running past the header", "0101020c 00000000", { .malformed = true } },
	{ "option: kind without length byte", "01010102", { .malformed = true } },
	{ "option: mss length 3 skipped by length", "02030501 020405b4",
	  { .has_mss = true, .mss = 1460, .malformed = true } },
	{ "option: window scale length 4", "03040700 020405b4",
	  { .has_mss = true, .mss = 1460, .malformed = true } },
	{ "option: sack length 11", "0101050b 00000064 000000c8 01010101", { .malformed = true } },
	{ "option: sack without blocks", "01010502", { .malformed = true } },
	{ "option: timestamps length 8", "01010808 00000001 01010101", { .malformed = true } },
	{ "option: md5 length 17", "1311 00112233445566778899aabbccddee 000000",
	  { .malformed = true } },
	{ "option: tcp-ao length 3", "1d030000", { .malformed = true } },
};

static void test_option_case(void **state)
{
	const struct option_case *c = *state;
	uint8_t opts[40], seg[MAX_FRAME];
	struct tcp_packet pkt;
	struct guarded g;
	size_t optlen, len;

	optlen = from_hex(c->hex, opts, sizeof(opts));
	len = build_ipv4_segment(seg, TCPF_SYN, opts, optlen, NULL, 0);
	assert_int_equal(decode_guarded(&g, VIA_DECODE_IP, seg, len, &pkt), DECODE_OK);
	assert_int_equal(pkt.doff, 20 + optlen);
	assert_ptr_equal(pkt.payload, g.data + len);
	assert_int_equal(pkt.payload_len, 0);
	assert_options(&pkt.opt, &c->want);
	guard_free(&g);
}

struct diag_case {
	const char *name;
	uint8_t flags;
	const char *payload_hex;
	size_t cut;		/* bytes of the datagram the capture misses */
	struct rst_diag want;
};

static const struct diag_case diag_cases[] = {
	{ "diag: iana code 14", TCPF_RST | TCPF_ACK, "33aa 000e 00000000", 0,
	  { .present = true, .reason = 14, .text = "Connection timeout" } },
	{ "diag: iana code 5, description shortened", TCPF_RST, "33aa 0005 00000000", 0,
	  { .present = true, .reason = 5, .text = "Unexpected ACK in non-synchronized state" } },
	{ "diag: vendor code", TCPF_RST | TCPF_ACK, "33aa 04d2 00007ed9", 0,
	  { .present = true, .reason = 1234, .vendor = 32473 } },
	{ "diag: unregistered iana code", TCPF_RST, "33aa 00c8 00000000", 0,
	  { .present = true, .reason = 200 } },
	{ "diag: reserved code 0", TCPF_RST, "33aa 0000 00000000", 0, { 0 } },
	{ "diag: wrong magic", TCPF_RST, "33ab 000e 00000000", 0, { 0 } },
	{ "diag: 7 bytes", TCPF_RST, "33aa 000e 000000", 0, { 0 } },
	{ "diag: 9 bytes", TCPF_RST, "33aa 000e 00000000 00", 0, { 0 } },
	{ "diag: not a reset", TCPF_ACK, "33aa 000e 00000000", 0, { 0 } },
	{ "diag: rst with fin makes SEG.LEN 9", TCPF_RST | TCPF_FIN, "33aa 000e 00000000", 0,
	  { 0 } },
	{ "diag: cut by capture", TCPF_RST, "33aa 000e 00000000", 2, { 0 } },
};

static void test_diag_case(void **state)
{
	const struct diag_case *c = *state;
	uint8_t payload[16], seg[MAX_FRAME];
	struct tcp_packet pkt;
	struct guarded g;
	size_t payload_len, len;

	payload_len = from_hex(c->payload_hex, payload, sizeof(payload));
	len = build_ipv4_segment(seg, c->flags, NULL, 0, payload, payload_len);
	assert_int_equal(decode_guarded(&g, VIA_DECODE_IP, seg, len - c->cut, &pkt), DECODE_OK);
	assert_int_equal(pkt.payload_len, payload_len);
	assert_int_equal(pkt.payload_caplen, payload_len - c->cut);
	assert_diag(&pkt.diag, &c->want);
	guard_free(&g);
}

/* ---- single tests ------------------------------------------------------ */

static void test_rst_with_1400_bytes(void **state)
{
	uint8_t payload[1400], seg[MAX_FRAME];
	struct tcp_packet pkt;
	struct guarded g;
	size_t len;

	(void)state;
	/* Starts with a diagnostic payload, but SEG.LEN must be exactly 8. */
	memset(payload, 'x', sizeof(payload));
	payload[0] = 0x33;
	payload[1] = 0xaa;
	len = build_ipv4_segment(seg, TCPF_RST | TCPF_ACK, NULL, 0, payload, sizeof(payload));
	assert_int_equal(decode_guarded(&g, LINK_RAW, seg, len, &pkt), DECODE_OK);
	assert_int_equal(pkt.ip_len, 1440);
	assert_int_equal(pkt.flags, TCPF_RST | TCPF_ACK);
	assert_int_equal(pkt.payload_len, 1400);
	assert_int_equal(pkt.payload_caplen, 1400);
	assert_ptr_equal(pkt.payload, g.data + 40);
	assert_memory_equal(pkt.payload, payload, sizeof(payload));
	assert_int_equal(tcp_seg_len(&pkt), 1400);
	assert_false(pkt.diag.present);
	guard_free(&g);
}

/* Prefixes of one valid segment, with IP options, TCP options and payload,
 * behind a VLAN tag: exact results for each length. */
static void test_truncation_ipv4(void **state)
{
	static const char hex[] =
		MACS "8100 0064 0800 "
		"46000048 abcd4000 3f060000 c6336401 cb007102 94040000 "
		"9c400050 11223344 55667788 8018ffff 00000000 "
		"0101080a 00000001 00000002 "
		"00112233445566778899aabbccddeeff";
	const size_t hdr_end = 18 + 24 + 32, full = hdr_end + 16;
	uint8_t frame[MAX_FRAME];
	struct tcp_packet pkt;
	struct guarded g;
	enum decode_result r;
	size_t n;

	(void)state;
	assert_int_equal(from_hex(hex, frame, sizeof(frame)), full);
	for (n = 0; n <= full; n++) {
		r = decode_guarded(&g, LINK_ETHERNET, frame, n, &pkt);
		if (n < hdr_end) {
			if (r != DECODE_TRUNCATED)
				fail_msg("%zu-byte prefix: %s", n, decode_result_name(r));
		} else {
			assert_int_equal(r, DECODE_OK);
			assert_int_equal(pkt.n_vlan, 1);
			assert_int_equal(pkt.vlan[0], 100);
			assert_int_equal(pkt.ttl, 63);
			assert_int_equal(pkt.ipid, 0xabcd);
			assert_int_equal(pkt.doff, 32);
			assert_true(pkt.opt.has_timestamps);
			assert_int_equal(pkt.opt.tsval, 1);
			assert_int_equal(pkt.opt.tsecr, 2);
			assert_false(pkt.opt.malformed);
			assert_int_equal(pkt.payload_len, 16);
			assert_int_equal(pkt.payload_caplen, n - hdr_end);
			assert_ptr_equal(pkt.payload, g.data + hdr_end);
		}
		guard_free(&g);
	}
}

static void test_truncation_ipv6(void **state)
{
	static const char hex[] =
		"60000000 00700040 " IP6_ADDRS IP6_EXT_CHAIN
		"00509c40 00000001 11223345 60180100 00000000 020405a0 "
		"00112233445566778899aabbccddeeff";
	const size_t hdr_end = 40 + IP6_EXT_CHAIN_LEN + 24, full = hdr_end + 16;
	uint8_t pkt_bytes[MAX_FRAME];
	struct tcp_packet pkt;
	struct guarded g;
	enum decode_result r;
	size_t n;

	(void)state;
	assert_int_equal(from_hex(hex, pkt_bytes, sizeof(pkt_bytes)), full);
	for (n = 0; n <= full; n++) {
		r = decode_guarded(&g, VIA_DECODE_IP, pkt_bytes, n, &pkt);
		if (n < hdr_end) {
			if (r != DECODE_TRUNCATED)
				fail_msg("%zu-byte prefix: %s", n, decode_result_name(r));
		} else {
			assert_int_equal(r, DECODE_OK);
			assert_int_equal(pkt.family, 6);
			assert_int_equal(pkt.ip_len, 40 + 0x70);
			assert_int_equal(pkt.doff, 24);
			assert_true(pkt.opt.has_mss);
			assert_int_equal(pkt.opt.mss, 1440);
			assert_int_equal(pkt.flags, TCPF_PSH | TCPF_ACK);
			assert_int_equal(pkt.payload_len, 16);
			assert_int_equal(pkt.payload_caplen, n - hdr_end);
			assert_ptr_equal(pkt.payload, g.data + hdr_end);
		}
		guard_free(&g);
	}
}

/* Callers read fields whatever the result: nothing may survive from before. */
static void test_output_zeroed(void **state)
{
	uint8_t udp[64];
	struct tcp_packet pkt;
	size_t len;

	(void)state;
	len = from_hex("4500001c 12344000 40110000 c6336401 cb007102 9c400035 00080000",
		       udp, sizeof(udp));
	memset(&pkt, 0xa5, sizeof(pkt));
	assert_int_equal(decode_ip(udp, len, &pkt), DECODE_NOT_TCP);
	assert_int_equal(pkt.sport, 0);
	assert_int_equal(pkt.n_vlan, 0);
	assert_false(pkt.opt.malformed);
	assert_false(pkt.diag.present);
	assert_null(pkt.payload);

	memset(&pkt, 0xa5, sizeof(pkt));
	assert_int_equal(decode_frame(147, udp, len, &pkt), DECODE_LINKTYPE);
	assert_int_equal(pkt.family, 0);
	assert_int_equal(pkt.ttl, 0);
	assert_null(pkt.payload);
}

static void test_flags_str(void **state)
{
	static const struct {
		uint8_t flags;
		const char *want;
	} cases[] = {
		{ 0, "none" },
		{ TCPF_SYN, "S" },
		{ TCPF_RST, "R" },
		{ TCPF_RST | TCPF_ACK, "RA" },
		{ TCPF_SYN | TCPF_ACK, "SA" },
		{ TCPF_FIN | TCPF_PSH | TCPF_ACK, "FPA" },
		{ TCPF_SYN | TCPF_ECE | TCPF_CWR, "SEC" },
		{ TCPF_URG | TCPF_ACK, "AU" },
		{ 0xff, "FSRPAUEC" },
	};
	char buf[9];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(buf, 'z', sizeof(buf));
		assert_string_equal(tcp_flags_str(cases[i].flags, buf), cases[i].want);
		assert_ptr_equal(tcp_flags_str(cases[i].flags, buf), buf);
	}
}

static void test_seg_len(void **state)
{
	struct tcp_packet pkt = { 0 };

	(void)state;
	pkt.flags = TCPF_SYN;
	assert_int_equal(tcp_seg_len(&pkt), 1);
	pkt.flags = TCPF_RST | TCPF_ACK;
	assert_int_equal(tcp_seg_len(&pkt), 0);
	pkt.flags = TCPF_FIN | TCPF_ACK;
	pkt.payload_len = 5;
	assert_int_equal(tcp_seg_len(&pkt), 6);
	pkt.flags = TCPF_SYN | TCPF_FIN;
	assert_int_equal(tcp_seg_len(&pkt), 7);
}

static void test_result_names(void **state)
{
	static const char *const want[DECODE_RESULT_COUNT] = {
		"ok", "not-ip", "not-tcp", "fragment", "truncated", "malformed", "unknown-linktype",
	};
	int r;

	(void)state;
	for (r = 0; r < DECODE_RESULT_COUNT; r++)
		assert_string_equal(decode_result_name((enum decode_result)r), want[r]);
	assert_string_equal(decode_result_name(DECODE_RESULT_COUNT), "invalid");
	assert_string_equal(decode_result_name((enum decode_result)-1), "invalid");
}

static const struct CMUnitTest single_tests[] = {
	cmocka_unit_test(test_frame_prefixes),
	cmocka_unit_test(test_rst_with_1400_bytes),
	cmocka_unit_test(test_truncation_ipv4),
	cmocka_unit_test(test_truncation_ipv6),
	cmocka_unit_test(test_output_zeroed),
	cmocka_unit_test(test_flags_str),
	cmocka_unit_test(test_seg_len),
	cmocka_unit_test(test_result_names),
};

/* One named test per table row, so a failure names its row. */
static struct CMUnitTest tests[ARRAY_SIZE(frame_cases) + ARRAY_SIZE(option_cases) +
			       ARRAY_SIZE(diag_cases) + ARRAY_SIZE(single_tests)];

static struct CMUnitTest row_test(const char *name, CMUnitTestFunction fn, const void *row)
{
	struct CMUnitTest t = { .name = name, .test_func = fn, .initial_state = (void *)row };

	return t;
}

int main(void)
{
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(frame_cases); i++)
		tests[n++] = row_test(frame_cases[i].name, test_frame_case, &frame_cases[i]);
	for (i = 0; i < ARRAY_SIZE(option_cases); i++)
		tests[n++] = row_test(option_cases[i].name, test_option_case, &option_cases[i]);
	for (i = 0; i < ARRAY_SIZE(diag_cases); i++)
		tests[n++] = row_test(diag_cases[i].name, test_diag_case, &diag_cases[i]);
	for (i = 0; i < ARRAY_SIZE(single_tests); i++)
		tests[n++] = single_tests[i];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
