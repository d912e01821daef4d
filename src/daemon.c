/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "event.h"
#include "hold.h"
#include "metrics_http.h"
#include "privileges.h"
#include "process_metrics.h"
#include "thread.h"
#include "version.h"
#include "worker.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void daemon_config_default(struct daemon_config *c)
{
	struct classify_settings cs;

	memset(c, 0, sizeof(*c));
	c->queue_first = c->queue_last = RULES_DEFAULT_QUEUE;
	c->nflog_group = RULES_DEFAULT_NFLOG_GROUP;
	strcpy(c->log_target, "-");
	strcpy(c->control_path, CONTROL_PATH_DEFAULT);
	c->log_buffer = LOGSINK_BUFFER_DEFAULT;
	c->mode = MODE_OBSERVE;
	c->mark_mask = POLICY_DEFAULT_MASK;
	c->watch_seconds = 10;
	c->hold_min_ms = HOLD_FLOOR_US / 1000;
	c->hold_max_ms = HOLD_CAP_US / 1000;
	c->hold_count = HOLD_COUNT_DEFAULT;
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

/* A reset's first event: what rstwatch_resets_total counts, so what a
 * dropped line takes from the sum events + suppressed (an amendment, a
 * summary or a message about rstwatch takes nothing). The log's two line
 * formats tell: a JSON event has event_type "rst" (a string the escaping of
 * packet-derived text cannot produce), a text summary says "N events
 * suppressed from ...", and text messages never go to the log. */
static bool first_event(const char *line, size_t len)
{
	static const char rst[] = ",\"event_type\":\"rst\",", amends[] = ",\"amends\":{";
	static const char text_amends[] = " AMENDS ", text_summary[] = " events suppressed from ";

	if (line[0] == '{')
		return memmem(line, len, rst, sizeof(rst) - 1) &&
		       !memmem(line, len, amends, sizeof(amends) - 1);
	return !memmem(line, len, text_amends, sizeof(text_amends) - 1) &&
	       !memmem(line, len, text_summary, sizeof(text_summary) - 1);
}

void daemon_log_line(struct daemon *d, struct metrics *m, const char *line, size_t len)
{
	struct logsink_drops lost = { 0, 0 };

	logsink_write(&d->log, line, len, &lost);
	if (lost.lines) {
		metrics_add(&m->log_lines_dropped[LOG_DROP_BACKLOG], lost.lines);
		metrics_add(&m->events_dropped[LOG_DROP_BACKLOG], lost.counted);
	}
}

/* What the sink's writer could not write, into a metrics sum. */
static void add_sink_losses(struct metrics *sum, const struct logsink_stats *ls)
{
	metrics_add(&sum->log_errors, ls->failed.lines);
	metrics_add(&sum->log_lines_dropped[LOG_DROP_ERROR], ls->failed.lines);
	metrics_add(&sum->events_dropped[LOG_DROP_ERROR], ls->failed.counted);
	metrics_add(&sum->log_lines_dropped[LOG_DROP_BACKLOG], ls->late.lines);
	metrics_add(&sum->events_dropped[LOG_DROP_BACKLOG], ls->late.counted);
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

/* Every thread's counters in one (each is written by its own thread only). */
static void daemon_metrics_sum(const struct daemon *d, struct metrics *sum)
{
	unsigned i;

	metrics_sum(sum, &d->m);
	for (i = 0; i < d->n_workers; i++)
		metrics_sum(sum, &d->workers[i].m);
}

/* Packets the kernel numbered for the queue that never reached rstwatch. The
 * worker counts a gap in the ids when the next packet comes, so a burst's
 * overrun tail would wait for the next reset to be counted; the kernel's id
 * sequence bounds it now: numbered - received - still waiting in the kernel
 * (the socket buffer and the held) is at most what overran, and exactly that
 * when nothing waits. The page shows the larger of the two, and never less
 * than it showed before (a counter; what waits comes and goes). */
static uint64_t queue_unseen(struct worker *w, const struct queue_snapshot *q)
{
	uint64_t v = atomic_load(&w->unseen), shown = atomic_load(&w->unseen_shown);

	if (q->have_proc && q->p.id_sequence > q->s.packets + q->p.queue_total &&
	    q->p.id_sequence - q->s.packets - q->p.queue_total > v)
		v = q->p.id_sequence - q->s.packets - q->p.queue_total;
	while (v > shown && !atomic_compare_exchange_weak(&w->unseen_shown, &shown, v))
		;
	return v > shown ? v : shown;
}

static void render_metrics(FILE *out, void *arg)
{
	struct daemon *d = arg;
	struct queue_snapshot *snap = calloc(d->n_workers, sizeof(*snap));
	const struct queue_metric *qm;
	unsigned i;
	uint64_t flows = 0, evicted = 0, chain = 0, hosts_evicted = 0;
	struct metrics sum = { 0 };
	struct logsink_stats sink;

	daemon_metrics_sum(d, &sum);
	logsink_stats(&d->log, &sink);
	add_sink_losses(&sum, &sink);
	metrics_render(&sum, out);
	for (i = 0; snap && i < d->n_workers; i++) {
		/* The kernel's side first: what is received after it can only make
		 * the bound below smaller. */
		snap[i].have_proc = !nfqueue_proc_read(d->workers[i].queue_num, &snap[i].p);
		nfqueue_stats(d->workers[i].q, &snap[i].s);
		snap[i].unseen = queue_unseen(&d->workers[i], &snap[i]);
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
		hosts_evicted += atomic_load(&d->workers[i].hosts_evicted);
		if (atomic_load(&d->workers[i].flows_longest_chain) > chain)
			chain = atomic_load(&d->workers[i].flows_longest_chain);
	}
	fprintf(out, "# HELP rstwatch_flows_tracked Connections in the flow tables.\n"
		"# TYPE rstwatch_flows_tracked gauge\nrstwatch_flows_tracked %llu\n"
		"# HELP rstwatch_flows_evicted_total Flows evicted because a table was full.\n"
		"# TYPE rstwatch_flows_evicted_total counter\nrstwatch_flows_evicted_total %llu\n"
		"# HELP rstwatch_flow_chain_longest Most flows one lookup compared (since start).\n"
		"# TYPE rstwatch_flow_chain_longest gauge\nrstwatch_flow_chain_longest %llu\n"
		"# HELP rstwatch_host_ttl_evicted_total Hosts whose TTL baseline was evicted "
		"by another's (a full set of the host table).\n"
		"# TYPE rstwatch_host_ttl_evicted_total counter\nrstwatch_host_ttl_evicted_total %llu\n",
		(unsigned long long)flows, (unsigned long long)evicted, (unsigned long long)chain,
		(unsigned long long)hosts_evicted);
	{
		uint64_t lost = 0, foreign = 0, implausible = 0;

		for (i = 0; i < d->n_workers; i++) {
			struct nflog_stats ls;
			struct nfqueue_stats qs;

			nflog_get_stats(d->workers[i].log, &ls);
			nfqueue_stats(d->workers[i].q, &qs);
			lost += ls.lost + ls.enobufs;
			foreign += ls.foreign + qs.foreign;
			implausible += ls.implausible + atomic_load(&d->workers[i].unseen_implausible);
		}
		fprintf(out, "# HELP rstwatch_nflog_lost_total Copies the log groups lost "
			"(sequence gaps and overruns).\n# TYPE rstwatch_nflog_lost_total counter\n"
			"rstwatch_nflog_lost_total %llu\n"
			"# HELP rstwatch_netlink_foreign_total Netlink datagrams to the queue and log "
			"sockets that did not come from the kernel (another process sent them): "
			"dropped unread.\n# TYPE rstwatch_netlink_foreign_total counter\n"
			"rstwatch_netlink_foreign_total %llu\n"
			"# HELP rstwatch_netlink_gap_implausible_total Packets a jump in the queue's "
			"ids or a log group's sequence numbers would stand for beyond what the kernel "
			"can number in the time since the last message (not counted as unseen or "
			"lost).\n# TYPE rstwatch_netlink_gap_implausible_total counter\n"
			"rstwatch_netlink_gap_implausible_total %llu\n", (unsigned long long)lost,
			(unsigned long long)foreign, (unsigned long long)implausible);
	}
	fprintf(out, "# HELP rstwatch_build_info Version of the running rstwatch.\n"
		"# TYPE rstwatch_build_info gauge\nrstwatch_build_info{version=\"%s\"} 1\n",
		RSTWATCH_VERSION);
	process_metrics_render(out);
}

/* What `rstwatch status` prints: read from the counters the workers keep,
 * as the metrics renderer does. */
static size_t render_status(char *buf, size_t len, void *arg)
{
	struct daemon *d = arg;
	const struct daemon_config *c = d->c;
	struct metrics sum = { 0 };
	uint64_t by_class[RST_CLASS_COUNT] = { 0 }, resets = 0, dropped = 0, suppressed = 0;
	unsigned k, o;
	size_t n;
	int w;

	daemon_metrics_sum(d, &sum);
	for (k = 0; k < RST_CLASS_COUNT; k++) {
		by_class[k] = metrics_resets_of_class(&sum, (enum rst_class)k);
		resets += by_class[k];
		suppressed += atomic_load(&sum.events_suppressed[k]);
		for (o = 0; o < ORIGIN_COUNT; o++)
			dropped += atomic_load(&sum.resets[k][o][1]);
	}
	w = snprintf(buf, len, "pid: %ld\nversion: %s\nqueues: %u-%u\nnflog-groups: %u-%u\n"
		     "mode: %s\nrules: %s\nlog: %s\nuptime-seconds: %lld\nresets: %llu\n"
		     "resets-dropped: %llu\nevents-suppressed: %llu\nresets-by-class:",
		     (long)getpid(), RSTWATCH_VERSION, c->queue_first, c->queue_last,
		     c->nflog_group, c->nflog_group + (c->queue_last - c->queue_first),
		     c->mode == MODE_ENFORCE ? "enforce" : "observe",
		     c->install_rules ? "loaded by rstwatch" : "--no-rules", c->log_target,
		     (long long)(clock_monotonic_ms() - d->started_ms) / 1000,
		     (unsigned long long)resets, (unsigned long long)dropped,
		     (unsigned long long)suppressed);
	n = w < 0 ? 0 : (size_t)w < len ? (size_t)w : len - 1;
	for (k = 0; k < RST_CLASS_COUNT && n < len; k++) {
		w = snprintf(buf + n, len - n, " %s=%llu", rst_class_name((enum rst_class)k),
			     (unsigned long long)by_class[k]);
		n = w < 0 ? n : n + (size_t)w < len ? n + (size_t)w : len - 1;
	}
	if (n + 1 < len) {
		buf[n++] = '\n';
		buf[n] = 0;
	}
	return n;
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

/* A message about rstwatch itself: to stderr, and into a JSON log too, as an
 * "engine" line (the operator of a text log or of standard output reads
 * stderr). */
static void status_line(struct daemon *d, const char *level, const char *msg)
{
	char line[800];
	int n;

	fprintf(stderr, "rstwatch: %s\n", msg);
	if (d->c->log_text || d->log.kind == LOGSINK_STDOUT)
		return;
	n = event_json_engine(clock_realtime_us(), level, msg, line, sizeof(line));
	if (n > 0)
		daemon_log_line(d, &d->m, line, (size_t)n);
}

/* Reinstall the ruleset if someone flushed or changed it. */
static void rules_watchdog(struct daemon *d)
{
	char err[256] = "", msg[320];
	int st = rules_check(&d->rules);

	if (st == RULES_INTACT || st < 0)
		return;
	status_line(d, "Warning", st == RULES_MISSING
		    ? "table inet rstwatch disappeared (nft flush ruleset?): reinstalling it"
		    : "table inet rstwatch was altered: reinstalling it");
	if (rules_install(&d->rules, err, sizeof(err))) {
		snprintf(msg, sizeof(msg), "reinstall failed: %s", err);
		status_line(d, "Error", msg);
	} else
		metrics_inc(&d->m.rules_reinstalled);
}

/* The ruleset reader could not read it (its thread). */
static void ruleset_unread(void *arg, const char *why)
{
	char msg[320];

	snprintf(msg, sizeof(msg), "firewall resets name no rule: %s", why);
	status_line(arg, "Warning", msg);
}

/* The ruleset changed (a transaction committed, or change events were lost):
 * see at once whether our table is still whole, and have the ruleset read
 * again. false if the change socket failed (the caller polls instead). */
static bool ruleset_changed(struct daemon *d, struct ruleset_watch *w)
{
	struct ruleset_changes ch;

	if (ruleset_watch_read(w, &ch) < 0)
		return false;
	if (!ch.commits && !ch.overrun)
		return true;
	ruleset_current_changed(&d->ruleset, ch.generation);
	if (d->c->install_rules)
		rules_watchdog(d);
	return true;
}

/* Event log lines lost so far (as last said), and when that was said. */
struct log_losses {
	uint64_t said, said_us;
};

/* One line on stderr when event log lines start to be lost, then at most
 * one a minute while it goes on: the log itself cannot be told. */
static void log_losses_check(struct daemon *d, struct log_losses *l, uint64_t now)
{
	struct logsink_stats ls;
	uint64_t backlog = atomic_load(&d->m.log_lines_dropped[LOG_DROP_BACKLOG]);
	uint64_t events = atomic_load(&d->m.events_dropped[LOG_DROP_BACKLOG]);
	unsigned i;

	for (i = 0; i < d->n_workers; i++) {
		backlog += atomic_load(&d->workers[i].m.log_lines_dropped[LOG_DROP_BACKLOG]);
		events += atomic_load(&d->workers[i].m.events_dropped[LOG_DROP_BACKLOG]);
	}
	logsink_stats(&d->log, &ls);
	if (backlog + ls.failed.lines == l->said || (l->said_us && now - l->said_us < 60000000))
		return;
	fprintf(stderr, "rstwatch: event log %s: %llu lines (%llu events) dropped so far, "
		"%llu of them because it fell behind, %llu because writing failed%s%s "
		"(rstwatch_events_dropped_total)\n", d->c->log_target,
		(unsigned long long)(backlog + ls.failed.lines),
		(unsigned long long)(events + ls.failed.counted), (unsigned long long)backlog,
		(unsigned long long)ls.failed.lines, ls.failed.lines ? ": " : "",
		ls.failed.lines ? strerror(ls.failed_errno) : "");
	l->said = backlog + ls.failed.lines;
	l->said_us = now;
}

/* At exit, on stderr (the journal): every reset judged, by its final class,
 * and where its first event went, so that a run's log can be checked against
 * what rstwatch counted: resets = events logged + suppressed + dropped. */
static void say_final_counts(struct daemon *d, const struct logsink_stats *ls)
{
	struct metrics sum = { 0 };
	uint64_t resets = 0, suppressed = 0, dropped, by_class[RST_CLASS_COUNT];
	int c;

	daemon_metrics_sum(d, &sum);
	add_sink_losses(&sum, ls);
	dropped = atomic_load(&sum.events_dropped[LOG_DROP_BACKLOG]) +
		  atomic_load(&sum.events_dropped[LOG_DROP_ERROR]);
	for (c = 0; c < RST_CLASS_COUNT; c++) {
		by_class[c] = metrics_resets_of_class(&sum, (enum rst_class)c);
		resets += by_class[c];
		suppressed += atomic_load(&sum.events_suppressed[c]);
	}
	fprintf(stderr, "rstwatch: stopped: resets %llu = events logged %llu + suppressed %llu + "
		"dropped %llu; by class:", (unsigned long long)resets,
		(unsigned long long)(resets - suppressed - dropped), (unsigned long long)suppressed,
		(unsigned long long)dropped);
	for (c = 0; c < RST_CLASS_COUNT; c++)
		if (by_class[c])
			fprintf(stderr, " %s %llu (suppressed %llu)", rst_class_name((enum rst_class)c),
				(unsigned long long)by_class[c],
				(unsigned long long)atomic_load(&sum.events_suppressed[c]));
	fputs(resets ? "\n" : " none\n", stderr);
}

int daemon_config_check(const struct daemon_config *c, char *err, size_t errlen)
{
	struct policy p;
	const char *bad = NULL;

	if (policy_init(&p, c->mode, c->mark_mask)) {
		snprintf(err, errlen, "mark mask 0x%08x is not one run of at least 6 bits",
			 c->mark_mask);
		return -1;
	}
	if (c->hold_min_ms > c->hold_max_ms) {
		snprintf(err, errlen, "--hold-min-ms %u is above --hold-max-ms %u", c->hold_min_ms,
			 c->hold_max_ms);
		return -1;
	}
	if (policy_parse_suppress(&p, c->suppress, &bad)) {
		snprintf(err, errlen, "--suppress: '%s' is not a class", bad ? bad : "?");
		return -1;
	}
	return 0;
}

static int daemon_setup(struct daemon *d, char *err, size_t errlen)
{
	const struct daemon_config *c = d->c;
	unsigned i;

	if (daemon_config_check(c, err, errlen) || policy_init(&d->policy, c->mode, c->mark_mask) ||
	    policy_parse_suppress(&d->policy, c->suppress, NULL))
		return -1;
	d->policy.watch_seconds = c->watch_seconds;
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
	if (logsink_open(&d->log, c->log_target, c->log_buffer, first_event)) {
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
	struct metrics_http *http = NULL;
	struct log_losses losses = { 0, 0 };
	struct ruleset_watch *watch = NULL;
	uint64_t last_check = 0;
	int rc = 0;
	unsigned i;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->c = c;
	d->sig = sig;
	d->control.fd = -1;
	ruleset_current_init(&d->ruleset);
	d->started_ms = clock_monotonic_ms();
	if (privileges_keep_net_admin(err, errlen)) {
		rc = -1;
		goto out;
	}
	if (daemon_setup(d, err, errlen)) {
		rc = -1;
		goto out;
	}
	if (strcmp(c->control_path, "none")) {
		char why[256];

		/* Only `rstwatch status` needs it: watching resets goes on
		 * without it (another instance, in another network namespace,
		 * may have the path). */
		if (control_listen(&d->control, c->control_path, why, sizeof(why))) {
			char msg[320];

			snprintf(msg, sizeof(msg), "no control socket, 'rstwatch status' will "
				 "not see this daemon: %s", why);
			status_line(d, "Warning", msg);
		}
	}
	if (c->metrics_addr[0]) {
		/* Its own thread: no client can hold up the watchdog below. */
		http = metrics_http_start(c->metrics_addr, render_metrics, d);
		if (!http) {
			snprintf(err, errlen, "cannot listen on %s for metrics: %s", c->metrics_addr,
				 strerror(errno));
			rc = -1;
			goto out;
		}
	}
	/* Changes first, then the ruleset: a change between the two is seen. */
	{
		char why[256], msg[320];

		watch = ruleset_watch_open(why, sizeof(why));
		if (!watch) {
			snprintf(msg, sizeof(msg), "%s: the table is checked every second instead", why);
			status_line(d, "Warning", msg);
		}
		if (ruleset_reader_start(&d->ruleset, ruleset_unread, d))
			status_line(d, "Warning", "firewall resets name no rule: no reader thread");
	}
	for (i = 0; i < d->n_workers; i++) {
		struct worker *w = &d->workers[i];

		if (thread_start(&w->thread, worker_main, w)) {
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
		status_line(d, "Notice", what);
		sd_notify_msg("READY=1\nSTATUS=watching TCP resets");
	}
	while (!rc && !sig->stop) {
		uint64_t now;

		struct pollfd pfd[2] = { { .fd = d->control.fd, .events = POLLIN },
					 { .fd = watch ? ruleset_watch_fd(watch) : -1, .events = POLLIN } };

		/* A signal ends it early; a status request or a ruleset change
		 * (fd < 0: ignored) too. */
		if (poll(pfd, 2, LOOP_TIMEOUT_MS) > 0) {
			if (pfd[0].revents & POLLIN)
				control_serve(d->control.fd, render_status, d);
			if ((pfd[1].revents & (POLLIN | POLLERR)) && !ruleset_changed(d, watch)) {
				status_line(d, "Warning", "ruleset change events failed: the table "
					    "is checked every second instead");
				ruleset_watch_close(watch);
				watch = NULL;
			}
		}
		if (sig->hup) {
			sig->hup = 0;
			if (logsink_reopen(&d->log))
				status_line(d, "Error", "cannot reopen the log file: keeping the old one");
		}
		now = clock_realtime_us();
		log_losses_check(d, &losses, now);
		if (c->install_rules && !watch && now - last_check >= 1000000) {
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
	/* First: it may write to the log, which closes below. */
	ruleset_reader_stop(&d->ruleset);
	/* Held resets first: deleting the table makes the kernel drop every
	 * queued packet, held ones included. The workers answer theirs (accept)
	 * on their next turn and hold no more; a second is far more than that
	 * takes. */
	atomic_store(&d->releasing, 1);
	for (uint64_t until = clock_realtime_us() + 1000000; clock_realtime_us() < until;) {
		unsigned held = 0;

		for (i = 0; d->workers && i < d->n_workers; i++)
			if (d->workers[i].started)
				held += nfqueue_held_count(d->workers[i].q);
		if (!held)
			break;
		poll(NULL, 0, 5);
	}
	/* Then the rules: nothing new is diverted (bypass covers the gap), then
	 * the workers answer what is still queued and close. A run that failed
	 * before loading them leaves the table alone: it may be another
	 * instance's. */
	if (d->rules_installed && rules_remove())
		fprintf(stderr, "rstwatch: could not remove table inet rstwatch: %s\n",
			strerror(errno));
	atomic_store(&d->stopping, 1);
	for (i = 0; d->workers && i < d->n_workers; i++)
		if (d->workers[i].started)
			pthread_join(d->workers[i].thread, NULL);
	metrics_http_stop(http);            /* it reads the workers' state */
	control_close(&d->control, c->control_path);
	for (i = 0; d->workers && i < d->n_workers; i++)
		worker_free(&d->workers[i]);
	if (d->log.st) {
		struct logsink_stats ls = { 0 };

		logsink_close(&d->log, &ls);
		if (ls.late.lines)
			fprintf(stderr, "rstwatch: event log %s: %llu lines (%llu events) still "
				"waiting after %d ms at exit were dropped\n", c->log_target,
				(unsigned long long)ls.late.lines,
				(unsigned long long)ls.late.counted, LOGSINK_DRAIN_MS);
		if (d->workers)
			say_final_counts(d, &ls);
	}
	free(d->workers);
	ruleset_watch_close(watch);
	ruleset_current_fini(&d->ruleset);
	free(d);
	return rc;
}
