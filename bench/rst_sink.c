/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rst_sink: the receiver side of the latency probe of bench/nfq.sh.
 *
 *   rst_sink -i IFNAME [-n COUNT] [-t SECONDS] [-p PROBE_PORT] [-s SKIP] [-o FILE]
 *
 * Reads, with an AF_PACKET socket on IFNAME and a BPF filter, the IPv4 TCP
 * resets to PROBE_PORT (default 7) that `rst_flood --probe` sends, each
 * carrying the sender's CLOCK_REALTIME send time. The receive time is the
 * kernel's stamp (SO_TIMESTAMPNS, taken when the frame reaches IFNAME), so the
 * sink's own wake-up delay does not count. The flood itself (ports >= 1024) is
 * filtered out in the kernel and costs this process nothing; packet taps see
 * frames before netfilter, so a receiver ruleset may drop (and count) them all.
 *
 * Stops after COUNT probes (default 1000), SECONDS (default 10, at most 600),
 * or SIGINT/SIGTERM. The first SKIP probes (default 0) are left out of the
 * percentiles (warm-up). Prints "ready" on stderr once listening, then one line:
 *   probes N lost L min_us A p50_us B p90_us C p99_us D max_us E
 * where lost counts sequence numbers below the highest seen that never came.
 * -o FILE also writes every latency (microseconds), one per line. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAGIC 0x52535450u

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[k < n ? k : n - 1];
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || *out > max ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *outpath = NULL;
	unsigned long count = 1000, seconds = 10, port = 7, skip = 0;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct timespec start, now;
	double *lat;
	uint8_t *seen;
	size_t n = 0, maxseq = 0, got = 0;
	int fd, opt, one = 1, rcvbuf = 4 << 20;

	while ((opt = getopt(argc, argv, "i:n:t:p:s:o:")) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'n':
			if (parse_ul(optarg, 10000000, &count) || !count)
				goto bad;
			break;
		case 't':
			if (parse_ul(optarg, 600, &seconds) || !seconds)
				goto bad;
			break;
		case 'p':
			if (parse_ul(optarg, 65535, &port) || !port)
				goto bad;
			break;
		case 's':
			if (parse_ul(optarg, 10000000, &skip))
				goto bad;
			break;
		case 'o':
			outpath = optarg;
			break;
		default:
			goto bad;
		}
	}
	if (!ifname || optind != argc)
		goto bad;

	{
		/* Ethernet + IPv4 without options + TCP to the probe port. */
		struct sock_filter code[] = {
			BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 7),
			BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x45, 0, 5),
			BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 3),
			BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 36),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)port, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, 256),
			BPF_STMT(BPF_RET | BPF_K, 0),
		};
		struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

		/* Protocol 0 until the filter is on, so no flood frame slips in first. */
		fd = socket(AF_PACKET, SOCK_RAW, 0);
		if (fd < 0) {
			perror("rst_sink: socket(AF_PACKET)");
			return 1;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
			perror("rst_sink: SO_ATTACH_FILTER");
			return 1;
		}
	}
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0) {
		perror("rst_sink: setsockopt");
		return 1;
	}
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_protocol = htons(ETH_P_IP);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "rst_sink: bind %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	lat = calloc(count, sizeof(*lat));
	seen = calloc(count, 1);
	if (!lat || !seen) {
		fprintf(stderr, "rst_sink: out of memory\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "ready\n");

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop && got < count) {
		uint8_t buf[256], cbuf[256];
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct cmsghdr *cm;
		struct timespec rx = { 0, 0 };
		uint32_t magic, seq;
		uint64_t sent_ns, rx_ns;
		long left_ms;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (long)seconds * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
						  (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left_ms <= 0)
			break;
		if (poll(&pfd, 1, (int)(left_ms < 200 ? left_ms : 200)) <= 0)
			continue;
		r = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("rst_sink: recvmsg");
			return 1;
		}
		if (r < 14 + 20 + 20 + 16)
			continue;
		/* TCP header length from its data offset. */
		{
			size_t toff = 34 + (size_t)((buf[46] >> 4) * 4);

			if ((size_t)r < toff + 16)
				continue;
			memcpy(&magic, buf + toff, 4);
			memcpy(&seq, buf + toff + 4, 4);
			memcpy(&sent_ns, buf + toff + 8, 8);
		}
		if (ntohl(magic) != PROBE_MAGIC)
			continue;
		seq = ntohl(seq);
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS)
				memcpy(&rx, CMSG_DATA(cm), sizeof(rx));
		if (!rx.tv_sec) {
			fprintf(stderr, "rst_sink: no receive timestamp\n");
			return 1;
		}
		if (seq >= count || seen[seq])
			continue;
		seen[seq] = 1;
		got++;
		if (seq + 1 > maxseq)
			maxseq = seq + 1;
		if (seq < skip)
			continue;
		rx_ns = (uint64_t)rx.tv_sec * 1000000000u + (uint64_t)rx.tv_nsec;
		lat[n++] = ((double)rx_ns - (double)sent_ns) / 1000.0;
	}
	if (outpath) {
		FILE *f = fopen(outpath, "w");

		if (f) {
			for (size_t k = 0; k < n; k++)
				fprintf(f, "%.3f\n", lat[k]);
			fclose(f);
		}
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("probes %zu lost %zu min_us %.1f p50_us %.1f p90_us %.1f p99_us %.1f max_us %.1f\n",
	       got, maxseq - got, n ? lat[0] : 0.0, pct(lat, n, 50), pct(lat, n, 90),
	       pct(lat, n, 99), n ? lat[n - 1] : 0.0);
	close(fd);
	free(lat);
	free(seen);
	return 0;
bad:
	fprintf(stderr, "usage: rst_sink -i IFNAME [-n COUNT] [-t SECONDS (<= 600)] "
		"[-p PROBE_PORT] [-s SKIP] [-o FILE]\n");
	return 2;
}
