/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hold table (src/hold.c): suspect resets watched for what their claimed
 * sender does next. Pure bookkeeping; the live side is tests/scenarios
 * (injected, heldsilent, injectobs) and tests/live/t-queue.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hold.h"

static const uint8_t CLIENT[4] = { 198, 51, 100, 2 }, SERVER[4] = { 203, 0, 113, 2 };

static struct tcp_packet seg(const uint8_t *src, const uint8_t *dst, uint16_t sport,
			     uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
			     uint16_t len)
{
	struct tcp_packet p;

	memset(&p, 0, sizeof(p));
	p.family = 4;
	memcpy(p.src, src, 4);
	memcpy(p.dst, dst, 4);
	p.sport = sport;
	p.dport = dport;
	p.flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.payload_len = len;
	p.ttl = 64;
	return p;
}

/* Hold the server's reset (seq 5000) of flow client:40000 <-> server:80,
 * as the daemon does. */
static struct held_reset *hold_server_reset(struct hold_table *t, uint64_t deadline)
{
	struct tcp_packet rst = seg(SERVER, CLIENT, 80, 40000, TCPF_RST, 5000, 0, 0);
	struct rst_context ctx = { .hook = HOOK_PREROUTING };
	struct rst_event ev;
	struct held_reset *h = hold_add(t);

	assert_non_null(h);
	memset(&ev, 0, sizeof(ev));
	ev.pkt = &rst;
	ev.ctx = &ctx;
	ev.in_iface = "gs0";
	kept_event_set(&h->k, &ev);
	rst_alive_probe_init(&h->probe, &rst, NULL, DIR_RESP);
	h->until_us = deadline;
	return h;
}

static void test_hold_time(void **state)
{
	(void)state;
	const uint64_t lo = HOLD_FLOOR_US, hi = HOLD_CAP_US;

	assert_int_equal(hold_time_us(0, lo, hi), HOLD_FLOOR_US);      /* no handshake seen */
	assert_int_equal(hold_time_us(100, lo, hi), HOLD_FLOOR_US);    /* LAN: the floor */
	assert_int_equal(hold_time_us(40000, lo, hi), 80000);          /* two round trips */
	assert_int_equal(hold_time_us(150000, lo, hi), HOLD_CAP_US);   /* the cap */
	assert_int_equal(hold_time_us(UINT32_MAX, lo, hi), HOLD_CAP_US);
	assert_int_equal(hold_time_us(100, 5000000, 5000000), 5000000); /* a test's fixed hold */
}

/* The event is kept whole: its pointers aim into the entry, not at the
 * caller's stack, which is gone when the reset is decided. */
static void test_kept_event_owns_its_data(void **state)
{
	struct hold_table t;
	struct held_reset *h;

	(void)state;
	memset(&t, 0, sizeof(t));
	h = hold_server_reset(&t, 100);
	assert_ptr_equal(h->k.ev.pkt, &h->k.pkt);
	assert_ptr_equal(h->k.ev.ctx, &h->k.ctx);
	assert_ptr_equal(h->k.ev.in_iface, h->k.ifname);
	assert_string_equal(h->k.ifname, "gs0");
	assert_null(h->k.pkt.payload);
	assert_int_equal(h->k.pkt.seq, 5000);
}

static void test_alive_matches_sender_only(void **state)
{
	struct hold_table t;
	struct held_reset *h;
	struct tcp_packet p;

	(void)state;
	memset(&t, 0, sizeof(t));
	h = hold_server_reset(&t, 100);
	/* The client's packets say nothing of the server. */
	p = seg(CLIENT, SERVER, 40000, 80, TCPF_ACK, 900, 5000, 10);
	assert_null(hold_find_alive(&t, &p));
	/* Another flow of the same hosts. */
	p = seg(SERVER, CLIENT, 80, 40001, TCPF_ACK, 5000, 900, 100);
	assert_null(hold_find_alive(&t, &p));
	/* The server's further resets are not life. */
	p = seg(SERVER, CLIENT, 80, 40000, TCPF_RST, 5000, 0, 0);
	assert_null(hold_find_alive(&t, &p));
	/* The server's data past the reset's seq is. */
	p = seg(SERVER, CLIENT, 80, 40000, TCPF_ACK, 5000, 900, 100);
	assert_ptr_equal(hold_find_alive(&t, &p), h);
}

static void test_deadlines(void **state)
{
	struct hold_table t;
	struct held_reset *a, *b;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(hold_next_due(&t), UINT64_MAX);
	assert_null(hold_first(&t));
	a = hold_server_reset(&t, 300);
	b = hold_server_reset(&t, 200);
	assert_int_equal(t.n, 2);
	assert_int_equal(hold_next_due(&t), 200);
	assert_null(hold_find_due(&t, 199));
	assert_ptr_equal(hold_find_due(&t, 200), b);
	hold_remove(&t, b);
	hold_remove(&t, b);                      /* twice: no harm, counted once */
	assert_int_equal(t.n, 1);
	assert_int_equal(hold_next_due(&t), 300);
	assert_ptr_equal(hold_first(&t), a);
	hold_remove(&t, a);
	assert_int_equal(t.n, 0);
	assert_null(hold_first(&t));
}

/* Full: hold_add says so, and a freed entry is used again. */
static void test_full(void **state)
{
	static struct hold_table t;
	struct held_reset *first = NULL;

	(void)state;
	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < HOLD_MAX; i++) {
		struct held_reset *h = hold_add(&t);

		assert_non_null(h);
		if (!first)
			first = h;
	}
	assert_int_equal(t.n, HOLD_MAX);
	assert_null(hold_add(&t));
	hold_remove(&t, first);
	assert_ptr_equal(hold_add(&t), first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_time),
		cmocka_unit_test(test_kept_event_owns_its_data),
		cmocka_unit_test(test_alive_matches_sender_only),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
