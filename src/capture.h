/* Offline input: read a pcap or pcapng file with libpcap and feed every TCP
 * segment through the pipeline. */
#ifndef RSTWATCH_CAPTURE_H
#define RSTWATCH_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "pipeline.h"

struct capture_stats {
	uint64_t frames;
	uint64_t by_result[DECODE_RESULT_COUNT];  /* DECODE_OK = TCP segments processed */
	uint64_t resets;
	bool truncated;         /* the file ended (or failed) in the middle of a record */
};

typedef int (*capture_event_cb)(const struct rst_event *ev, void *arg);

enum capture_result {
	CAPTURE_OK = 0,
	CAPTURE_TRUNCATED = 1,  /* read what was there, then hit a bad or cut record */
	CAPTURE_UNREADABLE = -1,/* could not open it, or not a capture */
	CAPTURE_CALLBACK = -2,  /* the callback returned non-zero (e.g. stdout closed) */
};

/* Every reset found calls cb. Errors are described in err. */
enum capture_result capture_explain(const char *path, struct pipeline *pl, capture_event_cb cb,
				    void *arg, struct capture_stats *st, char *err,
				    size_t errlen);

#endif
