/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resets waiting for what their claimed sender does next (design §8).
 *
 * A forged reset races the genuine endpoint's packets (Weaver, Sommer,
 * Paxson, NDSS 2009): if the host a reset claims to come from keeps sending
 * after it, something else sent the reset. So a suspect reset (rst_suspect)
 * is kept here while its flow is watched, for the window explain looks ahead
 * too (LOOKAHEAD_WINDOW_US), so that live and offline judge alike. In enforce
 * mode its queue verdict waits meanwhile, but only for the hold time (a few
 * round trips, hold_time_us): then it goes on, still watched, and proof that
 * comes later amends its event. In observe mode its event is out at once and
 * only an amendment may follow. Either way the reset is counted once, under
 * its final class, when it leaves this table.
 *
 * Pure bookkeeping, no I/O: the daemon answers the verdicts and writes the
 * events. One table per worker thread. */
#ifndef RSTWATCH_HOLD_H
#define RSTWATCH_HOLD_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "ct.h"
#include "event.h"
#include "pipeline.h"

/* Suspect resets one worker watches at most (each for the window); past it a
 * suspect reset is judged at once (and the refusal counted). Of these, at
 * most --hold-count (default HOLD_COUNT_DEFAULT) hold a verdict at once. */
#define HOLD_MAX 256
#define HOLD_COUNT_DEFAULT 64
/* How long, by default: two round trips of the flow's handshake as seen
 * here, at least HOLD_FLOOR_US (the claimed sender's next packet must cross
 * the gateway and its copy reach rstwatch: scheduling on a busy host takes
 * milliseconds), at most HOLD_CAP_US (a reset the endpoint really sent is
 * delayed by no more). */
#define HOLD_FLOOR_US 25000ULL
#define HOLD_CAP_US 200000ULL

/* An event kept whole beyond the packet it came from: its pointers aim at
 * these copies. The payload is not kept (no writer reads it). */
struct kept_event {
	struct rst_event ev;
	struct tcp_packet pkt;
	struct ct_info ct;
	struct rst_context ctx;
	char ifname[IF_NAMESIZE];
};

void kept_event_set(struct kept_event *k, const struct rst_event *ev);

struct held_reset {
	struct kept_event k;         /* the event as first judged */
	struct rst_alive_probe probe;
	uint64_t release_us;         /* queued: its verdict goes out then at the latest */
	uint64_t until_us;           /* end of the watch: decided as it was */
	uint32_t id;                 /* the queued packet (when queued) */
	bool queued;                 /* its verdict waits (enforce, until release_us) */
	bool first_suppressed;       /* the rate limit held its first event back */
	bool in_use;
};

struct hold_table {
	struct held_reset e[HOLD_MAX];
	unsigned n;                  /* entries in use */
};

/* How long to watch a flow whose handshake took rtt_us (0: unknown): two
 * round trips, within [min_us, max_us]. */
uint64_t hold_time_us(uint32_t rtt_us, uint64_t min_us, uint64_t max_us);

/* A free entry (in_use set, the rest the caller's), or NULL if full. */
struct held_reset *hold_add(struct hold_table *t);

/* The first entry whose claimed sender pkt (seen after the reset) shows
 * alive, or NULL. */
struct held_reset *hold_find_alive(struct hold_table *t, const struct tcp_packet *pkt);

/* The first entry with something due at or before now (a verdict to
 * release, or the end of its watch), or NULL. */
struct held_reset *hold_find_due(struct hold_table *t, uint64_t now_us);

/* The first entry in use, or NULL: for answering everything at shutdown. */
struct held_reset *hold_first(struct hold_table *t);

void hold_remove(struct hold_table *t, struct held_reset *h);

/* When the next thing is due, UINT64_MAX when the table is empty. */
uint64_t hold_next_due(const struct hold_table *t);

#endif
