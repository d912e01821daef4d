/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfnetlink_log reader with libmnl and the kernel's uapi headers.
 *
 * Kernel behaviour this relies on (net/netfilter/nfnetlink_log.c):
 *  - a group is bound by NFULNL_CFG_CMD_BIND and released when the socket
 *    closes; PF_BIND/PF_UNBIND are only needed by kernels older than 3.17,
 *    where nfnetlink_log was not the default ULOG backend;
 *  - the kernel gathers up to qthreshold packets (default 100) or waits
 *    flushtimeout (default 1 s) before sending: a diagnostic tool wants each
 *    reset at once, so qthreshold defaults to 1 here;
 *  - packets are stamped only on prerouting, input and forward;
 *  - a batch of several packets ends with NLMSG_DONE.
 * Every wait is a poll() with a timeout so the daemon can check its stop flag. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "nflog.h"
#include "clock.h"
#include "nlattr.h"
#include "nlrecv.h"
#include "seqgap.h"

#define PACKET_TYPE ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)
#define CONFIG_TYPE ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG)

/* Datagrams read per nflog_process call: bounds the time one call takes
 * under a flood, so the caller's loop keeps its rhythm. */
#define DATAGRAMS_PER_CALL 64
#define OPEN_TIMEOUT_MS 1000

struct nflog_reader {
	struct mnl_socket *nl;
	uint32_t portid;
	struct nflog_stats stats;
	bool seq_known;
	uint32_t next_seq;
	uint64_t seq_us;      /* when next_seq - 1 came */
	size_t bufsize;
	uint8_t *buf;
};

const char *nflog_hook_name(uint8_t hook)
{
	switch (hook) {
	case NF_INET_PRE_ROUTING:
		return "prerouting";
	case NF_INET_LOCAL_IN:
		return "input";
	case NF_INET_FORWARD:
		return "forward";
	case NF_INET_LOCAL_OUT:
		return "output";
	case NF_INET_POST_ROUTING:
		return "postrouting";
	case NF_INET_INGRESS:
		return "ingress";
	}
	return "?";
}

/* ---- the configuration request ------------------------------------------- */

void nflog_config_batched(struct nflog_config *cfg, uint16_t group, uint32_t copy_range)
{
	*cfg = (struct nflog_config){ .group = group, .copy_range = copy_range, .qthresh = 64,
				      .flush_timeout_cs = 1, .nlbufsiz = 65536,
				      .rcvbuf = 4 * 1024 * 1024 };
}

int nflog_build_config(void *buf, size_t size, const struct nflog_config *cfg, uint32_t seq)
{
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode;
	uint32_t range = cfg->copy_range ? cfg->copy_range : NFLOG_DEFAULT_COPY_RANGE;
	uint32_t qthresh = cfg->qthresh ? cfg->qthresh : 1;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	bool fits;

	if (range > NFLOG_MAX_COPY_RANGE || cfg->nlbufsiz > NFLOG_MAX_NLBUFSIZ) {
		errno = EINVAL;
		return -1;
	}
	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg))) {
		errno = EMSGSIZE;
		return -1;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = CONFIG_TYPE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(cfg->group);

	memset(&mode, 0, sizeof(mode));
	mode.copy_range = htonl(range);
	mode.copy_mode = NFULNL_COPY_PACKET;

	/* One message: the kernel binds, then applies the settings, in one
	 * call, so no packet waits for a second request to set the copy mode. */
	fits = mnl_attr_put_check(nlh, size, NFULA_CFG_CMD, sizeof(cmd), &cmd) &&
	       mnl_attr_put_check(nlh, size, NFULA_CFG_MODE, sizeof(mode), &mode) &&
	       mnl_attr_put_u32_check(nlh, size, NFULA_CFG_QTHRESH, htonl(qthresh)) &&
	       (!cfg->flush_timeout_cs ||
		mnl_attr_put_u32_check(nlh, size, NFULA_CFG_TIMEOUT, htonl(cfg->flush_timeout_cs))) &&
	       (!cfg->nlbufsiz ||
		mnl_attr_put_u32_check(nlh, size, NFULA_CFG_NLBUFSIZ, htonl(cfg->nlbufsiz))) &&
	       /* Sequence numbers reveal packets lost anywhere on the way. */
	       mnl_attr_put_u16_check(nlh, size, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	if (!fits) {
		errno = EMSGSIZE;
		return -1;
	}
	return (int)nlh->nlmsg_len;
}

/* ---- packet messages --------------------------------------------------- */

static int packet_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	switch (mnl_attr_get_type(attr)) {
	case NFULA_PACKET_HDR:
		return nla_keep_len(attr, sizeof(struct nfulnl_msg_packet_hdr), tb);
	case NFULA_TIMESTAMP:
		return nla_keep_len(attr, sizeof(struct nfulnl_msg_packet_timestamp), tb);
	case NFULA_MARK:
	case NFULA_IFINDEX_INDEV:
	case NFULA_IFINDEX_OUTDEV:
	case NFULA_SEQ:
		return nla_keep(attr, MNL_TYPE_U32, tb);
	case NFULA_PREFIX:
		return nla_keep(attr, MNL_TYPE_NUL_STRING, tb);
	case NFULA_PAYLOAD:
		return nla_keep(attr, MNL_TYPE_UNSPEC, tb);
	}
	return MNL_CB_OK;
}

int nflog_parse_packet(const struct nlmsghdr *nlh, struct nflog_packet *out)
{
	const struct nlattr *tb[NFULA_MAX + 1] = { NULL };
	struct nfulnl_msg_packet_hdr hdr;
	const struct nfgenmsg *nfg;

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != PACKET_TYPE) {
		errno = EPROTO;
		return -1;
	}
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg))) {
		errno = EBADMSG;
		return -1;
	}
	nfg = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*nfg), packet_attr_cb, tb) < 0 || !tb[NFULA_PACKET_HDR]) {
		errno = EBADMSG;
		return -1;
	}

	memcpy(&hdr, mnl_attr_get_payload(tb[NFULA_PACKET_HDR]), sizeof(hdr));
	out->hw_protocol = ntohs(hdr.hw_protocol);
	out->hook = hdr.hook;
	out->family = nfg->nfgen_family;
	out->group = ntohs(nfg->res_id);

	if (tb[NFULA_PAYLOAD]) {
		out->payload = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
		out->len = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]);
	}
	if (tb[NFULA_IFINDEX_INDEV])
		out->ifindex_in = nla_get_be32(tb[NFULA_IFINDEX_INDEV]);
	if (tb[NFULA_IFINDEX_OUTDEV])
		out->ifindex_out = nla_get_be32(tb[NFULA_IFINDEX_OUTDEV]);
	if (tb[NFULA_MARK])
		out->mark = nla_get_be32(tb[NFULA_MARK]);
	if (tb[NFULA_PREFIX])
		out->prefix = mnl_attr_get_str(tb[NFULA_PREFIX]);
	if (tb[NFULA_SEQ]) {
		out->has_seq = true;
		out->seq = nla_get_be32(tb[NFULA_SEQ]);
	}
	if (tb[NFULA_TIMESTAMP]) {
		struct nfulnl_msg_packet_timestamp ts;

		/* Two be64 in an attribute that is only 4-byte aligned here. */
		memcpy(&ts, mnl_attr_get_payload(tb[NFULA_TIMESTAMP]), sizeof(ts));
		out->ts_us = be64toh(ts.sec) * 1000000u + be64toh(ts.usec);
		out->has_ts = true;
	}
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

/* The counters: only the owning thread writes them, another (rendering
 * /metrics) reads them; a relaxed store of the new value is whole to the
 * reader without a locked add (as queue.c's bump). */
static void add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Counts what the sequence numbers say went missing since the last packet. */
static void track_seq(struct nflog_reader *r, const struct nflog_packet *pkt, uint64_t now_us)
{
	if (!pkt->has_seq)
		return;
	/* Unsigned distance copes with wrap-around; a step backwards (which
	 * one bound instance never makes) is not counted as loss. */
	if (r->seq_known && pkt->seq - r->next_seq < UINT32_C(0x80000000)) {
		uint64_t gap = pkt->seq - r->next_seq;
		uint64_t counted = seqgap_plausible(gap, now_us > r->seq_us ? now_us - r->seq_us : 0);

		add(&r->stats.lost, counted);
		add(&r->stats.implausible, gap - counted);
	}
	r->seq_known = true;
	r->next_seq = pkt->seq + 1;
	r->seq_us = now_us;
}

struct dispatch {
	struct nflog_reader *r;
	nflog_cb cb;          /* NULL while opening: packets are counted as lost */
	void *arg;
	uint64_t received_us;
	int delivered;
	bool stop;            /* the callback asked to stop after this datagram */
	bool cb_failed;
	int cb_errno;
};

static int packet_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dispatch *d = data;
	struct nflog_packet pkt;
	int ret;

	if (nlh->nlmsg_type != PACKET_TYPE)
		return MNL_CB_OK;
	if (nflog_parse_packet(nlh, &pkt) < 0) {
		add(&d->r->stats.parse_errors, 1);
		return MNL_CB_OK;
	}
	track_seq(d->r, &pkt, d->received_us);
	if (!d->cb) {
		add(&d->r->stats.lost, 1);
		return MNL_CB_OK;
	}
	if (!pkt.has_ts)
		pkt.ts_us = d->received_us;

	add(&d->r->stats.packets, 1);
	d->delivered++;
	ret = d->cb(&pkt, d->arg);
	if (ret < 0) {
		d->cb_failed = true;
		d->cb_errno = errno;
		return MNL_CB_ERROR;
	}
	if (ret > 0)
		d->stop = true;
	return MNL_CB_OK;
}

/* Sends the configuration and waits for its ACK. Packets that beat the ACK
 * (the group is live as soon as it is bound) cannot be delivered yet. */
static int configure(struct nflog_reader *r, const struct nflog_config *cfg)
{
	struct dispatch d = { .r = r };
	uint32_t seq = (uint32_t)time(NULL) | 1;
	int64_t deadline;
	int len, ret;

	len = nflog_build_config(r->buf, r->bufsize, cfg, seq);
	if (len < 0)
		return -1;
	if (mnl_socket_sendto(r->nl, r->buf, (size_t)len) < 0)
		return -1;

	deadline = clock_monotonic_ms() + OPEN_TIMEOUT_MS;
	for (;;) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(r->nl), .events = POLLIN };
		int64_t left = deadline - clock_monotonic_ms();
		ssize_t n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ret = poll(&pfd, 1, (int)left);
		if (ret < 0 && errno != EINTR)
			return -1;
		if (ret <= 0)
			continue;
		n = nl_recv_kernel(mnl_socket_get_fd(r->nl), r->buf, r->bufsize, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == EPERM) {
				add(&r->stats.foreign, 1);
				continue;
			}
			if (errno == ENOBUFS) {
				add(&r->stats.enobufs, 1);
				continue;
			}
			return -1;
		}
		ret = mnl_cb_run(r->buf, nl_whole_messages(r->buf, (size_t)n), seq, r->portid,
				 packet_msg_cb, &d);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -1 : 0;
	}
}

int nflog_open(struct nflog_reader **out, const struct nflog_config *cfg)
{
	struct nflog_reader *r;
	uint32_t range = cfg->copy_range ? cfg->copy_range : NFLOG_DEFAULT_COPY_RANGE;
	int saved;

	*out = NULL;
	if (range > NFLOG_MAX_COPY_RANGE || cfg->nlbufsiz > NFLOG_MAX_NLBUFSIZ) {
		errno = EINVAL;
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;

	/* A datagram holds one packet of up to range bytes plus its headers,
	 * or several smaller ones gathered into the kernel's buffer (a page
	 * unless NFULA_CFG_NLBUFSIZ raises it). */
	r->bufsize = range + 4096 > 16384 ? range + 4096 : 16384;
	if (r->bufsize < cfg->nlbufsiz + 4096)
		r->bufsize = cfg->nlbufsiz + 4096;
	r->buf = malloc(r->bufsize);
	if (!r->buf)
		goto fail;

	r->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!r->nl)
		goto fail;
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	r->portid = mnl_socket_get_portid(r->nl);

	if (cfg->rcvbuf) {
		int fd = mnl_socket_get_fd(r->nl);
		int size = cfg->rcvbuf > INT32_MAX / 2 ? INT32_MAX / 2 : (int)cfg->rcvbuf;

		/* FORCE passes net.core.rmem_max, which a daemon meant to
		 * absorb bursts needs; without CAP_NET_ADMIN take what is
		 * allowed. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
			goto fail;
	}

	if (configure(r, cfg) < 0)
		goto fail;
	*out = r;
	return 0;

fail:
	saved = errno;
	nflog_close(r);
	errno = saved;
	return -1;
}

int nflog_fd(const struct nflog_reader *r)
{
	return mnl_socket_get_fd(r->nl);
}

int nflog_process(struct nflog_reader *r, nflog_cb cb, void *arg, int timeout_ms)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(r->nl), .events = POLLIN };
	struct dispatch d = { .r = r, .cb = cb, .arg = arg };
	int ret;

	/* The socket is non-blocking: without a wait, the first receive says
	 * whether anything is there, one syscall instead of two. */
	if (timeout_ms != 0) {
		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0)
			return errno == EINTR ? 0 : -1;
		if (ret == 0)
			return 0;
	}

	for (int i = 0; i < DATAGRAMS_PER_CALL; i++) {
		ssize_t n = nl_recv_kernel(mnl_socket_get_fd(r->nl), r->buf, r->bufsize, 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == EPERM) {
				add(&r->stats.foreign, 1);
				continue;
			}
			if (errno == ENOBUFS) {
				/* The socket overflowed; it stays usable. */
				add(&r->stats.enobufs, 1);
				continue;
			}
			if (errno == ENOSPC) {
				/* Truncated: bigger than any message we asked for. */
				add(&r->stats.parse_errors, 1);
				continue;
			}
			return -1;
		}

		d.received_us = clock_realtime_us();
		ret = mnl_cb_run(r->buf, nl_whole_messages(r->buf, (size_t)n), 0, r->portid,
				 packet_msg_cb, &d);
		if (ret < 0) {
			if (d.cb_failed) {
				errno = d.cb_errno;
				return -1;
			}
			/* An error message or a malformed datagram: nothing we
			 * sent is waiting for an answer, so count it and go on. */
			add(&r->stats.parse_errors, 1);
		}
		if (d.stop)
			break;
	}
	return d.delivered;
}

/* Only the owning thread writes the counters (relaxed stores of the new
 * value), so another thread reads each without tearing. */
void nflog_get_stats(const struct nflog_reader *r, struct nflog_stats *out)
{
	out->packets = __atomic_load_n(&r->stats.packets, __ATOMIC_RELAXED);
	out->enobufs = __atomic_load_n(&r->stats.enobufs, __ATOMIC_RELAXED);
	out->lost = __atomic_load_n(&r->stats.lost, __ATOMIC_RELAXED);
	out->implausible = __atomic_load_n(&r->stats.implausible, __ATOMIC_RELAXED);
	out->parse_errors = __atomic_load_n(&r->stats.parse_errors, __ATOMIC_RELAXED);
	out->foreign = __atomic_load_n(&r->stats.foreign, __ATOMIC_RELAXED);
}

void nflog_close(struct nflog_reader *r)
{
	if (!r)
		return;
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r->buf);
	free(r);
}
