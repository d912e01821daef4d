/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the capture readers (src/capture.c: files and pipes;
 * src/capture_live.c: interfaces; src/capture_filter.c). Not for the rest
 * of rstwatch. */
#ifndef RSTWATCH_CAPTURE_INTERNAL_H
#define RSTWATCH_CAPTURE_INTERNAL_H

#include <pcap/pcap.h>

#include "capture.h"

/* A filter compiled once per link type met (a pcapng file may hold several). */
struct capture_filter {
	const char *expr;               /* NULL: no filter */
	unsigned int n;
	struct {
		int linktype;
		struct bpf_program prog;
	} progs[CAPTURE_LINKTYPES_MAX];
};

/* 1 the frame passes, 0 it does not, -1 expr does not compile for linktype
 * (err says why). */
int capture_filter_match(struct capture_filter *cf, int linktype, const uint8_t *data,
			 uint32_t caplen, uint32_t wirelen, char *err, size_t errlen);
void capture_filter_free(struct capture_filter *cf);

/* What one capture's frames go through. */
struct feed {
	struct pipeline *pl;
	struct lookahead *la;
	struct copies **copies;     /* allocated at the first packet whose direction is known */
	capture_event_cb cb;
	void *arg;
	struct capture_stats *st;
	const char *name;           /* pcap_filename of offline events, NULL live */
	struct capture_filter *filter; /* NULL: the source filters (live: in the kernel) */
	char *err;                  /* where feed_frame explains a filter error */
	size_t errlen;
	/* Live sources: the newest packet's capture time, and when (CLOCK_MONOTONIC,
	 * us) it was read; 0 before the first. */
	uint64_t last_ts_us, last_read_us;
	volatile sig_atomic_t *stop; /* capture_opts.stop */
	bool live;
	bool stopped;               /* the callback asked to stop (or a filter error) */
	enum capture_result why_stopped;
};

/* One captured frame through the filter, decode and the pipeline; dir is what
 * the capture's block says (pcapng epb_flags: 0, 1 in, 2 out). Non-zero: stop
 * (f->why_stopped says why). */
int feed_frame(struct feed *f, int linktype, const uint8_t *data, uint32_t caplen,
	       uint32_t wirelen, uint64_t ts_us, uint8_t dir);

/* A live source had nothing for a while: capture time is taken to move with
 * wall time since its newest packet, closing the look-ahead windows that
 * ended. Non-zero: stop. */
int feed_idle(struct feed *f);

/* The look-ahead's state for a capture: begin, then end (its last events out). */
void feed_begin(struct feed *f, struct lookahead *la, struct copies **copies);
enum capture_result feed_end(struct feed *f, enum capture_result res);

/* DLT_* value libpcap wants for a LINKTYPE_* value, and back. */
int capture_dlt_of(int linktype);
int capture_linktype_of(pcap_t *pc);

#endif
