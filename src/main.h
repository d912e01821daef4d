/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line: each subcommand in its own file, all of them picking exit
 * codes (library code never does). */
#ifndef RSTWATCH_MAIN_H
#define RSTWATCH_MAIN_H

enum { EXIT_OKAY = 0, EXIT_PARTIAL = 1, EXIT_USAGE = 2 };

extern const char usage_explain[];
extern const char usage_run[];
extern const char usage_check[];
extern const char usage_status[];

/* "Try 'rstwatch help CMD'." on stderr after a one-line complaint; EXIT_USAGE. */
int usage_hint(const char *cmd);

/* getopt_long returned '?' (with opterr 0: getopt's own message would name
 * the verb, not the command): the one-line complaint about arg, the hint. */
int usage_bad_option(const char *cmd, const char *arg);

int cmd_explain(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
