/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hold.h"
#include "logsink.h"

enum {
	OPT_FORMAT = 1000, OPT_MARK_MASK, OPT_WATCH_SECONDS, OPT_METRICS, OPT_NO_RULES,
	OPT_NO_CT, OPT_NFLOG_GROUP, OPT_QUEUE_IMPL, OPT_COPY_RANGE, OPT_QUEUE_MAXLEN,
	OPT_RCVBUF, OPT_BATCH, OPT_NO_FAIL_OPEN, OPT_MAX_FLOWS, OPT_RATE, OPT_BURST,
	OPT_IDLE, OPT_TTL_TOL, OPT_RATE_TOTAL, OPT_ARRIVAL_STAMPS, OPT_HOLD_MIN, OPT_HOLD_MAX,
	OPT_HOLD_COUNT, OPT_LOG_BUFFER, OPT_CONTROL,
};

const struct option config_run_opts[] = {
	{ "queue", required_argument, NULL, 'q' },
	{ "log", required_argument, NULL, 'l' },
	{ "log-buffer", required_argument, NULL, OPT_LOG_BUFFER },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "mode", required_argument, NULL, 'm' },
	{ "suppress", required_argument, NULL, 's' },
	{ "mark-mask", required_argument, NULL, OPT_MARK_MASK },
	{ "context", required_argument, NULL, 'c' },
	{ "watch-seconds", required_argument, NULL, OPT_WATCH_SECONDS },
	{ "hold-min-ms", required_argument, NULL, OPT_HOLD_MIN },
	{ "hold-max-ms", required_argument, NULL, OPT_HOLD_MAX },
	{ "hold-count", required_argument, NULL, OPT_HOLD_COUNT },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "no-rules", no_argument, NULL, OPT_NO_RULES },
	{ "no-conntrack", no_argument, NULL, OPT_NO_CT },
	{ "nflog-group", required_argument, NULL, OPT_NFLOG_GROUP },
	{ "queue-impl", required_argument, NULL, OPT_QUEUE_IMPL },
	{ "copy-range", required_argument, NULL, OPT_COPY_RANGE },
	{ "queue-maxlen", required_argument, NULL, OPT_QUEUE_MAXLEN },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "no-fail-open", no_argument, NULL, OPT_NO_FAIL_OPEN },
	{ "arrival-stamps", no_argument, NULL, OPT_ARRIVAL_STAMPS },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "rate-limit", required_argument, NULL, OPT_RATE },
	{ "rate-burst", required_argument, NULL, OPT_BURST },
	{ "rate-limit-total", required_argument, NULL, OPT_RATE_TOTAL },
	{ "idle-threshold", required_argument, NULL, OPT_IDLE },
	{ "ttl-tolerance", required_argument, NULL, OPT_TTL_TOL },
	{ "config", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The numeric options: their range and the field they set (any unsigned
 * width; rcvbuf is an int whose range fits). */
static const struct num_option {
	int code;
	unsigned long min, max;
	size_t offset, size;
} num_options[] = {
#define NUM(code, lo, hi, field) { code, lo, hi, offsetof(struct daemon_config, field), \
				   sizeof(((struct daemon_config *)0)->field) }
	NUM(OPT_LOG_BUFFER, LOGSINK_BUFFER_MIN, LOGSINK_BUFFER_MAX, log_buffer),
	NUM(OPT_MARK_MASK, 1, 0xffffffffUL, mark_mask),
	NUM(OPT_WATCH_SECONDS, 0, 3600, watch_seconds),
	/* A held reset waits in the kernel's queue: seconds at most. */
	NUM(OPT_HOLD_MIN, 1, 10000, hold_min_ms),
	NUM(OPT_HOLD_MAX, 1, 10000, hold_max_ms),
	NUM(OPT_HOLD_COUNT, 0, HOLD_MAX, hold_count),
	NUM(OPT_NFLOG_GROUP, 0, 65535, nflog_group),
	NUM(OPT_COPY_RANGE, 40, 65535, copy_range),
	NUM(OPT_QUEUE_MAXLEN, 1, 1u << 20, queue_maxlen),
	NUM(OPT_RCVBUF, 0, 1u << 30, rcvbuf),
	NUM(OPT_BATCH, 1, 1024, batch),
	NUM(OPT_MAX_FLOWS, 1, 1u << 28, max_flows),
	NUM(OPT_RATE, 0, 1000000, rate),
	NUM(OPT_BURST, 1, 1000000, burst),
	NUM(OPT_RATE_TOTAL, 0, 10000000, rate_total),
	NUM(OPT_IDLE, 1, 86400 * 30, idle_threshold_s),
	NUM(OPT_TTL_TOL, 0, 64, ttl_tolerance),
#undef NUM
};

_Static_assert(sizeof(int) == sizeof(uint32_t), "rcvbuf is stored as a 32-bit value");

int config_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	const char *p;
	unsigned long v;

	for (p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	if (p == s || (s[0] == '0' && s[1]))
		return -1;
	errno = 0;
	v = strtoul(s, NULL, 10);
	if (errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A bit mask: decimal, or hex with 0x. */
static int parse_mask(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	const char *p;
	unsigned long v;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return config_parse_uint(s, min, max, out);
	for (p = s + 2; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return -1;
	if (p == s + 2 || p - (s + 2) > 8)
		return -1;
	v = strtoul(s + 2, NULL, 16);
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void store(struct daemon_config *c, const struct num_option *n, unsigned long v)
{
	char *field = (char *)c + n->offset;
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	if (n->size == 1)
		memcpy(field, &v8, 1);
	else if (n->size == 2)
		memcpy(field, &v16, 2);
	else
		memcpy(field, &v32, 4);
}

static int copy_str(char *dst, size_t size, const char *name, const char *val, char *err,
		    size_t errlen)
{
	size_t n = strlen(val);

	if (n >= size) {
		snprintf(err, errlen, "--%s: value of %zu bytes, at most %zu allowed", name, n,
			 size - 1);
		return -1;
	}
	memcpy(dst, val, n + 1);
	return 0;
}

/* "N" or "N-M", decimal, at most 64 queues. */
static int parse_queues(struct daemon_config *c, const char *val)
{
	char first[8];
	const char *dash = strchr(val, '-');
	unsigned long v, w;
	size_t n = dash ? (size_t)(dash - val) : strlen(val);

	if (n >= sizeof(first))
		return -1;
	memcpy(first, val, n);
	first[n] = 0;
	if (config_parse_uint(first, 0, 65535, &v))
		return -1;
	w = v;
	if (dash && config_parse_uint(dash + 1, 0, 65535, &w))
		return -1;
	if (w < v || w - v >= 64)
		return -1;
	c->queue_first = (uint16_t)v;
	c->queue_last = (uint16_t)w;
	return 0;
}

int config_apply(struct daemon_config *c, int code, const char *name, const char *val,
		 char *err, size_t errlen)
{
	const struct num_option *n;
	unsigned long v;
	int lvl;

	for (n = num_options; n < num_options + sizeof(num_options) / sizeof(*n); n++) {
		if (n->code != code)
			continue;
		if ((code == OPT_MARK_MASK ? parse_mask : config_parse_uint)(val, n->min, n->max,
									      &v)) {
			snprintf(err, errlen, "--%s: invalid value '%.64s%s': want %s %lu..%lu%s",
				 name, val, strlen(val) > 64 ? "..." : "",
				 code == OPT_MARK_MASK ? "0xHEX or a decimal number in"
						       : "a decimal number in", n->min, n->max,
				 code == OPT_MARK_MASK ? "" : ", no leading zeros");
			return -1;
		}
		store(c, n, v);
		return 0;
	}
	switch (code) {
	case 'q':
		if (parse_queues(c, val))
			goto bad;
		return 0;
	case 'l':
		return copy_str(c->log_target, sizeof(c->log_target), name, val, err, errlen);
	case OPT_FORMAT:
		if (strcmp(val, "json") && strcmp(val, "text"))
			goto bad;
		c->log_text = !strcmp(val, "text");
		return 0;
	case 'm':
		if (strcmp(val, "observe") && strcmp(val, "enforce"))
			goto bad;
		c->mode = strcmp(val, "enforce") ? MODE_OBSERVE : MODE_ENFORCE;
		return 0;
	case 's':
		return copy_str(c->suppress, sizeof(c->suppress), name, val, err, errlen);
	case 'c':
		lvl = rules_level_from_name(val);
		if (lvl < 0)
			goto bad;
		c->level = (enum rules_level)lvl;
		return 0;
	case OPT_METRICS:
		return copy_str(c->metrics_addr, sizeof(c->metrics_addr), name, val, err, errlen);
	case OPT_CONTROL:
		return copy_str(c->control_path, sizeof(c->control_path), name, val, err, errlen);
	case OPT_NO_RULES:
		c->install_rules = false;
		return 0;
	case OPT_NO_CT:
		c->conntrack = false;
		return 0;
	case OPT_QUEUE_IMPL:
		if (!strcmp(val, "auto"))
			c->queue_impl = RULES_QUEUE_AUTO;
		else if (!strcmp(val, "native"))
			c->queue_impl = RULES_QUEUE_NATIVE;
		else if (!strcmp(val, "xt"))
			c->queue_impl = RULES_QUEUE_XT;
		else
			goto bad;
		return 0;
	case OPT_NO_FAIL_OPEN:
		c->fail_open = false;
		return 0;
	case OPT_ARRIVAL_STAMPS:
		c->arrival_stamps = true;
		return 0;
	default:
		snprintf(err, errlen, "unknown option '%s'", name);
		return -1;
	}
bad:
	snprintf(err, errlen, "--%s: invalid value '%.64s%s' (see --help)", name, val,
		 strlen(val) > 64 ? "..." : "");
	return -1;
}

static const struct option *opt_by_name(const char *name)
{
	const struct option *o;

	for (o = config_run_opts; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* One line: apply its "name = value", if any. 0, or -1 with err. */
static int config_line(struct daemon_config *c, char *line, char *err, size_t errlen)
{
	char *k, *v, *eq, *hash = strchr(line, '#');
	const struct option *o;

	if (hash)
		*hash = 0;
	k = trim(line);
	if (!*k)
		return 0;
	eq = strchr(k, '=');
	if (!eq) {
		snprintf(err, errlen, "expected 'name = value'");
		return -1;
	}
	*eq = 0;
	k = trim(k);
	v = trim(eq + 1);
	o = opt_by_name(k);
	if (!o || o->val == 'F' || o->val == 'h') {
		snprintf(err, errlen, "unknown option '%.64s'", k);
		return -1;
	}
	if (o->has_arg == no_argument) {
		if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
			return 0;
		if (strcmp(v, "yes") && strcmp(v, "true") && strcmp(v, "1")) {
			snprintf(err, errlen, "%s takes yes or no", k);
			return -1;
		}
	}
	return config_apply(c, o->val, k, v, err, errlen);
}

int config_load(struct daemon_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char msg[256];
	char *line = NULL;
	size_t cap = 0, total = 0;
	unsigned lineno = 0;
	struct stat st;
	ssize_t n;
	int rc = -1;

	if (!f) {
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	/* A directory reads as an empty file and /dev/zero as one endless
	 * line: only a regular file of bounded size is a config. */
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "config %s is not a regular file", path);
		goto out;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "config %s is larger than %d bytes", path, CONFIG_FILE_MAX);
		goto out;
	}
	/* getline is bounded by the file's size, checked again as it is read
	 * (it may grow meanwhile). */
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		total += (size_t)n;
		if (total > CONFIG_FILE_MAX) {
			snprintf(err, errlen, "config %s is larger than %d bytes", path,
				 CONFIG_FILE_MAX);
			goto out;
		}
		if ((size_t)n > CONFIG_LINE_MAX) {
			/* Split, its tail would be read as a line of its own. */
			snprintf(err, errlen, "%s:%u: line of %zd bytes, at most %d allowed", path,
				 lineno, n, CONFIG_LINE_MAX);
			goto out;
		}
		if (memchr(line, 0, (size_t)n)) {
			snprintf(err, errlen, "%s:%u: NUL byte in the line", path, lineno);
			goto out;
		}
		if (config_line(c, line, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}
