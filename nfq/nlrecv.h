/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Receiving on a netlink socket what the kernel sent, and only that. Any
 * process with CAP_NET_ADMIN in the namespace can send to our port ids, and
 * put whatever pid it likes in its messages' headers (all libmnl's portid
 * check looks at); the sender's address the kernel fills in (sockaddr_nl)
 * cannot be forged, and its nl_pid is 0 only for the kernel. Measured
 * before this check: a forged queue packet logged a fake reset, had a
 * verdict sent for an invented packet id and pushed the unseen count up by
 * 1,999,999,995; a forged nflog sequence number, the lost count by
 * 1,294,967,296. */
#ifndef RSTWATCH_NLRECV_H
#define RSTWATCH_NLRECV_H

#include <errno.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* recvmsg into buf with flags. The datagram's length (with MSG_TRUNC in
 * flags, its full length, as recv reports it), or -1 + errno: EPERM for a
 * datagram that did not come from the kernel (read, and to be dropped and
 * counted by the caller), ENOSPC for one cut short (without MSG_TRUNC in
 * flags, as mnl_socket_recvfrom), else recvmsg's. */
static inline ssize_t nl_recv_kernel(int fd, void *buf, size_t len, int flags)
{
	struct sockaddr_nl sa;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			      .msg_iovlen = 1 };
	ssize_t n = recvmsg(fd, &msg, flags);

	if (n < 0)
		return -1;
	if (msg.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0) {
		errno = EPERM;
		return -1;
	}
	if ((msg.msg_flags & MSG_TRUNC) && !(flags & MSG_TRUNC)) {
		errno = ENOSPC;
		return -1;
	}
	return n;
}

/* The length of buf's leading whole messages: those whose nlmsg_len is at
 * least a header and within what is left. Pass that to mnl_cb_run, not n:
 * libmnl (1.0.4) compares nlmsg_len as a signed int, so a length of 2^31 or
 * more passes its check, and its walk to the next message then steps
 * gigabytes past the buffer (found by tests/fuzz/fuzz_netlink). The kernel
 * never sends such a message; what follows one is unreadable anyway. */
static inline size_t nl_whole_messages(const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t off = 0;

	while (n - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;

		memcpy(&h, p + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > n - off)
			break;
		off += NLMSG_ALIGN(h.nlmsg_len) < n - off ? NLMSG_ALIGN(h.nlmsg_len) : n - off;
	}
	return off;
}

#endif
