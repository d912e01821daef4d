/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One request and its answer on a netlink socket of its own: for the rare
 * lookups made once per named reset (the ruleset's generation, a route),
 * where a socket kept open per thread would buy nothing. Library code. */
#ifndef RSTWATCH_NLQUERY_H
#define RSTWATCH_NLQUERY_H

#include <stddef.h>

#include <libmnl/libmnl.h>

/* How long the lookups wait for the kernel's answer: it comes at once, from
 * inside sendto; a lookup that cannot be answered must not stall the thread
 * that names a reset (the same bound as a conntrack lookup's). */
#define NL_QUERY_TIMEOUT_MS 200

/* Send req (built in buf, size bytes; the answer is read into buf too) on a
 * new socket of netlink bus, and run cb on the kernel's answer until cb
 * returns MNL_CB_STOP (it has what it wanted) or an error ends it. 0, or -1
 * with errno: the kernel's error, ETIMEDOUT when nothing came within
 * timeout_ms, or the socket's. Datagrams not from the kernel are skipped. */
int nl_query(int bus, void *buf, size_t size, struct nlmsghdr *req, mnl_cb_t cb, void *data,
	     int timeout_ms);

#endif
