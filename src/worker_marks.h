/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A worker's conntrack marks: the class, dropped and watch bits it writes on
 * a judged reset's entry, and the watch list of flows whose watch bit it set
 * (or took over), cleared when --watch-seconds is up. Split from worker.c;
 * one worker thread calls these for its own struct worker. */
#ifndef RSTWATCH_WORKER_MARKS_H
#define RSTWATCH_WORKER_MARKS_H

#include <stdbool.h>
#include <stdint.h>

#include "worker.h"

/* Tag pkt's conntrack entry (ct as looked up) with ev's class and the dropped
 * and watch bits under the policy's mask; ev records the mark. A watched flow
 * goes on the list for --watch-seconds from ts. */
void worker_tag_flow(struct worker *w, const struct tcp_packet *pkt, const struct ct_info *ct,
		     struct rst_event *ev, bool drop, bool watch, uint64_t ts);

/* A copy that only the watch chains send (no SYN, FIN or reset) of a flow
 * not on the list: its watch bit was set by someone else; take it over. */
void worker_watch_adopt(struct worker *w, const struct tcp_packet *p, uint64_t now);

/* Clear the watch bit of flows whose time is up and take them off the list. */
void worker_watch_expire(struct worker *w, uint64_t now);

#endif
