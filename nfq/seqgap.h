/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How many packets a jump in the kernel's numbering may be counted as. A
 * queue numbers its packets (ids), a log group its messages (sequence
 * numbers); a jump between two received ones stands for packets that never
 * reached rstwatch (rstwatch_queue_unseen_total, rstwatch_nflog_lost_total).
 * Only the kernel's messages are read (nfq/nlrecv.h), yet a count derived
 * from a difference must not claim more than the kernel could have numbered
 * since the last message read: at most SEQGAP_PER_US a microsecond (4 million
 * a second, several times what one NFQUEUE or log group delivers on a core),
 * plus SEQGAP_SLACK for a clock step or a burst read late. A larger jump (a
 * kernel bug, a socket shared by mistake) is counted as implausible instead. */
#ifndef RSTWATCH_SEQGAP_H
#define RSTWATCH_SEQGAP_H

#include <stdint.h>

#define SEQGAP_PER_US 4u
#define SEQGAP_SLACK  65536u

/* The part of gap that elapsed_us (time since the last numbered message; 0
 * when the clock stepped back) can account for. */
static inline uint64_t seqgap_plausible(uint64_t gap, uint64_t elapsed_us)
{
	uint64_t most = SEQGAP_SLACK;

	if (elapsed_us < (UINT64_MAX - SEQGAP_SLACK) / SEQGAP_PER_US)
		most += elapsed_us * SEQGAP_PER_US;
	else
		most = UINT64_MAX;
	return gap < most ? gap : most;
}

#endif
