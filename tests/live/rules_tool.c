/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rules_tool: the rules/install.h API from the command line, for the live
 * tests (the daemon's `rstwatch rules ...` is written elsewhere).
 *
 *   rules_tool [options] probe|install|remove|check|print
 *     -q A[-B]   queue range        -g N    nflog group
 *     -l LEVEL   rst|handshake|watch -w BIT  watch bit   -M MASK  mark mask
 *     -i IMPL    auto|native|xt      -n      no bypass
 *
 * check prints intact|missing|altered and exits 0, 3, 4 respectively. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "install.h"

static const char *err_name(int e)
{
	switch (e) {
	case 0: return "ok";
	case ENOENT: return "ENOENT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EINVAL: return "EINVAL";
	default: return strerror(e);
	}
}

static const char *impl_name(enum rules_queue_impl i)
{
	return i == RULES_QUEUE_NATIVE ? "native" : i == RULES_QUEUE_XT ? "xt" : "none";
}

int main(int argc, char **argv)
{
	struct rules_config c;
	struct rules_probe p;
	char err[256];
	const char *cmd;
	unsigned a, b;
	int opt, r;

	rules_config_default(&c);
	while ((opt = getopt(argc, argv, "q:g:l:w:M:i:n")) != -1) {
		switch (opt) {
		case 'q':
			r = sscanf(optarg, "%u-%u", &a, &b);
			if (r < 1 || a > 65535 || (r == 2 && b > 65535))
				return 2;
			c.queue_first = (uint16_t)a;
			c.queue_last = (uint16_t)(r == 2 ? b : a);
			break;
		case 'g': c.nflog_group = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'w': c.watch_bit = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'M': c.mark_mask = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': c.bypass = false; break;
		case 'l':
			r = rules_level_from_name(optarg);
			if (r < 0) {
				fprintf(stderr, "rules_tool: unknown level %s\n", optarg);
				return 2;
			}
			c.level = (enum rules_level)r;
			break;
		case 'i':
			if (strcmp(optarg, "native") == 0)
				c.impl = RULES_QUEUE_NATIVE;
			else if (strcmp(optarg, "xt") == 0)
				c.impl = RULES_QUEUE_XT;
			else
				c.impl = RULES_QUEUE_AUTO;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: rules_tool [options] probe|install|remove|check|print\n");
		return 2;
	}
	cmd = argv[optind];

	if (strcmp(cmd, "probe") == 0) {
		if (rules_probe(&p) < 0) {
			fprintf(stderr, "rules_tool: probe: %s\n", strerror(errno));
			return 1;
		}
		printf("native_queue=%s xt_nfqueue=%s nft_compat=%s xt_nfqueue_rev=%d choose=%s\n",
		       err_name(p.native_queue_err), err_name(p.xt_nfqueue_err),
		       p.nft_compat ? "yes" : "no", p.xt_nfqueue_rev,
		       impl_name(rules_probe_choose(&p)));
		return 0;
	}
	if (strcmp(cmd, "install") == 0) {
		if (rules_install(&c, err, sizeof(err)) < 0) {
			fprintf(stderr, "rules_tool: install: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (strcmp(cmd, "remove") == 0) {
		if (rules_remove() < 0) {
			fprintf(stderr, "rules_tool: remove: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (strcmp(cmd, "check") == 0) {
		r = rules_check(&c);
		if (r < 0) {
			fprintf(stderr, "rules_tool: check: %s\n", strerror(errno));
			return 1;
		}
		puts(r == RULES_INTACT ? "intact" : r == RULES_MISSING ? "missing" : "altered");
		return r == RULES_INTACT ? 0 : r == RULES_MISSING ? 3 : 4;
	}
	if (strcmp(cmd, "print") == 0)
		return rules_print(stdout, &c) < 0 ? 1 : 0;
	fprintf(stderr, "rules_tool: unknown command %s\n", cmd);
	return 2;
}
