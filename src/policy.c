/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "policy.h"

#include <errno.h>
#include <string.h>

int policy_init(struct policy *p, enum policy_mode mode, uint32_t mask)
{
	unsigned shift, bits;

	memset(p, 0, sizeof(*p));
	if (!mask) {
		errno = EINVAL;
		return -1;
	}
	shift = (unsigned)__builtin_ctz(mask);
	bits = (unsigned)__builtin_popcount(mask);
	/* Contiguous: shifting down leaves 2^bits - 1. */
	if (bits < 6 || (bits < 32 && (mask >> shift) != (1u << bits) - 1)) {
		errno = EINVAL;
		return -1;
	}
	p->mode = mode;
	p->mark_mask = mask;
	p->mark_shift = shift;
	p->watch_seconds = 10;
	return 0;
}

int policy_parse_suppress(struct policy *p, const char *list, const char **bad)
{
	static char word[64];
	const char *s = list;

	p->suppress = 0;
	while (*s) {
		size_t n = strcspn(s, ", ");
		int c;

		if (n == 0) {
			s++;
			continue;
		}
		if (n >= sizeof(word))
			n = sizeof(word) - 1;
		memcpy(word, s, n);
		word[n] = 0;
		c = rst_class_from_name(word);
		if (c < 0) {
			if (bad)
				*bad = word;
			errno = EINVAL;
			return -1;
		}
		p->suppress |= 1u << c;
		s += strcspn(s, ", ");
	}
	return 0;
}

bool policy_drop(const struct policy *p, const struct rst_verdict *v, const char **reason)
{
	*reason = NULL;
	if (p->mode != MODE_ENFORCE)
		return false;
	/* A reset this host's own rules made is the operator's will, not spurious. */
	if (v->origin == ORIGIN_LOCAL_FIREWALL && !(p->suppress & (1u << RST_FIREWALL)))
		return false;
	/* An endpoint's answer after an earlier reset killed its end: the
	 * connection is gone already, and dropping the answer would only leave
	 * the peer waiting for its timeout. */
	if (v->follows)
		return false;
	if (v->cls == RST_INJECTED) {
		*reason = "enforce: injected reset";
		return true;
	}
	if (p->suppress & (1u << v->cls)) {
		*reason = "enforce: class in --suppress";
		return true;
	}
	return false;
}

uint32_t policy_watch_bit(const struct policy *p)
{
	return 1u << (31 - __builtin_clz(p->mark_mask));
}

uint32_t policy_mark(const struct policy *p, const struct rst_verdict *v, bool dropped,
		     bool watch)
{
	uint32_t field = ((uint32_t)v->cls + 1) & 0xf;

	if (dropped)
		field |= 1u << 4;
	field = (field << p->mark_shift) & p->mark_mask;
	return watch ? field | policy_watch_bit(p) : field;
}

bool policy_wants_watch(const struct policy *p, const struct rst_verdict *v)
{
	return p->watch_seconds &&
	       (v->cls == RST_INJECTED ||
		(v->cls == RST_FIREWALL && v->origin == ORIGIN_MIDDLEBOX));
}
