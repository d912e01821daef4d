/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the ruleset model (src/ruleset_*.c): the input is an
 * `nft -j list ruleset` text, as explain --ruleset reads it from a file; a
 * model that parses is walked for a few resets (IPv4 and IPv6, answering a
 * SYN and an ACK, every path) and its answers formatted. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], json[RULESET_JSON_MAX], text[RULESET_TEXT_MAX];
	struct rs_model *m = ruleset_parse((const char *)data, size, 16u << 20, err, sizeof(err));

	if (!m)
		return 0;
	for (int i = 0; i < 4; i++) {
		struct tcp_packet rst;
		struct rs_trigger t;
		struct rs_answer a;

		memset(&rst, 0, sizeof(rst));
		rst.family = i & 1 ? 6 : 4;
		rst.src[0] = 203;
		rst.dst[0] = 198;
		rst.sport = (uint16_t)(9100 + i);
		rst.dport = 40000;
		rst.flags = i & 2 ? TCPF_RST : TCPF_RST | TCPF_ACK;
		ruleset_trigger_of_reset(&rst, 0, i ? "eth0" : NULL, 0, &t);
		t.paths = RS_PATH_INPUT | RS_PATH_FORWARD | RS_PATH_OUTPUT | RS_PATH_LOCAL;
		ruleset_explain(m, &t, &a);
		ruleset_answer_json(&a, i == 3, json, sizeof(json));
		ruleset_answer_text(&a, i == 3, text, sizeof(text));
	}
	ruleset_free(m);
	return 0;
}
