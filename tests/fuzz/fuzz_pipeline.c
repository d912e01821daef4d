/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target over the whole offline path: a stream of IP packets goes
 * through decode, the flow table (small, so eviction happens), the classifier
 * and both event writers.
 * Input: byte 0 selects the context (bit 0 partial view, bit 1 output hook,
 * bit 2 source local, bit 3 via log, bit 4 conntrack entry present), bytes 1-2
 * a conntrack state and timeout seed; then records of [dt_ms u8][len u16 BE]
 * [len bytes of raw IPv4/IPv6]. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *buf, int n, size_t size)
{
	/* A formatted event is one whole line, or an honest -1. */
	if (n < 0)
		return;
	if ((size_t)n >= size || strlen(buf) != (size_t)n || buf[n - 1] != '\n')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline pl;
	struct ct_info ct = { 0 };
	struct rst_context ctx = { .hook = HOOK_CAPTURE };
	uint64_t ts = 1700000000ULL * 1000000;
	size_t off = 3;

	if (size < 3 || pipeline_init(&pl, 8))
		return 0;
	ctx.partial_view = data[0] & 1;
	ctx.hook = (data[0] & 2) ? HOOK_OUTPUT : HOOK_PREROUTING;
	ctx.src_is_local = data[0] & 4;
	ctx.via_log = data[0] & 8;
	if (data[0] & 16) {
		ct.present = true;
		ct.tcp_state = data[1] % 12;
		ct.timeout_s = (uint32_t)data[2] * 3000u;
		ct.has_counters = data[2] & 1;
		ctx.ct = &ct;
	}
	while (off + 3 <= size) {
		size_t len = ((size_t)data[off + 1] << 8) | data[off + 2];
		struct tcp_packet pkt;
		struct rst_event ev;
		char buf[EVENT_BUF_SIZE];
		uint8_t *copy;

		ts += (uint64_t)data[off] * 1000;
		off += 3;
		if (len > size - off)
			len = size - off;
		/* A heap copy of exactly len bytes: ASan sees any read past it. */
		copy = malloc(len ? len : 1);
		if (!copy)
			break;
		memcpy(copy, data + off, len);
		off += len;
		if (decode_ip(copy, len, &pkt) == DECODE_OK &&
		    pipeline_packet(&pl, &pkt, ts, &ctx, &ev, NULL)) {
			if (ev.verdict.cls >= RST_CLASS_COUNT || ev.verdict.confidence < 0.0f ||
			    ev.verdict.confidence > 1.0f)
				abort();
			check_line(buf, event_json_format(&ev, buf, sizeof(buf)), sizeof(buf));
			check_line(buf, event_text_format(&ev, buf, sizeof(buf)), sizeof(buf));
		}
		free(copy);
	}
	pipeline_free(&pl);
	return 0;
}
