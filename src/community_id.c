/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Community ID v1: SHA-1 over seed, the lower endpoint's address, the other's,
 * the protocol, a pad byte and the two ports, every field in network order;
 * "lower" compares addresses bytewise, then ports. SHA-1 and base64 are
 * nettle's. */
#include "community_id.h"

#include <stdbool.h>

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <string.h>

static void put16(struct sha1_ctx *h, uint16_t v)
{
	const uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	sha1_update(h, sizeof(b), b);
}

void community_id_v1(int family, const uint8_t *saddr, const uint8_t *daddr, uint16_t sport,
		     uint16_t dport, uint8_t proto, uint16_t seed, char out[COMMUNITY_ID_SIZE])
{
	size_t alen = family == 6 ? 16 : 4;
	int c = memcmp(saddr, daddr, alen);
	bool swap = c > 0 || (c == 0 && sport > dport);
	const uint8_t pad_proto[2] = { proto, 0 };
	uint8_t digest[SHA1_DIGEST_SIZE];
	struct sha1_ctx h;

	sha1_init(&h);
	put16(&h, seed);
	sha1_update(&h, alen, swap ? daddr : saddr);
	sha1_update(&h, alen, swap ? saddr : daddr);
	sha1_update(&h, sizeof(pad_proto), pad_proto);
	put16(&h, swap ? dport : sport);
	put16(&h, swap ? sport : dport);
	sha1_digest(&h, sizeof(digest), digest);
	out[0] = '1';
	out[1] = ':';
	base64_encode_raw(out + 2, sizeof(digest), digest);
	out[2 + BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = 0;
}
