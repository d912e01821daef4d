/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset model's arena, and packet fields and their values as nft's
 * JSON writes them (addresses, ports, names of protocols, ct states and TCP
 * flags, prefixes, ranges, concatenations), turned into byte strings in
 * network order. */
#include "ruleset_model.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

struct rs_arena_chunk {
	struct rs_arena_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

#define RS_CHUNK (256u << 10)

void *rs_alloc(struct rs_model *m, size_t n)
{
	struct rs_arena_chunk *c = m->chunks;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->size - c->used < n) {
		size_t size = n > RS_CHUNK ? n : RS_CHUNK;

		if (m->bytes + size > m->max_bytes) {
			m->over = true;
			return NULL;
		}
		c = malloc(sizeof(*c) + size);
		if (!c) {
			m->over = true;
			return NULL;
		}
		c->size = size;
		c->used = 0;
		c->next = m->chunks;
		m->chunks = c;
		m->bytes += sizeof(*c) + size;
	}
	c->used += n;
	return memset(c->data + c->used - n, 0, n);
}

const char *rs_strdup(struct rs_model *m, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = rs_alloc(m, n);

	return d ? memcpy(d, s, n) : NULL;
}

void ruleset_free(struct rs_model *m)
{
	struct rs_arena_chunk *c, *next;

	if (!m)
		return;
	for (c = m->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(m);
}

size_t ruleset_bytes(const struct rs_model *m) { return m->bytes; }
unsigned ruleset_rules(const struct rs_model *m) { return m->n_rules; }
unsigned ruleset_elements(const struct rs_model *m) { return m->n_elements; }
void ruleset_set_generation(struct rs_model *m, uint32_t gen) { m->generation = gen; }
uint32_t ruleset_generation(const struct rs_model *m) { return m->generation; }

/* ---- fields and values ---- */

const uint8_t rs_field_width[RF_COUNT] = {
	[RF_IIFNAME] = 16, [RF_OIFNAME] = 16, [RF_L4PROTO] = 1, [RF_NFPROTO] = 1,
	[RF_PROTOCOL] = 2, [RF_CT_STATE] = 4, [RF_IP_SADDR] = 4, [RF_IP_DADDR] = 4,
	[RF_IP_PROTOCOL] = 1, [RF_IP6_SADDR] = 16, [RF_IP6_DADDR] = 16, [RF_IP6_NEXTHDR] = 1,
	[RF_TCP_SPORT] = 2, [RF_TCP_DPORT] = 2, [RF_TCP_FLAGS] = 1,
};

struct name_num {
	const char *name;
	unsigned num;
};

static const struct name_num protos[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 },
	{ "sctp", 132 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "udplite", 136 },
	{ "dccp", 33 }, { NULL, 0 }
};
static const struct name_num nfprotos[] = { { "ipv4", 2 }, { "ipv6", 10 }, { NULL, 0 } };
static const struct name_num ethertypes[] = { { "ip", 0x0800 }, { "ip6", 0x86dd },
					      { "arp", 0x0806 }, { NULL, 0 } };
static const struct name_num ct_states[] = {
	{ "invalid", RS_CT_INVALID }, { "established", RS_CT_ESTABLISHED },
	{ "related", RS_CT_RELATED }, { "new", RS_CT_NEW }, { "untracked", RS_CT_UNTRACKED },
	{ NULL, 0 }
};
static const struct name_num tcp_flags[] = {
	{ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 }, { "ack", 0x10 },
	{ "urg", 0x20 }, { "ecn", 0x40 }, { "cwr", 0x80 }, { NULL, 0 }
};

static bool lookup_name(const struct name_num *t, const char *s, unsigned *out)
{
	for (; t->name; t++)
		if (strcmp(t->name, s) == 0) {
			*out = t->num;
			return true;
		}
	return false;
}

/* A number, or a name of table t, or (bits) a list of names ORed. */
static bool number_of(json_t *j, const struct name_num *t, bool bits, unsigned *out)
{
	size_t i;
	json_t *v;

	if (json_is_integer(j) && json_integer_value(j) >= 0) {
		*out = (unsigned)json_integer_value(j);
		return true;
	}
	if (json_is_string(j) && t)
		return lookup_name(t, json_string_value(j), out);
	if (json_is_array(j) && bits && t) {
		*out = 0;
		json_array_foreach(j, i, v) {
			unsigned b;

			if (!json_is_string(v) || !lookup_name(t, json_string_value(v), &b))
				return false;
			*out |= b;
		}
		return true;
	}
	return false;
}

static void put_be(uint8_t *out, unsigned width, unsigned v)
{
	for (unsigned i = 0; i < width; i++)
		out[width - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* The field a match reads (payload, meta or ct), RF_COUNT if unknown. */
static enum rs_field field_of(json_t *j)
{
	json_t *p = json_object_get(j, "payload"), *mt = json_object_get(j, "meta"),
	       *ct = json_object_get(j, "ct");

	if (p) {
		const char *proto = json_string_value(json_object_get(p, "protocol"));
		const char *f = json_string_value(json_object_get(p, "field"));
		static const struct { const char *proto, *field; enum rs_field rf; } map[] = {
			{ "ip", "saddr", RF_IP_SADDR }, { "ip", "daddr", RF_IP_DADDR },
			{ "ip", "protocol", RF_IP_PROTOCOL }, { "ip6", "saddr", RF_IP6_SADDR },
			{ "ip6", "daddr", RF_IP6_DADDR }, { "ip6", "nexthdr", RF_IP6_NEXTHDR },
			{ "tcp", "sport", RF_TCP_SPORT }, { "tcp", "dport", RF_TCP_DPORT },
			{ "th", "sport", RF_TCP_SPORT }, { "th", "dport", RF_TCP_DPORT },
			{ "tcp", "flags", RF_TCP_FLAGS },
		};

		if (!proto || !f)
			return RF_COUNT;
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strcmp(map[i].proto, proto) && !strcmp(map[i].field, f))
				return map[i].rf;
		return RF_COUNT;
	}
	if (mt || ct) {
		const char *k = json_string_value(json_object_get(mt ? mt : ct, "key"));
		static const struct { const char *key; enum rs_field rf; } meta[] = {
			{ "iifname", RF_IIFNAME }, { "oifname", RF_OIFNAME },
			{ "l4proto", RF_L4PROTO }, { "nfproto", RF_NFPROTO },
			{ "protocol", RF_PROTOCOL },
		};

		if (!k)
			return RF_COUNT;
		if (ct)
			return strcmp(k, "state") == 0 && !json_object_get(ct, "dir") ? RF_CT_STATE
										     : RF_COUNT;
		for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
			if (!strcmp(meta[i].key, k))
				return meta[i].rf;
	}
	return RF_COUNT;
}

/* One value of field f into out (rs_field_width[f] bytes). A name ending in
 * '*' (iifname "eth*") is a prefix: out gets the low end, hi (if given) the
 * high end of the names it matches. */
bool rs_value_of(enum rs_field f, json_t *j, uint8_t *out, uint8_t *hi)
{
	unsigned w = rs_field_width[f], n;
	const char *s = json_string_value(j);

	memset(out, 0, w);
	if (hi)
		memset(hi, 0, w);
	switch (f) {
	case RF_IIFNAME:
	case RF_OIFNAME: {
		size_t len;

		if (!s || (len = strlen(s)) >= 16)
			return false;
		memcpy(out, s, len);
		if (hi) {
			memcpy(hi, s, len);
			if (len && s[len - 1] == '*') {
				out[len - 1] = 0;
				memset(hi + len - 1, 0xff, 16 - (len - 1));
			}
		}
		return true;
	}
	case RF_IP_SADDR:
	case RF_IP_DADDR:
		if (!s || inet_pton(AF_INET, s, out) != 1)
			return false;
		break;
	case RF_IP6_SADDR:
	case RF_IP6_DADDR:
		if (!s || inet_pton(AF_INET6, s, out) != 1)
			return false;
		break;
	case RF_L4PROTO:
	case RF_IP_PROTOCOL:
	case RF_IP6_NEXTHDR:
		if (!number_of(j, protos, false, &n) || n > 255)
			return false;
		put_be(out, w, n);
		break;
	case RF_NFPROTO:
		if (!number_of(j, nfprotos, false, &n) || n > 255)
			return false;
		put_be(out, w, n);
		break;
	case RF_PROTOCOL:
		if (!number_of(j, ethertypes, false, &n) || n > 0xffff)
			return false;
		put_be(out, w, n);
		break;
	case RF_CT_STATE:
		if (!number_of(j, ct_states, true, &n))
			return false;
		put_be(out, w, n);
		break;
	case RF_TCP_FLAGS:
		if (!number_of(j, tcp_flags, true, &n) || n > 255)
			return false;
		put_be(out, w, n);
		break;
	case RF_TCP_SPORT:
	case RF_TCP_DPORT:
		if (!number_of(j, NULL, false, &n) || n > 0xffff)
			return false;
		put_be(out, w, n);
		break;
	case RF_COUNT:
		return false;
	}
	if (hi)
		memcpy(hi, out, w);
	return true;
}

/* A key: one field, `field & mask`, or a concatenation. false if unknown. */
bool rs_key_of(json_t *j, struct rs_key *k)
{
	json_t *concat = json_object_get(j, "concat"), *and = json_object_get(j, "&");
	size_t i;
	json_t *v;

	memset(k, 0, sizeof(*k));
	if (concat) {
		if (!json_is_array(concat) || json_array_size(concat) > RS_KEY_PARTS)
			return false;
		json_array_foreach(concat, i, v) {
			enum rs_field f = field_of(v);

			if (f == RF_COUNT)
				return false;
			k->field[k->n++] = (uint8_t)f;
			k->width = (uint8_t)(k->width + rs_field_width[f]);
		}
		return k->n > 0;
	}
	if (and) {
		enum rs_field f;

		if (!json_is_array(and) || json_array_size(and) != 2)
			return false;
		f = field_of(json_array_get(and, 0));
		if (f == RF_COUNT || !rs_value_of(f, json_array_get(and, 1), k->mask, NULL))
			return false;
		k->masked = true;
		k->field[0] = (uint8_t)f;
		k->n = 1;
		k->width = rs_field_width[f];
		return true;
	}
	k->field[0] = (uint8_t)field_of(j);
	if (k->field[0] == RF_COUNT)
		return false;
	k->n = 1;
	k->width = rs_field_width[k->field[0]];
	return true;
}

/* A value, prefix or range of key k (one part, or a concatenation of them)
 * into lo/hi. */
bool rs_interval_of(const struct rs_key *k, json_t *j, uint8_t *lo, uint8_t *hi)
{
	json_t *pfx = json_object_get(j, "prefix"), *range = json_object_get(j, "range"),
	       *concat = json_object_get(j, "concat");

	if (k->n > 1) {
		unsigned off = 0;
		size_t i;
		json_t *v;

		if (!json_is_array(concat) || json_array_size(concat) != k->n)
			return false;
		json_array_foreach(concat, i, v) {
			struct rs_key part = { .n = 1, .field = { k->field[i] },
					       .width = rs_field_width[k->field[i]] };

			if (!rs_interval_of(&part, v, lo + off, hi + off))
				return false;
			off += part.width;
		}
		return true;
	}
	if (pfx) {
		json_int_t len = json_integer_value(json_object_get(pfx, "len"));
		unsigned w = k->width;

		if (!rs_value_of(k->field[0], json_object_get(pfx, "addr"), lo, NULL) || len < 0 ||
		    len > (json_int_t)(8 * w))
			return false;
		for (unsigned b = 0; b < w; b++) {
			int keep = (int)len - 8 * (int)b;
			uint8_t m = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));

			lo[b] &= m;
			hi[b] = (uint8_t)(lo[b] | ~m);
		}
		return true;
	}
	if (range)
		return json_is_array(range) && json_array_size(range) == 2 &&
		       rs_value_of(k->field[0], json_array_get(range, 0), lo, NULL) &&
		       rs_value_of(k->field[0], json_array_get(range, 1), hi, NULL) &&
		       memcmp(lo, hi, k->width) <= 0;
	return rs_value_of(k->field[0], j, lo, hi);
}

