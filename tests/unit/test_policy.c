/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Policy (enforce decisions, mark layout) and the per-source rate limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "ratelimit.h"

static struct rst_verdict verdict_of(enum rst_class c, enum rst_origin o)
{
	struct rst_verdict v;

	memset(&v, 0, sizeof(v));
	v.cls = c;
	v.origin = o;
	return v;
}

static void test_mask_validation(void **state)
{
	struct policy p;

	(void)state;
	assert_int_equal(policy_init(&p, MODE_OBSERVE, 0x00ff0000), 0);
	assert_int_equal(p.mark_shift, 16);
	assert_int_equal(policy_init(&p, MODE_OBSERVE, 0x3f), 0);
	assert_int_equal(policy_init(&p, MODE_OBSERVE, 0xffffffff), 0);
	errno = 0;
	assert_int_equal(policy_init(&p, MODE_OBSERVE, 0x1f), -1);      /* 5 bits */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(policy_init(&p, MODE_OBSERVE, 0x00ff00ff), -1); /* not contiguous */
	assert_int_equal(policy_init(&p, MODE_OBSERVE, 0), -1);
}

static void test_mark_layout(void **state)
{
	struct policy p;
	struct rst_verdict v = verdict_of(RST_INJECTED, ORIGIN_MIDDLEBOX);

	(void)state;
	assert_int_equal(policy_init(&p, MODE_ENFORCE, 0x00ff0000), 0);
	/* class code = enum + 1 in the low nibble of the field */
	assert_int_equal(policy_mark(&p, &v, false, false), (RST_INJECTED + 1u) << 16);
	assert_int_equal(policy_mark(&p, &v, true, true), ((RST_INJECTED + 1u) | 0x90) << 16);
	assert_int_equal(policy_watch_bit(&p), 0x00800000u);
	assert_int_equal(policy_mark(&p, &v, true, true) & ~p.mark_mask, 0);
	assert_int_equal(policy_init(&p, MODE_ENFORCE, 0xfc000000), 0);
	assert_int_equal(policy_mark(&p, &v, true, true) & ~0xfc000000u, 0);
	assert_int_equal(policy_watch_bit(&p), 0x80000000u);
}

static void test_enforce(void **state)
{
	struct policy p;
	const char *why, *bad = NULL;
	struct rst_verdict inj = verdict_of(RST_INJECTED, ORIGIN_MIDDLEBOX);
	struct rst_verdict fw = verdict_of(RST_FIREWALL, ORIGIN_MIDDLEBOX);
	struct rst_verdict local = verdict_of(RST_FIREWALL, ORIGIN_LOCAL_FIREWALL);
	struct rst_verdict ref = verdict_of(RST_REFUSED, ORIGIN_ENDPOINT);

	(void)state;
	assert_int_equal(policy_init(&p, MODE_OBSERVE, POLICY_DEFAULT_MASK), 0);
	assert_false(policy_drop(&p, &inj, &why));
	assert_null(why);
	p.mode = MODE_ENFORCE;
	assert_true(policy_drop(&p, &inj, &why));
	assert_non_null(why);
	assert_false(policy_drop(&p, &fw, &why));
	assert_false(policy_drop(&p, &ref, &why));
	assert_int_equal(policy_parse_suppress(&p, "firewall", &bad), 0);
	assert_true(policy_drop(&p, &fw, &why));
	/* Naming firewall also covers this host's own rejects: the operator asked. */
	assert_true(policy_drop(&p, &local, &why));
	assert_int_equal(policy_parse_suppress(&p, "abort, refused", &bad), 0);
	assert_false(policy_drop(&p, &local, &why));
	assert_true(policy_drop(&p, &ref, &why));
	assert_int_equal(policy_parse_suppress(&p, "firewall,bogus", &bad), -1);
	assert_string_equal(bad, "bogus");
	/* An endpoint's answer after a forgery killed its end is classed by the
	 * forgery, but dropping it saves nothing: the peer would wait. */
	struct rst_verdict answer = verdict_of(RST_INJECTED, ORIGIN_ENDPOINT);

	answer.follows = RST_INJECTED + 1;
	assert_false(policy_drop(&p, &answer, &why));
	answer.follows = 0;
	assert_true(policy_drop(&p, &answer, &why));
}

struct reports {
	uint64_t total;          /* events the summaries say were held back */
	int calls;
	int source_calls;        /* summaries naming a source (not the total's) */
	uint64_t now_us;         /* the test's clock, for last_source_us */
	uint64_t last_source_us;
	uint64_t min_gap_us;     /* shortest time between two source summaries */
	bool at_exit;            /* the final flush: summaries of any age */
};

static void on_report(int family, const uint8_t *addr, uint64_t n, uint64_t since_us,
		      uint64_t now_us, void *arg)
{
	struct reports *r = arg;

	(void)addr;
	/* A summary reports a count once it is a second old, or at exit. */
	assert_true(since_us <= now_us);
	assert_true(r->at_exit || now_us - since_us >= 1000000);
	r->total += n;
	r->calls++;
	if (family && !r->at_exit) {
		if (r->source_calls && r->now_us - r->last_source_us < r->min_gap_us)
			r->min_gap_us = r->now_us - r->last_source_us;
		r->source_calls++;
		r->last_source_us = r->now_us;
	}
}

static void test_ratelimit(void **state)
{
	static struct ratelimit rl;
	struct reports rep = { 0 };
	uint8_t a[16] = { 198, 51, 100, 1 }, b[16] = { 198, 51, 100, 2 };
	int i, passed = 0;

	(void)state;
	ratelimit_init(&rl, 10, 5, 0, on_report, &rep);
	for (i = 0; i < 100; i++)
		passed += ratelimit_allow(&rl, 4, a, 1000000);
	assert_int_equal(passed, 5);                      /* the burst */
	assert_true(ratelimit_allow(&rl, 4, b, 1000000)); /* other sources unaffected */
	/* 0.5 s later: 5 tokens back, but the 95 held back are not a second
	 * old: no summary yet. */
	assert_true(ratelimit_allow(&rl, 4, a, 1500000));
	for (i = 0; i < 10; i++)
		ratelimit_allow(&rl, 4, a, 1500000);      /* 4 pass, 6 held */
	ratelimit_flush(&rl, 1600000, false);
	assert_int_equal(rep.calls, 0);
	ratelimit_flush(&rl, 2000000, false);             /* a second after the first */
	assert_int_equal(rep.calls, 1);
	assert_int_equal(rep.total, 95 + 6);
	ratelimit_init(&rl, 0, 0, 0, on_report, &rep);    /* 0 = unlimited */
	for (i = 0; i < 1000; i++)
		assert_true(ratelimit_allow(&rl, 4, a, 1));
}

/* Many sources, each under its own limit, together over the total one. */
static void test_ratelimit_total(void **state)
{
	static struct ratelimit rl;
	struct reports rep = { 0 };
	uint8_t a[16] = { 198, 51, 100, 0 };
	int i, passed = 0;

	(void)state;
	ratelimit_init(&rl, 10, 5, 100, on_report, &rep);
	for (i = 0; i < 1000; i++) {
		a[3] = (uint8_t)i;
		a[2] = (uint8_t)(100 + i / 256);
		passed += ratelimit_allow(&rl, 4, a, 1000000);
	}
	assert_int_equal(passed, 200);                    /* the total burst: 2 s of 100/s */
	assert_int_equal(rep.calls, 0);
	ratelimit_flush(&rl, 2100000, false);
	assert_int_equal(rep.total, 800);                 /* reported as one total summary */
	assert_int_equal(rep.calls, 1);
}

/* offer EVENTS events from SOURCES sources in turn, evenly over SECS
 * seconds from t = 1 s, flushing every 0.5 s as the daemon does, then flush
 * all as at exit. Returns the events that passed. */
static int offer(struct ratelimit *rl, struct reports *rep, int events, int sources, int secs)
{
	uint8_t a[16] = { 0 };
	uint64_t step = (uint64_t)secs * 1000000 / (uint64_t)events, next_flush = 1500000;
	int i, passed = 0;

	for (i = 0; i < events; i++) {
		int src = i % sources;

		rep->now_us = 1000000 + (uint64_t)i * step;
		if (rep->now_us >= next_flush) {
			ratelimit_flush(rl, rep->now_us, false);
			next_flush += 500000;
		}
		a[0] = 10;        /* 10.x.y.z: sources as numbers, the test never sends */
		a[1] = (uint8_t)(src >> 16);
		a[2] = (uint8_t)(src >> 8);
		a[3] = (uint8_t)src;
		passed += ratelimit_allow(rl, 4, a, rep->now_us);
	}
	rep->now_us = 1000000 + (uint64_t)secs * 1000000;
	rep->at_exit = true;
	ratelimit_flush(rl, rep->now_us, true);
	return passed;
}

/* One source far over its limit: its summaries come a second apart at
 * least, not each time it may log again. */
static void test_ratelimit_summary_per_second(void **state)
{
	static struct ratelimit rl;
	struct reports rep = { .min_gap_us = UINT64_MAX };
	int passed;

	(void)state;
	ratelimit_init(&rl, 10, 5, 0, on_report, &rep);
	passed = offer(&rl, &rep, 5000, 1, 5);            /* 1000/s for 5 s */
	assert_int_equal(passed, 5 + 10 * 5 - 1);         /* the burst, then 10/s */
	assert_in_range(rep.source_calls, 3, 5);          /* not counting the exit's */
	assert_true(rep.min_gap_us >= 1000000);
	assert_int_equal((uint64_t)passed + rep.total, 5000);  /* nothing lost */
}

/* A flood from far more sources than slots: every reset a new source for
 * its slot. The log (events and summaries) stays within the total rate, and
 * every event is either logged or counted in a summary. */
static void test_ratelimit_flood_bounded(void **state)
{
	static struct ratelimit rl;
	struct reports rep = { .min_gap_us = UINT64_MAX };
	int passed, lines;

	(void)state;
	ratelimit_init(&rl, 10, 5, 100, on_report, &rep);
	passed = offer(&rl, &rep, 100000, 5000, 3);
	lines = passed + rep.calls;
	/* 2 s of burst and 3 s of 100/s of tokens, plus the total's summary once
	 * a second and at exit. */
	assert_in_range(lines, 100, 200 + 3 * 100 + 3 + 1);
	assert_int_equal((uint64_t)passed + rep.total, 100000);
}

/* The largest rates the options accept (--rate-limit-total 10,000,000,
 * --rate-limit and --rate-burst 1,000,000). In 32-bit milli-tokens 2 s of
 * 2,147,484/s wrapped to 704: not one event passed. */
static void test_ratelimit_large_rates(void **state)
{
	static const uint32_t totals[] = { 2147484, 10000000 };
	static struct ratelimit rl;
	uint8_t a[16] = { 198, 51, 100, 1 };
	uint64_t i, passed, day = 86400ULL * 1000000;
	unsigned k;

	(void)state;
	for (k = 0; k < 2; k++) {
		ratelimit_init(&rl, 0, 0, totals[k], NULL, NULL);
		for (i = passed = 0; i < 2ULL * totals[k] + 10; i++)
			passed += ratelimit_allow(&rl, 4, a, 1000000);
		assert_int_equal(passed, 2ULL * totals[k]);      /* the burst: 2 s */
		for (i = passed = 0; i < totals[k]; i++)
			passed += ratelimit_allow(&rl, 4, a, 1500000);
		assert_int_equal(passed, totals[k] / 2);          /* 0.5 s of tokens */
	}
	/* A month of silence refills a bucket to its burst, no more, no less. */
	ratelimit_init(&rl, 0, 0, 10000000, NULL, NULL);
	for (i = passed = 0; i < 20000010; i++)
		passed += ratelimit_allow(&rl, 4, a, 1000000);
	for (i = passed = 0; i < 20000010; i++)
		passed += ratelimit_allow(&rl, 4, a, 1000000 + 30 * day);
	assert_int_equal(passed, 20000000);
	ratelimit_init(&rl, 1000000, 1000000, 0, NULL, NULL);
	for (i = passed = 0; i < 1000010; i++)
		passed += ratelimit_allow(&rl, 4, a, 1000000);
	assert_int_equal(passed, 1000000);
	for (i = passed = 0; i < 1000010; i++)
		passed += ratelimit_allow(&rl, 4, a, 1000000 + 30 * day);
	assert_int_equal(passed, 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_validation),
		cmocka_unit_test(test_mark_layout),
		cmocka_unit_test(test_enforce),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_ratelimit_total),
		cmocka_unit_test(test_ratelimit_summary_per_second),
		cmocka_unit_test(test_ratelimit_flood_bounded),
		cmocka_unit_test(test_ratelimit_large_rates),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
