/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How far away a forger sits (rst_hops_estimate, ttl_initial_guess), and the
 * per-host TTL baselines (src/hostttl.c) a reset on a fresh flow is judged
 * against: the table itself (find, age, eviction counted, seed), then
 * through the real pipeline, over IPv4 and IPv6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"

#define T0 (1700000000ULL * 1000000)
#define MS 1000ULL

static void test_initial_guess(void **state)
{
	(void)state;
	assert_int_equal(ttl_initial_guess(0), 64);
	assert_int_equal(ttl_initial_guess(1), 64);
	assert_int_equal(ttl_initial_guess(40), 64);
	assert_int_equal(ttl_initial_guess(64), 64);
	assert_int_equal(ttl_initial_guess(65), 128);
	assert_int_equal(ttl_initial_guess(128), 128);
	assert_int_equal(ttl_initial_guess(129), 255);
	assert_int_equal(ttl_initial_guess(255), 255);
}

static void verdict_of(struct rst_verdict *v, enum rst_class c, enum rst_origin o, int expected)
{
	memset(v, 0, sizeof(*v));
	v->cls = c;
	v->origin = o;
	v->expected_ttl = expected;
}

static void test_estimate(void **state)
{
	struct rst_verdict v;
	struct rst_hops h;

	(void)state;
	/* A box 3 hops away (Linux: 64) forging for a Windows server 9 away. */
	verdict_of(&v, RST_FIREWALL, ORIGIN_MIDDLEBOX, 119);
	assert_true(rst_hops_estimate(&v, 61, &h));
	assert_int_equal(h.rst, 3);
	assert_int_equal(h.rst_initial, 64);
	assert_true(h.sender_known);
	assert_int_equal(h.sender, 9);
	assert_int_equal(h.sender_initial, 128);
	/* Network gear (255) next door; the sender's TTL never seen: its
	 * distance is not guessed. */
	verdict_of(&v, RST_INJECTED, ORIGIN_UNKNOWN, -1);
	assert_true(rst_hops_estimate(&v, 255, &h));
	assert_int_equal(h.rst, 0);
	assert_int_equal(h.rst_initial, 255);
	assert_false(h.sender_known);
	/* A stateful box whose entry expired answers for the endpoint. */
	verdict_of(&v, RST_IDLE_TIMEOUT, ORIGIN_MIDDLEBOX, 50);
	assert_true(rst_hops_estimate(&v, 250, &h));
	assert_int_equal(h.rst, 5);
	assert_int_equal(h.sender, 14);
	/* An endpoint's own reset, or this gateway's: no distance to give. */
	verdict_of(&v, RST_ABORT, ORIGIN_ENDPOINT, 64);
	assert_false(rst_hops_estimate(&v, 64, &h));
	verdict_of(&v, RST_FIREWALL, ORIGIN_LOCAL_FIREWALL, -1);
	assert_false(rst_hops_estimate(&v, 64, &h));
	/* A consequence of a forgery is the endpoint's own answer. */
	verdict_of(&v, RST_FIREWALL, ORIGIN_ENDPOINT, 64);
	assert_false(rst_hops_estimate(&v, 64, &h));
}

static void host_pkt(struct tcp_packet *p, int family, uint8_t last_byte, uint8_t ttl)
{
	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	if (family == 4)
		memcpy(p->src, (uint8_t[]){ 203, 0, 113, last_byte }, 4);
	else
		memcpy(p->src, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = last_byte }, 16);
	p->ttl = ttl;
	p->flags = TCPF_ACK;
}

static void test_table(void **state)
{
	struct host_ttl *t = host_ttl_new();
	struct tcp_packet p, q;
	struct ttl_baseline b;
	struct host_ttl_stats st;

	(void)state;
	assert_non_null(t);
	assert_int_equal(host_ttl_seed(t, 42), 0);
	host_pkt(&p, 4, 2, 61);
	assert_int_equal(host_ttl_find(t, &p, T0, &b), -1);
	host_ttl_note(t, &p, T0);
	p.ttl = 59;
	host_ttl_note(t, &p, T0 + MS);
	p.ttl = 60;
	host_ttl_note(t, &p, T0 + 2 * MS);
	assert_int_equal(host_ttl_find(t, &p, T0 + 3 * MS, &b), 0);
	assert_int_equal(b.min, 59);
	assert_int_equal(b.max, 61);
	assert_int_equal(b.last, 60);
	/* The same address in IPv6 terms, or inside a tunnel, is another host. */
	host_pkt(&q, 6, 2, 61);
	assert_int_equal(host_ttl_find(t, &q, T0, &b), -1);
	host_pkt(&q, 4, 2, 61);
	q.tunnel_zone = 7;
	assert_int_equal(host_ttl_find(t, &q, T0, &b), -1);
	/* Too old to trust; its next packet starts it afresh. */
	assert_int_equal(host_ttl_find(t, &p, T0 + 2 * MS + HOST_TTL_MAX_AGE_US + 1, &b), -1);
	p.ttl = 120;
	host_ttl_note(t, &p, T0 + 2 * MS + HOST_TTL_MAX_AGE_US + 1);
	assert_int_equal(host_ttl_find(t, &p, T0 + 2 * MS + HOST_TTL_MAX_AGE_US + 2, &b), 0);
	assert_int_equal(b.min, 120);
	assert_int_equal(b.max, 120);
	assert_int_equal(host_ttl_seed(t, 43), -1);    /* hosts are filed already */
	host_ttl_stats(t, &st);
	assert_int_equal(st.updates, 4);
	assert_int_equal(st.used, 1);
	assert_int_equal(st.evicted, 0);
	host_ttl_free(t);
}

/* More hosts than entries: the table stays its size, and every host beyond
 * its capacity has evicted one (counted). */
static void test_eviction(void **state)
{
	struct host_ttl *t = host_ttl_new();
	struct host_ttl_stats st;
	struct tcp_packet p;
	uint32_t i, n = HOST_TTL_ENTRIES * 2;

	(void)state;
	assert_non_null(t);
	host_pkt(&p, 6, 0, 64);
	for (i = 0; i < n; i++) {
		memcpy(p.src + 8, &i, sizeof(i));
		host_ttl_note(t, &p, T0 + i);
	}
	host_ttl_stats(t, &st);
	assert_true(st.used <= HOST_TTL_ENTRIES);
	assert_int_equal(st.used + st.evicted, n);
	assert_true(st.evicted >= HOST_TTL_ENTRIES);
	/* The newest host is always kept. */
	{
		struct ttl_baseline b;

		assert_int_equal(host_ttl_find(t, &p, T0 + n, &b), 0);
	}
	host_ttl_free(t);
}

/* Through the pipeline: the server answers a first connection (SYN/ACK,
 * data) with TTL srv_ttl; seconds later a SYN of a second connection is
 * answered by an RA of TTL rst_ttl, which the flow alone cannot judge. */
struct second_syn {
	uint8_t srv_ttl, rst_ttl;
	uint32_t gap_s;            /* between the two connections */
	const char *cls, *origin, *evidence; /* evidence: a prefix that must be there, or "" */
	int expected_ttl;
};

static void feed(struct pipeline *pl, struct tcp_packet *p, uint64_t ts, struct rst_event *ev)
{
	pipeline_packet(pl, p, ts, NULL, ev, NULL);
}

static void run_second_syn(const struct second_syn *c, int family)
{
	struct tcp_packet cli, srv;
	struct rst_event ev;
	struct pipeline pl;
	uint64_t ts = T0;
	unsigned i;
	bool found = false;

	assert_int_equal(pipeline_init(&pl, 64), 0);
	host_pkt(&srv, family, 20, c->srv_ttl);
	host_pkt(&cli, family, 10, 64);
	if (family == 4)
		memcpy(cli.src, (uint8_t[]){ 198, 51, 100, 10 }, 4);
	else
		cli.src[5] = 1;
	memcpy(cli.dst, srv.src, 16);
	memcpy(srv.dst, cli.src, 16);
	cli.sport = 40000;
	srv.sport = cli.dport = 443;
	srv.dport = 40000;
	/* First connection: handshake, a request, its answer. */
	cli.flags = TCPF_SYN, cli.seq = 1000;
	feed(&pl, &cli, ts, &ev);
	srv.flags = TCPF_SYN | TCPF_ACK, srv.seq = 5000, srv.ack = 1001;
	feed(&pl, &srv, ts += 10 * MS, &ev);
	cli.flags = TCPF_ACK, cli.seq = 1001, cli.ack = 5001, cli.payload_len = 100;
	feed(&pl, &cli, ts += 10 * MS, &ev);
	srv.flags = TCPF_ACK, srv.seq = 5001, srv.ack = 1101, srv.payload_len = 200;
	feed(&pl, &srv, ts += 10 * MS, &ev);
	/* Second connection, another port: its SYN is rejected in the server's name. */
	cli.sport = srv.dport = 40002;
	cli.flags = TCPF_SYN, cli.seq = 9000, cli.ack = 0, cli.payload_len = 0;
	feed(&pl, &cli, ts += (uint64_t)c->gap_s * 1000000, &ev);
	srv.flags = TCPF_RST | TCPF_ACK, srv.seq = 0, srv.ack = 9001, srv.payload_len = 0;
	srv.ttl = c->rst_ttl;
	assert_true(pipeline_packet(&pl, &srv, ts += MS, NULL, &ev, NULL));
	for (i = 0; i < ev.verdict.n_evidence; i++)
		found |= !strncmp(ev.verdict.evidence[i], c->evidence, strlen(c->evidence));
	if (strcmp(rst_class_name(ev.verdict.cls), c->cls) ||
	    strcmp(rst_origin_name(ev.verdict.origin), c->origin) || !found ||
	    ev.verdict.expected_ttl != c->expected_ttl) {
		print_error("IPv%d server TTL %u, reset %u, %u s later: got %s %s expected_ttl %d [",
			    family, c->srv_ttl, c->rst_ttl, c->gap_s,
			    rst_class_name(ev.verdict.cls), rst_origin_name(ev.verdict.origin),
			    ev.verdict.expected_ttl);
		for (i = 0; i < ev.verdict.n_evidence; i++)
			print_error(" %s", ev.verdict.evidence[i]);
		print_error(" ]\n");
		fail();
	}
	pipeline_free(&pl);
}

static void test_fresh_flow(void **state)
{
	static const struct second_syn cases[] = {
		/* A box 1 hop away rejects for a server 3 hops away. */
		{ 61, 63, 5, "firewall", "middlebox", "host-baseline", 61 },
		/* The server's own refusal, same TTL as its other connection. */
		{ 61, 61, 5, "refused", "endpoint", "answers-syn", 61 },
		/* Within the tolerance of one hop: a route that moved. */
		{ 61, 60, 5, "refused", "endpoint", "answers-syn", 61 },
		/* A baseline 11 minutes old says nothing. */
		{ 61, 63, 660, "refused", "endpoint", "answers-syn", -1 },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_second_syn(&cases[i], 4);
		run_second_syn(&cases[i], 6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_guess),
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_fresh_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
