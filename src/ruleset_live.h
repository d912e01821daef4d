/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live ruleset (src/ruleset_live.c): read from this network namespace's
 * kernel, kept current by change events, shared by the worker threads.
 * Library code: errors returned, never printed. */
#ifndef RSTWATCH_RULESET_LIVE_H
#define RSTWATCH_RULESET_LIVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ruleset.h"

/* `nft -j list ruleset` through libnftables, between two reads of the same
 * generation (retried if a commit came between), with iptables-nft-save's
 * lines for xt rules. NULL with the reason in err. */
struct rs_model *ruleset_read_kernel(size_t max_bytes, char *err, size_t errlen);

/* A socket on NFNLGRP_NFTABLES: every committed nf_tables transaction sends
 * its changes, then NFT_MSG_NEWGEN with the new generation. */
struct ruleset_watch;
struct ruleset_watch *ruleset_watch_open(char *err, size_t errlen);
int ruleset_watch_fd(const struct ruleset_watch *w);

struct ruleset_changes {
	unsigned messages;      /* change messages read */
	unsigned commits;       /* transactions they came in (NEWGEN) */
	uint32_t generation;    /* the newest generation named, 0 if none */
	bool overrun;           /* the socket overflowed: changes were lost */
};

/* What arrived since the last call (non-blocking). 0, or -1 + errno. */
int ruleset_watch_read(struct ruleset_watch *w, struct ruleset_changes *c);
void ruleset_watch_close(struct ruleset_watch *w);

/* The current model and the one before it, shared by reference. */
struct rs_shared;
struct ruleset_current {
	pthread_mutex_t lock;
	struct rs_shared *cur, *prev;
	atomic_uint_fast32_t generation_seen;  /* the newest a change event named */
	pthread_cond_t renewed;      /* a model was set */
	bool reading;                /* a change is being read (under lock) */
	uint32_t given_up;           /* a generation whose read failed */
	unsigned waiters;            /* resets waiting for a newer generation */
	/* The reader thread (ruleset_reader_start), under lock: a change to
	 * read since pending_since_us, not before next_ms (monotonic). */
	pthread_cond_t work;
	pthread_t reader;
	atomic_bool reader_started;  /* read by the workers without the lock */
	bool stop, pending;
	uint64_t pending_since_us;
	uint64_t last_read_us;       /* when the last read that worked ended */
	int64_t next_ms;
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};

/* A reset right after a change waits this long at most for the new
 * generation to be read (a verdict waits with it: rare, bounded). */
#define RULESET_WAIT_MS 200
/* A reset's time and a change event's arrival are read on different paths:
 * a reset stamped this much before a change surely met the ruleset before it. */
#define RULESET_CLOCK_SLACK_US 50000ULL

void ruleset_current_init(struct ruleset_current *c);
void ruleset_current_fini(struct ruleset_current *c);
/* m becomes current (owned: freed when no reset uses it any more), in force
 * perhaps since maybe_from_us (the read before it ended) and surely since
 * sure_from_us (its change was seen; 0, 0: always). -1 if out of memory
 * (m is freed). */
int ruleset_current_set(struct ruleset_current *c, struct rs_model *m, uint64_t maybe_from_us,
			uint64_t sure_from_us);
/* A change event named generation (0: changes were lost): the reader reads
 * it (at its pace); answers from an older model say the ruleset changed. */
void ruleset_current_changed(struct ruleset_current *c, uint32_t generation);

/* A thread of its own reads the ruleset (ruleset_read_kernel): at once, then
 * after each change, no sooner than twice the last read's time after it
 * unless a reset waits for it; warn(arg, reason) when a read fails. The
 * thread that reads change events is never held up by a read. -1 if the
 * thread cannot start. */
int ruleset_reader_start(struct ruleset_current *c, void (*warn)(void *arg, const char *msg),
			 void *arg);
void ruleset_reader_stop(struct ruleset_current *c);
/* Reading it failed: nobody waits for it any more (answers say changed). */
void ruleset_current_unread(struct ruleset_current *c);
/* The model a reset seen at ts_us met: the current one (waiting up to
 * RULESET_WAIT_MS for a committed generation to be read, hurrying the reader;
 * with a reader, the kernel's generation is asked first: one netlink round
 * trip, so that a commit whose event is not read yet is not missed), or the
 * one before it if the reset is clearly older; *changed if neither is sure
 * to be it. A reset between the two generations' bounds may have met either:
 * then *alt is the one before (else NULL), for the caller to ask too. NULL
 * if none. Give each back with ruleset_current_drop (NULL is fine). */
const struct rs_model *ruleset_current_take(struct ruleset_current *c, uint64_t ts_us,
					    struct rs_shared **held, bool *changed,
					    const struct rs_model **alt, struct rs_shared **alt_held);
void ruleset_current_drop(struct ruleset_current *c, struct rs_shared *held);

#endif
