/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "markers.h"

#include <string.h>

static size_t key_len(size_t len)
{
	return len < MARKER_KEY ? len : MARKER_KEY;
}

bool marker_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return key_len(alen) == key_len(blen) && memcmp(a, b, key_len(alen)) == 0;
}

void marker_ring_push(struct marker_ring *r, const uint8_t *pkt, size_t len)
{
	unsigned slot;

	if (r->n == MARKER_RING) {
		r->head = (r->head + 1) % MARKER_RING;
		r->n--;
	}
	slot = (r->head + r->n) % MARKER_RING;
	memcpy(r->key[slot], pkt, key_len(len));
	r->len[slot] = (uint8_t)key_len(len);
	r->n++;
}

bool marker_ring_claim(struct marker_ring *r, const uint8_t *pkt, size_t len)
{
	for (unsigned i = 0; i < r->n; i++) {
		unsigned slot = (r->head + i) % MARKER_RING;

		if (marker_same(r->key[slot], r->len[slot], pkt, len)) {
			r->head = (slot + 1) % MARKER_RING;
			r->n -= i + 1;
			return true;
		}
	}
	return false;
}

void marker_ring_clear(struct marker_ring *r)
{
	r->head = r->n = 0;
}
