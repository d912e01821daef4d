/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ruleset_bench RULESET.json|kernel [LOOKUPS]: what the ruleset model costs
 * (bench/ruleset.sh feeds it a generated gateway ruleset that real nft
 * loaded and listed): parse time, the model's bytes and the process's RSS
 * growth, then the time of one reset's lookup for triggers that end at
 * different depths of the ruleset. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ruleset.h"
#include "ruleset_live.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	size_t n = strlen(field);

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && sscanf(line + n, " %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static long rss_kb(void) { return status_kb("VmRSS:"); }
static long hwm_kb(void) { return status_kb("VmHWM:"); }

struct probe {
	const char *what;
	const char *src, *dst;     /* the reset's: the trigger's destination and source */
	unsigned port;             /* the trigger's destination port */
};

int main(int argc, char **argv)
{
	/* What bench/ruleset.sh generates: 20,000 rules `ip saddr X tcp dport P
	 * reject` in chains reached by a vmap, a set of 100,000 blocked
	 * addresses, an interval set, and a last catch-all rule. */
	static const struct probe probes[] = {
		{ "first rule of the first chain", "203.0.113.2", "10.0.0.0", 20000 },
		{ "blocked set (100,000 elements)", "203.0.113.2", "10.2.134.159", 443 },
		{ "last rule of the last chain", "203.0.113.2", "10.0.78.31", 39999 },
		{ "nothing but the catch-all at the end", "203.0.113.2", "192.0.2.77", 9999 },
	};
	unsigned long lookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000;
	char err[256];
	long rss0 = rss_kb();
	double t0 = now_s();
	struct rs_model *m;

	if (argc < 2) {
		fprintf(stderr, "usage: ruleset_bench RULESET.json|kernel [LOOKUPS]\n");
		return 2;
	}
	/* "kernel": as the daemon reads it (libnftables, this namespace). */
	m = strcmp(argv[1], "kernel") ? ruleset_load_file(argv[1], err, sizeof(err))
				       : ruleset_read_kernel(0, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "ruleset_bench: %s: %s\n", argv[1], err);
		return 1;
	}
	printf("parse: %.3f s; rules %u, set elements %u; model %.1f MiB; RSS +%.1f MiB, "
	       "peak +%.1f MiB\n", now_s() - t0, ruleset_rules(m), ruleset_elements(m),
	       (double)ruleset_bytes(m) / (1 << 20), (double)(rss_kb() - rss0) / 1024,
	       (double)(hwm_kb() - rss0) / 1024);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const struct probe *p = &probes[i];
		struct tcp_packet rst;
		struct rs_trigger t;
		struct rs_answer a;
		double t1;

		memset(&rst, 0, sizeof(rst));
		rst.family = 4;
		inet_pton(AF_INET, p->src, rst.src);
		inet_pton(AF_INET, p->dst, rst.dst);
		rst.sport = (uint16_t)p->port;
		rst.dport = 40000;
		rst.flags = TCPF_RST | TCPF_ACK;
		ruleset_trigger_of_reset(&rst, RS_CT_NEW, "eth1", RS_PATH_FORWARD, &t);
		t1 = now_s();
		for (unsigned long n = 0; n < lookups; n++)
			ruleset_explain(m, &t, &a);
		printf("lookup, %-38s %8.1f us  -> %s %s %s handle %llu%s%s\n", p->what,
		       (now_s() - t1) / (double)lookups * 1e6,
		       a.n ? rs_rule_family(a.rule[0]) : "-", a.n ? rs_rule_table(a.rule[0]) : "-",
		       a.n ? rs_rule_chain(a.rule[0]) : "-",
		       a.n ? (unsigned long long)rs_rule_handle(a.rule[0]) : 0ULL,
		       a.why[0] ? " / " : "", a.why);
	}
	ruleset_free(m);
	printf("freed: RSS +%.1f MiB over the start\n", (double)(rss_kb() - rss0) / 1024);
	return 0;
}
