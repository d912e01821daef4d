/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's worker threads (src/worker.c) and what they share with its
 * main thread (src/daemon.c). Internal to the daemon: not part of its API. */
#ifndef RSTWATCH_WORKER_H
#define RSTWATCH_WORKER_H

#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "ct.h"
#include "daemon.h"
#include "decode.h"
#include "hold.h"
#include "install.h"
#include "logsink.h"
#include "markers.h"
#include "metrics.h"
#include "nflog.h"
#include "pipeline.h"
#include "policy.h"
#include "queue.h"
#include "ratelimit.h"
#include "ruleset_event.h"
#include "ruleset_live.h"

#define WATCH_MAX 256
#define PENDING_MAX 64           /* events of one burst, formatted after its verdicts */
#define IFNAME_CACHE 32
#define LOOP_TIMEOUT_MS 200      /* longest a thread waits before checking its stop flags */

struct watch_entry {
	struct tcp_packet tuple;     /* addresses and ports are all that is used */
	uint64_t until_us;
};

struct daemon;

/* A worker owns one queue (what it may drop: resets) and one nflog group
 * (what it only observes: handshakes, watched flows, this host's rejects of
 * new flows), and the flows the ruleset hashes onto both. */
struct worker {
	struct daemon *d;
	pthread_t thread;
	bool started;
	uint16_t queue_num;
	uint16_t nflog_group;
	struct nfqueue *q;
	struct nflog_reader *log;
	/* Copies lost (socket overrun or a gap in the group's sequence): when
	 * the last loss was seen, and the loss count then. A flow older than
	 * that may miss packets its history should have. */
	uint64_t copies_lost_at_us;
	uint64_t copies_lost_seen;
	/* Markers read, not yet claimed by their resets; and while a reset
	 * waits for its own (seek, NULL otherwise), whether it came. */
	struct marker_ring markers;
	const uint8_t *seek;
	size_t seek_len;
	bool seek_found;
	struct ct_handle *ct;
	struct pipeline pl;
	struct ratelimit rl;
	struct watch_entry watch[WATCH_MAX];
	unsigned n_watch;
	char *out;                   /* event lines waiting for the end of the burst */
	size_t out_len;
	/* Events of this burst, formatted after its verdicts: formatting one (a
	 * few microseconds) before would delay the verdict. */
	struct kept_event *pending;
	struct rule_names *pending_rules;  /* [i]: the rule words of pending[i] */
	uint32_t pending_oif[PENDING_MAX]; /* [i]: the interface pending[i] left by */
	struct hold_table *holds;    /* suspect resets watched (NULL: holding is off) */
	unsigned n_pending;
	struct {
		uint32_t index;
		char name[IF_NAMESIZE];
	} ifnames[IFNAME_CACHE];
	unsigned n_ifnames;
	struct metrics m;            /* this thread's counters */
	atomic_uint_fast64_t flows_active, flows_evicted, flows_longest_chain, hosts_evicted;
	/* Packet ids the kernel gave out that never reached us: a full socket
	 * buffer (fail-open: passed unjudged; otherwise dropped, user_dropped).
	 * The kernel numbers a queue's packets 1, 2, ... from the bind. */
	uint32_t last_id;
	uint64_t last_id_us;                       /* when last_id came */
	atomic_uint_fast64_t unseen;
	atomic_uint_fast64_t unseen_implausible;   /* id jumps beyond nfq/seqgap.h's bound */
	atomic_uint_fast64_t unseen_shown;         /* the most /metrics has said (daemon.c) */
	uint64_t shed_until_us;      /* conntrack work shed until then (see SHED_HOLD_US) */
	uint64_t clock_us;           /* the last clock reading (see CLOCK_SHARE_RUN) */
	/* Packets decoded on arrival (on_peek) and waiting for their verdict
	 * (on_queued): the transport peeks at most one packet ahead. */
	struct peeked {
		uint32_t id;
		bool valid;
		enum decode_result dr;
		uint32_t hash;           /* flow_hash, when dr is DECODE_OK */
		struct tcp_packet pkt;
	} peeked[2];
	unsigned peek_next;
	atomic_int error;            /* errno that stopped the thread, 0 if none */
};

struct daemon {
	const struct daemon_config *c;
	struct daemon_signals *sig;
	atomic_int stopping;
	/* Shutting down: answer held resets now, hold no more. Set before the
	 * rules go, because deleting the table makes the kernel drop every
	 * queued packet, held ones included. */
	atomic_int releasing;
	struct policy policy;
	struct rules_config rules;
	struct logsink log;
	struct metrics m;            /* the main loop's counters */
	struct worker *workers;
	unsigned n_workers;
	bool rules_installed;        /* by this process: only then remove them at exit */
	struct control_socket control; /* the status socket (fd -1: none) */
	int64_t started_ms;          /* monotonic: the uptime `rstwatch status` reports */
	/* This namespace's ruleset, to name the rule of each local-firewall
	 * reset; kept current on its change events (read by a thread of its own). */
	struct ruleset_current ruleset;
};

/* One line into the event log (the workers' events, the main thread's
 * messages); a failed write counted in m. */
void daemon_log_line(struct daemon *d, struct metrics *m, const char *line, size_t len);

/* Worker k of d: its queue, nflog group, flow table and conntrack socket.
 * 0, or -1 with the reason in err. */
int worker_init(struct daemon *d, struct worker *w, unsigned k, char *err, size_t errlen);
void worker_free(struct worker *w);

/* The thread: until d->stopping, then it answers what is still queued. */
void *worker_main(void *arg);

#endif
