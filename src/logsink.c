/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "logsink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "thread.h"

#define SINK_FILE_MODE 0640
/* Longest the writer sleeps waiting for a stream to take more before it
 * looks whether the sink is closing. */
#define STREAM_POLL_MS 100

/* How a descriptor is written without waiting on whoever reads it. */
enum out_type {
	OUT_FILE,     /* regular file: only the disk makes a write wait; short means full */
	OUT_SOCKET,   /* send with MSG_DONTWAIT (journald's standard output is one) */
	OUT_STREAM,   /* pipe, tty, character device: poll, then at most PIPE_BUF, which a
		       * pipe with room for any takes without blocking */
};

struct half {
	char *buf;
	size_t len;
};

struct logsink_state {
	pthread_mutex_t lock;
	pthread_cond_t wake;          /* the writer's: lines, a reopened file, closing */
	pthread_t writer;
	enum logsink_kind kind;
	logsink_counts_cb counts;
	char path[4096];
	int fd;                       /* -1 for syslog; only the writer uses it once running */
	enum out_type type;
	int next_fd;                  /* a reopened file for the writer to take, or -1 */
	struct half fill, out;        /* lines waiting; lines being written (writer's own) */
	size_t half_cap;
	bool closing, finished, orphaned;
	uint64_t deadline_ms;         /* once closing */
	struct logsink_stats stats;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Appended to, and created SINK_FILE_MODE whatever the umask (the umask
 * can only narrow open's mode, and 000 made the log world-writable). An
 * existing file keeps its mode; a symlink is followed. O_NONBLOCK: a FIFO
 * without a reader is an error now, not a hang; files ignore it. */
static int open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK,
		      SINK_FILE_MODE);

	if (fd >= 0) {
		if (fchmod(fd, SINK_FILE_MODE)) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	return open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK);
}

static enum out_type fd_type(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return OUT_STREAM;    /* polled: the careful way */
	return S_ISREG(st.st_mode) ? OUT_FILE : S_ISSOCK(st.st_mode) ? OUT_SOCKET : OUT_STREAM;
}

/* Count the lines of buf (the last may lack its '\n') into d. */
static void count_lines(const struct logsink_state *st, const char *buf, size_t len,
			struct logsink_drops *d)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl + 1 : end) - p);

		d->lines++;
		if (st->counts && st->counts(p, n))
			d->counted++;
		p += n;
	}
}

static void lost(struct logsink_state *st, const char *buf, size_t len, bool late, int err)
{
	pthread_mutex_lock(&st->lock);
	count_lines(st, buf, len, late ? &st->stats.late : &st->stats.failed);
	if (!late)
		st->stats.failed_errno = err;
	pthread_mutex_unlock(&st->lock);
}

static bool past_deadline(struct logsink_state *st)
{
	bool past;

	pthread_mutex_lock(&st->lock);
	past = st->closing && now_ms() >= st->deadline_ms;
	pthread_mutex_unlock(&st->lock);
	return past;
}

/* A write to a file stopped after n of its bytes (disk full): cut the file
 * back to the end of the last whole line. Returns the bytes kept. */
static size_t keep_whole_lines(int fd, const char *buf, size_t n)
{
	const char *nl = memrchr(buf, '\n', n);
	size_t keep = nl ? (size_t)(nl + 1 - buf) : 0;
	off_t end = lseek(fd, 0, SEEK_CUR);

	if (keep < n && end >= (off_t)(n - keep) &&
	    ftruncate(fd, end - (off_t)(n - keep)) == 0)
		lseek(fd, end - (off_t)(n - keep), SEEK_SET);
	return keep;
}

static void write_syslog(struct logsink_state *st, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (past_deadline(st)) {
			lost(st, p, (size_t)(end - p), true, 0);
			return;
		}
		if (n)
			syslog(LOG_INFO, "%.*s", (int)n, p);
		p += n + 1;
	}
}

/* Write the writer's half out, or count what cannot be. */
static void write_out(struct logsink_state *st)
{
	const char *buf = st->out.buf;
	size_t len = st->out.len, off = 0;

	if (st->kind == LOGSINK_SYSLOG) {
		write_syslog(st, buf, len);
		return;
	}
	while (off < len) {
		struct pollfd pfd = { .fd = st->fd, .events = POLLOUT };
		size_t want = len - off;
		ssize_t n;

		if (past_deadline(st)) {
			lost(st, buf + off, len - off, true, 0);
			return;
		}
		if (st->type == OUT_FILE) {
			n = write(st->fd, buf + off, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == (ssize_t)want)
				return;
			if (n >= 0) {
				off += keep_whole_lines(st->fd, buf + off, (size_t)n);
				errno = ENOSPC;   /* short: the disk or the quota is full */
			}
			lost(st, buf + off, len - off, false, errno);
			return;
		}
		n = poll(&pfd, 1, STREAM_POLL_MS);
		if (n == 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 || !(pfd.revents & POLLOUT)) {
			lost(st, buf + off, len - off, false, n < 0 ? errno : EPIPE);
			return;
		}
		if (st->type == OUT_SOCKET) {
			n = send(st->fd, buf + off, want, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else {
			/* Whole lines, unless one is longer than PIPE_BUF: a pipe left
			 * full at exit then ends with a whole line. */
			const char *nl = want > PIPE_BUF ? memrchr(buf + off, '\n', PIPE_BUF) : NULL;

			if (want > PIPE_BUF)
				want = nl ? (size_t)(nl + 1 - (buf + off)) : PIPE_BUF;
			n = write(st->fd, buf + off, want);
		}
		if (n > 0)
			off += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			lost(st, buf + off, len - off, false, n == 0 ? EPIPE : errno);
			return;
		}
	}
}

static void state_free(struct logsink_state *st)
{
	if (st->kind == LOGSINK_FILE && st->fd >= 0)
		close(st->fd);
	if (st->next_fd >= 0)
		close(st->next_fd);
	if (st->kind == LOGSINK_SYSLOG)
		closelog();
	pthread_cond_destroy(&st->wake);
	pthread_mutex_destroy(&st->lock);
	free(st->fill.buf);
	free(st->out.buf);
	free(st);
}

static void *writer_main(void *arg)
{
	struct logsink_state *st = arg;
	bool orphaned;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		if (st->next_fd >= 0) {
			int old = st->fd;

			st->fd = st->next_fd;
			st->type = fd_type(st->fd);
			st->next_fd = -1;
			pthread_mutex_unlock(&st->lock);
			close(old);
			pthread_mutex_lock(&st->lock);
			continue;
		}
		if (!st->fill.len) {
			if (st->closing)
				break;
			pthread_cond_wait(&st->wake, &st->lock);
			continue;
		}
		/* Take the waiting lines; the producers fill the other half meanwhile. */
		struct half h = st->out;

		st->out = st->fill;
		st->fill = h;
		pthread_mutex_unlock(&st->lock);
		write_out(st);
		pthread_mutex_lock(&st->lock);
		st->out.len = 0;
	}
	st->finished = true;
	orphaned = st->orphaned;
	pthread_mutex_unlock(&st->lock);
	if (orphaned)
		state_free(st);
	return NULL;
}

int logsink_open(struct logsink *s, const char *target, size_t buffer,
		 logsink_counts_cb counts)
{
	struct logsink_state *st;
	int e;

	memset(s, 0, sizeof(*s));
	if (buffer < LOGSINK_BUFFER_MIN || buffer > LOGSINK_BUFFER_MAX) {
		errno = EINVAL;
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -1;
	st->fd = st->next_fd = -1;
	st->counts = counts;
	st->half_cap = buffer / 2;
	st->fill.buf = malloc(st->half_cap);
	st->out.buf = malloc(st->half_cap);
	if (!st->fill.buf || !st->out.buf) {
		e = ENOMEM;
		goto fail_bufs;
	}
	if (!strcmp(target, "-")) {
		st->kind = LOGSINK_STDOUT;
		st->fd = STDOUT_FILENO;
	} else if (!strcmp(target, "syslog")) {
		st->kind = LOGSINK_SYSLOG;
	} else if (strlen(target) >= sizeof(st->path)) {
		e = ENAMETOOLONG;
		goto fail_bufs;
	} else {
		st->kind = LOGSINK_FILE;
		strcpy(st->path, target);
		st->fd = open_file(target);
		if (st->fd < 0) {
			e = errno;
			goto fail_bufs;
		}
	}
	st->type = st->fd >= 0 ? fd_type(st->fd) : OUT_FILE;
	if (pthread_mutex_init(&st->lock, NULL)) {
		e = ENOMEM;
		goto fail_fd;
	}
	if (pthread_cond_init(&st->wake, NULL)) {
		e = ENOMEM;
		goto fail_lock;
	}
	if (st->kind == LOGSINK_SYSLOG)
		openlog("rstwatch", LOG_PID, LOG_DAEMON);
	e = thread_start(&st->writer, writer_main, st);
	if (e) {
		if (st->kind == LOGSINK_SYSLOG)
			closelog();
		pthread_cond_destroy(&st->wake);
		goto fail_lock;
	}
	s->kind = st->kind;
	s->st = st;
	return 0;
fail_lock:
	pthread_mutex_destroy(&st->lock);
fail_fd:
	if (st->kind == LOGSINK_FILE)
		close(st->fd);
fail_bufs:
	free(st->fill.buf);
	free(st->out.buf);
	free(st);
	errno = e;
	return -1;
}

void logsink_write(struct logsink *s, const char *lines, size_t len,
		   struct logsink_drops *dropped)
{
	struct logsink_state *st = s->st;
	const char *p = lines, *end = lines + len;
	bool was_empty;

	pthread_mutex_lock(&st->lock);
	was_empty = st->fill.len == 0;
	if (!st->closing && st->half_cap - st->fill.len >= len) {
		memcpy(st->fill.buf + st->fill.len, lines, len);
		st->fill.len += len;
		p = end;
	}
	/* Not all of it fits: whole lines while they do, the rest dropped. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl + 1 : end) - p);

		if (!st->closing && st->half_cap - st->fill.len >= n) {
			memcpy(st->fill.buf + st->fill.len, p, n);
			st->fill.len += n;
		} else {
			count_lines(st, p, n, dropped);
		}
		p += n;
	}
	if (was_empty && st->fill.len)
		pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
}

int logsink_reopen(struct logsink *s)
{
	struct logsink_state *st = s->st;
	int fd, old;

	if (s->kind != LOGSINK_FILE)
		return 0;
	fd = open_file(st->path);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&st->lock);
	old = st->next_fd;
	st->next_fd = fd;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	if (old >= 0)
		close(old);       /* two SIGHUPs before the writer took the first */
	return 0;
}

void logsink_stats(const struct logsink *s, struct logsink_stats *out)
{
	pthread_mutex_lock(&s->st->lock);
	*out = s->st->stats;
	pthread_mutex_unlock(&s->st->lock);
}

void logsink_close(struct logsink *s, struct logsink_stats *out)
{
	struct logsink_state *st = s->st;
	struct timespec until;
	bool finished;

	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->closing = true;
	st->deadline_ms = now_ms() + LOGSINK_DRAIN_MS;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	/* The writer gives up at the deadline, unless a call it is in (syslog,
	 * a hung NFS server) never returns: then it is left to finish on its
	 * own, and frees the state itself. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (LOGSINK_DRAIN_MS + 500) / 1000;
	until.tv_nsec += (long)((LOGSINK_DRAIN_MS + 500) % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	s->st = NULL;
	if (pthread_timedjoin_np(st->writer, NULL, &until) == 0) {
		if (out)
			*out = st->stats;
		state_free(st);
		return;
	}
	pthread_mutex_lock(&st->lock);
	finished = st->finished;
	st->orphaned = !finished;
	if (out)
		*out = st->stats;
	pthread_mutex_unlock(&st->lock);
	if (finished) {
		pthread_join(st->writer, NULL);
		state_free(st);
	} else {
		pthread_detach(st->writer);
	}
}
