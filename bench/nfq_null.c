/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq_null: the do-nothing NFQUEUE consumer that rstwatch is measured against
 * (bench/nfq.sh). It uses the same transport as `rstwatch run` (nfq/queue.h:
 * same copy range, queue length, batched verdicts) and the same ruleset
 * (rules_install with rstwatch's default configuration), and accepts every
 * packet without looking at it, so the only difference from rstwatch is what
 * happens to a packet between receive and verdict.
 *
 *   nfq_null [-q N|N-M] [-b BATCH] [-c COPY_RANGE] [--no-fail-open]
 *            [--rcvbuf BYTES] [--no-rules] [--busy] [-t SECONDS]
 *
 *   -q          queue number or range, one thread per queue (default 7300,
 *               rstwatch's default)
 *   -b          accepted packets per verdict message (default 8; 1 = one
 *               verdict per packet)
 *   -c          bytes copied per packet (default 128)
 *   --no-rules  do not install table inet rstwatch (someone else did)
 *   --busy      poll without sleeping (timeout 0): a consumer kept hot
 *   -t          exit after SECONDS (default 600): always bounded
 *
 * Prints "ready" on stderr once the queues are bound and the rules loaded;
 * SIGINT/SIGTERM removes the rules, answers what is queued, and prints
 *   packets N verdict_msgs V enobufs E errors X
 * summed over the queues. */
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
#include "queue.h"

#define MAX_QUEUES 64

static volatile sig_atomic_t got_signal;
static atomic_int stopping;

struct qthread {
	pthread_t th;
	struct nfqueue *q;
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

static void *run(void *arg)
{
	struct qthread *t = arg;

	while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
		if (nfqueue_process(t->q, NULL, accept_all, NULL, t->busy ? 0 : 200) < 0 &&
		    errno != EINTR) {
			t->error = errno;
			break;
		}
	}
	/* The rules are gone: answer what is still delivered. */
	while (!t->error && nfqueue_process(t->q, NULL, accept_all, NULL, 50) > 0)
		;
	return NULL;
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || (*end && *end != '-') || s[0] == '-' || *out > max ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: nfq_null [-q N|N-M] [-b BATCH] [-c COPY_RANGE] [--no-fail-open]\n"
		"                [--rcvbuf BYTES] [--no-rules] [--busy] [-t SECONDS]\n");
}

int main(int argc, char **argv)
{
	unsigned long qfirst = RULES_DEFAULT_QUEUE, qlast = RULES_DEFAULT_QUEUE, batch = 8,
		      copy = 128, rcvbuf = 0, seconds = 600;
	int fail_open = 1, rules = 1, busy = 0, rc = 0;
	struct qthread th[MAX_QUEUES];
	struct rules_config rc_cfg;
	struct nfqueue_stats sum = { 0 };
	char err[256] = "";
	unsigned nq, i;
	time_t t_end;

	for (int a = 1; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(argv[a], "-q") && v) {
			const char *dash = strchr(v, '-');

			if (parse_ul(v, 65535, &qfirst) ||
			    (dash ? parse_ul(dash + 1, 65535, &qlast) : (qlast = qfirst, 0)) ||
			    qlast < qfirst || qlast - qfirst >= MAX_QUEUES) {
				usage();
				return 2;
			}
			a++;
		} else if (!strcmp(argv[a], "-b") && v) {
			if (parse_ul(v, 1024, &batch) || !batch || strchr(v, '-')) {
				usage();
				return 2;
			}
			a++;
		} else if (!strcmp(argv[a], "-c") && v) {
			if (parse_ul(v, 65535, &copy) || !copy || strchr(v, '-')) {
				usage();
				return 2;
			}
			a++;
		} else if (!strcmp(argv[a], "--rcvbuf") && v) {
			if (parse_ul(v, 1ul << 30, &rcvbuf) || strchr(v, '-')) {
				usage();
				return 2;
			}
			a++;
		} else if (!strcmp(argv[a], "-t") && v) {
			if (parse_ul(v, 86400, &seconds) || !seconds || strchr(v, '-')) {
				usage();
				return 2;
			}
			a++;
		} else if (!strcmp(argv[a], "--no-fail-open")) {
			fail_open = 0;
		} else if (!strcmp(argv[a], "--no-rules")) {
			rules = 0;
		} else if (!strcmp(argv[a], "--busy")) {
			busy = 1;
		} else {
			usage();
			return 2;
		}
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	nq = (unsigned)(qlast - qfirst + 1);
	memset(th, 0, sizeof(th));
	/* Bind the queues before the rules divert anything to them, as rstwatch does. */
	for (i = 0; i < nq; i++) {
		struct nfqueue_config qc;

		nfqueue_config_default(&qc, (uint16_t)(qfirst + i));
		qc.copy_range = (uint32_t)copy;
		qc.batch_max = (unsigned)batch;
		qc.fail_open = fail_open;
		qc.rcvbuf = (int)rcvbuf;
		th[i].busy = busy;
		if (nfqueue_open(&th[i].q, &qc)) {
			fprintf(stderr, "nfq_null: cannot bind queue %lu: %s\n", qfirst + i,
				strerror(errno));
			rc = 1;
			goto out;
		}
	}
	rules_config_default(&rc_cfg);
	rc_cfg.queue_first = (uint16_t)qfirst;
	rc_cfg.queue_last = (uint16_t)qlast;
	if (rules && rules_install(&rc_cfg, err, sizeof(err))) {
		fprintf(stderr, "nfq_null: rules: %s\n", err);
		rc = 1;
		goto out;
	}
	for (i = 0; i < nq; i++)
		if (pthread_create(&th[i].th, NULL, run, &th[i])) {
			fprintf(stderr, "nfq_null: cannot start a thread\n");
			atomic_store(&stopping, 1);
			nq = i;
			rc = 1;
			break;
		}
	if (!rc)
		fprintf(stderr, "ready\n");
	t_end = time(NULL) + (time_t)seconds;
	while (!rc && !got_signal && time(NULL) < t_end)
		usleep(50000);
	if (rules && rules_remove())
		fprintf(stderr, "nfq_null: could not remove table inet rstwatch: %s\n",
			strerror(errno));
	atomic_store(&stopping, 1);
	for (i = 0; i < nq; i++) {
		pthread_join(th[i].th, NULL);
		if (th[i].error) {
			fprintf(stderr, "nfq_null: queue %lu: %s\n", qfirst + i,
				strerror(th[i].error));
			rc = 1;
		}
	}
out:
	for (i = 0; i < MAX_QUEUES; i++) {
		struct nfqueue_stats s;

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
	return rc;
}
