/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The options of `rstwatch run` and `rstwatch rules`: their table, how one is
 * applied (from the command line or a config file), and the config file
 * reader. Everything is bounded: numbers are decimal within a range (hex
 * only for the mark mask), strings fit their field, a config file is a
 * regular file of at most CONFIG_FILE_MAX bytes in lines of at most
 * CONFIG_LINE_MAX. Each refusal is one line in err. */
#ifndef RSTWATCH_CONFIG_H
#define RSTWATCH_CONFIG_H

#include <getopt.h>
#include <stddef.h>

#include "daemon.h"

#define CONFIG_FILE_MAX (1024 * 1024)
/* Room for the longest value (a 4095-byte log path) with its name. */
#define CONFIG_LINE_MAX 4200

/* getopt_long's table and short options; the 'F' entry is --config. */
extern const struct option config_run_opts[];
#define CONFIG_SHORT_OPTS "q:l:m:s:c:F:h"

/* A decimal number in [min, max]: digits only, no sign, space or leading
 * zero (strtoul's base 0 read "010" as 8). 0, or -1. */
int config_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Apply option code (a config_run_opts val) named name with value val.
 * 0, or -1 with the reason in err. */
int config_apply(struct daemon_config *c, int code, const char *name, const char *val,
		 char *err, size_t errlen);

/* Apply the "name = value" lines of the file at path ('#' starts a comment,
 * flags take yes/no). 0, or -1 with "path:line: reason" in err. */
int config_load(struct daemon_config *c, const char *path, char *err, size_t errlen);

#endif
