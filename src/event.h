/* One reset event: everything the JSON and text writers print. Built by the
 * pipeline (offline or live), consumed by event_json_format / event_text_format. */
#ifndef RSTWATCH_EVENT_H
#define RSTWATCH_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "ct.h"
#include "decode.h"
#include "flow.h"

enum rst_action { ACTION_ACCEPT = 0, ACTION_DROP };

struct rst_event {
	uint64_t ts_us;               /* capture or arrival time, us since the epoch */
	const char *in_iface;         /* NULL or "" when unknown */
	const struct tcp_packet *pkt;
	const struct flow *flow;      /* state before the reset; may be NULL */
	int dir;                      /* direction of the reset in flow */
	const struct ct_info *ct;     /* may be NULL */
	enum rst_hook hook;
	struct rst_verdict verdict;
	enum rst_action action;
	const char *action_reason;    /* why dropped, NULL if accepted */
	int has_ct_mark;
	uint32_t ct_mark;             /* mark after tagging */
};

/* Format ev as one JSON line (with trailing '\n', NUL-terminated) into buf.
 * Returns the length, or -1 if buf is too small (2048 bytes always suffice). */
int event_json_format(const struct rst_event *ev, char *buf, size_t size);

/* One plain-English line with the next troubleshooting step (with '\n'). */
int event_text_format(const struct rst_event *ev, char *buf, size_t size);

/* Address as text (inet_ntop) into buf of >= 46 bytes. */
const char *addr_str(int family, const uint8_t *addr, char *buf);

#define EVENT_BUF_SIZE 2048

#endif
