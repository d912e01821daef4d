/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The compiled ruleset (src/ruleset.h): what ruleset_load.c builds from the
 * JSON and ruleset_eval.c walks. Internal to the ruleset files.
 *
 * Everything lives in one arena freed at once; values are byte strings in
 * network order, as the kernel compares them, so one memcmp decides an
 * equality, an interval or a concatenation. */
#ifndef RSTWATCH_RULESET_MODEL_H
#define RSTWATCH_RULESET_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ruleset.h"

/* What a match reads from the packet. */
enum rs_field {
	RF_IIFNAME, RF_OIFNAME, RF_L4PROTO, RF_NFPROTO, RF_PROTOCOL, RF_CT_STATE,
	RF_IP_SADDR, RF_IP_DADDR, RF_IP_PROTOCOL, RF_IP6_SADDR, RF_IP6_DADDR, RF_IP6_NEXTHDR,
	RF_TCP_SPORT, RF_TCP_DPORT, RF_TCP_FLAGS,
	RF_COUNT
};

#define RS_KEY_PARTS 4
#define RS_VALUE_MAX 64    /* bytes of the widest key: 4 x an IPv6 address */

struct rs_key {
	uint8_t n;                     /* parts of a concatenation (1: a plain key) */
	uint8_t field[RS_KEY_PARTS];
	uint8_t width;                 /* bytes of the whole key */
	bool masked;                   /* `key & mask` (a single part) */
	uint8_t mask[16];
};

enum rs_verdict_kind {
	V_NONE = 0, V_ACCEPT, V_DROP, V_CONTINUE, V_RETURN, V_JUMP, V_GOTO,
	V_REJECT_TCP,       /* reject with tcp reset: what made the reset */
	V_REJECT_OTHER,     /* reject with icmp...: ends the packet, no reset */
	V_XT_REJECT,        /* iptables-nft REJECT, its kind not in the JSON */
	V_QUEUE,            /* to a userspace queue: ends it here */
};

struct rs_chain;

struct rs_verdict {
	uint8_t kind;
	const struct rs_chain *chain;  /* V_JUMP, V_GOTO */
};

struct rs_elem {
	const uint8_t *lo, *hi;        /* width bytes each; lo == hi for one value */
	struct rs_verdict v;           /* verdict maps */
};

struct rs_set {
	const char *name;              /* "" for an anonymous set */
	uint8_t width;
	uint8_t parts;
	bool sorted;                   /* by lo, not overlapping: binary search */
	bool verdicts;                 /* a verdict map */
	const char *undecidable;       /* NULL, or why no lookup can be decided */
	uint32_t n;
	struct rs_elem *e;
};

enum rs_op { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE, OP_IN };

enum rs_stmt_kind { S_MATCH, S_VMAP, S_VERDICT, S_UNDECIDABLE, S_NOOP };

struct rs_stmt {
	uint8_t kind;
	uint8_t op;
	struct rs_key key;             /* S_MATCH, S_VMAP */
	const uint8_t *lo, *hi;        /* S_MATCH against a value or interval */
	const struct rs_set *set;      /* S_MATCH against a set, S_VMAP */
	struct rs_verdict v;           /* S_VERDICT */
	const char *why;               /* S_UNDECIDABLE: "limit", "ct mark", ... */
};

struct rs_table {
	const char *family;            /* "inet", "ip", "ip6", ... as nft names it */
	int fam;                       /* 4, 6, 46 (inet), 0 (a family no reset path crosses) */
	const char *name;
};

struct rs_rule {
	const struct rs_chain *chain;
	uint64_t handle;
	const char *text;              /* nft syntax, rebuilt from the JSON */
	const char *comment;           /* NULL if none */
	const char *iptables;          /* the iptables-save line of an xt rule, NULL if none */
	bool xt_reject;                /* ends in an iptables-nft REJECT */
	bool xt_tcp_reset;             /* its iptables line says --reject-with tcp-reset */
	uint16_t n;
	const struct rs_stmt *s;
};

struct rs_chain {
	const struct rs_table *table;
	const char *name;
	bool base;
	int hook;                      /* RS_HOOK_* for a base chain */
	int prio;
	bool policy_drop;
	uint32_t n_rules, cap_rules;
	struct rs_rule *rules;
};

enum { RS_HOOK_PREROUTING, RS_HOOK_INPUT, RS_HOOK_FORWARD, RS_HOOK_OUTPUT, RS_HOOKS };

struct rs_arena_chunk;

struct rs_model {
	struct rs_arena_chunk *chunks;
	size_t bytes, max_bytes;
	bool over;                     /* an allocation went past max_bytes */
	uint32_t generation;
	unsigned n_rules, n_elements;
	unsigned n_tables, n_chains, n_sets;
	struct rs_table *tables;
	struct rs_chain *chains;
	struct rs_set *sets;           /* named sets, in the JSON's order */
	const struct rs_table **set_table;  /* the table of each named set */
	/* Base chains of each hook, in the order the kernel runs them. */
	unsigned n_base[RS_HOOKS];
	const struct rs_chain **base[RS_HOOKS];
};

void *rs_alloc(struct rs_model *m, size_t n);

/* Bytes a value of each field takes. */
extern const uint8_t rs_field_width[RF_COUNT];
/* One value of field f from its JSON into out (and hi: the top of what a
 * wildcard name "eth*" matches, else the same value; hi may be NULL). */
bool rs_value_of(enum rs_field f, json_t *j, uint8_t *out, uint8_t *hi);
/* The key a match or map reads: a field, `field & mask`, a concatenation. */
bool rs_key_of(json_t *j, struct rs_key *k);
/* A value, prefix, range or concatenation of key k as the interval lo..hi. */
bool rs_interval_of(const struct rs_key *k, json_t *j, uint8_t *lo, uint8_t *hi);
const char *rs_strdup(struct rs_model *m, const char *s);

/* The rule's expressions as nft prints them (its comment aside), into the
 * arena. */
const char *rs_render_rule(struct rs_model *m, json_t *expr);

#endif
