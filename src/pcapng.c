/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcapng block walker: see pcapng.h. Every field is read through the bounded
 * accessors of bytes.h, in the byte order of the current section. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "pcapng.h"

#define BOM_BIG			0x1A2B3C4Du	/* byte-order magic, read big-endian */
#define BOM_LITTLE		0x4D3C2B1Au
#define BT_SHB			PCAPNG_SHB_MAGIC
#define BT_ISB			0x00000005u
#define BT_NRB			0x00000004u

#define SHB_BODY_MIN		16	/* BOM, major, minor, section length */
#define SHB_MAJOR		1
#define IDB_BODY_MIN		8	/* link type, reserved, snaplen */
#define EPB_BODY_MIN		20	/* interface, ts high, ts low, caplen, origlen */
#define PB_BODY_MIN		20	/* interface (16), drops (16), ts high, ts low, caplen, origlen */
#define SPB_BODY_MIN		4	/* origlen */

#define OPT_ENDOFOPT		0
#define OPT_IF_TSRESOL		9
#define OPT_IF_TSOFFSET		14
#define OPT_EPB_FLAGS		2
#define EPB_FLAGS_DIR		0x3u	/* 1 inbound, 2 outbound */
#define TSRESOL_POW2		0x80
#define TSRESOL_EXP		0x7f
#define TSRESOL_DEFAULT		6	/* microseconds */
#define TSRESOL_POW10_MAX	19	/* 10^19 units per second still fits 64 bits */
#define TSRESOL_POW2_MAX	63

#define US_PER_S		1000000u

struct rd {
	struct bytes b;
	bool big;
};

static bool rd16(const struct rd *r, size_t off, uint16_t *v)
{
	uint8_t lo, hi;

	if (!get_u8(&r->b, off, &hi) || !get_u8(&r->b, off + 1, &lo))
		return false;
	*v = r->big ? (uint16_t)(hi << 8 | lo) : (uint16_t)(lo << 8 | hi);
	return true;
}

static bool rd32(const struct rd *r, size_t off, uint32_t *v)
{
	return r->big ? get_be32(&r->b, off, v) : get_le32(&r->b, off, v);
}

static bool rd64(const struct rd *r, size_t off, uint64_t *v)
{
	uint32_t a, b;

	if (!rd32(r, off, &a) || !rd32(r, off + 4, &b))
		return false;
	*v = r->big ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
	return true;
}

/* Fields whose presence a length check already proved: 0 if it was wrong. */
static uint16_t u16_at(const struct rd *r, size_t off)
{
	uint16_t v = 0;

	rd16(r, off, &v);
	return v;
}

static uint32_t u32_at(const struct rd *r, size_t off)
{
	uint32_t v = 0;

	rd32(r, off, &v);
	return v;
}

const char *pcapng_block_name(uint32_t type)
{
	switch (type) {
	case BT_SHB:
		return "section header block";
	case PCAPNG_BT_IDB:
		return "interface description block";
	case PCAPNG_BT_PB:
		return "packet block";
	case PCAPNG_BT_SPB:
		return "simple packet block";
	case PCAPNG_BT_EPB:
		return "enhanced packet block";
	case BT_NRB:
		return "name resolution block";
	case BT_ISB:
		return "interface statistics block";
	default:
		return "block";
	}
}

__attribute__((format(printf, 5, 6)))
static enum pcapng_status fail(const struct pcapng *r, uint32_t type, char *err, size_t errlen,
			       const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s (type 0x%08x) at offset %llu: %s", pcapng_block_name(type), type,
			 (unsigned long long)r->offset, what);
	return PCAPNG_BAD;
}

void pcapng_init(struct pcapng *r)
{
	memset(r, 0, sizeof(*r));
}

void pcapng_free(struct pcapng *r)
{
	free(r->ifaces);
	pcapng_init(r);
}

static uint64_t pow10_u64(unsigned int e)
{
	uint64_t v = 1;

	while (e--)
		v *= 10;
	return v;
}

uint64_t pcapng_ts_us(const struct pcapng_iface *ifc, uint64_t units)
{
	unsigned int e = ifc->tsresol & TSRESOL_EXP;
	uint64_t sec, frac, us;

	if (ifc->tsresol & TSRESOL_POW2) {
		if (e > TSRESOL_POW2_MAX)
			return UINT64_MAX;
		sec = e ? units >> e : units;
		frac = e ? units & ((UINT64_C(1) << e) - 1) : 0;
		/* frac * 10^6 must fit 64 bits: drop fraction bits below 2^-44 s first. */
		if (e > 44) {
			frac >>= e - 44;
			e = 44;
		}
		us = (frac * US_PER_S) >> e;
	} else {
		uint64_t per_s;

		if (e > TSRESOL_POW10_MAX)
			return UINT64_MAX;
		per_s = pow10_u64(e);
		sec = units / per_s;
		frac = units % per_s;
		us = e >= 6 ? frac / pow10_u64(e - 6) : frac * pow10_u64(6 - e);
	}
	if (ifc->tsoffset >= 0) {
		uint64_t add = (uint64_t)ifc->tsoffset;

		sec = sec > UINT64_MAX - add ? UINT64_MAX : sec + add;
	} else {
		uint64_t sub = (uint64_t)(-(ifc->tsoffset + 1)) + 1;

		sec = sec < sub ? 0 : sec - sub;
	}
	if (sec > (UINT64_MAX - us) / US_PER_S)
		return UINT64_MAX;
	return sec * US_PER_S + us;
}

static enum pcapng_status read_shb(struct pcapng *r, const struct rd *body, bool big,
				   char *err, size_t errlen)
{
	uint16_t major, minor;

	if (body->b.len < SHB_BODY_MIN)
		return fail(r, BT_SHB, err, errlen, "body of %zu bytes, need %d", body->b.len,
			    SHB_BODY_MIN);
	major = u16_at(body, 4);
	minor = u16_at(body, 6);
	if (major != SHB_MAJOR)
		return fail(r, BT_SHB, err, errlen, "pcapng version %u.%u, only 1.x is known",
			    major, minor);
	r->big_endian = big;
	r->n_ifaces = 0;	/* interface ids are per section */
	r->sections++;
	r->started = true;
	return PCAPNG_OK;
}

static enum pcapng_status add_iface(struct pcapng *r, const struct pcapng_iface *ifc,
				    char *err, size_t errlen)
{
	if (r->n_ifaces == PCAPNG_MAX_IFACES)
		return fail(r, PCAPNG_BT_IDB, err, errlen, "more than %u interfaces in one section",
			    PCAPNG_MAX_IFACES);
	if (r->n_ifaces == r->cap_ifaces) {
		uint32_t cap = r->cap_ifaces ? r->cap_ifaces * 2 : 16;
		struct pcapng_iface *p;

		if (cap > PCAPNG_MAX_IFACES)
			cap = PCAPNG_MAX_IFACES;
		p = realloc(r->ifaces, (size_t)cap * sizeof(*p));
		if (!p)
			return fail(r, PCAPNG_BT_IDB, err, errlen, "%s", strerror(errno));
		r->ifaces = p;
		r->cap_ifaces = cap;
	}
	r->ifaces[r->n_ifaces++] = *ifc;
	return PCAPNG_OK;
}

static enum pcapng_status read_idb(struct pcapng *r, const struct rd *body, char *err,
				   size_t errlen)
{
	struct pcapng_iface ifc = { .tsresol = TSRESOL_DEFAULT };
	size_t off = IDB_BODY_MIN;
	uint16_t code, olen;
	uint8_t res;
	uint64_t v;

	if (body->b.len < IDB_BODY_MIN)
		return fail(r, PCAPNG_BT_IDB, err, errlen, "body of %zu bytes, need %d",
			    body->b.len, IDB_BODY_MIN);
	ifc.linktype = u16_at(body, 0);
	ifc.snaplen = u32_at(body, 4);
	/* Options: code, length, value padded to 32 bits, up to opt_endofopt
	 * or the end of the body. */
	while (rd16(body, off, &code) && rd16(body, off + 2, &olen) && code != OPT_ENDOFOPT) {
		if (!bytes_has(&body->b, off + 4, olen))
			return fail(r, PCAPNG_BT_IDB, err, errlen,
				    "option %u of %u bytes runs past the block", code, olen);
		switch (code) {
		case OPT_IF_TSRESOL:
			if (olen != 1 || !get_u8(&body->b, off + 4, &res))
				return fail(r, PCAPNG_BT_IDB, err, errlen,
					    "if_tsresol of %u bytes, not 1", olen);
			if ((res & TSRESOL_POW2) ? (res & TSRESOL_EXP) > TSRESOL_POW2_MAX
						 : res > TSRESOL_POW10_MAX)
				return fail(r, PCAPNG_BT_IDB, err, errlen,
					    "if_tsresol 0x%02x: units finer than 64 bits can count",
					    res);
			ifc.tsresol = res;
			break;
		case OPT_IF_TSOFFSET:
			if (olen != 8 || !rd64(body, off + 4, &v))
				return fail(r, PCAPNG_BT_IDB, err, errlen,
					    "if_tsoffset of %u bytes, not 8", olen);
			ifc.tsoffset = (int64_t)v;
			break;
		default:
			break;
		}
		off += 4 + (((size_t)olen + 3) & ~(size_t)3);
	}
	return add_iface(r, &ifc, err, errlen);
}

/* The direction bits of an EPB's epb_flags option (its options start at
 * off), 0 if absent. A malformed option ends the walk: the packet is good
 * without it. */
static uint8_t epb_direction(const struct rd *body, size_t off)
{
	uint16_t code, olen;
	uint32_t flags;

	while (rd16(body, off, &code) && rd16(body, off + 2, &olen) && code != OPT_ENDOFOPT &&
	       bytes_has(&body->b, off + 4, olen)) {
		if (code == OPT_EPB_FLAGS && olen == 4 && rd32(body, off + 4, &flags))
			return (uint8_t)(flags & EPB_FLAGS_DIR);
		off += 4 + (((size_t)olen + 3) & ~(size_t)3);
	}
	return 0;
}

/* EPB, SPB and PB. */
static enum pcapng_status read_packet(struct pcapng *r, uint32_t type, const struct rd *body,
				      struct pcapng_block *blk, char *err, size_t errlen)
{
	const struct pcapng_iface *ifc;
	size_t min = type == PCAPNG_BT_SPB ? SPB_BODY_MIN
		     : type == PCAPNG_BT_EPB ? EPB_BODY_MIN : PB_BODY_MIN;
	uint64_t units = 0;

	if (body->b.len < min)
		return fail(r, type, err, errlen, "body of %zu bytes, need %zu", body->b.len, min);
	if (type == PCAPNG_BT_SPB) {
		blk->iface = 0;
		blk->origlen = u32_at(body, 0);
		blk->caplen = blk->origlen;
	} else {
		blk->iface = type == PCAPNG_BT_EPB ? u32_at(body, 0) : u16_at(body, 0);
		units = (uint64_t)u32_at(body, 4) << 32 | u32_at(body, 8);
		blk->caplen = u32_at(body, 12);
		blk->origlen = u32_at(body, 16);
	}
	if (blk->iface >= r->n_ifaces)
		return fail(r, type, err, errlen,
			    "packet on interface %u, but the section describes %u interface%s",
			    blk->iface, r->n_ifaces, r->n_ifaces == 1 ? "" : "s");
	ifc = &r->ifaces[blk->iface];
	/* A simple packet block holds min(original length, snaplen) bytes. */
	if (type == PCAPNG_BT_SPB && ifc->snaplen && blk->caplen > ifc->snaplen)
		blk->caplen = ifc->snaplen;
	if (blk->caplen > body->b.len - min)
		return fail(r, type, err, errlen,
			    "captured length %u exceeds the %zu bytes the block holds", blk->caplen,
			    body->b.len - min);
	blk->data = body->b.p + min;
	blk->linktype = ifc->linktype;
	if (type == PCAPNG_BT_EPB)
		blk->dir = epb_direction(body, min + (((size_t)blk->caplen + 3) & ~(size_t)3));
	blk->ts_us = type == PCAPNG_BT_SPB ? r->last_ts_us : pcapng_ts_us(ifc, units);
	blk->is_packet = true;
	r->last_ts_us = blk->ts_us;
	return PCAPNG_OK;
}

enum pcapng_status pcapng_next(struct pcapng *r, const uint8_t *buf, size_t len,
			       struct pcapng_block *blk, char *err, size_t errlen)
{
	struct rd blockv = { .b = { .p = buf, .len = len }, .big = r->big_endian }, body;
	enum pcapng_status st;
	uint32_t type, total, trailing, bom;
	bool big = r->big_endian;

	memset(blk, 0, sizeof(*blk));
	if (len < PCAPNG_BLOCK_MIN) {
		blk->len = PCAPNG_BLOCK_MIN;
		return PCAPNG_MORE;
	}
	get_be32(&blockv.b, 0, &type);
	if (type == BT_SHB) {
		/* A new section may switch byte order: its BOM says which. */
		get_be32(&blockv.b, 8, &bom);
		if (bom == BOM_BIG || bom == BOM_LITTLE) {
			big = bom == BOM_BIG;
		} else {
			if (!r->started) {
				if (err && errlen)
					snprintf(err, errlen, "not a pcapng file (byte-order magic "
						 "0x%08x)", bom);
				return PCAPNG_NOT_PCAPNG;
			}
			return fail(r, type, err, errlen, "byte-order magic 0x%08x", bom);
		}
	} else if (!r->started) {
		if (err && errlen)
			snprintf(err, errlen, "not a pcapng file (first block type 0x%08x)", type);
		return PCAPNG_NOT_PCAPNG;
	}
	blockv.big = big;
	type = u32_at(&blockv, 0);
	total = u32_at(&blockv, 4);
	blk->type = type;
	if (total < PCAPNG_BLOCK_MIN || total % 4)
		return fail(r, type, err, errlen, "total length %u (must be a multiple of 4, "
			    "at least %u)", total, PCAPNG_BLOCK_MIN);
	if (total > PCAPNG_MAX_BLOCK)
		return fail(r, type, err, errlen, "total length %u is over the %u bytes this "
			    "reader accepts", total, PCAPNG_MAX_BLOCK);
	if (len < total) {
		blk->len = total;
		return PCAPNG_MORE;
	}
	trailing = u32_at(&blockv, total - 4);
	if (trailing != total)
		return fail(r, type, err, errlen, "trailing length %u differs from total length %u",
			    trailing, total);
	body.big = big;
	if (!bytes_sub(&blockv.b, 8, total - PCAPNG_BLOCK_MIN, &body.b))
		return fail(r, type, err, errlen, "cannot view the body");	/* not reached */

	switch (type) {
	case BT_SHB:
		st = read_shb(r, &body, big, err, errlen);
		break;
	case PCAPNG_BT_IDB:
		st = read_idb(r, &body, err, errlen);
		break;
	case PCAPNG_BT_EPB:
	case PCAPNG_BT_SPB:
	case PCAPNG_BT_PB:
		st = read_packet(r, type, &body, blk, err, errlen);
		break;
	default:
		st = PCAPNG_OK;		/* NRB, ISB, DSB, custom...: not needed */
		break;
	}
	if (st != PCAPNG_OK) {
		blk->is_packet = false;
		return st;
	}
	blk->len = total;
	r->offset += total;
	return PCAPNG_OK;
}
