/* The path every packet takes, live or offline: find its flow, classify it if
 * it is a reset (against the flow as it was), then fold it into the flow. */
#ifndef RSTWATCH_PIPELINE_H
#define RSTWATCH_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
#include "event.h"
#include "flow.h"

struct pipeline_stats {
	uint64_t packets;          /* TCP segments processed */
	uint64_t resets;
	uint64_t by_class[RST_CLASS_COUNT];
	uint64_t by_origin[ORIGIN_COUNT];
};

struct pipeline {
	struct flow_table *flows;
	struct classify_settings settings;
	struct pipeline_stats st;
};

/* 0, or -1 with errno if the flow table cannot be allocated. */
int pipeline_init(struct pipeline *pl, uint32_t max_flows);
void pipeline_free(struct pipeline *pl);

/* Process one decoded segment. For a reset, fills ev (verdict, flow summary,
 * context; action accept) and returns true: the caller decides the action and
 * emits it. ctx may be NULL (offline). */
bool pipeline_packet(struct pipeline *pl, const struct tcp_packet *pkt, uint64_t ts_us,
		     const struct rst_context *ctx, struct rst_event *ev);

#endif
