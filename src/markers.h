/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Markers: the copy each queued reset leaves in its worker's nflog group just
 * before it is queued (rules/rstwatch.nft, chain divert). The group keeps
 * order, so once a reset's marker has been read, so has every copy the
 * kernel made before the reset: the reset can be judged.
 *
 * Markers are often read before their resets (the worker reads copies
 * whenever they come), and some resets never reach the worker (the queue's
 * socket overran; fail-open passed them), so their markers are never
 * claimed. The ring keeps the markers read but not claimed yet, oldest
 * first; claiming one discards those older than it, whose resets will not
 * come. A marker is known by the first MARKER_KEY bytes of its packet (from
 * the network header: addresses, ports, IP ID or flow label, seq, ack),
 * which the queue's copy of the same packet repeats. */
#ifndef RSTWATCH_MARKERS_H
#define RSTWATCH_MARKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MARKER_KEY 64
#define MARKER_RING 256

struct marker_ring {
	uint8_t key[MARKER_RING][MARKER_KEY];
	uint8_t len[MARKER_RING];
	unsigned head, n;            /* oldest at head */
};

/* a and b (alen, blen bytes from the network header) are one packet. */
bool marker_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* A marker read: kept (the oldest goes when the ring is full). */
void marker_ring_push(struct marker_ring *r, const uint8_t *pkt, size_t len);

/* The reset pkt is to be judged: true if its marker was read, which is then
 * claimed, and the markers older than it are dropped. */
bool marker_ring_claim(struct marker_ring *r, const uint8_t *pkt, size_t len);

/* Every marker kept is older than one just claimed from the socket. */
void marker_ring_clear(struct marker_ring *r);

#endif
