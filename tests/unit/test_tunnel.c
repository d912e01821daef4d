/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tunnels (src/decode_tunnel.c): GRE with its optional fields, ERSPAN I/II/III,
 * VXLAN, Geneve, nesting, and what a capture cut anywhere gives. Frames are
 * built field by field here, each from the RFC's layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"

struct frame {
	uint8_t b[1024];
	size_t len;
};

static void put8(struct frame *f, unsigned v)
{
	f->b[f->len++] = (uint8_t)v;
}

static void put16(struct frame *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void ether(struct frame *f, unsigned vlan, unsigned type)
{
	unsigned i;

	for (i = 0; i < 12; i++)
		put8(f, i);
	if (vlan) {
		put16(f, 0x8100);
		put16(f, vlan);
	}
	put16(f, type);
}

/* An IPv4 header of proto whose datagram is payload_len bytes past it. */
static void ipv4(struct frame *f, unsigned proto, size_t payload_len, uint8_t last_src,
		 uint8_t last_dst, uint8_t ttl)
{
	put16(f, 0x4500);
	put16(f, (unsigned)(20 + payload_len));
	put32(f, 0x12344000);
	put8(f, ttl);
	put8(f, proto);
	put16(f, 0);
	put32(f, 0xc0000200u | last_src);	/* 192.0.2.x */
	put32(f, 0xc0000200u | last_dst);
}

/* The inner packet every tunnel carries: 198.51.100.1:40000 > 203.0.113.2:80 R. */
static void inner_rst(struct frame *f)
{
	put16(f, 0x4500);
	put16(f, 40);
	put32(f, 0x00004000);
	put8(f, 61);
	put8(f, 6);
	put16(f, 0);
	put32(f, 0xc6336401);
	put32(f, 0xcb007102);
	put16(f, 40000);
	put16(f, 80);
	put32(f, 0x11223344);
	put32(f, 0);
	put16(f, 0x5004);
	put16(f, 0);
	put32(f, 0);
}

#define INNER_LEN 40
#define ETH_LEN 14

static void gre(struct frame *f, unsigned flags, unsigned proto, uint32_t key)
{
	put16(f, flags);
	put16(f, proto);
	if (flags & 0x8000)
		put32(f, 0);		/* checksum + reserved */
	if (flags & 0x2000)
		put32(f, key);
	if (flags & 0x1000)
		put32(f, 7);		/* sequence number */
}

static size_t gre_len(unsigned flags)
{
	return 4 + 4 * (!!(flags & 0x8000) + !!(flags & 0x2000) + !!(flags & 0x1000));
}

static void assert_inner(const struct tcp_packet *p)
{
	static const uint8_t src[4] = { 198, 51, 100, 1 }, dst[4] = { 203, 0, 113, 2 };

	assert_int_equal(p->family, 4);
	assert_memory_equal(p->src, src, 4);
	assert_memory_equal(p->dst, dst, 4);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 80);
	assert_int_equal(p->flags, TCPF_RST);
	assert_int_equal(p->ttl, 61);
	assert_int_equal(p->ipid, 0);		/* the inner header's, not the outer 0x1234 */
	assert_true(p->df);
}

static void assert_outer(const struct tcp_packet *p, enum tunnel_type type, uint8_t s, uint8_t d)
{
	const uint8_t src[4] = { 192, 0, 2, s }, dst[4] = { 192, 0, 2, d };

	assert_int_equal(p->tunnel.type, type);
	assert_int_equal(p->tunnel.family, 4);
	assert_memory_equal(p->tunnel.src, src, 4);
	assert_memory_equal(p->tunnel.dst, dst, 4);
	assert_int_not_equal(p->tunnel_zone, 0);
}

/* Every cut of f before its end is TRUNCATED; whole, it decodes. */
static void assert_prefixes_truncated(const struct frame *f)
{
	struct tcp_packet p;
	size_t n;

	for (n = 0; n < f->len; n++) {
		uint8_t *copy = malloc(n ? n : 1);	/* ASan sees any read past n */
		enum decode_result r;

		memcpy(copy, f->b, n);
		r = decode_frame(LINK_ETHERNET, copy, n, &p);
		free(copy);
		if (r != DECODE_TRUNCATED)
			fail_msg("%zu of %zu bytes: %s", n, f->len, decode_result_name(r));
	}
}

static void test_gre_ipv4(void **state)
{
	static const unsigned flag_sets[] = { 0, 0x2000, 0x8000 | 0x2000 | 0x1000, 0x1000 };
	struct tcp_packet p;
	struct frame f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		unsigned fl = flag_sets[i];

		f.len = 0;
		ether(&f, 0, 0x0800);
		ipv4(&f, 47, gre_len(fl) + INNER_LEN, 1, 2, 64);
		gre(&f, fl, 0x0800, 0xdeadbeef);
		inner_rst(&f);
		assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_OK);
		assert_inner(&p);
		assert_outer(&p, TUNNEL_GRE, 1, 2);
		assert_int_equal(p.tunnel.depth, 1);
		assert_int_equal(p.tunnel.has_key, !!(fl & 0x2000));
		if (fl & 0x2000)
			assert_int_equal(p.tunnel.key, 0xdeadbeef);
		assert_prefixes_truncated(&f);
	}
}

/* Transparent Ethernet bridging: the inner frame's VLAN tag follows the
 * outer one in the packet's list. */
static void test_gre_ethernet_vlans(void **state)
{
	struct tcp_packet p;
	struct frame f = { .len = 0 };

	(void)state;
	ether(&f, 5, 0x0800);
	ipv4(&f, 47, 4 + ETH_LEN + 4 + INNER_LEN, 1, 2, 64);
	gre(&f, 0, 0x6558, 0);
	ether(&f, 7, 0x0800);
	inner_rst(&f);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_OK);
	assert_inner(&p);
	assert_int_equal(p.n_vlan, 2);
	assert_int_equal(p.vlan[0], 5);
	assert_int_equal(p.vlan[1], 7);
	assert_prefixes_truncated(&f);
}

static void test_erspan(void **state)
{
	struct tcp_packet p;
	struct frame f;

	(void)state;
	/* Type II: sequence number set, 8-byte header, session id 0x155. */
	f.len = 0;
	ether(&f, 0, 0x0800);
	ipv4(&f, 47, 8 + 8 + ETH_LEN + INNER_LEN, 3, 4, 64);
	gre(&f, 0x1000, 0x88be, 0);
	put32(&f, 0x10000000u | 0x155);		/* ver 1, vlan 0, cos/en/t 0, session */
	put32(&f, 0);
	ether(&f, 0, 0x0800);
	inner_rst(&f);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_OK);
	assert_inner(&p);
	assert_outer(&p, TUNNEL_ERSPAN, 3, 4);
	assert_true(p.tunnel.has_key);
	assert_int_equal(p.tunnel.key, 0x155);
	assert_prefixes_truncated(&f);

	/* Type I: no sequence number, no ERSPAN header. */
	f.len = 0;
	ether(&f, 0, 0x0800);
	ipv4(&f, 47, 4 + ETH_LEN + INNER_LEN, 3, 4, 64);
	gre(&f, 0, 0x88be, 0);
	ether(&f, 0, 0x0800);
	inner_rst(&f);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_OK);
	assert_inner(&p);
	assert_false(p.tunnel.has_key);

	/* Type III with the platform subheader (O flag), session 0x2a. */
	f.len = 0;
	ether(&f, 0, 0x0800);
	ipv4(&f, 47, 8 + 12 + 8 + ETH_LEN + INNER_LEN, 3, 4, 64);
	gre(&f, 0x1000, 0x22eb, 0);
	put32(&f, 0x20000000u | 0x2a);		/* ver 2, session */
	put32(&f, 0x01020304);			/* timestamp */
	put16(&f, 0);				/* SGT */
	put16(&f, 0x0001);			/* P 0, FT 0 (Ethernet), hw id 0, D, Gra, O 1 */
	put32(&f, 0xaaaaaaaa);			/* platform-specific subheader */
	put32(&f, 0xbbbbbbbb);
	ether(&f, 0, 0x0800);
	inner_rst(&f);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_OK);
	assert_inner(&p);
	assert_int_equal(p.tunnel.key, 0x2a);
	assert_prefixes_truncated(&f);
}

static void udp(struct frame *f, unsigned dport, size_t payload_len)
{
	put16(f, 54321);
	put16(f, dport);
	put16(f, (unsigned)(8 + payload_len));
	put16(f, 0);
}

static void test_vxlan_geneve(void **state)
{
	struct tcp_packet p;
	struct frame f;

	(void)state;
	f.len = 0;
	ether(&f, 0, 0x0800);
	ipv4(&f, 17, 8 + 8 + ETH_LEN + INNER_LEN, 5, 6, 64);
	udp(&f, 4789, 8 + ETH_LEN + INNER_LEN);
	put32(&f, 0x08000000);			/* I flag */
	put32(&f, 0x12345600);			/* VNI 0x123456 */
	ether(&f, 0, 0x0800);
	inner_rst(&f);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_OK);
	assert_inner(&p);
	assert_outer(&p, TUNNEL_VXLAN, 5, 6);
	assert_int_equal(p.tunnel.key, 0x123456);
	assert_prefixes_truncated(&f);
	/* Without the I flag it is not VXLAN. */
	f.b[ETH_LEN + 20 + 8] = 0;
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_NOT_TCP);
	/* Another UDP port is just UDP. */
	f.b[ETH_LEN + 20 + 8] = 0x08;
	f.b[ETH_LEN + 20 + 3] = 0x36;		/* 4789 = 0x12b5 -> 0x1236 */
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_NOT_TCP);

	/* Geneve with 8 bytes of options, carrying IPv4 directly. */
	f.len = 0;
	ether(&f, 0, 0x0800);
	ipv4(&f, 17, 8 + 16 + INNER_LEN, 5, 6, 64);
	udp(&f, 6081, 16 + INNER_LEN);
	put16(&f, 0x0200);			/* ver 0, opt len 2 words, flags 0 */
	put16(&f, 0x0800);
	put32(&f, 0x00abcd00);			/* VNI 0xabcd */
	put32(&f, 0x01020304);			/* one option, 8 bytes */
	put32(&f, 0x05060708);
	inner_rst(&f);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_OK);
	assert_inner(&p);
	assert_outer(&p, TUNNEL_GENEVE, 5, 6);
	assert_int_equal(p.tunnel.key, 0xabcd);
	assert_prefixes_truncated(&f);
}

/* n GRE-in-IPv4 layers around the inner packet. */
static void nested(struct frame *f, unsigned n)
{
	unsigned i;

	f->len = 0;
	ether(f, 0, 0x0800);
	for (i = 0; i < n; i++) {
		ipv4(f, 47, (n - i) * 4 + (n - i - 1) * 20 + INNER_LEN, (uint8_t)(10 + i),
		     (uint8_t)(20 + i), 64);
		gre(f, 0, 0x0800, 0);
	}
	inner_rst(f);
}

static void test_nesting_limit(void **state)
{
	struct tcp_packet p;
	struct frame f;

	(void)state;
	nested(&f, DECODE_MAX_TUNNELS);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_OK);
	assert_inner(&p);
	assert_int_equal(p.tunnel.depth, DECODE_MAX_TUNNELS);
	assert_outer(&p, TUNNEL_GRE, 10, 20);	/* the outermost is named */
	nested(&f, DECODE_MAX_TUNNELS + 1);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_MALFORMED);
}

/* A zone is the tunnel's, whichever way a packet goes through it, and
 * differs between tunnels: flows in them never mix. */
static void test_zones(void **state)
{
	struct tcp_packet a, b, c;
	struct frame f;

	(void)state;
	f.len = 0;
	ether(&f, 0, 0x0800);
	ipv4(&f, 47, 8 + INNER_LEN, 1, 2, 64);
	gre(&f, 0x2000, 0x0800, 1);
	inner_rst(&f);
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &a), DECODE_OK);
	f.b[ETH_LEN + 15] = 2;			/* outer addresses swapped */
	f.b[ETH_LEN + 19] = 1;
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &b), DECODE_OK);
	assert_int_equal(a.tunnel_zone, b.tunnel_zone);
	f.b[ETH_LEN + 20 + 7] = 2;		/* another key */
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &c), DECODE_OK);
	assert_int_not_equal(a.tunnel_zone, c.tunnel_zone);
}

/* The GRE type says IPv4, the packet is IPv6: malformed. PPTP's GRE version 1
 * and routing are not followed: not TCP. */
static void test_gre_oddities(void **state)
{
	struct tcp_packet p;
	struct frame f;

	(void)state;
	f.len = 0;
	ether(&f, 0, 0x0800);
	ipv4(&f, 47, 4 + INNER_LEN, 1, 2, 64);
	gre(&f, 0, 0x0800, 0);
	inner_rst(&f);
	f.b[ETH_LEN + 20 + 4] = 0x65;
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_MALFORMED);
	f.b[ETH_LEN + 20 + 4] = 0x45;
	f.b[ETH_LEN + 20 + 1] = 0x01;		/* version 1 */
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_NOT_TCP);
	f.b[ETH_LEN + 20 + 1] = 0;
	f.b[ETH_LEN + 20 + 0] = 0x40;		/* routing present */
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_NOT_TCP);
	f.b[ETH_LEN + 20 + 0] = 0;
	f.b[ETH_LEN + 20 + 2] = 0x88;		/* protocol 0x8800: nothing we know */
	assert_int_equal(decode_frame(LINK_ETHERNET, f.b, f.len, &p), DECODE_NOT_IP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gre_ipv4),
		cmocka_unit_test(test_gre_ethernet_vlans),
		cmocka_unit_test(test_erspan),
		cmocka_unit_test(test_vxlan_geneve),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_gre_oddities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
