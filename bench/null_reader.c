/* SPDX-License-Identifier: GPL-2.0-or-later */
/* null_reader: the do-nothing consumers rstwatch is measured against. Each
 * uses the transport `rstwatch run` uses, with its settings, and installs the
 * same ruleset (rules_install, rstwatch's defaults), but does nothing with
 * what it reads: the only difference from rstwatch is the work between
 * receive and verdict (queue) or what is done with a copy (log).
 *
 *   null_reader queue [-q N|N-M] [-b BATCH] [-c COPY_RANGE] [--no-fail-open]
 *                     [--rcvbuf BYTES] [--busy] [--no-rules] [-t SECONDS]
 *     NFQUEUE (nfq/queue.h): accepts every packet (bench/nfq.sh, gwcost.sh)
 *     -q          queue number or range, one thread per queue (default 7300)
 *     -b          accepted packets per verdict message (default 8; 1 = one
 *                 verdict per packet)
 *     -c          bytes copied per packet (default 128)
 *     --busy      poll without sleeping (timeout 0): a consumer kept hot
 *
 *   null_reader log [-g N|N-M] [--no-rules] [-t SECONDS]
 *     nfnetlink_log (nfq/nflog.h, nflog_config_batched: rstwatch's batching,
 *     buffer and copy range): throws every copy away; what a copying
 *     observer costs the gateway before it does any work (bench/gwcost.sh).
 *     The queue rule's `bypass` lets resets through: nothing binds the queue.
 *     -g          group or range, one thread each (default rstwatch's)
 *
 *   --no-rules    do not install table inet rstwatch (someone else did)
 *   -t            exit after SECONDS (default 600): always bounded
 *
 * Prints "ready" on stderr once bound and the rules loaded; at SIGINT,
 * SIGTERM or the time limit removes the rules (a queue reader then answers
 * what is still queued) and prints, summed over its threads,
 *   packets N verdict_msgs V enobufs E errors X      (queue)
 *   copies N lost L enobufs E                        (log; lost: gaps in the
 *                                                     groups' sequence numbers) */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "install.h"
#include "nflog.h"
#include "queue.h"

#define MAX_THREADS 64

static volatile sig_atomic_t got_signal;
static atomic_int stopping;

struct reader {
	pthread_t th;
	struct nfqueue *q;        /* queue mode */
	struct nflog_reader *r;   /* log mode */
	int busy;
	int error;
};

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

static enum nfqueue_verdict accept_all(const struct nfqueue_packet *p, void *arg)
{
	(void)p;
	(void)arg;
	return NFQUEUE_ACCEPT;
}

static int drop_copy(const struct nflog_packet *p, void *arg)
{
	(void)p;
	(void)arg;
	return 0;
}

static void *run_queue(void *arg)
{
	struct reader *t = arg;

	while (!atomic_load_explicit(&stopping, memory_order_relaxed))
		if (nfqueue_process(t->q, NULL, accept_all, NULL, t->busy ? 0 : 200) < 0 &&
		    errno != EINTR) {
			t->error = errno;
			break;
		}
	/* The rules are gone: answer what is still delivered. */
	while (!t->error && nfqueue_process(t->q, NULL, accept_all, NULL, 50) > 0)
		;
	return NULL;
}

static void *run_log(void *arg)
{
	struct reader *t = arg;

	while (!atomic_load_explicit(&stopping, memory_order_relaxed))
		if (nflog_process(t->r, drop_copy, NULL, 200) < 0 && errno != EINTR &&
		    errno != ENOBUFS) {
			t->error = errno;
			break;
		}
	return NULL;
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || (*end && *end != '-') || s[0] == '-' || *out > max ? -1 : 0;
}

/* N or N-M, at most MAX_THREADS numbers. */
static int parse_range(const char *v, unsigned long *first, unsigned long *last)
{
	const char *dash = strchr(v, '-');

	return parse_ul(v, 65535, first) ||
	       (dash ? parse_ul(dash + 1, 65535, last) : (*last = *first, 0)) || *last < *first ||
	       *last - *first >= MAX_THREADS ? -1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: null_reader queue [-q N|N-M] [-b BATCH] [-c COPY_RANGE] [--no-fail-open]\n"
		"                         [--rcvbuf BYTES] [--busy] [--no-rules] [-t SECONDS]\n"
		"       null_reader log [-g N|N-M] [--no-rules] [-t SECONDS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct reader th[MAX_THREADS];
	unsigned long first, last, batch = 8, copy = 128, rcvbuf = 0, seconds = 600;
	int fail_open = 1, rules = 1, busy = 0, rc = 0, queue;
	struct rules_config rc_cfg;
	char err[256] = "";
	unsigned n, i;
	time_t t_end;

	if (argc < 2 || (strcmp(argv[1], "queue") && strcmp(argv[1], "log")))
		return usage();
	queue = !strcmp(argv[1], "queue");
	first = last = queue ? RULES_DEFAULT_QUEUE : RULES_DEFAULT_NFLOG_GROUP;
	for (int a = 2; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;
		const char *o = argv[a];
		int bad;

		if (!strcmp(o, "--no-rules")) {
			rules = 0;
			continue;
		}
		if (queue && !strcmp(o, "--no-fail-open")) {
			fail_open = 0;
			continue;
		}
		if (queue && !strcmp(o, "--busy")) {
			busy = 1;
			continue;
		}
		if (!v)
			return usage();
		if (!strcmp(o, queue ? "-q" : "-g"))
			bad = parse_range(v, &first, &last);
		else if (!strcmp(o, "-t"))
			bad = parse_ul(v, 86400, &seconds) || !seconds || strchr(v, '-');
		else if (queue && !strcmp(o, "-b"))
			bad = parse_ul(v, 1024, &batch) || !batch || strchr(v, '-');
		else if (queue && !strcmp(o, "-c"))
			bad = parse_ul(v, 65535, &copy) || !copy || strchr(v, '-');
		else if (queue && !strcmp(o, "--rcvbuf"))
			bad = parse_ul(v, 1ul << 30, &rcvbuf) || strchr(v, '-') != NULL;
		else
			bad = 1;
		if (bad)
			return usage();
		a++;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	n = (unsigned)(last - first + 1);
	/* Bind before the rules divert anything here, as rstwatch does. */
	for (i = 0; i < n; i++) {
		int failed;

		if (queue) {
			struct nfqueue_config qc;

			nfqueue_config_default(&qc, (uint16_t)(first + i));
			qc.copy_range = (uint32_t)copy;
			qc.batch_max = (unsigned)batch;
			qc.fail_open = fail_open;
			qc.rcvbuf = (int)rcvbuf;
			th[i].busy = busy;
			failed = nfqueue_open(&th[i].q, &qc);
		} else {
			struct nflog_config lc;

			nflog_config_batched(&lc, (uint16_t)(first + i), NFLOG_DEFAULT_COPY_RANGE);
			failed = nflog_open(&th[i].r, &lc);
		}
		if (failed) {
			fprintf(stderr, "null_reader: cannot bind %s %lu: %s\n", argv[1], first + i,
				strerror(errno));
			rc = 1;
			goto out;
		}
	}
	rules_config_default(&rc_cfg);
	if (queue) {
		rc_cfg.queue_first = (uint16_t)first;
		rc_cfg.queue_last = (uint16_t)last;
	} else {
		/* One group per queue of the ruleset, as rstwatch's. */
		rc_cfg.nflog_group = (uint16_t)first;
		rc_cfg.queue_last = (uint16_t)(rc_cfg.queue_first + n - 1);
	}
	if (rules && rules_install(&rc_cfg, err, sizeof(err))) {
		fprintf(stderr, "null_reader: rules: %s\n", err);
		rc = 1;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i].th, NULL, queue ? run_queue : run_log, &th[i])) {
			fprintf(stderr, "null_reader: cannot start a thread\n");
			atomic_store(&stopping, 1);
			n = i;
			rc = 1;
			break;
		}
	if (!rc)
		fprintf(stderr, "ready\n");
	t_end = time(NULL) + (time_t)seconds;
	while (!rc && !got_signal && time(NULL) < t_end)
		usleep(50000);
	if (rules && rules_remove())
		fprintf(stderr, "null_reader: could not remove table inet rstwatch: %s\n",
			strerror(errno));
	atomic_store(&stopping, 1);
	for (i = 0; i < n; i++) {
		pthread_join(th[i].th, NULL);
		if (th[i].error) {
			fprintf(stderr, "null_reader: %s %lu: %s\n", argv[1], first + i,
				strerror(th[i].error));
			rc = 1;
		}
	}
out:
	if (queue) {
		struct nfqueue_stats sum = { 0 }, s;

		for (i = 0; i < MAX_THREADS; i++) {
			if (!th[i].q)
				continue;
			nfqueue_stats(th[i].q, &s);
			sum.packets += s.packets;
			sum.verdict_msgs += s.verdict_msgs;
			sum.enobufs += s.enobufs;
			sum.errors += s.errors;
			nfqueue_close(th[i].q);
		}
		printf("packets %llu verdict_msgs %llu enobufs %llu errors %llu\n",
		       (unsigned long long)sum.packets, (unsigned long long)sum.verdict_msgs,
		       (unsigned long long)sum.enobufs, (unsigned long long)sum.errors);
	} else {
		struct nflog_stats sum = { 0 }, s;

		for (i = 0; i < MAX_THREADS; i++) {
			if (!th[i].r)
				continue;
			nflog_get_stats(th[i].r, &s);
			sum.packets += s.packets;
			sum.lost += s.lost;
			sum.enobufs += s.enobufs;
			nflog_close(th[i].r);
		}
		printf("copies %llu lost %llu enobufs %llu\n", (unsigned long long)sum.packets,
		       (unsigned long long)sum.lost, (unsigned long long)sum.enobufs);
	}
	return rc;
}
