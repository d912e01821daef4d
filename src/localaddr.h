/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is an address one of this host's (this network namespace's)? Used on the
 * output hook: a reset leaving with a source that is not ours was forged by
 * nf_reject on behalf of a flow we only forward. Thread-safe. */
#ifndef RSTWATCH_LOCALADDR_H
#define RSTWATCH_LOCALADDR_H

#include <stdbool.h>
#include <stdint.h>

/* family 4 or 6. An address not in the cached list triggers a re-read of the
 * interface addresses, at most once a second, so a newly added address is
 * seen without a restart. */
bool localaddr_is_local(int family, const uint8_t *addr, uint64_t now_us);

#endif
