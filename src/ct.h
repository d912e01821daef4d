/* Conntrack context over ctnetlink (NETLINK_NETFILTER): look a flow up by its
 * tuple, and update bits of its mark under a mask. Library code: returns -1 and
 * sets errno, never exits. */
#ifndef RSTWATCH_CT_H
#define RSTWATCH_CT_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

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

/* Open a ctnetlink socket in the current network namespace. NULL + errno on failure. */
struct ct_handle *ct_open(void);
void ct_close(struct ct_handle *h);

/* Look up the entry whose tuple (either direction) matches pkt's addresses and
 * ports. Returns 0 with out->present set true/false, or -1 with errno on a
 * transport error. One round trip. */
int ct_get(struct ct_handle *h, const struct tcp_packet *pkt, struct ct_info *out);

/* Set mark bits: new = (old & ~mask) | (value & mask), done by the kernel
 * atomically with CTA_MARK + CTA_MARK_MASK. -1/ENOENT if the entry is gone. */
int ct_mark_update(struct ct_handle *h, const struct tcp_packet *pkt, uint32_t value,
		   uint32_t mask);

/* Name of a conntrack TCP state ("ESTABLISHED", "TIME_WAIT"... ; "NONE"). */
const char *ct_state_name(uint8_t tcp_state);

#endif
