/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rstwatch ruleset described once, as data: its chains and rules (what
 * each matches and does), read by the builder (batch.c), the checker
 * (check.c) and the nft text printer (spec.c). Internal to rules/. */
#ifndef RSTWATCH_RULES_SPEC_H
#define RSTWATCH_RULES_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "install.h"

#define TABLE_COMMENT "rstwatch: TCP resets to NFQUEUE (rules/rstwatch.nft)"
#define DIVERT_CHAIN "divert"
#define QUEUE_COMMENT "to the rstwatch daemon"


/* The prefix of the copy a queued reset leaves in its log group just before
 * it is queued (see rules/rstwatch.nft, chain divert): the reader knows the
 * copy's original is on its way through the queue, and that every copy the
 * kernel made before it has now been delivered. */
#define QUEUED_PREFIX RULES_QUEUED_PREFIX

enum match {
	M_IIF_LO,             /* iif "lo" */
	M_TCP_RST,            /* tcp flags & rst == rst */
	M_TCP_SYN_FIN,        /* tcp flags & (syn | fin) != 0 */
	M_TCP_NO_HANDSHAKE,   /* tcp flags & (fin | syn | rst) == 0 */
	M_CT_WATCH,           /* ct mark & WATCH == WATCH */
	M_CT_UNCONFIRMED,     /* ct status & confirmed == 0 */
};

enum action {
	A_ACCEPT,
	A_JUMP_DIVERT,
	A_GOTO_COPY,          /* goto copy: batched copy, then the hook's policy (accept) */
	A_GOTO_COPY_NOW,      /* goto copy_now: a copy sent at once */
	A_LOG_BATCHED,        /* log group G+k (per worker) */
	A_LOG_NOW,            /* log group G+k queue-threshold 1 (per worker) */
	A_LOG_QUEUED,         /* log prefix QUEUED group G+k queue-threshold 1 (per worker) */
	A_QUEUE,              /* counter queue num Q+k bypass (per worker) */
};

/* Index into spec_chains[]. */
enum chain_id { CH_PRE, CH_OUT, CH_PRE_WATCH, CH_OUT_WATCH, CH_COPY, CH_COPY_NOW, CH_DIVERT,
		N_CHAINS };

struct chain_spec {
	const char *name;
	int hook;             /* NF_INET_*, or -1 for a regular chain */
	int prio;
	const char *prio_name;
	enum rules_level level;
	const char *comment;
};

struct rule_spec {
	enum chain_id chain;
	enum rules_level level;
	enum match m[2];
	unsigned nm;
	enum action act;
	/* One rule per worker (queue k and log group k). With more than one
	 * worker each is guarded by `symhash mod N == k`: the flow's symmetric
	 * hash picks its worker, the same for its copies and its queued
	 * resets, so one thread owns the flow without locks. */
	bool per_worker;
	const char *comment;  /* kernel limit: 128 bytes */
};


extern const struct chain_spec spec_chains[N_CHAINS];
extern const struct rule_spec spec_rules[];
extern const size_t n_spec_rules;
#define N_SPEC_RULES n_spec_rules

/* A rule is installed when its level and its chain's level are reached. */
bool spec_rule_applies(const struct rule_spec *rs, enum rules_level level);
unsigned spec_workers(const struct rules_config *c);
/* How many copies of rs the table holds for c. */
unsigned spec_rule_copies(const struct rule_spec *rs, const struct rules_config *c);

/* A one-line reason into err (nothing when err is NULL or errlen 0). */
__attribute__((format(printf, 3, 4)))
void rules_set_err(char *err, size_t errlen, const char *fmt, ...);

#endif
