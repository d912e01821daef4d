/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Proving a forgery (design §8), the pieces the live hold, the observe-mode
 * amendment and the offline look-ahead share: which verdicts are suspect,
 * whether a packet after a reset shows its claimed sender alive, what proof
 * does to a verdict, and explain's look-ahead through the real pipeline.
 * (The classifier's own table-driven scenarios are test_classify.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"
#include "segflags.h"

/* rst_suspect: the verdicts worth holding or looking ahead for. */
static const struct {
	enum rst_class cls;
	enum rst_origin origin;
	const char *evidence;     /* one fact, or NULL */
	bool suspect;
} suspects[] = {
	{ RST_FIREWALL, ORIGIN_MIDDLEBOX, "seq-unverified", true },
	{ RST_IDLE_TIMEOUT, ORIGIN_MIDDLEBOX, "ttl-mismatch:63/40", true },
	{ RST_INJECTED, ORIGIN_UNKNOWN, "seq-outside-window", true },
	{ RST_UNKNOWN, ORIGIN_UNKNOWN, "ipid-jump", true },
	{ RST_ABORT, ORIGIN_ENDPOINT, "ttl-mismatch:64/50", true },
	{ RST_ABORT, ORIGIN_ENDPOINT, "socket-reset", false },
	{ RST_FIREWALL, ORIGIN_LOCAL_FIREWALL, "made-by-this-host", false },
	{ RST_UNKNOWN, ORIGIN_UNKNOWN, "no-flow-history", false },
	{ RST_HALF_OPEN, ORIGIN_ENDPOINT, NULL, false },
};

static void test_suspect(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(suspects) / sizeof(suspects[0]); i++) {
		struct rst_verdict v = { .cls = suspects[i].cls, .origin = suspects[i].origin };

		if (suspects[i].evidence)
			rst_evidence_add(&v, suspects[i].evidence);
		if (rst_suspect(&v) != suspects[i].suspect) {
			print_error("row %zu (%s %s %s): suspect %d\n", i, rst_class_name(v.cls),
				    rst_origin_name(v.origin), suspects[i].evidence ?: "-",
				    !suspects[i].suspect);
			fail();
		}
	}
}

/* rst_alive_probe_init + rst_sender_alive. The reset's sender is the server
 * (DIR_RESP); before the reset it had sent up to snd_nxt and acked ack (each
 * when its flag is set). Then one packet after the reset. */
#define SEQ DF_SEQ
#define ACK DF_ACK
static const struct {
	const char *name;
	uint8_t known;                /* SEQ | ACK: what the flow had seen of the sender */
	uint32_t snd_nxt, ack;
	uint8_t rst_flags;
	uint32_t rst_seq, rst_ack;
	int dir;                      /* the later packet's direction */
	uint8_t flags;
	uint32_t seq, ack_after;
	uint16_t len;
	bool alive;
} alive_rows[] = {
	{ "data-beyond", SEQ | ACK, 5101, 1101, RA, 5101, 1101, DIR_RESP, PA, 5101, 1101, 100, true },
	{ "ack-moves", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, A, 5101, 1201, 0, true },
	{ "empty-past-seq", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, A, 5201, 1101, 0, true },
	{ "fin-after", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, FA, 5101, 1101, 0, true },
	/* sent before the reset, seen after it: ends at the reset's seq */
	{ "reordered", SEQ | ACK, 5001, 1101, RA, 5101, 1101, DIR_RESP, PA, 5001, 1101, 100, false },
	{ "reordered-old-ack", SEQ | ACK, 5101, 1101, RA, 5101, 1101, DIR_RESP, A, 5101, 1001, 0,
	  false },
	{ "pure-ack-at-seq", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, A, 5101, 1101, 0, false },
	/* a socket's RA acks what it had: a reordered earlier segment acks no more */
	{ "ra-ack-bound", SEQ | ACK, 5101, 1001, RA, 5101, 1101, DIR_RESP, A, 5101, 1101, 0, false },
	/* a retransmission of what was seen before a reset with a lower seq */
	{ "retransmit-below-snd-nxt", SEQ | ACK, 6101, 1101, R, 5101, 0, DIR_RESP, PA, 5101, 1101,
	  1000, false },
	{ "new-beyond-snd-nxt", SEQ | ACK, 6101, 1101, R, 5101, 0, DIR_RESP, PA, 6101, 1101, 100,
	  true },
	/* the forger's seq ahead of the sender: only data beyond it counts */
	{ "forged-ahead-short", SEQ | ACK, 5101, 1101, R, 6101, 0, DIR_RESP, PA, 5101, 1101, 1000,
	  false },
	{ "forged-ahead-long", SEQ | ACK, 5101, 1101, R, 6101, 0, DIR_RESP, PA, 5101, 1101, 1448,
	  true },
	/* sequence space wraps 2^32 */
	{ "wrap-alive", SEQ | ACK, 0xffffff00u, 1101, RA, 0xffffff00u, 1101, DIR_RESP, PA,
	  0xffffff00u, 1101, 0x200, true },
	{ "wrap-reordered", SEQ | ACK, 0x100, 1101, RA, 0x100, 1101, DIR_RESP, PA, 0xfffffff0u,
	  1101, 0x110, false },
	{ "wrap-ack-moves", SEQ | ACK, 5101, 0xfffffff0u, R, 5101, 0, DIR_RESP, A, 5101, 0x10, 0,
	  true },
	/* excluded whatever their numbers say */
	{ "rst-excluded", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, RA, 9101, 2101, 0, false },
	{ "syn-excluded", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, S_, 9101, 0, 0, false },
	{ "other-direction", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_ORIG, PA, 9101, 9101, 100,
	  false },
	/* RA seq 0 answered a segment without ACK: the seq is nobody's position */
	{ "ra-seq0-no-history", 0, 0, 0, RA, 0, 1001, DIR_RESP, PA, 0x80000000u, 1001, 10,
	  false },
	{ "ra-seq0-snd-nxt", SEQ, 5101, 0, RA, 0, 1001, DIR_RESP, PA, 5101, 1001, 10, true },
	{ "ra-seq0-ack-moves", 0, 0, 0, RA, 0, 1001, DIR_RESP, A, 77, 1101, 0, true },
	/* nothing known of the sender's acks, and the reset has none */
	{ "ack-unknown", SEQ, 5101, 0, R, 5101, 0, DIR_RESP, A, 5101, 0x7fffffffu, 0, false },
};
#undef SEQ
#undef ACK

static void test_sender_alive(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(alive_rows) / sizeof(alive_rows[0]); i++) {
		struct flow f;
		struct tcp_packet rst = { .family = 4 }, pkt = { .family = 4 };
		struct rst_alive_probe probe;

		memset(&f, 0, sizeof(f));
		f.dir[DIR_RESP].flags = alive_rows[i].known | DF_SEEN;
		f.dir[DIR_RESP].snd_nxt = alive_rows[i].snd_nxt;
		f.dir[DIR_RESP].ack = alive_rows[i].ack;
		rst.flags = alive_rows[i].rst_flags;
		rst.seq = alive_rows[i].rst_seq;
		rst.ack = alive_rows[i].rst_ack;
		pkt.flags = alive_rows[i].flags;
		pkt.seq = alive_rows[i].seq;
		pkt.ack = alive_rows[i].ack_after;
		pkt.payload_len = alive_rows[i].len;
		rst_alive_probe_init(&probe, &rst, &f, DIR_RESP);
		assert_int_equal(probe.dir, DIR_RESP);
		if (rst_sender_alive(&probe, &pkt, alive_rows[i].dir) != alive_rows[i].alive) {
			print_error("%s: alive %d, want %d\n", alive_rows[i].name,
				    !alive_rows[i].alive, alive_rows[i].alive);
			fail();
		}
	}
}

/* rst_mark_injected_alive: the class, origin, confidence and evidence after. */
static const struct {
	enum rst_class cls;
	enum rst_origin origin;
	unsigned n_before;            /* evidence facts before ("e0", "e1"... after the first) */
	const char *first;
	enum rst_origin origin_after;
} marks[] = {
	{ RST_FIREWALL, ORIGIN_MIDDLEBOX, 2, "ttl-mismatch:63/40", ORIGIN_MIDDLEBOX },
	{ RST_INJECTED, ORIGIN_MIDDLEBOX, 2, "ttl-mismatch:63/52", ORIGIN_MIDDLEBOX },
	/* a blind forger's seq placed it off the path: still unknown */
	{ RST_INJECTED, ORIGIN_UNKNOWN, 1, "seq-outside-window", ORIGIN_UNKNOWN },
	{ RST_ABORT, ORIGIN_ENDPOINT, 1, "ttl-mismatch:64/50", ORIGIN_MIDDLEBOX },
	{ RST_UNKNOWN, ORIGIN_UNKNOWN, 1, "ipid-jump", ORIGIN_MIDDLEBOX },
	/* evidence full: the deciding fact takes the last slot */
	{ RST_FIREWALL, ORIGIN_MIDDLEBOX, RST_EVIDENCE_MAX, "ttl-mismatch:63/40", ORIGIN_MIDDLEBOX },
};

static void test_mark_injected_alive(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		struct rst_verdict v = { .cls = marks[i].cls, .origin = marks[i].origin,
					 .confidence = 0.6f };
		unsigned k, n_after;

		rst_evidence_add(&v, marks[i].first);
		for (k = 1; k < marks[i].n_before; k++) {
			char name[16];

			snprintf(name, sizeof(name), "e%u", k);
			rst_evidence_add(&v, name);
		}
		rst_mark_injected_alive(&v);
		rst_mark_injected_alive(&v);    /* once is enough: no second fact */
		n_after = marks[i].n_before < RST_EVIDENCE_MAX ? marks[i].n_before + 1
							       : RST_EVIDENCE_MAX;
		assert_int_equal(v.cls, RST_INJECTED);
		assert_int_equal(v.origin, marks[i].origin_after);
		assert_true(v.confidence > 0.85f && v.confidence < 0.95f);
		assert_int_equal(v.n_evidence, n_after);
		assert_string_equal(v.evidence[0], marks[i].first);
		assert_string_equal(v.evidence[n_after - 1], "sender-alive-after-reset");
		assert_true(rst_suspect(&v));
	}
}

/* The offline look-ahead through the pipeline: events in capture order, a
 * suspect one decided by its sender's next packets within the window, at
 * most max waiting (the oldest decided early past that, counted). */
struct emitted {
	unsigned n;
	uint16_t port[8];            /* the client port of each event's flow */
	enum rst_class cls[8];
	int stop_at;                 /* return non-zero at this event (1-based), 0 never */
};

static int collect(const struct rst_event *ev, void *arg)
{
	struct emitted *e = arg;

	assert_true(e->n < 8);
	e->port[e->n] = ev->pkt->sport == 80 ? ev->pkt->dport : ev->pkt->sport;
	e->cls[e->n] = ev->verdict.cls;
	e->n++;
	return e->stop_at && (int)e->n == e->stop_at ? 7 : 0;
}

/* One IPv4 segment between 198.51.100.10:port and 203.0.113.20:80 ('C' or 'S'). */
static struct tcp_packet la_seg(char who, uint16_t port, uint8_t flags, uint32_t seq,
				uint32_t ack, uint16_t len, uint8_t ttl)
{
	static const uint8_t c[4] = { 198, 51, 100, 10 }, s[4] = { 203, 0, 113, 20 };
	struct tcp_packet p;

	memset(&p, 0, sizeof(p));
	p.family = 4;
	memcpy(p.src, who == 'C' ? c : s, 4);
	memcpy(p.dst, who == 'C' ? s : c, 4);
	p.sport = who == 'C' ? port : 80;
	p.dport = who == 'C' ? 80 : port;
	p.flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.payload_len = len;
	p.window = (flags & TCPF_RST) ? 0 : 502;
	p.ttl = ttl ? ttl : who == 'C' ? 64 : 63;
	return p;
}

static int la_feed(struct pipeline *pl, struct lookahead *la, struct emitted *e,
		   struct tcp_packet p, uint64_t *ts, uint32_t dt_ms)
{
	*ts += (uint64_t)dt_ms * 1000;
	return pipeline_packet_lookahead(pl, la, &p, *ts, NULL, collect, e);
}

/* The ESTABLISHED exchange of the scenarios on client port port. */
static void la_establish(struct pipeline *pl, struct lookahead *la, struct emitted *e,
			 uint16_t port, uint64_t *ts)
{
	assert_int_equal(la_feed(pl, la, e, la_seg('C', port, S_, 1000, 0, 0, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('S', port, SA, 5000, 1001, 0, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('C', port, A, 1001, 5001, 0, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('C', port, PA, 1001, 5001, 100, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('S', port, PA, 5001, 1101, 100, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('C', port, A, 1101, 5101, 0, 0), ts, 1), 0);
}

static void test_lookahead(void **state)
{
	struct pipeline pl;
	struct lookahead la;
	struct emitted e = { 0 };
	uint64_t ts = 1700000000ULL * 1000000;

	(void)state;
	assert_int_equal(pipeline_init(&pl, 16), 0);
	lookahead_init(&la, 2, LOOKAHEAD_WINDOW_US);
	la_establish(&pl, &la, &e, 40001, &ts);
	la_establish(&pl, &la, &e, 40002, &ts);
	la_establish(&pl, &la, &e, 40003, &ts);
	la_establish(&pl, &la, &e, 40004, &ts);
	/* forged on 40001 (exact seq, TTL 40): waits */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40001, RA, 5101, 1101, 0, 40), &ts, 5), 0);
	/* a genuine abort on 40002 waits behind it */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('C', 40002, RA, 1101, 5101, 0, 0), &ts, 1), 0);
	assert_int_equal(e.n, 0);
	/* 40001's server talks on: injected; both events out, in order */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40001, PA, 5101, 1101, 50, 0), &ts, 1), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.port[0], 40001);
	assert_int_equal(e.cls[0], RST_INJECTED);
	assert_int_equal(e.port[1], 40002);
	assert_int_equal(e.cls[1], RST_ABORT);
	assert_int_equal(pl.st.by_class[RST_INJECTED], 1);
	assert_int_equal(pl.st.by_class[RST_FIREWALL], 0);
	/* two forged resets and a genuine one: a third event with two waiting
	 * decides the oldest early (counted); the newer one times out */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40003, RA, 5101, 1101, 0, 40), &ts, 1), 0);
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40004, RA, 5101, 1101, 0, 40), &ts, 1), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('C', 40002, RA, 1101, 5101, 0, 0), &ts, 1), 0);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.port[2], 40003);
	assert_int_equal(e.cls[2], RST_FIREWALL);
	assert_int_equal(la.st.cut, 1);
	/* 40003's server is alive, too late: its event is out already */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40003, PA, 5101, 1101, 50, 0), &ts, 1), 0);
	/* 40004's server speaks 2.5 s after its reset: past the window */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40004, PA, 5101, 1101, 50, 0), &ts,
				 2500), 0);
	assert_int_equal(e.n, 5);
	assert_int_equal(e.port[3], 40004);
	assert_int_equal(e.cls[3], RST_FIREWALL);
	assert_int_equal(e.port[4], 40002);
	assert_int_equal(lookahead_flush(&la, collect, &e), 0);
	assert_int_equal(e.n, 5);
	assert_int_equal(la.st.held, 3);
	assert_int_equal(la.st.alive, 1);
	assert_int_equal(pl.st.by_class[RST_FIREWALL], 2);

	/* a reset still waiting at the end is decided by the flush; an emit
	 * that asks to stop is obeyed and its value returned */
	memset(&e, 0, sizeof(e));
	e.stop_at = 1;
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40001, RA, 5151, 1101, 0, 40), &ts, 1), 0);
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40003, RA, 5151, 1101, 0, 40), &ts, 1), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(lookahead_flush(&la, collect, &e), 7);
	assert_int_equal(e.n, 1);
	lookahead_free(&la);
	pipeline_free(&pl);
}

/* An event held by the look-ahead outlives the packet's context (explain's
 * is on feed_frame's stack): what the writers and the rule naming read from
 * ev->ctx at emit time must be the event's own copy. The context here is on
 * the heap and freed before the flush, so a kept pointer is a use after free
 * under ASan (it was: t-rulenames once, then every time in one CI run). */
struct ctx_seen {
	unsigned n;
	int hook;
	bool local;
};

static int collect_ctx(const struct rst_event *ev, void *arg)
{
	struct ctx_seen *c = arg;

	c->n++;
	c->hook = ev->ctx ? (int)ev->ctx->hook : -1;
	c->local = ev->ctx && ev->ctx->src_is_local;
	return 0;
}

static void test_lookahead_own_context(void **state)
{
	struct pipeline pl;
	struct lookahead la;
	struct emitted e = { 0 };
	struct ctx_seen seen = { 0 };
	struct rst_context *ctx = malloc(sizeof(*ctx));
	struct tcp_packet forged = la_seg('S', 40001, RA, 5101, 1101, 0, 40);
	uint64_t ts = 1700000000ULL * 1000000;

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(pipeline_init(&pl, 16), 0);
	lookahead_init(&la, 4, LOOKAHEAD_WINDOW_US);
	la_establish(&pl, &la, &e, 40001, &ts);
	memset(ctx, 0, sizeof(*ctx));
	ctx->hook = HOOK_OUTPUT;
	ctx->src_is_local = true;
	assert_int_equal(pipeline_packet_lookahead(&pl, &la, &forged, ts + 5000, ctx, collect_ctx,
						   &seen), 0);
	assert_int_equal(seen.n, 0);    /* suspect: it waits */
	free(ctx);
	assert_int_equal(lookahead_flush(&la, collect_ctx, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.hook, HOOK_OUTPUT);
	assert_true(seen.local);
	lookahead_free(&la);
	pipeline_free(&pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suspect),
		cmocka_unit_test(test_lookahead_own_context),
		cmocka_unit_test(test_sender_alive),
		cmocka_unit_test(test_mark_injected_alive),
		cmocka_unit_test(test_lookahead),
	};

	return cmocka_run_group_tests_name("forgery", tests, NULL, NULL);
}
