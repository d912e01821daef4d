#include "ratelimit.h"

#include <string.h>

void ratelimit_init(struct ratelimit *rl, uint32_t rate, uint32_t burst, ratelimit_report_cb cb,
		    void *arg)
{
	memset(rl, 0, sizeof(*rl));
	rl->rate = rate;
	rl->burst = burst ? burst : 1;
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

static void report(struct ratelimit *rl, struct ratelimit_slot *s)
{
	if (s->suppressed && rl->report)
		rl->report(s->family, s->addr, s->suppressed, rl->arg);
	s->suppressed = 0;
}

bool ratelimit_allow(struct ratelimit *rl, int family, const uint8_t *addr, uint64_t now_us)
{
	struct ratelimit_slot *s;
	size_t n = family == 4 ? 4 : 16;
	uint64_t add;

	if (!rl->rate)
		return true;
	s = &rl->slot[slot_of(family, addr)];
	if (s->family != family || memcmp(s->addr, addr, n)) {
		/* A colliding source takes the slot; the old one's count goes out now. */
		report(rl, s);
		memset(s, 0, sizeof(*s));
		s->family = (uint8_t)family;
		memcpy(s->addr, addr, n);
		s->tokens_milli = rl->burst * 1000;
		s->refill_us = now_us;
	}
	if (now_us > s->refill_us) {
		add = (now_us - s->refill_us) * rl->rate / 1000;
		if (add) {
			uint64_t t = s->tokens_milli + add;

			s->tokens_milli = t > rl->burst * 1000ULL ? rl->burst * 1000 : (uint32_t)t;
			s->refill_us = now_us;
		}
	} else {
		s->refill_us = now_us;
	}
	if (s->tokens_milli >= 1000) {
		s->tokens_milli -= 1000;
		report(rl, s);
		return true;
	}
	if (!s->suppressed)
		s->first_suppressed_us = now_us;
	s->suppressed++;
	return false;
}

void ratelimit_flush(struct ratelimit *rl, uint64_t now_us, bool all)
{
	unsigned i;

	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		struct ratelimit_slot *s = &rl->slot[i];

		if (s->suppressed && (all || now_us - s->first_suppressed_us >= 1000000))
			report(rl, s);
	}
}
