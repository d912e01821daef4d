/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's control socket: a unix stream socket (in the runtime
 * directory) on which `rstwatch run` answers every connection with its status,
 * "name: value" lines, and closes it. Read-only: nothing the client sends is
 * read, so the socket cannot change the daemon. */
#ifndef RSTWATCH_CONTROL_H
#define RSTWATCH_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONTROL_PATH_DEFAULT "/run/rstwatch/control"
#define CONTROL_ANSWER_MAX 4096

/* Writes the status into buf (at most len bytes, NUL-terminated); its length. */
typedef size_t (*control_render_cb)(char *buf, size_t len, void *arg);

struct control_socket {
	int fd;                 /* listening, non-blocking; -1: none */
	bool made_dir;          /* its directory was created for it (removed with it) */
};

/* Listen on path, creating its directory (one level, mode 0755) if missing.
 * A socket left by a dead daemon is replaced; one a live daemon answers on is
 * not (EADDRINUSE). 0, or -1 with the reason in err (cs->fd is then -1). */
int control_listen(struct control_socket *cs, const char *path, char *err, size_t errlen);

/* Answer every connection waiting on fd with render's text. Never blocks. */
void control_serve(int fd, control_render_cb render, void *arg);

/* Close the socket and remove path, and its directory if it was made for it
 * (and is empty: another instance may use it). Nothing if cs->fd < 0. */
void control_close(struct control_socket *cs, const char *path);

/* The client: connect to path and read the daemon's whole answer into buf
 * (NUL-terminated), waiting at most timeout_ms. Its length, or -1 and errno
 * (ETIMEDOUT if the daemon did not answer in time). */
ssize_t control_query(const char *path, char *buf, size_t len, int timeout_ms);

#endif
