/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset's description (chains, rules), the configuration that shapes
 * it, and the same ruleset as nft text (`rstwatch rules print`). */
#include "spec.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>

/* Creation order is listing order: the same as in rules/rstwatch.nft. */
const struct chain_spec spec_chains[N_CHAINS] = {
	[CH_PRE] = { "prerouting", NF_INET_PRE_ROUTING, NF_IP_PRI_RAW, "raw", RULES_LEVEL_RST,
		     "packets arriving or crossing, before conntrack" },
	[CH_OUT] = { "output", NF_INET_LOCAL_OUT, NF_IP_PRI_RAW, "raw", RULES_LEVEL_RST,
		     "packets this host sends, before conntrack" },
	[CH_PRE_WATCH] = { "prerouting_watch", NF_INET_PRE_ROUTING, NF_IP_PRI_MANGLE, "mangle",
			   RULES_LEVEL_HANDSHAKE, "flows on rstwatch's watch list, after conntrack" },
	[CH_OUT_WATCH] = { "output_watch", NF_INET_LOCAL_OUT, NF_IP_PRI_MANGLE, "mangle",
			   RULES_LEVEL_HANDSHAKE, "flows on rstwatch's watch list, after conntrack" },
	[CH_COPY] = { "copy", -1, 0, NULL, RULES_LEVEL_RST,
		      "copies to rstwatch, batched: observed, never held" },
	[CH_COPY_NOW] = { "copy_now", -1, 0, NULL, RULES_LEVEL_RST,
			  "copies to rstwatch, sent at once: observed, never held" },
	[CH_DIVERT] = { DIVERT_CHAIN, -1, 0, NULL, RULES_LEVEL_RST,
			"to the rstwatch queue: what rstwatch may drop" },
};

/* Why each rule is there is told in rules/rstwatch.nft. */
const struct rule_spec spec_rules[] = {
	{ CH_PRE, RULES_LEVEL_RST, { M_IIF_LO }, 1, A_ACCEPT, false,
	  "looped back: already seen at output" },
	{ CH_PRE, RULES_LEVEL_RST, { M_TCP_RST }, 1, A_JUMP_DIVERT, false,
	  "reset: crossing or addressed to this host" },
	{ CH_PRE, RULES_LEVEL_HANDSHAKE, { M_TCP_SYN_FIN }, 1, A_GOTO_COPY, false,
	  "handshake: SYN, SYN/ACK and FIN give the flow's baseline" },
	{ CH_OUT, RULES_LEVEL_RST, { M_TCP_RST, M_CT_UNCONFIRMED }, 2, A_GOTO_COPY_NOW, false,
	  "reset: this host's firewall refusing a new flow; copy, never queue" },
	{ CH_OUT, RULES_LEVEL_RST, { M_TCP_RST }, 1, A_JUMP_DIVERT, false,
	  "reset: sent by this host" },
	{ CH_OUT, RULES_LEVEL_HANDSHAKE, { M_TCP_SYN_FIN }, 1, A_GOTO_COPY, false,
	  "handshake: SYN, SYN/ACK and FIN this host sends" },
	{ CH_PRE_WATCH, RULES_LEVEL_HANDSHAKE, { M_IIF_LO }, 1, A_ACCEPT, false,
	  "looped back: already seen at output" },
	{ CH_PRE_WATCH, RULES_LEVEL_HANDSHAKE, { M_CT_WATCH, M_TCP_NO_HANDSHAKE }, 2,
	  A_GOTO_COPY_NOW, false, "watch: every packet of a flow rstwatch put on its watch list" },
	{ CH_OUT_WATCH, RULES_LEVEL_HANDSHAKE, { M_CT_WATCH, M_TCP_NO_HANDSHAKE }, 2,
	  A_GOTO_COPY_NOW, false, "watch: every packet of a flow rstwatch put on its watch list" },
	{ CH_COPY, RULES_LEVEL_RST, { 0 }, 0, A_LOG_BATCHED, true,
	  "to rstwatch's log group" },
	{ CH_COPY_NOW, RULES_LEVEL_RST, { 0 }, 0, A_LOG_NOW, true,
	  "to rstwatch's log group, flushing what it gathered" },
	{ CH_DIVERT, RULES_LEVEL_RST, { M_CT_UNCONFIRMED }, 1, A_ACCEPT, false,
	  "holds an unconfirmed conntrack entry: the queue would drop it" },
	{ CH_DIVERT, RULES_LEVEL_RST, { 0 }, 0, A_LOG_QUEUED, true,
	  "a copy first: rstwatch judges the reset after every copy made before it" },
	{ CH_DIVERT, RULES_LEVEL_RST, { 0 }, 0, A_QUEUE, true, QUEUE_COMMENT },
};


const size_t n_spec_rules = sizeof(spec_rules) / sizeof(spec_rules[0]);

bool spec_rule_applies(const struct rule_spec *rs, enum rules_level level)
{
	return rs->level <= level && spec_chains[rs->chain].level <= level;
}

unsigned spec_workers(const struct rules_config *c)
{
	return (unsigned)(c->queue_last - c->queue_first) + 1;
}

unsigned spec_rule_copies(const struct rule_spec *rs, const struct rules_config *c)
{
	if (!spec_rule_applies(rs, c->level))
		return 0;
	return rs->per_worker ? spec_workers(c) : 1;
}

static const char *const level_names[] = { "rst", "handshake" };

/* ---- configuration ---- */

void rules_config_default(struct rules_config *c)
{
	memset(c, 0, sizeof(*c));
	c->queue_first = RULES_DEFAULT_QUEUE;
	c->queue_last = RULES_DEFAULT_QUEUE;
	c->nflog_group = RULES_DEFAULT_NFLOG_GROUP;
	c->mark_mask = RULES_DEFAULT_MARK_MASK;
	c->watch_bit = RULES_DEFAULT_WATCH_BIT;
	c->level = RULES_LEVEL_HANDSHAKE;
	c->bypass = true;
	c->impl = RULES_QUEUE_AUTO;
}

const char *rules_level_name(enum rules_level l)
{
	return (unsigned)l < sizeof(level_names) / sizeof(level_names[0]) ? level_names[l] : "?";
}

int rules_level_from_name(const char *name)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	/* The old third level: its watch-list chains are part of handshake now,
	 * as copies. Accepted so that existing configurations keep working. */
	if (strcmp(name, "watch") == 0)
		return RULES_LEVEL_HANDSHAKE;
	return -1;
}

void rules_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int rules_config_check(const struct rules_config *c, char *err, size_t errlen)
{
	const char *why = NULL;

	if (c->queue_last < c->queue_first)
		why = "queue range ends before it starts";
	else if (c->mark_mask == 0)
		why = "mark mask is empty";
	else if (c->watch_bit == 0 || (c->watch_bit & (c->watch_bit - 1)) != 0)
		why = "watch bit must be exactly one bit";
	else if ((c->watch_bit & c->mark_mask) != c->watch_bit)
		why = "watch bit lies outside the mark mask";
	else if ((unsigned)c->level > RULES_LEVEL_HANDSHAKE)
		why = "unknown context level";
	else if (spec_workers(c) > RULES_MAX_WORKERS)
		why = "more queues than rstwatch runs threads for (at most " RULES_MAX_WORKERS_STR ")";
	else if ((unsigned)c->nflog_group + spec_workers(c) - 1 > 0xffff)
		why = "nflog groups (one per queue) run past 65535";
	else if ((unsigned)c->impl > RULES_QUEUE_XT)
		why = "unknown queue implementation";
	if (why) {
		rules_set_err(err, errlen, "%s", why);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- nft text ---- */

static void print_match(FILE *f, enum match m, const struct rules_config *c)
{
	switch (m) {
	case M_IIF_LO:
		fputs("iif \"lo\"", f);
		break;
	case M_TCP_RST:
		fputs("tcp flags & rst == rst", f);
		break;
	case M_TCP_SYN_FIN:
		fputs("tcp flags & (syn | fin) != 0", f);
		break;
	case M_TCP_NO_HANDSHAKE:
		fputs("tcp flags & (fin | syn | rst) == 0", f);
		break;
	case M_CT_WATCH:
		fprintf(f, "ct mark & 0x%08x == 0x%08x", c->watch_bit, c->watch_bit);
		break;
	case M_CT_UNCONFIRMED:
		fputs("ct status & confirmed == 0", f);
		break;
	}
}

static void print_action(FILE *f, enum action a, const struct rules_config *c, unsigned k)
{
	unsigned group = c->nflog_group + k;

	switch (a) {
	case A_ACCEPT:
		fputs("accept", f);
		break;
	case A_JUMP_DIVERT:
		fputs("jump " DIVERT_CHAIN, f);
		break;
	case A_GOTO_COPY:
		fprintf(f, "goto %s", spec_chains[CH_COPY].name);
		break;
	case A_GOTO_COPY_NOW:
		fprintf(f, "goto %s", spec_chains[CH_COPY_NOW].name);
		break;
	case A_LOG_BATCHED:
		fprintf(f, "log group %u", group);
		break;
	case A_LOG_NOW:
		fprintf(f, "log group %u queue-threshold 1", group);
		break;
	case A_LOG_QUEUED:
		fprintf(f, "limit rate %u/second burst %u packets log prefix \"%s\" group %u "
			"queue-threshold 1", RULES_MARKER_RATE, RULES_MARKER_BURST, QUEUED_PREFIX,
			group);
		break;
	case A_QUEUE:
		/* nft queue, or the xt NFQUEUE target where the kernel lacks
		 * nft_queue; nft lists both alike. */
		fprintf(f, "counter queue num %u%s", c->queue_first + k, c->bypass ? " bypass" : "");
		break;
	}
}

int rules_print(FILE *f, const struct rules_config *c)
{
	unsigned n = spec_workers(c);

	if (rules_config_check(c, NULL, 0) < 0)
		return -1;
	fprintf(f, "# rstwatch ruleset: level %s, queue %u", rules_level_name(c->level),
		c->queue_first);
	if (n > 1)
		fprintf(f, "-%u", c->queue_last);
	fprintf(f, ", nflog group %u", c->nflog_group);
	if (n > 1)
		fprintf(f, "-%u", c->nflog_group + n - 1);
	fprintf(f,
		", watch bit 0x%08x\n"
		"# (rules/rstwatch.nft explains every rule)\n"
		"table inet %s {\n\tcomment \"%s\"\n",
		c->watch_bit, RULES_TABLE, TABLE_COMMENT);
	for (unsigned i = 0; i < N_CHAINS; i++) {
		const struct chain_spec *ch = &spec_chains[i];

		if (ch->level > c->level)
			continue;
		fprintf(f, "\n\tchain %s {\n\t\tcomment \"%s\"\n", ch->name, ch->comment);
		if (ch->hook >= 0)
			fprintf(f, "\t\ttype filter hook %s priority %s; policy accept;\n",
				ch->hook == NF_INET_PRE_ROUTING ? "prerouting" : "output",
				ch->prio_name);
		for (unsigned r = 0; r < N_SPEC_RULES; r++) {
			const struct rule_spec *rs = &spec_rules[r];
			unsigned copies = spec_rule_copies(rs, c);

			if (rs->chain != i)
				continue;
			for (unsigned k = 0; k < copies; k++) {
				/* The queue rule needs a kernel that takes it: rstwatch
				 * adds it with whichever statement the kernel has, so
				 * this file stays loadable everywhere. */
				fputs(rs->act == A_QUEUE ? "\t\t# " : "\t\t", f);
				if (rs->per_worker && n > 1)
					fprintf(f, "symhash mod %u %u ", n, k);
				for (unsigned m = 0; m < rs->nm; m++) {
					print_match(f, rs->m[m], c);
					fputc(' ', f);
				}
				print_action(f, rs->act, c, k);
				fprintf(f, " comment \"%s\"\n", rs->comment);
			}
		}
		fputs("\t}\n", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}
