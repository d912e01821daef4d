/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hostttl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define WAYS 4u
#define SETS (HOST_TTL_ENTRIES / WAYS)

struct host_entry {
	uint64_t last_us;          /* its newest packet; 0: free */
	uint8_t addr[16];
	uint16_t zone;             /* tcp_packet.tunnel_zone: the same address in two
				    * tunnels is two hosts */
	uint8_t family;
	struct ttl_baseline b;
};

struct host_ttl {
	uint64_t seed;
	struct host_ttl_stats st;
	struct host_entry e[HOST_TTL_ENTRIES];
};

struct host_ttl *host_ttl_new(void)
{
	return calloc(1, sizeof(struct host_ttl));
}

void host_ttl_free(struct host_ttl *t)
{
	free(t);
}

int host_ttl_seed(struct host_ttl *t, uint64_t seed)
{
	if (t->st.used) {
		errno = EBUSY;    /* the hosts are filed under the old hash */
		return -1;
	}
	t->seed = seed;
	return 0;
}

static size_t addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static const struct host_entry *set_of(const struct host_ttl *t, const struct tcp_packet *p)
{
	uint64_t h = flow_hash_endpoint(t->seed ^ p->family, p->src, addr_len(p->family),
					p->tunnel_zone);

	return &t->e[(h & (SETS - 1)) * WAYS];
}

static bool is_host(const struct host_entry *e, const struct tcp_packet *p)
{
	return e->last_us && e->family == p->family && e->zone == p->tunnel_zone &&
	       !memcmp(e->addr, p->src, addr_len(p->family));
}

/* An entry whose newest packet is older than the age limit says nothing. */
static bool fresh(const struct host_entry *e, uint64_t ts_us)
{
	return ts_us < e->last_us || ts_us - e->last_us <= HOST_TTL_MAX_AGE_US;
}

void host_ttl_note(struct host_ttl *t, const struct tcp_packet *p, uint64_t ts_us)
{
	struct host_entry *set = (struct host_entry *)set_of(t, p), *e = NULL, *oldest = set;
	unsigned i;

	t->st.updates++;
	for (i = 0; i < WAYS; i++) {
		if (is_host(&set[i], p)) {
			e = &set[i];
			break;
		}
		if (set[i].last_us < oldest->last_us)
			oldest = &set[i];
	}
	if (!e) {
		e = oldest;
		if (e->last_us)
			t->st.evicted++;
		else
			t->st.used++;
		memset(e, 0, sizeof(*e));
		e->family = p->family;
		e->zone = p->tunnel_zone;
		memcpy(e->addr, p->src, addr_len(p->family));
	} else if (!fresh(e, ts_us)) {
		e->last_us = 0;    /* starts afresh below */
	}
	if (!e->last_us)
		e->b.min = e->b.max = p->ttl;
	else if (p->ttl < e->b.min)
		e->b.min = p->ttl;
	else if (p->ttl > e->b.max)
		e->b.max = p->ttl;
	e->b.last = p->ttl;
	/* 0 marks a free entry: a capture at the epoch's first microsecond
	 * still files its hosts. */
	e->last_us = ts_us ? ts_us : 1;
}

int host_ttl_find(const struct host_ttl *t, const struct tcp_packet *p, uint64_t ts_us,
		  struct ttl_baseline *out)
{
	const struct host_entry *set = set_of(t, p);
	unsigned i;

	for (i = 0; i < WAYS; i++)
		if (is_host(&set[i], p) && fresh(&set[i], ts_us)) {
			*out = set[i].b;
			return 0;
		}
	return -1;
}

void host_ttl_stats(const struct host_ttl *t, struct host_ttl_stats *out)
{
	*out = t->st;
}

size_t host_ttl_bytes(void)
{
	return sizeof(struct host_ttl);
}
