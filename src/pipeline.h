/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The path every packet takes, live or offline: find its flow, classify it if
 * it is a reset (against the flow as it was), then fold it into the flow. */
#ifndef RSTWATCH_PIPELINE_H
#define RSTWATCH_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "copies.h"
#include "event.h"
#include "flow.h"
#include "hostttl.h"

struct pipeline_stats {
	uint64_t packets;          /* TCP segments processed */
	uint64_t resets;
	uint64_t by_class[RST_CLASS_COUNT];
	uint64_t by_origin[ORIGIN_COUNT];
};

struct pipeline {
	struct flow_table *flows;
	struct host_ttl *hosts;    /* per-host TTL baselines (src/hostttl.h) */
	struct classify_settings settings;
	struct pipeline_stats st;
};

/* 0, or -1 with errno if the flow table or the host table cannot be
 * allocated. Both hashed with seed 0 until pipeline_seed. */
int pipeline_init(struct pipeline *pl, uint32_t max_flows);
void pipeline_free(struct pipeline *pl);

/* Key the flow and host hashes (flow_table_seed, host_ttl_seed): before the
 * first packet; -1 + EBUSY after. */
int pipeline_seed(struct pipeline *pl, uint64_t seed);

/* Process one decoded segment. For a reset, fills ev (verdict, flow summary,
 * context; action accept) and, if probe is not NULL, probe (what its claimed
 * sender would do next if alive, from the flow before the reset), and returns
 * true: the caller decides the action and emits it. ctx may be NULL
 * (offline). */
bool pipeline_packet(struct pipeline *pl, const struct tcp_packet *pkt, uint64_t ts_us,
		     const struct rst_context *ctx, struct rst_event *ev,
		     struct rst_alive_probe *probe);

/* A reset sent in direction dir of flow f, first judged was, is now (proven
 * injected): each side of a flow remembers its last reset's class, which a
 * later reset answering it (classify: answers-earlier-reset) names. Only if
 * it is still that side's last. f may be NULL (the flow is gone). */
void pipeline_flow_reclassed(struct flow *f, int dir, enum rst_class was, enum rst_class now);

/* Offline look-ahead (design §8): a capture holds what came after each reset,
 * so a suspect reset (rst_suspect) is decided only after its flow's next
 * packets, up to LOOKAHEAD_WINDOW_US of capture time or the end of the file.
 * If its claimed sender is alive after it (rst_sender_alive) the reset is
 * injected (rst_mark_injected_alive). Events still come out in capture order:
 * those behind a waiting one wait too. At most max events wait; past that the
 * oldest is decided at once (counted in cut). */
#define LOOKAHEAD_WINDOW_US 2000000ULL
#define LOOKAHEAD_MAX 4096

struct lookahead_stats {
	uint64_t held;             /* suspect resets looked ahead for */
	uint64_t alive;            /* of them, whose claimed sender spoke after it: injected */
	uint64_t cut;              /* decided before their window ended: max events waited */
};

struct pending_event;

struct lookahead {
	struct pending_event *q;   /* ring of max events, in capture order; allocated at the
				    * first suspect reset */
	uint32_t *bucket;          /* flow id -> chain of its waiting events (slot + 1) */
	uint32_t nbuckets;         /* power of two */
	uint32_t max, head, n;
	uint32_t waiting;          /* events in q still looking ahead */
	uint64_t window_us;
	struct lookahead_stats st;
};

/* Called with each event once decided; non-zero stops the capture. */
typedef int (*pipeline_emit_cb)(const struct rst_event *ev, void *arg);

/* max >= 1 events may wait (LOOKAHEAD_MAX), each for window_us. */
void lookahead_init(struct lookahead *la, uint32_t max, uint64_t window_us);
/* Drops what still waits (after lookahead_flush, nothing does). */
void lookahead_free(struct lookahead *la);

/* pipeline_packet for a capture: ctx what the capture says about the packet
 * (NULL: nothing; a packet the capturing host sent of its own: the output
 * hook), events go to emit once decided. A reset the capture shows coming in
 * to its host waits up to COPY_WINDOW_US of capture time for the copy the
 * host may forward (lookahead_copy). Returns 0, or emit's non-zero value.
 * Memory for the waiting events that cannot be had makes them decided at
 * once (counted in cut). */
int pipeline_packet_lookahead(struct pipeline *pl, struct lookahead *la,
			      const struct tcp_packet *pkt, uint64_t ts_us,
			      const struct rst_context *ctx, pipeline_emit_cb emit, void *arg);

/* pkt is the out copy of a reset that came in (copies_seen): its event
 * stands for both (copies 2, out_ifindex). Then emits what is decided. */
int lookahead_copy(struct lookahead *la, const struct tcp_packet *pkt, uint32_t out_ifindex,
		   uint64_t ts_us, pipeline_emit_cb emit, void *arg);

/* Capture time has reached ts_us (a live source, quiet since its newest
 * packet): the events whose windows ended by then are emitted. */
int lookahead_advance(struct lookahead *la, uint64_t ts_us, pipeline_emit_cb emit, void *arg);

/* The end of the capture: every waiting event decided as it is, all emitted. */
int lookahead_flush(struct lookahead *la, pipeline_emit_cb emit, void *arg);

#endif
