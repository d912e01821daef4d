/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nflog_probe: drive nfq/nflog.c from a shell test.
 *   nflog_probe [-t QTHRESH] [-f FLUSH_CS] [-d] [-Q QUEUE] GROUP COUNT TIMEOUT_MS
 * Binds GROUP, prints "ready" once the kernel has accepted the binding, then
 * one line per logged packet until COUNT packets arrived or TIMEOUT_MS passed,
 * then a "stats" line. Exit 0 if COUNT packets arrived, 3 on timeout, 1 on
 * error. COUNT 0: until SIGTERM or SIGINT, then exit 0 (the stats line is
 * printed either way). The packet is decoded here with bounds-checked reads
 * (src/bytes.h), independently of src/decode.c.
 *
 *   -t N   the group's queue threshold: the kernel gathers up to N copies in
 *          one netlink message (default 1: each at once)
 *   -f CS  the group's flush timeout, 1/100 s (default: the kernel's, 1 s)
 *   -d     read the socket here, one datagram at a time, instead of through
 *          nflog_process, and add to each line dgram=N (copies the kernel sent
 *          in one message share N; N counts from 1), rx_us= (realtime µs when
 *          read) and ts_us= (the kernel's stamp, 0 if none)
 *   -Q Q   implies -d; also bind NFQUEUE Q and accept what it delivers. The
 *          moment a queued packet is received (nfqueue peek), everything the
 *          log socket holds is read first, without waiting, and then a line
 *          "queued queue=Q ... marker=yes|no" says whether the packet's copy
 *          with a "rstwatch: queued" prefix (same addresses, ports, seq and
 *          flags) had already arrived. The probe then runs until COUNT
 *          copies arrived and every marker's packet was queued. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>

#include <poll.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "bytes.h"
#include "nflog.h"
#include "queue.h"

#define MARKER_PREFIX "rstwatch: queued"
#define MAX_MARKERS 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct probe {
	unsigned long seen;
	/* -d / -Q */
	unsigned long dgram;
	uint64_t rx_us;
	unsigned long parse_errors, enobufs, lost;
	bool seq_known;
	uint32_t next_seq;
	/* -Q: the markers read so far, by packet key */
	char *markers[MAX_MARKERS];
	unsigned long n_markers;
	unsigned long queued, queued_marked;
};

static const char *ifname(uint32_t ifindex, char *buf)
{
	if (ifindex == 0 || !if_indextoname(ifindex, buf))
		return "-";
	return buf;
}

/* "RA", "S", "FA": flags as letters in the order F S R P A U E C. */
static const char *flag_letters(uint8_t flags, char *buf)
{
	static const char letters[] = "FSRPAUEC";
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			buf[n++] = letters[i];
	buf[n] = '\0';
	return buf;
}

/* Prints addresses, ports and header fields; false if it is no TCP packet.
 * With key, also writes there what names the packet: addresses, ports, seq
 * and flags. */
static bool print_ip_tcp(const struct bytes *b, char *key, size_t keylen, bool print)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], fl[9];
	uint8_t vihl, ttl, proto, flags;
	uint16_t sport, dport, win, ipid = 0, frag = 0;
	uint32_t seq;
	size_t tcp_off;

	if (!get_u8(b, 0, &vihl))
		return false;
	if (vihl >> 4 == 4) {
		tcp_off = (size_t)(vihl & 0x0f) * 4;
		if (tcp_off < 20 || !get_u8(b, 8, &ttl) || !get_u8(b, 9, &proto) ||
		    !get_be16(b, 4, &ipid) || !get_be16(b, 6, &frag) || !bytes_has(b, 12, 8))
			return false;
		inet_ntop(AF_INET, b->p + 12, src, sizeof(src));
		inet_ntop(AF_INET, b->p + 16, dst, sizeof(dst));
	} else if (vihl >> 4 == 6) {
		tcp_off = 40;
		if (!get_u8(b, 6, &proto) || !get_u8(b, 7, &ttl) || !bytes_has(b, 8, 32))
			return false;
		inet_ntop(AF_INET6, b->p + 8, src, sizeof(src));
		inet_ntop(AF_INET6, b->p + 24, dst, sizeof(dst));
	} else {
		return false;
	}
	if (proto != 6 || !get_be16(b, tcp_off, &sport) || !get_be16(b, tcp_off + 2, &dport) ||
	    !get_be32(b, tcp_off + 4, &seq) || !get_u8(b, tcp_off + 13, &flags) ||
	    !get_be16(b, tcp_off + 14, &win))
		return false;

	if (key)
		snprintf(key, keylen, "%s.%u>%s.%u seq=%" PRIu32 " flags=%s", src, sport, dst, dport,
			 seq, flag_letters(flags, fl));
	if (!print)
		return true;
	printf(" src=%s sport=%u dst=%s dport=%u flags=%s seq=%" PRIu32 " win=%u ttl=%u",
	       src, sport, dst, dport, flag_letters(flags, fl), seq, win, ttl);
	if (vihl >> 4 == 4)
		printf(" ipid=%u df=%d", ipid, (frag & 0x4000) != 0);
	return true;
}

static uint64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int on_packet(const struct nflog_packet *pkt, void *arg)
{
	struct probe *p = arg;
	struct bytes b = { .p = pkt->payload, .len = pkt->len };
	char in[IF_NAMESIZE], out[IF_NAMESIZE];
	uint64_t now = realtime_us();
	/* Kernel stamp or receive time, either way within seconds of now. */
	bool ts_recent = pkt->ts_us <= now && now - pkt->ts_us < 10000000u;

	p->seen++;
	printf("hook=%s family=%s proto=0x%04x in=%s out=%s prefix=%s mark=0x%08" PRIx32
	       " has_ts=%d ts_recent=%d logseq=%s%" PRIu32 " len=%zu",
	       nflog_hook_name(pkt->hook),
	       pkt->family == NFPROTO_IPV4 ? "ipv4" : pkt->family == NFPROTO_IPV6 ? "ipv6" : "?",
	       pkt->hw_protocol, ifname(pkt->ifindex_in, in), ifname(pkt->ifindex_out, out),
	       pkt->prefix ? pkt->prefix : "-", pkt->mark, pkt->has_ts, ts_recent,
	       pkt->has_seq ? "" : "none/", pkt->seq, pkt->len);
	if (!pkt->payload || !print_ip_tcp(&b, NULL, 0, true))
		printf(" undecodable");
	printf("\n");
	fflush(stdout);
	return 0;
}

/* ---- -d and -Q: the probe reads the log socket itself ---- */

static bool is_marker(const struct nflog_packet *pkt)
{
	return pkt->prefix && strncmp(pkt->prefix, MARKER_PREFIX, strlen(MARKER_PREFIX)) == 0;
}

static void on_packet_dgram(const struct nflog_packet *pkt, struct probe *p)
{
	struct bytes b = { .p = pkt->payload, .len = pkt->len };
	char in[IF_NAMESIZE], out[IF_NAMESIZE], key[160];
	bool tcp;

	p->seen++;
	if (pkt->has_seq) {
		if (p->seq_known && pkt->seq != p->next_seq)
			p->lost += pkt->seq - p->next_seq;
		p->seq_known = true;
		p->next_seq = pkt->seq + 1;
	}
	printf("hook=%s family=%s in=%s out=%s prefix=%s logseq=%s%" PRIu32 " len=%zu",
	       nflog_hook_name(pkt->hook),
	       pkt->family == NFPROTO_IPV4 ? "ipv4" : pkt->family == NFPROTO_IPV6 ? "ipv6" : "?",
	       ifname(pkt->ifindex_in, in), ifname(pkt->ifindex_out, out),
	       pkt->prefix && pkt->prefix[0] ? pkt->prefix : "-", pkt->has_seq ? "" : "none/",
	       pkt->seq, pkt->len);
	tcp = pkt->payload && print_ip_tcp(&b, key, sizeof(key), true);
	if (!tcp)
		printf(" undecodable");
	printf(" dgram=%lu rx_us=%" PRIu64 " ts_us=%" PRIu64 "\n", p->dgram, p->rx_us,
	       pkt->has_ts ? pkt->ts_us : 0);
	fflush(stdout);
	if (tcp && is_marker(pkt) && p->n_markers < MAX_MARKERS)
		p->markers[p->n_markers++] = strdup(key);
}

/* Read every datagram the log socket holds now, without waiting. 0, or -1
 * with errno on a socket error. */
static int drain_log(struct nflog_reader *r, struct probe *p)
{
	static uint8_t buf[NFLOG_MAX_NLBUFSIZ + 4096] __attribute__((aligned(4)));

	for (;;) {
		ssize_t n = recv(nflog_fd(r), buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int rem = (int)n;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) {
				p->enobufs++;
				continue;
			}
			return -1;
		}
		p->dgram++;
		p->rx_us = realtime_us();
		for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			struct nflog_packet pkt;

			if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
				continue;  /* NLMSG_DONE ends a batch; acks */
			if (nflog_parse_packet(nlh, &pkt) < 0) {
				p->parse_errors++;
				continue;
			}
			on_packet_dgram(&pkt, p);
		}
	}
}

struct qctx {
	struct nflog_reader *r;
	struct probe *p;
	int err;
};

/* The moment the queue socket delivered pkt: what had the log socket? */
static void on_queued_peek(const struct nfqueue_packet *pkt, void *arg)
{
	struct qctx *q = arg;
	struct bytes b = { .p = pkt->payload, .len = pkt->len };
	char key[160];
	bool marked = false;

	if (drain_log(q->r, q->p) < 0)
		q->err = errno;
	q->p->queued++;
	if (!pkt->payload || !print_ip_tcp(&b, key, sizeof(key), false)) {
		printf("queued queue=%u id=%u undecodable marker=no\n", pkt->queue_num, pkt->id);
		fflush(stdout);
		return;
	}
	for (unsigned long i = 0; i < q->p->n_markers && !marked; i++)
		marked = strcmp(q->p->markers[i], key) == 0;
	q->p->queued_marked += marked;
	printf("queued queue=%u hook=%s id=%u", pkt->queue_num, nflog_hook_name(pkt->hook), pkt->id);
	print_ip_tcp(&b, NULL, 0, true);
	printf(" rx_us=%" PRIu64 " marker=%s\n", realtime_us(), marked ? "yes" : "no");
	fflush(stdout);
}

static enum nfqueue_verdict on_queued(const struct nfqueue_packet *pkt, void *arg)
{
	(void)pkt;
	(void)arg;
	return NFQUEUE_ACCEPT;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(void)
{
	fprintf(stderr, "usage: nflog_probe [-t QTHRESH] [-f FLUSH_CS] [-d] [-Q QUEUE] "
			"GROUP COUNT TIMEOUT_MS\n");
}

int main(int argc, char **argv)
{
	struct nflog_config cfg = { 0 };
	struct nflog_reader *r;
	struct nflog_stats st;
	struct probe p = { 0 };
	struct nfqueue *q = NULL;
	struct qctx qc = { 0 };
	unsigned long count;
	int64_t deadline;
	int rc = 0, opt, queue = -1;
	bool own_loop = false;

	while ((opt = getopt(argc, argv, "t:f:dQ:")) != -1) {
		switch (opt) {
		case 't': cfg.qthresh = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'f': cfg.flush_timeout_cs = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'd': own_loop = true; break;
		case 'Q':
			queue = (int)strtol(optarg, NULL, 0);
			own_loop = true;
			break;
		default:
			usage();
			return 1;
		}
	}
	if (argc - optind != 3) {
		usage();
		return 1;
	}
	cfg.group = (uint16_t)strtoul(argv[optind], NULL, 0);
	count = strtoul(argv[optind + 1], NULL, 0);
	deadline = now_ms() + strtol(argv[optind + 2], NULL, 0);

	if (nflog_open(&r, &cfg) < 0) {
		printf("error=%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
		fprintf(stderr, "nflog_probe: nflog_open: %s\n", strerror(errno));
		return 1;
	}
	if (queue >= 0) {
		struct nfqueue_config qcfg;

		nfqueue_config_default(&qcfg, (uint16_t)queue);
		if (nfqueue_open(&q, &qcfg) < 0) {
			fprintf(stderr, "nflog_probe: queue %d: %s\n", queue, strerror(errno));
			nflog_close(r);
			return 1;
		}
		qc.r = r;
		qc.p = &p;
	}
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	printf("ready\n");
	fflush(stdout);

	/* With -Q: until every marker's packet came through the queue too. */
	while (!stop && (count == 0 || p.seen < count || (q && p.queued < p.n_markers))) {
		int64_t left = deadline - now_ms();
		int wait = left < 200 ? (int)left : 200;

		if (left <= 0) {
			rc = 3;
			break;
		}
		if (!own_loop) {
			if (nflog_process(r, on_packet, &p, wait) < 0) {
				fprintf(stderr, "nflog_probe: nflog_process: %s\n", strerror(errno));
				rc = 1;
				break;
			}
			continue;
		}
		struct pollfd pfd[2] = {
			{ .fd = nflog_fd(r), .events = POLLIN },
			{ .fd = q ? nfqueue_fd(q) : -1, .events = POLLIN },
		};
		if (poll(pfd, q ? 2 : 1, wait) < 0 && errno != EINTR) {
			fprintf(stderr, "nflog_probe: poll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		/* The queue first: the check is what the log socket holds the
		 * moment a queued packet can be read. */
		if (q && nfqueue_process(q, on_queued_peek, on_queued, &qc, 0) < 0) {
			fprintf(stderr, "nflog_probe: nfqueue_process: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (qc.err || drain_log(r, &p) < 0) {
			fprintf(stderr, "nflog_probe: reading the log socket: %s\n",
				strerror(qc.err ? qc.err : errno));
			rc = 1;
			break;
		}
	}

	if (own_loop) {
		printf("stats packets=%lu enobufs=%lu lost=%lu parse_errors=%lu dgrams=%lu", p.seen,
		       p.enobufs, p.lost, p.parse_errors, p.dgram);
		if (q)
			printf(" queued=%lu queued_after_marker=%lu markers=%lu", p.queued,
			       p.queued_marked, p.n_markers);
		printf("\n");
	} else {
		nflog_get_stats(r, &st);
		printf("stats packets=%" PRIu64 " enobufs=%" PRIu64 " lost=%" PRIu64
		       " parse_errors=%" PRIu64 "\n", st.packets, st.enobufs, st.lost,
		       st.parse_errors);
	}
	if (q && nfqueue_close(q) < 0) {
		fprintf(stderr, "nflog_probe: closing the queue: %s\n", strerror(errno));
		rc = 1;
	}
	for (unsigned long i = 0; i < p.n_markers; i++)
		free(p.markers[i]);
	nflog_close(r);
	return rc;
}
