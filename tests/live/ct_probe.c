/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ct_probe: drive src/ct.c from a shell test.
 *   ct_probe get  SRC SPORT DST DPORT             print what conntrack knows
 *   ct_probe mark SRC SPORT DST DPORT VALUE MASK  masked mark update
 * The tuple is the one a reset would carry (either direction of the flow).
 * Output: one line of key=value. Exit 0 on success, 2 when the kernel says
 * ENOENT (mark of a missing entry), 1 on any other error ("error=ENAME"). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "decode.h"

static int usage(void)
{
	fprintf(stderr, "usage: ct_probe get SRC SPORT DST DPORT\n"
			"       ct_probe mark SRC SPORT DST DPORT VALUE MASK\n");
	return 1;
}

static int fail(const char *what)
{
	int e = errno;

	printf("error=%s\n", strerrorname_np(e) ? strerrorname_np(e) : "?");
	fprintf(stderr, "ct_probe: %s: %s\n", what, strerror(e));
	return e == ENOENT ? 2 : 1;
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || *end || end == s || n > UINT32_MAX)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

static int parse_tuple(char **argv, struct tcp_packet *pkt)
{
	uint32_t sport, dport;

	memset(pkt, 0, sizeof(*pkt));
	if (inet_pton(AF_INET, argv[0], pkt->src) == 1 &&
	    inet_pton(AF_INET, argv[2], pkt->dst) == 1)
		pkt->family = 4;
	else if (inet_pton(AF_INET6, argv[0], pkt->src) == 1 &&
		 inet_pton(AF_INET6, argv[2], pkt->dst) == 1)
		pkt->family = 6;
	else
		return -1;
	if (parse_u32(argv[1], &sport) < 0 || sport > 65535 ||
	    parse_u32(argv[3], &dport) < 0 || dport > 65535)
		return -1;
	pkt->sport = (uint16_t)sport;
	pkt->dport = (uint16_t)dport;
	pkt->flags = TCPF_RST;
	return 0;
}

static void print_info(const struct ct_info *ci)
{
	if (!ci->present) {
		printf("present=0\n");
		return;
	}
	printf("present=1 state=%s reply_is_sender=%d mark=0x%08" PRIx32
	       " status=0x%08" PRIx32 " timeout=%" PRIu32 " id=%" PRIu32,
	       ct_state_name(ci->tcp_state), ci->reply_is_sender, ci->mark, ci->status,
	       ci->timeout_s, ci->id);
	if (ci->has_counters)
		printf(" counters=1 packets=%" PRIu64 "/%" PRIu64 " bytes=%" PRIu64 "/%" PRIu64,
		       ci->packets[0], ci->packets[1], ci->bytes[0], ci->bytes[1]);
	else
		printf(" counters=0");
	if (ci->has_start)
		printf(" start=1 start_ns=%" PRIu64, ci->start_ns);
	else
		printf(" start=0");
	printf("\n");
}

int main(int argc, char **argv)
{
	struct tcp_packet pkt;
	struct ct_handle *h;
	struct ct_info ci;
	uint32_t value, mask;
	int rc = 0;

	if (argc < 6 || parse_tuple(argv + 2, &pkt) < 0)
		return usage();

	h = ct_open();
	if (!h)
		return fail("ct_open");

	if (strcmp(argv[1], "get") == 0 && argc == 6) {
		if (ct_get(h, &pkt, &ci) < 0)
			rc = fail("ct_get");
		else
			print_info(&ci);
	} else if (strcmp(argv[1], "mark") == 0 && argc == 8 &&
		   parse_u32(argv[6], &value) == 0 && parse_u32(argv[7], &mask) == 0) {
		if (ct_mark_update(h, &pkt, value, mask) < 0)
			rc = fail("ct_mark_update");
		else
			printf("updated=1\n");
	} else {
		rc = usage();
	}

	ct_close(h);
	return rc;
}
