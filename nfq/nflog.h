/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfnetlink_log reader: rstwatch's passive input.
 *
 * A `log group N` rule copies a packet to this socket and lets the original go
 * on untouched. rstwatch uses it for everything it only observes (handshakes,
 * watched flows, the resets this host's own firewall makes for new
 * connections, which queueing would drop: design §1). Knows nothing about TCP. Library code: returns -1 and sets errno, never exits or
 * prints. A reader belongs to one thread at a time. */
#ifndef RSTWATCH_NFLOG_H
#define RSTWATCH_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

#define NFLOG_DEFAULT_COPY_RANGE 128
/* The kernel's limit: the payload must fit a 16-bit attribute length. */
#define NFLOG_MAX_COPY_RANGE (0xffff - 4)

struct nflog_config {
	uint16_t group;            /* the N of `log group N` */
	uint32_t copy_range;       /* bytes copied of each packet; 0: NFLOG_DEFAULT_COPY_RANGE */
	uint32_t qthresh;          /* packets the kernel gathers per message; 0: 1, each at once */
	uint32_t flush_timeout_cs; /* with qthresh > 1, longest hold in 1/100 s; 0: kernel's (1 s) */
	uint32_t rcvbuf;           /* socket receive buffer, bytes; 0: system default */
	uint32_t nlbufsiz;         /* bytes the kernel gathers per message (NFULA_CFG_NLBUFSIZ,
				    * at most NFLOG_MAX_NLBUFSIZ); 0: the kernel's (a page) */
};

#define NFLOG_MAX_NLBUFSIZ 131072

/* How rstwatch reads copies: the kernel gathers 64 a message (64 KiB at
 * most) or what 10 ms brought, into a 4 MiB receive buffer. Measured within
 * noise of no copying at all, where one message a copy cost nearly as much
 * as queueing (design §8). A rule's own `queue-threshold 1` still flushes the
 * batch at once (a reset's marker, a watched flow). */
void nflog_config_batched(struct nflog_config *cfg, uint16_t group, uint32_t copy_range);

/* One logged packet. Pointers lead into the reader's buffer: valid only
 * during the callback. */
struct nflog_packet {
	const uint8_t *payload;    /* the packet from its network header on; NULL if not copied */
	size_t len;                /* bytes at payload (at most copy_range) */
	uint16_t hw_protocol;      /* ETH_P_IP, ETH_P_IPV6 ... (host order) */
	uint8_t hook;              /* NF_INET_LOCAL_OUT for the output hook ... */
	uint8_t family;            /* NFPROTO_IPV4 / NFPROTO_IPV6 */
	uint16_t group;
	uint32_t ifindex_in;       /* 0: none (locally generated) */
	uint32_t ifindex_out;      /* 0: none (before routing) */
	uint64_t ts_us;            /* µs since the epoch: the kernel's stamp if has_ts, otherwise
				    * when the reader received it (the kernel stamps packets only
				    * on prerouting, input and forward) */
	bool has_ts;
	const char *prefix;        /* the rule's `log prefix`, NUL-terminated; NULL if none */
	uint32_t mark;             /* packet mark; 0 if none */
	bool has_seq;
	uint32_t seq;              /* the group's packet counter, gaps mean loss */
};

/* Called for every packet. A negative return stops nflog_process, which
 * returns -1 with the errno the callback left; the rest of that batch is lost.
 * A positive return makes nflog_process return once the datagram being read
 * is done (its other packets are still delivered; nothing is lost): a caller
 * that reads up to a given packet stops there. */
typedef int (*nflog_cb)(const struct nflog_packet *pkt, void *arg);

struct nflog_stats {
	uint64_t packets;          /* handed to the callback */
	uint64_t enobufs;          /* socket overflows (the kernel dropped messages) */
	uint64_t lost;             /* packets missing from the group's sequence numbers */
	uint64_t implausible;      /* sequence jumps beyond nfq/seqgap.h's bound, not in lost */
	uint64_t parse_errors;     /* messages or datagrams that could not be read */
	uint64_t foreign;          /* datagrams not from the kernel: dropped unread */
};

struct nflog_reader;

/* Bind the group in the current network namespace and set its copy mode.
 * Fails with EPERM if another socket holds the group, EBUSY if this one does,
 * ETIMEDOUT if the kernel does not answer within a second. */
int nflog_open(struct nflog_reader **out, const struct nflog_config *cfg);

/* The socket, for a caller's own poll loop. */
int nflog_fd(const struct nflog_reader *r);

/* Wait up to timeout_ms (-1: forever, 0: not at all) for packets, then read
 * what is there (a bounded batch) and call cb for each. Returns how many
 * packets were delivered (0 on timeout or signal), or -1 with errno. */
int nflog_process(struct nflog_reader *r, nflog_cb cb, void *arg, int timeout_ms);

void nflog_get_stats(const struct nflog_reader *r, struct nflog_stats *out);

/* Close the socket; the kernel drops the group's binding with it. */
void nflog_close(struct nflog_reader *r);

/* Exposed for tests. */

/* The bind-and-configure request nflog_open sends. Returns its length, or -1
 * with EMSGSIZE (NFLOG_CONFIG_MAX always suffices) or EINVAL (copy_range above
 * NFLOG_MAX_COPY_RANGE). */
#define NFLOG_CONFIG_MAX 128
int nflog_build_config(void *buf, size_t size, const struct nflog_config *cfg, uint32_t seq);

/* Fill out from one NFULNL_MSG_PACKET message. The caller's buffer must hold
 * MNL_ALIGN(nlh->nlmsg_len) bytes from nlh. Attributes of an unexpected size
 * are ignored as if absent; without a valid packet header the message is
 * refused. 0, or -1 with errno EPROTO (another message type) or EBADMSG. */
int nflog_parse_packet(const struct nlmsghdr *nlh, struct nflog_packet *out);

/* "prerouting", "input", "forward", "output", "postrouting", "ingress", "?". */
const char *nflog_hook_name(uint8_t hook);

#endif
