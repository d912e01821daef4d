/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Conntrack context over ctnetlink, with libmnl and the kernel's uapi headers.
 *
 * Lookups go by the reset's own tuple. The kernel keeps both directions of an
 * entry in one hash (nf_conntrack_find_get compares the tuple with the original
 * and the reply tuplehash alike), so a CTA_TUPLE_ORIG holding the reply
 * direction's addresses finds the entry too; the answer's tuples then tell
 * which direction the reset travelled.
 *
 * Every request waits for its answer with a deadline: the daemon calls this
 * from its packet path and must never hang on the kernel. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ct.h"
#include "clock.h"
#include "nlattr.h"
#include "nlrecv.h"

/* A GET answer is one entry (the kernel allocates NLMSG_DEFAULT_SIZE for it);
 * an error echoes our small request. Both fit with room to spare. */
#define CT_RECV_BUF 8192

struct ct_handle {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	int timeout_ms;
	uint8_t request[CT_REQUEST_MAX];
	uint8_t answer[CT_RECV_BUF];
};

struct ct_tuple {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

struct ct_handle *ct_open(void)
{
	struct ct_handle *h;
	int saved;

	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;

	/* Non-blocking: poll() bounds every wait, and a spurious wake-up must
	 * not turn into a blocking recv. */
	h->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!h->nl)
		goto fail;
	if (mnl_socket_bind(h->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;

	h->portid = mnl_socket_get_portid(h->nl);
	h->seq = (uint32_t)time(NULL);
	h->timeout_ms = CT_DEFAULT_TIMEOUT_MS;
	return h;

fail:
	saved = errno;
	if (h->nl)
		mnl_socket_close(h->nl);
	free(h);
	errno = saved;
	return NULL;
}

void ct_close(struct ct_handle *h)
{
	if (!h)
		return;
	mnl_socket_close(h->nl);
	free(h);
}

int ct_set_timeout(struct ct_handle *h, int timeout_ms)
{
	if (timeout_ms <= 0) {
		errno = EINVAL;
		return -1;
	}
	h->timeout_ms = timeout_ms;
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

static size_t addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static bool put_tuple(struct nlmsghdr *nlh, size_t size, const struct tcp_packet *pkt)
{
	struct nlattr *tuple, *ip, *proto;
	uint16_t src_type = pkt->family == 4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC;
	uint16_t dst_type = pkt->family == 4 ? CTA_IP_V4_DST : CTA_IP_V6_DST;
	size_t alen = addr_len(pkt->family);

	tuple = mnl_attr_nest_start_check(nlh, size, CTA_TUPLE_ORIG);
	if (!tuple)
		return false;

	ip = mnl_attr_nest_start_check(nlh, size, CTA_TUPLE_IP);
	if (!ip ||
	    !mnl_attr_put_check(nlh, size, src_type, alen, pkt->src) ||
	    !mnl_attr_put_check(nlh, size, dst_type, alen, pkt->dst))
		return false;
	mnl_attr_nest_end(nlh, ip);

	proto = mnl_attr_nest_start_check(nlh, size, CTA_TUPLE_PROTO);
	if (!proto ||
	    !mnl_attr_put_u8_check(nlh, size, CTA_PROTO_NUM, IPPROTO_TCP) ||
	    !mnl_attr_put_u16_check(nlh, size, CTA_PROTO_SRC_PORT, htons(pkt->sport)) ||
	    !mnl_attr_put_u16_check(nlh, size, CTA_PROTO_DST_PORT, htons(pkt->dport)))
		return false;
	mnl_attr_nest_end(nlh, proto);

	mnl_attr_nest_end(nlh, tuple);
	return true;
}

static struct nlmsghdr *put_header(void *buf, size_t size, uint8_t msg_type, uint16_t flags,
				   const struct tcp_packet *pkt, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (pkt->family != 4 && pkt->family != 6) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	/* mnl_nlmsg_put_header and _put_extra_header write without checking. */
	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))) {
		errno = EMSGSIZE;
		return NULL;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg_type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;

	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = pkt->family == 4 ? AF_INET : AF_INET6;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

int ct_build_get(void *buf, size_t size, const struct tcp_packet *pkt, uint32_t seq)
{
	struct nlmsghdr *nlh;

	/* No NLM_F_ACK: the kernel answers a GET with the entry or with an
	 * error, never with both, so one message closes the exchange. */
	nlh = put_header(buf, size, IPCTNL_MSG_CT_GET, 0, pkt, seq);
	if (!nlh)
		return -1;
	if (!put_tuple(nlh, size, pkt)) {
		errno = EMSGSIZE;
		return -1;
	}
	return (int)nlh->nlmsg_len;
}

int ct_build_mark(void *buf, size_t size, const struct tcp_packet *pkt, uint32_t value,
		  uint32_t mask, uint32_t seq)
{
	struct nlmsghdr *nlh;

	/* CT_NEW without NLM_F_CREATE only changes an existing entry (ENOENT
	 * otherwise). The kernel computes (old & ~CTA_MARK_MASK) ^ CTA_MARK;
	 * with CTA_MARK restricted to the mask's bits the XOR lands on bits it
	 * has just cleared, so the result is (old & ~mask) | (value & mask). */
	nlh = put_header(buf, size, IPCTNL_MSG_CT_NEW, NLM_F_ACK, pkt, seq);
	if (!nlh)
		return -1;
	if (!put_tuple(nlh, size, pkt) ||
	    !mnl_attr_put_u32_check(nlh, size, CTA_MARK, htonl(value & mask)) ||
	    !mnl_attr_put_u32_check(nlh, size, CTA_MARK_MASK, htonl(mask))) {
		errno = EMSGSIZE;
		return -1;
	}
	return (int)nlh->nlmsg_len;
}

/* ---- answers ----------------------------------------------------------- */

static int entry_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	switch (mnl_attr_get_type(attr)) {
	case CTA_TUPLE_ORIG:
	case CTA_TUPLE_REPLY:
	case CTA_PROTOINFO:
	case CTA_COUNTERS_ORIG:
	case CTA_COUNTERS_REPLY:
	case CTA_TIMESTAMP:
		return nla_keep(attr, MNL_TYPE_NESTED, tb);
	case CTA_STATUS:
	case CTA_MARK:
	case CTA_TIMEOUT:
	case CTA_ID:
		return nla_keep(attr, MNL_TYPE_U32, tb);
	}
	return MNL_CB_OK;
}

static int tuple_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	switch (mnl_attr_get_type(attr)) {
	case CTA_TUPLE_IP:
	case CTA_TUPLE_PROTO:
		return nla_keep(attr, MNL_TYPE_NESTED, tb);
	}
	return MNL_CB_OK;
}

static int ip_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	switch (mnl_attr_get_type(attr)) {
	case CTA_IP_V4_SRC:
	case CTA_IP_V4_DST:
		return nla_keep_len(attr, 4, tb);
	case CTA_IP_V6_SRC:
	case CTA_IP_V6_DST:
		return nla_keep_len(attr, 16, tb);
	}
	return MNL_CB_OK;
}

static int proto_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	switch (mnl_attr_get_type(attr)) {
	case CTA_PROTO_NUM:
		return nla_keep(attr, MNL_TYPE_U8, tb);
	case CTA_PROTO_SRC_PORT:
	case CTA_PROTO_DST_PORT:
		return nla_keep(attr, MNL_TYPE_U16, tb);
	}
	return MNL_CB_OK;
}

static int protoinfo_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(attr) == CTA_PROTOINFO_TCP)
		return nla_keep(attr, MNL_TYPE_NESTED, tb);
	return MNL_CB_OK;
}

static int protoinfo_tcp_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(attr) == CTA_PROTOINFO_TCP_STATE)
		return nla_keep(attr, MNL_TYPE_U8, tb);
	return MNL_CB_OK;
}

static int counters_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	switch (mnl_attr_get_type(attr)) {
	case CTA_COUNTERS_PACKETS:
	case CTA_COUNTERS_BYTES:
		return nla_keep(attr, MNL_TYPE_U64, tb);
	}
	return MNL_CB_OK;
}

static int timestamp_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(attr) == CTA_TIMESTAMP_START)
		return nla_keep(attr, MNL_TYPE_U64, tb);
	return MNL_CB_OK;
}

/* The kernel pads 64-bit attributes to 8 bytes in its own buffer, but that
 * alignment is lost in ours: copy, never dereference. */
static uint64_t get_be64(const struct nlattr *attr)
{
	uint64_t v;

	memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
	return be64toh(v);
}

static bool parse_tuple(const struct nlattr *nest, uint8_t family, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1] = { NULL };
	const struct nlattr *ip[CTA_IP_MAX + 1] = { NULL };
	const struct nlattr *proto[CTA_PROTO_MAX + 1] = { NULL };
	const struct nlattr *src, *dst;

	memset(t, 0, sizeof(*t));
	if (mnl_attr_parse_nested(nest, tuple_attr_cb, tb) < 0 ||
	    !tb[CTA_TUPLE_IP] || !tb[CTA_TUPLE_PROTO])
		return false;

	if (mnl_attr_parse_nested(tb[CTA_TUPLE_IP], ip_attr_cb, ip) < 0)
		return false;
	src = family == 4 ? ip[CTA_IP_V4_SRC] : ip[CTA_IP_V6_SRC];
	dst = family == 4 ? ip[CTA_IP_V4_DST] : ip[CTA_IP_V6_DST];
	if (!src || !dst)
		return false;
	memcpy(t->src, mnl_attr_get_payload(src), addr_len(family));
	memcpy(t->dst, mnl_attr_get_payload(dst), addr_len(family));

	if (mnl_attr_parse_nested(tb[CTA_TUPLE_PROTO], proto_attr_cb, proto) < 0 ||
	    !proto[CTA_PROTO_NUM] || mnl_attr_get_u8(proto[CTA_PROTO_NUM]) != IPPROTO_TCP ||
	    !proto[CTA_PROTO_SRC_PORT] || !proto[CTA_PROTO_DST_PORT])
		return false;
	t->sport = ntohs(mnl_attr_get_u16(proto[CTA_PROTO_SRC_PORT]));
	t->dport = ntohs(mnl_attr_get_u16(proto[CTA_PROTO_DST_PORT]));
	return true;
}

static bool tuple_carries(const struct ct_tuple *t, const struct tcp_packet *pkt)
{
	size_t alen = addr_len(pkt->family);

	return t->sport == pkt->sport && t->dport == pkt->dport &&
	       memcmp(t->src, pkt->src, alen) == 0 && memcmp(t->dst, pkt->dst, alen) == 0;
}

static bool parse_counters(const struct nlattr *nest, uint64_t *packets, uint64_t *bytes)
{
	const struct nlattr *tb[CTA_COUNTERS_MAX + 1] = { NULL };

	if (!nest || mnl_attr_parse_nested(nest, counters_attr_cb, tb) < 0 ||
	    !tb[CTA_COUNTERS_PACKETS] || !tb[CTA_COUNTERS_BYTES])
		return false;
	*packets = get_be64(tb[CTA_COUNTERS_PACKETS]);
	*bytes = get_be64(tb[CTA_COUNTERS_BYTES]);
	return true;
}

static uint8_t parse_tcp_state(const struct nlattr *nest)
{
	const struct nlattr *info[CTA_PROTOINFO_MAX + 1] = { NULL };
	const struct nlattr *tcp[CTA_PROTOINFO_TCP_MAX + 1] = { NULL };

	if (!nest || mnl_attr_parse_nested(nest, protoinfo_attr_cb, info) < 0 ||
	    !info[CTA_PROTOINFO_TCP] ||
	    mnl_attr_parse_nested(info[CTA_PROTOINFO_TCP], protoinfo_tcp_attr_cb, tcp) < 0 ||
	    !tcp[CTA_PROTOINFO_TCP_STATE])
		return TCP_CONNTRACK_NONE;
	return mnl_attr_get_u8(tcp[CTA_PROTOINFO_TCP_STATE]);
}

int ct_parse_entry(const struct nlmsghdr *nlh, const struct tcp_packet *pkt,
		   struct ct_info *out)
{
	const struct nlattr *tb[CTA_MAX + 1] = { NULL };
	const struct nlattr *ts[CTA_TIMESTAMP_MAX + 1] = { NULL };
	const struct nfgenmsg *nfg;
	struct ct_tuple orig, reply;
	bool has_reply;
	uint8_t family;

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW)) {
		errno = EPROTO;
		return -1;
	}
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg))) {
		errno = EBADMSG;
		return -1;
	}
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family == AF_INET)
		family = 4;
	else if (nfg->nfgen_family == AF_INET6)
		family = 6;
	else {
		errno = EBADMSG;
		return -1;
	}

	if (mnl_attr_parse(nlh, sizeof(*nfg), entry_attr_cb, tb) < 0 ||
	    !tb[CTA_TUPLE_ORIG] || !parse_tuple(tb[CTA_TUPLE_ORIG], family, &orig)) {
		errno = EBADMSG;
		return -1;
	}
	has_reply = tb[CTA_TUPLE_REPLY] && parse_tuple(tb[CTA_TUPLE_REPLY], family, &reply);

	out->present = true;
	if (tb[CTA_STATUS])
		out->status = nla_get_be32(tb[CTA_STATUS]);
	if (tb[CTA_MARK])
		out->mark = nla_get_be32(tb[CTA_MARK]);
	if (tb[CTA_TIMEOUT])
		out->timeout_s = nla_get_be32(tb[CTA_TIMEOUT]);
	if (tb[CTA_ID])
		out->id = nla_get_be32(tb[CTA_ID]);
	out->tcp_state = parse_tcp_state(tb[CTA_PROTOINFO]);

	/* Counters come in pairs or not at all (nf_conntrack_acct=0). */
	out->has_counters = parse_counters(tb[CTA_COUNTERS_ORIG], &out->packets[0], &out->bytes[0]) &&
			    parse_counters(tb[CTA_COUNTERS_REPLY], &out->packets[1], &out->bytes[1]);
	if (!out->has_counters) {
		memset(out->packets, 0, sizeof(out->packets));
		memset(out->bytes, 0, sizeof(out->bytes));
	}

	if (tb[CTA_TIMESTAMP] &&
	    mnl_attr_parse_nested(tb[CTA_TIMESTAMP], timestamp_attr_cb, ts) >= 0 &&
	    ts[CTA_TIMESTAMP_START]) {
		out->has_start = true;
		out->start_ns = get_be64(ts[CTA_TIMESTAMP_START]);
	}

	/* The original tuple decides when it matches the packet. Under NAT
	 * the reply direction carries the reply tuple's addresses, not the
	 * swapped original ones, hence the second test. A packet matching
	 * neither (seen after a NAT rewrite) is judged by its source alone. */
	if (pkt && pkt->family == family) {
		if (tuple_carries(&orig, pkt))
			out->reply_is_sender = false;
		else if (has_reply && tuple_carries(&reply, pkt))
			out->reply_is_sender = true;
		else
			out->reply_is_sender = !(orig.sport == pkt->sport &&
						 memcmp(orig.src, pkt->src, addr_len(family)) == 0);
	}
	return 0;
}

/* ---- one request, one answer --------------------------------------------- */

struct get_ctx {
	const struct tcp_packet *pkt;
	struct ct_info *out;
	bool found;
};

static int get_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *ctx = data;

	if (ct_parse_entry(nlh, ctx->pkt, ctx->out) < 0)
		return MNL_CB_ERROR;
	ctx->found = true;
	return MNL_CB_STOP;
}

static uint32_t next_seq(struct ct_handle *h)
{
	/* 0 would make libmnl accept any sequence number. */
	if (++h->seq == 0)
		h->seq = 1;
	return h->seq;
}

/* One datagram from the kernel, without waiting; anyone else's (EPERM from
 * nl_recv_kernel) is skipped like no datagram at all. */
static ssize_t recv_now(struct ct_handle *h)
{
	ssize_t n = nl_recv_kernel(mnl_socket_get_fd(h->nl), h->answer, sizeof(h->answer),
				   MSG_DONTWAIT);

	if (n < 0 && errno == EPERM)
		errno = EAGAIN;
	return n;
}

/* Sends the request and runs cb on the answer until it or an ACK/error ends
 * the exchange. 0 on success, -1 with errno (the kernel's error, or ETIMEDOUT). */
static int transact(struct ct_handle *h, size_t len, mnl_cb_t cb, void *data)
{
	const struct nlmsghdr *req = (const struct nlmsghdr *)h->request;
	int fd = mnl_socket_get_fd(h->nl);
	int64_t deadline = 0;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(h->nl, h->request, len) < 0)
		return -1;

	/* ctnetlink answers inside sendto: the reply is usually queued already,
	 * so read first and poll only when it is not (one syscall saved per
	 * reset; the benchmark found the round trip was a quarter of the cost). */
	for (;;) {
		const struct nlmsghdr *first;

		n = recv_now(h);
		if (n < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int64_t left;

			if (errno != EAGAIN && errno != EINTR)
				return -1;
			if (!deadline)
				deadline = clock_monotonic_ms() + h->timeout_ms;
			left = deadline - clock_monotonic_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
				return -1;
			continue;
		}

		/* An answer to an earlier request that timed out: not ours. */
		first = (const struct nlmsghdr *)h->answer;
		if (mnl_nlmsg_ok(first, (int)n) && first->nlmsg_seq != req->nlmsg_seq)
			continue;

		ret = mnl_cb_run(h->answer, nl_whole_messages(h->answer, (size_t)n), req->nlmsg_seq,
				 h->portid, cb, data);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -1 : 0;
	}
}

int ct_get(struct ct_handle *h, const struct tcp_packet *pkt, struct ct_info *out)
{
	struct get_ctx ctx = { .pkt = pkt, .out = out, .found = false };
	int len;

	memset(out, 0, sizeof(*out));
	len = ct_build_get(h->request, sizeof(h->request), pkt, next_seq(h));
	if (len < 0)
		return -1;

	if (transact(h, (size_t)len, get_data_cb, &ctx) < 0) {
		if (errno == ENOENT) {
			memset(out, 0, sizeof(*out));
			return 0;
		}
		return -1;
	}
	if (!ctx.found) {
		/* An ACK without an entry: not what a GET is answered with. */
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int ct_mark_update(struct ct_handle *h, const struct tcp_packet *pkt, uint32_t value,
		   uint32_t mask)
{
	int len;

	len = ct_build_mark(h->request, sizeof(h->request), pkt, value, mask, next_seq(h));
	if (len < 0)
		return -1;
	return transact(h, (size_t)len, NULL, NULL);
}

enum ct_failure ct_failure_of(int err)
{
	switch (err) {
	case ETIMEDOUT: return CT_FAIL_TIMEOUT;
	case ENOMEM:    return CT_FAIL_NOMEM;
	case EBUSY:     return CT_FAIL_BUSY;
	case ENOBUFS:   return CT_FAIL_NOBUFS;
	default:        return CT_FAIL_OTHER;
	}
}

const char *ct_failure_name(enum ct_failure f)
{
	static const char *const names[CT_FAIL_COUNT] = { "ETIMEDOUT", "ENOMEM", "EBUSY", "ENOBUFS",
							  "other" };

	return (unsigned)f < CT_FAIL_COUNT ? names[f] : "other";
}

const char *ct_state_name(uint8_t tcp_state)
{
	static const char *const names[] = {
		[TCP_CONNTRACK_NONE] = "NONE",
		[TCP_CONNTRACK_SYN_SENT] = "SYN_SENT",
		[TCP_CONNTRACK_SYN_RECV] = "SYN_RECV",
		[TCP_CONNTRACK_ESTABLISHED] = "ESTABLISHED",
		[TCP_CONNTRACK_FIN_WAIT] = "FIN_WAIT",
		[TCP_CONNTRACK_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_CONNTRACK_LAST_ACK] = "LAST_ACK",
		[TCP_CONNTRACK_TIME_WAIT] = "TIME_WAIT",
		[TCP_CONNTRACK_CLOSE] = "CLOSE",
		/* LISTEN is obsolete; the kernel reuses the value for a
		 * simultaneous open and names it so in /proc and conntrack -L. */
		[TCP_CONNTRACK_SYN_SENT2] = "SYN_SENT2",
		/* The rest are bounds and pseudo-states of the kernel's state
		 * machine; an entry never reports them, but a name beats a
		 * number in a log. */
		[TCP_CONNTRACK_MAX] = "MAX",
		[TCP_CONNTRACK_IGNORE] = "IGNORE",
		[TCP_CONNTRACK_RETRANS] = "RETRANS",
		[TCP_CONNTRACK_UNACK] = "UNACK",
		[TCP_CONNTRACK_TIMEOUT_MAX] = "TIMEOUT_MAX",
	};

	if (tcp_state >= sizeof(names) / sizeof(names[0]) || !names[tcp_state])
		return "UNKNOWN";
	return names[tcp_state];
}
