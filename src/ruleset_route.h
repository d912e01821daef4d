/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RSTWATCH_RULESET_ROUTE_H
#define RSTWATCH_RULESET_ROUTE_H

#include <net/if.h>
#include <stdint.h>

/* The interface a packet from saddr to daddr that came in on iif (0: sent by
 * this host) is routed out of, by name into name. 0, or -1 + errno (no
 * route: unreachable, a blackhole, a local address). */
int route_oifname(int family, const uint8_t *saddr, const uint8_t *daddr, uint32_t iif,
		  char name[IF_NAMESIZE]);

#endif
