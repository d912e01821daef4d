/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capture input: read a capture file, a pipe or (src/capture_live.c) a live
 * interface and feed every TCP segment through the pipeline. pcapng files
 * (Section Header Block magic) go through our own block reader (src/pcapng.c),
 * which keeps a link type per interface; classic pcap files go through
 * libpcap. */
#ifndef RSTWATCH_CAPTURE_H
#define RSTWATCH_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "pipeline.h"

/* Link types with frames left undecoded, tracked one by one up to this many. */
#define CAPTURE_LINKTYPES_MAX 8

struct capture_linktype_count {
	int linktype;           /* LINKTYPE_* as the file gives it */
	uint64_t frames;
};

struct capture_stats {
	uint64_t frames;
	uint64_t by_result[DECODE_RESULT_COUNT];  /* DECODE_OK = TCP segments processed */
	uint64_t resets;
	struct lookahead_stats lookahead;  /* suspect resets decided by what followed them */
	bool truncated;         /* the file ended (or failed) in the middle of a record */
	/* The frames of by_result[DECODE_LINKTYPE], by link type: the first
	 * CAPTURE_LINKTYPES_MAX types met; frames of any further one are only
	 * in the total. */
	struct capture_linktype_count unknown_linktypes[CAPTURE_LINKTYPES_MAX];
	uint64_t copies;             /* second copies of packets (forwarded, looped back): one
				      * packet with the first (src/copies.h) */
	unsigned int n_unknown_linktypes;
	uint64_t filtered;           /* frames the capture filter left out */
	uint64_t tunnelled[TUNNEL_TYPE_COUNT]; /* TCP segments found inside a tunnel, by the
				      * outermost one's type ([TUNNEL_NONE]: not tunnelled) */
	uint64_t dropped;            /* live: packets the kernel or the interface dropped
				      * (pcap_stats), never seen */
	uint64_t hosts_evicted;      /* hosts whose TTL baseline a full set pushed out
				      * (src/hostttl.h) */
};

/* How to read. A live source (a pipe on stdin, an interface) has no end to
 * wait for: what it holds is released as it comes, and the look-ahead's
 * windows also close as wall time passes (capture time does not move while
 * nothing arrives). */
struct capture_opts {
	const char *filter;             /* pcap filter expression (tcpdump's syntax), NULL:
					 * every frame */
	volatile sig_atomic_t *stop;    /* non-zero (set by a signal handler) ends a live
					 * read as if its input had ended; NULL: never */
	void (*ready)(const char *source, int linktype, void *arg); /* live: capturing now */
};

typedef int (*capture_event_cb)(const struct rst_event *ev, void *arg);

enum capture_result {
	CAPTURE_OK = 0,
	CAPTURE_TRUNCATED = 1,  /* read what was there, then hit a bad or cut record */
	CAPTURE_UNREADABLE = -1,/* could not open it, or not a capture */
	CAPTURE_CALLBACK = -2,  /* the callback returned non-zero (e.g. stdout closed) */
	CAPTURE_FILTER = -3,    /* the filter does not compile for the capture's link type */
};

/* Every reset found calls cb, in capture order; a suspect one only once the
 * packets after it have been seen (pipeline_packet_lookahead), so cb may come
 * up to LOOKAHEAD_WINDOW_US of capture time late. Errors are described in err.
 * path "-" is standard input. */
enum capture_result capture_explain(const char *path, struct pipeline *pl,
				    const struct capture_opts *opts, capture_event_cb cb, void *arg,
				    struct capture_stats *st, char *err, size_t errlen);

/* The same from a live interface (libpcap, immediate mode), until opts->stop
 * is set: CAPTURE_OK then; CAPTURE_UNREADABLE if the interface cannot be
 * opened, CAPTURE_TRUNCATED if reading it failed on the way (err says why). */
enum capture_result capture_live(const char *iface, struct pipeline *pl,
				 const struct capture_opts *opts, capture_event_cb cb, void *arg,
				 struct capture_stats *st, char *err, size_t errlen);

/* 0 if expr compiles as a pcap filter (for Ethernet), else -1 with pcap's
 * message in err. */
int capture_filter_check(const char *expr, char *err, size_t errlen);

/* libpcap's short name of a LINKTYPE_* value ("FDDI", "IEEE802_11"), or "unknown". */
const char *capture_linktype_name(int linktype);

#endif
