/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `rstwatch run`: the live gateway daemon. One worker thread per queue, each
 * with the nflog group of the same index (the ruleset hashes a flow onto one
 * pair: its copies and its queued resets meet in one thread, which owns its
 * flow table and conntrack socket, so no locks on the hot path), and the
 * caller's thread for signals, the ruleset watchdog, metrics and systemd
 * notification. */
#ifndef RSTWATCH_DAEMON_H
#define RSTWATCH_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "install.h"
#include "policy.h"

struct daemon_config {
	uint16_t queue_first, queue_last;
	uint16_t nflog_group;           /* the first; one per queue */
	char log_target[4096];          /* "-", "syslog" or a file */
	bool log_text;                  /* plain-English lines instead of JSON */
	uint32_t log_buffer;            /* bytes of lines that may wait for a slow log */
	enum policy_mode mode;
	char suppress[256];             /* class names, comma-separated */
	uint32_t mark_mask;
	uint32_t watch_seconds;
	uint32_t hold_min_ms, hold_max_ms; /* how long a suspect reset is watched (held) */
	unsigned hold_count;            /* suspect resets watched at once per thread; 0: none */
	enum rules_level level;
	enum rules_queue_impl queue_impl;
	char metrics_addr[128];         /* "" = no metrics endpoint */
	char control_path[108];         /* `rstwatch status` asks here; "none" = no socket */
	bool install_rules;             /* false: --no-rules, the admin loads them */
	bool conntrack;                 /* query and tag conntrack */
	uint32_t copy_range;
	uint32_t queue_maxlen;
	int rcvbuf;
	unsigned batch;
	bool fail_open;
	bool arrival_stamps;            /* SO_TIMESTAMP on the queue sockets */
	uint32_t max_flows;             /* per queue thread */
	uint32_t rate, burst;           /* events per second per source; 0 = unlimited */
	uint32_t rate_total;            /* events per second per queue thread, all sources */
	uint32_t idle_threshold_s;
	uint8_t ttl_tolerance;
};

void daemon_config_default(struct daemon_config *c);

/* The checks no single option can make (mark mask shape, hold bounds, the
 * suppress list's class names): 0, or -1 with the reason in err. */
int daemon_config_check(const struct daemon_config *c, char *err, size_t errlen);

/* Signals the caller's handlers set; the daemon only reads (and clears hup). */
struct daemon_signals {
	volatile sig_atomic_t stop;
	volatile sig_atomic_t hup;
};

/* Run until sig->stop. 0 after a clean shutdown (rules removed, every queued
 * packet answered), -1 with a reason in err if it could not start or failed. */
int daemon_run(const struct daemon_config *c, struct daemon_signals *sig, char *err,
	       size_t errlen);

#endif
