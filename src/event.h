/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One reset event: everything the JSON and text writers print. Built by the
 * pipeline (offline or live), consumed by event_json_format / event_text_format. */
#ifndef RSTWATCH_EVENT_H
#define RSTWATCH_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "ct.h"
#include "decode.h"
#include "flow.h"

enum rst_action { ACTION_ACCEPT = 0, ACTION_DROP };

/* The flow as it was just before the reset (the `flow` object of an event). */
struct flow_summary {
	bool known;                   /* false: no flow entry (no history at all) */
	uint64_t flow_id;
	const char *state_before;     /* conntrack's state when known, else ours */
	uint64_t age_us, idle_us;
	uint32_t pkts[2];             /* [0] client to server, [1] server to client */
	uint32_t bytes[2];            /* payload bytes */
	uint8_t incarnation;
	uint32_t handshake_rtt_us;    /* SYN to SYN/ACK to ACK as seen here, 0 if unknown */
};

struct rst_event {
	uint64_t ts_us;               /* capture or arrival time, us since the epoch */
	const char *in_iface;         /* NULL or "" when unknown */
	const struct tcp_packet *pkt;
	struct flow_summary flow;
	const struct rst_context *ctx;
	struct rst_verdict verdict;
	enum rst_action action;
	const char *action_reason;    /* why dropped, NULL if accepted */
	int has_ct_mark;
	uint32_t ct_mark;             /* mark after tagging */
	/* An amendment (live, observe mode: what the flow did after the reset
	 * changed the verdict): the timestamp of the event it corrects, 0 for
	 * a first event, and the class that event gave. */
	uint64_t amends_ts_us;
	enum rst_class amends_class;
	/* Captures that record direction (src/copies.h): how many captured
	 * packets the event stands for (0 or 1: one; 2: in and out of a
	 * forwarded reset) and the interfaces, by index (0: unknown). */
	uint8_t copies;
	uint32_t in_ifindex, out_ifindex;
	const char *pcap_filename;    /* offline: the capture file as named, "-" for stdin;
				       * NULL live */
	/* A local-firewall reset: the rule that sent it (src/ruleset_event.h),
	 * as the `rule` object and as the text line's words; NULL if not looked up. */
	const char *rule_json;
	const char *rule_text;
};

/* Format ev as one JSON line (with trailing '\n', NUL-terminated) into buf.
 * Returns the length, or -1 if buf is too small (EVENT_BUF_SIZE always suffices). */
int event_json_format(const struct rst_event *ev, char *buf, size_t size);

/* The other lines of a JSON log, in the same envelope (each with its
 * timestamp): a rate limit's "N events suppressed" summary (family 0: from
 * all sources together, no src_ip), and a message about rstwatch itself,
 * event_type "engine" with a log_level as Suricata's JSON engine log has
 * ("Notice", "Warning", "Error"). Same return as event_json_format. */
int event_json_suppressed(uint64_t ts_us, int family, const uint8_t *addr, uint64_t n,
			  uint64_t since_us, char *buf, size_t size);
int event_json_engine(uint64_t ts_us, const char *level, const char *message, char *buf,
		      size_t size);

/* One plain-English line with the next troubleshooting step (with '\n'). */
int event_text_format(const struct rst_event *ev, char *buf, size_t size);

/* The summary line of a text log: "TIME N events suppressed from SRC (...)". */
int event_text_suppressed(uint64_t ts_us, int family, const uint8_t *addr, uint64_t n,
			  uint32_t rate, uint32_t rate_total, char *buf, size_t size);

/* in as a quoted JSON string, the event log's escaping, that is also safe
 * inside an HTML <script> element (<, > and & escaped): the length, or -1 if
 * out is too small (6 * strlen(in) + 3 bytes always suffice). */
int json_string_script(const char *in, char *out, size_t size);

/* "YYYY-MM-DD HH:MM:SS.uuuuuu" in UTC, as every text line starts. */
void event_time_text(uint64_t ts_us, char out[40]);

/* Address as text (inet_ntop) into buf of >= 46 bytes. */
const char *addr_str(int family, const uint8_t *addr, char *buf);

/* 2 KiB for the event, and room for its rule object (RULESET_JSON_MAX). */
#define EVENT_BUF_SIZE 4096

#endif
