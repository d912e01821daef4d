/* nflog_probe: drive nfq/nflog.c from a shell test.
 *   nflog_probe GROUP COUNT TIMEOUT_MS
 * Binds GROUP, prints "ready" once the kernel has accepted the binding, then
 * one line per logged packet until COUNT packets arrived or TIMEOUT_MS passed,
 * then a "stats" line. Exit 0 if COUNT packets arrived, 3 on timeout, 1 on
 * error. The packet is decoded here with bounds-checked reads (src/bytes.h),
 * independently of src/decode.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>

#include "bytes.h"
#include "nflog.h"

struct probe {
	unsigned long seen;
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

/* Prints addresses, ports and header fields; false if it is no TCP packet. */
static bool print_ip_tcp(const struct bytes *b)
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
	if (!pkt->payload || !print_ip_tcp(&b))
		printf(" undecodable");
	printf("\n");
	fflush(stdout);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct nflog_config cfg = { 0 };
	struct nflog_reader *r;
	struct nflog_stats st;
	struct probe p = { 0 };
	unsigned long count;
	int64_t deadline;
	int rc = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: nflog_probe GROUP COUNT TIMEOUT_MS\n");
		return 1;
	}
	cfg.group = (uint16_t)strtoul(argv[1], NULL, 0);
	count = strtoul(argv[2], NULL, 0);
	deadline = now_ms() + strtol(argv[3], NULL, 0);

	if (nflog_open(&r, &cfg) < 0) {
		printf("error=%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
		fprintf(stderr, "nflog_probe: nflog_open: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	while (p.seen < count) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			rc = 3;
			break;
		}
		if (nflog_process(r, on_packet, &p, left < 200 ? (int)left : 200) < 0) {
			fprintf(stderr, "nflog_probe: nflog_process: %s\n", strerror(errno));
			rc = 1;
			break;
		}
	}

	nflog_get_stats(r, &st);
	printf("stats packets=%" PRIu64 " enobufs=%" PRIu64 " lost=%" PRIu64
	       " parse_errors=%" PRIu64 "\n", st.packets, st.enobufs, st.lost, st.parse_errors);
	nflog_close(r);
	return rc;
}
