/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NFQUEUE transport: bind one queue, configure it, receive packets, send
 * verdicts. It knows nothing about TCP or resets; the caller's callback
 * decides each packet's fate.
 *
 * One struct nfqueue per queue number, owned by one thread: nfqueue_process
 * and nfqueue_close must not run concurrently on the same queue. Only
 * nfqueue_stats may be called from another thread.
 *
 * Every packet handed to the callback gets exactly one verdict, on every
 * path: accepted packets are answered in batches (NFQNL_MSG_VERDICT_BATCH),
 * and nfqueue_process never returns with a verdict still owed, so no packet
 * waits in the kernel for the caller's next call, except the packets the
 * caller chose to hold (NFQUEUE_HOLD): those wait until nfqueue_release
 * answers them, or nfqueue_close accepts them.
 *
 * Held verdicts. A batch verdict answers every queued packet whose id is at
 * most its own, held or not, and the kernel has no other range verdict. So
 * while a packet is held, the packets after it cannot be batched: each gets
 * its own verdict message, and up to batch_max of those leave in one send
 * (one syscall, as a batch would; the kernel's work per packet is a list
 * walk past the held packets, short while few are held). When nothing is
 * held the batches are as they always were.
 *
 * The names use the prefix nfqueue_ because libnetfilter_queue, which we link
 * for its nfq_nlmsg_* helpers, already exports nfq_open, nfq_close, nfq_fd...
 *
 * Library code: functions return -1 and set errno, never exit, never print. */
#ifndef RSTWATCH_NFQ_QUEUE_H
#define RSTWATCH_NFQ_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

struct nfqueue_config {
	uint16_t queue_num;
	/* Bytes of each packet copied to userspace (network header first).
	 * IPv6 + extension headers + TCP with options fit in 128. Default 128;
	 * the kernel caps it at 65535. */
	uint32_t copy_range;
	/* NFQA_CFG_F_FAIL_OPEN: when the queue is full the kernel accepts the
	 * packet instead of dropping it. Default true: an observer must not turn
	 * its own overload into packet loss. */
	bool fail_open;
	/* NFQA_CFG_F_GSO: take GSO super-packets as they are instead of having
	 * the kernel segment them first; only headers are read. Default true. */
	bool gso;
	/* Ask for NFQA_CFG_F_CONNTRACK (conntrack glue: the entry with each
	 * packet). Only `rstwatch check` sets it, to probe the kernel; the
	 * daemon reads conntrack by ctnetlink. */
	bool ct_glue;
	uint32_t maxlen;       /* NFQA_CFG_QUEUE_MAXLEN, packets; default 4096 */
	int rcvbuf;            /* socket receive buffer (SO_RCVBUFFORCE), bytes; 0 = leave */
	unsigned batch_max;    /* accepted packets per verdict message; default 8, 1 = no batching */
	/* SO_TIMESTAMP on the queue socket: the kernel then stamps received
	 * packets on arrival and NFQA_TIMESTAMP carries the stamp: the arrival
	 * time, not the time the consumer got to the packet. Default false: the
	 * stamping is host-wide (as a running tcpdump's), a clock read for every
	 * packet every interface receives, and measured in a reset flood it costs
	 * the consumer more (two stamps per forwarded packet, ~50 ns, in the
	 * verdict's reinjection) than reading the clock itself (~23 ns). */
	bool timestamps;
	/* Packets held at most at once (NFQUEUE_HOLD); 0 disables holding.
	 * Default 64. A held packet takes a place in the kernel's queue
	 * (maxlen), so keep this well under maxlen: a queue full of held
	 * packets accepts (fail_open) or drops everything else. Values above
	 * maxlen act as maxlen, since no more can be queued. */
	unsigned hold_max;
};

/* Fill c with the defaults above for queue_num. */
void nfqueue_config_default(struct nfqueue_config *c, uint16_t queue_num);

/* One queued packet, valid only during the callback. */
struct nfqueue_packet {
	uint32_t id;             /* kernel packet id (what the verdict names) */
	uint16_t queue_num;
	uint16_t hw_protocol;    /* ETH_P_IP / ETH_P_IPV6, host byte order */
	uint8_t hook;            /* NF_INET_PRE_ROUTING, NF_INET_LOCAL_OUT, ... */
	const uint8_t *payload;  /* network header first; NULL when len is 0 */
	size_t len;              /* bytes copied, at most copy_range */
	uint32_t orig_len;       /* length of the whole packet (>= len) */
	uint32_t mark;           /* skb mark (not the conntrack mark) */
	uint32_t ifindex_in;     /* 0 when absent (output hook) */
	uint32_t ifindex_out;    /* 0 when absent (prerouting hook) */
	uint32_t skb_info;       /* NFQA_SKB_* flags (GSO, CSUMNOTREADY, ...) */
	uint32_t run;            /* packets handed to the callback before this one since the
				  * socket was last found empty: a long run means the queue
				  * is backed up and the consumer is behind */
	bool has_ts;             /* the kernel stamped the packet on receive */
	uint64_t ts_us;          /* that stamp, microseconds since the epoch */
};

enum nfqueue_verdict {
	NFQUEUE_ACCEPT = 0,
	NFQUEUE_DROP,
	/* Returned by the callback only: answer later, with nfqueue_release.
	 * The hold takes if nfqueue_can_hold was true when the callback
	 * returned (ask it first); otherwise the packet is accepted at once and
	 * counted in hold_refused. */
	NFQUEUE_HOLD,
};

typedef enum nfqueue_verdict (*nfqueue_cb)(const struct nfqueue_packet *pkt, void *arg);

/* Called for each packet as soon as it is received, before the callback of
 * the packet received just before it, so that a caller can start on a packet
 * (decode it, prefetch what it will touch) while the socket is read for the
 * next one. For every packet: peek (if given), then later cb; between the two
 * at most one other packet is peeked; cb runs in arrival order. Packets the
 * transport itself cannot parse are neither peeked nor passed to cb. */
typedef void (*nfqueue_peek)(const struct nfqueue_packet *pkt, void *arg);

/* Counters since open. Monotonic; written only by the owning thread, readable
 * from any thread through nfqueue_stats. */
struct nfqueue_stats {
	uint64_t packets;       /* packet messages with a usable id */
	uint64_t accepted;
	uint64_t dropped;
	uint64_t verdict_msgs;  /* verdict messages sent (batched or single) */
	uint64_t enobufs;       /* receive overruns: the kernel could not deliver some packets */
	uint64_t errors;        /* failed sends, error replies from the kernel */
	uint64_t parse_errors;  /* malformed or truncated packet messages */
	uint64_t verdict_sends; /* sends of verdict messages (one may carry several) */
	uint64_t held;          /* packets held (NFQUEUE_HOLD that took) */
	uint64_t hold_refused;  /* NFQUEUE_HOLD with the hold set full: accepted at once */
	uint64_t released_accept; /* held packets answered: accepted (also in accepted) */
	uint64_t released_drop;   /* ... dropped (also in dropped) */
	uint64_t foreign;       /* datagrams not from the kernel: dropped unread */
};

struct nfqueue;

/* Bind queue c->queue_num in the current network namespace and configure
 * it. -1 + errno on failure: EPERM if another process holds the queue
 * (measured on 6.18) or without CAP_NET_ADMIN, EOPNOTSUPP if the kernel
 * refuses a flag. */
int nfqueue_open(struct nfqueue **out, const struct nfqueue_config *c);

/* The netlink socket, for callers that poll several descriptors. */
int nfqueue_fd(const struct nfqueue *q);

/* Wait up to timeout_ms (0: do not wait, -1: forever) for packets, then
 * handle what the socket holds (at most a bounded number of messages, so a
 * flood cannot keep the caller away from its stop flag), calling peek (may
 * be NULL) and cb once per packet and sending every verdict before
 * returning: a packet is judged one receive after it arrived (see
 * nfqueue_peek), and only one the callback held (NFQUEUE_HOLD) waits past
 * the call. Held packets stay held when it fails: nfqueue_close answers
 * them.
 * Returns the number of packets handled (0 on timeout or EINTR), or -1 +
 * errno on a fatal socket error. ENOBUFS is counted, not returned. */
int nfqueue_process(struct nfqueue *q, nfqueue_peek peek, nfqueue_cb cb, void *arg,
		    int timeout_ms);

/* Copy the counters; safe from any thread. */
void nfqueue_stats(const struct nfqueue *q, struct nfqueue_stats *out);

/* Whether a NFQUEUE_HOLD returned now would take: fewer than hold_max
 * packets are held. Exact for the owning thread, which alone changes the
 * hold set: a callback that asked and got true, and returns NFQUEUE_HOLD,
 * holds its packet. A caller that must log what became of a packet asks
 * first and returns NFQUEUE_ACCEPT itself when the answer is false. */
bool nfqueue_can_hold(const struct nfqueue *q);

/* Packets held now. Safe from any thread (a snapshot). */
unsigned nfqueue_held_count(const struct nfqueue *q);

/* Answer held packet id with v (NFQUEUE_ACCEPT or NFQUEUE_DROP), out of
 * order, at once (one verdict message). Owning thread only: between
 * nfqueue_process calls or from inside its callbacks (peek or cb).
 * Returns 0, or -1 + errno: ENOENT if id is not held (never was, refused,
 * or already released), EINVAL for another v, or the send's error: then the
 * packet stays held (release again, or nfqueue_close accepts it).
 * The kernel may drop a held packet itself (its table deleted, see
 * nfqueue_close; its interface gone): releasing it then returns 0 and the
 * kernel's complaint is counted in errors. */
int nfqueue_release(struct nfqueue *q, uint32_t id, enum nfqueue_verdict v);

/* Answer every held packet with v, in as few sends as possible. Same rules
 * and errors as nfqueue_release (no ENOENT; 0 when nothing is held); on a
 * failed send the packets not yet answered stay held. Call it before
 * removing the divert rules (see nfqueue_close). */
int nfqueue_release_all(struct nfqueue *q, enum nfqueue_verdict v);

/* Accept every held packet and every packet already delivered to the
 * socket, then unbind the queue and free q: every queued packet gets
 * exactly one verdict on this path too. Packets the kernel still holds at
 * unbind are dropped by the kernel, so remove the divert rule before
 * closing the queues: then nothing new arrives and bypass covers the gap.
 * But deleting the rules' table drops what is queued: the kernel flushes
 * its queues, with NF_DROP, when a hook is unregistered (measured on 6.18
 * with held packets, t-queue.sh J). Answer held packets
 * (nfqueue_release_all) before removing the rules. Returns 0, or -1 +
 * errno if the unbind failed (q is freed anyway). NULL is a no-op. */
int nfqueue_close(struct nfqueue *q);

/* Fill out from one NFQNL_MSG_PACKET message as the kernel sends it (the
 * caller's buffer holds nlh->nlmsg_len bytes from nlh; payload points into
 * it). 0; 1 when some attribute was malformed and left out (the id is good:
 * answer the packet, do not judge it); -1 with errno EPROTO (not a packet
 * message) or EBADMSG (no packet header: no id to answer). */
int nfqueue_parse_packet(const struct nlmsghdr *nlh, struct nfqueue_packet *out);

#endif
