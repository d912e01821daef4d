/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nflog_null: the do-nothing copy reader that rstwatch's copy path is
 * measured against (bench/gwcost.sh). It reads nflog groups as `rstwatch run`
 * does (nfq/nflog.h, nflog_config_batched: same batching, buffer and copy
 * range) and installs the same ruleset (rules_install, rstwatch's defaults),
 * but throws every copy away: what a copying observer costs the gateway
 * before it does any work.
 *
 *   nflog_null [-g N|N-M] [--no-rules] [-t SECONDS]
 *
 *   -g          nflog group or range, one thread each (default: rstwatch's,
 *               one group per queue of the ruleset)
 *   --no-rules  do not install table inet rstwatch (someone else did)
 *   -t          exit after SECONDS (default 600): always bounded
 *
 * The queue rule's `bypass` lets resets through unjudged: nothing is bound
 * to the queue. Prints "ready" on stderr once the groups are bound and the
 * rules loaded; SIGINT/SIGTERM removes the rules and prints
 *   copies N lost L enobufs E
 * summed over the groups (lost: gaps in the groups' sequence numbers, the
 * copies the kernel could not deliver). */
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

#define MAX_GROUPS 16

static volatile sig_atomic_t got_signal;
static atomic_int stopping;

struct gthread {
	pthread_t th;
	struct nflog_reader *r;
	int error;
};

static void on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

static int drop_copy(const struct nflog_packet *p, void *arg)
{
	(void)p;
	(void)arg;
	return 0;
}

static void *run(void *arg)
{
	struct gthread *t = arg;

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

static void usage(void)
{
	fprintf(stderr, "usage: nflog_null [-g N|N-M] [--no-rules] [-t SECONDS]\n");
}

int main(int argc, char **argv)
{
	unsigned long gfirst = RULES_DEFAULT_NFLOG_GROUP, glast = RULES_DEFAULT_NFLOG_GROUP,
		      seconds = 600;
	int rules = 1, rc = 0;
	struct gthread th[MAX_GROUPS];
	struct rules_config rc_cfg;
	struct nflog_stats sum = { 0 };
	char err[256] = "";
	unsigned ng, i;
	time_t t_end;

	for (int a = 1; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(argv[a], "-g") && v) {
			const char *dash = strchr(v, '-');

			if (parse_ul(v, 65535, &gfirst) ||
			    (dash ? parse_ul(dash + 1, 65535, &glast) : (glast = gfirst, 0)) ||
			    glast < gfirst || glast - gfirst >= MAX_GROUPS) {
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
		} else if (!strcmp(argv[a], "--no-rules")) {
			rules = 0;
		} else {
			usage();
			return 2;
		}
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ng = (unsigned)(glast - gfirst + 1);
	memset(th, 0, sizeof(th));
	for (i = 0; i < ng; i++) {
		struct nflog_config lc;

		nflog_config_batched(&lc, (uint16_t)(gfirst + i), NFLOG_DEFAULT_COPY_RANGE);
		if (nflog_open(&th[i].r, &lc)) {
			fprintf(stderr, "nflog_null: cannot bind group %lu: %s\n", gfirst + i,
				strerror(errno));
			rc = 1;
			goto out;
		}
	}
	rules_config_default(&rc_cfg);
	rc_cfg.nflog_group = (uint16_t)gfirst;
	rc_cfg.queue_last = (uint16_t)(rc_cfg.queue_first + ng - 1);
	if (rules && rules_install(&rc_cfg, err, sizeof(err))) {
		fprintf(stderr, "nflog_null: rules: %s\n", err);
		rc = 1;
		goto out;
	}
	for (i = 0; i < ng; i++)
		if (pthread_create(&th[i].th, NULL, run, &th[i])) {
			fprintf(stderr, "nflog_null: cannot start a thread\n");
			atomic_store(&stopping, 1);
			ng = i;
			rc = 1;
			break;
		}
	if (!rc)
		fprintf(stderr, "ready\n");
	t_end = time(NULL) + (time_t)seconds;
	while (!rc && !got_signal && time(NULL) < t_end)
		usleep(50000);
	if (rules && rules_remove())
		fprintf(stderr, "nflog_null: could not remove table inet rstwatch: %s\n",
			strerror(errno));
	atomic_store(&stopping, 1);
	for (i = 0; i < ng; i++) {
		pthread_join(th[i].th, NULL);
		if (th[i].error) {
			fprintf(stderr, "nflog_null: group %lu: %s\n", gfirst + i,
				strerror(th[i].error));
			rc = 1;
		}
	}
out:
	for (i = 0; i < MAX_GROUPS; i++) {
		struct nflog_stats s;

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
	return rc;
}
