/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nlquery.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "nlrecv.h"

int nl_query(int bus, void *buf, size_t size, struct nlmsghdr *req, mnl_cb_t cb, void *data,
	     int timeout_ms)
{
	struct mnl_socket *nl = mnl_socket_open(bus);
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	uint32_t seq = req->nlmsg_seq, portid;    /* buf, req's too, takes the answer */
	int r = -1, saved;

	if (!nl)
		return -1;
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		goto out;
	for (;;) {
		ssize_t n = nl_recv_kernel(mnl_socket_get_fd(nl), buf, size, 0);

		if (n < 0 && errno == EPERM)
			continue;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			goto out;
		}
		r = mnl_cb_run(buf, nl_whole_messages(buf, (size_t)n), seq, portid, cb, data);
		if (r <= MNL_CB_STOP)
			break;
	}
	r = r < 0 ? -1 : 0;
out:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return r;
}
