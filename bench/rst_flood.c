/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rst_flood: a TCP reset flooder for the NFQUEUE benchmark (bench/nfq.sh).
 *
 *   rst_flood -i IFNAME -d GATEWAY_MAC [-n COUNT] [-t SECONDS] [-r PPS]
 *             [-f FLOWS] [-b BATCH] [--shuffle] [--syn] [--probe] [-p PROBE_PORT]
 *
 * Writes IPv4 TCP resets as whole Ethernet frames on IFNAME with an AF_PACKET
 * socket (qdisc bypassed, sendmmsg BATCH frames per call), addressed to
 * GATEWAY_MAC, so the gateway routes them on. Addresses are TEST-NET only:
 * sources 198.51.100.10-249, destinations 203.0.113.10-249; FLOWS distinct
 * (src, dst, sport, dport) tuples are cycled, the addresses varying first so
 * that a queue range (which the kernel hashes by address) spreads them.
 * --shuffle sends each pass over the flows in a fresh random order: a
 * consumer then meets them as a gateway meets real flows, scattered over its
 * flow table, not in the order it created them (which hardware prefetching
 * follows).
 *
 * Always bounded: stops after COUNT frames (default 100 million) or SECONDS
 * (default 10, at most 600), whichever comes first, or on SIGINT/SIGTERM.
 * -r PPS paces with a token bucket (0 = as fast as one core can send).
 *
 * --syn sends SYNs instead of resets (bench/gwcost.sh: the copy path's limit,
 * since rstwatch copies handshakes and queues resets).
 *
 * --probe: latency probes instead of a flood. One frame per send, each a reset
 * to PROBE_PORT (default 7, never used by the flood, whose ports are >= 1024)
 * carrying a 24-byte payload: magic "RSTP", sequence number, and the
 * CLOCK_REALTIME nanoseconds read just before the send. bench/rst_sink reads
 * them at the receiver. Namespaces share the clock, so the difference is the
 * one-way latency (plus the send syscall, the same in every configuration).
 *
 * Prints one line: "sent N elapsed_s X rate_pps Y errors E". */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 256
#define FRAME_LEN (14 + 20 + 20)
#define PROBE_PAYLOAD 24
#define PROBE_MAGIC 0x52535450u    /* "RSTP" */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int send_syn;     /* --syn: SYN frames, not RST|ACK */

/* Fill frame with an Ethernet + IPv4 + TCP RST|ACK (or SYN) for flow i,
 * payload (plen bytes, may be 0) appended; returns the frame length. */
static size_t build_frame(uint8_t *frame, const uint8_t *dmac, const uint8_t *smac, uint32_t i,
			  uint16_t probe_port, const uint8_t *payload, size_t plen)
{
	struct ether_header *eh = (struct ether_header *)frame;
	struct iphdr *ip = (struct iphdr *)(frame + 14);
	struct tcphdr *th = (struct tcphdr *)(frame + 34);
	uint8_t pseudo[12];
	uint32_t sum;
	uint16_t tcplen = (uint16_t)(20 + plen);

	memcpy(eh->ether_dhost, dmac, 6);
	memcpy(eh->ether_shost, smac, 6);
	eh->ether_type = htons(ETHERTYPE_IP);

	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)(20 + tcplen));
	ip->id = htons((uint16_t)(i * 7));
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_TCP;
	ip->saddr = htonl(0xc6336400u | (10 + i % 240));              /* 198.51.100.x */
	ip->daddr = htonl(0xcb007100u | (10 + (i / 240 + i) % 240));  /* 203.0.113.y */
	ip->check = htons(csum_fold(csum_add(0, ip, 20)));

	memset(th, 0, sizeof(*th));
	th->source = htons((uint16_t)(1024 + (i * 2654435761u >> 8) % 64000));
	th->dest = htons(probe_port ? probe_port : (uint16_t)(1024 + (i * 40503u) % 64000));
	th->seq = htonl(i * 2246822519u);
	th->ack_seq = htonl(i * 3266489917u);
	th->doff = 5;
	if (send_syn) {
		th->syn = 1;
		th->ack_seq = 0;
	} else {
		th->rst = 1;
		th->ack = 1;
	}
	if (plen)
		memcpy(frame + 54, payload, plen);
	memcpy(pseudo, &ip->saddr, 4);
	memcpy(pseudo + 4, &ip->daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = (uint8_t)(tcplen >> 8);
	pseudo[11] = (uint8_t)tcplen;
	sum = csum_add(0, pseudo, sizeof(pseudo));
	sum = csum_add(sum, th, tcplen);
	th->check = htons(csum_fold(sum));
	return 14 + 20 + tcplen;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	char extra;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &extra) != 6)
		return -1;
	for (int k = 0; k < 6; k++) {
		if (v[k] > 255)
			return -1;
		mac[k] = (uint8_t)v[k];
	}
	return 0;
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || *out > max ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: rst_flood -i IFNAME -d GATEWAY_MAC [-n COUNT] [-t SECONDS (<= 600)]\n"
		"                 [-r PPS] [-f FLOWS] [-b BATCH] [--shuffle] [--syn] [--probe]\n"
		"                 [-p PROBE_PORT]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "dmac", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "flows", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "shuffle", no_argument, NULL, 'S' },
		{ "probe", no_argument, NULL, 'P' },
		{ "syn", no_argument, NULL, 'Y' },
		{ "probe-port", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ifname = NULL;
	uint8_t dmac[6], smac[6];
	int have_dmac = 0, probe = 0, shuffle = 0, fd, opt, one = 1;
	unsigned long count = 100000000, seconds = 10, rate = 0, flows = 4096, batch = 64,
		      probe_port = 7;
	uint8_t (*frames)[FRAME_LEN + PROBE_PAYLOAD];
	size_t *lens;
	uint32_t *order, rng = 2463534242u;
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;
	uint64_t sent = 0, errors = 0, t0, deadline, now;
	uint32_t next = 0;
	double el;

	while ((opt = getopt_long(argc, argv, "i:d:n:t:r:f:b:p:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			if (parse_mac(optarg, dmac)) {
				fprintf(stderr, "rst_flood: bad MAC %s\n", optarg);
				return 2;
			}
			have_dmac = 1;
			break;
		case 'n':
			if (parse_ul(optarg, 1ul << 40, &count))
				goto bad;
			break;
		case 't':
			if (parse_ul(optarg, 600, &seconds) || seconds == 0)
				goto bad;
			break;
		case 'r':
			if (parse_ul(optarg, 100000000, &rate))
				goto bad;
			break;
		case 'f':
			if (parse_ul(optarg, 1u << 20, &flows) || flows == 0)
				goto bad;
			break;
		case 'b':
			if (parse_ul(optarg, MAX_BATCH, &batch) || batch == 0)
				goto bad;
			break;
		case 'Y':
			send_syn = 1;
			break;
		case 'P':
			probe = 1;
			break;
		case 'S':
			shuffle = 1;
			break;
		case 'p':
			if (parse_ul(optarg, 1023, &probe_port) || probe_port == 0)
				goto bad;
			break;
		default:
			goto bad;
		}
	}
	if (!ifname || !have_dmac || optind != argc)
		goto bad;
	if (probe)
		batch = 1;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	fd = socket(AF_PACKET, SOCK_RAW, 0);    /* protocol 0: send only, receive nothing */
	if (fd < 0) {
		perror("rst_flood: socket(AF_PACKET)");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "rst_flood: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_protocol = htons(ETH_P_IP);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("rst_flood: bind");
		return 1;
	}
	/* Straight to the driver: no qdisc to queue (or drop) in front of veth. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		perror("rst_flood: PACKET_QDISC_BYPASS (continuing)");

	frames = calloc(flows, sizeof(*frames));
	lens = calloc(flows, sizeof(*lens));
	order = calloc(flows, sizeof(*order));
	if (!frames || !lens || !order) {
		fprintf(stderr, "rst_flood: out of memory\n");
		return 1;
	}
	if (!probe)
		for (uint32_t i = 0; i < flows; i++)
			lens[i] = build_frame(frames[i], dmac, smac, i, 0, NULL, 0);
	for (uint32_t i = 0; i < flows; i++)
		order[i] = i;
	memset(msgs, 0, sizeof(msgs));

	t0 = mono_ns();
	deadline = t0 + (uint64_t)seconds * 1000000000u;
	while (!stop && sent < count) {
		unsigned n = (unsigned)(count - sent < batch ? count - sent : batch);
		int r;

		now = mono_ns();
		if (now >= deadline)
			break;
		if (rate) {
			/* Token bucket: packet k is due at t0 + k / rate. */
			uint64_t due = t0 + (uint64_t)((double)sent * 1e9 / (double)rate);

			if (due > now) {
				struct timespec ts = { .tv_sec = (time_t)(due / 1000000000u),
						       .tv_nsec = (long)(due % 1000000000u) };

				if (due > deadline)
					break;
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				continue;
			}
		}
		if (probe) {
			uint8_t pl[PROBE_PAYLOAD] = { 0 };
			uint32_t magic = htonl(PROBE_MAGIC), seq = htonl((uint32_t)sent);
			uint64_t ts;

			memcpy(pl, &magic, 4);
			memcpy(pl + 4, &seq, 4);
			ts = real_ns();
			memcpy(pl + 8, &ts, 8);    /* host order: read back on this host */
			lens[0] = build_frame(frames[0], dmac, smac, (uint32_t)sent % (uint32_t)flows,
					      (uint16_t)probe_port, pl, sizeof(pl));
			iov[0].iov_base = frames[0];
			iov[0].iov_len = lens[0];
			msgs[0].msg_hdr.msg_iov = &iov[0];
			msgs[0].msg_hdr.msg_iovlen = 1;
		} else {
			for (unsigned k = 0; k < n; k++) {
				if (next == 0 && shuffle)
					for (uint32_t i = (uint32_t)flows - 1; i > 0; i--) {
						uint32_t j, t;

						rng ^= rng << 13;    /* xorshift32 */
						rng ^= rng >> 17;
						rng ^= rng << 5;
						j = rng % (i + 1);
						t = order[i];
						order[i] = order[j];
						order[j] = t;
					}
				iov[k].iov_base = frames[order[next]];
				iov[k].iov_len = lens[order[next]];
				msgs[k].msg_hdr.msg_iov = &iov[k];
				msgs[k].msg_hdr.msg_iovlen = 1;
				if (++next == flows)
					next = 0;
			}
		}
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				errors++;
				continue;
			}
			perror("rst_flood: sendmmsg");
			return 1;
		}
		sent += (uint64_t)r;
		if (!probe && (unsigned)r < n) {
			/* Frames not taken are skipped, the flow order moves on. */
			errors++;
		}
	}
	el = (double)(mono_ns() - t0) / 1e9;
	printf("sent %llu elapsed_s %.6f rate_pps %.0f errors %llu\n", (unsigned long long)sent, el,
	       el > 0 ? (double)sent / el : 0.0, (unsigned long long)errors);
	close(fd);
	free(frames);
	free(lens);
	return 0;
bad:
	usage();
	return 2;
}
