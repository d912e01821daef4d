/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where events go: a file (reopened on SIGHUP for logrotate), standard
 * output, or syslog. Writing never waits for the sink: lines go into a
 * bounded buffer in memory, and a thread of the sink's own writes them out.
 * A line that does not fit is dropped whole and counted, so a sink that
 * blocks (a pipe nobody reads, a stuck syslog or journald, a hung NFS
 * server) costs events, never a verdict. A file gets whole lines or
 * nothing: a write cut short (disk full) is truncated back to its last
 * whole line and the rest is counted as failed. A file rstwatch creates is
 * mode 0640 whatever the umask. */
#ifndef RSTWATCH_LOGSINK_H
#define RSTWATCH_LOGSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGSINK_BUFFER_DEFAULT (4u << 20)
#define LOGSINK_BUFFER_MIN (64u << 10)
#define LOGSINK_BUFFER_MAX (1u << 30)
/* How long closing waits for the buffer to be written out; what is still
 * waiting then is dropped (and counted as late). */
#define LOGSINK_DRAIN_MS 300

enum logsink_kind { LOGSINK_STDOUT = 0, LOGSINK_FILE, LOGSINK_SYSLOG };

/* Which lines the dropped counters count (the daemon: a reset's first
 * event). */
typedef bool (*logsink_counts_cb)(const char *line, size_t len);

/* Lines not written, and of those the ones counts() counts. */
struct logsink_drops {
	uint64_t lines, counted;
};

struct logsink_stats {
	struct logsink_drops failed;   /* a write failed: disk full, reader gone, ... */
	struct logsink_drops late;     /* still waiting when the sink closed */
	int failed_errno;              /* the last failure's errno */
};

struct logsink_state;

struct logsink {
	enum logsink_kind kind;
	struct logsink_state *st;      /* NULL: not open */
};

/* target: "-" (stdout), "syslog", or a file path (appended to, created 0640).
 * buffer: bytes of lines that may wait (two halves: one filling, one being
 * written). counts: see above. -1 + errno. */
int logsink_open(struct logsink *s, const char *target, size_t buffer,
		 logsink_counts_cb counts);

/* Queue whole lines (each with its '\n'; one or several); never blocks on
 * the sink. The lines that do not fit are dropped: added to *dropped. */
void logsink_write(struct logsink *s, const char *lines, size_t len,
		   struct logsink_drops *dropped);

/* Reopen a file sink (after logrotate moved it): lines from now on go to
 * the new file. -1 + errno; the old file stays in use if the new one cannot
 * be opened. */
int logsink_reopen(struct logsink *s);

void logsink_stats(const struct logsink *s, struct logsink_stats *out);

/* Write out what waits, for at most LOGSINK_DRAIN_MS, and close; the final
 * counts into *out (if not NULL). */
void logsink_close(struct logsink *s, struct logsink_stats *out);

#endif
