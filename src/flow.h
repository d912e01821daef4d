/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flow table: one entry per TCP connection with the per-direction facts the
 * classifier needs. Fixed capacity chosen at creation; when full, the least
 * recently seen flow (to about a second) is evicted (and counted). No I/O, no
 * locks: each queue thread owns one table. */
#ifndef RSTWATCH_FLOW_H
#define RSTWATCH_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

enum { DIR_ORIG = 0, DIR_RESP = 1 };

/* Per-direction facts, for the packets sent BY that side. */
struct flow_dir {
	uint64_t last_ts;          /* us, last packet from this side */
	uint64_t last_data_ts;     /* us, last segment with payload */
	uint64_t fin_ts;           /* us, first FIN (0: none) */
	uint64_t rst_ts;           /* us, last reset (0: none) */
	uint32_t isn;              /* seq of its SYN (valid if DF_SYN) */
	uint32_t snd_nxt;          /* highest seq + seg len sent */
	uint32_t ack;              /* highest ack sent (valid if DF_ACK) */
	uint32_t rst_seq;          /* seq of its last reset */
	uint32_t pkts;
	uint32_t data_bytes;       /* payload bytes (saturating) */
	uint32_t tsval;            /* TSval of its newest packet with timestamps ... */
	uint32_t tsval_ms;         /* ... seen this many ms after first_ts, + 1 (0: none) */
	uint16_t win;              /* last window, unscaled */
	uint16_t ipid;             /* last IPv4 ID */
	uint16_t keepalives;       /* probes seen, len 0/1 at seq = snd_nxt - 1: keepalives,
				    * or zero-window probes (struct flow.zero_window_probed) */
	uint16_t rsts;
	uint8_t ttl_first, ttl_min, ttl_max, ttl_last;
	uint8_t wscale;            /* from its SYN, 0xff if none */
	uint8_t ipid_zero;         /* packets with IP ID 0 (saturating) */
	uint8_t flags;             /* DF_* */
	uint8_t rst_seq_jumps;     /* resets whose seq differed from the previous one */
};

#define DF_SYN      0x01  /* sent a SYN (or SYN/ACK) */
#define DF_ACK      0x02  /* sent a segment with ACK */
#define DF_FIN      0x04
#define DF_DATA     0x08
#define DF_RST      0x10
#define DF_SEEN     0x20  /* sent anything at all */
#define DF_SYN_RETX 0x40  /* sent a SYN with a new ISN while the flow was synchronized */
#define DF_SEQ      0x80  /* snd_nxt is known */

#define FLOW_RST_ANSWER 0x80
#define FLOW_RST_CLASS(last) ((last) & 0x7f)   /* class code + 1, 0: none */

struct flow_key {
	uint8_t family;
	uint8_t pad;
	uint16_t port[2];          /* [DIR_ORIG], [DIR_RESP] */
	uint8_t addr[2][16];
	uint16_t zone;             /* tcp_packet.tunnel_zone: 0 outside tunnels (fills what
				    * was padding before hnext) */
};

/* Event flow ids fit in 51 bits, as Suricata's do: JSON readers that hold
 * numbers as doubles (JavaScript, EveBox, jq 1.6) are exact only to 2^53. */
#define FLOW_ID_MASK ((UINT64_C(1) << 51) - 1)

struct flow {
	struct flow_key key;       /* key.*[DIR_ORIG] is the originator's side */
	uint32_t hnext;            /* hash chain, index + 1, 0 ends */
	uint32_t lru_prev, lru_next;
	uint32_t idle_before_last_ms; /* silence that preceded the newest packet (saturating) */
	uint64_t first_ts, last_ts;
	uint64_t id;               /* stable flow id for events (FLOW_ID_MASK) */
	struct flow_dir dir[2];
	uint8_t orig_guessed : 1;  /* no SYN seen: originator inferred (ports / first packet) */
	uint8_t in_use : 1;
	uint8_t fin_retx : 2;      /* bit dir: that side sent its FIN again (unacknowledged) */
	uint8_t zero_window_probed : 2; /* bit dir: that side's latest probes were zero-window
					 * probes (its keepalives count those) */
	uint8_t incarnation;       /* bumps when a SYN reopens a closed or reset 4-tuple */
	/* Per direction, its last reset as judged: class code + 1 (0: none),
	 * | FLOW_RST_ANSWER if it answered an earlier reset of its peer. Here,
	 * not in struct flow_dir, where it would cost 16 bytes of padding. */
	uint8_t rst_last[2];
	uint32_t handshake_rtt_us; /* SYN to SYN/ACK as seen here (0: not seen) */
};

struct flow_stats {
	uint64_t created, evicted, expired, lookups;
	uint32_t active, capacity;
	/* Most entries one lookup compared: a few normally; far more means the
	 * hash is being attacked (or is broken). */
	uint32_t longest_chain;
};

struct flow_table;

/* capacity >= 1. NULL + errno (ENOMEM, EINVAL). Seed 0 until
 * flow_table_seed. */
struct flow_table *flow_table_new(uint32_t capacity);

/* Key the flow hash, and with it which flows share an index slot and the
 * flow ids: a live table takes a random seed so that nobody can forge resets
 * whose flows all land on one chain; offline, seed 0 keeps output
 * reproducible. Only before the first flow: -1 + EBUSY after. The mix is
 * not a keyed PRF (SipHash would be, at ~3x the cost per packet); with the
 * seed unknown, colliding tuples can no longer be computed offline. */
int flow_table_seed(struct flow_table *t, uint64_t seed);
void flow_table_free(struct flow_table *t);

/* Find the flow of pkt, creating it (possibly evicting the oldest) if create.
 * *dir is set to the direction pkt travels in (DIR_ORIG: sent by the
 * originator). NULL only when !create and not found. */
struct flow *flow_lookup(struct flow_table *t, const struct tcp_packet *pkt, uint64_t ts_us,
			 bool create, int *dir);

/* The seeded hash of one endpoint (an address of alen bytes and a port),
 * as the flow hash mixes it: for other tables keyed by address. */
uint64_t flow_hash_endpoint(uint64_t seed, const uint8_t *addr, size_t alen, uint16_t port);

/* Prefetching for a consumer that sees packets coming (the live daemon sees
 * the next packet before it judges the current one): flow_hash once, then
 * flow_prefetch_slot as early as possible, then, once that slot has had time
 * to arrive, flow_prefetch_entry for the flow it names, each with other work
 * before the lookup to hide the miss behind. flow_lookup hashes for itself:
 * no caller can hand it a wrong hash. */
uint32_t flow_hash(const struct flow_table *t, const struct tcp_packet *pkt);
void flow_prefetch_slot(const struct flow_table *t, uint32_t hash);
void flow_prefetch_entry(const struct flow_table *t, uint32_t hash);

/* Fold pkt (sent in direction dir at ts_us) into f. Call after classifying a reset:
 * the classifier must see the flow as it was before the reset. */
void flow_update(struct flow *f, int dir, const struct tcp_packet *pkt, uint64_t ts_us);

/* Drop flows idle for longer than idle_us; returns how many went. */
uint32_t flow_expire(struct flow_table *t, uint64_t now_us, uint64_t idle_us);

/* A conntrack-like name for the flow's state: NONE, SYN_SENT, SYN_RECV,
 * ESTABLISHED, FIN_WAIT (one side closed), TIME_WAIT (both), CLOSE (reset). */
const char *flow_state_name(const struct flow *f);

void flow_table_stats(const struct flow_table *t, struct flow_stats *out);

/* Bytes of memory one tracked flow costs (entry + its share of the hash index). */
size_t flow_bytes_per_flow(void);

#endif
