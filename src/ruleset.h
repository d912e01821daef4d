/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which rule of this host's nftables ruleset sent a reset (issue 12).
 *
 * A model of the ruleset, built from its JSON (`nft -j list ruleset`: live
 * from libnftables, offline from a file) and evaluated against the packet a
 * local-firewall reset answers. nf_reject mirrors that packet (addresses and
 * ports swapped; an RA answers a segment without ACK, a SYN; an R without ACK
 * answers a segment that acked), so the trigger is known from the reset alone,
 * up to what a reset does not carry (payload, TTL, marks). The evaluator walks
 * the base chains of the trigger's hooks in priority order across tables and
 * families, with jump, goto, return, verdict maps and sets, and follows both
 * ways at every match it cannot decide. Paths that end without a `reject with
 * tcp reset` are impossible (a reset was sent), so what is left is the answer:
 * one rule, named; or candidates, with why.
 *
 * Library code: no I/O here (ruleset_live.c reads the kernel's), errors
 * returned with a reason. A model is immutable once built: threads share it. */
#ifndef RSTWATCH_RULESET_H
#define RSTWATCH_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct rs_model;
struct rs_rule;

/* A model of the JSON in text (len bytes, not necessarily NUL-terminated).
 * NULL with the reason in err on malformed JSON or a model past max_bytes
 * (0: RULESET_MAX_BYTES_DEFAULT). Parts the evaluator does not know (an
 * expression, a family) are kept as "undecidable", never refused. */
#define RULESET_MAX_BYTES_DEFAULT (256u << 20)
struct rs_model *ruleset_parse(const char *text, size_t len, size_t max_bytes, char *err,
			       size_t errlen);
void ruleset_free(struct rs_model *m);
/* The same from a file (explain --ruleset): the reason in err if unreadable. */
struct rs_model *ruleset_load_file(const char *path, char *err, size_t errlen);

/* Bytes the model holds (its arena), rules and set elements it has. */
size_t ruleset_bytes(const struct rs_model *m);
unsigned ruleset_rules(const struct rs_model *m);
unsigned ruleset_elements(const struct rs_model *m);

/* The ruleset generation (NFTA_GEN_ID) the model was read at; 0 offline. */
void ruleset_set_generation(struct rs_model *m, uint32_t gen);
uint32_t ruleset_generation(const struct rs_model *m);

/* iptables-nft rules show as {"xt": ...} in the JSON, without their options:
 * the iptables-save text of the family's tables (`iptables-nft-save`, family
 * 4; `ip6tables-nft-save`, 6) gives each such rule its -A line, matched by
 * table, chain and position, and tells whether a REJECT is --reject-with
 * tcp-reset. Returns how many rules got their line. */
unsigned ruleset_add_iptables_save(struct rs_model *m, int family, const char *text, size_t len);

/* Where the packet a reset answers went through this host. */
enum rs_path {
	RS_PATH_INPUT = 1,      /* addressed to this host: prerouting, input */
	RS_PATH_FORWARD = 2,    /* crossing: prerouting, forward */
	RS_PATH_OUTPUT = 4,     /* sent by this host to another: output */
	RS_PATH_LOCAL = 8,      /* from this host to itself: output, then prerouting and
				 * input on lo */
};

/* ct state bits as nft has them. */
#define RS_CT_INVALID 1u
#define RS_CT_ESTABLISHED 2u
#define RS_CT_RELATED 4u
#define RS_CT_NEW 8u
#define RS_CT_UNTRACKED 64u

/* The packet a reset answered, as far as the reset tells. */
struct rs_trigger {
	int family;                    /* 4 or 6 */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint8_t tcp_flags, tcp_flags_known;   /* bits known to be set / known at all */
	uint32_t ct_states;            /* the ct states it may have had (one bit: known) */
	unsigned paths;                /* rs_path bits it may have taken (one: known) */
	char iifname[16];              /* input and forward paths: where it came in */
	bool iif_known;
	char oifname[16];              /* forward and output paths: where it would go */
	bool oif_known;
};

/* The trigger of rst: ct_states what conntrack says of it (0: unknown; a
 * copied reset's entry was unconfirmed: RS_CT_NEW; a queued one's confirmed:
 * RS_CT_ESTABLISHED); reset_oifname the interface the reset left by (the
 * trigger's way in, routes being symmetric), NULL if unknown; paths the
 * rs_path bits it may have taken (0: input or forward). */
void ruleset_trigger_of_reset(const struct tcp_packet *rst, uint32_t ct_states,
			      const char *reset_oifname, unsigned paths, struct rs_trigger *t);

#define RS_CANDIDATES_MAX 4

struct rs_answer {
	unsigned n;                    /* rules that may have sent it (0: none found) */
	const struct rs_rule *rule[RS_CANDIDATES_MAX];
	bool more;                     /* more than RS_CANDIDATES_MAX */
	char why[160];                 /* n != 1, or an uncertainty: what was undecidable */
	uint32_t generation;
};

/* Evaluate t against m. Never fails: an answer of n 0 says why. */
void ruleset_explain(const struct rs_model *m, const struct rs_trigger *t, struct rs_answer *a);

/* The answer as the event's `rule` object (JSON, without the key) and as the
 * text line's words ("rejected by inet filter forward handle 12: ..."). Each
 * is cut, never left unterminated. changed: the ruleset changed between the
 * reset and the lookup (the answer may name what the rule is now). */
#define RULESET_JSON_MAX 1400
#define RULESET_TEXT_MAX 480
void ruleset_answer_json(const struct rs_answer *a, bool changed, char *out, size_t size);
void ruleset_answer_text(const struct rs_answer *a, bool changed, char *out, size_t size);

/* One rule's names, for tests and the bench. */
const char *rs_rule_family(const struct rs_rule *r);
const char *rs_rule_table(const struct rs_rule *r);
const char *rs_rule_chain(const struct rs_rule *r);
uint64_t rs_rule_handle(const struct rs_rule *r);
const char *rs_rule_text(const struct rs_rule *r);

#endif
