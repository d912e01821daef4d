/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "localaddr.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#define LOCALADDR_MAX 256

static struct {
	pthread_mutex_t lock;
	uint8_t addr[LOCALADDR_MAX][16];
	uint8_t family[LOCALADDR_MAX];
	unsigned n;
	uint64_t read_us;
	bool valid;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

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
	found = cache.valid && lookup(family, addr);
	if (!found && (!cache.valid || now_us - cache.read_us >= 1000000 || now_us < cache.read_us)) {
		reread();
		cache.read_us = now_us;
		found = lookup(family, addr);
	}
	pthread_mutex_unlock(&cache.lock);
	return found;
}
