/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-host TTL / hop-limit baselines: what each address's packets (resets
 * excepted: a reset may be forged) came with lately, across all its flows,
 * so that a reset on a flow where its claimed sender has not spoken yet (a
 * reject of a new SYN, a fresh connection) can still be judged against that
 * sender's usual TTL. A fixed-size table: 4-way sets, the least recently
 * updated entry of a full set is evicted (counted); an entry not updated for
 * HOST_TTL_MAX_AGE_US is not used, and starts afresh at its next packet (a
 * route changed, an address reassigned). No I/O, no locks: one per pipeline. */
#ifndef RSTWATCH_HOSTTTL_H
#define RSTWATCH_HOSTTTL_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define HOST_TTL_ENTRIES 16384u          /* a power of two, a multiple of the ways */
#define HOST_TTL_MAX_AGE_US (600ULL * 1000000)

/* What one host sent lately: the range of TTLs of its packets and the last. */
struct ttl_baseline {
	uint8_t min, max, last;
};

struct host_ttl_stats {
	uint64_t updates;        /* packets noted */
	uint64_t evicted;        /* live entries pushed out of a full set by another host */
	uint32_t used;           /* entries holding a host */
};

struct host_ttl;

/* NULL + errno (ENOMEM). Seed 0 until host_ttl_seed. */
struct host_ttl *host_ttl_new(void);
void host_ttl_free(struct host_ttl *t);

/* Key the hash (a live table takes a random seed, as the flow table, so that
 * nobody can aim a set at a host and evict its baseline with forged
 * sources). Only before the first host: -1 + EBUSY after. */
int host_ttl_seed(struct host_ttl *t, uint64_t seed);

/* pkt's sender sent pkt (not a reset) with pkt->ttl at ts_us. */
void host_ttl_note(struct host_ttl *t, const struct tcp_packet *pkt, uint64_t ts_us);

/* The baseline of pkt's sender at ts_us into *out: 0, or -1 when the host has
 * no entry younger than HOST_TTL_MAX_AGE_US. */
int host_ttl_find(const struct host_ttl *t, const struct tcp_packet *pkt, uint64_t ts_us,
		  struct ttl_baseline *out);

void host_ttl_stats(const struct host_ttl *t, struct host_ttl_stats *out);

/* Bytes the table takes (allocated once, at host_ttl_new). */
size_t host_ttl_bytes(void);

#endif
