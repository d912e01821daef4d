/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Community ID flow hashing, version 1 (github.com/corelight/community-id-spec),
 * the string Zeek and Suricata log as `community_id`, so that an rstwatch event
 * joins their records of the same connection by a plain string compare. */
#ifndef RSTWATCH_COMMUNITY_ID_H
#define RSTWATCH_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

/* "1:" + base64 of a SHA-1 digest (28 characters) + NUL. */
#define COMMUNITY_ID_SIZE 31

/* The ID of a flow of a protocol with ports (TCP 6, UDP 17, SCTP 132), from
 * one packet's addresses (4 or 16 bytes by family 4 or 6) and ports in host
 * order; either direction gives the same ID. seed: 0 unless every monitor
 * whose records are joined is configured with the same other value. */
void community_id_v1(int family, const uint8_t *saddr, const uint8_t *daddr, uint16_t sport,
		     uint16_t dport, uint8_t proto, uint16_t seed, char out[COMMUNITY_ID_SIZE]);

#endif
