/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "localaddr.h"

#include <errno.h>
#include <ifaddrs.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nlrecv.h"

#define LOCALADDR_MAX 256

static struct {
	pthread_mutex_t lock;
	uint8_t addr[LOCALADDR_MAX][16];
	uint8_t family[LOCALADDR_MAX];
	unsigned n;
	uint64_t read_us;
	bool valid;
	int changes;          /* NETLINK_ROUTE socket on the address groups, or -1 */
	bool changes_tried;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER, .changes = -1 };

/* The kernel tells of every address added or removed on the IPv4 and IPv6
 * address groups: a socket subscribed to them, read without waiting, says
 * when the list must be read again. Without it (it cannot be opened) a miss
 * re-reads at most once a second, and an address added just before a reset
 * was not ours for up to that second: a VIP moved here by keepalived, a
 * reject rule's reset right after `ip addr add` (t-systemd.sh C2). */
static void changes_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	cache.changes_tried = true;
	if (fd < 0)
		return;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	cache.changes = fd;
}

/* Whether the kernel told of an address change since the last look (an
 * overrun socket, ENOBUFS, may have lost one: as good as a change). */
static bool changes_seen(void)
{
	char buf[4096] __attribute__((aligned(4)));
	bool seen = false;

	if (cache.changes < 0)
		return false;
	for (;;) {
		ssize_t n = nl_recv_kernel(cache.changes, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			seen = true;
			continue;
		}
		if (n < 0 && (errno == ENOBUFS || errno == ENOSPC))
			seen = true;
		else if (n == 0 || (errno != EINTR && errno != EPERM))
			return seen;
	}
}

static void reread(void)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return;     /* keep the old list: better stale than empty */
	cache.n = 0;
	for (i = ifa; i && cache.n < LOCALADDR_MAX; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			memcpy(cache.addr[cache.n], &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			cache.family[cache.n++] = 4;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(cache.addr[cache.n], &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
			       16);
			cache.family[cache.n++] = 6;
		}
	}
	freeifaddrs(ifa);
	cache.valid = true;
}

static bool lookup(int family, const uint8_t *addr)
{
	unsigned i;

	for (i = 0; i < cache.n; i++)
		if (cache.family[i] == family && !memcmp(cache.addr[i], addr, family == 4 ? 4 : 16))
			return true;
	return false;
}

bool localaddr_is_local(int family, const uint8_t *addr, uint64_t now_us)
{
	bool found;

	pthread_mutex_lock(&cache.lock);
	if (!cache.changes_tried)
		changes_open();    /* before the first read: no change falls between */
	if (changes_seen())
		cache.valid = false;
	found = cache.valid && lookup(family, addr);
	if (!found && (!cache.valid || now_us - cache.read_us >= 1000000 || now_us < cache.read_us)) {
		reread();
		cache.read_us = now_us;
		found = lookup(family, addr);
	}
	pthread_mutex_unlock(&cache.lock);
	return found;
}
