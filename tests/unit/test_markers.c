/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The marker ring (src/markers.c): which queued resets have had their own
 * copy read in the log group. Pure bookkeeping; the live side is
 * tests/live/t-copies.sh (order) and t-flood.sh (the markers' rate limit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "markers.h"

/* A 128-byte "packet" whose bytes at offset 30 (inside the key) say i. */
static const uint8_t *pkt(unsigned i)
{
	static uint8_t buf[8][128];
	uint8_t *p = buf[i % 8];

	memset(p, 0x45, 128);
	p[30] = (uint8_t)i;
	p[31] = (uint8_t)(i >> 8);
	return p;
}

static void test_same_packet(void **state)
{
	uint8_t a[128], b[128];

	(void)state;
	memset(a, 1, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(marker_same(a, 128, b, 128));
	/* Past the key, packets may differ (copy ranges, payload) */
	b[MARKER_KEY + 3] = 9;
	assert_true(marker_same(a, 128, b, 100));
	/* Inside it they may not, nor may the lengths of short packets. */
	b[MARKER_KEY - 1] = 9;
	assert_false(marker_same(a, 128, b, 128));
	assert_false(marker_same(a, 40, a, 60));
	assert_true(marker_same(a, 40, a, 40));
}

/* Claiming a marker drops the older ones (their resets never came) and
 * keeps the newer ones (their resets are still in the queue). */
static void test_claim_order(void **state)
{
	static struct marker_ring r;

	(void)state;
	for (unsigned i = 1; i <= 5; i++)
		marker_ring_push(&r, pkt(i), 128);
	assert_true(marker_ring_claim(&r, pkt(3), 128));
	assert_int_equal(r.n, 2);
	assert_false(marker_ring_claim(&r, pkt(1), 128));   /* dropped with 2 */
	assert_int_equal(r.n, 2);                           /* a miss changes nothing */
	assert_true(marker_ring_claim(&r, pkt(4), 128));
	assert_true(marker_ring_claim(&r, pkt(5), 128));
	assert_int_equal(r.n, 0);
	assert_false(marker_ring_claim(&r, pkt(5), 128));
}

/* Full: the oldest goes, the ring keeps the newest MARKER_RING; it wraps. */
static void test_full_wraps(void **state)
{
	static struct marker_ring r;
	uint8_t p[80];

	(void)state;
	memset(p, 0, sizeof(p));
	for (unsigned i = 0; i < MARKER_RING + 10; i++) {
		memcpy(p + 40, &i, sizeof(i));
		marker_ring_push(&r, p, sizeof(p));
	}
	assert_int_equal(r.n, MARKER_RING);
	for (unsigned i = 0; i < 10; i++) {
		memcpy(p + 40, &i, sizeof(i));
		assert_false(marker_ring_claim(&r, p, sizeof(p)));
	}
	unsigned last = MARKER_RING + 9;

	memcpy(p + 40, &last, sizeof(last));
	assert_true(marker_ring_claim(&r, p, sizeof(p)));
	assert_int_equal(r.n, 0);
	marker_ring_push(&r, p, sizeof(p));
	marker_ring_clear(&r);
	assert_false(marker_ring_claim(&r, p, sizeof(p)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_packet),
		cmocka_unit_test(test_claim_order),
		cmocka_unit_test(test_full_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
