/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq_probe: a minimal consumer on the nfq/queue.h API for the live tests.
 * One thread per queue of a range; every packet is accepted unless it
 * matches --drop-port. Prints one line per packet (unless -Q) and keeps a
 * stats file up to date so a test can wait for a counter with a deadline.
 *
 *   nfq_probe [-q FIRST[-LAST]] [-c COPY] [-b BATCH] [-m MAXLEN] [-r RCVBUF]
 *             [-d PORT] [-s STATSFILE] [-Q] [-T SLEEP_US] [-t]
 *             [-h PORT:accept|drop]... [-n HOLD_MAX] [-R PORT]
 *
 * Held verdicts: packets to or from a -h port are held (NFQUEUE_HOLD), to be
 * released later with the verdict named there: all of a queue's held
 * packets, newest first (out of order), from inside the callback when a
 * packet for the -R port arrives (that packet is accepted), or between
 * nfqueue_process calls on SIGUSR1. A hold is asked for even when
 * nfqueue_can_hold says no, so that the refusal is exercised: the line then
 * says verdict=hold-refused, and refused_seen counts what the probe
 * predicted. Packets still held at SIGTERM are left to nfqueue_close.
 * api_errors counts broken promises of the hold API (ENOENT for an id not
 * held, EINVAL for a bad verdict, nfqueue_held_count agreeing with the
 * probe's own list).
 *
 * -t asks for the kernel's arrival stamps (nfqueue_config.timestamps); each
 * line then says stamp=now for a realtime stamp of the last 10 s.
 * -T makes the callback sleep, so a burst overruns the socket (ENOBUFS test).
 * Every packet is also peeked, and the stats count how often the transport
 * broke its promise (queue.h, nfqueue_peek): contract_errors, and how many
 * packets were judged with the next one already peeked: ahead.
 * SIGTERM/SIGINT: close the queues, print "stats ..." and exit 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"

/* A packet the probe holds, and the verdict its port asks for at release. */
struct held {
	uint32_t id;
	unsigned port;
	enum nfqueue_verdict v;
};

#define MAX_HOLD_PORTS 8
#define MAX_HELD 1024

struct worker {
	pthread_t tid;
	struct nfqueue *q;
	int err;
	struct held held[MAX_HELD];
	unsigned n_held;
	bool have_refused;         /* a refused hold's id to check with release */
	uint32_t refused_id;
	unsigned release_seen;     /* SIGUSR1s handled */
	unsigned long long refused_seen, api_errors; /* read by main: atomics */
	/* Peeked, not yet judged, oldest first: the transport promises at most
	 * two, judged in that order. */
	uint32_t ahead[2];
	unsigned n_ahead;
	unsigned long long peeked, contract_errors, ahead_judged;    /* read by main: atomics */
};

static volatile sig_atomic_t stop;
static volatile sig_atomic_t release_gen;   /* SIGUSR1s received */
static struct {
	unsigned port;
	enum nfqueue_verdict v;
} opt_hold[MAX_HOLD_PORTS];
static unsigned opt_n_hold;
static int opt_release_port = -1;
static int opt_drop_port = -1;
static int opt_quiet;
static unsigned opt_sleep_us;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		release_gen++;
	else
		stop = 1;
}

/* Just enough decoding to name a TCP segment: IPv4 with options, IPv6
 * without extension headers (the tests send none). */
static int tcp_view(const uint8_t *p, size_t len, char *src, char *dst, size_t alen,
		    const uint8_t **th)
{
	size_t off;

	if (len < 1)
		return -1;
	if ((p[0] >> 4) == 4) {
		if (len < 20 || p[9] != 6)
			return -1;
		off = (size_t)(p[0] & 0xf) * 4;
		inet_ntop(AF_INET, p + 12, src, (socklen_t)alen);
		inet_ntop(AF_INET, p + 16, dst, (socklen_t)alen);
	} else if ((p[0] >> 4) == 6) {
		if (len < 40 || p[6] != 6)
			return -1;
		off = 40;
		inet_ntop(AF_INET6, p + 8, src, (socklen_t)alen);
		inet_ntop(AF_INET6, p + 24, dst, (socklen_t)alen);
	} else {
		return -1;
	}
	if (len < off + 14)
		return -1;
	*th = p + off;
	return 0;
}

static void bump(unsigned long long *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

static const char *verdict_name(enum nfqueue_verdict v)
{
	return v == NFQUEUE_DROP ? "drop" : v == NFQUEUE_HOLD ? "hold" : "accept";
}

/* Release every packet w holds, newest first, each by its own id. */
static void release_held(struct worker *w, const char *where)
{
	while (w->n_held) {
		struct held *h = &w->held[--w->n_held];

		if (nfqueue_release(w->q, h->id, h->v) < 0) {
			bump(&w->api_errors);
			fprintf(stderr, "nfq_probe: release %u: %s\n", h->id, strerror(errno));
			continue;
		}
		/* Answered: a second release must find nothing. */
		if (nfqueue_release(w->q, h->id, NFQUEUE_ACCEPT) == 0 || errno != ENOENT)
			bump(&w->api_errors);
		if (!opt_quiet) {
			pthread_mutex_lock(&out_lock);
			printf("release id=%u port=%u verdict=%s where=%s\n", h->id, h->port,
			       verdict_name(h->v), where);
			fflush(stdout);
			pthread_mutex_unlock(&out_lock);
		}
	}
}

/* What the transport says about its hold set must match the probe's list. */
static void check_hold_api(struct worker *w)
{
	if (nfqueue_held_count(w->q) != w->n_held)
		bump(&w->api_errors);
	if (w->have_refused) {
		w->have_refused = false;
		if (nfqueue_release(w->q, w->refused_id, NFQUEUE_DROP) == 0 || errno != ENOENT)
			bump(&w->api_errors);
	}
}

static void on_peek(const struct nfqueue_packet *pkt, void *arg)
{
	struct worker *w = arg;

	bump(&w->peeked);
	if (w->n_ahead == 2) {
		/* A third packet peeked before the first was judged. */
		bump(&w->contract_errors);
		w->ahead[0] = w->ahead[1];
		w->n_ahead = 1;
	}
	w->ahead[w->n_ahead++] = pkt->id;
}

/* The packet judged must be the oldest one peeked. */
static void check_judged(struct worker *w, uint32_t id)
{
	if (w->n_ahead == 0 || w->ahead[0] != id) {
		bump(&w->contract_errors);
		return;
	}
	if (w->n_ahead == 2)
		bump(&w->ahead_judged);
	w->ahead[0] = w->ahead[1];
	w->n_ahead--;
}

static enum nfqueue_verdict on_packet(const struct nfqueue_packet *pkt, void *arg)
{
	static const char names[] = "FSRPAUEC";
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?", flags[9];
	const uint8_t *th = NULL;
	enum nfqueue_verdict v = NFQUEUE_ACCEPT;
	unsigned sport = 0, dport = 0, n = 0;

	struct worker *w = arg;
	const char *vname;

	check_judged(w, pkt->id);
	if (tcp_view(pkt->payload, pkt->len, src, dst, sizeof(src), &th) == 0) {
		sport = (unsigned)(th[0] << 8 | th[1]);
		dport = (unsigned)(th[2] << 8 | th[3]);
		for (int i = 0; i < 8; i++)
			if (th[13] & (1u << i))
				flags[n++] = names[i];
		if (opt_drop_port >= 0 && (sport == (unsigned)opt_drop_port ||
					   dport == (unsigned)opt_drop_port))
			v = NFQUEUE_DROP;
		for (unsigned i = 0; i < opt_n_hold && v == NFQUEUE_ACCEPT; i++)
			if (sport == opt_hold[i].port || dport == opt_hold[i].port)
				v = NFQUEUE_HOLD;
	}
	flags[n] = '\0';
	vname = verdict_name(v);
	if (v == NFQUEUE_HOLD) {
		if (nfqueue_can_hold(w->q) && w->n_held < MAX_HELD) {
			struct held *h = &w->held[w->n_held++];

			h->id = pkt->id;
			h->port = dport;
			h->v = NFQUEUE_ACCEPT;
			for (unsigned i = 0; i < opt_n_hold; i++)
				if (sport == opt_hold[i].port || dport == opt_hold[i].port) {
					h->v = opt_hold[i].v;
					h->port = opt_hold[i].port;
					break;
				}
		} else {
			/* Ask anyway: the transport must accept it and count it. */
			bump(&w->refused_seen);
			w->have_refused = true;
			w->refused_id = pkt->id;
			vname = "hold-refused";
		}
	}
	/* Not held yet (it is held once this returns): nothing to release. */
	if (v == NFQUEUE_HOLD && (nfqueue_release(w->q, pkt->id, NFQUEUE_ACCEPT) == 0 ||
				  errno != ENOENT))
		bump(&w->api_errors);
	if (opt_sleep_us)
		usleep(opt_sleep_us);
	if (!opt_quiet) {
		struct timespec now;
		uint64_t now_us;
		const char *stamp = "none";

		/* "now": a realtime stamp from the last 10 s (an arrival stamp);
		 * "other": a stamp on some other clock. */
		clock_gettime(CLOCK_REALTIME, &now);
		now_us = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
		if (pkt->has_ts)
			stamp = pkt->ts_us <= now_us && now_us - pkt->ts_us < 10000000u ? "now"
											 : "other";
		pthread_mutex_lock(&out_lock);
		printf("pkt queue=%u hook=%u id=%u len=%zu orig=%u %s.%u > %s.%u flags=%s verdict=%s "
		       "stamp=%s\n",
		       pkt->queue_num, pkt->hook, pkt->id, pkt->len, pkt->orig_len, src, sport, dst,
		       dport, flags, vname, stamp);
		fflush(stdout);
		pthread_mutex_unlock(&out_lock);
	}
	if (opt_release_port >= 0 && dport == (unsigned)opt_release_port)
		release_held(w, "cb");
	return v;
}

/* Before any packet: the hold API's answers on an empty hold set. */
static void check_hold_api_empty(struct worker *w, unsigned hold_max)
{
	if (nfqueue_held_count(w->q) != 0 || nfqueue_can_hold(w->q) != (hold_max > 0))
		bump(&w->api_errors);
	if (nfqueue_release(w->q, 12345, NFQUEUE_ACCEPT) == 0 || errno != ENOENT)
		bump(&w->api_errors);
	if (nfqueue_release(w->q, 12345, NFQUEUE_HOLD) == 0 || errno != EINVAL)
		bump(&w->api_errors);
	if (nfqueue_release_all(w->q, NFQUEUE_DROP) != 0)
		bump(&w->api_errors);
}

static void *run(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		if (nfqueue_process(w->q, on_peek, on_packet, w, 100) < 0) {
			w->err = errno;
			break;
		}
		check_hold_api(w);
		if (w->release_seen != (unsigned)release_gen) {
			w->release_seen = (unsigned)release_gen;
			release_held(w, "between");
		}
	}
	return NULL;
}

struct probe_stats {
	struct nfqueue_stats q;
	unsigned long long peeked, contract_errors, ahead_judged, refused_seen, api_errors;
	unsigned held_now;
};

static void sum_stats(struct worker *ws, int n, struct probe_stats *ps)
{
	struct nfqueue_stats *t = &ps->q;

	memset(ps, 0, sizeof(*ps));
	for (int i = 0; i < n; i++) {
		struct nfqueue_stats s;

		ps->peeked += __atomic_load_n(&ws[i].peeked, __ATOMIC_RELAXED);
		ps->contract_errors += __atomic_load_n(&ws[i].contract_errors, __ATOMIC_RELAXED);
		ps->ahead_judged += __atomic_load_n(&ws[i].ahead_judged, __ATOMIC_RELAXED);
		ps->refused_seen += __atomic_load_n(&ws[i].refused_seen, __ATOMIC_RELAXED);
		ps->api_errors += __atomic_load_n(&ws[i].api_errors, __ATOMIC_RELAXED);
		ps->held_now += nfqueue_held_count(ws[i].q);
		nfqueue_stats(ws[i].q, &s);
		t->packets += s.packets;
		t->accepted += s.accepted;
		t->dropped += s.dropped;
		t->verdict_msgs += s.verdict_msgs;
		t->enobufs += s.enobufs;
		t->errors += s.errors;
		t->parse_errors += s.parse_errors;
		t->verdict_sends += s.verdict_sends;
		t->held += s.held;
		t->hold_refused += s.hold_refused;
		t->released_accept += s.released_accept;
		t->released_drop += s.released_drop;
	}
}

static void print_stats(FILE *f, const struct probe_stats *ps)
{
	const struct nfqueue_stats *t = &ps->q;

	fprintf(f,
		"stats packets=%llu accepted=%llu dropped=%llu verdict_msgs=%llu enobufs=%llu "
		"errors=%llu parse_errors=%llu peeked=%llu contract_errors=%llu ahead=%llu "
		"verdict_sends=%llu held=%llu hold_refused=%llu released_accept=%llu "
		"released_drop=%llu held_now=%u refused_seen=%llu api_errors=%llu\n",
		(unsigned long long)t->packets, (unsigned long long)t->accepted,
		(unsigned long long)t->dropped, (unsigned long long)t->verdict_msgs,
		(unsigned long long)t->enobufs, (unsigned long long)t->errors,
		(unsigned long long)t->parse_errors, ps->peeked, ps->contract_errors,
		ps->ahead_judged, (unsigned long long)t->verdict_sends,
		(unsigned long long)t->held, (unsigned long long)t->hold_refused,
		(unsigned long long)t->released_accept, (unsigned long long)t->released_drop,
		ps->held_now, ps->refused_seen, ps->api_errors);
}

static void write_stats(const char *path, struct worker *ws, int n)
{
	char tmp[4096];
	struct probe_stats t;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	sum_stats(ws, n, &t);
	print_stats(f, &t);
	if (fclose(f) == 0)
		rename(tmp, path);
}

int main(int argc, char **argv)
{
	struct nfqueue_config cfg;
	unsigned first = 0, last = 0;
	const char *stats_path = NULL;
	struct worker ws[16];
	struct probe_stats t;
	struct sigaction sa;
	int opt, n, rc = 0;

	nfqueue_config_default(&cfg, 0);
	while ((opt = getopt(argc, argv, "q:c:b:m:r:d:s:QT:th:n:R:")) != -1) {
		switch (opt) {
		case 'q':
			if (sscanf(optarg, "%u-%u", &first, &last) == 1)
				last = first;
			break;
		case 'c': cfg.copy_range = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': cfg.batch_max = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': cfg.maxlen = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': cfg.rcvbuf = atoi(optarg); break;
		case 'd': opt_drop_port = atoi(optarg); break;
		case 's': stats_path = optarg; break;
		case 'Q': opt_quiet = 1; break;
		case 'T': opt_sleep_us = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': cfg.timestamps = true; break;
		case 'h': {
			char how[8] = "";

			if (opt_n_hold == MAX_HOLD_PORTS ||
			    sscanf(optarg, "%u:%7s", &opt_hold[opt_n_hold].port, how) != 2 ||
			    (strcmp(how, "accept") != 0 && strcmp(how, "drop") != 0)) {
				fprintf(stderr, "nfq_probe: -h PORT:accept|drop, at most %d\n",
					MAX_HOLD_PORTS);
				return 2;
			}
			opt_hold[opt_n_hold++].v = how[0] == 'd' ? NFQUEUE_DROP : NFQUEUE_ACCEPT;
			break;
		}
		case 'n': cfg.hold_max = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'R': opt_release_port = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: nfq_probe [-q A[-B]] [-c copy] [-b batch] [-m maxlen] "
					"[-r rcvbuf] [-d port] [-s stats] [-Q] [-T us] [-t] "
					"[-h port:accept|drop]... [-n hold_max] [-R port]\n");
			return 2;
		}
	}
	n = (int)(last - first + 1);
	if (last < first || n > (int)(sizeof(ws) / sizeof(ws[0]))) {
		fprintf(stderr, "nfq_probe: bad queue range\n");
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	memset(ws, 0, sizeof(ws));
	for (int i = 0; i < n; i++) {
		cfg.queue_num = (uint16_t)(first + (unsigned)i);
		if (nfqueue_open(&ws[i].q, &cfg) < 0) {
			fprintf(stderr, "nfq_probe: queue %u: %s\n", cfg.queue_num, strerror(errno));
			for (int j = 0; j < i; j++)
				nfqueue_close(ws[j].q);
			return 1;
		}
		check_hold_api_empty(&ws[i], cfg.hold_max);
	}
	for (int i = 0; i < n; i++)
		pthread_create(&ws[i].tid, NULL, run, &ws[i]);
	printf("ready queues=%u-%u\n", first, last);
	fflush(stdout);
	if (stats_path)
		write_stats(stats_path, ws, n);

	while (!stop) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		if (stats_path)
			write_stats(stats_path, ws, n);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(ws[i].tid, NULL);
		if (ws[i].err) {
			fprintf(stderr, "nfq_probe: queue %u: %s\n", first + (unsigned)i,
				strerror(ws[i].err));
			rc = 1;
		}
	}
	sum_stats(ws, n, &t);
	for (int i = 0; i < n; i++)
		if (nfqueue_close(ws[i].q) < 0) {
			fprintf(stderr, "nfq_probe: close: %s\n", strerror(errno));
			rc = 1;
		}
	if (stats_path) {
		FILE *f = fopen(stats_path, "w");

		if (f) {
			print_stats(f, &t);
			fclose(f);
		}
	}
	print_stats(stdout, &t);
	return rc;
}
