/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is an address one of this host's (this network namespace's)? Used on the
 * output hook: a reset leaving with a source that is not ours was forged by
 * nf_reject on behalf of a flow we only forward. Thread-safe. */
#ifndef RSTWATCH_LOCALADDR_H
#define RSTWATCH_LOCALADDR_H

#include <stdbool.h>
#include <stdint.h>

/* family 4 or 6. The cached list is read again when the kernel tells of an
 * address added or removed (rtnetlink's address groups), and on a miss at
 * most once a second where that cannot be listened to. */
bool localaddr_is_local(int family, const uint8_t *addr, uint64_t now_us);

#endif
