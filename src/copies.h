/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capture copies: a capture taken on a Linux host with `tcpdump -i any`
 * (Linux cooked headers) or with direction flags (pcapng epb_flags) records
 * what the host received and what it sent. A forwarded packet is in it twice,
 * as it came in and as it went out (TTL or hop limit one less); a packet over
 * loopback twice, out then in; the host's own packets (its sockets' and its
 * firewall's rejects) only as outgoing. rstwatch judges each packet once, as
 * it arrived, and knows which resets the host made (design §8, issue 10).
 *
 * A copy is the same packet bar what forwarding changes: addresses, ports,
 * seq, ack, flags, window, IPv4 ID and length equal, TTL not higher, seen
 * within COPY_WINDOW_US. Bounded: COPY_SLOTS packets remembered (older ones
 * forgotten), COPY_LOCAL_MAX of the host's addresses. */
#ifndef RSTWATCH_COPIES_H
#define RSTWATCH_COPIES_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

#define COPY_WINDOW_US 100000ULL
#define COPY_SLOTS 4096          /* a power of two */
#define COPY_PROBE 8
#define COPY_LOCAL_MAX 64

struct copy_entry {
	uint64_t ts_us;          /* 0: free */
	uint64_t hash;
	uint32_t seq, ack, payload_len, ifindex;
	uint16_t sport, dport, ipid, window;
	uint8_t family, flags, ttl, dir;
	bool claimed;            /* its copy was seen already */
	uint8_t src[16], dst[16];
};

struct copies {
	struct copy_entry slot[COPY_SLOTS];
	struct {
		uint8_t family;
		uint8_t addr[16];
	} local[COPY_LOCAL_MAX];     /* sources of what the host sent of its own */
	unsigned n_local, next_local;
	uint64_t merged;             /* copies judged as one packet with their original */
};

void copies_init(struct copies *c);

/* pkt (link_dir set, not LINK_DIR_UNKNOWN) seen at ts_us. Returns true if it
 * is the copy of a packet seen before (forwarded: the in copy's interface in
 * *first_ifindex), which is not to be judged again; false if it is new,
 * which is then remembered. */
bool copies_seen(struct copies *c, const struct tcp_packet *pkt, uint64_t ts_us,
		 uint32_t *first_ifindex);

/* An outgoing packet that never came in was made by this host: whether its
 * source is one of the host's addresses (learnt from what the host sent
 * before, resets aside: a firewall's reset carries the address of the host it
 * answers for). Notes the source of what is not a reset. */
bool copies_src_is_local(struct copies *c, const struct tcp_packet *pkt);

#endif
