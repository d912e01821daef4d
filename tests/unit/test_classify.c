/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Table-driven tests of the classifier through the real pipeline: each
 * scenario is a list of segments (C = client/originator, S = server); every
 * segment with an expectation is checked when it is processed. Each scenario
 * runs over IPv4 and IPv6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline.h"

#define R   TCPF_RST
#define RA  (TCPF_RST | TCPF_ACK)
#define S_  TCPF_SYN
#define SA  (TCPF_SYN | TCPF_ACK)
#define A   TCPF_ACK
#define PA  (TCPF_PSH | TCPF_ACK)
#define FA  (TCPF_FIN | TCPF_ACK)

struct seg {
	char who;            /* 'C' or 'S' */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t len;
	uint32_t dt_ms;      /* time since the previous segment */
	uint8_t ttl;         /* 0: the side's usual (C 64, S 63) */
	int ipid;            /* -1 or 0: the side's counter; >0 explicit */
	/* "class sender origin [evidence-prefix]" checked for this segment's event */
	const char *expect;
	uint32_t tsval, tsecr; /* timestamps option, when either is set */
};

struct scenario {
	const char *name;
	struct seg segs[24];
	bool output_hook_nonlocal; /* seen at output with a source not of this host */
	bool output_hook_local_log; /* seen at output with this host's source, via the log
				     * group (its conntrack entry unconfirmed) */
	bool output_hook_local;     /* ... queued: the entry confirmed */
	const struct ct_info *ct;
	bool partial;              /* a live queue's view: data segments are not seen */
	bool ipv4_only;            /* about the IPv4 ID, which IPv6 lacks */
};

/* An established connection: C ISN 1000, S ISN 5000, 100 bytes each way. */
#define ESTABLISHED                                   \
	{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },       \
	{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },    \
	{ 'C', A, 1001, 5001, 0, 1, 0, 0, NULL },     \
	{ 'C', PA, 1001, 5001, 100, 10, 0, 0, NULL }, \
	{ 'S', A, 5001, 1101, 0, 1, 0, 0, NULL },     \
	{ 'S', PA, 5001, 1101, 100, 20, 0, 0, NULL }, \
	{ 'C', A, 1101, 5101, 0, 1, 0, 0, NULL }

static const struct ct_info ct_established_idle = {
	.present = true, .tcp_state = 3 /* ESTABLISHED */, .timeout_s = 432000 - 4000,
};

/* Established, 5 s of silence: nothing outstanding. */
static const struct ct_info ct_established_recent = {
	.present = true, .tcp_state = 3 /* ESTABLISHED */, .timeout_s = 432000 - 5,
};

/* Conntrack's 300 s timer for unacknowledged data, 1 s into it. */
static const struct ct_info ct_established_unacked = {
	.present = true, .tcp_state = 3 /* ESTABLISHED */, .timeout_s = 299,
};

static const struct scenario scenarios[] = {
	{ "refused", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', RA, 0, 1001, 0, 0, 0, 0, "refused server endpoint answers-syn" },
		{ 'C', S_, 1000, 0, 0, 1000, 0, 0, NULL },
		{ 'S', RA, 0, 1001, 0, 0, 0, 0, "refused server endpoint answers-syn" } } },
	{ "refused-slow", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', RA, 0, 1001, 0, 5000, 0, 0, "refused server endpoint slow-answer" } } },
	{ "syn-answer-bad-ack", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', RA, 0, 1000, 0, 1, 0, 0, "injected server unknown bad-ack-for-syn" } } },
	{ "syn-conflict", {
		ESTABLISHED,
		{ 'C', S_, 90000, 0, 0, 30000, 0, 0, NULL },
		{ 'S', A, 5101, 1101, 0, 1, 0, 0, NULL },
		{ 'C', R, 1101, 0, 0, 1, 0, 0, "syn-conflict client endpoint syn-new-isn" },
		{ 'C', S_, 90000, 0, 0, 1000, 0, 0, NULL },
		{ 'S', SA, 777, 90001, 0, 1, 0, 0, NULL } } },
	{ "accept-overflow", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', A, 1001, 5001, 0, 1, 0, 0, NULL },
		{ 'C', PA, 1001, 5001, 50, 1, 0, 0, NULL },
		{ 'S', R, 5001, 0, 0, 1, 0, 0, "accept-overflow server endpoint after-handshake" } } },
	{ "nearmiss-overflow-server-spoke", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', A, 1001, 5001, 0, 1, 0, 0, NULL },
		{ 'S', PA, 5001, 1001, 20, 1, 0, 0, NULL },
		{ 'C', A, 1001, 5021, 0, 1, 0, 0, NULL },
		{ 'S', RA, 5021, 1001, 0, 1000, 0, 0, "abort server endpoint socket-reset" } } },
	{ "nearmiss-overflow-too-late", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', A, 1001, 5001, 0, 1, 0, 0, NULL },
		{ 'C', PA, 1001, 5001, 50, 3000, 0, 0, NULL },
		{ 'S', R, 5001, 0, 0, 1, 0, 0, "half-open server endpoint stateless-reset" } } },
	{ "nearmiss-overflow-server-acked", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', A, 1001, 5001, 0, 1, 0, 0, NULL },
		{ 'C', PA, 1001, 5001, 50, 1, 0, 0, NULL },
		{ 'S', A, 5001, 1051, 0, 1, 0, 0, NULL },
		{ 'S', RA, 5001, 1051, 0, 1, 0, 0, "unread-data server endpoint unanswered-peer-data" } } },
	{ "half-open", {
		ESTABLISHED,
		{ 'C', PA, 1101, 5101, 30, 20000, 0, 0, NULL },
		{ 'S', R, 5101, 0, 0, 1, 0, 0, "half-open server endpoint stateless-reset" },
		{ 'C', PA, 1101, 5101, 30, 200, 0, 0, NULL },
		{ 'S', R, 5101, 0, 0, 1, 0, 0, "half-open server endpoint after-own-reset" } } },
	{ "middlebox-firewall", {
		ESTABLISHED,
		{ 'S', RA, 5101, 1101, 0, 5, 40, 0,
		  "firewall server middlebox ttl-mismatch:63/40" } } },
	/* A box on the path resets the client's end in the server's name; the
	 * server goes on (data, then its FIN) and the client's kernel answers
	 * with the stateless R of no connection: a consequence of the forgery,
	 * not a restart of the client. */
	{ "follow-on-forgery", {
		ESTABLISHED,
		{ 'S', R, 5101, 0, 0, 5, 40, 0, "firewall server middlebox ttl-mismatch:63/40" },
		{ 'S', PA, 5101, 1101, 50, 3, 0, 0, NULL },
		{ 'C', R, 1101, 0, 0, 1, 0, 0,
		  "firewall client endpoint answers-earlier-reset" },
		{ 'S', FA, 5151, 1101, 0, 200, 0, 0, NULL },
		{ 'C', R, 1101, 0, 0, 1, 0, 0, "firewall client endpoint after-own-reset" } } },
	/* Live, the server's next data is not seen (the flow not watched): its
	 * FIN is, and the answer to it still names the earlier reset. */
	{ "follow-on-partial", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'S', R, 5501, 0, 0, 3000, 40, 0, "firewall server middlebox ttl-mismatch" },
		{ 'S', FA, 5601, 1201, 0, 40, 0, 0, NULL },
		{ 'C', R, 1201, 0, 0, 1, 0, 0, "firewall client endpoint earlier-reset:firewall:41ms" } },
	  .partial = true },
	/* The client's own reset before the server's is no answer to it. */
	{ "not-follow-on-own-first", {
		ESTABLISHED,
		{ 'C', RA, 1101, 5101, 0, 10, 0, 0, "abort client endpoint" },
		{ 'S', R, 5101, 0, 0, 1, 0, 0, NULL },
		{ 'C', R, 1101, 0, 0, 1, 0, 0, "abort client endpoint after-own-reset" } } },
	/* A reset inside the window but off the server's next byte, its IP ID
	 * 20,000 past the server's counter a few ms after its last packet:
	 * forged. */
	{ "ipid-jump-forged", {
		ESTABLISHED,
		{ 'S', R, 5201, 0, 0, 5, 0, 40000, "injected server unknown ipid-jump" } },
	  .ipv4_only = true },
	/* The same jump after 30 s of the server's silence: a host-wide counter
	 * moved with the host's other traffic; not forged on that alone. */
	{ "ipid-jump-after-silence", {
		ESTABLISHED,
		{ 'S', R, 5201, 0, 0, 30000, 0, 40000, "unknown server unknown seq-unexplained" } } },
	/* The server closes; the client's data crosses its FIN (acking only up
	 * to it), then the client acks the FIN; the server's kernel answers the
	 * data with R at that segment's ack, one below the client's latest ack:
	 * data after close, not a forgery outside the window. */
	{ "data-crossed-fin", {
		ESTABLISHED,
		{ 'S', FA, 5101, 1101, 0, 10, 0, 0, NULL },
		{ 'C', PA, 1101, 5101, 50, 1, 0, 0, NULL },
		{ 'C', A, 1151, 5102, 0, 0, 0, 0, NULL },
		{ 'S', R, 5101, 0, 0, 1, 0, 0, "unread-data server endpoint data-after-fin" } } },
	/* TLS close_notify: the client closes first; the server's alert and
	 * its FIN come after the client's FIN, and the client's closed socket
	 * answers the data with R: data after close, though both FINs were seen
	 * (not TIME-WAIT). */
	{ "data-and-fin-after-own-fin", {
		ESTABLISHED,
		{ 'C', FA, 1101, 5101, 0, 10, 0, 0, NULL },
		{ 'S', PA, 5101, 1102, 31, 1, 0, 0, NULL },
		{ 'S', FA, 5132, 1102, 0, 0, 0, 0, NULL },
		{ 'C', R, 1102, 0, 0, 1, 0, 0, "unread-data client endpoint data-after-fin" } } },
	/* The client's keepalive (len 0 at snd.nxt - 1) answered by the
	 * server, then 11 s later the client resets: the peer was alive, an
	 * abort, not an idle timeout. */
	{ "keepalive-answered-then-abort", {
		ESTABLISHED,
		{ 'C', A, 1100, 5101, 0, 30000, 0, 0, NULL },
		{ 'S', A, 5101, 1101, 0, 1, 0, 0, NULL },
		{ 'C', RA, 1101, 5101, 0, 11000, 0, 0, "abort client endpoint socket-reset" } } },
	{ "middlebox-state-expired", {
		ESTABLISHED,
		{ 'C', PA, 1101, 5101, 30, 400000, 0, 0, NULL },
		{ 'S', R, 5101, 0, 0, 1, 40, 0, "idle-timeout server middlebox ttl-mismatch" } } },
	{ "time-wait", {
		ESTABLISHED,
		{ 'C', FA, 1101, 5101, 0, 10, 0, 0, NULL },
		{ 'S', FA, 5101, 1102, 0, 1, 0, 0, NULL },
		{ 'C', A, 1102, 5102, 0, 1, 0, 0, NULL },
		{ 'S', A, 5001, 1102, 0, 1000, 0, 0, NULL },
		{ 'C', A, 1102, 5102, 0, 1, 0, 0, NULL },
		{ 'S', R, 5102, 0, 0, 1, 0, 0, "time-wait server endpoint after-both-fins" } } },
	{ "abort", {
		ESTABLISHED,
		{ 'C', RA, 1101, 5101, 0, 50, 0, 0, "abort client endpoint socket-reset" } } },
	{ "keepalive-timeout", {
		ESTABLISHED,
		{ 'C', A, 1100, 5101, 0, 75000, 0, 0, NULL },
		{ 'C', A, 1100, 5101, 0, 10000, 0, 0, NULL },
		{ 'C', A, 1100, 5101, 0, 10000, 0, 0, NULL },
		{ 'C', RA, 1101, 5101, 0, 10000, 0, 0,
		  "idle-timeout client endpoint keepalive-probes:3" } } },
	{ "idle-gap", {
		ESTABLISHED,
		{ 'C', RA, 1101, 5101, 0, 400000, 0, 0, "idle-timeout client endpoint idle:400s" } } },
	/* Silent for less than an unusual silence (2 s: 1,000 round trips of
	 * its 1 ms handshake are less): an abort after a pause, not an idle timer. */
	{ "nearmiss-idle-short-gap", {
		ESTABLISHED,
		{ 'C', RA, 1101, 5101, 0, 1500, 0, 0, "abort client endpoint socket-reset" } } },
	/* 60 s of silence after a settled exchange, 60,000 round trips: a
	 * keepalive timeout with settings of seconds or an application's idle
	 * timer, well below the 300 s threshold. */
	{ "idle-unusual-silence", {
		ESTABLISHED,
		{ 'C', RA, 1101, 5101, 0, 60000, 0, 0, "idle-timeout client endpoint unusual-silence" } } },
	/* The same silence with the client's request unacknowledged: it gave up. */
	{ "abort-request-unanswered", {
		ESTABLISHED,
		{ 'C', PA, 1101, 5101, 50, 1, 0, 0, NULL },
		{ 'C', RA, 1151, 5101, 0, 60000, 0, 0, "abort client endpoint socket-reset" } } },
	{ "unread-data", {
		ESTABLISHED,
		{ 'C', PA, 1101, 5101, 300, 100, 0, 0, NULL },
		{ 'S', A, 5101, 1401, 0, 1, 0, 0, NULL },
		{ 'S', RA, 5101, 1401, 0, 20, 0, 0, "unread-data server endpoint unanswered-peer-data" } } },
	{ "data-after-fin", {
		ESTABLISHED,
		{ 'S', FA, 5101, 1101, 0, 10, 0, 0, NULL },
		{ 'C', A, 1101, 5102, 0, 1, 0, 0, NULL },
		{ 'C', PA, 1101, 5102, 40, 5, 0, 0, NULL },
		{ 'S', RA, 5102, 1141, 0, 1, 0, 0, "unread-data server endpoint data-after-fin" } } },
	{ "injected", {
		ESTABLISHED,
		{ 'S', R, 6101, 0, 0, 5, 52, 31337, "injected server middlebox ttl-mismatch" },
		{ 'S', PA, 5101, 1101, 100, 1, 0, 0, NULL },
		{ 'S', R, 7101, 0, 0, 1, 52, 4242, "injected server middlebox ttl-mismatch" } } },
	{ "injected-blind", {
		ESTABLISHED,
		{ 'S', R, 1000005101u, 0, 0, 5, 0, 0, "injected server unknown seq-outside-window" } } },
	{ "nearmiss-ttl-drift", {
		ESTABLISHED,
		{ 'S', RA, 5101, 1101, 0, 5, 62, 0, "abort server endpoint socket-reset" } } },
	{ "lone-reset", {
		{ 'C', R, 1234, 0, 0, 0, 0, 0, "unknown client unknown no-flow-history" } } },
	{ "mid-stream", {
		{ 'C', PA, 1101, 5101, 100, 0, 0, 0, NULL },
		{ 'S', A, 5101, 1201, 0, 1, 0, 0, NULL },
		{ 'S', RA, 5101, 1201, 0, 20, 0, 0, "unread-data server endpoint orig-by-port" } } },
	{ "own-syn-given-up", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'C', R, 1001, 0, 0, 2000, 0, 0, "abort client endpoint own-syn-unanswered" } } },
	{ "local-firewall", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', RA, 0, 1001, 0, 0, 64, 0, "firewall server local-firewall made-by-this-host" } },
	  .output_hook_nonlocal = true },
	/* The input chain's reject of a connection to this host: its own
	 * address, but the entry unconfirmed (via the log group). */
	{ "local-firewall-input", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', RA, 0, 1001, 0, 0, 64, 0, "firewall server local-firewall to-this-host" } },
	  .output_hook_local_log = true },
	/* A closed port of this host: its TCP stack answers a SYN that passed
	 * (the entry confirmed: queued, not logged). */
	{ "refused-by-this-host", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', RA, 0, 1001, 0, 0, 64, 0, "refused server endpoint answers-syn" } },
	  .output_hook_local = true },
	/* Partial view: what a queue at context level handshake sees of the same
	 * connections (SYN, SYN/ACK, FIN, RST), with conntrack's idle estimate. */
	{ "partial-abort", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', RA, 1006, 6001, 0, 100, 0, 0, "abort client endpoint socket-reset" } },
	  .partial = true },
	{ "partial-unread-data", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'S', RA, 5001, 1301, 0, 50, 0, 0, "unread-data server endpoint unanswered-peer-data" } },
	  .partial = true },
	{ "partial-accept-overflow", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'S', R, 5001, 0, 0, 2, 0, 0, "accept-overflow server endpoint after-handshake" } },
	  .partial = true },
	{ "partial-half-open", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'S', R, 5801, 0, 0, 20000, 0, 0, "half-open server endpoint stateless-reset" } },
	  .partial = true },
	{ "partial-forged-unverified", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'S', R, 9001, 0, 0, 2000, 40, 0, "firewall server middlebox seq-unverified" } },
	  .partial = true },
	{ "partial-syn-conflict", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', S_, 90000, 0, 0, 30000, 0, 0, NULL },
		{ 'C', R, 1501, 0, 0, 1, 0, 0, "syn-conflict client endpoint syn-new-isn" } },
	  .partial = true },
	{ "partial-time-wait", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', FA, 1101, 5101, 0, 10, 0, 0, NULL },
		{ 'S', FA, 5101, 1102, 0, 1, 0, 0, NULL },
		{ 'S', R, 5102, 0, 0, 1000, 0, 0, "time-wait server endpoint after-both-fins" } },
	  .partial = true },
	{ "partial-idle-from-ct", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', RA, 1101, 5101, 0, 10, 0, 0, "idle-timeout client endpoint idle:4000s" } },
	  .partial = true, .ct = &ct_established_idle },
	/* A socket's reset echoes the TSval of the last segment it took from its
	 * peer: 400 s of the peer's silence, though the probes kept conntrack
	 * fresh (a keepalive timeout); then the same reset with the peer heard
	 * 10 ms before it. */
#define TS_HANDSHAKE                                          \
	{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL, 7000, 0 },      \
	{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL, 90000, 7000 }
	{ "partial-keepalive-by-tsecr", {
		TS_HANDSHAKE,
		{ 'C', RA, 1101, 5101, 0, 400000, 0, 0, "idle-timeout client endpoint peer-silent:399s",
		  407001, 90020 } },
	  .partial = true },
	/* Live, a keepalive timeout with settings of seconds: the probes are not
	 * seen, the TSecr says the server was last heard 5 s before, conntrack
	 * that nothing is outstanding. */
	{ "partial-keepalive-seconds", {
		TS_HANDSHAKE,
		{ 'C', RA, 1101, 5101, 0, 5000, 0, 0, "idle-timeout client endpoint unusual-silence",
		  12001, 90001 } },
	  .partial = true, .ct = &ct_established_recent },
	{ "partial-abort-peer-heard", {
		TS_HANDSHAKE,
		{ 'C', RA, 1101, 5101, 0, 400000, 0, 0, "abort client endpoint socket-reset",
		  407001, 489990 } },
	  .partial = true },
	/* A client that gives up on a mute server right after its request: its
	 * data unacknowledged, conntrack runs the 300 s timer, not 5 days. */
	{ "partial-abort-ct-unacked", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', RA, 1106, 5001, 0, 10, 0, 0, "abort client endpoint socket-reset" } },
	  .partial = true, .ct = &ct_established_unacked },
	{ "ct-only-unacked", {
		{ 'C', RA, 1106, 5001, 0, 0, 0, 0, "abort client endpoint socket-reset-shape" } },
	  .ct = &ct_established_unacked },
	{ "ct-only-idle", {
		{ 'S', RA, 5101, 1101, 0, 0, 0, 0, "idle-timeout server endpoint ct-state:ESTABLISHED" } },
	  .ct = &ct_established_idle },
};

struct side {
	uint8_t addr[16];
	uint16_t port;
	uint16_t ipid;
	uint8_t ttl;
};

static void check_expect(const char *name, int family, const struct seg *sg,
			 const struct rst_event *ev)
{
	char cls[32], snd[16], org[24], evi[48] = "";
	const struct rst_verdict *v = &ev->verdict;
	bool found = false;
	unsigned i;
	int n = sscanf(sg->expect, "%31s %15s %23s %47s", cls, snd, org, evi);

	assert_true(n >= 3);
	if (strcmp(cls, rst_class_name(v->cls)) || strcmp(snd, rst_sender_name(v->sender)) ||
	    strcmp(org, rst_origin_name(v->origin))) {
		print_error("%s (IPv%d): expected %s %s %s, got %s %s %s [", name, family, cls, snd,
			    org, rst_class_name(v->cls), rst_sender_name(v->sender),
			    rst_origin_name(v->origin));
		for (i = 0; i < v->n_evidence; i++)
			print_error(" %s", v->evidence[i]);
		print_error(" ]\n");
		fail();
	}
	for (i = 0; i < v->n_evidence && evi[0]; i++)
		if (!strncmp(v->evidence[i], evi, strlen(evi)))
			found = true;
	if (evi[0] && !found) {
		print_error("%s (IPv%d): evidence '%s' missing\n", name, family, evi);
		fail();
	}
	assert_true(v->confidence > 0.0f && v->confidence <= 1.0f);
}

static void run_scenario(const struct scenario *sc, int family)
{
	struct side c = { .port = 40000, .ipid = 100, .ttl = 64 };
	struct side s = { .port = 80, .ipid = 20000, .ttl = 63 };
	struct rst_context ctx = { .hook = HOOK_CAPTURE, .ct = sc->ct,
				   .partial_view = sc->partial };
	struct pipeline pl;
	uint64_t ts = 1700000000ULL * 1000000;
	const struct seg *sg;

	if (family == 4) {
		memcpy(c.addr, (uint8_t[]){ 198, 51, 100, 10 }, 4);
		memcpy(s.addr, (uint8_t[]){ 203, 0, 113, 20 }, 4);
	} else {
		memcpy(c.addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10 }, 16);
		memcpy(s.addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x20 }, 16);
	}
	if (sc->output_hook_nonlocal)
		ctx.hook = HOOK_OUTPUT;
	if (sc->output_hook_local_log || sc->output_hook_local) {
		ctx.hook = HOOK_OUTPUT;
		ctx.src_is_local = true;
		ctx.via_log = sc->output_hook_local_log;
	}
	assert_int_equal(pipeline_init(&pl, 16), 0);
	for (sg = sc->segs; sg < sc->segs + 24 && sg->who; sg++) {
		struct side *from = sg->who == 'C' ? &c : &s, *to = sg->who == 'C' ? &s : &c;
		struct tcp_packet p;
		struct rst_event ev;
		bool is_rst;

		memset(&p, 0, sizeof(p));
		p.family = (uint8_t)family;
		memcpy(p.src, from->addr, 16);
		memcpy(p.dst, to->addr, 16);
		p.sport = from->port;
		p.dport = to->port;
		p.flags = sg->flags;
		p.seq = sg->seq;
		p.ack = sg->ack;
		p.payload_len = sg->len;
		p.window = (sg->flags & TCPF_RST) ? 0 : 502;
		p.opt.has_timestamps = sg->tsval || sg->tsecr;
		p.opt.tsval = sg->tsval;
		p.opt.tsecr = sg->tsecr;
		p.ttl = sg->ttl ? sg->ttl : from->ttl;
		if (family == 4)
			p.ipid = sg->ipid > 0 ? (uint16_t)sg->ipid : from->ipid++;
		ts += (uint64_t)sg->dt_ms * 1000;
		is_rst = pipeline_packet(&pl, &p, ts, &ctx, &ev, NULL);
		assert_int_equal(is_rst, !!(sg->flags & TCPF_RST));
		if (sg->expect) {
			assert_true(is_rst);
			check_expect(sc->name, family, sg, &ev);
		}
	}
	pipeline_free(&pl);
}

static void test_scenario(void **state)
{
	const struct scenario *sc = *state;

	run_scenario(sc, 4);
	if (!sc->ipv4_only)
		run_scenario(sc, 6);
}

static void test_names_round_trip(void **state)
{
	int c;

	(void)state;
	for (c = 0; c < RST_CLASS_COUNT; c++)
		assert_int_equal(rst_class_from_name(rst_class_name((enum rst_class)c)), c);
	assert_int_equal(rst_class_from_name("nonsense"), -1);
}

/* rst_suspect: the verdicts worth holding or looking ahead for. */
static const struct {
	enum rst_class cls;
	enum rst_origin origin;
	const char *evidence;     /* one fact, or NULL */
	bool suspect;
} suspects[] = {
	{ RST_FIREWALL, ORIGIN_MIDDLEBOX, "seq-unverified", true },
	{ RST_IDLE_TIMEOUT, ORIGIN_MIDDLEBOX, "ttl-mismatch:63/40", true },
	{ RST_INJECTED, ORIGIN_UNKNOWN, "seq-outside-window", true },
	{ RST_UNKNOWN, ORIGIN_UNKNOWN, "ipid-jump", true },
	{ RST_ABORT, ORIGIN_ENDPOINT, "ttl-mismatch:64/50", true },
	{ RST_ABORT, ORIGIN_ENDPOINT, "socket-reset", false },
	{ RST_FIREWALL, ORIGIN_LOCAL_FIREWALL, "made-by-this-host", false },
	{ RST_UNKNOWN, ORIGIN_UNKNOWN, "no-flow-history", false },
	{ RST_HALF_OPEN, ORIGIN_ENDPOINT, NULL, false },
};

static void test_suspect(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(suspects) / sizeof(suspects[0]); i++) {
		struct rst_verdict v = { .cls = suspects[i].cls, .origin = suspects[i].origin };

		if (suspects[i].evidence)
			rst_evidence_add(&v, suspects[i].evidence);
		if (rst_suspect(&v) != suspects[i].suspect) {
			print_error("row %zu (%s %s %s): suspect %d\n", i, rst_class_name(v.cls),
				    rst_origin_name(v.origin), suspects[i].evidence ?: "-",
				    !suspects[i].suspect);
			fail();
		}
	}
}

/* rst_alive_probe_init + rst_sender_alive. The reset's sender is the server
 * (DIR_RESP); before the reset it had sent up to snd_nxt and acked ack (each
 * when its flag is set). Then one packet after the reset. */
#define SEQ DF_SEQ
#define ACK DF_ACK
static const struct {
	const char *name;
	uint8_t known;                /* SEQ | ACK: what the flow had seen of the sender */
	uint32_t snd_nxt, ack;
	uint8_t rst_flags;
	uint32_t rst_seq, rst_ack;
	int dir;                      /* the later packet's direction */
	uint8_t flags;
	uint32_t seq, ack_after;
	uint16_t len;
	bool alive;
} alive_rows[] = {
	{ "data-beyond", SEQ | ACK, 5101, 1101, RA, 5101, 1101, DIR_RESP, PA, 5101, 1101, 100, true },
	{ "ack-moves", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, A, 5101, 1201, 0, true },
	{ "empty-past-seq", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, A, 5201, 1101, 0, true },
	{ "fin-after", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, FA, 5101, 1101, 0, true },
	/* sent before the reset, seen after it: ends at the reset's seq */
	{ "reordered", SEQ | ACK, 5001, 1101, RA, 5101, 1101, DIR_RESP, PA, 5001, 1101, 100, false },
	{ "reordered-old-ack", SEQ | ACK, 5101, 1101, RA, 5101, 1101, DIR_RESP, A, 5101, 1001, 0,
	  false },
	{ "pure-ack-at-seq", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, A, 5101, 1101, 0, false },
	/* a socket's RA acks what it had: a reordered earlier segment acks no more */
	{ "ra-ack-bound", SEQ | ACK, 5101, 1001, RA, 5101, 1101, DIR_RESP, A, 5101, 1101, 0, false },
	/* a retransmission of what was seen before a reset with a lower seq */
	{ "retransmit-below-snd-nxt", SEQ | ACK, 6101, 1101, R, 5101, 0, DIR_RESP, PA, 5101, 1101,
	  1000, false },
	{ "new-beyond-snd-nxt", SEQ | ACK, 6101, 1101, R, 5101, 0, DIR_RESP, PA, 6101, 1101, 100,
	  true },
	/* the forger's seq ahead of the sender: only data beyond it counts */
	{ "forged-ahead-short", SEQ | ACK, 5101, 1101, R, 6101, 0, DIR_RESP, PA, 5101, 1101, 1000,
	  false },
	{ "forged-ahead-long", SEQ | ACK, 5101, 1101, R, 6101, 0, DIR_RESP, PA, 5101, 1101, 1448,
	  true },
	/* sequence space wraps 2^32 */
	{ "wrap-alive", SEQ | ACK, 0xffffff00u, 1101, RA, 0xffffff00u, 1101, DIR_RESP, PA,
	  0xffffff00u, 1101, 0x200, true },
	{ "wrap-reordered", SEQ | ACK, 0x100, 1101, RA, 0x100, 1101, DIR_RESP, PA, 0xfffffff0u,
	  1101, 0x110, false },
	{ "wrap-ack-moves", SEQ | ACK, 5101, 0xfffffff0u, R, 5101, 0, DIR_RESP, A, 5101, 0x10, 0,
	  true },
	/* excluded whatever their numbers say */
	{ "rst-excluded", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, RA, 9101, 2101, 0, false },
	{ "syn-excluded", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_RESP, S_, 9101, 0, 0, false },
	{ "other-direction", SEQ | ACK, 5101, 1101, R, 5101, 0, DIR_ORIG, PA, 9101, 9101, 100,
	  false },
	/* RA seq 0 answered a segment without ACK: the seq is nobody's position */
	{ "ra-seq0-no-history", 0, 0, 0, RA, 0, 1001, DIR_RESP, PA, 0x80000000u, 1001, 10,
	  false },
	{ "ra-seq0-snd-nxt", SEQ, 5101, 0, RA, 0, 1001, DIR_RESP, PA, 5101, 1001, 10, true },
	{ "ra-seq0-ack-moves", 0, 0, 0, RA, 0, 1001, DIR_RESP, A, 77, 1101, 0, true },
	/* nothing known of the sender's acks, and the reset has none */
	{ "ack-unknown", SEQ, 5101, 0, R, 5101, 0, DIR_RESP, A, 5101, 0x7fffffffu, 0, false },
};
#undef SEQ
#undef ACK

static void test_sender_alive(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(alive_rows) / sizeof(alive_rows[0]); i++) {
		struct flow f;
		struct tcp_packet rst = { .family = 4 }, pkt = { .family = 4 };
		struct rst_alive_probe probe;

		memset(&f, 0, sizeof(f));
		f.dir[DIR_RESP].flags = alive_rows[i].known | DF_SEEN;
		f.dir[DIR_RESP].snd_nxt = alive_rows[i].snd_nxt;
		f.dir[DIR_RESP].ack = alive_rows[i].ack;
		rst.flags = alive_rows[i].rst_flags;
		rst.seq = alive_rows[i].rst_seq;
		rst.ack = alive_rows[i].rst_ack;
		pkt.flags = alive_rows[i].flags;
		pkt.seq = alive_rows[i].seq;
		pkt.ack = alive_rows[i].ack_after;
		pkt.payload_len = alive_rows[i].len;
		rst_alive_probe_init(&probe, &rst, &f, DIR_RESP);
		assert_int_equal(probe.dir, DIR_RESP);
		if (rst_sender_alive(&probe, &pkt, alive_rows[i].dir) != alive_rows[i].alive) {
			print_error("%s: alive %d, want %d\n", alive_rows[i].name,
				    !alive_rows[i].alive, alive_rows[i].alive);
			fail();
		}
	}
}

/* rst_mark_injected_alive: the class, origin, confidence and evidence after. */
static const struct {
	enum rst_class cls;
	enum rst_origin origin;
	unsigned n_before;            /* evidence facts before ("e0", "e1"... after the first) */
	const char *first;
	enum rst_origin origin_after;
} marks[] = {
	{ RST_FIREWALL, ORIGIN_MIDDLEBOX, 2, "ttl-mismatch:63/40", ORIGIN_MIDDLEBOX },
	{ RST_INJECTED, ORIGIN_MIDDLEBOX, 2, "ttl-mismatch:63/52", ORIGIN_MIDDLEBOX },
	/* a blind forger's seq placed it off the path: still unknown */
	{ RST_INJECTED, ORIGIN_UNKNOWN, 1, "seq-outside-window", ORIGIN_UNKNOWN },
	{ RST_ABORT, ORIGIN_ENDPOINT, 1, "ttl-mismatch:64/50", ORIGIN_MIDDLEBOX },
	{ RST_UNKNOWN, ORIGIN_UNKNOWN, 1, "ipid-jump", ORIGIN_MIDDLEBOX },
	/* evidence full: the deciding fact takes the last slot */
	{ RST_FIREWALL, ORIGIN_MIDDLEBOX, RST_EVIDENCE_MAX, "ttl-mismatch:63/40", ORIGIN_MIDDLEBOX },
};

static void test_mark_injected_alive(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		struct rst_verdict v = { .cls = marks[i].cls, .origin = marks[i].origin,
					 .confidence = 0.6f };
		unsigned k, n_after;

		rst_evidence_add(&v, marks[i].first);
		for (k = 1; k < marks[i].n_before; k++) {
			char name[16];

			snprintf(name, sizeof(name), "e%u", k);
			rst_evidence_add(&v, name);
		}
		rst_mark_injected_alive(&v);
		rst_mark_injected_alive(&v);    /* once is enough: no second fact */
		n_after = marks[i].n_before < RST_EVIDENCE_MAX ? marks[i].n_before + 1
							       : RST_EVIDENCE_MAX;
		assert_int_equal(v.cls, RST_INJECTED);
		assert_int_equal(v.origin, marks[i].origin_after);
		assert_true(v.confidence > 0.85f && v.confidence < 0.95f);
		assert_int_equal(v.n_evidence, n_after);
		assert_string_equal(v.evidence[0], marks[i].first);
		assert_string_equal(v.evidence[n_after - 1], "sender-alive-after-reset");
		assert_true(rst_suspect(&v));
	}
}

/* The offline look-ahead through the pipeline: events in capture order, a
 * suspect one decided by its sender's next packets within the window, at
 * most max waiting (the oldest decided early past that, counted). */
struct emitted {
	unsigned n;
	uint16_t port[8];            /* the client port of each event's flow */
	enum rst_class cls[8];
	int stop_at;                 /* return non-zero at this event (1-based), 0 never */
};

static int collect(const struct rst_event *ev, void *arg)
{
	struct emitted *e = arg;

	assert_true(e->n < 8);
	e->port[e->n] = ev->pkt->sport == 80 ? ev->pkt->dport : ev->pkt->sport;
	e->cls[e->n] = ev->verdict.cls;
	e->n++;
	return e->stop_at && (int)e->n == e->stop_at ? 7 : 0;
}

/* One IPv4 segment between 198.51.100.10:port and 203.0.113.20:80 ('C' or 'S'). */
static struct tcp_packet la_seg(char who, uint16_t port, uint8_t flags, uint32_t seq,
				uint32_t ack, uint16_t len, uint8_t ttl)
{
	static const uint8_t c[4] = { 198, 51, 100, 10 }, s[4] = { 203, 0, 113, 20 };
	struct tcp_packet p;

	memset(&p, 0, sizeof(p));
	p.family = 4;
	memcpy(p.src, who == 'C' ? c : s, 4);
	memcpy(p.dst, who == 'C' ? s : c, 4);
	p.sport = who == 'C' ? port : 80;
	p.dport = who == 'C' ? 80 : port;
	p.flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.payload_len = len;
	p.window = (flags & TCPF_RST) ? 0 : 502;
	p.ttl = ttl ? ttl : who == 'C' ? 64 : 63;
	return p;
}

static int la_feed(struct pipeline *pl, struct lookahead *la, struct emitted *e,
		   struct tcp_packet p, uint64_t *ts, uint32_t dt_ms)
{
	*ts += (uint64_t)dt_ms * 1000;
	return pipeline_packet_lookahead(pl, la, &p, *ts, NULL, collect, e);
}

/* The ESTABLISHED exchange of the scenarios on client port port. */
static void la_establish(struct pipeline *pl, struct lookahead *la, struct emitted *e,
			 uint16_t port, uint64_t *ts)
{
	assert_int_equal(la_feed(pl, la, e, la_seg('C', port, S_, 1000, 0, 0, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('S', port, SA, 5000, 1001, 0, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('C', port, A, 1001, 5001, 0, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('C', port, PA, 1001, 5001, 100, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('S', port, PA, 5001, 1101, 100, 0), ts, 1), 0);
	assert_int_equal(la_feed(pl, la, e, la_seg('C', port, A, 1101, 5101, 0, 0), ts, 1), 0);
}

static void test_lookahead(void **state)
{
	struct pipeline pl;
	struct lookahead la;
	struct emitted e = { 0 };
	uint64_t ts = 1700000000ULL * 1000000;

	(void)state;
	assert_int_equal(pipeline_init(&pl, 16), 0);
	lookahead_init(&la, 2, LOOKAHEAD_WINDOW_US);
	la_establish(&pl, &la, &e, 40001, &ts);
	la_establish(&pl, &la, &e, 40002, &ts);
	la_establish(&pl, &la, &e, 40003, &ts);
	la_establish(&pl, &la, &e, 40004, &ts);
	/* forged on 40001 (exact seq, TTL 40): waits */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40001, RA, 5101, 1101, 0, 40), &ts, 5), 0);
	/* a genuine abort on 40002 waits behind it */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('C', 40002, RA, 1101, 5101, 0, 0), &ts, 1), 0);
	assert_int_equal(e.n, 0);
	/* 40001's server talks on: injected; both events out, in order */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40001, PA, 5101, 1101, 50, 0), &ts, 1), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.port[0], 40001);
	assert_int_equal(e.cls[0], RST_INJECTED);
	assert_int_equal(e.port[1], 40002);
	assert_int_equal(e.cls[1], RST_ABORT);
	assert_int_equal(pl.st.by_class[RST_INJECTED], 1);
	assert_int_equal(pl.st.by_class[RST_FIREWALL], 0);
	/* two forged resets and a genuine one: a third event with two waiting
	 * decides the oldest early (counted); the newer one times out */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40003, RA, 5101, 1101, 0, 40), &ts, 1), 0);
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40004, RA, 5101, 1101, 0, 40), &ts, 1), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('C', 40002, RA, 1101, 5101, 0, 0), &ts, 1), 0);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.port[2], 40003);
	assert_int_equal(e.cls[2], RST_FIREWALL);
	assert_int_equal(la.st.cut, 1);
	/* 40003's server is alive, too late: its event is out already */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40003, PA, 5101, 1101, 50, 0), &ts, 1), 0);
	/* 40004's server speaks 2.5 s after its reset: past the window */
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40004, PA, 5101, 1101, 50, 0), &ts,
				 2500), 0);
	assert_int_equal(e.n, 5);
	assert_int_equal(e.port[3], 40004);
	assert_int_equal(e.cls[3], RST_FIREWALL);
	assert_int_equal(e.port[4], 40002);
	assert_int_equal(lookahead_flush(&la, collect, &e), 0);
	assert_int_equal(e.n, 5);
	assert_int_equal(la.st.held, 3);
	assert_int_equal(la.st.alive, 1);
	assert_int_equal(pl.st.by_class[RST_FIREWALL], 2);

	/* a reset still waiting at the end is decided by the flush; an emit
	 * that asks to stop is obeyed and its value returned */
	memset(&e, 0, sizeof(e));
	e.stop_at = 1;
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40001, RA, 5151, 1101, 0, 40), &ts, 1), 0);
	assert_int_equal(la_feed(&pl, &la, &e, la_seg('S', 40003, RA, 5151, 1101, 0, 40), &ts, 1), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(lookahead_flush(&la, collect, &e), 7);
	assert_int_equal(e.n, 1);
	lookahead_free(&la);
	pipeline_free(&pl);
}

int main(void)
{
	enum { N = sizeof(scenarios) / sizeof(scenarios[0]) };
	struct CMUnitTest tests[N + 5];
	size_t i;

	for (i = 0; i < N; i++) {
		tests[i] = (struct CMUnitTest)cmocka_unit_test(test_scenario);
		tests[i].name = scenarios[i].name;
		tests[i].initial_state = (void *)&scenarios[i];
	}
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_names_round_trip);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_suspect);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_sender_alive);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_mark_injected_alive);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_lookahead);
	return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
