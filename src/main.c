/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rstwatch command line: dispatch to the subcommands (main_*.c). */
#include <stdio.h>
#include <string.h>

#include "main.h"
#include "version.h"


static const char usage_main[] =
"usage: rstwatch COMMAND [OPTIONS] [ARGS]\n"
"\n"
"Explains TCP resets: for every reset, who sent it and why (nothing listening,\n"
"full accept queue, peer restart, application abort, unread data, idle or\n"
"keepalive timeout, TIME-WAIT assassination, SYN on a live 4-tuple, a firewall\n"
"reject, or a forged reset from a box on the path).\n"
"\n"
"Commands:\n"
"  explain [OPTIONS] FILE...|-|-i IFACE\n"
"                             classify every reset in pcap/pcapng captures, a\n"
"                             pipe (-) or a live interface\n"
"  run [OPTIONS]              the gateway daemon: nftables rules, NFQUEUE,\n"
"                             conntrack context and marks, events, metrics\n"
"  rules print|install|remove|status [OPTIONS]\n"
"                             the nftables ruleset 'run' loads (same options)\n"
"  check                      which kernel features exist, which fallback 'run'\n"
"                             uses; non-zero exit if 'run' cannot work here\n"
"  status [--control PATH]    ask the running daemon: pid, queues, mode,\n"
"                             uptime, resets so far\n"
"  help [COMMAND]             show help for a command\n"
"  version, --version, -V     print the version\n"
"\n"
"Run 'rstwatch help COMMAND' for a command's options. Exit status: 0 success,\n"
"1 a runtime failure, 2 bad usage or configuration.\n";

static const struct help_topic {
	const char *command;
	const char *text;
} help_topics[] = {
	{ "explain", usage_explain }, { "run", usage_run }, { "rules", usage_run },
	{ "check", usage_check }, { "status", usage_status },
};

int usage_hint(const char *cmd)
{
	fprintf(stderr, "Try 'rstwatch help%s%s'.\n", *cmd ? " " : "", cmd);
	return EXIT_USAGE;
}

int usage_bad_option(const char *cmd, const char *arg)
{
	fprintf(stderr, "rstwatch %s: unknown option or missing value: '%s'\n", cmd, arg);
	return usage_hint(cmd);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	size_t i;

	if (!cmd) {
		fputs("rstwatch: no command given\n", stderr);
		return usage_hint("");
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(usage_main, stdout);
		return EXIT_OKAY;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("rstwatch %s\n", RSTWATCH_VERSION);
		return EXIT_OKAY;
	}
	if (!strcmp(cmd, "help")) {
		if (argc <= 2) {
			fputs(usage_main, stdout);
			return EXIT_OKAY;
		}
		for (i = 0; i < sizeof(help_topics) / sizeof(help_topics[0]); i++)
			if (!strcmp(argv[2], help_topics[i].command)) {
				fputs(help_topics[i].text, stdout);
				return EXIT_OKAY;
			}
		fprintf(stderr, "rstwatch help: no command '%s' (explain, run, rules, check, "
			"status)\n", argv[2]);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "explain"))
		return cmd_explain(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 1, argv + 1);
	fprintf(stderr, "rstwatch: unknown command '%s'\n", cmd);
	return usage_hint("");
}
