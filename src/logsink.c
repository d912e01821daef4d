#include "logsink.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>

int logsink_open(struct logsink *s, const char *target)
{
	memset(s, 0, sizeof(*s));
	if (pthread_mutex_init(&s->lock, NULL)) {
		errno = ENOMEM;
		return -1;
	}
	if (!strcmp(target, "-")) {
		s->kind = LOGSINK_STDOUT;
		s->fp = stdout;
		return 0;
	}
	if (!strcmp(target, "syslog")) {
		s->kind = LOGSINK_SYSLOG;
		openlog("rstwatch", LOG_PID, LOG_DAEMON);
		return 0;
	}
	if (strlen(target) >= sizeof(s->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	s->kind = LOGSINK_FILE;
	strcpy(s->path, target);
	s->fp = fopen(target, "ae");
	return s->fp ? 0 : -1;
}

int logsink_write(struct logsink *s, const char *line, size_t len)
{
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (s->kind == LOGSINK_SYSLOG) {
		/* One syslog message per line: callers may hand several at once. */
		const char *p = line, *end = line + len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = (size_t)((nl ? nl : end) - p);

			if (n)
				syslog(LOG_INFO, "%.*s", (int)n, p);
			p += n + 1;
		}
	} else if (fwrite(line, 1, len, s->fp) != len || fflush(s->fp) == EOF) {
		s->errors++;
		clearerr(s->fp);
		rc = -1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int logsink_reopen(struct logsink *s)
{
	FILE *fp;
	int rc = 0;

	if (s->kind != LOGSINK_FILE)
		return 0;
	pthread_mutex_lock(&s->lock);
	fp = fopen(s->path, "ae");
	if (fp) {
		fclose(s->fp);
		s->fp = fp;
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void logsink_close(struct logsink *s)
{
	if (s->kind == LOGSINK_FILE && s->fp)
		fclose(s->fp);
	else if (s->kind == LOGSINK_STDOUT)
		fflush(stdout);
	else if (s->kind == LOGSINK_SYSLOG)
		closelog();
	s->fp = NULL;
	pthread_mutex_destroy(&s->lock);
}
