/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ratelimit.h"

#include <string.h>

/* How old a held-back count must be before its summary goes out: one summary
 * line per source a second at most. */
#define SUMMARY_AGE_US 1000000

void ratelimit_init(struct ratelimit *rl, uint32_t rate, uint32_t burst, uint32_t total_rate,
		    ratelimit_report_cb cb, void *arg)
{
	memset(rl, 0, sizeof(*rl));
	rl->rate = rate;
	rl->burst = burst ? burst : 1;
	rl->total_rate = total_rate;
	rl->report = cb;
	rl->arg = arg;
}

static unsigned slot_of(int family, const uint8_t *addr)
{
	uint32_t h = 2166136261u;
	size_t i, n = family == 4 ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % RATELIMIT_SLOTS;
}

/* Add n held-back events, the oldest held back at since_us, to s's count. */
static void hold(struct ratelimit_slot *s, uint64_t n, uint64_t since_us)
{
	if (!s->suppressed || since_us < s->first_suppressed_us)
		s->first_suppressed_us = since_us;
	s->suppressed += n;
}

/* Refill by elapsed time, then take a token if there is one. In 64 bits:
 * in 32, 2 s of --rate-limit-total above 2,147,483/s wrapped around. */
static bool take(struct ratelimit_slot *s, uint64_t rate, uint64_t burst, uint64_t now_us)
{
	if (now_us > s->refill_us) {
		uint64_t dt = now_us - s->refill_us, full = burst * 1000;
		/* A long silence fills the bucket (and dt * rate would wrap). */
		uint64_t add = rate && dt > full / rate * 1000 ? full : dt * rate / 1000;

		if (add) {
			s->tokens_milli = add >= full - s->tokens_milli ? full : s->tokens_milli + add;
			s->refill_us = now_us;
		}
	} else {
		s->refill_us = now_us;
	}
	if (s->tokens_milli < 1000)
		return false;
	s->tokens_milli -= 1000;
	return true;
}

/* A line in the log, event or summary, takes a token of the total bucket
 * (burst: 2 s worth). */
static bool take_total(struct ratelimit *rl, uint64_t now_us)
{
	if (!rl->total_rate)
		return true;
	if (!rl->total.refill_us) {
		rl->total.tokens_milli = 2000ULL * rl->total_rate;
		rl->total.refill_us = now_us;
	}
	return take(&rl->total, rl->total_rate, 2ULL * rl->total_rate, now_us);
}

/* Report a source's count once it is a second old (any age with all). A
 * summary is a log line like an event and needs a token of the total bucket:
 * without one the count joins the total's, so that however many sources
 * flood, the log stays within the total rate. */
static void settle(struct ratelimit *rl, struct ratelimit_slot *s, uint64_t now_us, bool all)
{
	if (!s->suppressed || (!all && now_us - s->first_suppressed_us < SUMMARY_AGE_US))
		return;
	if (take_total(rl, now_us)) {
		if (rl->report)
			rl->report(s->family, s->addr, s->suppressed, s->first_suppressed_us, now_us,
				   rl->arg);
	} else {
		hold(&rl->total, s->suppressed, s->first_suppressed_us);
	}
	s->suppressed = 0;
}

/* The total's count: one summary a second at most, without a token (it is
 * what stands for everything the tokens could not cover). */
static void settle_total(struct ratelimit *rl, uint64_t now_us, bool all)
{
	struct ratelimit_slot *t = &rl->total;

	if (!t->suppressed || (!all && now_us - t->first_suppressed_us < SUMMARY_AGE_US))
		return;
	if (rl->report)
		rl->report(0, NULL, t->suppressed, t->first_suppressed_us, now_us, rl->arg);
	t->suppressed = 0;
}

bool ratelimit_allow(struct ratelimit *rl, int family, const uint8_t *addr, uint64_t now_us)
{
	struct ratelimit_slot *s;
	size_t n = family == 4 ? 4 : 16;

	if (rl->rate) {
		s = &rl->slot[slot_of(family, addr)];
		if (s->family != family || memcmp(s->addr, addr, n)) {
			/* A colliding source takes the slot. The old one's count
			 * joins the total's: reporting it here would let a flood
			 * of many sources write a summary for every reset. */
			if (s->suppressed)
				hold(&rl->total, s->suppressed, s->first_suppressed_us);
			memset(s, 0, sizeof(*s));
			s->family = (uint8_t)family;
			memcpy(s->addr, addr, n);
			s->tokens_milli = 1000ULL * rl->burst;
			s->refill_us = now_us;
		}
		if (!take(s, rl->rate, rl->burst, now_us)) {
			hold(s, 1, now_us);
			return false;
		}
		settle(rl, s, now_us, false);
	}
	if (!take_total(rl, now_us)) {
		hold(&rl->total, 1, now_us);
		return false;
	}
	settle_total(rl, now_us, false);
	return true;
}

void ratelimit_flush(struct ratelimit *rl, uint64_t now_us, bool all)
{
	unsigned i;

	for (i = 0; i < RATELIMIT_SLOTS; i++)
		settle(rl, &rl->slot[i], now_us, all);
	settle_total(rl, now_us, all);
}
