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
#include "segflags.h"

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
	bool zero_window;     /* it advertises window 0 (its receive buffer is full) */
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
	/* Its FIN retransmitted, never acknowledged, then RA (SO_LINGER 0 in
	 * FIN_WAIT1): the client gave up on a silent server, no data came
	 * after its close. Full view and a live queue's (FINs are copied). */
	{ "fin-unacked-abort", {
		ESTABLISHED,
		{ 'C', FA, 1101, 5101, 0, 10, 0, 0, NULL },
		{ 'C', FA, 1101, 5101, 0, 200, 0, 0, NULL },
		{ 'C', FA, 1101, 5101, 0, 400, 0, 0, NULL },
		{ 'C', RA, 1102, 5101, 0, 500, 0, 0, "abort client endpoint own-fin-unacked" } } },
	{ "fin-unacked-abort-partial", {
		{ 'C', S_, 1000, 0, 0, 0, 0, 0, NULL },
		{ 'S', SA, 5000, 1001, 0, 1, 0, 0, NULL },
		{ 'C', FA, 1101, 5101, 0, 10, 0, 0, NULL },
		{ 'C', FA, 1101, 5101, 0, 200, 0, 0, NULL },
		{ 'C', RA, 1102, 5101, 0, 500, 0, 0, "abort client endpoint own-fin-unacked" } },
	  .partial = true },
	/* A proxy's keep-alive timer (haproxy, option nolinger): 3 s of the
	 * client's silence, 3,000 round trips, then FIN and at once RA. */
	{ "idle-timer-fin-then-reset", {
		ESTABLISHED,
		{ 'S', FA, 5101, 1101, 0, 3000, 0, 0, NULL },
		{ 'S', RA, 5102, 1101, 0, 1, 0, 0, "idle-timeout server endpoint unusual-silence" } } },
	/* The same with the client closing as it reads the FIN: its FIN (acking
	 * the server's) crosses the reset, which does not ack it. Both FINs
	 * seen, yet never TIME-WAIT (was time-wait, after-both-fins). */
	{ "idle-timer-fin-crossed", {
		ESTABLISHED,
		{ 'S', FA, 5101, 1101, 0, 3000, 0, 0, NULL },
		{ 'C', FA, 1101, 5102, 0, 1, 0, 0, NULL },
		{ 'S', RA, 5102, 1101, 0, 1, 0, 0, "idle-timeout server endpoint peer-fin-crossed" } } },
	/* Both idle timers at once: the client's FIN does not ack the server's. */
	{ "idle-timer-fins-cross", {
		ESTABLISHED,
		{ 'S', FA, 5101, 1101, 0, 3000, 0, 0, NULL },
		{ 'C', FA, 1101, 5101, 0, 1, 0, 0, NULL },
		{ 'S', RA, 5102, 1101, 0, 1, 0, 0, "idle-timeout server endpoint unusual-silence" } } },
	/* Near miss: the reset acks the client's FIN (it had it): after both
	 * FINs, as before. */
	{ "nearmiss-fin-crossed-acked", {
		ESTABLISHED,
		{ 'S', FA, 5101, 1101, 0, 3000, 0, 0, NULL },
		{ 'C', FA, 1101, 5102, 0, 1, 0, 0, NULL },
		{ 'S', RA, 5102, 1102, 0, 1, 0, 0, "time-wait server endpoint after-both-fins" } } },
	/* The same after half a second: an ordinary close with SO_LINGER 0. */
	{ "nearmiss-fin-then-reset-short", {
		ESTABLISHED,
		{ 'S', FA, 5101, 1101, 0, 500, 0, 0, NULL },
		{ 'S', RA, 5102, 1101, 0, 1, 0, 0, "abort server endpoint after-own-fin" } } },
	/* Its FIN acknowledged (once), then RA: no FIN retransmission, not this. */
	{ "nearmiss-fin-acked-abort", {
		ESTABLISHED,
		{ 'C', FA, 1101, 5101, 0, 10, 0, 0, NULL },
		{ 'S', A, 5101, 1102, 0, 1, 0, 0, NULL },
		{ 'C', RA, 1102, 5101, 0, 500, 0, 0, "abort client endpoint after-own-fin" } } },
	{ "keepalive-timeout", {
		ESTABLISHED,
		{ 'C', A, 1100, 5101, 0, 75000, 0, 0, NULL },
		{ 'C', A, 1100, 5101, 0, 10000, 0, 0, NULL },
		{ 'C', A, 1100, 5101, 0, 10000, 0, 0, NULL },
		{ 'C', RA, 1101, 5101, 0, 10000, 0, 0,
		  "idle-timeout client endpoint keepalive-probes:3" } } },
	/* The client stopped reading: the server's 1000 bytes fill its
	 * window, its ACKs say window 0, the server's probes (a byte below
	 * its next: zero-window probes, not keepalives) are answered with
	 * window 0, and the server gives up (nginx send_timeout with
	 * reset_timedout_connection): an abort on a stalled reader. */
	{ "zero-window-send-timeout", {
		ESTABLISHED,
		{ 'S', PA, 5101, 1101, 1000, 1000, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'S', A, 6100, 1101, 0, 200, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'S', A, 6100, 1101, 0, 400, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'S', RA, 6101, 1101, 0, 1400, 0, 0,
		  "abort server endpoint zero-window-probes:2" } } },
	/* The same, reset while its last probe is unanswered: the probes were
	 * still not keepalives (was idle-timeout, keepalive-probes). */
	{ "zero-window-probe-then-reset", {
		ESTABLISHED,
		{ 'S', PA, 5101, 1101, 1000, 1000, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'S', A, 6100, 1101, 0, 200, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'S', A, 6100, 1101, 0, 400, 0, 0, NULL },
		{ 'S', RA, 6101, 1101, 0, 1, 0, 0, "abort server endpoint peer-zero-window" } } },
	/* No probes: the server resets 2 s after the client shut its window. */
	{ "zero-window-no-probes", {
		ESTABLISHED,
		{ 'S', PA, 5101, 1101, 1000, 1000, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'S', RA, 6101, 1101, 0, 2000, 0, 0, "abort server endpoint peer-zero-window" } } },
	/* Near miss: the client read again (a window update), then went
	 * silent; the server's keepalives went unanswered: an idle timeout,
	 * and the probes are keepalives again. */
	{ "nearmiss-zero-window-reopened", {
		ESTABLISHED,
		{ 'S', PA, 5101, 1101, 1000, 1000, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'S', A, 6100, 1101, 0, 200, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'C', A, 1101, 6101, 0, 100, 0, 0, NULL },
		{ 'S', A, 6100, 1101, 0, 75000, 0, 0, NULL },
		{ 'S', A, 6100, 1101, 0, 10000, 0, 0, NULL },
		{ 'S', A, 6100, 1101, 0, 10000, 0, 0, NULL },
		{ 'S', RA, 6101, 1101, 0, 10000, 0, 0,
		  "idle-timeout server endpoint keepalive-probes:3" } } },
	/* Near miss: the reader itself resets with its window shut (it is the
	 * one that stopped reading, not its peer): not this. */
	{ "nearmiss-zero-window-reader-resets", {
		ESTABLISHED,
		{ 'S', PA, 5101, 1101, 1000, 1000, 0, 0, NULL },
		{ 'C', A, 1101, 6101, 0, 1, 0, 0, NULL, 0, 0, true },
		{ 'C', RA, 1101, 6101, 0, 50, 0, 0, "abort client endpoint socket-reset" } } },
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
	/* Live: the FINs are copied, the silence is the reset's TSecr (the
	 * client's last segment 3 s before, not its crossing FIN). */
	{ "partial-idle-timer-fin-crossed", {
		TS_HANDSHAKE,
		{ 'S', FA, 5101, 1101, 0, 3020, 0, 0, NULL, 93020, 7020 },
		{ 'C', FA, 1101, 5102, 0, 1, 0, 0, NULL, 10021, 93020 },
		{ 'S', RA, 5102, 1101, 0, 1, 0, 0, "idle-timeout server endpoint peer-fin-crossed",
		  93022, 7020 } },
	  .partial = true },
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
		p.window = (sg->flags & TCPF_RST) || sg->zero_window ? 0 : 502;
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

int main(void)
{
	enum { N = sizeof(scenarios) / sizeof(scenarios[0]) };
	struct CMUnitTest tests[N + 1];
	size_t i;

	for (i = 0; i < N; i++) {
		tests[i] = (struct CMUnitTest)cmocka_unit_test(test_scenario);
		tests[i].name = scenarios[i].name;
		tests[i].initial_state = (void *)&scenarios[i];
	}
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_names_round_trip);
	return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
