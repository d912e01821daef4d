/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rstwatch nftables ruleset: build it, probe what the kernel can queue
 * with, install it atomically, check it is still there, remove it.
 *
 * Everything happens in one table, `inet rstwatch`, in the current network
 * namespace; no other table is read or written. The table is built here with
 * libnftnl (no nft parser needed); rules/rstwatch.nft is the same ruleset
 * written for people, and tests/live/t-rules.sh proves the two list alike.
 *
 * Library code: returns -1 and sets errno (and a one-line reason in err when
 * the caller gives a buffer), never exits, never prints except to the FILE
 * the caller hands rules_print. */
#ifndef RSTWATCH_RULES_INSTALL_H
#define RSTWATCH_RULES_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RULES_TABLE "rstwatch"

#define RULES_DEFAULT_QUEUE 7300
#define RULES_DEFAULT_NFLOG_GROUP 7300
#define RULES_DEFAULT_MARK_MASK 0x00ff0000u
#define RULES_DEFAULT_WATCH_BIT 0x00800000u

/* What rstwatch sees besides resets. Each level includes the one before it.
 * Resets are queued (rstwatch may drop them); everything else is copied to
 * rstwatch's log groups (nfnetlink_log) and never waits for it. */
enum rules_level {
	RULES_LEVEL_RST = 0,    /* resets only */
	RULES_LEVEL_HANDSHAKE,  /* also copies of SYN, SYN/ACK and FIN, and of every packet of a
				 * flow whose ct mark has the watch bit (default). The name
				 * "watch" (a separate level before) means this one now. */
};

/* Queues (one worker thread each) at most. */
#define RULES_MAX_WORKERS 16
#define RULES_MAX_WORKERS_STR "16"

/* The log prefix of the copy a reset leaves in its log group just before it
 * is queued. Such a copy is a marker, not a packet to judge: its original
 * follows through the queue. */
#define RULES_QUEUED_PREFIX "rstwatch: queued"
/* Markers per second per queue at most (burst: how many may come at once).
 * A marker costs rstwatch one more receive per reset: under a reset flood,
 * markers of the resets the queue cannot take would crowd out the ones it
 * judges (measured: 25 times fewer resets judged). Past the limit a reset is
 * queued without one, and judged after the copies that reached rstwatch
 * (rstwatch_reset_markers_missing_total). */
#define RULES_MARKER_RATE 20000
#define RULES_MARKER_BURST 2000

/* How the divert rule hands packets to the queue. */
enum rules_queue_impl {
	RULES_QUEUE_AUTO = 0,   /* probe: native if the kernel has it, else xt */
	RULES_QUEUE_NATIVE,     /* nft `queue` expression (nft_queue) */
	RULES_QUEUE_XT,         /* xt NFQUEUE target rev 3 through nft_compat */
};

struct rules_config {
	/* Worker k (0 ... last - first) owns queue queue_first + k and nflog
	 * group nflog_group + k; with several, the ruleset picks a flow's worker
	 * by its symmetric hash (symhash), for its copies and its resets alike. */
	uint16_t queue_first, queue_last;
	uint16_t nflog_group;
	uint32_t mark_mask;     /* conntrack mark bits rstwatch owns */
	uint32_t watch_bit;     /* one bit inside mark_mask: flow on the watch list */
	enum rules_level level;
	bool bypass;            /* no queue listener: accept instead of drop (default true) */
	enum rules_queue_impl impl;
};

void rules_config_default(struct rules_config *c);

/* 0 if c is usable, else -1 + EINVAL and the reason in err. */
int rules_config_check(const struct rules_config *c, char *err, size_t errlen);

/* Level names "rst", "handshake", "watch"; -1 for an unknown name. */
const char *rules_level_name(enum rules_level l);
int rules_level_from_name(const char *name);

/* What the running kernel accepts. Each *_err is 0 when a rule using it was
 * accepted, else the errno the kernel gave (ENOENT: expression or target
 * missing). Nothing is committed: the probe batch is sent without its end
 * message, which makes the kernel validate and abort it (`nft --check`). */
struct rules_probe {
	int native_queue_err;   /* nft `queue` expression */
	int xt_nfqueue_err;     /* xt NFQUEUE revision 3 through nft_compat */
	bool nft_compat;        /* the nft_compat netlink subsystem answered */
	int xt_nfqueue_rev;     /* best NFQUEUE revision it knows, -1 if none */
};

/* 0 with *out filled, or -1 + errno if the probe itself failed (no netlink,
 * no CAP_NET_ADMIN). */
int rules_probe(struct rules_probe *out);

/* The implementation AUTO resolves to with this probe; AUTO if none works. */
enum rules_queue_impl rules_probe_choose(const struct rules_probe *p);

/* Replace table inet rstwatch with the ruleset for c, in one netlink batch:
 * it either fully applies or leaves everything as it was. With impl AUTO the
 * kernel is probed first. 0, or -1 + errno with the reason in err. */
int rules_install(const struct rules_config *c, char *err, size_t errlen);

/* Delete table inet rstwatch if present. 0 (also when it was absent), or -1 + errno. */
int rules_remove(void);

enum rules_state {
	RULES_MISSING = 0,      /* no table inet rstwatch (nft flush ruleset ...) */
	RULES_INTACT,           /* the table holds the rules c asks for, divert rule included */
	RULES_ALTERED,          /* the table is there but its rules are not what c asks for */
};

/* For the flush watchdog: one dump of the table's rules. Returns a
 * rules_state, or -1 + errno. */
int rules_check(const struct rules_config *c);

/* The ruleset for c as nft syntax: loadable with `nft -f`, with the divert
 * rule rstwatch adds at run time written as a comment. 0 or -1 + errno. */
int rules_print(FILE *f, const struct rules_config *c);

/* The install batch as bytes (BEGIN ... END), for tests and for
 * `rstwatch rules print --netlink`-style debugging. impl must not be AUTO.
 * *buf is malloc'ed; the caller frees it. 0, or -1 + errno. */
int rules_build_batch(const struct rules_config *c, enum rules_queue_impl impl, uint32_t seq,
		      void **buf, size_t *len);

#endif
