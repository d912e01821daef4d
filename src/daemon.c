#include "daemon.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ct.h"
#include "decode.h"
#include "event.h"
#include "localaddr.h"
#include "logsink.h"
#include "metrics.h"
#include "nflog.h"
#include "pipeline.h"
#include "queue.h"
#include "ratelimit.h"

#ifndef RSTWATCH_VERSION
#define RSTWATCH_VERSION "0.1.0"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WATCH_MAX 256
#define IFNAME_CACHE 32
#define OUT_CAP (64 * 1024)
#define PENDING_MAX 64
/* Packets handled without the socket running dry before the queue counts as
 * backed up: an eighth of what a default receive buffer holds (~256), i.e.
 * about 0.1 ms of work waiting. */
#define BACKLOG_RUN 32
/* Once backed up, conntrack work stays shed this long after the last long
 * run: a saturating flood lets the socket run dry now and then for a moment,
 * and a round trip for each packet after such a moment is the work the
 * flood leaves no time for. */
#define SHED_HOLD_US 100000ULL
/* Packets of one backlogged run that share a clock reading. Backed up, a
 * packet waited in the queue for far longer (0.1 ms at BACKLOG_RUN, ms in a
 * flood) than the ~25 us its time can be off by; a lone packet reads the
 * clock itself. Saves a clock read (~25 ns) on most packets of a flood. */
#define CLOCK_SHARE_RUN 8
_Static_assert(BACKLOG_RUN % CLOCK_SHARE_RUN == 0,
	       "the first packet past BACKLOG_RUN must read the clock, not share an old reading");
#define LOOP_TIMEOUT_MS 200      /* longest a thread waits before checking the stop flag */
/* Longest a queue thread answers leftovers at shutdown. With our rules gone
 * nothing new arrives and the queue empties at once; with --no-rules the
 * admin's rule keeps diverting, and a flood would otherwise hold SIGTERM off
 * for as long as it lasts. What the kernel still holds at unbind it drops. */
#define DRAIN_MAX_US 1000000ULL
#define FLOW_IDLE_EXPIRE_US (3600ULL * 1000000)
#define NFLOG_BATCH 64                   /* copies per message the kernel gathers */
#define NFLOG_RCVBUF (4 * 1024 * 1024)   /* copies a burst may leave waiting */

struct watch_entry {
	struct tcp_packet tuple;     /* addresses and ports are all that is used */
	uint64_t until_us;
};

struct daemon;

/* An event kept whole until its burst's verdicts are out: formatting it (a few
 * microseconds) before would delay the verdict. Its pointers are re-aimed at
 * these copies; the packet's payload lives in the receive buffer, which the
 * next packet reuses, so the copy has none (no writer reads it). */
struct pending_event {
	struct rst_event ev;
	struct tcp_packet pkt;
	struct ct_info ct;
	struct rst_context ctx;
	char ifname[IF_NAMESIZE];
};

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
	struct ct_handle *ct;
	struct pipeline pl;
	struct ratelimit rl;
	struct watch_entry watch[WATCH_MAX];
	unsigned n_watch;
	char *out;                   /* event lines waiting for the end of the burst */
	size_t out_len;
	struct pending_event *pending; /* events of this burst, formatted after its verdicts */
	unsigned n_pending;
	struct {
		uint32_t index;
		char name[IF_NAMESIZE];
	} ifnames[IFNAME_CACHE];
	unsigned n_ifnames;
	struct metrics m;            /* this thread's counters */
	atomic_uint_fast64_t flows_active, flows_evicted, flows_longest_chain;
	/* Packet ids the kernel gave out that never reached us: a full socket
	 * buffer (fail-open: passed unjudged; otherwise dropped, user_dropped).
	 * The kernel numbers a queue's packets 1, 2, ... from the bind. */
	uint32_t last_id;
	atomic_uint_fast64_t unseen;
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
	struct policy policy;
	struct rules_config rules;
	struct logsink log;
	struct metrics m;            /* the main loop's counters */
	struct worker *workers;
	unsigned n_workers;
	bool rules_installed;        /* by this process: only then remove them at exit */
};

void daemon_config_default(struct daemon_config *c)
{
	struct classify_settings cs;

	memset(c, 0, sizeof(*c));
	c->queue_first = c->queue_last = RULES_DEFAULT_QUEUE;
	c->nflog_group = RULES_DEFAULT_NFLOG_GROUP;
	strcpy(c->log_target, "-");
	c->mode = MODE_OBSERVE;
	c->mark_mask = POLICY_DEFAULT_MASK;
	c->watch_seconds = 10;
	c->level = RULES_LEVEL_HANDSHAKE;
	c->queue_impl = RULES_QUEUE_AUTO;
	c->install_rules = true;
	c->conntrack = true;
	c->copy_range = 128;
	c->queue_maxlen = 4096;
	c->batch = 8;
	c->fail_open = true;
	c->max_flows = 262144;
	c->rate = 20;
	c->burst = 40;
	c->rate_total = 1000;
	classify_settings_default(&cs);
	c->idle_threshold_s = cs.idle_threshold_s;
	c->ttl_tolerance = cs.ttl_tolerance;
}

static void write_line(struct daemon *d, struct metrics *m, const char *line, size_t len)
{
	if (logsink_write(&d->log, line, len))
		metrics_inc(&m->log_errors);
}

/* Events are written after the burst they belong to has had its verdicts:
 * a write per reset would delay each verdict by a syscall. */
static void out_write(struct worker *w)
{
	if (w->out_len)
		write_line(w->d, &w->m, w->out, w->out_len);
	w->out_len = 0;
}

/* Room for one more line of at most n bytes at w->out + w->out_len. */
static char *out_room(struct worker *w, size_t n)
{
	if (OUT_CAP - w->out_len < n)
		out_write(w);
	return w->out + w->out_len;
}

static void pending_format(struct worker *w)
{
	unsigned i;

	for (i = 0; i < w->n_pending; i++) {
		const struct rst_event *ev = &w->pending[i].ev;
		char *buf = out_room(w, EVENT_BUF_SIZE);
		int n = w->d->c->log_text ? event_text_format(ev, buf, EVENT_BUF_SIZE)
					  : event_json_format(ev, buf, EVENT_BUF_SIZE);

		if (n > 0)
			w->out_len += (size_t)n;
		else
			metrics_inc(&w->m.log_errors);
	}
	w->n_pending = 0;
}

static void out_flush(struct worker *w)
{
	pending_format(w);
	out_write(w);
}

/* "N events suppressed" for a source the rate limit held back. */
static void report_suppressed(int family, const uint8_t *addr, uint64_t n, void *arg)
{
	struct worker *w = arg;
	const struct daemon_config *c = w->d->c;
	char a[64], line[512];
	int len;

	if (family)
		addr_str(family, addr, a);
	else
		strcpy(a, "all sources");
	if (c->log_text)
		len = snprintf(line, sizeof(line), "%llu events suppressed from %s (rate limit "
			       "%u/s per source, %u/s in all; all counted in the metrics)\n",
			       (unsigned long long)n, a, c->rate, c->rate_total);
	else if (family)
		len = snprintf(line, sizeof(line), "{\"event_type\":\"rst_suppressed\","
			       "\"src_ip\":\"%s\",\"suppressed\":%llu}\n", a,
			       (unsigned long long)n);
	else
		len = snprintf(line, sizeof(line), "{\"event_type\":\"rst_suppressed\","
			       "\"src_ip\":\"*\",\"suppressed\":%llu}\n", (unsigned long long)n);
	if (len > 0 && (size_t)len < sizeof(line)) {
		pending_format(w);    /* keep the log in order */
		memcpy(out_room(w, (size_t)len), line, (size_t)len);
		w->out_len += (size_t)len;
	}
}

static void emit(struct worker *w, const struct rst_event *ev)
{
	struct pending_event *p;

	if (!ratelimit_allow(&w->rl, ev->pkt->family, ev->pkt->src, ev->ts_us)) {
		metrics_inc(&w->m.events_suppressed);
		return;
	}
	if (w->n_pending == PENDING_MAX)
		pending_format(w);
	p = &w->pending[w->n_pending++];
	p->ev = *ev;
	p->pkt = *ev->pkt;
	p->pkt.payload = NULL;
	p->ev.pkt = &p->pkt;
	p->ctx = *ev->ctx;
	p->ev.ctx = &p->ctx;
	if (ev->ctx->ct) {
		p->ct = *ev->ctx->ct;
		p->ctx.ct = &p->ct;
	}
	if (ev->in_iface) {
		snprintf(p->ifname, sizeof(p->ifname), "%s", ev->in_iface);
		p->ev.in_iface = p->ifname;
	}
}

static void watch_add(struct worker *w, const struct tcp_packet *p, uint64_t until)
{
	unsigned i;

	for (i = 0; i < w->n_watch; i++)
		if (!memcmp(&w->watch[i].tuple.src, p->src, 16) &&
		    w->watch[i].tuple.sport == p->sport && w->watch[i].tuple.dport == p->dport) {
			w->watch[i].until_us = until;
			return;
		}
	if (w->n_watch == WATCH_MAX)
		return;    /* the bit then stays until conntrack forgets the flow */
	w->watch[w->n_watch].tuple = *p;
	w->watch[w->n_watch++].until_us = until;
}

/* Take flows off the watch list whose time is up. */
static void watch_expire(struct worker *w, uint64_t now)
{
	unsigned i = 0;

	while (i < w->n_watch) {
		if (w->watch[i].until_us > now) {
			i++;
			continue;
		}
		if (w->ct)
			ct_mark_update(w->ct, &w->watch[i].tuple, 0, policy_watch_bit(&w->d->policy));
		w->watch[i] = w->watch[--w->n_watch];
	}
}

/* Interface names for events: if_indextoname costs three syscalls, and a
 * gateway has few interfaces, so each worker keeps the answers. A name that
 * changes (interface renamed, index reused) is seen on the next miss. */
static const char *ifname_of(struct worker *w, uint32_t ifindex)
{
	unsigned i;

	if (!ifindex)
		return NULL;
	for (i = 0; i < w->n_ifnames; i++)
		if (w->ifnames[i].index == ifindex)
			return w->ifnames[i].name;
	i = w->n_ifnames < IFNAME_CACHE ? w->n_ifnames++ : ifindex % IFNAME_CACHE;
	if (!if_indextoname(ifindex, w->ifnames[i].name)) {
		w->ifnames[i].index = 0;
		return NULL;
	}
	w->ifnames[i].index = ifindex;
	return w->ifnames[i].name;
}

/* A decoded packet reached us: if a reset, classify, decide, tag, log.
 * Returns whether to drop. */
static bool handle_packet(struct worker *w, enum decode_result dr, const struct tcp_packet *pkt,
			  uint8_t hook, uint32_t ifindex_in, uint64_t ts, bool behind, bool via_log)
{
	struct daemon *d = w->d;
	struct ct_info ct = { 0 };
	/* rstwatch sees resets, handshakes and FINs, and data only of watched
	 * flows: a partial view. */
	struct rst_context ctx = { .hook = HOOK_PREROUTING, .via_log = via_log,
				   .partial_view = true };
	struct rst_event ev;
	const char *why = NULL;
	bool drop, watch;

	metrics_inc(&w->m.decode[dr]);
	if (dr != DECODE_OK)
		return false;    /* not ours to judge: let it pass */
	if (hook == NF_INET_LOCAL_OUT) {
		ctx.hook = HOOK_OUTPUT;
		ctx.src_is_local = localaddr_is_local(pkt->family, pkt->src, ts);
	}
	bool shed = (pkt->flags & TCPF_RST) && w->ct && !via_log && behind;

	if (shed) {
		/* Two netlink round trips a reset are what a flood cannot afford:
		 * while backed up, classify from the flow alone, and say so. */
		metrics_inc(&w->m.ct_lookups[CT_SHED]);
	} else if ((pkt->flags & TCPF_RST) && w->ct && !via_log) {
		if (ct_get(w->ct, pkt, &ct) == 0) {
			metrics_inc(&w->m.ct_lookups[ct.present ? CT_FOUND : CT_MISSING]);
			ctx.ct = &ct;
		} else {
			metrics_inc(&w->m.ct_lookups[CT_ERROR]);
		}
	}
	if (!pipeline_packet(&w->pl, pkt, ts, &ctx, &ev))
		return false;
	if (shed)
		rst_evidence_add(&ev.verdict, "ct-shed:backlog");
	if (w->copies_lost_at_us && ev.flow.known && ts - ev.flow.age_us <= w->copies_lost_at_us) {
		/* The flow was alive when copies were lost: its history may miss
		 * packets, so a verdict resting on what was not seen is weaker. */
		rst_evidence_add(&ev.verdict, "copies-lost");
		ev.verdict.confidence *= 0.8f;
	}
	ev.in_iface = ifname_of(w, ifindex_in);
	drop = !via_log && policy_drop(&d->policy, &ev.verdict, &why);
	watch = !via_log && policy_wants_watch(&d->policy, &ev.verdict);
	if (drop) {
		ev.action = ACTION_DROP;
		ev.action_reason = why;
	}
	if (ct.present && w->ct) {
		uint32_t mark = policy_mark(&d->policy, &ev.verdict, drop, watch);

		if (ct_mark_update(w->ct, pkt, mark, d->policy.mark_mask) == 0) {
			metrics_inc(&w->m.ct_marks_set);
			ev.has_ct_mark = 1;
			ev.ct_mark = (ct.mark & ~d->policy.mark_mask) | mark;
			if (watch)
				watch_add(w, pkt, ts + (uint64_t)d->policy.watch_seconds * 1000000);
		} else {
			metrics_inc(&w->m.ct_mark_errors);
		}
	}
	metrics_inc(&w->m.resets[ev.verdict.cls][ev.verdict.origin][drop]);
	emit(w, &ev);
	return drop;
}

static void copies_drain(struct worker *w);

static enum nfqueue_verdict on_queued(const struct nfqueue_packet *qp, void *arg)
{
	struct worker *w = arg;
	uint64_t ts;
	int32_t gap = (int32_t)(qp->id - w->last_id - 1);

	if (gap > 0)
		atomic_fetch_add(&w->unseen, (uint64_t)gap);
	if ((int32_t)(qp->id - w->last_id) > 0)
		w->last_id = qp->id;
	/* A received packet carries its arrival stamp when the host stamps
	 * packets (--arrival-stamps, or another socket such as tcpdump's asked
	 * for it); a locally sent one may carry its departure time on TCP's
	 * pacing clock instead, so those are stamped here. */
	if (qp->has_ts && qp->hook != NF_INET_LOCAL_OUT)
		ts = qp->ts_us;
	else if (qp->run < BACKLOG_RUN || qp->run % CLOCK_SHARE_RUN == 0)
		ts = w->clock_us = clock_realtime_us();
	else
		ts = w->clock_us;
	if (qp->run >= BACKLOG_RUN)
		w->shed_until_us = ts + SHED_HOLD_US;

	struct peeked *pk = &w->peeked[0], *next = &w->peeked[1];
	struct peeked now;
	bool drop;

	if (!(pk->valid && pk->id == qp->id)) {
		pk = &w->peeked[1];
		next = &w->peeked[0];
	}
	if (!(pk->valid && pk->id == qp->id)) {
		/* Not peeked: the transport's contract says this does not happen. */
		pk = &now;
		pk->dr = decode_ip(qp->payload, qp->len, &pk->pkt);
	}
	pk->valid = false;
	copies_drain(w);
	drop = handle_packet(w, pk->dr, &pk->pkt, qp->hook, qp->ifindex_in, ts,
			     ts < w->shed_until_us, false);
	/* The next packet's index slot was prefetched before this one was
	 * handled and has arrived by now: fetch the entry it names while the
	 * transport sends this verdict and receives again. */
	if (next->valid && next->dr == DECODE_OK)
		flow_prefetch_entry(w->pl.flows, next->hash);
	return drop ? NFQUEUE_DROP : NFQUEUE_ACCEPT;
}

/* A packet just arrived; the one before it is judged next. Decode it now and
 * start fetching its flow's index slot: the judging of the one before hides
 * that miss, and the entry's (fetched when that is done, see on_queued) the
 * next receive hides. */
static void on_peek(const struct nfqueue_packet *qp, void *arg)
{
	struct worker *w = arg;
	struct peeked *pk = &w->peeked[w->peek_next];

	w->peek_next ^= 1;
	pk->id = qp->id;
	pk->valid = true;
	pk->dr = decode_ip(qp->payload, qp->len, &pk->pkt);
	if (pk->dr == DECODE_OK) {
		pk->hash = flow_hash(w->pl.flows, &pk->pkt);
		flow_prefetch_slot(w->pl.flows, pk->hash);
	}
}

static int on_logged(const struct nflog_packet *lp, void *arg)
{
	struct worker *w = arg;

	/* A queued reset's own copy: it marks the place of its original among
	 * the copies, which the queue delivers next. */
	if (lp->prefix && strcmp(lp->prefix, RULES_QUEUED_PREFIX) == 0)
		return 0;
	metrics_inc(&w->m.nflog_packets);
	if (lp->payload) {
		struct tcp_packet pkt;
		enum decode_result dr = decode_ip(lp->payload, lp->len, &pkt);

		handle_packet(w, dr, &pkt, lp->hook, lp->ifindex_in, lp->ts_us, false, true);
	}
	return 0;
}

/* Read every copy already delivered. Called before a queued packet is
 * judged: the kernel sent its flow's earlier copies, flushed by the reset's
 * own copy (rules/rstwatch.nft, chain divert), before it queued the reset,
 * so they are in the socket now. Bounded, so that a flood of copies cannot
 * hold a verdict for long; what is left is read on the next call. */
static void copies_drain(struct worker *w)
{
	struct nflog_stats ls;
	int rounds = 8;

	while (rounds-- > 0 && nflog_process(w->log, on_logged, w, 0) > 0)
		;
	nflog_get_stats(w->log, &ls);
	if (ls.lost + ls.enobufs != w->copies_lost_seen) {
		w->copies_lost_seen = ls.lost + ls.enobufs;
		w->copies_lost_at_us = clock_realtime_us();
	}
}

/* Housekeeping between batches: never on the per-packet path. */
static void worker_tick(struct worker *w, uint64_t *last)
{
	struct flow_stats fs;
	uint64_t now = clock_realtime_us();

	if (now - *last < 500000)
		return;
	*last = now;
	ratelimit_flush(&w->rl, now, false);
	watch_expire(w, now);
	flow_expire(w->pl.flows, now, FLOW_IDLE_EXPIRE_US);
	flow_table_stats(w->pl.flows, &fs);
	atomic_store(&w->flows_active, fs.active);
	atomic_store(&w->flows_evicted, fs.evicted);
	atomic_store(&w->flows_longest_chain, fs.longest_chain);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t last = 0;
	int n = 0;

	while (!atomic_load(&w->d->stopping)) {
		struct pollfd pfd[2] = {
			{ .fd = nfqueue_fd(w->q), .events = POLLIN },
			{ .fd = nflog_fd(w->log), .events = POLLIN },
		};

		if (poll(pfd, 2, LOOP_TIMEOUT_MS) < 0 && errno != EINTR) {
			atomic_store(&w->error, errno);
			break;
		}
		/* Copies first: a queued reset drains them anyway, and a batch of
		 * copies read here spares each reset that work. */
		if (pfd[1].revents)
			copies_drain(w);
		if (pfd[0].revents)
			n = nfqueue_process(w->q, on_peek, on_queued, w, 0);
		if (n < 0 && errno != EINTR) {
			atomic_store(&w->error, errno);
			break;
		}
		worker_tick(w, &last);
		out_flush(w);
	}
	/* The rules are gone by now: answer whatever is still delivered. */
	if (!atomic_load(&w->error)) {
		uint64_t until = clock_realtime_us() + DRAIN_MAX_US;

		while (nfqueue_process(w->q, on_peek, on_queued, w, 50) > 0 && clock_realtime_us() < until)
			;
	}
	ratelimit_flush(&w->rl, clock_realtime_us(), true);
	out_flush(w);
	return NULL;
}

static int worker_init(struct daemon *d, struct worker *w, unsigned k, char *err, size_t errlen)
{
	const struct daemon_config *c = d->c;
	uint64_t seed;

	memset(w, 0, sizeof(*w));
	w->d = d;
	w->queue_num = (uint16_t)(c->queue_first + k);
	w->nflog_group = (uint16_t)(c->nflog_group + k);
	w->out = malloc(OUT_CAP);
	w->pending = calloc(PENDING_MAX, sizeof(*w->pending));
	if (!w->out || !w->pending) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (pipeline_init(&w->pl, c->max_flows)) {
		snprintf(err, errlen, "cannot allocate a flow table of %u flows: %s", c->max_flows,
			 strerror(errno));
		return -1;
	}
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		/* Entropy not ready (early boot): weaker, but no reason not to run. */
		seed = clock_realtime_us() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)w;
	if (flow_table_seed(w->pl.flows, seed)) {
		snprintf(err, errlen, "cannot seed the flow table: %s", strerror(errno));
		return -1;
	}
	w->pl.settings.idle_threshold_s = c->idle_threshold_s;
	w->pl.settings.ttl_tolerance = c->ttl_tolerance;
	ratelimit_init(&w->rl, c->rate, c->burst, c->rate_total, report_suppressed, w);
	if (c->conntrack) {
		w->ct = ct_open();
		if (!w->ct) {
			snprintf(err, errlen, "cannot open ctnetlink: %s", strerror(errno));
			return -1;
		}
	}
	{
		/* Copies gather in the kernel: 64 a message, or what 10 ms
		 * brought (measured: within noise of no copying at all, where
		 * one message a copy cost nearly as much as queueing). A reset's
		 * own copy and a watched flow's flush the batch at once. */
		struct nflog_config lc = { .group = w->nflog_group, .copy_range = c->copy_range,
					   .qthresh = NFLOG_BATCH, .flush_timeout_cs = 1,
					   .nlbufsiz = 65536, .rcvbuf = NFLOG_RCVBUF };

		if (nflog_open(&w->log, &lc)) {
			snprintf(err, errlen, "cannot bind nflog group %u: %s%s", w->nflog_group,
				 strerror(errno),
				 errno == EPERM || errno == EBUSY
				 ? " (another rstwatch running, or no CAP_NET_ADMIN?)" : "");
			return -1;
		}
	}
	{
		struct nfqueue_config qc;

		nfqueue_config_default(&qc, w->queue_num);
		qc.copy_range = c->copy_range;
		qc.fail_open = c->fail_open;
		qc.maxlen = c->queue_maxlen;
		qc.rcvbuf = c->rcvbuf;
		qc.batch_max = c->batch;
		qc.timestamps = c->arrival_stamps;
		if (nfqueue_open(&w->q, &qc)) {
			/* The kernel answers EPERM when another socket holds the queue. */
			snprintf(err, errlen, "cannot bind queue %u: %s%s", w->queue_num, strerror(errno),
				 errno == EPERM || errno == EBUSY
				 ? " (another rstwatch running, or no CAP_NET_ADMIN?)" : "");
			return -1;
		}
	}
	return 0;
}

static void worker_free(struct worker *w)
{
	if (w->q)
		nfqueue_close(w->q);
	if (w->log)
		nflog_close(w->log);
	if (w->ct)
		ct_close(w->ct);
	pipeline_free(&w->pl);
	free(w->out);
	free(w->pending);
	w->out = NULL;
	w->pending = NULL;
	w->q = NULL;
	w->log = NULL;
	w->ct = NULL;
}

/* Everything /metrics says about one queue, read once per scrape. */
struct queue_snapshot {
	struct nfqueue_stats s;
	struct nfqueue_proc p;       /* the kernel's side, /proc/net/netfilter/nfnetlink_queue */
	bool have_proc;
	uint64_t unseen;
};

/* A per-queue counter family; a row without help continues the family above. */
static const struct queue_metric {
	const char *name, *help, *label;
	size_t offset;               /* of a uint64_t in struct queue_snapshot */
	bool from_proc;
} queue_metrics[] = {
	{ "rstwatch_queue_packets_total", "Packets received per queue.", NULL,
	  offsetof(struct queue_snapshot, s.packets), false },
	{ "rstwatch_queue_unseen_total", "Packets the kernel queued that never reached rstwatch "
	  "(socket buffer overrun): passed unjudged with fail-open, else dropped.", NULL,
	  offsetof(struct queue_snapshot, unseen), false },
	{ "rstwatch_queue_verdicts_total", "Verdicts per queue.", "verdict=\"accept\",",
	  offsetof(struct queue_snapshot, s.accepted), false },
	{ "rstwatch_queue_verdicts_total", NULL, "verdict=\"drop\",",
	  offsetof(struct queue_snapshot, s.dropped), false },
	{ "rstwatch_queue_verdict_messages_total", "Verdict messages sent (batched).", NULL,
	  offsetof(struct queue_snapshot, s.verdict_msgs), false },
	{ "rstwatch_queue_enobufs_total", "Receive overruns (ENOBUFS) per queue.", NULL,
	  offsetof(struct queue_snapshot, s.enobufs), false },
	{ "rstwatch_nfqueue_queue_dropped_total", "Kernel: dropped, queue full "
	  "(/proc/net/netfilter/nfnetlink_queue).", NULL,
	  offsetof(struct queue_snapshot, p.queue_dropped), true },
	{ "rstwatch_nfqueue_user_dropped_total", "Kernel: dropped, socket buffer full.", NULL,
	  offsetof(struct queue_snapshot, p.user_dropped), true },
};

static void render_metrics(FILE *out, void *arg)
{
	struct daemon *d = arg;
	struct queue_snapshot *snap = calloc(d->n_workers, sizeof(*snap));
	const struct queue_metric *qm;
	unsigned i;
	uint64_t flows = 0, evicted = 0, chain = 0;
	struct metrics sum = { 0 };

	metrics_sum(&sum, &d->m);
	for (i = 0; i < d->n_workers; i++)
		metrics_sum(&sum, &d->workers[i].m);
	metrics_render(&sum, out);
	for (i = 0; snap && i < d->n_workers; i++) {
		nfqueue_stats(d->workers[i].q, &snap[i].s);
		snap[i].have_proc = !nfqueue_proc_read(d->workers[i].queue_num, &snap[i].p);
		snap[i].unseen = atomic_load(&d->workers[i].unseen);
	}
	for (qm = queue_metrics; snap && qm < queue_metrics + ARRAY_SIZE(queue_metrics); qm++) {
		if (qm->help)
			fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", qm->name, qm->help,
				qm->name);
		for (i = 0; i < d->n_workers; i++) {
			uint64_t v;

			if (qm->from_proc && !snap[i].have_proc)
				continue;
			memcpy(&v, (const char *)&snap[i] + qm->offset, sizeof(v));
			fprintf(out, "%s{%squeue=\"%u\"} %llu\n", qm->name,
				qm->label ? qm->label : "", d->workers[i].queue_num,
				(unsigned long long)v);
		}
	}
	free(snap);
	for (i = 0; i < d->n_workers; i++) {
		flows += atomic_load(&d->workers[i].flows_active);
		evicted += atomic_load(&d->workers[i].flows_evicted);
		if (atomic_load(&d->workers[i].flows_longest_chain) > chain)
			chain = atomic_load(&d->workers[i].flows_longest_chain);
	}
	fprintf(out, "# HELP rstwatch_flows_tracked Connections in the flow tables.\n"
		"# TYPE rstwatch_flows_tracked gauge\nrstwatch_flows_tracked %llu\n"
		"# HELP rstwatch_flows_evicted_total Flows evicted because a table was full.\n"
		"# TYPE rstwatch_flows_evicted_total counter\nrstwatch_flows_evicted_total %llu\n"
		"# HELP rstwatch_flow_chain_longest Most flows one lookup compared (since start).\n"
		"# TYPE rstwatch_flow_chain_longest gauge\nrstwatch_flow_chain_longest %llu\n",
		(unsigned long long)flows, (unsigned long long)evicted, (unsigned long long)chain);
	{
		uint64_t lost = 0;

		for (i = 0; i < d->n_workers; i++) {
			struct nflog_stats ls;

			nflog_get_stats(d->workers[i].log, &ls);
			lost += ls.lost + ls.enobufs;
		}
		fprintf(out, "# HELP rstwatch_nflog_lost_total Copies the log groups lost "
			"(sequence gaps and overruns).\n# TYPE rstwatch_nflog_lost_total counter\n"
			"rstwatch_nflog_lost_total %llu\n", (unsigned long long)lost);
	}
	fprintf(out, "# HELP rstwatch_build_info Version of the running rstwatch.\n"
		"# TYPE rstwatch_build_info gauge\nrstwatch_build_info{version=\"%s\"} 1\n",
		RSTWATCH_VERSION);
}

/* systemd Type=notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	n = strlen(path);
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;    /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

/* A message about rstwatch itself: to stderr, and into a JSON log too. */
static void status_line(struct daemon *d, const char *msg)
{
	char line[600], esc[512];
	int n;

	fprintf(stderr, "rstwatch: %s\n", msg);
	if (d->c->log_text || d->log.kind == LOGSINK_STDOUT)
		return;    /* the operator reads stderr */
	json_escape(msg, esc, sizeof(esc));
	n = snprintf(line, sizeof(line), "{\"event_type\":\"rstwatch\",\"message\":\"%s\"}\n",
		     esc);
	if (n > 0 && (size_t)n < sizeof(line))
		write_line(d, &d->m, line, (size_t)n);
}

/* Reinstall the ruleset if someone flushed or changed it. */
static void rules_watchdog(struct daemon *d)
{
	char err[256] = "", msg[320];
	int st = rules_check(&d->rules);

	if (st == RULES_INTACT || st < 0)
		return;
	status_line(d, st == RULES_MISSING
		    ? "table inet rstwatch disappeared (nft flush ruleset?): reinstalling it"
		    : "table inet rstwatch was altered: reinstalling it");
	if (rules_install(&d->rules, err, sizeof(err))) {
		snprintf(msg, sizeof(msg), "reinstall failed: %s", err);
		status_line(d, msg);
	} else
		metrics_inc(&d->m.rules_reinstalled);
}

static int daemon_setup(struct daemon *d, char *err, size_t errlen)
{
	const struct daemon_config *c = d->c;
	const char *bad = NULL;
	unsigned i;

	if (policy_init(&d->policy, c->mode, c->mark_mask)) {
		snprintf(err, errlen, "mark mask 0x%08x is not one run of at least 6 bits",
			 c->mark_mask);
		return -1;
	}
	d->policy.watch_seconds = c->watch_seconds;
	if (policy_parse_suppress(&d->policy, c->suppress, &bad)) {
		snprintf(err, errlen, "--suppress: '%s' is not a class", bad ? bad : "?");
		return -1;
	}
	rules_config_default(&d->rules);
	d->rules.queue_first = c->queue_first;
	d->rules.queue_last = c->queue_last;
	d->rules.nflog_group = c->nflog_group;
	d->rules.mark_mask = c->mark_mask;
	d->rules.watch_bit = policy_watch_bit(&d->policy);
	d->rules.level = c->level;
	d->rules.impl = c->queue_impl;
	if (rules_config_check(&d->rules, err, errlen))
		return -1;
	if (logsink_open(&d->log, c->log_target)) {
		snprintf(err, errlen, "cannot open log %s: %s", c->log_target, strerror(errno));
		return -1;
	}
	d->n_workers = (unsigned)(c->queue_last - c->queue_first) + 1;
	d->workers = calloc(d->n_workers, sizeof(*d->workers));
	if (!d->workers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Bind the queues before the rules divert anything to them. */
	for (i = 0; i < d->n_workers; i++)
		if (worker_init(d, &d->workers[i], i, err, errlen))
			return -1;
	if (c->install_rules) {
		if (rules_install(&d->rules, err, errlen))
			return -1;
		d->rules_installed = true;
	}
	return 0;
}

int daemon_run(const struct daemon_config *c, struct daemon_signals *sig, char *err,
	       size_t errlen)
{
	struct daemon *d = calloc(1, sizeof(*d));
	uint64_t last_check = 0;
	int mfd = -1, rc = 0;
	unsigned i;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->c = c;
	d->sig = sig;
	if (daemon_setup(d, err, errlen)) {
		rc = -1;
		goto out;
	}
	if (c->metrics_addr[0]) {
		mfd = metrics_listen(c->metrics_addr);
		if (mfd < 0) {
			snprintf(err, errlen, "cannot listen on %s for metrics: %s", c->metrics_addr,
				 strerror(errno));
			rc = -1;
			goto out;
		}
	}
	for (i = 0; i < d->n_workers; i++) {
		struct worker *w = &d->workers[i];

		if (pthread_create(&w->thread, NULL, worker_main, w)) {
			snprintf(err, errlen, "cannot start a thread");
			rc = -1;
			atomic_store(&d->stopping, 1);
			break;
		}
		w->started = true;
	}
	if (!rc) {
		char what[160];

		snprintf(what, sizeof(what), "running: queues %u-%u, nflog groups %u-%u, mode %s",
			 c->queue_first, c->queue_last, c->nflog_group,
			 c->nflog_group + (c->queue_last - c->queue_first),
			 c->mode == MODE_ENFORCE ? "enforce" : "observe");
		status_line(d, what);
		sd_notify_msg("READY=1\nSTATUS=watching TCP resets");
	}
	while (!rc && !sig->stop) {
		struct pollfd pfd = { .fd = mfd, .events = POLLIN };
		uint64_t now;

		if (poll(&pfd, mfd >= 0 ? 1 : 0, LOOP_TIMEOUT_MS) > 0 && (pfd.revents & POLLIN))
			metrics_serve_one(mfd, render_metrics, d);
		if (sig->hup) {
			sig->hup = 0;
			if (logsink_reopen(&d->log))
				status_line(d, "cannot reopen the log file: keeping the old one");
		}
		now = clock_realtime_us();
		if (c->install_rules && now - last_check >= 1000000) {
			last_check = now;
			rules_watchdog(d);
		}
		for (i = 0; i < d->n_workers; i++) {
			int e = atomic_load(&d->workers[i].error);

			if (e) {
				snprintf(err, errlen, "worker of queue %u failed: %s",
					 d->workers[i].queue_num, strerror(e));
				rc = -1;
			}
		}
	}
	sd_notify_msg("STOPPING=1");
out:
	/* Rules first: nothing new is diverted (bypass covers the gap), then the
	 * workers answer what is still queued and close. A run that failed before
	 * loading them leaves the table alone: it may be another instance's. */
	if (d->rules_installed && rules_remove())
		fprintf(stderr, "rstwatch: could not remove table inet rstwatch: %s\n",
			strerror(errno));
	atomic_store(&d->stopping, 1);
	for (i = 0; d->workers && i < d->n_workers; i++)
		if (d->workers[i].started)
			pthread_join(d->workers[i].thread, NULL);
	for (i = 0; d->workers && i < d->n_workers; i++)
		worker_free(&d->workers[i]);
	if (mfd >= 0)
		close(mfd);
	if (d->log.fp || d->log.kind == LOGSINK_SYSLOG)
		logsink_close(&d->log);
	free(d->workers);
	free(d);
	return rc;
}
