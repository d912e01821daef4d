/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rstwatch status: ask the running daemon over its control socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "main.h"

const char usage_status[] =
"usage: rstwatch status [--control PATH]\n"
"\n"
"Asks the running 'rstwatch run' over its control socket (default\n"
CONTROL_PATH_DEFAULT ", the daemon's --control) and prints its answer:\n"
"pid, version, queues, nflog groups, mode, whether it loads the ruleset,\n"
"log target, uptime, resets so far (by class, and how many were dropped) and\n"
"events suppressed by the rate limit. Nothing is guessed: without an answer\n"
"it says why.\n"
"\n"
"Options:\n"
"  -C, --control PATH      the daemon's control socket\n"
"  -h, --help              this help\n"
"\n"
"Exit status: 0 a daemon answered; 1 none answers on PATH (not running,\n"
"or no permission: the socket is its owner's); 2 bad usage.\n";

int cmd_status(int argc, char **argv)
{
	const char *path = CONTROL_PATH_DEFAULT;
	char answer[CONTROL_ANSWER_MAX];
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_status, stdout);
			return EXIT_OKAY;
		}
		if ((!strcmp(argv[i], "--control") || !strcmp(argv[i], "-C")) && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--control=", 10)) {
			path = argv[i] + 10;
		} else {
			fprintf(stderr, "rstwatch status: unexpected argument '%s'\n", argv[i]);
			return usage_hint("status");
		}
	}
	if (control_query(path, answer, sizeof(answer), 2000) < 0) {
		int e = errno;

		fprintf(stderr, "rstwatch status: no daemon answers on %s: %s%s\n", path,
			strerror(e), e == ENOENT || e == ECONNREFUSED ? " (rstwatch run is not running)"
			: e == EACCES ? " (the control socket is root's)" : "");
		return EXIT_PARTIAL;
	}
	fputs(answer, stdout);
	return EXIT_OKAY;
}
