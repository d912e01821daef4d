/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Token buckets for event logging: one per source address, so one noisy
 * source cannot flood the log, and one for all sources together, so a flood
 * from many addresses cannot either. What is held back is counted and
 * reported as "N events suppressed": per source once the count is a second
 * old (when the source may log again, or by ratelimit_flush), at most once a
 * second; each such summary takes a token of the total bucket like an event,
 * and what finds none, or loses its slot to another source, is reported in
 * the total's summary instead (one a second at most). So the log holds at
 * most the total rate of lines plus one a second, and every held-back event
 * is reported exactly once; the metrics count every reset regardless. */
#ifndef RSTWATCH_RATELIMIT_H
#define RSTWATCH_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 1024

/* Called with a source's held-back count when it is reported (now_us), and
 * the time of the first event it held back; family 0 (addr NULL) reports what
 * the limit for all sources together held back. */
typedef void (*ratelimit_report_cb)(int family, const uint8_t *addr, uint64_t suppressed,
				    uint64_t since_us, uint64_t now_us, void *arg);

struct ratelimit_slot {
	uint8_t addr[16];
	uint8_t family;          /* 0: free */
	uint64_t tokens_milli;   /* tokens * 1000: 2 s of 10,000,000/s is past 32 bits */
	uint64_t refill_us;
	uint64_t suppressed;
	uint64_t first_suppressed_us;
};

struct ratelimit {
	uint32_t rate;           /* events per second per source; 0 = unlimited */
	uint32_t burst;
	uint32_t total_rate;     /* events per second from all sources; 0 = unlimited */
	ratelimit_report_cb report;
	void *arg;
	struct ratelimit_slot total;
	struct ratelimit_slot slot[RATELIMIT_SLOTS];
};

void ratelimit_init(struct ratelimit *rl, uint32_t rate, uint32_t burst, uint32_t total_rate,
		    ratelimit_report_cb cb, void *arg);

/* May an event from this source be logged now? Reports the source's earlier
 * suppressed count first when it may and the count is a second old. */
bool ratelimit_allow(struct ratelimit *rl, int family, const uint8_t *addr, uint64_t now_us);

/* Report counts that are a second old (all of them with all: at exit);
 * call it every second or more often. */
void ratelimit_flush(struct ratelimit *rl, uint64_t now_us, bool all);

#endif
