/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus metrics: counters rendered as text exposition format, and served
 * on GET /metrics by src/metrics_http.c, on a thread of its own. Each struct
 * metrics is written by one thread only (a worker's own, or the main loop's)
 * and read by the renderer, which sums them. */
#ifndef RSTWATCH_METRICS_H
#define RSTWATCH_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "classify.h"
#include "ct.h"
#include "decode.h"

enum ct_result { CT_FOUND = 0, CT_MISSING, CT_ERROR, CT_SHED, CT_RESULT_COUNT };
/* The two ctnetlink requests rstwatch makes: a reset's lookup, a mark update. */
enum ct_op { CT_OP_LOOKUP = 0, CT_OP_MARK, CT_OP_COUNT };

/* What became of suspect resets watched for their claimed sender's next
 * packets (src/hold.h). */
enum hold_outcome { HOLD_TAKEN = 0, HOLD_HELD, HOLD_RELEASED, HOLD_ALIVE, HOLD_DEADLINE, HOLD_FULL,
		    HOLD_OUTCOME_COUNT };

/* Why event log lines were not written: the log fell behind and its buffer
 * was full (or it closed with lines waiting), or a write failed. */
enum log_drop { LOG_DROP_BACKLOG = 0, LOG_DROP_ERROR, LOG_DROP_COUNT };

/* Upper bounds (us) of the buckets of the time from a reset's arrival to its
 * verdict; one more bucket holds the rest (+Inf). Held resets wait up to
 * --hold-max-ms by design, so they have a histogram of their own. */
#define VERDICT_BUCKETS 13
extern const uint32_t metrics_verdict_bucket_us[VERDICT_BUCKETS];

struct verdict_histogram {
	atomic_uint_fast64_t count[VERDICT_BUCKETS + 1]; /* per bucket, not cumulative */
	atomic_uint_fast64_t sum_us;
};

struct metrics {
	atomic_uint_fast64_t resets[RST_CLASS_COUNT][ORIGIN_COUNT][2]; /* [..][action] */
	/* By the class the reset is counted under in resets[]: with the events
	 * logged and dropped, they add up to resets[] class by class. */
	atomic_uint_fast64_t events_suppressed[RST_CLASS_COUNT];
	atomic_uint_fast64_t ct_lookups[CT_RESULT_COUNT];
	atomic_uint_fast64_t ct_marks_set;
	atomic_uint_fast64_t ct_marks_gone;    /* ENOENT: the entry went before its update */
	atomic_uint_fast64_t ct_mark_errors;
	atomic_uint_fast64_t ct_failures[CT_OP_COUNT][CT_FAIL_COUNT];
	atomic_uint_fast64_t decode[DECODE_RESULT_COUNT];
	atomic_uint_fast64_t rules_reinstalled;
	atomic_uint_fast64_t nflog_packets;
	atomic_uint_fast64_t markers_missing;
	atomic_uint_fast64_t log_errors;
	atomic_uint_fast64_t events_dropped[LOG_DROP_COUNT];   /* first events of resets */
	atomic_uint_fast64_t log_lines_dropped[LOG_DROP_COUNT]; /* every kind of line */
	atomic_uint_fast64_t holds[HOLD_OUTCOME_COUNT];
	atomic_uint_fast64_t hold_release_errors;
	struct verdict_histogram verdict_time[2];      /* [held] */
};

/* The kernel's per-queue line of /proc/net/netfilter/nfnetlink_queue. */
struct nfqueue_proc {
	uint32_t queue_total;     /* packets waiting now */
	uint64_t queue_dropped;   /* dropped because the queue was full (without fail-open) */
	uint64_t user_dropped;    /* dropped because the socket buffer was full */
	uint64_t id_sequence;     /* packets the kernel numbered since the queue was bound */
};

/* 0, or -1 with errno ENOENT if queue_num is not bound in this namespace. */
int nfqueue_proc_read(uint16_t queue_num, struct nfqueue_proc *out);

/* Single writer: a relaxed store of the incremented value lets the renderer
 * read the counter whole without a locked add on every packet. */
static inline void metrics_inc(atomic_uint_fast64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline void metrics_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* A reset queued at arrival_us got its verdict at verdict_us. */
void metrics_verdict_time(struct metrics *m, bool held, uint64_t arrival_us, uint64_t verdict_us);

/* Resets counted under class c, every origin and action. */
uint64_t metrics_resets_of_class(const struct metrics *m, enum rst_class c);

/* sum += m, counter by counter (the threads' counters into one rendering). */
void metrics_sum(struct metrics *sum, const struct metrics *m);

/* The counters common to every daemon (resets, ct, decode, ...). */
void metrics_render(const struct metrics *m, FILE *out);

/* Writes the /metrics page (src/metrics_http.h serves it). */
typedef void (*metrics_render_cb)(FILE *out, void *arg);

#endif
