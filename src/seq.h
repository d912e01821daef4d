/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TCP sequence-space comparisons (RFC 1982 serial arithmetic). */
#ifndef RSTWATCH_SEQ_H
#define RSTWATCH_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline bool seq_after(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) > 0;
}

static inline bool seq_before(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

/* a in [lo, lo + len) */
static inline bool seq_in_window(uint32_t a, uint32_t lo, uint32_t len)
{
	return a - lo < len;
}

#endif
