/* SPDX-License-Identifier: GPL-2.0-or-later */
/* flowmem: what one tracked connection costs in the flow table, and how fast
 * the table finds it again.
 *
 *   build/bench/flowmem [FLOWS (1000000)] [CAPACITY (= FLOWS)]
 *
 * Creates a table, inserts FLOWS distinct IPv4 connections (a SYN each, folded
 * in with flow_update as the pipeline does), then looks every one up again in
 * a scattered order, half of them from the other direction (the SYN/ACK).
 * With CAPACITY < FLOWS the table evicts, and the lookups miss what went.
 * Prints "name value" lines:
 *   sizeof_flow            sizeof(struct flow)
 *   bytes_per_flow         flow_bytes_per_flow(): entry + its share of the index
 *   rss_table_kb           VmRSS growth from flow_table_new alone
 *   rss_growth_kb          VmRSS growth from flow_table_new to after the inserts
 *   rss_bytes_per_flow     rss_growth_kb * 1024 / min(FLOWS, CAPACITY)
 *   insert_per_s           lookups that create + flow_update, per second
 *   lookup_per_s           lookups of existing connections, per second
 * Addresses are documentation ranges only (198.51.100.0/24, 203.0.113.0/24 ->
 * 192.0.2.0/24). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "flow.h"

static long vmrss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6)) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Connection i: 508 client hosts x 28232 ephemeral ports (unique up to
 * 14.3 million), to one of 254 servers on one of a few ports. reply: the
 * server's SYN/ACK instead of the client's SYN. */
static void make_pkt(struct tcp_packet *p, uint32_t i, int reply)
{
	static const uint16_t sports[] = { 443, 80, 22, 5432, 8080, 993, 25, 3306 };
	uint32_t host = i % 508;
	uint8_t c[4] = { 198, 51, 100, 0 }, s[4] = { 192, 0, 2, 0 };
	uint16_t cport = (uint16_t)(32768 + (i / 508) % 28232);
	uint16_t sport = sports[(i * 2654435761u) >> 29];

	if (host >= 254) {
		c[0] = 203;
		c[1] = 0;
		c[2] = 113;
	}
	c[3] = (uint8_t)(host % 254 + 1);
	s[3] = (uint8_t)((i * 40503u) % 254 + 1);

	memset(p, 0, sizeof(*p));
	p->family = 4;
	p->ttl = reply ? 52 : 63;
	p->df = true;
	p->ipid = (uint16_t)(i * 7);
	p->doff = 40;
	p->window = reply ? 65160 : 64240;
	p->opt.has_mss = true;
	p->opt.mss = 1460;
	p->opt.has_wscale = true;
	p->opt.wscale = 7;
	p->opt.sack_permitted = true;
	p->ip_len = 60;
	if (!reply) {
		memcpy(p->src, c, 4);
		memcpy(p->dst, s, 4);
		p->sport = cport;
		p->dport = sport;
		p->flags = TCPF_SYN;
		p->seq = i * 2246822519u;
	} else {
		memcpy(p->src, s, 4);
		memcpy(p->dst, c, 4);
		p->sport = sport;
		p->dport = cport;
		p->flags = TCPF_SYN | TCPF_ACK;
		p->seq = i * 3266489917u;
		p->ack = i * 2246822519u + 1;
	}
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

static int parse_u32(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || *out == 0 || *out > (1ul << 28) ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long n = 1000000, cap;
	struct flow_table *t;
	struct flow_stats st;
	struct tcp_packet pkt;
	uint64_t ts = 1700000000ULL * 1000000;
	long rss0, rss1, rss2;
	double t0, t_ins, t_look;
	uint32_t i, step, missing = 0, wrong_dir = 0;

	if (argc > 3 || (argc > 1 && parse_u32(argv[1], &n))) {
		fprintf(stderr, "usage: flowmem [FLOWS (1000000)] [CAPACITY (= FLOWS)]\n");
		return 2;
	}
	cap = n;
	if (argc > 2 && parse_u32(argv[2], &cap)) {
		fprintf(stderr, "usage: flowmem [FLOWS (1000000)] [CAPACITY (= FLOWS)]\n");
		return 2;
	}

	rss0 = vmrss_kb();
	t = flow_table_new((uint32_t)cap);
	if (!t) {
		fprintf(stderr, "flowmem: flow_table_new(%lu): %s\n", cap, strerror(errno));
		return 1;
	}
	rss1 = vmrss_kb();

	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct flow *f;
		int dir;

		make_pkt(&pkt, i, 0);
		f = flow_lookup(t, &pkt, ts + i, true, &dir);
		flow_update(f, dir, &pkt, ts + i);
	}
	t_ins = now_s() - t0;
	rss2 = vmrss_kb();

	/* Every connection again, in a scattered order (i * step mod n visits
	 * each once when step and n share no factor), half as the reply. */
	step = (uint32_t)(2654435761u % n);
	while (gcd(step, (uint32_t)n) != 1)
		step++;
	flow_table_stats(t, &st);
	{
		uint64_t created = st.created;
		uint32_t k = 0;

		t0 = now_s();
		for (i = 0; i < n; i++) {
			int dir = -1, reply = (int)(k & 1);
			struct flow *f;

			make_pkt(&pkt, k, reply);
			f = flow_lookup(t, &pkt, ts + n + i, true, &dir);
			if (dir != (reply ? DIR_RESP : DIR_ORIG))
				wrong_dir++;
			(void)f;
			k = (uint32_t)(((uint64_t)k + step) % n);
		}
		t_look = now_s() - t0;
		flow_table_stats(t, &st);
		missing = (uint32_t)(st.created - created);
	}

	printf("flows %lu\n", n);
	printf("capacity %lu\n", cap);
	printf("sizeof_flow %zu\n", sizeof(struct flow));
	printf("bytes_per_flow %zu\n", flow_bytes_per_flow());
	printf("rss_table_kb %ld\n", rss1 - rss0);
	printf("rss_growth_kb %ld\n", rss2 - rss0);
	/* Beyond the capacity, evicted entries are reused: divide by what fits. */
	printf("rss_bytes_per_flow %.1f\n", (double)(rss2 - rss0) * 1024.0 / (double)(n < cap ? n : cap));
	printf("insert_per_s %.0f\n", (double)n / t_ins);
	printf("lookup_per_s %.0f\n", (double)n / t_look);
	printf("evicted %llu\n", (unsigned long long)st.evicted);
	printf("lookup_missing %u\n", missing);
	printf("lookup_wrong_dir %u\n", wrong_dir);
	flow_table_free(t);
	/* With room for every flow, none may be lost; with less, evictions and
	 * misses are what the table is for. */
	if (cap >= n && (missing || wrong_dir || st.evicted)) {
		fprintf(stderr, "flowmem: %u lookups missed, %u wrong direction, %llu evicted\n",
			missing, wrong_dir, (unsigned long long)st.evicted);
		return 1;
	}
	return 0;
}
