/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What rstwatch does about a classified reset: accept or drop it (enforce
 * mode), and which conntrack mark bits describe it.
 *
 * Mark layout: rstwatch owns only the bits of mark_mask (default 0x00ff0000),
 * which must be one contiguous run of at least 6 bits. Counting from the
 * mask's lowest bit: bits 0-3 hold the class code (enum rst_class + 1, so 0
 * means "not tagged"), bit 4 is "suppressed" (rstwatch dropped a reset of
 * this flow), and the mask's highest bit is "watch" (the ruleset diverts
 * every packet of the flow to the queue while it is set: 0x00800000 with the
 * default mask). Other bits of the mask stay zero. */
#ifndef RSTWATCH_POLICY_H
#define RSTWATCH_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"

enum policy_mode { MODE_OBSERVE = 0, MODE_ENFORCE };

struct policy {
	enum policy_mode mode;
	uint32_t suppress;          /* bit (1 << class): drop resets of these classes */
	uint32_t mark_mask;
	unsigned mark_shift;        /* lowest set bit of mark_mask */
	uint32_t watch_seconds;     /* how long the watch bit stays; 0 disables watching */
};

#define POLICY_DEFAULT_MASK 0x00ff0000u

/* 0, or -1 with errno EINVAL if mask is not one contiguous run of >= 6 bits. */
int policy_init(struct policy *p, enum policy_mode mode, uint32_t mark_mask);

/* Parse "firewall,injected" into p->suppress. -1 + EINVAL on an unknown
 * class; *bad then points at it. */
int policy_parse_suppress(struct policy *p, const char *list, const char **bad);

/* Decide for verdict v. Returns the action; *reason is set for a drop. */
bool policy_drop(const struct policy *p, const struct rst_verdict *v, const char **reason);

/* Bits inside the mask for this verdict and action. */
uint32_t policy_mark(const struct policy *p, const struct rst_verdict *v, bool dropped,
		     bool watch);
uint32_t policy_watch_bit(const struct policy *p);

/* A reset worth watching the flow for (possible forgery follows). */
bool policy_wants_watch(const struct policy *p, const struct rst_verdict *v);

#endif
