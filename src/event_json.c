/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Events as JSON lines in Suricata EVE's envelope (design §4). Written into a
 * caller's buffer with explicit bounds: a full buffer is an error, never a
 * truncated object. */
#include "event.h"

#include "community_id.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct out {
	char *buf;
	size_t size, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)    /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A JSON string: UTF-8 (a file name, an interface, a diagnostic text) kept
 * as it is; control characters escaped; a byte that is not part of valid
 * UTF-8 becomes U+FFFD, so that every line is valid JSON text. script_safe:
 * <, > and & escaped too, so that the string cannot end or bend an HTML
 * <script> element it is written into ("</script>", "<!--"). */
static void put_string(struct out *o, const char *s, bool script_safe)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;

	put(o, "\"");
	while (*u) {
		if (*u == '"' || *u == '\\') {
			put(o, "\\%c", *u++);
		} else if (*u < 0x20 || *u == 0x7f ||
			   (script_safe && (*u == '<' || *u == '>' || *u == '&'))) {
			put(o, "\\u%04x", *u++);
		} else if (*u < 0x80) {
			put(o, "%c", *u++);
		} else if ((n = utf8_len(u))) {
			put(o, "%.*s", (int)n, (const char *)u);
			u += n;
		} else {
			put(o, "\\ufffd");
			u++;
		}
	}
	put(o, "\"");
}

static void put_str(struct out *o, const char *s)
{
	put_string(o, s, false);
}

int json_string_script(const char *in, char *out, size_t size)
{
	struct out o = { .buf = out, .size = size };

	if (!size)
		return -1;
	put_string(&o, in, true);
	return o.full ? -1 : (int)o.len;
}

const char *addr_str(int family, const uint8_t *addr, char *buf)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, INET6_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

static void put_time(struct out *o, uint64_t ts_us)
{
	time_t sec = (time_t)(ts_us / 1000000);
	struct tm tm;
	char b[32];

	/* UTC, so that offline output does not depend on the reader's zone. */
	if (!gmtime_r(&sec, &tm) || !strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm))
		strcpy(b, "1970-01-01T00:00:00");
	put(o, "\"%s.%06u+0000\"", b, (unsigned)(ts_us % 1000000));
}

int event_json_format(const struct rst_event *ev, char *buf, size_t size)
{
	const struct tcp_packet *p = ev->pkt;
	const struct rst_verdict *v = &ev->verdict;
	struct out o = { .buf = buf, .size = size };
	char a[INET6_ADDRSTRLEN], fl[9], cid[COMMUNITY_ID_SIZE];
	struct rst_hops hops;
	unsigned i;

	if (size == 0)
		return -1;
	put(&o, "{\"timestamp\":");
	put_time(&o, ev->ts_us);
	put(&o, ",\"flow_id\":%llu", (unsigned long long)ev->flow.flow_id);
	if (ev->in_iface && *ev->in_iface) {
		put(&o, ",\"in_iface\":");
		put_str(&o, ev->in_iface);
	}
	if (ev->in_ifindex)
		put(&o, ",\"in_ifindex\":%u", ev->in_ifindex);
	if (ev->out_ifindex)
		put(&o, ",\"out_ifindex\":%u", ev->out_ifindex);
	put(&o, ",\"event_type\":\"rst\",\"src_ip\":\"%s\"", addr_str(p->family, p->src, a));
	put(&o, ",\"src_port\":%u", p->sport);
	put(&o, ",\"dest_ip\":\"%s\",\"dest_port\":%u", addr_str(p->family, p->dst, a), p->dport);
	put(&o, ",\"proto\":\"TCP\"");
	community_id_v1(p->family, p->src, p->dst, p->sport, p->dport, 6, 0, cid);
	put(&o, ",\"community_id\":\"%s\"", cid);
	/* Every VLAN tag, outermost first, as Suricata's "vlan" array. */
	for (i = 0; i < p->n_vlan; i++)
		put(&o, "%s%u", i ? "," : ",\"vlan\":[", p->vlan[i]);
	if (p->n_vlan)
		put(&o, "]");
	/* The outermost tunnel the segment came in (src/decode_tunnel.c). */
	if (p->tunnel.type != TUNNEL_NONE) {
		put(&o, ",\"tunnel\":{\"type\":\"%s\"",
		    tunnel_type_name((enum tunnel_type)p->tunnel.type));
		put(&o, ",\"src_ip\":\"%s\"", addr_str(p->tunnel.family, p->tunnel.src, a));
		put(&o, ",\"dest_ip\":\"%s\"", addr_str(p->tunnel.family, p->tunnel.dst, a));
		if (p->tunnel.has_key)
			put(&o, ",\"key\":%u", p->tunnel.key);
		put(&o, ",\"depth\":%u}", p->tunnel.depth);
	}

	put(&o, ",\"rst\":{\"class\":\"%s\",\"origin\":\"%s\",\"sender\":\"%s\"",
	    rst_class_name(v->cls), rst_origin_name(v->origin), rst_sender_name(v->sender));
	put(&o, ",\"confidence\":%.2f,\"evidence\":[", (double)v->confidence);
	for (i = 0; i < v->n_evidence; i++) {
		if (i)
			put(&o, ",");
		put_str(&o, v->evidence[i]);
	}
	put(&o, "],\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,\"window\":%u", tcp_flags_str(p->flags, fl),
	    p->seq, p->ack, p->window);
	if (p->family == 4)
		put(&o, ",\"ttl\":%u,\"ipid\":%u", p->ttl, p->ipid);
	else
		put(&o, ",\"hoplimit\":%u", p->ttl);
	if (v->expected_ttl >= 0)
		put(&o, ",\"expected_ttl\":%d", v->expected_ttl);
	if (rst_hops_estimate(v, p->ttl, &hops)) {
		put(&o, ",\"hops\":{\"reset\":%u,\"reset_initial_ttl\":%u", hops.rst,
		    hops.rst_initial);
		if (hops.sender_known)
			put(&o, ",\"sender\":%u,\"sender_initial_ttl\":%u", hops.sender,
			    hops.sender_initial);
		put(&o, "}");
	}
	if (v->follows)
		put(&o, ",\"follows\":{\"class\":\"%s\",\"ms\":%u}",
		    rst_class_name((enum rst_class)(v->follows - 1)), v->follows_ms);
	put(&o, ",\"payload_len\":%u", p->payload_len);
	if (p->diag.present) {
		put(&o, ",\"diag\":{\"reason\":%u", p->diag.reason);
		if (p->diag.vendor)
			put(&o, ",\"vendor\":%u", p->diag.vendor);
		if (p->diag.text[0]) {
			put(&o, ",\"text\":");
			put_str(&o, p->diag.text);
		}
		put(&o, "}");
	}
	put(&o, ",\"hook\":\"%s\"", rst_hook_name(ev->ctx ? ev->ctx->hook : HOOK_CAPTURE));
	if (ev->ctx && ev->ctx->via_log)
		put(&o, ",\"via\":\"log\"");
	if (ev->rule_json)
		put(&o, ",\"rule\":%s", ev->rule_json);    /* JSON already (ruleset_answer_json) */
	put(&o, "}");

	put(&o, ",\"flow\":{\"state_before\":\"%s\"", ev->flow.state_before);
	if (ev->flow.known) {
		put(&o, ",\"age_s\":%.6f,\"idle_s\":%.6f", (double)ev->flow.age_us / 1e6,
		    (double)ev->flow.idle_us / 1e6);
		put(&o, ",\"pkts_toserver\":%u,\"pkts_toclient\":%u", ev->flow.pkts[0],
		    ev->flow.pkts[1]);
		put(&o, ",\"bytes_toserver\":%u,\"bytes_toclient\":%u", ev->flow.bytes[0],
		    ev->flow.bytes[1]);
	}
	put(&o, "}");
	if (ev->ctx && ev->ctx->ct && ev->ctx->ct->present && ev->ctx->ct->has_counters) {
		const struct ct_info *ct = ev->ctx->ct;

		put(&o, ",\"conntrack\":{\"pkts_orig\":%llu,\"pkts_reply\":%llu,"
		    "\"bytes_orig\":%llu,\"bytes_reply\":%llu,\"timeout_s\":%u}",
		    (unsigned long long)ct->packets[0], (unsigned long long)ct->packets[1],
		    (unsigned long long)ct->bytes[0], (unsigned long long)ct->bytes[1],
		    ct->timeout_s);
	}
	put(&o, ",\"action\":\"%s\"", ev->action == ACTION_DROP ? "drop" : "accept");
	if (ev->action_reason) {
		put(&o, ",\"action_reason\":");
		put_str(&o, ev->action_reason);
	}
	if (ev->has_ct_mark)
		put(&o, ",\"ct_mark\":\"0x%08x\"", ev->ct_mark);
	if (ev->copies)
		put(&o, ",\"copies\":%u", ev->copies);
	if (ev->amends_ts_us) {
		put(&o, ",\"amends\":{\"timestamp\":");
		put_time(&o, ev->amends_ts_us);
		put(&o, ",\"class\":\"%s\"}", rst_class_name(ev->amends_class));
	}
	/* Offline: which capture file (Suricata's field name). */
	if (ev->pcap_filename) {
		put(&o, ",\"pcap_filename\":");
		put_str(&o, ev->pcap_filename);
	}
	put(&o, "}\n");
	return o.full ? -1 : (int)o.len;
}

int event_json_suppressed(uint64_t ts_us, int family, const uint8_t *addr, uint64_t n,
			  uint64_t since_us, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size };
	char a[INET6_ADDRSTRLEN];

	if (size == 0)
		return -1;
	put(&o, "{\"timestamp\":");
	put_time(&o, ts_us);
	put(&o, ",\"event_type\":\"rst_suppressed\"");
	if (family)
		put(&o, ",\"src_ip\":\"%s\"", addr_str(family, addr, a));
	put(&o, ",\"rst_suppressed\":{\"events\":%llu,\"scope\":\"%s\",\"since\":",
	    (unsigned long long)n, family ? "source" : "all-sources");
	put_time(&o, since_us);
	put(&o, "}}\n");
	return o.full ? -1 : (int)o.len;
}

int event_json_engine(uint64_t ts_us, const char *level, const char *message, char *buf,
		      size_t size)
{
	struct out o = { .buf = buf, .size = size };

	if (size == 0)
		return -1;
	put(&o, "{\"timestamp\":");
	put_time(&o, ts_us);
	put(&o, ",\"log_level\":\"%s\",\"event_type\":\"engine\",\"engine\":{\"module\":"
	    "\"rstwatch\",\"message\":", level);
	put_str(&o, message);
	put(&o, "}}\n");
	return o.full ? -1 : (int)o.len;
}
