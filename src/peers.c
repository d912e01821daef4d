/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

#define PEERS_INITIAL 256

static uint32_t hash_of(enum rst_class cls, int family, const uint8_t *addr)
{
	uint32_t h = 0x811c9dc5u ^ (uint32_t)cls ^ ((uint32_t)family << 8);
	size_t i, alen = family == 6 ? 16 : 4;

	for (i = 0; i < alen; i++)
		h = (h ^ addr[i]) * 0x01000193u;
	return h ^ (h >> 16);
}

static struct peer_count *find(struct peer_count *slot, uint32_t cap, enum rst_class cls,
			       int family, const uint8_t *addr)
{
	size_t alen = family == 6 ? 16 : 4;
	uint32_t i = hash_of(cls, family, addr) & (cap - 1);

	for (;; i = (i + 1) & (cap - 1)) {
		struct peer_count *c = &slot[i];

		if (!c->family || (c->cls == cls && c->family == family &&
				   memcmp(c->addr, addr, alen) == 0))
			return c;
	}
}

/* Twice the slots, rehashed; false if there is no memory (then nothing new
 * is tracked). */
static bool grow(struct peers *p)
{
	uint32_t cap = p->cap ? p->cap * 2 : PEERS_INITIAL, i;
	struct peer_count *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return false;
	for (i = 0; i < p->cap; i++)
		if (p->slot[i].family)
			*find(slot, cap, p->slot[i].cls, p->slot[i].family, p->slot[i].addr) =
				p->slot[i];
	free(p->slot);
	p->slot = slot;
	p->cap = cap;
	return true;
}

void peers_add(struct peers *p, enum rst_class cls, int family, const uint8_t *addr)
{
	struct peer_count *c;

	/* At most half the slots in use: probes stay short and always end. */
	if (p->n * 2 >= p->cap && p->n < PEERS_MAX)
		grow(p);
	if (!p->cap) {
		p->untracked++;
		return;
	}
	c = find(p->slot, p->cap, cls, family, addr);
	if (!c->family) {
		if (p->n >= PEERS_MAX || p->n * 2 >= p->cap) {
			p->untracked++;
			return;
		}
		c->cls = (uint8_t)cls;
		c->family = (uint8_t)family;
		memcpy(c->addr, addr, family == 6 ? 16 : 4);
		p->n++;
	}
	c->count++;
}

static bool ranks_before(const struct peer_count *a, const struct peer_count *b)
{
	if (a->count != b->count)
		return a->count > b->count;
	if (a->family != b->family)
		return a->family < b->family;
	return memcmp(a->addr, b->addr, sizeof(a->addr)) < 0;
}

unsigned int peers_top(const struct peers *p, enum rst_class cls, struct peer_count *top,
		       unsigned int k)
{
	unsigned int n = 0, j;
	uint32_t i;

	for (i = 0; i < p->cap; i++) {
		const struct peer_count *c = &p->slot[i];

		if (!c->family || c->cls != cls)
			continue;
		/* Insertion into the k best so far. */
		for (j = n < k ? n++ : k; j > 0 && ranks_before(c, &top[j - 1]); j--)
			if (j < k)
				top[j] = top[j - 1];
		if (j < k)
			top[j] = *c;
	}
	return n;
}

void peers_free(struct peers *p)
{
	free(p->slot);
	memset(p, 0, sizeof(*p));
}
