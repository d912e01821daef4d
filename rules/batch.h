/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libnftnl expressions, nfnetlink batches and the messages of the rstwatch
 * table; sending a batch and collecting its replies. Internal to rules/. */
#ifndef RSTWATCH_RULES_BATCH_H
#define RSTWATCH_RULES_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "install.h"

#define PROBE_TABLE "rstwatch_probe"

/* Collects allocation failures so the builders below stay readable; the
 * rule is checked once it is complete. */
struct rb {
	struct nftnl_rule *r;
	bool oom;
};

/* What each message of a batch was, so an error reply can be named. */
#define MAX_MSGS 128

struct batch {
	char *buf;
	struct mnl_nlmsg_batch *b;
	uint32_t seq;
	unsigned n;
	uint32_t seqs[MAX_MSGS];
	char what[MAX_MSGS][64];
	bool overflow;
};

struct replies {
	const struct batch *bt;
	unsigned got;
	int err[MAX_MSGS];       /* 0 ok, else errno, per message */
	bool seen[MAX_MSGS];
};

/* The kernel's next datagram; anyone else's are skipped (nfq/nlrecv.h). */
ssize_t recv_kernel(struct mnl_socket *nl, void *buf, size_t len);
struct mnl_socket *nl_open(uint32_t *portid);

int batch_init(struct batch *bt, uint32_t seq);
void batch_fini(struct batch *bt);
void batch_begin(struct batch *bt);
void batch_end(struct batch *bt);
struct nftnl_table *table_new(const char *name, const char *comment);
int add_table_msg(struct batch *bt, uint16_t type, uint16_t flags, const char *name,
		  const char *comment, const char *what);
int add_chain_msg(struct batch *bt, const char *table, const char *name, int hook, int prio,
		  const char *comment);
struct nftnl_rule *rule_new(const char *table, const char *chain, const char *comment);
int add_rule_msg(struct batch *bt, struct rb *b, const char *what);
/* The rule that hands a packet to queue num. */
void put_queue(struct rb *b, const struct rules_config *c, enum rules_queue_impl impl,
	       uint16_t num);
/* The messages that (re)create the table for c, between BEGIN and END. */
int build_ruleset(struct batch *bt, const struct rules_config *c, enum rules_queue_impl impl);

/* Send a batch and collect one acknowledgement or error per message. */
int batch_talk(struct batch *bt, struct replies *rp);
/* Send a batch that must apply as a whole. 0, or -1 + errno; *bad is the
 * index of the first message the kernel refused, -1 if none was. */
int batch_commit(struct batch *bt, int *bad);

#endif
