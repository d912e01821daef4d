/* rstwatch command line: dispatch to the subcommands (main_*.c). */
#include <stdio.h>
#include <string.h>

#include "main.h"

#ifndef RSTWATCH_VERSION
#define RSTWATCH_VERSION "0.1.0"
#endif

static const char usage_main[] =
"usage: rstwatch COMMAND [OPTIONS] [ARGS]\n"
"\n"
"Explains TCP resets: for every reset, who sent it and why (nothing listening,\n"
"full accept queue, peer restart, application abort, unread data, idle or\n"
"keepalive timeout, TIME-WAIT assassination, SYN on a live 4-tuple, a firewall\n"
"reject, or a forged reset from a box on the path).\n"
"\n"
"Commands:\n"
"  explain [--json] FILE...   classify every reset in pcap/pcapng captures\n"
"  run [OPTIONS]              the gateway daemon: nftables rules, NFQUEUE,\n"
"                             conntrack context and marks, events, metrics\n"
"  rules print|install|remove|status [OPTIONS]\n"
"                             the nftables ruleset 'run' loads (same options)\n"
"  check                      which kernel features exist, which fallback 'run'\n"
"                             uses; non-zero exit if 'run' cannot work here\n"
"  help [COMMAND]             show help for a command\n"
"  version                    print the version\n"
"\n"
"Run 'rstwatch COMMAND --help' for a command's options.\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(usage_main, cmd ? stdout : stderr);
		return cmd ? EXIT_OKAY : EXIT_USAGE;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("rstwatch %s\n", RSTWATCH_VERSION);
		return EXIT_OKAY;
	}
	if (!strcmp(cmd, "help")) {
		const char *what = argc > 2 ? argv[2] : "";

		fputs(!strcmp(what, "explain") ? usage_explain
		      : !strcmp(what, "run") || !strcmp(what, "rules") ? usage_run
		      : !strcmp(what, "check") ? usage_check : usage_main, stdout);
		return EXIT_OKAY;
	}
	if (!strcmp(cmd, "explain"))
		return cmd_explain(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	fprintf(stderr, "rstwatch: unknown command '%s'\n\n%s", cmd, usage_main);
	return EXIT_USAGE;
}
