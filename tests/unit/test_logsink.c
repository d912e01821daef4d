/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event log sink on real descriptors: a pipe nobody reads never blocks
 * the writer and closing it is bounded; every line is written, dropped or
 * counted late; a created file is 0640 whatever the umask; a reopened file
 * gets the lines from then on. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "logsink.h"

#define LINE_LEN 100

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Lines "E nnnnn ...\n" and "S nnnnn ...\n": counted only the E ones. */
static bool counts_e(const char *line, size_t len)
{
	return len > 0 && line[0] == 'E';
}

static void line_of(char *buf, char kind, unsigned i)
{
	memset(buf, 'x', LINE_LEN);
	buf[0] = kind;
	buf[1] = ' ';
	buf[2 + snprintf(buf + 2, 8, "%05u", i % 100000)] = ' ';
	buf[LINE_LEN - 1] = '\n';
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/rstwatch-logsink-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Whole lines read from fd (non-blocking) until it is empty. */
static unsigned read_lines(int fd, unsigned *partial)
{
	static char buf[1 << 16];
	unsigned lines = 0;
	size_t carry = 0;
	ssize_t n;

	while ((n = read(fd, buf + carry, sizeof(buf) - carry)) > 0) {
		size_t len = carry + (size_t)n, i, start = 0;

		for (i = 0; i < len; i++)
			if (buf[i] == '\n') {
				assert_int_equal(i + 1 - start, LINE_LEN);
				lines++;
				start = i + 1;
			}
		carry = len - start;
		memmove(buf, buf + start, carry);
	}
	*partial = (unsigned)carry;
	return lines;
}

static void test_pipe_nobody_reads(void **state)
{
	char path[128], line[LINE_LEN];
	struct logsink s;
	struct logsink_drops dropped = { 0, 0 };
	struct logsink_stats st;
	unsigned i, written, partial, n = 3000;
	uint64_t t0;
	int rfd;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(logsink_open(&s, path, LOGSINK_BUFFER_MIN, counts_e), 0);
	t0 = ms_now();
	for (i = 0; i < n; i++) {
		line_of(line, i % 3 ? 'E' : 'S', i);
		logsink_write(&s, line, sizeof(line), &dropped);
		if (i % 50 == 0)
			usleep(1000);    /* let the writer fill the pipe */
	}
	/* 300 KB into a 64 KiB pipe and a 64 KiB buffer: never waited for
	 * (60 pauses of 1 ms). */
	assert_true(ms_now() - t0 < 500);
	assert_true(dropped.lines > 0);
	assert_true(dropped.counted > 0 && dropped.counted < dropped.lines);
	t0 = ms_now();
	logsink_close(&s, &st);
	assert_true(ms_now() - t0 < LOGSINK_DRAIN_MS + 300);
	assert_int_equal(st.failed.lines, 0);
	assert_true(st.late.lines > 0);        /* the pipe was full: closing gave up */
	assert_true(st.late.counted > 0 && st.late.counted < st.late.lines);
	written = read_lines(rfd, &partial);
	assert_int_equal(partial, 0);          /* whole lines in the pipe too */
	assert_true(written > 0);
	assert_int_equal(written + dropped.lines + st.late.lines, n);
	close(rfd);
}

static void test_reader_gone(void **state)
{
	char path[128], line[LINE_LEN];
	struct logsink s;
	struct logsink_drops dropped = { 0, 0 };
	struct logsink_stats st;
	unsigned i;
	int rfd;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo2", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(logsink_open(&s, path, LOGSINK_BUFFER_MIN, counts_e), 0);
	close(rfd);            /* the reader goes away: writes fail (EPIPE), counted */
	for (i = 0; i < 10; i++) {
		line_of(line, 'E', i);
		logsink_write(&s, line, sizeof(line), &dropped);
	}
	logsink_close(&s, &st);
	assert_int_equal(dropped.lines, 0);
	assert_int_equal(st.failed.lines + st.late.lines, 10);
	assert_int_equal(st.failed.counted + st.late.counted, 10);
	assert_int_equal(st.failed_errno, EPIPE);
}

static void test_file_mode_and_reopen(void **state)
{
	char path[128], moved[140], line[LINE_LEN];
	struct logsink s;
	struct logsink_drops dropped = { 0, 0 };
	struct stat sb;
	mode_t old = umask(0);
	int fd;
	unsigned partial;

	(void)state;
	snprintf(path, sizeof(path), "%s/events.log", dir);
	snprintf(moved, sizeof(moved), "%s.1", path);
	assert_int_equal(logsink_open(&s, path, LOGSINK_BUFFER_MIN, counts_e), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	line_of(line, 'E', 1);
	logsink_write(&s, line, sizeof(line), &dropped);
	for (int i = 0; i < 200; i++) {   /* until the writer wrote it */
		if (stat(path, &sb) == 0 && sb.st_size == LINE_LEN)
			break;
		usleep(5000);
	}
	assert_int_equal(sb.st_size, LINE_LEN);
	assert_int_equal(rename(path, moved), 0);
	umask(077);            /* narrower: still 0640 */
	assert_int_equal(logsink_reopen(&s), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	line_of(line, 'E', 2);
	logsink_write(&s, line, sizeof(line), &dropped);
	logsink_close(&s, NULL);
	umask(old);
	assert_int_equal(dropped.lines, 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read_lines(fd, &partial), 1);
	close(fd);
	fd = open(moved, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read_lines(fd, &partial), 1);
	close(fd);
}

static void test_bad_buffer(void **state)
{
	struct logsink s;

	(void)state;
	errno = 0;
	assert_int_equal(logsink_open(&s, "-", LOGSINK_BUFFER_MIN - 1, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_null(s.st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_nobody_reads),
		cmocka_unit_test(test_reader_gone),
		cmocka_unit_test(test_file_mode_and_reopen),
		cmocka_unit_test(test_bad_buffer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
