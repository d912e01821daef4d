/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The two clocks rstwatch reads: wall time for event timestamps, monotonic
 * time for deadlines. */
#ifndef RSTWATCH_CLOCK_H
#define RSTWATCH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline int64_t clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
