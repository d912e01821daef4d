/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gen_capture: writes a large synthetic capture for the `explain` benchmark.
 *
 *   build/bench/gen_capture OUT.pcap [PACKETS] [FLOWS]
 *
 * Classic pcap (microsecond timestamps, Ethernet), exactly PACKETS packets
 * (default 1000000) in FLOWS TCP connections (default 50000) whose packets are
 * interleaved in time. Every connection has a life cycle: a handshake, request/
 * response data both ways, then a FIN close or one of the ways connections end
 * in a reset (refused SYN, abort, unread data, stateless reset after a restart,
 * forged resets from a box on the path with another TTL, keepalive probes that
 * go unanswered, time-wait, accept-queue overflow, idle timeout). About 15% of
 * the connections are IPv6. Addresses are documentation ranges only:
 * 198.51.100.0/24 and 203.0.113.0/24 (clients), 192.0.2.0/24 (servers),
 * 2001:db8::/32. The output depends only on PACKETS and FLOWS (fixed seed).
 *
 * IPv4 header and TCP checksums are correct. Plain stdio, no libpcap. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED 0x7273747761746368ULL   /* "rstwatch" */
#define TS_BASE 1700000000ULL         /* capture start, seconds */
#define START_SPAN_US (180ULL * 1000000)  /* connections open within the first 3 minutes */
#define MSS_PAYLOAD 1448

enum scenario {
	SC_FIN_CLIENT,      /* client closes first */
	SC_FIN_SERVER,      /* server closes first */
	SC_REFUSED,         /* SYN -> RA (nothing listening), maybe retried */
	SC_ABORT_CLIENT,    /* client RA, in-flight server data answered with R */
	SC_ABORT_SERVER,    /* server RA after its own data */
	SC_UNREAD,          /* client data, server closes without reading: RA */
	SC_HALF_OPEN,       /* server restarted: client data met by stateless R */
	SC_FORGED_FW,       /* path box resets both sides, exact seq, other TTL */
	SC_FORGED_INJ,      /* blind injection: in-window seq, other TTL */
	SC_KEEPALIVE_DEAD,  /* client keepalive probes unanswered, then RA */
	SC_KEEPALIVE_OK,    /* probes answered, later FIN close */
	SC_TIME_WAIT,       /* FIN close, late segment answered by R */
	SC_OVERFLOW,        /* handshake, request, server RA (accept queue full) */
	SC_IDLE_ENDPOINT,   /* long silence, then the server's socket resets */
	SC_IDLE_MIDDLEBOX,  /* long silence, a stateful box on the path resets */
	SC_COUNT
};

static const struct {
	const char *name;
	unsigned weight;    /* per mille of connections */
	bool data;          /* has a request/response phase */
} sc_info[SC_COUNT] = {
	[SC_FIN_CLIENT] = { "fin-client", 560, true },
	[SC_FIN_SERVER] = { "fin-server", 80, true },
	[SC_REFUSED] = { "refused", 80, false },
	[SC_ABORT_CLIENT] = { "abort-client", 60, true },
	[SC_ABORT_SERVER] = { "abort-server", 30, true },
	[SC_UNREAD] = { "unread-data", 30, true },
	[SC_HALF_OPEN] = { "half-open", 30, true },
	[SC_FORGED_FW] = { "forged-exact", 20, true },
	[SC_FORGED_INJ] = { "forged-blind", 20, true },
	[SC_KEEPALIVE_DEAD] = { "keepalive-dead", 20, true },
	[SC_KEEPALIVE_OK] = { "keepalive-ok", 20, true },
	[SC_TIME_WAIT] = { "time-wait", 20, true },
	[SC_OVERFLOW] = { "accept-overflow", 10, false },
	[SC_IDLE_ENDPOINT] = { "idle-endpoint", 10, true },
	[SC_IDLE_MIDDLEBOX] = { "idle-middlebox", 10, true },
};

static const uint16_t server_ports[] = { 443, 443, 443, 443, 443, 80, 80, 22, 25, 5432, 8080,
					  6379, 993, 3306 };

/* One connection: endpoints and the plan drawn for it before any packet. */
struct flow {
	uint8_t family;
	uint8_t sc;
	uint8_t ttl[2];           /* [0] client's packets, [1] server's, as seen here */
	uint8_t retries;          /* refused: SYN retransmissions */
	uint8_t extra;            /* abort-client: in-flight segments; keepalive: probes */
	uint8_t c[16], s[16];
	uint16_t cport, sport;
	uint32_t data;            /* packets in the data phase */
	uint32_t rtt_us;
	uint64_t start_us, end_us;
};

/* One packet to write; addresses and ports come from its flow. */
struct pkt {
	uint64_t ts;
	uint32_t flow;
	uint32_t ord;             /* generation order: ties in ts keep it */
	uint32_t seq, ack;
	uint16_t len, win, ipid;
	uint8_t flags, dir, ttl, opt;
};

enum { OPT_NONE, OPT_SYN, OPT_TS };
enum { C2S = 0, S2C = 1 };

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd(r) % ((uint64_t)hi - lo + 1));
}

static double rnd_unit(struct rng *r)
{
	return ((double)(rnd(r) >> 11) + 0.5) / 9007199254740992.0;
}

/* Exponential with the given mean, capped. */
static uint64_t rnd_exp(struct rng *r, double mean, double cap)
{
	double v = -log(rnd_unit(r)) * mean;

	return (uint64_t)(v > cap ? cap : v);
}

/* ---- packet list ------------------------------------------------------- */

struct gen {
	struct pkt *p;            /* NULL: only count */
	size_t n, cap;
	uint32_t ord;
};

/* Per-connection sequence state while it is generated. */
struct conn {
	struct gen *g;
	struct flow *f;
	uint32_t idx;
	struct rng r;
	uint64_t t;
	uint32_t nxt[2];          /* next seq each side sends */
	uint32_t isn[2];
	uint16_t ipid[2];
	uint16_t win[2];
};

static void emit(struct conn *k, int dir, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len,
		 uint16_t win, uint8_t opt, int ttl, int ipid)
{
	struct gen *g = k->g;
	struct pkt *p;

	if (!g->p) {
		g->n++;
		return;
	}
	if (g->n == g->cap) {
		fprintf(stderr, "gen_capture: internal error: packet budget overrun\n");
		exit(1);
	}
	p = &g->p[g->n++];
	p->ts = k->t;
	p->flow = k->idx;
	p->ord = g->ord++;
	p->seq = seq;
	p->ack = ack;
	p->len = len;
	p->win = win;
	p->flags = flags;
	p->dir = (uint8_t)dir;
	p->opt = opt;
	p->ttl = ttl >= 0 ? (uint8_t)ttl : k->f->ttl[dir];
	if (ipid >= 0) {
		p->ipid = (uint16_t)ipid;
	} else {
		p->ipid = k->ipid[dir];
		k->ipid[dir]++;
	}
}

/* A segment from dir carrying len bytes of data (flags adds FIN, PSH...). */
static void seg(struct conn *k, int dir, uint8_t flags, uint16_t len)
{
	emit(k, dir, flags | F_ACK, k->nxt[dir], k->nxt[!dir], len, k->win[dir], OPT_TS, -1, -1);
	k->nxt[dir] += len + ((flags & F_FIN) ? 1 : 0);
}

static void wait_us(struct conn *k, uint64_t us)
{
	k->t += us ? us : 1;
}

static void rtt(struct conn *k)
{
	wait_us(k, k->f->rtt_us / 2 + rnd_range(&k->r, 0, 200));
}

static void handshake(struct conn *k)
{
	emit(k, C2S, F_SYN, k->isn[C2S], 0, 0, 64240, OPT_SYN, -1, -1);
	k->nxt[C2S] = k->isn[C2S] + 1;
	rtt(k);
	emit(k, S2C, F_SYN | F_ACK, k->isn[S2C], k->nxt[C2S], 0, 65160, OPT_SYN, -1, -1);
	k->nxt[S2C] = k->isn[S2C] + 1;
	rtt(k);
	seg(k, C2S, 0, 0);
}

/* Exactly n packets of requests, responses and acks. */
static void data_phase(struct conn *k, uint32_t n)
{
	uint32_t left = n;

	while (left) {
		uint32_t segs, i;

		wait_us(k, rnd_exp(&k->r, 8e6, 120e6));   /* think time */
		seg(k, C2S, F_PSH, (uint16_t)rnd_range(&k->r, 60, 900));
		if (!--left)
			break;
		rtt(k);
		segs = 1 + (uint32_t)rnd_exp(&k->r, 3.0, 40.0);
		for (i = 0; i < segs && left; i++) {
			bool last = i + 1 == segs;

			seg(k, S2C, last ? F_PSH : 0,
			    last ? (uint16_t)rnd_range(&k->r, 100, MSS_PAYLOAD) : MSS_PAYLOAD);
			left--;
			wait_us(k, rnd_range(&k->r, 5, 120));
			if (left && (i % 2 == 1 || last)) {
				wait_us(k, k->f->rtt_us / 4);
				seg(k, C2S, 0, 0);
				left--;
			}
		}
	}
}

static void fin_close(struct conn *k, int first)
{
	wait_us(k, rnd_exp(&k->r, 0.5e6, 5e6));
	seg(k, first, F_FIN, 0);
	rtt(k);
	seg(k, !first, 0, 0);
	wait_us(k, rnd_range(&k->r, 10, 5000));
	seg(k, !first, F_FIN, 0);
	rtt(k);
	seg(k, first, 0, 0);
}

/* A reset sent by dir's socket: RA at its snd.nxt. */
static void socket_rst(struct conn *k, int dir)
{
	emit(k, dir, F_RST | F_ACK, k->nxt[dir], k->nxt[!dir], 0, 0, OPT_NONE, -1, -1);
}

/* A TTL clearly not the one the real sender's packets arrive with. */
static int other_ttl(struct conn *k, int dir)
{
	int t = k->f->ttl[dir];
	int o = t > 64 ? 64 - (int)rnd_range(&k->r, 1, 4) : 255 - (int)rnd_range(&k->r, 1, 4);

	if (t <= 64 && rnd(&k->r) & 1)
		o = t + (int)rnd_range(&k->r, 8, 40);
	return o;
}

static void gen_flow(struct gen *g, struct flow *f, uint32_t idx)
{
	struct conn k;
	uint32_t i;

	memset(&k, 0, sizeof(k));
	k.g = g;
	k.f = f;
	k.idx = idx;
	k.r.s = SEED ^ ((uint64_t)idx * 0xd1b54a32d192ed03ULL) ^ 0x5555;
	k.t = f->start_us;
	k.isn[C2S] = (uint32_t)rnd(&k.r);
	k.isn[S2C] = (uint32_t)rnd(&k.r);
	k.ipid[C2S] = (uint16_t)rnd(&k.r);
	k.ipid[S2C] = (uint16_t)rnd(&k.r);
	k.win[C2S] = (uint16_t)rnd_range(&k.r, 490, 510);
	k.win[S2C] = (uint16_t)rnd_range(&k.r, 490, 1024);

	switch (f->sc) {
	case SC_REFUSED:
		for (i = 0; i <= f->retries; i++) {
			emit(&k, C2S, F_SYN, k.isn[C2S], 0, 0, 64240, OPT_SYN, -1, -1);
			rtt(&k);
			/* Linux answers with seq 0, ID 0. */
			emit(&k, S2C, F_RST | F_ACK, 0, k.isn[C2S] + 1, 0, 0, OPT_NONE, -1, 0);
			wait_us(&k, 1000000u << i);
		}
		break;
	case SC_OVERFLOW:
		handshake(&k);
		wait_us(&k, rnd_range(&k.r, 50, 2000));
		seg(&k, C2S, F_PSH, (uint16_t)rnd_range(&k.r, 60, 600));
		rtt(&k);
		socket_rst(&k, S2C);
		break;
	default:
		handshake(&k);
		data_phase(&k, f->data);
		break;
	}

	switch (f->sc) {
	case SC_FIN_CLIENT:
		fin_close(&k, C2S);
		break;
	case SC_FIN_SERVER:
		fin_close(&k, S2C);
		break;
	case SC_ABORT_CLIENT:
		wait_us(&k, rnd_exp(&k.r, 0.3e6, 3e6));
		socket_rst(&k, C2S);
		/* Server segments already on the way: the closed socket answers R. */
		for (i = 0; i < f->extra; i++) {
			wait_us(&k, rnd_range(&k.r, 20, 400));
			seg(&k, S2C, 0, MSS_PAYLOAD);
			rtt(&k);
			emit(&k, C2S, F_RST, k.nxt[C2S], 0, 0, 0, OPT_NONE, -1, 0);
		}
		break;
	case SC_ABORT_SERVER:
		wait_us(&k, rnd_range(&k.r, 100, 200000));
		seg(&k, S2C, F_PSH, (uint16_t)rnd_range(&k.r, 20, 300));
		wait_us(&k, rnd_range(&k.r, 10, 2000));
		socket_rst(&k, S2C);
		break;
	case SC_UNREAD:
		wait_us(&k, rnd_exp(&k.r, 1e6, 10e6));
		seg(&k, C2S, F_PSH, (uint16_t)rnd_range(&k.r, 60, 900));
		rtt(&k);
		socket_rst(&k, S2C);
		break;
	case SC_HALF_OPEN:
		wait_us(&k, rnd_range(&k.r, 5, 200) * 1000000ULL);
		seg(&k, C2S, F_PSH, (uint16_t)rnd_range(&k.r, 60, 900));
		rtt(&k);
		emit(&k, S2C, F_RST, k.nxt[S2C], 0, 0, 0, OPT_NONE, -1, 0);
		break;
	case SC_FORGED_FW:
	case SC_FORGED_INJ: {
		bool exact = f->sc == SC_FORGED_FW;
		uint32_t off[2] = { 0, 0 };

		if (!exact) {
			off[0] = rnd_range(&k.r, 1000, 30000);
			off[1] = rnd_range(&k.r, 1000, 30000);
		}
		wait_us(&k, rnd_range(&k.r, 100, 50000));
		seg(&k, C2S, F_PSH, (uint16_t)rnd_range(&k.r, 60, 900));
		wait_us(&k, rnd_range(&k.r, 50, 3000));
		/* The box answers for the server toward the client, then the other way. */
		emit(&k, S2C, F_RST | F_ACK, k.nxt[S2C] + off[1], k.nxt[C2S], 0, 0, OPT_NONE,
		     other_ttl(&k, S2C), (int)rnd_range(&k.r, 0, 65535));
		wait_us(&k, rnd_range(&k.r, 1, 300));
		emit(&k, C2S, F_RST | F_ACK, k.nxt[C2S] + off[0], k.nxt[S2C], 0, 0, OPT_NONE,
		     other_ttl(&k, C2S), (int)rnd_range(&k.r, 0, 65535));
		break;
	}
	case SC_KEEPALIVE_DEAD:
	case SC_KEEPALIVE_OK:
		wait_us(&k, 60000000);
		for (i = 0; i < f->extra; i++) {
			emit(&k, C2S, F_ACK, k.nxt[C2S] - 1, k.nxt[S2C], 0, k.win[C2S], OPT_TS, -1, -1);
			rtt(&k);
			if (f->sc == SC_KEEPALIVE_OK) {
				seg(&k, S2C, 0, 0);
				wait_us(&k, 60000000);
			} else {
				wait_us(&k, 10000000);
			}
		}
		if (f->sc == SC_KEEPALIVE_OK)
			fin_close(&k, C2S);
		else
			socket_rst(&k, C2S);
		break;
	case SC_TIME_WAIT:
		fin_close(&k, C2S);
		/* A late retransmission after TIME-WAIT ended. */
		wait_us(&k, rnd_range(&k.r, 61, 120) * 1000000ULL);
		emit(&k, S2C, F_FIN | F_ACK, k.nxt[S2C] - 1, k.nxt[C2S], 0, k.win[S2C], OPT_TS, -1, -1);
		rtt(&k);
		emit(&k, C2S, F_RST, k.nxt[C2S], 0, 0, 0, OPT_NONE, -1, 0);
		break;
	case SC_IDLE_ENDPOINT:
		wait_us(&k, rnd_range(&k.r, 310, 420) * 1000000ULL);
		socket_rst(&k, S2C);
		break;
	case SC_IDLE_MIDDLEBOX:
		wait_us(&k, rnd_range(&k.r, 310, 420) * 1000000ULL);
		seg(&k, C2S, F_PSH, (uint16_t)rnd_range(&k.r, 60, 900));
		wait_us(&k, rnd_range(&k.r, 50, 3000));
		emit(&k, S2C, F_RST | F_ACK, k.nxt[S2C], k.nxt[C2S], 0, 0, OPT_NONE,
		     other_ttl(&k, S2C), 0);
		break;
	default:
		break;
	}
	f->end_us = k.t;
}

/* ---- flows ------------------------------------------------------------- */

static void plan_flow(struct flow *f, uint32_t idx, struct rng *r)
{
	uint32_t w = rnd_range(r, 0, 999), acc = 0;
	int sc;
	static const uint8_t base_ttl[] = { 64, 64, 64, 128 };

	memset(f, 0, sizeof(*f));
	for (sc = 0; sc < SC_COUNT - 1; sc++) {
		acc += sc_info[sc].weight;
		if (w < acc)
			break;
	}
	f->sc = (uint8_t)sc;
	f->family = rnd_range(r, 0, 99) < 15 ? 6 : 4;
	if (f->family == 4) {
		/* 508 client hosts x 28232 ephemeral ports: unique per idx. */
		uint32_t host = idx % 508;

		if (host < 254) {
			f->c[0] = 198; f->c[1] = 51; f->c[2] = 100;
		} else {
			f->c[0] = 203; f->c[1] = 0; f->c[2] = 113;
		}
		f->c[3] = (uint8_t)(host % 254 + 1);
		f->cport = (uint16_t)(32768 + (idx / 508) % 28232);
		f->s[0] = 192; f->s[1] = 0; f->s[2] = 2;
		f->s[3] = (uint8_t)(1 + rnd_exp(r, 12, 253));
	} else {
		/* 2001:db8:c1::/48 clients (idx in the host part), 2001:db8:5e::/48 servers. */
		static const uint8_t cpre[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xc1 };
		static const uint8_t spre[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x5e };
		uint32_t sh = 1 + (uint32_t)rnd_exp(r, 12, 4000);

		memcpy(f->c, cpre, 6);
		f->c[12] = (uint8_t)(idx >> 24);
		f->c[13] = (uint8_t)(idx >> 16);
		f->c[14] = (uint8_t)(idx >> 8);
		f->c[15] = (uint8_t)idx;
		f->cport = (uint16_t)rnd_range(r, 32768, 60999);
		memcpy(f->s, spre, 6);
		f->s[14] = (uint8_t)(sh >> 8);
		f->s[15] = (uint8_t)sh;
	}
	f->sport = server_ports[rnd_range(r, 0, sizeof(server_ports) / sizeof(server_ports[0]) - 1)];
	f->ttl[C2S] = (uint8_t)(base_ttl[rnd_range(r, 0, 3)] - rnd_range(r, 1, 6));
	f->ttl[S2C] = (uint8_t)(base_ttl[rnd_range(r, 0, 3)] - rnd_range(r, 4, 20));
	f->rtt_us = (uint32_t)(2000 + rnd_exp(r, 30000, 300000));
	f->start_us = rnd(r) % START_SPAN_US;
	switch (f->sc) {
	case SC_REFUSED:
		f->retries = (uint8_t)(rnd_range(r, 0, 9) < 6 ? 0 : rnd_range(r, 1, 2));
		break;
	case SC_ABORT_CLIENT:
		f->extra = (uint8_t)(rnd_range(r, 0, 1) ? rnd_range(r, 1, 3) : 0);
		break;
	case SC_KEEPALIVE_DEAD:
		f->extra = (uint8_t)rnd_range(r, 3, 9);
		break;
	case SC_KEEPALIVE_OK:
		f->extra = (uint8_t)rnd_range(r, 1, 3);
		break;
	default:
		break;
	}
}

static int cmp_pkt(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- writing ----------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void fill_payload(uint8_t *p, size_t n, uint64_t seed)
{
	struct rng r = { seed };
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t v = rnd(&r);

		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] = (uint8_t)rnd(&r);
}

static size_t build(const struct pkt *p, const struct flow *f, uint64_t t0, uint8_t *buf)
{
	static const uint8_t mac_c[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	static const uint8_t mac_s[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };
	const uint8_t *src = p->dir == C2S ? f->c : f->s, *dst = p->dir == C2S ? f->s : f->c;
	size_t alen = f->family == 4 ? 4 : 16, iplen = f->family == 4 ? 20 : 40;
	size_t optlen = p->opt == OPT_SYN ? 20 : p->opt == OPT_TS ? 12 : 0;
	size_t tcplen = 20 + optlen + p->len;
	uint8_t *ip = buf + 14, *tcp = ip + iplen, *o = tcp + 20;
	uint32_t ms = (uint32_t)((p->ts - t0) / 1000);
	uint32_t tsv[2] = { 0x10000000u + ms + f->cport * 7919u, 0x60000000u + ms + f->sport * 31u };
	uint32_t s;

	memcpy(buf, p->dir == C2S ? mac_s : mac_c, 6);
	memcpy(buf + 6, p->dir == C2S ? mac_c : mac_s, 6);
	if (f->family == 4) {
		put16(buf + 12, 0x0800);
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(iplen + tcplen));
		put16(ip + 4, p->ipid);
		put16(ip + 6, 0x4000);
		ip[8] = p->ttl;
		ip[9] = 6;
		put16(ip + 10, 0);
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, fold(sum16(ip, 20, 0)));
	} else {
		put16(buf + 12, 0x86dd);
		put32(ip, 0x60000000u | ((f->cport * 2654435761u) & 0xfffff));
		put16(ip + 4, (uint16_t)tcplen);
		ip[6] = 6;
		ip[7] = p->ttl;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	}
	put16(tcp, p->dir == C2S ? f->cport : f->sport);
	put16(tcp + 2, p->dir == C2S ? f->sport : f->cport);
	put32(tcp + 4, p->seq);
	put32(tcp + 8, p->ack);
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	tcp[13] = p->flags;
	put16(tcp + 14, p->win);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	if (p->opt == OPT_SYN) {
		o[0] = 2; o[1] = 4;
		put16(o + 2, f->family == 4 ? 1460 : 1440);
		o[4] = 4; o[5] = 2;                      /* SACK permitted */
		o[6] = 8; o[7] = 10;
		put32(o + 8, tsv[p->dir]);
		put32(o + 12, (p->flags & F_ACK) ? tsv[!p->dir] - f->rtt_us / 2000 : 0);
		o[16] = 1;
		o[17] = 3; o[18] = 3; o[19] = 7;         /* window scale 7 */
	} else if (p->opt == OPT_TS) {
		o[0] = 1; o[1] = 1;
		o[2] = 8; o[3] = 10;
		put32(o + 4, tsv[p->dir]);
		put32(o + 8, tsv[!p->dir] - f->rtt_us / 2000);
	}
	if (p->len)
		fill_payload(o + optlen, p->len, (uint64_t)p->flow << 32 ^ p->seq ^ SEED);
	/* TCP checksum over the pseudo-header and the segment. */
	s = sum16(src, alen, 0);
	s = sum16(dst, alen, s);
	s += 6 + (uint32_t)tcplen;
	s = sum16(tcp, tcplen, s);
	put16(tcp + 16, fold(s));
	return 14 + iplen + tcplen;
}

static void put_le32(FILE *out, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	fwrite(b, 1, 4, out);
}

static int parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long npkts = 1000000, nflows = 50000;
	uint64_t by_sc[SC_COUNT] = { 0 };
	uint64_t fixed = 0, left, weight_sum = 0, resets = 0, v6 = 0, bytes = 24;
	uint32_t *weight, i, data_flows = 0, open = 0, max_open = 0;
	struct flow *fl;
	struct gen g = { 0 };
	struct rng r = { SEED };
	uint64_t *ev;
	uint8_t buf[2048];
	FILE *out;
	size_t j;

	if (argc < 2 || argc > 4 || (argc > 2 && parse_count(argv[2], 100000000ULL, &npkts)) ||
	    (argc > 3 && parse_count(argv[3], 10000000ULL, &nflows))) {
		fprintf(stderr, "usage: gen_capture OUT.pcap [PACKETS (1000000)] [FLOWS (50000)]\n");
		return 2;
	}
	fl = calloc(nflows, sizeof(*fl));
	weight = calloc(nflows, sizeof(*weight));
	if (!fl || !weight) {
		fprintf(stderr, "gen_capture: out of memory\n");
		return 1;
	}
	/* Plan every connection, then count what each costs without data. */
	for (i = 0; i < nflows; i++) {
		plan_flow(&fl[i], i, &r);
		gen_flow(&g, &fl[i], i);
	}
	fixed = g.n;
	if (fixed > npkts) {
		fprintf(stderr, "gen_capture: %llu flows need at least %llu packets; ask for more "
			"packets or fewer flows\n", nflows, (unsigned long long)fixed);
		return 2;
	}
	/* Share the rest among the connections with a data phase, unevenly. */
	for (i = 0; i < nflows; i++) {
		if (!sc_info[fl[i].sc].data)
			continue;
		weight[i] = 1 + (uint32_t)rnd_exp(&r, 100.0, 2000.0);
		weight_sum += weight[i];
		data_flows++;
	}
	left = npkts - fixed;
	if (left && !data_flows) {
		fprintf(stderr, "gen_capture: no connection can take data\n");
		return 2;
	}
	for (i = 0; i < nflows; i++) {
		if (!weight[i])
			continue;
		fl[i].data = (uint32_t)((npkts - fixed) * weight[i] / weight_sum);
		left -= fl[i].data;
	}
	for (i = 0; left; i = (i + 1) % (uint32_t)nflows)
		if (weight[i]) {
			fl[i].data++;
			left--;
		}

	g.p = malloc(npkts * sizeof(*g.p));
	if (!g.p) {
		fprintf(stderr, "gen_capture: out of memory\n");
		return 1;
	}
	g.n = 0;
	g.cap = npkts;
	for (i = 0; i < nflows; i++) {
		gen_flow(&g, &fl[i], i);
		by_sc[fl[i].sc]++;
		v6 += fl[i].family == 6;
	}
	if (g.n != npkts) {
		fprintf(stderr, "gen_capture: internal error: %zu packets, wanted %llu\n", g.n, npkts);
		return 1;
	}
	qsort(g.p, g.n, sizeof(*g.p), cmp_pkt);

	out = fopen(argv[1], "wb");
	if (!out) {
		fprintf(stderr, "gen_capture: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	put_le32(out, 0xa1b2c3d4);                 /* microsecond pcap, little-endian */
	put_le32(out, 2 | 4u << 16);               /* version 2.4 */
	put_le32(out, 0);
	put_le32(out, 0);
	put_le32(out, 262144);                     /* snaplen */
	put_le32(out, 1);                          /* LINKTYPE_ETHERNET */
	for (j = 0; j < g.n; j++) {
		const struct pkt *p = &g.p[j];
		uint64_t ts = TS_BASE * 1000000 + p->ts;
		uint32_t n = (uint32_t)build(p, &fl[p->flow], 0, buf);

		put_le32(out, (uint32_t)(ts / 1000000));
		put_le32(out, (uint32_t)(ts % 1000000));
		put_le32(out, n);
		put_le32(out, n);
		fwrite(buf, 1, n, out);
		bytes += 16 + n;
		resets += (p->flags & F_RST) != 0;
	}
	if (fflush(out) == EOF || ferror(out) || fclose(out) == EOF) {
		fprintf(stderr, "gen_capture: %s: write error: %s\n", argv[1], strerror(errno));
		return 1;
	}

	/* Concurrency: connections open at once, at the busiest moment. */
	ev = malloc(2 * nflows * sizeof(*ev));
	if (ev) {
		for (i = 0; i < nflows; i++) {
			ev[2 * i] = fl[i].start_us << 1 | 1;
			ev[2 * i + 1] = fl[i].end_us << 1;
		}
		qsort(ev, 2 * nflows, sizeof(*ev), cmp_u64);
		for (j = 0; j < 2 * nflows; j++) {
			if (ev[j] & 1) {
				if (++open > max_open)
					max_open = open;
			} else {
				open--;
			}
		}
	}
	free(ev);

	fprintf(stderr, "gen_capture: %s: %zu packets (%llu resets, %.2f%%), %llu flows "
		"(%llu IPv6, at most %u open at once), %.1f MB\n", argv[1], g.n,
		(unsigned long long)resets, 100.0 * (double)resets / (double)g.n, nflows,
		(unsigned long long)v6, max_open, (double)bytes / 1e6);
	for (i = 0; i < SC_COUNT; i++)
		fprintf(stderr, "  %-16s %8llu flows\n", sc_info[i].name,
			(unsigned long long)by_sc[i]);
	free(g.p);
	free(fl);
	free(weight);
	return 0;
}
