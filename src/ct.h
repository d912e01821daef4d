/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Conntrack context over ctnetlink (NETLINK_NETFILTER): look a flow up by its
 * tuple, and update bits of its mark under a mask. Library code: returns -1 and
 * sets errno, never exits. */
#ifndef RSTWATCH_CT_H
#define RSTWATCH_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct nlmsghdr;

/* What conntrack knew of a flow when the reset was seen. Filled by ct_get; the
 * classifier reads it and never needs to know where it came from. */
struct ct_info {
	bool present;            /* false: conntrack has no entry (a fact, not an error) */
	uint8_t tcp_state;       /* enum tcp_conntrack (TCP_CONNTRACK_ESTABLISHED ...) */
	uint32_t status;         /* IPS_* bits (IPS_CONFIRMED, IPS_ASSURED, IPS_SEEN_REPLY...) */
	uint32_t mark;
	uint32_t timeout_s;      /* seconds left before the entry expires */
	uint32_t id;             /* CTA_ID */
	bool has_start;
	uint64_t start_ns;       /* CTA_TIMESTAMP_START (nf_conntrack_timestamp=1) */
	bool has_counters;       /* nf_conntrack_acct=1 */
	uint64_t packets[2];     /* [0] original direction, [1] reply */
	uint64_t bytes[2];
	bool reply_is_sender;    /* the reset travels in conntrack's reply direction */
};

struct ct_handle;

/* Open a ctnetlink socket in the current network namespace. NULL + errno on
 * failure. A handle serves one thread at a time (it keeps one request buffer). */
struct ct_handle *ct_open(void);
void ct_close(struct ct_handle *h);

/* Look up the entry whose tuple (either direction) matches pkt's addresses and
 * ports. Returns 0 with out->present set true/false, or -1 with errno on a
 * transport error (ETIMEDOUT after the handle's timeout). One round trip.
 * Conntrack zone 0 only. out->reply_is_sender: pkt matches the entry's reply
 * tuple rather than its original one. */
int ct_get(struct ct_handle *h, const struct tcp_packet *pkt, struct ct_info *out);

/* Set mark bits: new = (old & ~mask) | (value & mask), done by the kernel
 * atomically with CTA_MARK + CTA_MARK_MASK (it computes (old & ~mask) ^ mark,
 * so value is sent masked). pkt's tuple may be either direction's. -1/ENOENT
 * if the entry is gone; it is never created. */
int ct_mark_update(struct ct_handle *h, const struct tcp_packet *pkt, uint32_t value,
		   uint32_t mask);

/* Why a ctnetlink request failed, by the errnos busy gateways meet: no answer
 * within the timeout, the kernel out of memory (ENOMEM) or busy (EBUSY), this
 * socket's receive buffer overrun (ENOBUFS: the answer was lost), the rest.
 * A fixed set, so that the metric has bounded series. */
enum ct_failure { CT_FAIL_TIMEOUT = 0, CT_FAIL_NOMEM, CT_FAIL_BUSY, CT_FAIL_NOBUFS, CT_FAIL_OTHER,
		  CT_FAIL_COUNT };
enum ct_failure ct_failure_of(int err);
/* "ETIMEDOUT", "ENOMEM", "EBUSY", "ENOBUFS", "other". */
const char *ct_failure_name(enum ct_failure f);

/* Name of a conntrack TCP state ("ESTABLISHED", "TIME_WAIT"... ; "NONE"). */
const char *ct_state_name(uint8_t tcp_state);

/* How long ct_get and ct_mark_update wait for the kernel's answer before
 * failing with ETIMEDOUT (default CT_DEFAULT_TIMEOUT_MS); EINVAL unless > 0. */
#define CT_DEFAULT_TIMEOUT_MS 200
int ct_set_timeout(struct ct_handle *h, int timeout_ms);

/* The messages ct_get and ct_mark_update send, built into buf (exposed so they
 * can be tested without a kernel). Return the message length, or -1 with errno
 * EMSGSIZE (buf too small; CT_REQUEST_MAX always suffices) or EAFNOSUPPORT
 * (pkt->family is neither 4 nor 6). */
#define CT_REQUEST_MAX 256
int ct_build_get(void *buf, size_t size, const struct tcp_packet *pkt, uint32_t seq);
int ct_build_mark(void *buf, size_t size, const struct tcp_packet *pkt, uint32_t value,
		  uint32_t mask, uint32_t seq);

/* Fill out from one IPCTNL_MSG_CT_NEW message as the kernel sends it. The
 * caller's buffer must hold MNL_ALIGN(nlh->nlmsg_len) bytes from nlh (what
 * mnl_cb_run hands a callback always does). pkt, if not NULL, decides
 * out->reply_is_sender. Attributes of an unexpected size are ignored as if
 * absent; an unusable original tuple makes the whole message invalid.
 * 0, or -1 with errno EPROTO (not a conntrack entry) or EBADMSG. */
int ct_parse_entry(const struct nlmsghdr *nlh, const struct tcp_packet *pkt,
		   struct ct_info *out);

#endif
