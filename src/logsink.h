/* Where events go: a file (reopened on SIGHUP for logrotate), standard
 * output, or syslog. Each line is written and flushed whole, under a lock,
 * so several queue threads can share one sink. */
#ifndef RSTWATCH_LOGSINK_H
#define RSTWATCH_LOGSINK_H

#include <pthread.h>
#include <stdio.h>

enum logsink_kind { LOGSINK_STDOUT = 0, LOGSINK_FILE, LOGSINK_SYSLOG };

struct logsink {
	enum logsink_kind kind;
	char path[4096];
	FILE *fp;
	pthread_mutex_t lock;
	unsigned long errors;     /* lines that could not be written */
};

/* target: "-" (stdout), "syslog", or a file path (appended to). -1 + errno. */
int logsink_open(struct logsink *s, const char *target);

/* Write whole lines (each with its '\n'; one or several), then flush. -1 + errno
 * if they could not be written. */
int logsink_write(struct logsink *s, const char *line, size_t len);

/* Reopen a file sink (after logrotate moved it). -1 + errno; the old stream
 * stays in use if the new one cannot be opened. */
int logsink_reopen(struct logsink *s);

void logsink_close(struct logsink *s);

#endif
