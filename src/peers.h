/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who sends which class of reset: counts per (class, sender address), for
 * the top peers of explain's summary and report. Bounded: past PEERS_MAX
 * distinct pairs new ones are only counted as untracked. */
#ifndef RSTWATCH_PEERS_H
#define RSTWATCH_PEERS_H

#include <stdint.h>

#include "classify.h"

#define PEERS_MAX (1u << 20)

struct peer_count {
	uint64_t count;
	uint8_t cls;            /* enum rst_class */
	uint8_t family;         /* 4 or 6; 0: free slot */
	uint8_t addr[16];
};

struct peers {
	struct peer_count *slot;
	uint32_t cap, n;        /* cap: a power of two, or 0 before the first */
	uint64_t untracked;     /* resets of pairs beyond PEERS_MAX */
};

void peers_add(struct peers *p, enum rst_class cls, int family, const uint8_t *addr);

/* The k peers sending most resets of cls, most first (ties: lower address
 * first), into top; returns how many. */
unsigned int peers_top(const struct peers *p, enum rst_class cls, struct peer_count *top,
		       unsigned int k);

void peers_free(struct peers *p);

#endif
