/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"

static int control_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Is a daemon answering on path? Then the socket is not ours to replace. */
static int control_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live;

	if (fd < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

int control_listen(struct control_socket *cs, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	int fd;

	cs->fd = -1;
	cs->made_dir = false;
	if (control_addr(path, &sa)) {
		snprintf(err, errlen, "control socket path '%.64s' is empty or longer than %zu "
			 "bytes", path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(dir, path);
	if (mkdir(dirname(dir), 0755) == 0) {
		cs->made_dir = true;
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create the directory of %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -1;
		}
		if (control_in_use(&sa)) {
			snprintf(err, errlen, "another rstwatch answers on %s", path);
			errno = EADDRINUSE;
			return -1;    /* its directory existed: made_dir is false */
		}
		unlink(path);    /* a dead daemon's */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (cs->made_dir)
			rmdir(dir);
		cs->made_dir = false;
		return -1;
	}
	cs->fd = fd;
	return 0;
}

void control_serve(int fd, control_render_cb render, void *arg)
{
	char answer[CONTROL_ANSWER_MAX];
	int c;

	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		size_t n = render(answer, sizeof(answer), arg);

		/* A fresh socket's buffer takes far more than one answer, so
		 * one non-blocking send writes it all; a client that vanished
		 * costs nothing. */
		send(c, answer, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(c);
	}
}

void control_close(struct control_socket *cs, const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (cs->fd < 0)
		return;
	close(cs->fd);
	cs->fd = -1;
	unlink(path);
	if (cs->made_dir && strlen(path) < sizeof(dir)) {
		strcpy(dir, path);
		rmdir(dirname(dir));
	}
}

ssize_t control_query(const char *path, char *buf, size_t len, int timeout_ms)
{
	struct sockaddr_un sa;
	int64_t deadline = clock_monotonic_ms() + timeout_ms;
	size_t have = 0;
	int fd, saved;

	if (!len) {
		errno = EINVAL;
		return -1;
	}
	if (control_addr(path, &sa))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	while (have < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - clock_monotonic_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		n = read(fd, buf + have, len - 1 - have);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		have += (size_t)n;
	}
	close(fd);
	buf[have] = 0;
	return (ssize_t)have;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
