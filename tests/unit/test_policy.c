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
}

struct reports {
	uint64_t total;
	int calls;
};

static void on_report(int family, const uint8_t *addr, uint64_t n, void *arg)
{
	struct reports *r = arg;

	(void)family;
	(void)addr;
	r->total += n;
	r->calls++;
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
	assert_int_equal(rep.calls, 0);
	/* 0.5 s later: 5 tokens back; the first pass reports the 95 held back. */
	assert_true(ratelimit_allow(&rl, 4, a, 1500000));
	assert_int_equal(rep.total, 95);
	for (i = 0; i < 10; i++)
		ratelimit_allow(&rl, 4, a, 1500000);
	ratelimit_flush(&rl, 1600000, false);             /* not a second old yet */
	assert_int_equal(rep.calls, 1);
	ratelimit_flush(&rl, 2600000, false);
	assert_int_equal(rep.calls, 2);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_validation),
		cmocka_unit_test(test_mark_layout),
		cmocka_unit_test(test_enforce),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_ratelimit_total),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
