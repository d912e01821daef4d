/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's worker threads: one per queue, each reading its queue (resets)
 * and its nflog group (copies), judging, holding, tagging and logging. */
#include "worker.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "event.h"
#include "localaddr.h"
#include "worker_marks.h"
#include "ruleset_event.h"
#include "seqgap.h"

#define OUT_CAP (64 * 1024)

/* Packets handled without the socket running dry before the queue counts as
 * backed up: an eighth of what a default receive buffer holds (~256), i.e.
 * about 0.1 ms of work waiting. Backed up, packets share clock readings. */
#define BACKLOG_RUN 32
/* A run this long sheds conntrack lookups (and reading the log socket for
 * each reset's marker): half a default receive buffer, far more than a burst
 * or a moment off the CPU leaves (measured, bench/gwcost.sh mixed traffic at
 * 5,000 resets/s: a run of 32 shed 10% of the lookups when paced, all of
 * them in bursts of 64; 128 sheds none), and what only a rate above what the
 * thread can judge with lookups keeps up. */
#define SHED_RUN 128
_Static_assert(SHED_RUN >= BACKLOG_RUN, "shedding needs a backlog");
/* Once shedding, it goes on this long after the last long run: a saturating
 * flood lets the socket run dry now and then for a moment, and a round trip
 * for each packet after such a moment is the work the flood leaves no time
 * for. */
#define SHED_HOLD_US 100000ULL
/* Packets of one backlogged run that share a clock reading. Backed up, a
 * packet waited in the queue for far longer (0.1 ms at BACKLOG_RUN, ms in a
 * flood) than the ~25 us its time can be off by; a lone packet reads the
 * clock itself. Saves a clock read (~25 ns) on most packets of a flood. */
#define CLOCK_SHARE_RUN 8
_Static_assert(BACKLOG_RUN % CLOCK_SHARE_RUN == 0,
	       "the first packet past BACKLOG_RUN must read the clock, not share an old reading");
/* Longest a queue thread answers leftovers at shutdown. With our rules gone
 * nothing new arrives and the queue empties at once; with --no-rules the
 * admin's rule keeps diverting, and a flood would otherwise hold SIGTERM off
 * for as long as it lasts. What the kernel still holds at unbind it drops. */
#define DRAIN_MAX_US 1000000ULL
#define FLOW_IDLE_EXPIRE_US (3600ULL * 1000000)

/* Events are written after the burst they belong to has had its verdicts:
 * a write per reset would delay each verdict by a syscall. */
static void out_write(struct worker *w)
{
	if (w->out_len)
		daemon_log_line(w->d, &w->m, w->out, w->out_len);
	w->out_len = 0;
}

/* Room for one more line of at most n bytes at w->out + w->out_len. */
static char *out_room(struct worker *w, size_t n)
{
	if (OUT_CAP - w->out_len < n)
		out_write(w);
	return w->out + w->out_len;
}

static const char *ifname_of(struct worker *w, uint32_t ifindex);

static void pending_format(struct worker *w)
{
	unsigned i;

	for (i = 0; i < w->n_pending; i++) {
		struct rst_event *ev = &w->pending[i].ev;
		char *buf = out_room(w, EVENT_BUF_SIZE);

		/* After the burst's verdicts, past the rate limit: naming the
		 * rule (up to a millisecond on a huge ruleset) delays no packet,
		 * and a flood of rejects names only what is logged. */
		if (ev->verdict.origin == ORIGIN_LOCAL_FIREWALL)
			ruleset_name_live(&w->d->ruleset, ev, w->pending_oif[i],
					  ifname_of(w, w->pending_oif[i]), &w->pending_rules[i]);
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
static void report_suppressed(int family, const uint8_t *addr, uint64_t n, uint64_t since_us,
			      uint64_t now_us, void *arg)
{
	struct worker *w = arg;
	const struct daemon_config *c = w->d->c;
	char line[512];
	int len;

	len = c->log_text ? event_text_suppressed(now_us, family, addr, n, c->rate, c->rate_total,
						  line, sizeof(line))
			  : event_json_suppressed(now_us, family, addr, n, since_us, line,
						  sizeof(line));
	if (len > 0) {
		pending_format(w);    /* keep the log in order */
		memcpy(out_room(w, (size_t)len), line, (size_t)len);
		w->out_len += (size_t)len;
	}
}

/* Write ev after the burst, unless the rate limit holds it back (false: the
 * caller counts it, under the reset's final class, see count_reset). An
 * amendment passes the rate limit: it is not a reset of its own (events +
 * suppressed == resets_total counts first events), and there are at most
 * --hold-count watched at once. */
static bool emit(struct worker *w, const struct rst_event *ev, uint32_t ifindex_out)
{
	if (!ev->amends_ts_us &&
	    !ratelimit_allow(&w->rl, ev->pkt->family, ev->pkt->src, ev->ts_us))
		return false;
	if (w->n_pending == PENDING_MAX)
		pending_format(w);
	kept_event_set(&w->pending[w->n_pending], ev);
	w->pending_oif[w->n_pending++] = ifindex_out;
	return true;
}

/* A reset decided under its final class: counted, with its first event if
 * the rate limit held that back. */
static void count_reset(struct worker *w, const struct rst_verdict *v, bool drop,
			bool first_suppressed)
{
	metrics_inc(&w->m.resets[v->cls][v->origin][drop]);
	if (first_suppressed)
		metrics_inc(&w->m.events_suppressed[v->cls]);
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

/* Let a held reset's verdict out (accept) with its event as first judged:
 * its hold time is over (or the daemon stops). It stays watched. */
static void hold_release(struct worker *w, struct held_reset *h)
{
	if (nfqueue_release(w->q, h->id, NFQUEUE_ACCEPT) < 0)
		metrics_inc(&w->m.hold_release_errors);   /* nfqueue_close accepts it */
	h->queued = false;
	metrics_inc(&w->m.holds[HOLD_RELEASED]);
	metrics_verdict_time(&w->m, true, h->k.ev.ts_us, clock_realtime_us());
	h->first_suppressed = !emit(w, &h->k.ev, 0);
}

/* A watched reset is decided: alive (its claimed sender spoke after it:
 * forged) or not (its watch ended, or the daemon stops). A verdict still
 * held goes out (drop if forged and the policy says so) with the event; an
 * event already out is amended when the reset proved forged. Counted once,
 * under its final class. */
static void hold_decide(struct worker *w, struct held_reset *h, bool alive, uint64_t now)
{
	struct daemon *d = w->d;
	struct rst_event *ev = &h->k.ev;
	enum rst_class was = ev->verdict.cls;
	const char *why = NULL;
	bool drop = false;

	if (alive) {
		int dir;

		rst_mark_injected_alive(&ev->verdict);
		struct flow *f = flow_lookup(w->pl.flows, &h->k.pkt, now, false, &dir);

		pipeline_flow_reclassed(f, dir, was, ev->verdict.cls);
	}
	if (h->queued) {
		drop = policy_drop(&d->policy, &ev->verdict, &why);
		if (nfqueue_release(w->q, h->id, drop ? NFQUEUE_DROP : NFQUEUE_ACCEPT) < 0) {
			/* Still held: nfqueue_close accepts it. Say what happened. */
			metrics_inc(&w->m.hold_release_errors);
			drop = false;
		}
		if (drop) {
			ev->action = ACTION_DROP;
			ev->action_reason = why;
		}
	}
	if (alive && h->k.ct.present && w->ct)
		worker_tag_flow(w, &h->k.pkt, &h->k.ct, ev, drop, true, now);
	if (h->queued) {
		metrics_verdict_time(&w->m, true, ev->ts_us, clock_realtime_us());
		h->first_suppressed = !emit(w, ev, 0);
	} else if (alive) {
		ev->amends_ts_us = ev->ts_us;
		ev->amends_class = was;
		ev->ts_us = now;
		emit(w, ev, 0);
	}
	metrics_inc(&w->m.holds[alive ? HOLD_ALIVE : HOLD_DEADLINE]);
	count_reset(w, &ev->verdict, drop, h->first_suppressed);
	hold_remove(w->holds, h);
}

/* Whatever is due: held verdicts whose hold time is over go out, watches
 * that ended are decided. Stopping (all): everything, now. */
static void holds_due(struct worker *w, bool all)
{
	uint64_t now = clock_realtime_us();
	struct held_reset *h;

	if (!w->holds)
		return;
	while ((h = all ? hold_first(w->holds) : hold_find_due(w->holds, now))) {
		if (h->queued && (all || h->release_us <= now))
			hold_release(w, h);
		if (all || h->until_us <= now)
			hold_decide(w, h, false, now);
	}
}

/* A decoded packet reached us, queued (qid its id) or copied (via_log): see
 * whether it proves a watched reset forged; if it is a reset, classify,
 * decide, tag, log. Returns its verdict (copies: always accept). */
static enum nfqueue_verdict handle_packet(struct worker *w, enum decode_result dr,
					  const struct tcp_packet *pkt, uint8_t hook,
					  uint32_t ifindex_in, uint32_t ifindex_out, uint64_t ts,
					  bool behind, bool via_log, uint32_t qid)
{
	struct daemon *d = w->d;
	struct ct_info ct = { 0 };
	/* rstwatch sees resets, handshakes and FINs, and data only of watched
	 * flows: a partial view. */
	struct rst_context ctx = { .hook = HOOK_PREROUTING, .via_log = via_log,
				   .partial_view = true };
	struct rst_event ev;
	struct rst_alive_probe probe;
	struct held_reset *h;
	const char *why = NULL;
	bool drop, watch, may_hold, hold = false;

	metrics_inc(&w->m.decode[dr]);
	if (dr != DECODE_OK)
		return NFQUEUE_ACCEPT;    /* not ours to judge: let it pass */
	if (w->holds && (h = hold_find_alive(w->holds, pkt)))
		hold_decide(w, h, true, ts);
	if (via_log)
		worker_watch_adopt(w, pkt, ts);
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
			metrics_inc(&w->m.ct_failures[CT_OP_LOOKUP][ct_failure_of(errno)]);
		}
	}
	/* Watching needs the flow's later packets: the watch chains copy them
	 * once the conntrack mark says so. */
	may_hold = (pkt->flags & TCPF_RST) && !via_log && w->holds && ct.present &&
		   !atomic_load(&d->releasing);
	if (!pipeline_packet(&w->pl, pkt, ts, &ctx, &ev, may_hold ? &probe : NULL))
		return NFQUEUE_ACCEPT;
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
	/* A suspect reset that is not dropped already is watched for what its
	 * claimed sender does next; in enforce mode its verdict waits for the
	 * first part of that, if there is room. */
	h = NULL;
	if (may_hold && !drop && rst_suspect(&ev.verdict)) {
		hold = d->policy.mode == MODE_ENFORCE && nfqueue_held_count(w->q) < d->c->hold_count &&
		       nfqueue_can_hold(w->q);
		h = hold_add(w->holds);
		if (!h || (d->policy.mode == MODE_ENFORCE && !hold))
			metrics_inc(&w->m.holds[HOLD_FULL]);
	}
	if (h)
		watch = true;
	if (drop) {
		ev.action = ACTION_DROP;
		ev.action_reason = why;
	}
	if (ct.present && w->ct)
		worker_tag_flow(w, pkt, &ct, &ev, drop, watch, ts);
	if (h) {
		kept_event_set(&h->k, &ev);
		h->probe = probe;
		h->release_us = ts + hold_time_us(ev.flow.handshake_rtt_us, (uint64_t)d->c->hold_min_ms * 1000,
						  (uint64_t)d->c->hold_max_ms * 1000);
		/* Watched as long as explain looks ahead, so that both judge alike. */
		h->until_us = ts + LOOKAHEAD_WINDOW_US > h->release_us ? ts + LOOKAHEAD_WINDOW_US
								     : h->release_us;
		h->id = qid;
		h->queued = hold;
		h->first_suppressed = false;
		metrics_inc(&w->m.holds[HOLD_TAKEN]);
		if (hold) {
			metrics_inc(&w->m.holds[HOLD_HELD]);
			return NFQUEUE_HOLD;
		}
		/* Never delayed more: counted when decided. */
		h->first_suppressed = !emit(w, &ev, ifindex_out);
		metrics_verdict_time(&w->m, false, ts, clock_realtime_us());  /* held: queued */
		return NFQUEUE_ACCEPT;
	}
	count_reset(w, &ev.verdict, drop, !emit(w, &ev, ifindex_out));
	if (!via_log)
		metrics_verdict_time(&w->m, false, ts, clock_realtime_us());
	return drop ? NFQUEUE_DROP : NFQUEUE_ACCEPT;
}

static void copies_drain_to(struct worker *w, const uint8_t *pkt, size_t len, bool behind);

static enum nfqueue_verdict on_queued(const struct nfqueue_packet *qp, void *arg)
{
	struct worker *w = arg;
	uint64_t ts;
	int32_t gap = (int32_t)(qp->id - w->last_id - 1);

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
	if (gap > 0) {
		uint64_t counted = seqgap_plausible((uint64_t)gap, ts > w->last_id_us ? ts - w->last_id_us : 0);

		atomic_fetch_add(&w->unseen, counted);
		atomic_fetch_add(&w->unseen_implausible, (uint64_t)gap - counted);
	}
	if ((int32_t)(qp->id - w->last_id) > 0) {
		w->last_id = qp->id;
		w->last_id_us = ts;
	}
	if (qp->run >= SHED_RUN)
		w->shed_until_us = ts + SHED_HOLD_US;

	struct peeked *pk = &w->peeked[0], *next = &w->peeked[1];
	struct peeked now;
	enum nfqueue_verdict v;
	bool behind;

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
	behind = ts < w->shed_until_us;
	copies_drain_to(w, qp->payload, qp->len, behind);
	v = handle_packet(w, pk->dr, &pk->pkt, qp->hook, qp->ifindex_in, qp->ifindex_out, ts,
			  behind, false, qp->id);
	/* The next packet's index slot was prefetched before this one was
	 * handled and has arrived by now: fetch the entry it names while the
	 * transport sends this verdict and receives again. */
	if (next->valid && next->dr == DECODE_OK)
		flow_prefetch_entry(w->pl.flows, next->hash);
	return v;
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
	 * the copies. The reset being judged stops the reading at its own;
	 * others are kept for theirs, which the queue delivers later. */
	if (lp->prefix && strcmp(lp->prefix, RULES_QUEUED_PREFIX) == 0) {
		if (!lp->payload)
			return 0;
		if (w->seek && marker_same(lp->payload, lp->len, w->seek, w->seek_len)) {
			w->seek_found = true;
			return 1;       /* the rest of this datagram, then stop */
		}
		marker_ring_push(&w->markers, lp->payload, lp->len);
		return 0;
	}
	metrics_inc(&w->m.nflog_packets);
	if (lp->payload) {
		struct tcp_packet pkt;
		enum decode_result dr = decode_ip(lp->payload, lp->len, &pkt);

		handle_packet(w, dr, &pkt, lp->hook, lp->ifindex_in, lp->ifindex_out, lp->ts_us,
			      false, true, 0);
	}
	return 0;
}

/* Copies lost since the last look: note when. */
static void copies_lost_check(struct worker *w)
{
	struct nflog_stats ls;

	nflog_get_stats(w->log, &ls);
	if (ls.lost + ls.enobufs != w->copies_lost_seen) {
		w->copies_lost_seen = ls.lost + ls.enobufs;
		w->copies_lost_at_us = clock_realtime_us();
	}
}

/* Read the copies already delivered (bounded: what is left is read on the
 * next call). */
static void copies_drain(struct worker *w)
{
	int rounds = 8;

	while (rounds-- > 0 && nflog_process(w->log, on_logged, w, 0) > 0)
		;
	copies_lost_check(w);
}

/* Before the queued reset pkt (len bytes) is judged: read the copies up to
 * its marker (rules/rstwatch.nft, chain divert), which flushed the group's
 * batch before the kernel queued the reset, so every copy made before the
 * reset is read once the marker is. Bounded, so that a flood of copies
 * cannot hold a verdict for long; a reset whose marker is not there (the
 * markers' rate limit, a lost copy) is judged after what could be read.
 * Backed up (behind), only the markers already read count: a receive for
 * each reset, most of which have no marker in a flood, cost a third of the
 * thread's time (bench/nfq.sh profile); the copies are read in bulk between
 * the queue's batches instead. */
static void copies_drain_to(struct worker *w, const uint8_t *pkt, size_t len, bool behind)
{
	int rounds = 4;

	if (marker_ring_claim(&w->markers, pkt, len)) {
		copies_lost_check(w);
		return;
	}
	if (behind) {
		metrics_inc(&w->m.markers_missing);
		return;
	}
	w->seek = pkt;
	w->seek_len = len;
	w->seek_found = false;
	while (!w->seek_found && rounds-- > 0 && nflog_process(w->log, on_logged, w, 0) > 0)
		;
	w->seek = NULL;
	if (w->seek_found)
		marker_ring_clear(&w->markers);   /* all read before it: their resets will not come */
	else
		metrics_inc(&w->m.markers_missing);
	copies_lost_check(w);
}

/* Housekeeping between batches: never on the per-packet path. */
static void worker_tick(struct worker *w, uint64_t *last)
{
	struct flow_stats fs;
	struct host_ttl_stats hs;
	uint64_t now = clock_realtime_us();

	if (now - *last < 500000)
		return;
	*last = now;
	ratelimit_flush(&w->rl, now, false);
	worker_watch_expire(w, now);
	flow_expire(w->pl.flows, now, FLOW_IDLE_EXPIRE_US);
	flow_table_stats(w->pl.flows, &fs);
	atomic_store(&w->flows_active, fs.active);
	atomic_store(&w->flows_evicted, fs.evicted);
	atomic_store(&w->flows_longest_chain, fs.longest_chain);
	host_ttl_stats(w->pl.hosts, &hs);
	atomic_store(&w->hosts_evicted, hs.evicted);
}

void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t last = 0;
	int n = 0;

	while (!atomic_load(&w->d->stopping)) {
		struct pollfd pfd[2] = {
			{ .fd = nfqueue_fd(w->q), .events = POLLIN },
			{ .fd = nflog_fd(w->log), .events = POLLIN },
		};
		int timeout = LOOP_TIMEOUT_MS;

		if (w->holds && w->holds->n) {
			uint64_t next = hold_next_due(w->holds), now = clock_realtime_us();

			timeout = next <= now ? 0 : next - now < LOOP_TIMEOUT_MS * 1000ULL
				  ? (int)((next - now + 999) / 1000) : LOOP_TIMEOUT_MS;
		}
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
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
		holds_due(w, atomic_load(&w->d->releasing));
		worker_tick(w, &last);
		out_flush(w);
	}
	holds_due(w, true);
	/* The rules are gone by now: answer whatever is still delivered. */
	if (!atomic_load(&w->error)) {
		uint64_t until = clock_realtime_us() + DRAIN_MAX_US;

		while (nfqueue_process(w->q, on_peek, on_queued, w, 50) > 0 && clock_realtime_us() < until)
			;
	}
	holds_due(w, true);
	ratelimit_flush(&w->rl, clock_realtime_us(), true);
	out_flush(w);
	return NULL;
}

int worker_init(struct daemon *d, struct worker *w, unsigned k, char *err, size_t errlen)
{
	const struct daemon_config *c = d->c;
	uint64_t seed;

	memset(w, 0, sizeof(*w));
	w->d = d;
	w->queue_num = (uint16_t)(c->queue_first + k);
	w->nflog_group = (uint16_t)(c->nflog_group + k);
	w->out = malloc(OUT_CAP);
	w->pending = calloc(PENDING_MAX, sizeof(*w->pending));
	w->pending_rules = calloc(PENDING_MAX, sizeof(*w->pending_rules));
	/* Watching a suspect reset's flow needs conntrack (the watch bit) and
	 * the watch chains (level handshake). */
	bool holding = c->conntrack && c->level >= RULES_LEVEL_HANDSHAKE;

	if (holding)
		w->holds = calloc(1, sizeof(*w->holds));
	if (!w->out || !w->pending || !w->pending_rules || (holding && !w->holds)) {
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
	if (pipeline_seed(&w->pl, seed)) {
		snprintf(err, errlen, "cannot seed the flow and host tables: %s", strerror(errno));
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
		struct nflog_config lc;

		nflog_config_batched(&lc, w->nflog_group, c->copy_range);
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
		qc.hold_max = c->hold_count;
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

void worker_free(struct worker *w)
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
	free(w->pending_rules);
	w->pending_rules = NULL;
	free(w->holds);
	w->holds = NULL;
	w->out = NULL;
	w->pending = NULL;
	w->q = NULL;
	w->log = NULL;
	w->ct = NULL;
}
