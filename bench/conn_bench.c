/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conn_bench: short TCP connections through a gateway, timed (bench/gwcost.sh).
 *
 *   conn_bench serve PORT [-t SECONDS]
 *   conn_bench hold ADDR PORT COUNT [-t SECONDS]
 *   conn_bench rate ADDR PORT -r PER_SECOND -n COUNT
 *   conn_bench max ADDR PORT -c CONCURRENT -s SECONDS
 *
 * IPv4 only (the bench's TEST-NET namespaces). ADDR may be a range of last
 * octets, A.B.C.D-E: the clients spread their connections over those server
 * addresses in turn, so that tens of thousands of short connections a run do
 * not meet their own 4-tuples still in the server's TIME-WAIT.
 *
 *   serve  accepts; a connection that sends its 64-byte request gets a
 *          128-byte answer and the server's FIN (close); a connection that
 *          sends nothing is kept open (the idle connections of `hold`).
 *   hold   opens COUNT connections that send nothing, prints "held COUNT" on
 *          stdout once all are established, and keeps them until SIGTERM.
 *   rate   open loop: starts a connection every 1/PER_SECOND s, COUNT in all;
 *          each connects, sends 64 bytes, reads the 128-byte answer to the
 *          server's FIN, closes. Prints, in microseconds,
 *            connect_p50 connect_p99 xchg_p50 xchg_p99 ok N errors E
 *          connect = connect() to established (the SYN, SYN/ACK round trip);
 *          xchg = connect() to the server's FIN read (the whole exchange).
 *   max    closed loop: CONCURRENT exchanges in flight for SECONDS, a new one
 *          started as each ends. Prints
 *            per_s R ok N errors E
 *
 * A connection that takes longer than 3 s (a SYN lost and retransmitted) is
 * counted as an error, not timed. Everything is bounded: -t (default 600 s)
 * for serve and hold. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_LEN 64
#define ANSWER_LEN 128
#define CONN_TIMEOUT_NS (3ull * 1000000000ull)
#define MAX_FDS 65536

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_ul(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || *out < min || *out > max ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: conn_bench serve PORT [-t SECONDS]\n"
		"       conn_bench hold ADDR PORT COUNT [-t SECONDS]\n"
		"       conn_bench rate ADDR PORT -r PER_SECOND -n COUNT\n"
		"       conn_bench max ADDR PORT -c CONCURRENT -s SECONDS\n");
}

static void raise_nofile(void)
{
	struct rlimit rl = { MAX_FDS, MAX_FDS };

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int epoll_add(int ep, int fd, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* --- serve ----------------------------------------------------------------- */

static int serve(unsigned port, unsigned long seconds)
{
	static uint8_t got[MAX_FDS];      /* request bytes read so far, per fd */
	static const char answer[ANSWER_LEN];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct epoll_event evs[256];
	uint64_t end = now_ns() + (uint64_t)seconds * 1000000000ull;
	int one = 1, ls, ep;

	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ep = epoll_create1(0);
	if (ls < 0 || ep < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 4096) ||
	    epoll_add(ep, ls, EPOLLIN)) {
		fprintf(stderr, "conn_bench: serve: %s\n", strerror(errno));
		return 1;
	}
	fprintf(stderr, "listening\n");
	while (!stop && now_ns() < end) {
		int n = epoll_wait(ep, evs, 256, 200);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == ls) {
				int c;

				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if (c >= MAX_FDS || epoll_add(ep, c, EPOLLIN)) {
						close(c);
						continue;
					}
					got[c] = 0;
				}
				continue;
			}
			char buf[512];
			ssize_t r;

			while ((r = read(fd, buf, sizeof(buf))) > 0)
				got[fd] = (uint8_t)(got[fd] + r > REQUEST_LEN ? REQUEST_LEN : got[fd] + r);
			if (got[fd] >= REQUEST_LEN) {
				/* A fresh socket's buffer takes 128 bytes at once. */
				if (write(fd, answer, sizeof(answer)) < 0)
					(void)0;   /* the client went away: nothing to answer */
				close(fd);
			} else if (r == 0 || (r < 0 && errno != EAGAIN)) {
				close(fd);
			}
		}
	}
	return 0;
}

/* --- clients --------------------------------------------------------------- */

enum conn_state { CONN_FREE, CONN_CONNECTING, CONN_READING };

/* How an exchange ended. */
enum conn_end { END_OK, END_CONNECT, END_READ, END_SHORT, END_TIMEOUT, END_COUNT };
static const char *const end_names[END_COUNT] = {
	"ok", "connect", "read", "short", "timeout",
};

struct conn {
	enum conn_state state;
	uint64_t t0;               /* connect() */
	uint64_t t_est;            /* established */
	unsigned got;
};

struct client {
	struct sockaddr_in to;
	uint32_t to_first, to_count, to_next;   /* server addresses (host order), round robin */
	int ep;
	struct conn conns[MAX_FDS];
	unsigned in_flight;
	unsigned long ok, errors, ends[END_COUNT];
	uint32_t *connect_us, *xchg_us;   /* rate: one sample per completed exchange */
	unsigned long samples, max_samples;
};

static void conn_end(struct client *cl, int fd, enum conn_end how, uint64_t now)
{
	struct conn *c = &cl->conns[fd];

	cl->ends[how]++;
	if (how == END_OK) {
		cl->ok++;
		if (cl->xchg_us && cl->samples < cl->max_samples) {
			cl->connect_us[cl->samples] = (uint32_t)((c->t_est - c->t0) / 1000);
			cl->xchg_us[cl->samples++] = (uint32_t)((now - c->t0) / 1000);
		}
	} else {
		cl->errors++;
	}
	c->state = CONN_FREE;
	cl->in_flight--;
	close(fd);
}

/* Start a connection; idle ones (hold) never send. */
static int conn_start(struct client *cl)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -1;
	if (fd >= MAX_FDS) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cl->conns[fd] = (struct conn){ .state = CONN_CONNECTING, .t0 = now_ns() };
	cl->to.sin_addr.s_addr = htonl(cl->to_first + cl->to_next);
	cl->to_next = (cl->to_next + 1) % cl->to_count;
	if ((connect(fd, (struct sockaddr *)&cl->to, sizeof(cl->to)) < 0 && errno != EINPROGRESS) ||
	    epoll_add(cl->ep, fd, EPOLLOUT)) {
		close(fd);
		cl->conns[fd].state = CONN_FREE;
		cl->errors++;
		cl->ends[END_CONNECT]++;
		return 0;
	}
	cl->in_flight++;
	return fd;
}

/* Handle one readiness event. idle: stop at established (hold). Returns 1
 * when the connection became established. */
static int conn_event(struct client *cl, int fd, uint32_t events, int idle)
{
	static const char request[REQUEST_LEN];
	struct conn *c = &cl->conns[fd];
	uint64_t now = now_ns();
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == CONN_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err || (events & EPOLLERR)) {
			conn_end(cl, fd, END_CONNECT, now);
			return 0;
		}
		if (idle) {
			epoll_ctl(cl->ep, EPOLL_CTL_DEL, fd, NULL);
			c->state = CONN_READING;
			return 1;
		}
		c->t_est = now;
		struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

		if (write(fd, request, sizeof(request)) != (ssize_t)sizeof(request) ||
		    epoll_ctl(cl->ep, EPOLL_CTL_MOD, fd, &e)) {
			conn_end(cl, fd, END_CONNECT, now);
			return 0;
		}
		c->state = CONN_READING;
		return 1;
	}
	char buf[512];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		c->got += (unsigned)r;
	if (r == 0)
		conn_end(cl, fd, c->got >= ANSWER_LEN ? END_OK : END_SHORT, now);
	else if (errno != EAGAIN)
		conn_end(cl, fd, END_READ, now);
	return 0;
}

/* Connections past their time are errors (a lost SYN waits 1 s, then 3). */
static void conns_expire(struct client *cl)
{
	uint64_t now = now_ns();   /* never before a t0 set since the caller's clock read */

	for (int fd = 0; fd < MAX_FDS; fd++) {
		struct conn *c = &cl->conns[fd];

		if (c->state != CONN_FREE && now - c->t0 > CONN_TIMEOUT_NS)
			conn_end(cl, fd, END_TIMEOUT, now);
	}
}

static int client_init(struct client *cl, const char *addr, unsigned port)
{
	memset(cl, 0, sizeof(*cl));
	char first[INET_ADDRSTRLEN];
	const char *dash = strchr(addr, '-');
	unsigned long last = 0;

	cl->to.sin_family = AF_INET;
	cl->to.sin_port = htons((uint16_t)port);
	snprintf(first, sizeof(first), "%.*s", dash ? (int)(dash - addr) : (int)strlen(addr), addr);
	if (inet_pton(AF_INET, first, &cl->to.sin_addr) != 1 ||
	    (dash && (parse_ul(dash + 1, 0, 255, &last) ||
		      last < (ntohl(cl->to.sin_addr.s_addr) & 0xff)))) {
		fprintf(stderr, "conn_bench: not an IPv4 address or A.B.C.D-E range: %s\n", addr);
		return -1;
	}
	cl->to_first = ntohl(cl->to.sin_addr.s_addr);
	cl->to_count = dash ? (uint32_t)(last - (cl->to_first & 0xff) + 1) : 1;
	cl->ep = epoll_create1(0);
	if (cl->ep < 0) {
		fprintf(stderr, "conn_bench: epoll: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Why the errors ended, on stderr (the bench's log). */
static void print_ends(const struct client *cl)
{
	fprintf(stderr, "ends:");
	for (int i = 0; i < END_COUNT; i++)
		fprintf(stderr, " %s %lu", end_names[i], cl->ends[i]);
	fprintf(stderr, "\n");
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t pct(uint32_t *v, unsigned long n, unsigned p)
{
	return n ? v[(n - 1) * p / 100] : 0;
}

/* Wait up to wait_ns (1 ms at most, so that the caller starts connections on
 * time) and handle what is ready. */
static void client_poll(struct client *cl, uint64_t wait_ns, int idle, unsigned *established)
{
	struct epoll_event evs[256];
	struct timespec to = { .tv_sec = 0, .tv_nsec = (long)(wait_ns > 1000000 ? 1000000 : wait_ns) };
	int n = epoll_pwait2(cl->ep, evs, 256, &to, NULL);

	for (int i = 0; i < n; i++)
		if (conn_event(cl, evs[i].data.fd, evs[i].events, idle) && established)
			(*established)++;
}

static int hold(struct client *cl, unsigned long count, unsigned long seconds)
{
	uint64_t end = now_ns() + (uint64_t)seconds * 1000000000ull, last_expire = 0;
	unsigned established = 0;
	unsigned long started = 0;

	/* At most 256 handshakes at once: the server's backlog and the
	 * gateway see a steady ramp, not a SYN burst. */
	while (!stop && established < count && now_ns() < end) {
		while (started < count && cl->in_flight - established < 256) {
			if (conn_start(cl) < 0) {
				fprintf(stderr, "conn_bench: hold: %s after %lu\n", strerror(errno),
					started);
				return 1;
			}
			started++;
		}
		client_poll(cl, 1000000, 1, &established);
		if (now_ns() - last_expire > 100000000ull) {
			last_expire = now_ns();
			for (int fd = 0; fd < MAX_FDS; fd++)
				if (cl->conns[fd].state == CONN_CONNECTING &&
				    last_expire - cl->conns[fd].t0 > CONN_TIMEOUT_NS) {
					fprintf(stderr, "conn_bench: hold: a connection timed out\n");
					return 1;
				}
		}
	}
	if (established < count)
		return 1;
	printf("held %lu\n", count);
	fflush(stdout);
	while (!stop && now_ns() < end)
		usleep(50000);
	return 0;
}

static int rate(struct client *cl, unsigned long per_s, unsigned long count)
{
	uint64_t begin, interval = 1000000000ull / per_s, last_expire = 0;
	unsigned long started = 0;

	cl->connect_us = calloc(count, sizeof(uint32_t));
	cl->xchg_us = calloc(count, sizeof(uint32_t));
	if (!cl->connect_us || !cl->xchg_us)
		return 1;
	cl->max_samples = count;
	begin = now_ns();
	while (!stop && (started < count || cl->in_flight)) {
		uint64_t now = now_ns(), next = begin + started * interval;

		while (started < count && now >= next) {
			if (conn_start(cl) < 0) {
				fprintf(stderr, "conn_bench: rate: %s\n", strerror(errno));
				return 1;
			}
			started++;
			next = begin + started * interval;
		}
		client_poll(cl, started < count && next > now ? next - now : 1000000, 0, NULL);
		if (now - last_expire > 100000000ull) {
			last_expire = now;
			conns_expire(cl);
		}
	}
	qsort(cl->connect_us, cl->samples, sizeof(uint32_t), cmp_u32);
	qsort(cl->xchg_us, cl->samples, sizeof(uint32_t), cmp_u32);
	printf("connect_p50 %u connect_p99 %u xchg_p50 %u xchg_p99 %u ok %lu errors %lu\n",
	       pct(cl->connect_us, cl->samples, 50), pct(cl->connect_us, cl->samples, 99),
	       pct(cl->xchg_us, cl->samples, 50), pct(cl->xchg_us, cl->samples, 99), cl->ok,
	       cl->errors);
	print_ends(cl);
	return 0;
}

static int max_rate(struct client *cl, unsigned long conc, unsigned long seconds)
{
	uint64_t begin = now_ns(), end = begin + (uint64_t)seconds * 1000000000ull,
		 last_expire = 0, now;

	while (!stop && (now = now_ns()) < end) {
		while (cl->in_flight < conc)
			if (conn_start(cl) < 0) {
				fprintf(stderr, "conn_bench: max: %s\n", strerror(errno));
				return 1;
			}
		client_poll(cl, 1000000, 0, NULL);
		if (now - last_expire > 100000000ull) {
			last_expire = now;
			conns_expire(cl);
		}
	}
	double secs = (double)(now_ns() - begin) / 1e9;

	printf("per_s %.0f ok %lu errors %lu\n", (double)cl->ok / secs, cl->ok, cl->errors);
	print_ends(cl);
	return 0;
}

int main(int argc, char **argv)
{
	static struct client cl;
	unsigned long port, n1 = 0, n2 = 0, seconds = 600;
	const char *mode = argc > 1 ? argv[1] : "";

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (!strcmp(mode, "serve") && argc >= 3 && !parse_ul(argv[2], 1, 65535, &port)) {
		if (argc == 5 && !strcmp(argv[3], "-t") && !parse_ul(argv[4], 1, 86400, &seconds))
			return serve((unsigned)port, seconds);
		if (argc == 3)
			return serve((unsigned)port, seconds);
	} else if (argc >= 4 && !parse_ul(argv[3], 1, 65535, &port)) {
		if (client_init(&cl, argv[2], (unsigned)port))
			return 2;
		if (!strcmp(mode, "hold") && argc >= 5 && !parse_ul(argv[4], 1, MAX_FDS - 64, &n1)) {
			if (argc == 7 && !strcmp(argv[5], "-t") &&
			    !parse_ul(argv[6], 1, 86400, &seconds))
				return hold(&cl, n1, seconds);
			if (argc == 5)
				return hold(&cl, n1, seconds);
		} else if (!strcmp(mode, "rate") && argc == 8 && !strcmp(argv[4], "-r") &&
			   !parse_ul(argv[5], 1, 1000000, &n1) && !strcmp(argv[6], "-n") &&
			   !parse_ul(argv[7], 1, 10000000, &n2)) {
			return rate(&cl, n1, n2);
		} else if (!strcmp(mode, "max") && argc == 8 && !strcmp(argv[4], "-c") &&
			   !parse_ul(argv[5], 1, 4096, &n1) && !strcmp(argv[6], "-s") &&
			   !parse_ul(argv[7], 1, 600, &n2)) {
			return max_rate(&cl, n1, n2);
		}
	}
	usage();
	return 2;
}
