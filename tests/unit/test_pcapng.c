/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of src/pcapng.c: pcapng files built here byte by byte, in both
 * byte orders, walked block by block with pcapng_next from a copy that ends
 * right before a PROT_NONE page (reading one byte past the file faults). */
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
#include "pcapng.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- building pcapng files --------------------------------------------- */

#define FILE_MAX 8192

struct png {
	uint8_t b[FILE_MAX];
	size_t len;
	bool big;		/* byte order of the section being written */
	size_t block;		/* start of the open block */
};

static void put8(struct png *p, uint8_t v)
{
	assert_true(p->len < FILE_MAX);
	p->b[p->len++] = v;
}

static void put16(struct png *p, uint16_t v)
{
	put8(p, (uint8_t)(p->big ? v >> 8 : v));
	put8(p, (uint8_t)(p->big ? v : v >> 8));
}

static void put32(struct png *p, uint32_t v)
{
	put16(p, (uint16_t)(p->big ? v >> 16 : v));
	put16(p, (uint16_t)(p->big ? v : v >> 16));
}

static void put64(struct png *p, uint64_t v)
{
	put32(p, (uint32_t)(p->big ? v >> 32 : v));
	put32(p, (uint32_t)(p->big ? v : v >> 32));
}

static void put_bytes(struct png *p, const uint8_t *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put8(p, d[i]);
}

static void pad4(struct png *p)
{
	while (p->len % 4)
		put8(p, 0);
}

static void set32(struct png *p, size_t off, uint32_t v)
{
	size_t save = p->len;

	p->len = off;
	put32(p, v);
	p->len = save;
}

static void begin(struct png *p, uint32_t type)
{
	p->block = p->len;
	put32(p, type);
	put32(p, 0);		/* total length, filled by end() */
}

/* Pads the body, writes both lengths; returns the block's total length. */
static uint32_t end(struct png *p)
{
	uint32_t total;

	pad4(p);
	total = (uint32_t)(p->len - p->block + 4);
	set32(p, p->block + 4, total);
	put32(p, total);
	return total;
}

static void shb(struct png *p, bool big)
{
	p->big = big;
	begin(p, PCAPNG_SHB_MAGIC);
	put32(p, 0x1A2B3C4D);
	put16(p, 1);
	put16(p, 0);
	put64(p, UINT64_MAX);	/* section length unknown */
	end(p);
}

#define NO_TSRESOL (-1)

/* An IDB; tsresol NO_TSRESOL leaves the default (microseconds); tsoffset 0: no option. */
static void idb(struct png *p, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
	begin(p, PCAPNG_BT_IDB);
	put16(p, linktype);
	put16(p, 0);
	put32(p, snaplen);
	put16(p, 2);		/* if_name, ignored */
	put16(p, 5);
	put_bytes(p, (const uint8_t *)"eth0x", 5);
	pad4(p);
	if (tsresol != NO_TSRESOL) {
		put16(p, 9);
		put16(p, 1);
		put8(p, (uint8_t)tsresol);
		pad4(p);
	}
	if (tsoffset) {
		put16(p, 14);
		put16(p, 8);
		put64(p, (uint64_t)tsoffset);
	}
	put16(p, 0);		/* opt_endofopt */
	put16(p, 0);
	end(p);
}

/* Returns the offset of the packet data in the file. */
static size_t epb(struct png *p, uint32_t iface, uint64_t ts, const uint8_t *d, uint32_t caplen,
		  uint32_t origlen)
{
	size_t data_off;

	begin(p, PCAPNG_BT_EPB);
	put32(p, iface);
	put32(p, (uint32_t)(ts >> 32));
	put32(p, (uint32_t)ts);
	put32(p, caplen);
	put32(p, origlen);
	data_off = p->len;
	put_bytes(p, d, caplen);
	pad4(p);
	put16(p, 1);		/* opt_comment */
	put16(p, 3);
	put_bytes(p, (const uint8_t *)"hi!", 3);
	pad4(p);
	end(p);
	return data_off;
}

static size_t spb(struct png *p, const uint8_t *d, uint32_t n, uint32_t origlen)
{
	size_t data_off;

	begin(p, PCAPNG_BT_SPB);
	put32(p, origlen);
	data_off = p->len;
	put_bytes(p, d, n);
	end(p);
	return data_off;
}

static size_t pb(struct png *p, uint16_t iface, uint64_t ts, const uint8_t *d, uint32_t n)
{
	size_t data_off;

	begin(p, PCAPNG_BT_PB);
	put16(p, iface);
	put16(p, 0);		/* drops count */
	put32(p, (uint32_t)(ts >> 32));
	put32(p, (uint32_t)ts);
	put32(p, n);
	put32(p, n);
	data_off = p->len;
	put_bytes(p, d, n);
	end(p);
	return data_off;
}

/* A block of a type the reader does not know, with n bytes of body. */
static void other_block(struct png *p, uint32_t type, size_t n)
{
	size_t i;

	begin(p, type);
	for (i = 0; i < n; i++)
		put8(p, (uint8_t)(0xe0 + i));
	end(p);
}

/* ---- frames ------------------------------------------------------------ */

/* Ethernet, 198.51.100.1:40000 -> 203.0.113.2:80 SYN */
static const uint8_t eth_syn[] = {
	2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
	0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 198, 51, 100, 1, 203, 0, 113, 2,
	0x9c, 0x40, 0, 80, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0,
};

/* Raw IPv4, 203.0.113.2:80 -> 198.51.100.1:40000 RA */
static const uint8_t raw_ra[] = {
	0x45, 0, 0, 40, 0, 0, 0x40, 0, 63, 6, 0, 0, 203, 0, 113, 2, 198, 51, 100, 1,
	0, 80, 0x9c, 0x40, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x45, 0x50, 0x14, 0, 0, 0, 0, 0, 0,
};

/* ---- walking ------------------------------------------------------------ */

#define MAX_PKTS 16

struct walk {
	enum pcapng_status st;	/* PCAPNG_OK: every byte consumed */
	size_t consumed;
	uint32_t need;		/* PCAPNG_MORE: bytes the block wants */
	unsigned int n;
	struct pcapng_block pkts[MAX_PKTS];
	size_t data_off[MAX_PKTS];
	uint32_t sections, n_ifaces;
	char err[256];
};

static void walk_bytes(const uint8_t *bytes, size_t len, struct walk *w)
{
	struct pcapng r;
	struct pcapng_block blk;
	struct guarded g;

	memset(w, 0, sizeof(*w));
	guard_put(&g, bytes, len);
	pcapng_init(&r);
	for (;;) {
		w->st = pcapng_next(&r, g.data + w->consumed, len - w->consumed, &blk, w->err,
				    sizeof(w->err));
		if (w->st != PCAPNG_OK) {
			if (w->st == PCAPNG_MORE)
				w->need = blk.len;
			break;
		}
		assert_true(blk.len >= PCAPNG_BLOCK_MIN && blk.len % 4 == 0);
		assert_true(blk.len <= len - w->consumed);
		assert_int_equal(r.offset, w->consumed + blk.len);
		if (blk.is_packet) {
			assert_true(w->n < MAX_PKTS);
			assert_true(blk.data >= g.data + w->consumed);
			assert_true(blk.data + blk.caplen <= g.data + w->consumed + blk.len);
			w->data_off[w->n] = (size_t)(blk.data - g.data);
			w->pkts[w->n++] = blk;
		}
		w->consumed += blk.len;
		if (w->consumed == len)
			break;
	}
	w->sections = r.sections;
	w->n_ifaces = r.n_ifaces;
	pcapng_free(&r);
	guard_free(&g);
}

static void walk(const struct png *p, struct walk *w)
{
	walk_bytes(p->b, p->len, w);
}

#define assert_err_contains(w, s) \
	do { \
		if (!strstr((w)->err, (s))) \
			fail_msg("error '%s' lacks '%s'", (w)->err, (s)); \
	} while (0)

/* ---- tests --------------------------------------------------------------- */

/* Two interfaces with different link types and timestamp resolutions, an
 * unknown block and an SPB, in the byte order *state says. */
static void build_two_ifaces(struct png *p, bool big, size_t off[3])
{
	memset(p, 0, sizeof(*p));
	shb(p, big);
	idb(p, LINK_ETHERNET, 262144, NO_TSRESOL, 0);	/* microseconds */
	idb(p, LINK_RAW, 128, 9, 0);			/* nanoseconds */
	other_block(p, 0x00000BADu, 7);			/* unknown type: skipped */
	off[0] = epb(p, 1, UINT64_C(1700000000123456789), raw_ra, sizeof(raw_ra), 60);
	other_block(p, 0x00000005u, 20);		/* interface statistics */
	off[1] = epb(p, 0, UINT64_C(1700000001000002), eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	off[2] = spb(p, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
}

static void test_two_interfaces(void **state)
{
	bool big = *state != NULL;
	struct tcp_packet pkt;
	struct png p;
	struct walk w;
	size_t off[3];

	build_two_ifaces(&p, big, off);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_OK);
	assert_int_equal(w.consumed, p.len);
	assert_int_equal(w.sections, 1);
	assert_int_equal(w.n_ifaces, 2);
	assert_int_equal(w.n, 3);

	assert_int_equal(w.pkts[0].type, PCAPNG_BT_EPB);
	assert_int_equal(w.pkts[0].iface, 1);
	assert_int_equal(w.pkts[0].linktype, LINK_RAW);
	assert_int_equal(w.pkts[0].ts_us, UINT64_C(1700000000123456));
	assert_int_equal(w.pkts[0].caplen, sizeof(raw_ra));
	assert_int_equal(w.pkts[0].origlen, 60);
	assert_int_equal(w.data_off[0], off[0]);

	assert_int_equal(w.pkts[1].iface, 0);
	assert_int_equal(w.pkts[1].linktype, LINK_ETHERNET);
	assert_int_equal(w.pkts[1].ts_us, UINT64_C(1700000001000002));
	assert_int_equal(w.pkts[1].caplen, sizeof(eth_syn));
	assert_int_equal(w.data_off[1], off[1]);

	/* SPB: interface 0, no timestamp of its own: the previous packet's */
	assert_int_equal(w.pkts[2].type, PCAPNG_BT_SPB);
	assert_int_equal(w.pkts[2].iface, 0);
	assert_int_equal(w.pkts[2].linktype, LINK_ETHERNET);
	assert_int_equal(w.pkts[2].ts_us, UINT64_C(1700000001000002));
	assert_int_equal(w.pkts[2].caplen, sizeof(eth_syn));
	assert_int_equal(w.pkts[2].origlen, sizeof(eth_syn));
	assert_int_equal(w.data_off[2], off[2]);

	/* Each packet decodes with its own interface's link type. */
	assert_memory_equal(p.b + off[0], raw_ra, sizeof(raw_ra));
	assert_int_equal(decode_frame(w.pkts[0].linktype, p.b + off[0], w.pkts[0].caplen, &pkt),
			 DECODE_OK);
	assert_int_equal(pkt.flags, TCPF_RST | TCPF_ACK);
	assert_int_equal(decode_frame(w.pkts[1].linktype, p.b + off[1], w.pkts[1].caplen, &pkt),
			 DECODE_OK);
	assert_int_equal(pkt.flags, TCPF_SYN);
}

/* Both byte orders give the same packets. */
static void test_byte_orders_agree(void **state)
{
	struct png le, be;
	struct walk wl, wb;
	size_t off[3];
	unsigned int i;

	(void)state;
	build_two_ifaces(&le, false, off);
	build_two_ifaces(&be, true, off);
	assert_int_equal(le.len, be.len);
	assert_memory_not_equal(le.b, be.b, le.len);
	walk(&le, &wl);
	walk(&be, &wb);
	assert_int_equal(wl.n, wb.n);
	for (i = 0; i < wl.n; i++) {
		assert_int_equal(wl.pkts[i].linktype, wb.pkts[i].linktype);
		assert_int_equal(wl.pkts[i].ts_us, wb.pkts[i].ts_us);
		assert_int_equal(wl.pkts[i].caplen, wb.pkts[i].caplen);
		assert_int_equal(wl.data_off[i], wb.data_off[i]);
	}
}

/* A second section, in the other byte order, starts its own interface list. */
static void test_sections(void **state)
{
	struct png p = { 0 };
	struct walk w;

	(void)state;
	shb(&p, false);
	idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);
	idb(&p, LINK_SLL, 0, NO_TSRESOL, 0);
	epb(&p, 1, 5, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	shb(&p, true);
	idb(&p, LINK_RAW, 0, 3, 0);			/* milliseconds */
	epb(&p, 0, 1234567, raw_ra, sizeof(raw_ra), sizeof(raw_ra));
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_OK);
	assert_int_equal(w.sections, 2);
	assert_int_equal(w.n_ifaces, 1);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.pkts[0].linktype, LINK_SLL);
	assert_int_equal(w.pkts[0].ts_us, 5);
	assert_int_equal(w.pkts[1].linktype, LINK_RAW);
	assert_int_equal(w.pkts[1].ts_us, UINT64_C(1234567000));

	/* Interface 1 of the first section does not exist in the second. */
	epb(&p, 1, 0, raw_ra, sizeof(raw_ra), sizeof(raw_ra));
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_int_equal(w.n, 2);
	assert_err_contains(&w, "interface 1");
}

/* if_tsresol as a power of 2, and if_tsoffset. */
static void test_tsresol_pow2_and_offset(void **state)
{
	struct png p = { 0 };
	struct walk w;

	(void)state;
	shb(&p, true);
	idb(&p, LINK_ETHERNET, 0, 0x8a, 1000);		/* 2^-10 s, +1000 s */
	idb(&p, LINK_ETHERNET, 0, 0, -5);		/* seconds, -5 s */
	epb(&p, 0, 5 * 1024 + 512, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	epb(&p, 1, 1700000000, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.pkts[0].ts_us, UINT64_C(1005500000));
	assert_int_equal(w.pkts[1].ts_us, UINT64_C(1699999995000000));
}

static void test_ts_us(void **state)
{
	static const struct {
		uint8_t tsresol;
		int64_t tsoffset;
		uint64_t units, want;
	} cases[] = {
		{ 6, 0, UINT64_C(1700000000123456), UINT64_C(1700000000123456) },
		{ 0, 0, 17, 17000000 },
		{ 3, 0, 1500, 1500000 },
		{ 9, 0, UINT64_C(1700000000999999999), UINT64_C(1700000000999999) },
		{ 19, 0, UINT64_MAX, UINT64_C(1844674) },
		{ 0x80, 0, 3, 3000000 },
		{ 0x94, 0, (UINT64_C(7) << 20) | (1 << 19), 7500000 },
		{ 0xbf, 0, UINT64_C(1) << 62, 500000 },
		{ 0, -10, 5, 0 },				/* clamped at the epoch */
		{ 0, INT64_MIN, 5, 0 },
		{ 0, 100, 5, 105000000 },
		{ 0, 0, UINT64_MAX, UINT64_MAX },		/* saturates */
		{ 0, INT64_MAX, UINT64_MAX / 2, UINT64_MAX },
		{ 20, 0, 5, UINT64_MAX },			/* not representable */
	};
	struct pcapng_iface ifc = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ifc.tsresol = cases[i].tsresol;
		ifc.tsoffset = cases[i].tsoffset;
		if (pcapng_ts_us(&ifc, cases[i].units) != cases[i].want)
			fail_msg("case %zu: tsresol 0x%02x offset %lld units %llu: %llu, want %llu", i,
				 cases[i].tsresol, (long long)cases[i].tsoffset,
				 (unsigned long long)cases[i].units,
				 (unsigned long long)pcapng_ts_us(&ifc, cases[i].units),
				 (unsigned long long)cases[i].want);
	}
}

/* The obsolete Packet Block: 16-bit interface id. */
static void test_packet_block(void **state)
{
	struct png p = { 0 };
	struct walk w;
	size_t off;

	(void)state;
	shb(&p, false);
	idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);
	idb(&p, LINK_RAW, 0, NO_TSRESOL, 0);
	off = pb(&p, 1, 42, raw_ra, sizeof(raw_ra));
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.pkts[0].type, PCAPNG_BT_PB);
	assert_int_equal(w.pkts[0].linktype, LINK_RAW);
	assert_int_equal(w.pkts[0].ts_us, 42);
	assert_int_equal(w.data_off[0], off);
}

/* SPB: min(original length, snaplen) bytes; more than the block holds is bad. */
static void test_spb_snaplen(void **state)
{
	uint8_t data[60] = { 0 };
	struct png p = { 0 };
	struct walk w;

	(void)state;
	shb(&p, false);
	idb(&p, LINK_ETHERNET, 60, NO_TSRESOL, 0);
	spb(&p, data, sizeof(data), 1500);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.pkts[0].caplen, 60);
	assert_int_equal(w.pkts[0].origlen, 1500);
	assert_int_equal(w.pkts[0].ts_us, 0);		/* no packet before it */

	memset(&p, 0, sizeof(p));
	shb(&p, false);
	idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);	/* no snaplen: all 1500 should be there */
	spb(&p, data, sizeof(data), 1500);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_err_contains(&w, "captured length 1500");
}

static void test_spb_without_interface(void **state)
{
	struct png p = { 0 };
	struct walk w;

	(void)state;
	shb(&p, false);
	spb(&p, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_err_contains(&w, "simple packet block");
}

/* Damage after good blocks: what came before is returned, then the error. */
static void test_bad_trailing_length(void **state)
{
	struct png p = { 0 };
	struct walk w;
	size_t start;

	(void)state;
	shb(&p, false);
	idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);
	epb(&p, 0, 1, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	start = p.len;
	epb(&p, 0, 2, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	set32(&p, p.len - 4, 4 + (uint32_t)(p.len - start));
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.consumed, start);
	assert_err_contains(&w, "trailing length");
	assert_err_contains(&w, "enhanced packet block");
}

static void test_truncated_block(void **state)
{
	struct png p = { 0 };
	struct walk w;
	size_t start;
	uint32_t total;

	(void)state;
	shb(&p, false);
	idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);
	epb(&p, 0, 1, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	start = p.len;
	epb(&p, 0, 2, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	total = (uint32_t)(p.len - start);
	p.len -= 5;
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_MORE);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.consumed, start);
	assert_int_equal(w.need, total);

	p.len = start + 7;		/* inside the block header */
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_MORE);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.need, PCAPNG_BLOCK_MIN);
}

/* Block lengths that cannot be: 0, below 12, not a multiple of 4, too big. */
static void test_bad_total_lengths(void **state)
{
	static const struct {
		uint32_t total;
		const char *msg;
	} cases[] = {
		{ 0, "total length 0" },
		{ 8, "total length 8" },
		{ 30, "total length 30" },
		{ PCAPNG_MAX_BLOCK + 4, "over the" },
		{ UINT32_MAX - 3, "over the" },
	};
	struct png p;
	struct walk w;
	size_t i, start;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&p, 0, sizeof(p));
		shb(&p, i % 2);
		idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);
		start = p.len;
		epb(&p, 0, 1, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
		set32(&p, start + 4, cases[i].total);
		walk(&p, &w);
		assert_int_equal(w.st, PCAPNG_BAD);
		assert_int_equal(w.consumed, start);
		assert_err_contains(&w, cases[i].msg);
	}
}

static void test_epb_caplen_past_block(void **state)
{
	struct png p = { 0 };
	struct walk w;
	size_t start;

	(void)state;
	shb(&p, true);
	idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);
	start = p.len;
	epb(&p, 0, 1, eth_syn, sizeof(eth_syn), sizeof(eth_syn));
	set32(&p, start + 8 + 12, 200);		/* captured length */
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_err_contains(&w, "captured length 200");

	/* A body too short for the EPB's fixed fields. */
	memset(&p, 0, sizeof(p));
	shb(&p, true);
	idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);
	other_block(&p, PCAPNG_BT_EPB, 16);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_err_contains(&w, "body of 16 bytes");
}

static void test_bad_idb_options(void **state)
{
	struct png p;
	struct walk w;
	size_t start;

	(void)state;
	/* tsresol 10^-20: more than 64 bits of units per second */
	memset(&p, 0, sizeof(p));
	shb(&p, false);
	idb(&p, LINK_ETHERNET, 0, 20, 0);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_err_contains(&w, "if_tsresol 0x14");

	/* 2^-64 */
	memset(&p, 0, sizeof(p));
	shb(&p, false);
	idb(&p, LINK_ETHERNET, 0, 0xc0, 0);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);

	/* if_tsresol of 2 bytes */
	memset(&p, 0, sizeof(p));
	shb(&p, false);
	begin(&p, PCAPNG_BT_IDB);
	put16(&p, LINK_ETHERNET);
	put16(&p, 0);
	put32(&p, 0);
	put16(&p, 9);
	put16(&p, 2);
	put16(&p, 0x0606);
	end(&p);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_err_contains(&w, "if_tsresol of 2 bytes");

	/* an option running past the block */
	memset(&p, 0, sizeof(p));
	shb(&p, false);
	start = p.len;
	begin(&p, PCAPNG_BT_IDB);
	put16(&p, LINK_ETHERNET);
	put16(&p, 0);
	put32(&p, 0);
	put16(&p, 2);
	put16(&p, 400);
	put32(&p, 0);
	end(&p);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_int_equal(w.consumed, start);
	assert_err_contains(&w, "runs past");

	/* an IDB too short for link type and snaplen */
	memset(&p, 0, sizeof(p));
	shb(&p, false);
	other_block(&p, PCAPNG_BT_IDB, 4);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
}

static void test_not_pcapng(void **state)
{
	static const char text[] = "\n\r\r\nhello, world\n";
	struct png p = { 0 };
	struct walk w;

	(void)state;
	/* the first block is not a section header */
	idb(&p, LINK_ETHERNET, 0, NO_TSRESOL, 0);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_NOT_PCAPNG);
	assert_int_equal(w.n, 0);

	/* the magic, but no byte-order magic: text that starts "\n\r\r\n" */
	walk_bytes((const uint8_t *)text, sizeof(text) - 1, &w);
	assert_int_equal(w.st, PCAPNG_NOT_PCAPNG);
	assert_err_contains(&w, "byte-order magic");

	/* nothing at all yet: ask for a block header */
	walk_bytes((const uint8_t *)"", 0, &w);
	assert_int_equal(w.st, PCAPNG_MORE);
	assert_int_equal(w.need, PCAPNG_BLOCK_MIN);

	/* a later section header with a bad byte-order magic is damage, not "not pcapng" */
	memset(&p, 0, sizeof(p));
	shb(&p, false);
	shb(&p, false);
	set32(&p, p.len - 28 + 8, 0x11223344);
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_int_equal(w.sections, 1);
}

static void test_shb_version(void **state)
{
	struct png p = { 0 };
	struct walk w;

	(void)state;
	shb(&p, false);
	p.b[12] = 2;		/* major version 2 */
	walk(&p, &w);
	assert_int_equal(w.st, PCAPNG_BAD);
	assert_err_contains(&w, "version 2.0");
}

/* Every prefix of a good file is a file cut short: whole blocks, then MORE,
 * never an error, and the packets are the first ones of the whole file. */
static void test_every_prefix(void **state)
{
	struct png p;
	struct walk full, w;
	size_t off[3], n;
	unsigned int i;

	(void)state;
	build_two_ifaces(&p, true, off);
	pb(&p, 0, 7, eth_syn, sizeof(eth_syn));
	walk(&p, &full);
	assert_int_equal(full.n, 4);
	for (n = 0; n < p.len; n++) {
		walk_bytes(p.b, n, &w);
		if (w.st != PCAPNG_MORE && !(w.st == PCAPNG_OK && w.consumed == n))
			fail_msg("%zu-byte prefix: status %d: %s", n, w.st, w.err);
		assert_true(w.n <= full.n);
		for (i = 0; i < w.n; i++) {
			assert_int_equal(w.pkts[i].ts_us, full.pkts[i].ts_us);
			assert_int_equal(w.data_off[i], full.data_off[i]);
		}
	}
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		{ "test_two_interfaces little-endian", test_two_interfaces, NULL, NULL, NULL },
		{ "test_two_interfaces big-endian", test_two_interfaces, NULL, NULL, (void *)1 },
		cmocka_unit_test(test_byte_orders_agree),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_tsresol_pow2_and_offset),
		cmocka_unit_test(test_ts_us),
		cmocka_unit_test(test_packet_block),
		cmocka_unit_test(test_spb_snaplen),
		cmocka_unit_test(test_spb_without_interface),
		cmocka_unit_test(test_bad_trailing_length),
		cmocka_unit_test(test_truncated_block),
		cmocka_unit_test(test_bad_total_lengths),
		cmocka_unit_test(test_epb_caplen_past_block),
		cmocka_unit_test(test_bad_idb_options),
		cmocka_unit_test(test_not_pcapng),
		cmocka_unit_test(test_shb_version),
		cmocka_unit_test(test_every_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
