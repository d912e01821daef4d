/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capture copies (src/copies.c): which packets of a direction-recording
 * capture are the second copy of one already judged. The capture side is
 * tests/captures (linktype-sll*.pcap: `tcpdump -i any` on a gateway) and the
 * scenario suite, which explains each gateway's own `-i any` capture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "copies.h"

static const uint8_t CLIENT[4] = { 198, 51, 100, 2 }, SERVER[4] = { 203, 0, 113, 2 };

static struct tcp_packet seg(const uint8_t *src, const uint8_t *dst, uint8_t flags,
			     uint32_t seq, uint8_t ttl, uint8_t dir, uint32_t ifindex)
{
	struct tcp_packet p;

	memset(&p, 0, sizeof(p));
	p.family = 4;
	memcpy(p.src, src, 4);
	memcpy(p.dst, dst, 4);
	p.sport = src == CLIENT ? 40000 : 80;
	p.dport = src == CLIENT ? 80 : 40000;
	p.flags = flags;
	p.seq = seq;
	p.ipid = (uint16_t)seq;
	p.ttl = ttl;
	p.link_dir = dir;
	p.link_ifindex = ifindex;
	return p;
}

static struct copies *fresh(void)
{
	struct copies *c = malloc(sizeof(*c));

	assert_non_null(c);
	copies_init(c);
	return c;
}

/* Forwarded: in on one interface, out on another with the TTL one less. */
static void test_forwarded_pair(void **state)
{
	struct copies *c = fresh();
	struct tcp_packet in = seg(SERVER, CLIENT, TCPF_RST, 7, 64, LINK_DIR_IN, 3);
	struct tcp_packet out = seg(SERVER, CLIENT, TCPF_RST, 7, 63, LINK_DIR_OUT, 2);
	uint32_t first = 0;

	(void)state;
	assert_false(copies_seen(c, &in, 1000, &first));
	assert_true(copies_seen(c, &out, 1010, &first));
	assert_int_equal(first, 3);
	/* A copy is claimed once: the same packet out again is new. */
	assert_false(copies_seen(c, &out, 1020, &first));
	assert_int_equal(c->merged, 1);
	free(c);
}

/* One-sided (only what came in) and duplicated inbound captures are not
 * forwarding copies: each is judged. */
static void test_not_copies(void **state)
{
	struct copies *c = fresh();
	struct tcp_packet in = seg(CLIENT, SERVER, TCPF_SYN, 9, 64, LINK_DIR_IN, 2);
	struct tcp_packet hotter = seg(SERVER, CLIENT, TCPF_RST, 11, 64, LINK_DIR_IN, 3);
	struct tcp_packet up = seg(SERVER, CLIENT, TCPF_RST, 11, 65, LINK_DIR_OUT, 2);
	struct tcp_packet other = seg(SERVER, CLIENT, TCPF_RST, 12, 63, LINK_DIR_OUT, 2);
	uint32_t first;

	(void)state;
	assert_false(copies_seen(c, &in, 1000, &first));
	assert_false(copies_seen(c, &in, 1001, &first));      /* the same, in again */
	assert_false(copies_seen(c, &hotter, 2000, &first));
	assert_false(copies_seen(c, &up, 2001, &first));      /* a TTL that grew */
	assert_false(copies_seen(c, &other, 2002, &first));   /* another seq / IP ID */
	/* Past the window, a packet out is its own. */
	struct tcp_packet late_in = seg(SERVER, CLIENT, TCPF_RST, 13, 64, LINK_DIR_IN, 3);
	struct tcp_packet late_out = seg(SERVER, CLIENT, TCPF_RST, 13, 63, LINK_DIR_OUT, 2);

	assert_false(copies_seen(c, &late_in, 3000, &first));
	assert_false(copies_seen(c, &late_out, 3000 + COPY_WINDOW_US + 1, &first));
	assert_int_equal(c->merged, 0);
	free(c);
}

/* Loopback: out, then in with the TTL unchanged. */
static void test_loopback(void **state)
{
	struct copies *c = fresh();
	struct tcp_packet out = seg(CLIENT, CLIENT, TCPF_SYN, 5, 64, LINK_DIR_OUT, 1);
	struct tcp_packet in = seg(CLIENT, CLIENT, TCPF_SYN, 5, 64, LINK_DIR_IN, 1);
	uint32_t first;

	(void)state;
	assert_false(copies_seen(c, &out, 10, &first));
	assert_true(copies_seen(c, &in, 12, &first));
	free(c);
}

/* What the host sent of its own tells its addresses; a reset does not (a
 * firewall's carries the address of the host it answers for). */
static void test_local_addresses(void **state)
{
	struct copies *c = fresh();
	struct tcp_packet rst = seg(SERVER, CLIENT, TCPF_RST | TCPF_ACK, 0, 64, LINK_DIR_OUT, 2);
	struct tcp_packet syn = seg(CLIENT, SERVER, TCPF_SYN, 1, 64, LINK_DIR_OUT, 2);
	struct tcp_packet crst = seg(CLIENT, SERVER, TCPF_RST, 2, 64, LINK_DIR_OUT, 2);

	(void)state;
	assert_false(copies_src_is_local(c, &rst));
	assert_false(copies_src_is_local(c, &rst));          /* still not: resets teach nothing */
	assert_true(copies_src_is_local(c, &syn));
	assert_true(copies_src_is_local(c, &crst));
	assert_false(copies_src_is_local(c, &rst));
	free(c);
}

/* More packets than slots: the table forgets, never grows or fails. */
static void test_bounded(void **state)
{
	struct copies *c = fresh();
	uint32_t first;

	(void)state;
	for (uint32_t i = 0; i < 4 * COPY_SLOTS; i++) {
		struct tcp_packet in = seg(CLIENT, SERVER, TCPF_ACK, i, 64, LINK_DIR_IN, 2);

		assert_false(copies_seen(c, &in, 100 + i, &first));
	}
	/* The newest are still there. */
	struct tcp_packet out = seg(CLIENT, SERVER, TCPF_ACK, 4 * COPY_SLOTS - 1, 63,
				    LINK_DIR_OUT, 3);

	assert_true(copies_seen(c, &out, 100 + 4 * COPY_SLOTS, &first));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forwarded_pair),
		cmocka_unit_test(test_not_copies),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_local_addresses),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
