/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Community ID v1 against the specification's published baselines
 * (corelight/community-id-spec baseline/baseline_deflt.json and
 * baseline_seed1.json: every entry of a protocol with ports). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "community_id.h"

struct vector {
	uint8_t proto;
	const char *saddr, *daddr;
	uint16_t sport, dport;
	const char *seed0, *seed1;
};

static const struct vector vectors[] = {
	{ 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
	  "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
	  "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 6, "128.232.110.120", "66.35.250.204", 34855, 80,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 6, "66.35.250.204", "128.232.110.120", 80, 34855,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 17, "192.168.1.52", "8.8.8.8", 54585, 53,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 17, "8.8.8.8", "192.168.1.52", 53, 54585,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	/* Equal ports: the addresses alone order the endpoints. */
	{ 132, "192.168.170.8", "192.168.170.56", 7, 7,
	  "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ 132, "192.168.170.56", "192.168.170.8", 7, 7,
	  "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
};

static int parse(const char *text, uint8_t *addr)
{
	if (inet_pton(AF_INET, text, addr) == 1)
		return 4;
	assert_int_equal(inet_pton(AF_INET6, text, addr), 1);
	return 6;
}

static void test_baselines(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		uint8_t s[16], d[16];
		char id[COMMUNITY_ID_SIZE];
		int fam = parse(v->saddr, s);

		assert_int_equal(parse(v->daddr, d), fam);
		community_id_v1(fam, s, d, v->sport, v->dport, v->proto, 0, id);
		assert_string_equal(id, v->seed0);
		community_id_v1(fam, s, d, v->sport, v->dport, v->proto, 1, id);
		assert_string_equal(id, v->seed1);
	}
}

/* Same addresses: the ports order the endpoints, so both directions agree. */
static void test_same_address_both_directions(void **state)
{
	uint8_t a[4] = { 192, 0, 2, 1 };
	char x[COMMUNITY_ID_SIZE], y[COMMUNITY_ID_SIZE];

	(void)state;
	community_id_v1(4, a, a, 40000, 80, 6, 0, x);
	community_id_v1(4, a, a, 80, 40000, 6, 0, y);
	assert_string_equal(x, y);
	assert_int_equal(strlen(x), COMMUNITY_ID_SIZE - 1);
	community_id_v1(4, a, a, 40001, 80, 6, 0, y);
	assert_string_not_equal(x, y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baselines),
		cmocka_unit_test(test_same_address_both_directions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
