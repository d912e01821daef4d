/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "thread.h"

/* Connections accepted in one turn of the loop, so that a flood of them
 * does not starve the answers being written. */
#define ACCEPT_BURST 64

struct conn {
	int fd;                      /* -1: a free slot */
	uint64_t accepted_ms;
	size_t seen;                 /* bytes of the request read */
	char line[32];               /* the request line's start: all the answer depends on */
	unsigned line_len;
	bool past_line;              /* the request line ended */
	bool at_line_start;          /* the last byte ended a header line ('\r' aside) */
	char *resp;                  /* the whole answer, once the request is in */
	size_t resp_len, resp_off;
};

struct metrics_http {
	int lfd, wake;               /* listening socket; eventfd that stops the thread */
	pthread_t thread;
	metrics_render_cb render;
	void *arg;
	struct conn conns[METRICS_HTTP_CONNS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int http_listen(const char *addrport)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[128];
	const char *colon = strrchr(addrport, ':');
	char *end;
	unsigned long port;
	int fd, one = 1;
	size_t hl;

	if (!colon) {
		errno = EINVAL;
		return -1;
	}
	port = strtoul(colon + 1, &end, 10);
	hl = (size_t)(colon - addrport);
	if (*end || colon[1] < '0' || colon[1] > '9' || port > 65535 || hl >= sizeof(host)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(host, addrport, hl);
	host[hl] = 0;
	memset(&ss, 0, sizeof(ss));
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		host[hl - 1] = 0;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (hl == 0)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			errno = EINVAL;
			return -1;
		}
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The kernel caps the backlog at net.core.somaxconn: a burst of
	 * scrapes waits there while the loop accepts (16 lost 701 of 1,500). */
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, SOMAXCONN)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->resp);
	c->fd = -1;
	c->resp = NULL;
}

/* The request is in: build the whole answer. */
static void conn_answer(struct metrics_http *h, struct conn *c)
{
	static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 22\r\nConnection: close\r\n\r\n"
				 "try GET /metrics here\n";
	char hdr[160], *body = NULL;
	size_t blen = 0;
	FILE *mem;
	int hl;

	c->line[c->line_len] = 0;
	if (strncmp(c->line, "GET /metrics ", 13) && strncmp(c->line, "GET /metrics?", 13)) {
		c->resp = malloc(sizeof(nf) - 1);
		if (c->resp) {
			memcpy(c->resp, nf, sizeof(nf) - 1);
			c->resp_len = sizeof(nf) - 1;
		}
		return;
	}
	mem = open_memstream(&body, &blen);
	if (mem) {
		h->render(mem, h->arg);
		if (fclose(mem)) {
			free(body);
			body = NULL;
		}
	}
	if (!body)
		return;           /* out of memory: closed unanswered */
	hl = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
		      "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", blen);
	c->resp = malloc((size_t)hl + blen);
	if (c->resp) {
		memcpy(c->resp, hdr, (size_t)hl);
		memcpy(c->resp + hl, body, blen);
		c->resp_len = (size_t)hl + blen;
	}
	free(body);
}

/* Take in n bytes of the request: the start of its first line is kept, the
 * headers are skipped up to the empty line that ends them. True once it
 * ended. */
static bool request_feed(struct conn *c, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!c->past_line) {
			if (p[i] == '\n')
				c->past_line = true;
			else if (c->line_len < sizeof(c->line) - 1)
				c->line[c->line_len++] = p[i];
		}
		if (p[i] == '\n') {
			if (c->at_line_start)
				return true;
			c->at_line_start = true;
		} else if (p[i] != '\r') {
			c->at_line_start = false;
		}
	}
	return false;
}

/* Read what the client sent; once the request is whole (or too long: it is
 * answered as it stands), answer. False: close. */
static bool conn_read(struct metrics_http *h, struct conn *c)
{
	char buf[1024];

	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof(buf));

		if (r < 0)
			return errno == EAGAIN || errno == EINTR;
		if (r == 0)
			return false;     /* gone before its request was whole */
		c->seen += (size_t)r;
		if (request_feed(c, buf, (size_t)r) || c->seen >= METRICS_HTTP_REQUEST_MAX) {
			conn_answer(h, c);
			return c->resp != NULL;
		}
	}
}

/* Send what the socket takes. False: done or failed (close). */
static bool conn_write(struct conn *c)
{
	while (c->resp_off < c->resp_len) {
		ssize_t w = send(c->fd, c->resp + c->resp_off, c->resp_len - c->resp_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0)
			return errno == EAGAIN || errno == EINTR;
		c->resp_off += (size_t)w;
	}
	/* All sent: a FIN after it; anything the client still sends is ignored. */
	shutdown(c->fd, SHUT_WR);
	return false;
}

/* The slot a new connection may take: a free one, else the one that has
 * been sending its request longest, if that is METRICS_HTTP_GRACE_MS or
 * more (a slow or idle client loses its place; a scrape whose request is
 * on its way keeps it). NULL: none now; *wait then says when there will be. */
static struct conn *slot_for_new(struct metrics_http *h, uint64_t now, uint64_t *wait)
{
	struct conn *c, *oldest = NULL;

	for (c = h->conns; c < h->conns + METRICS_HTTP_CONNS; c++) {
		if (c->fd < 0)
			return c;
		if (!c->resp && (!oldest || c->accepted_ms < oldest->accepted_ms))
			oldest = c;
	}
	if (oldest && oldest->accepted_ms + METRICS_HTTP_GRACE_MS <= now)
		return oldest;
	if (oldest && wait)
		*wait = oldest->accepted_ms + METRICS_HTTP_GRACE_MS;
	return NULL;
}

/* Read, then (once the request is whole) write. False: close it. */
static bool conn_progress(struct metrics_http *h, struct conn *c)
{
	if (!c->resp && !conn_read(h, c))
		return false;
	return !c->resp || conn_write(c);
}

static void accept_some(struct metrics_http *h, uint64_t now)
{
	int i;

	for (i = 0; i < ACCEPT_BURST; i++) {
		struct conn *c = slot_for_new(h, now, NULL);
		int fd;

		if (!c)
			return;
		fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;           /* EAGAIN, or EMFILE and the like: next turn */
		if (c->fd >= 0)
			conn_close(c);    /* its place is taken */
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->accepted_ms = now;
		/* Most requests are in the socket by the time it is accepted. */
		if (!conn_progress(h, c))
			conn_close(c);
	}
}

static void *http_main(void *arg)
{
	struct metrics_http *h = arg;
	struct pollfd pfd[2 + METRICS_HTTP_CONNS];
	struct conn *slot[METRICS_HTTP_CONNS];

	for (;;) {
		uint64_t now = now_ms(), next = now + 1000;
		unsigned n = 2, i;
		struct conn *c;
		bool room;

		for (c = h->conns; c < h->conns + METRICS_HTTP_CONNS; c++) {
			uint64_t due;

			if (c->fd < 0)
				continue;
			due = c->accepted_ms + (c->resp ? METRICS_HTTP_EXCHANGE_MS
							: METRICS_HTTP_REQUEST_MS);
			if (due <= now) {
				conn_close(c);
				continue;
			}
			if (due < next)
				next = due;
			slot[n - 2] = c;
			pfd[n].fd = c->fd;
			pfd[n++].events = c->resp ? POLLOUT : POLLIN;
		}
		/* No room: new clients wait in the backlog until a slot frees or a
		 * slow one's grace is over. */
		room = slot_for_new(h, now, &next) != NULL;
		pfd[0].fd = h->wake;
		pfd[0].events = POLLIN;
		pfd[1].fd = room ? h->lfd : -1;
		pfd[1].events = POLLIN;
		if (poll(pfd, n, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		for (i = 2; i < n; i++)
			if (pfd[i].revents && !conn_progress(h, slot[i - 2]))
				conn_close(slot[i - 2]);
		if (pfd[1].revents)
			accept_some(h, now_ms());
	}
	return NULL;
}

struct metrics_http *metrics_http_start(const char *addrport, metrics_render_cb render,
					void *arg)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	int e;
	unsigned i;

	if (!h)
		return NULL;
	for (i = 0; i < METRICS_HTTP_CONNS; i++)
		h->conns[i].fd = -1;
	h->render = render;
	h->arg = arg;
	h->wake = -1;
	h->lfd = http_listen(addrport);
	if (h->lfd < 0)
		goto fail;
	h->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->wake < 0)
		goto fail;
	e = thread_start(&h->thread, http_main, h);
	if (e) {
		errno = e;
		goto fail;
	}
	return h;
fail:
	e = errno;
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->wake >= 0)
		close(h->wake);
	free(h);
	errno = e;
	return NULL;
}

void metrics_http_stop(struct metrics_http *h)
{
	struct conn *c;

	if (!h)
		return;
	eventfd_write(h->wake, 1);
	pthread_join(h->thread, NULL);
	for (c = h->conns; c < h->conns + METRICS_HTTP_CONNS; c++)
		if (c->fd >= 0)
			conn_close(c);
	close(h->lfd);
	close(h->wake);
	free(h);
}
