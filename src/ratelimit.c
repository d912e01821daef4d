#include "ratelimit.h"

#include <string.h>

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

static void report(struct ratelimit *rl, struct ratelimit_slot *s, bool is_total)
{
	if (s->suppressed && rl->report)
		rl->report(is_total ? 0 : s->family, is_total ? NULL : s->addr, s->suppressed,
			   rl->arg);
	s->suppressed = 0;
}

/* Refill by elapsed time, then take a token if there is one. */
static bool take(struct ratelimit_slot *s, uint32_t rate, uint32_t burst, uint64_t now_us)
{
	if (now_us > s->refill_us) {
		uint64_t add = (now_us - s->refill_us) * rate / 1000;

		if (add) {
			uint64_t t = s->tokens_milli + add;

			s->tokens_milli = t > burst * 1000ULL ? burst * 1000 : (uint32_t)t;
			s->refill_us = now_us;
		}
	} else {
		s->refill_us = now_us;
	}
	if (s->tokens_milli < 1000) {
		if (!s->suppressed)
			s->first_suppressed_us = now_us;
		s->suppressed++;
		return false;
	}
	s->tokens_milli -= 1000;
	return true;
}

bool ratelimit_allow(struct ratelimit *rl, int family, const uint8_t *addr, uint64_t now_us)
{
	struct ratelimit_slot *s;
	size_t n = family == 4 ? 4 : 16;

	if (rl->rate) {
		s = &rl->slot[slot_of(family, addr)];
		if (s->family != family || memcmp(s->addr, addr, n)) {
			/* A colliding source takes the slot; the old one's count goes out now. */
			report(rl, s, false);
			memset(s, 0, sizeof(*s));
			s->family = (uint8_t)family;
			memcpy(s->addr, addr, n);
			s->tokens_milli = rl->burst * 1000;
			s->refill_us = now_us;
		}
		if (!take(s, rl->rate, rl->burst, now_us))
			return false;
		report(rl, s, false);
	}
	if (rl->total_rate) {
		if (!rl->total.refill_us) {
			rl->total.tokens_milli = 2 * rl->total_rate * 1000;
			rl->total.refill_us = now_us;
		}
		if (!take(&rl->total, rl->total_rate, 2 * rl->total_rate, now_us))
			return false;
		report(rl, &rl->total, true);
	}
	return true;
}

void ratelimit_flush(struct ratelimit *rl, uint64_t now_us, bool all)
{
	unsigned i;

	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		struct ratelimit_slot *s = &rl->slot[i];

		if (s->suppressed && (all || now_us - s->first_suppressed_us >= 1000000))
			report(rl, s, false);
	}
	if (rl->total.suppressed && (all || now_us - rl->total.first_suppressed_us >= 1000000))
		report(rl, &rl->total, true);
}
