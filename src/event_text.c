/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One plain-English line per reset: what happened and what to look at next. */
#include "event.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *side(enum rst_sender s)
{
	return s == SENDER_CLIENT ? "client" : s == SENDER_SERVER ? "server" : "sender";
}

#define ENDPOINT_LEN (INET6_ADDRSTRLEN + 8)

/* "addr:port", or "[addr]:port" for IPv6, into buf of ENDPOINT_LEN bytes. */
static const char *endpoint(int family, const char *addr, uint16_t port, char *buf)
{
	snprintf(buf, ENDPOINT_LEN, family == 6 ? "[%s]:%u" : "%s:%u", addr, port);
	return buf;
}

/* The next troubleshooting step, naming the endpoint concerned: src is the
 * resetter's address, src_ep the same with its port. */
static void advice(const struct rst_event *ev, const char *src, const char *src_ep, char *b,
		   size_t n)
{
	const struct rst_verdict *v = &ev->verdict;
	const struct tcp_packet *p = ev->pkt;
	const char *who = side(v->sender);

	if (v->follows) {
		snprintf(b, n, "answer to the %s reset %u ms earlier: %s %s's kernel no longer had "
			 "the connection that reset ended and answered its peer's next segment "
			 "(not a restart): look at that reset", rst_class_name(
				 (enum rst_class)(v->follows - 1)), v->follows_ms, who, src);
		return;
	}
	switch (v->cls) {
	case RST_REFUSED:
		snprintf(b, n, "nothing listens on %s: is the service running and bound to "
			 "that address (ss -ltn)?", src_ep);
		break;
	case RST_SYN_CONFLICT:
		snprintf(b, n, "a new SYN reused a 4-tuple the server still held (client reboot "
			 "or NAT port reuse): check NAT port allocation; the retried SYN "
			 "normally succeeds");
		break;
	case RST_ACCEPT_OVERFLOW:
		snprintf(b, n, "listen backlog full on %s: raise the backlog / somaxconn, "
			 "check server load (nstat -az TcpExtListenOverflows)", src_ep);
		break;
	case RST_HALF_OPEN:
		snprintf(b, n, "%s %s no longer knew the connection (restart, crash or lost "
			 "state): check its uptime and service restarts", who, src);
		break;
	case RST_FIREWALL:
		if (v->origin == ORIGIN_LOCAL_FIREWALL && ev->rule_text)
			snprintf(b, n, "%s", ev->rule_text);
		else if (v->origin == ORIGIN_LOCAL_FIREWALL)
			snprintf(b, n, "a reject rule on this gateway sent it: "
				 "nft list ruleset | grep -n reject");
		else
			snprintf(b, n, "a firewall/IPS on the path forged it in the name of %s "
				 "(TTL %u, %s's was %d): check the boxes between here and %s",
				 src, p->ttl, who, v->expected_ttl, src);
		break;
	case RST_TIME_WAIT:
		snprintf(b, n, "reset after both sides had closed (late segment / TIME-WAIT "
			 "assassination): harmless unless the port is reused at once");
		break;
	case RST_ABORT:
		if (rst_evidence_has(v, "peer-zero-window")) {
			snprintf(b, n, "the %s application on %s gave up on a peer that had "
				 "stopped reading (its receive window was 0): a send timeout "
				 "such as nginx's send_timeout; check why the peer stopped "
				 "reading", who, src);
			break;
		}
		snprintf(b, n, "the %s application aborted the connection (SO_LINGER 0, crash "
			 "or kill): check the logs on %s", who, src);
		break;
	case RST_IDLE_TIMEOUT:
		snprintf(b, n, "the connection idled out (%s): compare keepalive settings with "
			 "the idle timeouts of NATs and firewalls on the path",
			 v->origin == ORIGIN_MIDDLEBOX ? "a box on the path expired its state"
						       : "keepalives unanswered or long silence");
		break;
	case RST_UNREAD_DATA:
		snprintf(b, n, "the %s application closed with data still unread (or data "
			 "came after it closed): check for a protocol mismatch or early close "
			 "on %s", who, src);
		break;
	case RST_INJECTED:
		snprintf(b, n, "forged: it does not match what %s sent before; someone on "
			 "the path or a blind attacker is resetting connections: capture "
			 "upstream", src);
		break;
	default:
		snprintf(b, n, "too little context to say why: capture the connection from "
			 "its start");
		break;
	}
}

/* How far the reset was sent from, against its claimed sender's distance
 * (design: how far away a forger sits), appended to the advice; nothing of
 * the sender's when its TTL was never seen. */
static void hops_text(const struct rst_event *ev, const char *src, char *b, size_t n)
{
	struct rst_hops h;
	size_t len = strlen(b);

	char from[48], sender[INET6_ADDRSTRLEN + 48] = "";

	if (!rst_hops_estimate(&ev->verdict, ev->pkt->ttl, &h) || len >= n)
		return;
	if (h.rst)
		snprintf(from, sizeof(from), "sent about %u hop%s from here", h.rst,
			 h.rst == 1 ? "" : "s");
	else
		snprintf(from, sizeof(from), "sent from a neighbour of here (0 hops)");
	if (h.sender_known && h.sender)
		snprintf(sender, sizeof(sender), ", %s is about %u hop%s away", src, h.sender,
			 h.sender == 1 ? "" : "s");
	else if (h.sender_known)
		snprintf(sender, sizeof(sender), ", %s is a neighbour of here (0 hops)", src);
	snprintf(b + len, n - len, "; %s%s", from, sender);
}

/* A reset the wire cannot tell from another class says so (evidence
 * could-be:CLASS): appended to the advice. */
static void candidate_text(const struct rst_verdict *v, char *b, size_t n)
{
	static const char prefix[] = "could-be:";
	size_t len = strlen(b);
	unsigned i;

	for (i = 0; i < v->n_evidence && len < n; i++)
		if (!strncmp(v->evidence[i], prefix, sizeof(prefix) - 1)) {
			snprintf(b + len, n - len, "; or %s: the wire cannot tell the two apart",
				 v->evidence[i] + sizeof(prefix) - 1);
			return;
		}
}

void event_time_text(uint64_t ts_us, char out[40])
{
	time_t sec = (time_t)(ts_us / 1000000);
	struct tm tm;
	char b[32];

	if (!gmtime_r(&sec, &tm) || !strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S", &tm))
		strcpy(b, "?");
	snprintf(out, 40, "%s.%06u", b, (unsigned)(ts_us % 1000000));
}

int event_text_format(const struct rst_event *ev, char *buf, size_t size)
{
	const struct tcp_packet *p = ev->pkt;
	const struct rst_verdict *v = &ev->verdict;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], fl[9], when[40], adv[640];
	char src_ep[ENDPOINT_LEN], dst_ep[ENDPOINT_LEN];
	char ev_list[RST_EVIDENCE_MAX * (RST_EVIDENCE_LEN + 1)] = "", amends[64] = "";
	char copies[64] = "", tunnel[2 * INET6_ADDRSTRLEN + 48] = "";
	unsigned i;
	int n;

	event_time_text(ev->ts_us, when);
	addr_str(p->family, p->src, src);
	addr_str(p->family, p->dst, dst);
	endpoint(p->family, src, p->sport, src_ep);
	endpoint(p->family, dst, p->dport, dst_ep);
	advice(ev, src, src_ep, adv, sizeof(adv));
	hops_text(ev, src, adv, sizeof(adv));
	candidate_text(v, adv, sizeof(adv));
	for (i = 0; i < v->n_evidence; i++) {
		if (i)
			strcat(ev_list, " ");
		strcat(ev_list, v->evidence[i]);
	}
	if (ev->amends_ts_us) {
		time_t asec = (time_t)(ev->amends_ts_us / 1000000);
		struct tm atm;
		char at[32];

		if (!gmtime_r(&asec, &atm) || !strftime(at, sizeof(at), "%H:%M:%S", &atm))
			strcpy(at, "?");
		snprintf(amends, sizeof(amends), " AMENDS %s.%06u (was %s)", at,
			 (unsigned)(ev->amends_ts_us % 1000000), rst_class_name(ev->amends_class));
	}
	if (ev->copies == 2)
		snprintf(copies, sizeof(copies), " (forwarded: in if%u, out if%u; 2 copies)",
			 ev->in_ifindex, ev->out_ifindex);
	if (p->tunnel.type != TUNNEL_NONE) {
		char ts[INET6_ADDRSTRLEN], td[INET6_ADDRSTRLEN], key[24] = "";

		if (p->tunnel.has_key)
			snprintf(key, sizeof(key), " key %u", p->tunnel.key);
		snprintf(tunnel, sizeof(tunnel), " (in %s %s > %s%s)",
			 tunnel_type_name((enum tunnel_type)p->tunnel.type),
			 addr_str(p->tunnel.family, p->tunnel.src, ts),
			 addr_str(p->tunnel.family, p->tunnel.dst, td), key);
	}
	n = snprintf(buf, size, "%s %s > %s %s %s%s%s (%s, %s, %.0f%%): %s [%s]%s%s\n",
		     when, src_ep, dst_ep,
		     tcp_flags_str(p->flags, fl), rst_class_name(v->cls),
		     ev->action == ACTION_DROP ? " DROPPED" : "", amends, rst_sender_name(v->sender),
		     rst_origin_name(v->origin), (double)v->confidence * 100, adv, ev_list, copies,
		     tunnel);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int event_text_suppressed(uint64_t ts_us, int family, const uint8_t *addr, uint64_t n,
			  uint32_t rate, uint32_t rate_total, char *buf, size_t size)
{
	char when[40], a[INET6_ADDRSTRLEN];
	int len;

	event_time_text(ts_us, when);
	len = snprintf(buf, size, "%s %llu events suppressed from %s (rate limit %u/s per "
		       "source, %u/s in all; all counted in the metrics)\n", when,
		       (unsigned long long)n, family ? addr_str(family, addr, a) : "all sources",
		       rate, rate_total);
	return len < 0 || (size_t)len >= size ? -1 : len;
}
