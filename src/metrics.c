/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t get(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* struct metrics is counters and nothing else: walk it as an array. */
_Static_assert(sizeof(struct metrics) % sizeof(atomic_uint_fast64_t) == 0,
	       "struct metrics holds only counters");

void metrics_sum(struct metrics *sum, const struct metrics *m)
{
	atomic_uint_fast64_t *s = (atomic_uint_fast64_t *)sum;
	const atomic_uint_fast64_t *c = (const atomic_uint_fast64_t *)m;
	size_t i;

	for (i = 0; i < sizeof(*m) / sizeof(*c); i++)
		atomic_store_explicit(&s[i], get(&s[i]) + get(&c[i]), memory_order_relaxed);
}

const uint32_t metrics_verdict_bucket_us[VERDICT_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000
};

uint64_t metrics_resets_of_class(const struct metrics *m, enum rst_class c)
{
	uint64_t n = 0;
	int o;

	for (o = 0; o < ORIGIN_COUNT; o++)
		n += get(&m->resets[c][o][0]) + get(&m->resets[c][o][1]);
	return n;
}

void metrics_verdict_time(struct metrics *m, bool held, uint64_t arrival_us, uint64_t verdict_us)
{
	struct verdict_histogram *h = &m->verdict_time[held];
	uint64_t us = verdict_us > arrival_us ? verdict_us - arrival_us : 0;
	unsigned b = 0;

	while (b < VERDICT_BUCKETS && us > metrics_verdict_bucket_us[b])
		b++;
	metrics_inc(&h->count[b]);
	metrics_add(&h->sum_us, us);
}

static void render_verdict_time(const struct metrics *m, FILE *out)
{
	unsigned held, b;

	fputs("# HELP rstwatch_reset_verdict_seconds Time from a queued reset's arrival (its "
	      "kernel stamp with --arrival-stamps, else when rstwatch read it) to its verdict; "
	      "held: a suspect reset whose verdict waited for what its sender did next.\n"
	      "# TYPE rstwatch_reset_verdict_seconds histogram\n", out);
	for (held = 0; held < 2; held++) {
		const struct verdict_histogram *h = &m->verdict_time[held];
		uint64_t cum = 0;

		for (b = 0; b <= VERDICT_BUCKETS; b++) {
			char le[16] = "+Inf";

			if (b < VERDICT_BUCKETS)
				snprintf(le, sizeof(le), "%g", metrics_verdict_bucket_us[b] / 1e6);
			cum += get(&h->count[b]);
			fprintf(out, "rstwatch_reset_verdict_seconds_bucket{held=\"%s\",le=\"%s\"} "
				"%llu\n", held ? "true" : "false", le, (unsigned long long)cum);
		}
		fprintf(out, "rstwatch_reset_verdict_seconds_sum{held=\"%s\"} %.6f\n"
			"rstwatch_reset_verdict_seconds_count{held=\"%s\"} %llu\n",
			held ? "true" : "false", get(&h->sum_us) / 1e6, held ? "true" : "false",
			(unsigned long long)cum);
	}
}

int nfqueue_proc_read(uint16_t queue_num, struct nfqueue_proc *out)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	unsigned q, portid, total, mode, range;
	unsigned long long qd, ud, ids;
	char line[256];
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %u %u %u %llu %llu %llu", &q, &portid, &total, &mode, &range,
			   &qd, &ud, &ids) == 8 && q == queue_num) {
			out->queue_total = total;
			out->queue_dropped = qd;
			out->user_dropped = ud;
			out->id_sequence = ids;
			rc = 0;
			break;
		}
	}
	fclose(f);
	if (rc)
		errno = ENOENT;
	return rc;
}

void metrics_render(const struct metrics *m, FILE *out)
{
	static const char *const action[2] = { "accept", "drop" };
	static const char *const hold_outcome[HOLD_OUTCOME_COUNT] = {
		"taken", "held", "released", "alive", "deadline", "full"
	};
	static const char *const ctres[CT_RESULT_COUNT] = { "found", "missing", "error",
							    "shed" };
	int c, o, a;

	fputs("# HELP rstwatch_resets_total TCP resets classified, by class, origin and action.\n"
	      "# TYPE rstwatch_resets_total counter\n", out);
	/* Every series from the start, at 0: rate() and increase() need a
	 * sample before a class's first reset to see it. */
	for (c = 0; c < RST_CLASS_COUNT; c++)
		for (o = 0; o < ORIGIN_COUNT; o++)
			for (a = 0; a < 2; a++)
				fprintf(out, "rstwatch_resets_total{class=\"%s\",origin=\"%s\","
					"action=\"%s\"} %llu\n",
					rst_class_name((enum rst_class)c),
					rst_origin_name((enum rst_origin)o), action[a],
					(unsigned long long)get(&m->resets[c][o][a]));
	fputs("# HELP rstwatch_events_suppressed_total Events held back by the rate limits "
	      "(the resets are still counted in rstwatch_resets_total), by class: events "
	      "logged + suppressed + dropped = resets_total, class by class.\n"
	      "# TYPE rstwatch_events_suppressed_total counter\n", out);
	for (c = 0; c < RST_CLASS_COUNT; c++)
		fprintf(out, "rstwatch_events_suppressed_total{class=\"%s\"} %llu\n",
			rst_class_name((enum rst_class)c),
			(unsigned long long)get(&m->events_suppressed[c]));
	fputs("# HELP rstwatch_ct_lookups_total Conntrack lookups for resets, by result "
	      "(shed: skipped because the queue was backed up).\n"
	      "# TYPE rstwatch_ct_lookups_total counter\n", out);
	for (c = 0; c < CT_RESULT_COUNT; c++)
		fprintf(out, "rstwatch_ct_lookups_total{result=\"%s\"} %llu\n", ctres[c],
			(unsigned long long)get(&m->ct_lookups[c]));
	fprintf(out, "# HELP rstwatch_ct_marks_total Conntrack mark updates, by result (gone: "
		"the entry was deleted or expired before the update).\n"
		"# TYPE rstwatch_ct_marks_total counter\n"
		"rstwatch_ct_marks_total{result=\"ok\"} %llu\n"
		"rstwatch_ct_marks_total{result=\"gone\"} %llu\n"
		"rstwatch_ct_marks_total{result=\"error\"} %llu\n",
		(unsigned long long)get(&m->ct_marks_set),
		(unsigned long long)get(&m->ct_marks_gone),
		(unsigned long long)get(&m->ct_mark_errors));
	fputs("# HELP rstwatch_ct_errors_total Failed ctnetlink requests (lookups counted as "
	      "error, mark updates as error), by request and errno.\n"
	      "# TYPE rstwatch_ct_errors_total counter\n", out);
	for (c = 0; c < CT_OP_COUNT; c++)
		for (o = 0; o < CT_FAIL_COUNT; o++)
			fprintf(out, "rstwatch_ct_errors_total{op=\"%s\",errno=\"%s\"} %llu\n",
				c == CT_OP_LOOKUP ? "lookup" : "mark",
				ct_failure_name((enum ct_failure)o),
				(unsigned long long)get(&m->ct_failures[c][o]));
	fputs("# HELP rstwatch_packets_decoded_total Queued or logged packets, by decode result.\n"
	      "# TYPE rstwatch_packets_decoded_total counter\n", out);
	for (c = 0; c < DECODE_RESULT_COUNT; c++)
		fprintf(out, "rstwatch_packets_decoded_total{result=\"%s\"} %llu\n",
			decode_result_name((enum decode_result)c),
			(unsigned long long)get(&m->decode[c]));
	fprintf(out, "# HELP rstwatch_rules_reinstalled_total Times the ruleset was found missing "
		"and loaded again.\n# TYPE rstwatch_rules_reinstalled_total counter\n"
		"rstwatch_rules_reinstalled_total %llu\n"
		"# HELP rstwatch_nflog_packets_total Packets copied to the log groups (observed, never held: "
		"handshakes, watched flows, this host's rejects of new flows).\n# TYPE rstwatch_nflog_packets_total counter\n"
		"rstwatch_nflog_packets_total %llu\n"
		"# HELP rstwatch_reset_markers_missing_total Resets judged without having read their "
		"own copy (marker) in the log group first: copies made just before them may have "
		"been read after them (the markers' rate limit under a reset flood, or copies "
		"lost).\n# TYPE rstwatch_reset_markers_missing_total counter\n"
		"rstwatch_reset_markers_missing_total %llu\n"
		"# HELP rstwatch_log_errors_total Event log lines that could not be formatted or "
		"written (write errors).\n"
		"# TYPE rstwatch_log_errors_total counter\nrstwatch_log_errors_total %llu\n",
		(unsigned long long)get(&m->rules_reinstalled),
		(unsigned long long)get(&m->nflog_packets),
		(unsigned long long)get(&m->markers_missing),
		(unsigned long long)get(&m->log_errors));
	fprintf(out, "# HELP rstwatch_events_dropped_total Events of resets never written: the log "
		"fell behind and its buffer was full (backlog), or a write failed (error). "
		"Events + suppressed + dropped = resets_total.\n"
		"# TYPE rstwatch_events_dropped_total counter\n"
		"rstwatch_events_dropped_total{reason=\"backlog\"} %llu\n"
		"rstwatch_events_dropped_total{reason=\"error\"} %llu\n"
		"# HELP rstwatch_log_lines_dropped_total Event log lines of any kind never written "
		"(events, amendments, summaries, messages).\n"
		"# TYPE rstwatch_log_lines_dropped_total counter\n"
		"rstwatch_log_lines_dropped_total{reason=\"backlog\"} %llu\n"
		"rstwatch_log_lines_dropped_total{reason=\"error\"} %llu\n",
		(unsigned long long)get(&m->events_dropped[LOG_DROP_BACKLOG]),
		(unsigned long long)get(&m->events_dropped[LOG_DROP_ERROR]),
		(unsigned long long)get(&m->log_lines_dropped[LOG_DROP_BACKLOG]),
		(unsigned long long)get(&m->log_lines_dropped[LOG_DROP_ERROR]));
	fputs("# HELP rstwatch_holds_total Suspect resets watched for what their claimed sender "
	      "did next: taken (watched), held (enforce: their verdict waited), released (the hold "
	      "time ended, still watched), alive (the sender spoke after it: injected), deadline "
	      "(the watch ended without), full (could not be watched or, enforce, held: judged "
	      "at once).\n# TYPE rstwatch_holds_total counter\n", out);
	for (c = 0; c < HOLD_OUTCOME_COUNT; c++)
		fprintf(out, "rstwatch_holds_total{outcome=\"%s\"} %llu\n", hold_outcome[c],
			(unsigned long long)get(&m->holds[c]));
	fprintf(out, "# HELP rstwatch_hold_release_errors_total Held verdicts the kernel refused "
		"(the packet stays held until the queue closes, which accepts it).\n"
		"# TYPE rstwatch_hold_release_errors_total counter\n"
		"rstwatch_hold_release_errors_total %llu\n",
		(unsigned long long)get(&m->hold_release_errors));
	render_verdict_time(m, out);
}
