/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NFQUEUE transport over libmnl and the nfq_nlmsg_* helpers of
 * libnetfilter_queue. See queue.h for the contract. */
#include "queue.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>

#include "nlrecv.h"

/* Messages handled per nfqueue_process call at most: under a flood the caller
 * still gets control back often enough to see its stop flag. */
#define RECV_BUDGET 1024

/* Room for a packet message's headers and attributes beyond the copied
 * payload (packet header, mark, stamps, interfaces, hw address, L2 header,
 * skb info, cap len ...): well under 1 KiB today, 4 KiB leaves margin. */
#define MSG_OVERHEAD 4096

/* A configuration request: header and four small attributes. */
#define CFG_MSG_SIZE 256

/* One verdict message: header, nfgenmsg, NFQA_VERDICT_HDR. */
#define VERDICT_MSG_SIZE                                                                  \
	(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) + MNL_ATTR_HDRLEN +        \
	 MNL_ALIGN(sizeof(struct nfqnl_msg_verdict_hdr)))

/* Verdict messages packed into one send: nfnetlink handles every message of
 * a datagram in turn, so n single verdicts cost one syscall. 2 KiB of stack. */
#define VERDICTS_PER_SEND 64

struct nfqueue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	struct nfqueue_config cfg;
	/* Two receive buffers, used in turn: the packet peeked and waiting to
	 * be judged (below) points into the one filled last while the next
	 * datagram goes into the other. */
	uint8_t *buf[2];
	unsigned cur;           /* the buffer the next receive fills */
	size_t buflen;

	/* Accepted packets not yet answered: the batch verdict for pending_id
	 * answers every queued id up to and including it. Every id it covers
	 * is accepted: no held id is ever at or below pending_id. */
	unsigned pending;
	uint32_t pending_id;

	/* Packets held by the caller (NFQUEUE_HOLD), oldest first, n_held of
	 * hold_cap. Packets are judged in id order, so every packet accepted
	 * while one is held has a higher id than all held ones: a batch for it
	 * would answer them too. Those accepts wait here instead, to be sent
	 * as single verdicts (n_single of batch_max). Invariant: n_held == 0
	 * implies n_single == 0. */
	uint32_t *hold;
	unsigned n_held, hold_cap;
	uint32_t *single;
	unsigned n_single;

	/* The caller's callbacks during nfqueue_process; cb is NULL while
	 * opening or closing, when every packet is simply accepted. */
	nfqueue_peek peek;
	nfqueue_cb cb;
	void *cb_arg;
	int handled;

	/* The packet received last, peeked but not yet judged: it is judged
	 * when the next one has arrived and been peeked, or when the socket is
	 * empty, and always before nfqueue_process returns. */
	struct nfqueue_packet next;
	bool have_next;

	bool cut;               /* the datagram being handled was truncated */

	/* While waiting for the acknowledgement of a request: its seq and, once
	 * it arrived, its result (0 or a negative errno). */
	uint32_t await_seq;
	bool await_done;
	int await_err;

	struct nfqueue_stats st;
};

/* Only the owning thread writes the counters, so a relaxed store of the new
 * value is enough for another thread to read them without tearing and
 * without paying for a locked add per packet. */
static void bump(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

void nfqueue_config_default(struct nfqueue_config *c, uint16_t queue_num)
{
	memset(c, 0, sizeof(*c));
	c->queue_num = queue_num;
	c->copy_range = 128;
	c->fail_open = true;
	c->gso = true;
	c->maxlen = 4096;
	c->rcvbuf = 0;
	c->batch_max = 8;
	c->timestamps = false;
	c->hold_max = 64;
}

int nfqueue_fd(const struct nfqueue *q)
{
	return mnl_socket_get_fd(q->nl);
}

void nfqueue_stats(const struct nfqueue *q, struct nfqueue_stats *out)
{
	out->packets = __atomic_load_n(&q->st.packets, __ATOMIC_RELAXED);
	out->accepted = __atomic_load_n(&q->st.accepted, __ATOMIC_RELAXED);
	out->dropped = __atomic_load_n(&q->st.dropped, __ATOMIC_RELAXED);
	out->verdict_msgs = __atomic_load_n(&q->st.verdict_msgs, __ATOMIC_RELAXED);
	out->enobufs = __atomic_load_n(&q->st.enobufs, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&q->st.errors, __ATOMIC_RELAXED);
	out->parse_errors = __atomic_load_n(&q->st.parse_errors, __ATOMIC_RELAXED);
	out->verdict_sends = __atomic_load_n(&q->st.verdict_sends, __ATOMIC_RELAXED);
	out->held = __atomic_load_n(&q->st.held, __ATOMIC_RELAXED);
	out->hold_refused = __atomic_load_n(&q->st.hold_refused, __ATOMIC_RELAXED);
	out->released_accept = __atomic_load_n(&q->st.released_accept, __ATOMIC_RELAXED);
	out->released_drop = __atomic_load_n(&q->st.released_drop, __ATOMIC_RELAXED);
	out->foreign = __atomic_load_n(&q->st.foreign, __ATOMIC_RELAXED);
}

bool nfqueue_can_hold(const struct nfqueue *q)
{
	return q->n_held < q->hold_cap;
}

unsigned nfqueue_held_count(const struct nfqueue *q)
{
	return __atomic_load_n(&q->n_held, __ATOMIC_RELAXED);
}

/* n_held is read from other threads (nfqueue_held_count); see bump. */
static void set_held(struct nfqueue *q, unsigned n)
{
	__atomic_store_n(&q->n_held, n, __ATOMIC_RELAXED);
}

/* Append one verdict message at buf + off; returns its length. */
static size_t put_verdict(struct nfqueue *q, char *buf, size_t off, int type, uint32_t id,
			  int verdict)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf + off, type, q->cfg.queue_num);

	nlh->nlmsg_seq = ++q->seq;
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	return nlh->nlmsg_len;
}

/* A verdict goes to the kernel synchronously; sendto fails only when the
 * kernel cannot allocate the message or the socket is broken. Transient
 * failures are retried a few times because the packet has no other way out:
 * a packet left without a verdict stays queued until the queue is unbound
 * and is then dropped. */
static int send_msgs(struct nfqueue *q, const char *buf, size_t len, unsigned msgs)
{
	for (int tries = 0;; tries++) {
		if (mnl_socket_sendto(q->nl, buf, len) >= 0) {
			bump(&q->st.verdict_sends);
			__atomic_store_n(&q->st.verdict_msgs, q->st.verdict_msgs + msgs,
					 __ATOMIC_RELAXED);
			return 0;
		}
		if (errno == EINTR || ((errno == ENOBUFS || errno == EAGAIN || errno == ENOMEM) &&
				       tries < 3))
			continue;
		bump(&q->st.errors);
		return -1;
	}
}

static int send_verdict(struct nfqueue *q, int type, uint32_t id, int verdict)
{
	char buf[VERDICT_MSG_SIZE] __attribute__((aligned(4)));

	return send_msgs(q, buf, put_verdict(q, buf, 0, type, id, verdict), 1);
}

/* Single verdicts for ids[0..n), VERDICTS_PER_SEND per send. Returns how
 * many were sent, all of them unless a send failed (errno set). */
static unsigned send_singles(struct nfqueue *q, const uint32_t *ids, unsigned n, int verdict)
{
	char buf[VERDICTS_PER_SEND * VERDICT_MSG_SIZE] __attribute__((aligned(4)));
	unsigned done = 0;

	while (done < n) {
		unsigned k = n - done < VERDICTS_PER_SEND ? n - done : VERDICTS_PER_SEND;
		size_t len = 0;

		for (unsigned i = 0; i < k; i++)
			len += put_verdict(q, buf, len, NFQNL_MSG_VERDICT, ids[done + i], verdict);
		if (send_msgs(q, buf, len, k) < 0)
			break;
		done += k;
	}
	return done;
}

static void flush_accepts(struct nfqueue *q)
{
	if (q->n_single) {
		/* A failed send leaves its packets queued; the next batch, once
		 * nothing is held, answers them (it covers every lower id). */
		send_singles(q, q->single, q->n_single, NF_ACCEPT);
		q->n_single = 0;
	}
	if (q->pending == 0)
		return;
	/* A batch of one is the same single message either way; the plain
	 * verdict makes the trace easier to read. */
	send_verdict(q, q->pending == 1 ? NFQNL_MSG_VERDICT : NFQNL_MSG_VERDICT_BATCH,
		     q->pending_id, NF_ACCEPT);
	q->pending = 0;
}

/* Add id to the hold set; false when it is full (or holding is off). */
static bool hold_add(struct nfqueue *q, uint32_t id)
{
	if (q->n_held >= q->hold_cap) {
		bump(&q->st.hold_refused);
		return false;
	}
	/* Ids arrive in increasing order, so appending keeps the set oldest
	 * first. The accepts already pending have lower ids: their batch
	 * stays valid and needs no flush. */
	q->hold[q->n_held] = id;
	set_held(q, q->n_held + 1);
	bump(&q->st.held);
	return true;
}

/* Remove hold[i..i+n): answered. When the last held packet goes, the
 * single accepts waiting join the batch: nothing is held below them any
 * more, and they are the newest ids judged, so a batch up to the last one
 * answers exactly the packets owed (every lower id is answered or pending). */
static void hold_remove(struct nfqueue *q, unsigned i, unsigned n)
{
	memmove(q->hold + i, q->hold + i + n, (q->n_held - i - n) * sizeof(q->hold[0]));
	set_held(q, q->n_held - n);
	if (q->n_held == 0 && q->n_single) {
		q->pending += q->n_single;
		q->pending_id = q->single[q->n_single - 1];
		q->n_single = 0;
	}
}

static void give_verdict(struct nfqueue *q, uint32_t id, enum nfqueue_verdict v)
{
	if (v != NFQUEUE_ACCEPT) {
		if (v == NFQUEUE_DROP) {
			/* A batch verdict covers every id up to its own, so the
			 * accepts owed for earlier packets must leave first, or this
			 * drop would be swallowed by (or would swallow) the batch. */
			flush_accepts(q);
			if (send_verdict(q, NFQNL_MSG_VERDICT, id, NF_DROP) == 0)
				bump(&q->st.dropped);
			return;
		}
		if (v == NFQUEUE_HOLD && hold_add(q, id))
			return;
		/* A refused hold, or a value we do not know: let it pass. */
	}
	bump(&q->st.accepted);
	if (q->n_held == 0) {
		q->pending_id = id;
		if (++q->pending >= q->cfg.batch_max)
			flush_accepts(q);
		return;
	}
	q->single[q->n_single] = id;
	if (++q->n_single >= q->cfg.batch_max)
		flush_accepts(q);
}

static void judge_next(struct nfqueue *q)
{
	if (!q->have_next)
		return;
	q->have_next = false;
	q->next.run = (uint32_t)q->handled;
	q->handled++;
	give_verdict(q, q->next.id, q->cb(&q->next, q->cb_arg));
}

static int verdict_of(enum nfqueue_verdict v)
{
	if (v == NFQUEUE_ACCEPT)
		return NF_ACCEPT;
	if (v == NFQUEUE_DROP)
		return NF_DROP;
	return -1;
}

static void count_released(struct nfqueue *q, enum nfqueue_verdict v, unsigned n)
{
	uint64_t *all = v == NFQUEUE_DROP ? &q->st.dropped : &q->st.accepted;
	uint64_t *rel = v == NFQUEUE_DROP ? &q->st.released_drop : &q->st.released_accept;

	__atomic_store_n(all, *all + n, __ATOMIC_RELAXED);
	__atomic_store_n(rel, *rel + n, __ATOMIC_RELAXED);
}

int nfqueue_release(struct nfqueue *q, uint32_t id, enum nfqueue_verdict v)
{
	int verdict = verdict_of(v);
	unsigned i;

	if (verdict < 0) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < q->n_held && q->hold[i] != id; i++)
		;
	if (i == q->n_held) {
		errno = ENOENT;
		return -1;
	}
	/* No batch can cover a held id (pending_id is below every one), so
	 * this single verdict may leave before or after any pending accepts. */
	if (send_verdict(q, NFQNL_MSG_VERDICT, id, verdict) < 0)
		return -1;
	count_released(q, v, 1);
	hold_remove(q, i, 1);
	return 0;
}

int nfqueue_release_all(struct nfqueue *q, enum nfqueue_verdict v)
{
	int verdict = verdict_of(v);
	unsigned sent;

	if (verdict < 0) {
		errno = EINVAL;
		return -1;
	}
	if (q->n_held == 0)
		return 0;
	sent = send_singles(q, q->hold, q->n_held, verdict);
	count_released(q, v, sent);
	if (sent < q->n_held) {
		int saved = errno;

		hold_remove(q, 0, sent);
		errno = saved;
		return -1;
	}
	hold_remove(q, 0, sent);
	return 0;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfqueue *q = data;
	struct nfqueue_packet p;
	enum nfqueue_verdict v = NFQUEUE_ACCEPT;
	int rc = nfqueue_parse_packet(nlh, &p);

	if (rc == -1 && errno == EPROTO)
		return MNL_CB_OK;    /* not a packet message */
	if (rc == -1) {
		/* Without an id there is nothing to answer; the kernel keeps the
		 * packet until the queue is unbound. Never seen; counted. */
		bump(&q->st.parse_errors);
		return MNL_CB_OK;
	}
	p.queue_num = q->cfg.queue_num;
	bump(&q->st.packets);
	if (rc == 1 || q->cut) {
		/* The kernel broke its ABI or the message was cut: do not let the
		 * caller reason on half a packet, let it pass. */
		bump(&q->st.parse_errors);
	} else if (q->cb) {
		if (q->peek)
			q->peek(&p, q->cb_arg);
		/* Judge the one before first: verdicts are decided in arrival
		 * order, so a batch accept never covers a packet not yet judged. */
		judge_next(q);
		q->next = p;
		q->have_next = true;
		return MNL_CB_OK;
	}
	judge_next(q);
	give_verdict(q, p.id, v);
	return MNL_CB_OK;
}

/* NLMSG_ERROR: either the acknowledgement a request is waiting for, or the
 * kernel's complaint about an earlier verdict (unknown id ...), which we
 * sent without asking for an ack and can only count. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfqueue *q = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		bump(&q->st.parse_errors);
		return MNL_CB_OK;
	}
	if (q->await_seq && nlh->nlmsg_seq == q->await_seq) {
		q->await_done = true;
		q->await_err = e->error;
		return MNL_CB_STOP;
	}
	if (e->error != 0)
		bump(&q->st.errors);
	return MNL_CB_OK;
}

static void handle_datagram(struct nfqueue *q, uint8_t *buf, size_t n, size_t real_len)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
	};
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	/* A datagram larger than the buffer (more attributes than MSG_OVERHEAD
	 * plans for) is cut. Shorten the message to what arrived: the packet
	 * header comes first, so the id, and with it the verdict, survive;
	 * packet_cb counts the rest as a parse error. */
	q->cut = real_len > n;
	if (q->cut && n >= sizeof(*nlh) && nlh->nlmsg_len > n)
		nlh->nlmsg_len = (uint32_t)n;
	/* seq 0: packets are unsolicited (seq 0) and error_cb matches replies
	 * to our requests itself. The portid check is real. */
	mnl_cb_run2(buf, nl_whole_messages(buf, n), 0, q->portid, packet_cb, q, ctl, NLMSG_MIN_TYPE);
}

/* Receive once without blocking. 1: handled a datagram, 0: socket empty,
 * -1: fatal error (errno). ENOBUFS means the kernel failed to deliver some
 * packets to us (they were accepted by fail-open or dropped and counted in
 * user_dropped); the socket keeps working, so it is counted and retried. */
static int recv_one(struct nfqueue *q)
{
	for (;;) {
		uint8_t *buf = q->buf[q->cur];
		ssize_t n = nl_recv_kernel(mnl_socket_get_fd(q->nl), buf, q->buflen,
					   MSG_DONTWAIT | MSG_TRUNC);

		if (n >= 0) {
			size_t got = (size_t)n < q->buflen ? (size_t)n : q->buflen;

			q->cur ^= 1;
			handle_datagram(q, buf, got, (size_t)n);
			return 1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == ENOBUFS) {
			bump(&q->st.enobufs);
			continue;
		}
		if (errno == EPERM) {
			bump(&q->st.foreign);
			continue;
		}
		return -1;
	}
}

/* Send a request and wait (bounded) for its acknowledgement. Packets that
 * arrive meanwhile are accepted, since the caller's callback is not ours to
 * call here. */
static int request(struct nfqueue *q, struct nlmsghdr *nlh)
{
	struct timespec start, now;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++q->seq;
	q->await_seq = nlh->nlmsg_seq;
	q->await_done = false;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!q->await_done) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(q->nl), .events = POLLIN };
		long ms;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms >= 2000) {
			errno = ETIMEDOUT;
			goto fail;
		}
		r = poll(&pfd, 1, (int)(2000 - ms));
		if (r < 0 && errno != EINTR)
			goto fail;
		if (r > 0 && recv_one(q) < 0)
			goto fail;
	}
	flush_accepts(q);
	q->await_seq = 0;
	if (q->await_err) {
		errno = -q->await_err;
		return -1;
	}
	return 0;
fail:
	flush_accepts(q);
	q->await_seq = 0;
	return -1;
}

int nfqueue_open(struct nfqueue **out, const struct nfqueue_config *c)
{
	char buf[CFG_MSG_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	struct nfqueue *q;
	uint32_t flags = 0;
	int saved;

	*out = NULL;
	if (c->batch_max == 0 || c->copy_range == 0 || c->maxlen == 0 || c->rcvbuf < 0) {
		errno = EINVAL;
		return -1;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -1;
	q->cfg = *c;
	if (q->cfg.copy_range > 0xffff)
		q->cfg.copy_range = 0xffff;
	q->buflen = q->cfg.copy_range + MSG_OVERHEAD;
	q->buf[0] = malloc(2 * q->buflen);
	if (!q->buf[0])
		goto err;
	q->buf[1] = q->buf[0] + q->buflen;
	q->seq = (uint32_t)time(NULL);
	/* More than maxlen packets cannot be queued, so none can be held. */
	q->hold_cap = q->cfg.hold_max < q->cfg.maxlen ? q->cfg.hold_max : q->cfg.maxlen;
	q->hold = calloc(q->hold_cap ? q->hold_cap : 1, sizeof(q->hold[0]));
	q->single = calloc(q->cfg.batch_max, sizeof(q->single[0]));
	if (!q->hold || !q->single)
		goto err;

	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl)
		goto err;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	q->portid = mnl_socket_get_portid(q->nl);

	/* NETLINK_NO_ENOBUFS is deliberately not set: an overrun is the one
	 * sign that the kernel could not hand us packets, and we count it.
	 * With plain recv (no recvmmsg) an overrun is reported once and the
	 * socket goes on working; the recvmmsg consumer that wedged without
	 * that option (design §1) does not apply. t-queue.sh floods a small
	 * buffer and checks that traffic is still seen afterwards. */
	if (q->cfg.rcvbuf > 0 &&
	    setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE, &q->cfg.rcvbuf,
		       sizeof(q->cfg.rcvbuf)) < 0)
		goto err;
	if (q->cfg.timestamps &&
	    setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_TIMESTAMP, &(int){ 1 },
		       sizeof(int)) < 0)
		goto err;

	/* Bind and configure in one message: the kernel validates the flags
	 * before it binds, so a refused flag leaves no queue behind. */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->cfg.queue_num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)q->cfg.copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, q->cfg.maxlen);
	if (q->cfg.fail_open)
		flags |= NFQA_CFG_F_FAIL_OPEN;
	if (q->cfg.gso)
		flags |= NFQA_CFG_F_GSO;
	if (q->cfg.ct_glue)
		flags |= NFQA_CFG_F_CONNTRACK;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO |
						   (q->cfg.ct_glue ? NFQA_CFG_F_CONNTRACK : 0)));
	if (request(q, nlh) < 0)
		goto err;

	*out = q;
	return 0;
err:
	saved = errno;
	/* Closing the socket unbinds whatever it had bound. */
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->hold);
	free(q->single);
	free(q->buf[0]);
	free(q);
	errno = saved;
	return -1;
}

int nfqueue_process(struct nfqueue *q, nfqueue_peek peek, nfqueue_cb cb, void *arg,
		    int timeout_ms)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(q->nl), .events = POLLIN };
	int r, saved = 0;

	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return 0;

	q->peek = peek;
	q->cb = cb;
	q->cb_arg = arg;
	q->handled = 0;
	for (int budget = RECV_BUDGET; budget > 0; budget--) {
		/* Verdicts leave when the batch is full (give_verdict) or, here,
		 * when the socket is empty: a lone packet is never held back
		 * waiting for company. */
		r = recv_one(q);
		if (r <= 0) {
			saved = errno;
			break;
		}
	}
	judge_next(q);
	flush_accepts(q);
	q->cb = NULL;
	if (r < 0) {
		errno = saved;
		return -1;
	}
	return q->handled;
}

int nfqueue_close(struct nfqueue *q)
{
	char buf[CFG_MSG_SIZE] __attribute__((aligned(4)));
	struct nlmsghdr *nlh;
	int ret = 0, saved = 0;

	if (!q)
		return 0;
	/* Held packets and packets already in the socket would be dropped by
	 * the unbind: accept them first. The held ones go first, so what
	 * follows is batched again. A failed send is retried once: the unbind
	 * would drop what stays. Bounded, in case the divert rule still feeds
	 * us. */
	q->cb = NULL;
	if (nfqueue_release_all(q, NFQUEUE_ACCEPT) < 0)
		nfqueue_release_all(q, NFQUEUE_ACCEPT);
	for (uint32_t n = 0; n < q->cfg.maxlen + RECV_BUDGET; n++)
		if (recv_one(q) <= 0)
			break;
	flush_accepts(q);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->cfg.queue_num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
	if (request(q, nlh) < 0) {
		ret = -1;
		saved = errno;
	}
	mnl_socket_close(q->nl);
	free(q->hold);
	free(q->single);
	free(q->buf[0]);
	free(q);
	if (ret < 0)
		errno = saved;
	return ret;
}
