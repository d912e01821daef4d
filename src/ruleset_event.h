/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule of a local-firewall reset event: live (the worker threads) and
 * offline (explain --ruleset) alike. */
#ifndef RSTWATCH_RULESET_EVENT_H
#define RSTWATCH_RULESET_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "ruleset.h"

struct rule_names {
	char json[RULESET_JSON_MAX];
	char text[RULESET_TEXT_MAX];
};

/* If ev is a local-firewall reset, evaluate the packet it answers against m
 * and point ev->rule_json / ev->rule_text at out. reset_oifname: the
 * interface the reset left by; trigger_oifname: where the packet it answers
 * was routed (each NULL: unknown); changed: the ruleset changed between the
 * reset and m. */
void ruleset_name_event(const struct rs_model *m, bool changed, const char *reset_oifname,
			const char *trigger_oifname, struct rst_event *ev, struct rule_names *out);

/* The same live: with the model of c the reset (seen at ev->ts_us) met, and
 * the trigger's way out from this host's routes (reset_oif: the index of
 * reset_oifname, 0 if unknown). */
struct ruleset_current;
void ruleset_name_live(struct ruleset_current *c, struct rst_event *ev, uint32_t reset_oif,
		       const char *reset_oifname, struct rule_names *out);

#endif
