/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for src/pcapng.c: the input is a whole pcapng file, walked
 * block by block as capture.c does (each call sees only the bytes left), and
 * every packet goes through decode_frame with its interface's link type.
 * libFuzzer hands over a heap copy of exactly the input's size, so ASan sees
 * any read past the file. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "pcapng.h"

/* The payload sum lands here so that the compiler keeps every read. */
static volatile uint8_t byte_sum;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapng r;
	struct pcapng_block blk;
	struct tcp_packet pkt;
	enum pcapng_status st;
	char err[256];
	size_t off = 0;
	uint8_t sum = 0;
	uint32_t i;

	pcapng_init(&r);
	for (;;) {
		const uint8_t *block = data + off;

		err[0] = '\0';
		st = pcapng_next(&r, size ? block : NULL, size - off, &blk, err, sizeof(err));
		if (st == PCAPNG_MORE) {
			/* What capture.c relies on: a wish it can check against its cap. */
			if (blk.len <= size - off || blk.len < PCAPNG_BLOCK_MIN)
				__builtin_trap();
			break;
		}
		if (st != PCAPNG_OK) {
			if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
				__builtin_trap();	/* every failure says why */
			break;
		}
		if (blk.len < PCAPNG_BLOCK_MIN || blk.len % 4 || blk.len > size - off ||
		    blk.len > PCAPNG_MAX_BLOCK || r.offset != off + blk.len)
			__builtin_trap();
		if (blk.is_packet) {
			if (blk.data < block || blk.caplen > blk.len ||
			    blk.data + blk.caplen > block + blk.len)
				__builtin_trap();
			for (i = 0; i < blk.caplen; i++)
				sum += blk.data[i];
			if (decode_frame(blk.linktype, blk.data, blk.caplen, &pkt) == DECODE_OK &&
			    (pkt.payload < blk.data ||
			     pkt.payload + pkt.payload_caplen > blk.data + blk.caplen))
				__builtin_trap();
		}
		off += blk.len;
		if (off == size)
			break;
	}
	byte_sum = sum;
	pcapng_free(&r);
	return 0;
}
