/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain --report: one self-contained HTML file (inline CSS, JS and SVG; no
 * network access needed to view it) with a timeline of the resets by class,
 * the summary table, the top peers and the flows with most resets, each with
 * its plain-English line. Everything taken from the capture (file names,
 * interface names, text lines) is escaped: HTML entities in the markup,
 * JSON with <, > and & as \u escapes in the data the script reads, which puts
 * it on the page as text nodes only (never innerHTML). */
#ifndef RSTWATCH_REPORT_HTML_H
#define RSTWATCH_REPORT_HTML_H

#include <stdio.h>

#include "capture.h"
#include "event.h"
#include "peers.h"

struct report;

/* NULL if there is no memory. */
struct report *report_new(void);
void report_free(struct report *r);

/* One event (as explain prints it). -1: no memory (the report misses it). */
int report_add(struct report *r, const struct rst_event *ev);

/* The report, for the capture files (or interface) named in sources. 0, or
 * -1 if out failed. */
int report_write(const struct report *r, FILE *out, const char *const *sources,
		 unsigned int n_sources, const struct capture_stats *total,
		 const struct peers *peers);

#endif
