/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flow table: lookups from both directions, originator inference, reopening
 * a 4-tuple, eviction when full, expiry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow.h"

static struct tcp_packet seg(uint32_t client, uint16_t cport, bool from_client, uint8_t flags,
			     uint32_t seq, uint32_t ack)
{
	struct tcp_packet p;
	uint8_t c[4] = { 198, 51, 100, (uint8_t)client }, s[4] = { 203, 0, 113, 20 };

	memset(&p, 0, sizeof(p));
	p.family = 4;
	memcpy(p.src, from_client ? c : s, 4);
	memcpy(p.dst, from_client ? s : c, 4);
	p.sport = from_client ? cport : 443;
	p.dport = from_client ? 443 : cport;
	p.flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.ttl = 64;
	return p;
}

static struct flow *feed(struct flow_table *t, const struct tcp_packet *p, uint64_t ts, int *dir)
{
	struct flow *f = flow_lookup(t, p, ts, true, dir);

	assert_non_null(f);
	flow_update(f, *dir, p, ts);
	return f;
}

static void test_both_directions(void **state)
{
	struct flow_table *t = flow_table_new(8);
	struct tcp_packet syn = seg(1, 40000, true, TCPF_SYN, 100, 0);
	struct tcp_packet synack = seg(1, 40000, false, TCPF_SYN | TCPF_ACK, 900, 101);
	struct flow *f1, *f2;
	int d1, d2;

	(void)state;
	f1 = feed(t, &syn, 1, &d1);
	f2 = feed(t, &synack, 2, &d2);
	assert_ptr_equal(f1, f2);
	assert_int_equal(d1, DIR_ORIG);
	assert_int_equal(d2, DIR_RESP);
	assert_int_equal(f1->dir[DIR_ORIG].isn, 100);
	assert_int_equal(f1->dir[DIR_RESP].isn, 900);
	assert_int_equal(f1->dir[DIR_RESP].ack, 101);
	assert_string_equal(flow_state_name(f1), "SYN_RECV");
	assert_false(f1->orig_guessed);
	flow_table_free(t);
}

static void test_synack_first_flips(void **state)
{
	struct flow_table *t = flow_table_new(8);
	struct tcp_packet synack = seg(1, 40000, false, TCPF_SYN | TCPF_ACK, 900, 101);
	struct flow *f;
	int d;

	(void)state;
	f = feed(t, &synack, 1, &d);
	assert_int_equal(d, DIR_RESP);
	assert_int_equal(f->key.port[DIR_ORIG], 40000);
	flow_table_free(t);
}

static void test_guess_corrected_by_syn(void **state)
{
	struct flow_table *t = flow_table_new(8);
	/* Mid-stream packet from the server port first: guessed originator is
	 * the client (higher port); a later SYN from the server side wins. */
	struct tcp_packet data = seg(1, 40000, true, TCPF_ACK, 100, 900);
	struct tcp_packet syn = seg(1, 40000, false, TCPF_SYN, 5, 0);
	struct flow *f;
	int d;

	(void)state;
	f = feed(t, &data, 1, &d);
	assert_true(f->orig_guessed);
	assert_int_equal(d, DIR_ORIG);
	f = feed(t, &syn, 2, &d);
	assert_false(f->orig_guessed);
	assert_int_equal(d, DIR_ORIG);
	assert_int_equal(f->key.port[DIR_ORIG], 443);
	assert_int_equal(f->dir[DIR_RESP].pkts, 1);
	flow_table_free(t);
}

static void test_reopen_after_reset(void **state)
{
	struct flow_table *t = flow_table_new(8);
	struct tcp_packet syn = seg(1, 40000, true, TCPF_SYN, 100, 0);
	struct tcp_packet rst = seg(1, 40000, false, TCPF_RST | TCPF_ACK, 0, 101);
	struct tcp_packet syn2 = seg(1, 40000, true, TCPF_SYN, 7000, 0);
	struct flow *f;
	uint64_t id;
	int d;

	(void)state;
	f = feed(t, &syn, 1, &d);
	feed(t, &rst, 2, &d);
	id = f->id;
	/* A retransmission of the refused SYN is the same attempt... */
	f = feed(t, &syn, 3, &d);
	assert_int_equal(f->id, id);
	/* ...a SYN with a new ISN opens a new connection on the 4-tuple. */
	f = feed(t, &syn2, 4, &d);
	assert_int_not_equal(f->id, id);
	assert_int_equal(f->incarnation, 1);
	assert_int_equal(f->dir[DIR_ORIG].pkts, 1);
	assert_int_equal(f->dir[DIR_RESP].pkts, 0);
	flow_table_free(t);
}

static void test_eviction_lru(void **state)
{
	struct flow_table *t = flow_table_new(4);
	struct flow_stats st;
	struct tcp_packet p;
	int d, i;

	(void)state;
	for (i = 0; i < 4; i++) {
		p = seg((uint32_t)i, (uint16_t)(40000 + i), true, TCPF_SYN, 1, 0);
		feed(t, &p, (uint64_t)i * 1000000, &d);
	}
	/* Touch flow 0 so flow 1 becomes the least recently seen. */
	p = seg(0, 40000, true, TCPF_SYN, 1, 0);
	feed(t, &p, 10000000, &d);
	p = seg(9, 40009, true, TCPF_SYN, 1, 0);
	feed(t, &p, 11000000, &d);
	flow_table_stats(t, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.active, 4);
	p = seg(1, 40001, true, TCPF_SYN, 1, 0);
	assert_null(flow_lookup(t, &p, 12000000, false, &d));
	p = seg(0, 40000, true, TCPF_SYN, 1, 0);
	assert_non_null(flow_lookup(t, &p, 12000000, false, &d));
	flow_table_free(t);
}

/* LRU order is kept to the second (LRU_EPOCH_SHIFT): touches within a second
 * do not reorder, so the eviction victim is never more than that fresher
 * than the least recently seen flow, and a flow seen in a later second
 * always outlives one that was not. */
static void test_eviction_lru_resolution(void **state)
{
	struct flow_table *t = flow_table_new(3);
	struct flow_stats st;
	struct tcp_packet p;
	int d, i;

	(void)state;
	for (i = 0; i < 3; i++) {
		p = seg((uint32_t)i, (uint16_t)(40000 + i), true, TCPF_SYN, 1, 0);
		feed(t, &p, 5000000 + (uint64_t)i, &d);
	}
	/* Flow 0 again in the same second: it stays first in line... */
	p = seg(0, 40000, true, TCPF_SYN, 1, 0);
	feed(t, &p, 5000100, &d);
	p = seg(7, 40007, true, TCPF_SYN, 1, 0);
	feed(t, &p, 5000200, &d);
	p = seg(0, 40000, true, TCPF_SYN, 1, 0);
	assert_null(flow_lookup(t, &p, 5000300, false, &d));
	/* ...while flow 1, seen again seconds later, outlives flow 2. */
	p = seg(1, 40001, true, TCPF_SYN, 1, 0);
	feed(t, &p, 9000000, &d);
	p = seg(8, 40008, true, TCPF_SYN, 1, 0);
	feed(t, &p, 9000100, &d);
	p = seg(2, 40002, true, TCPF_SYN, 1, 0);
	assert_null(flow_lookup(t, &p, 9000200, false, &d));
	p = seg(1, 40001, true, TCPF_SYN, 1, 0);
	assert_non_null(flow_lookup(t, &p, 9000200, false, &d));
	flow_table_stats(t, &st);
	assert_int_equal(st.evicted, 2);
	flow_table_free(t);
}

static void test_expire(void **state)
{
	struct flow_table *t = flow_table_new(16);
	struct flow_stats st;
	struct tcp_packet p;
	int d, i;

	(void)state;
	for (i = 0; i < 10; i++) {
		p = seg((uint32_t)i, (uint16_t)(40000 + i), true, TCPF_SYN, 1, 0);
		feed(t, &p, (uint64_t)i * 1000000, &d);
	}
	assert_int_equal(flow_expire(t, 10000000, 5000000), 5);
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 5);
	/* Expired entries are reused before fresh ones. */
	for (i = 20; i < 31; i++) {
		p = seg((uint32_t)i, (uint16_t)(40000 + i), true, TCPF_SYN, 1, 0);
		feed(t, &p, 20000000, &d);
	}
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 16);
	assert_int_equal(st.evicted, 0);
	flow_table_free(t);
}

static void test_reset_keeps_baselines(void **state)
{
	struct flow_table *t = flow_table_new(4);
	struct tcp_packet a = seg(1, 40000, false, TCPF_ACK, 900, 100);
	struct tcp_packet r = seg(1, 40000, false, TCPF_RST, 5000, 0);
	struct flow *f;
	int d;

	(void)state;
	a.ttl = 63;
	r.ttl = 40;
	f = feed(t, &a, 1, &d);
	feed(t, &r, 2, &d);
	assert_int_equal(f->dir[d].ttl_min, 63);
	assert_int_equal(f->dir[d].snd_nxt, 900);
	assert_int_equal(f->dir[d].rsts, 1);
	assert_int_equal(f->dir[d].rst_seq, 5000);
	flow_table_free(t);
}

static void test_keepalive_counted(void **state)
{
	struct flow_table *t = flow_table_new(4);
	struct tcp_packet p = seg(1, 40000, true, TCPF_ACK | TCPF_PSH, 100, 900);
	struct flow *f;
	int d;

	(void)state;
	p.payload_len = 10;
	f = feed(t, &p, 1, &d);
	p.payload_len = 0;
	p.flags = TCPF_ACK;
	p.seq = 109;
	feed(t, &p, 2, &d);
	p.payload_len = 1;
	feed(t, &p, 3, &d);
	assert_int_equal(f->dir[DIR_ORIG].keepalives, 2);
	assert_int_equal(f->dir[DIR_ORIG].snd_nxt, 110);
	flow_table_free(t);
}

static void test_bad_capacity(void **state)
{
	(void)state;
	assert_null(flow_table_new(0));
	assert_true(flow_bytes_per_flow() <= 256);
}

/* Sources that differ in address and port by the same bits once all hashed
 * alike (the port was XORed onto the address word): 4096 forged resets on
 * one chain, every lookup walking all of them. */
static void test_hash_forged_family(void **state)
{
	struct flow_table *t = flow_table_new(8192);
	struct flow_stats st;
	uint64_t seeds[2] = { 0, 0x5eed5eed5eed5eedULL };
	int dir;

	(void)state;
	for (int k = 0; k < 2; k++) {
		flow_table_free(t);
		t = flow_table_new(8192);
		assert_int_equal(flow_table_seed(t, seeds[k]), 0);
		for (uint32_t i = 0; i < 4096; i++) {
			struct tcp_packet p = seg(1, 1, true, TCPF_RST, 1, 0);

			p.src[0] = (uint8_t)(i & 0xff);
			p.src[1] = (uint8_t)(i >> 8);
			p.sport = (uint16_t)(0x9000 ^ i);
			assert_non_null(flow_lookup(t, &p, 1000000 + i, true, &dir));
		}
		flow_table_stats(t, &st);
		assert_int_equal(st.active, 4096);
		/* 4096 keys in 8192 slots: the longest chain is a handful. */
		assert_in_range(st.longest_chain, 1, 12);
	}
	flow_table_free(t);
}

/* The seed keys the hash (flow ids follow it) and is fixed once flows exist. */
static void test_hash_seed(void **state)
{
	struct tcp_packet p = seg(1, 40000, true, TCPF_SYN, 100, 0);
	uint64_t id[3];
	int dir;

	(void)state;
	for (int k = 0; k < 3; k++) {
		struct flow_table *t = flow_table_new(8);

		assert_int_equal(flow_table_seed(t, k == 2 ? 7 : 0), 0);
		id[k] = feed(t, &p, 1000, &dir)->id;
		errno = 0;
		assert_int_equal(flow_table_seed(t, 1), -1);
		assert_int_equal(errno, EBUSY);
		flow_table_free(t);
	}
	assert_true(id[0] == id[1]);    /* same seed, same packets: reproducible */
	assert_true(id[0] != id[2]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_synack_first_flips),
		cmocka_unit_test(test_guess_corrected_by_syn),
		cmocka_unit_test(test_reopen_after_reset),
		cmocka_unit_test(test_eviction_lru),
		cmocka_unit_test(test_eviction_lru_resolution),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_reset_keeps_baselines),
		cmocka_unit_test(test_keepalive_counted),
		cmocka_unit_test(test_bad_capacity),
		cmocka_unit_test(test_hash_forged_family),
		cmocka_unit_test(test_hash_seed),
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
