/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pcapng block walker (draft-ietf-opsawg-pcapng): pure parsing of one block at
 * a time out of a caller's buffer, no I/O. capture.c feeds it a file block by
 * block; the unit tests and the fuzzer feed it whole byte strings.
 *
 * Unlike libpcap 1.10, every interface keeps its own link type, snapshot
 * length and timestamp resolution, so a file merged from several captures
 * (one IDB per source) reads in full.
 *
 * Blocks read: Section Header (either byte order, any number of sections),
 * Interface Description (link type, snaplen, if_tsresol, if_tsoffset),
 * Enhanced Packet, Simple Packet, the obsolete Packet Block (type 2). Every
 * other block type is skipped by its length. */
#ifndef RSTWATCH_PCAPNG_H
#define RSTWATCH_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAPNG_SHB_MAGIC	0x0A0D0D0Au	/* the same bytes in both byte orders */
#define PCAPNG_BLOCK_MIN	12u		/* type, total length, trailing length */
/* The largest block accepted: a reader's buffer never grows past this. */
#define PCAPNG_MAX_BLOCK	(16u * 1024 * 1024)
/* Interfaces per section: a bound on memory, not a limit of the format. */
#define PCAPNG_MAX_IFACES	65536u

struct pcapng_iface {
	uint16_t linktype;      /* LINKTYPE_* */
	uint32_t snaplen;       /* 0: no limit */
	uint8_t tsresol;        /* if_tsresol: bit 7 clear 10^-n s, set 2^-n s; default 6 */
	int64_t tsoffset;       /* if_tsoffset: seconds added to every timestamp */
};

struct pcapng {
	bool started;           /* a valid Section Header Block has been read */
	bool big_endian;        /* byte order of the current section */
	uint32_t sections;      /* Section Header Blocks read */
	struct pcapng_iface *ifaces;    /* the current section's interfaces */
	uint32_t n_ifaces, cap_ifaces;
	uint64_t last_ts_us;    /* of the previous packet: a Simple Packet Block has none */
	uint64_t offset;        /* file offset of the next block, for messages */
};

struct pcapng_block {
	uint32_t type;
	uint32_t len;           /* PCAPNG_OK: the block's total length, to skip;
				 * PCAPNG_MORE: how many bytes buf must hold */
	bool is_packet;         /* EPB, SPB or PB: the fields below are set */
	uint32_t iface;
	int linktype;           /* the interface's LINKTYPE_* */
	uint64_t ts_us;         /* microseconds since the epoch */
	const uint8_t *data;    /* points into buf */
	uint32_t caplen;        /* bytes at data */
	uint32_t origlen;       /* the packet's length on the wire */
	uint8_t dir;            /* EPB epb_flags' direction: 0 unknown, 1 inbound, 2 outbound */
};

enum pcapng_status {
	PCAPNG_OK = 0,          /* one block read: blk->len bytes consumed */
	PCAPNG_MORE = 1,        /* buf holds only the start of a block: blk->len bytes wanted */
	PCAPNG_BAD = -1,        /* malformed block (or out of memory): err says what */
	PCAPNG_NOT_PCAPNG = -2, /* the first block is not a Section Header Block */
};

/* Block type numbers. */
#define PCAPNG_BT_IDB		0x00000001u
#define PCAPNG_BT_PB		0x00000002u	/* obsolete Packet Block */
#define PCAPNG_BT_SPB		0x00000003u
#define PCAPNG_BT_EPB		0x00000006u

void pcapng_init(struct pcapng *r);
void pcapng_free(struct pcapng *r);

/* Reads the block that starts at buf[0]; len bytes of it are there (buf may be
 * NULL when len is 0). Never reads past buf + len. On PCAPNG_OK the caller
 * advances by blk->len (and r->offset has been advanced); on PCAPNG_MORE it
 * supplies at least blk->len bytes from the same start and calls again. A
 * block larger than PCAPNG_MAX_BLOCK is PCAPNG_BAD. */
enum pcapng_status pcapng_next(struct pcapng *r, const uint8_t *buf, size_t len,
			       struct pcapng_block *blk, char *err, size_t errlen);

/* "enhanced packet block", "interface description block"... or "block". */
const char *pcapng_block_name(uint32_t type);

/* A timestamp in the interface's units as microseconds since the epoch
 * (sub-microsecond digits dropped; saturates instead of wrapping). */
uint64_t pcapng_ts_us(const struct pcapng_iface *ifc, uint64_t units);

#endif
