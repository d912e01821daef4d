/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flow table: fixed-capacity array of entries, a power-of-two bucket index of
 * chained entry numbers, and an LRU list for eviction. Entry links are 32-bit
 * indexes (+1, so 0 means none) rather than pointers to keep an entry small. */
#include "flow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "seq.h"

/* A touched flow moves to the LRU tail only on its first packet in each
 * epoch of 2^20 us (about a second), not on every packet: a move writes the
 * two entries beside it, cold cache lines on a busy gateway, and eviction does
 * not need the order finer than that. The list stays sorted by move time and
 * a flow's newest packet is less than an epoch after its move, so the head
 * (evicted first, expired first) was seen at most an epoch later than the
 * least recently seen flow. */
#define LRU_EPOCH_SHIFT 20

/* Both arrays live in one mapping aligned to this, so that transparent huge
 * pages can back all of it: lookups land anywhere in the arrays, and with
 * 4 KiB pages nearly every one would also miss the TLB. */
#define HUGE_PAGE (2u << 20)

struct flow_table {
	struct flow *e;
	uint32_t *bucket;
	void *map;
	size_t map_len;
	uint32_t nbuckets;       /* power of two */
	uint32_t capacity;
	uint32_t used;           /* entries ever handed out (high-water mark of e[]) */
	uint32_t free_head;      /* expired entries for reuse, chained through hnext */
	uint32_t lru_head;       /* least recently seen */
	uint32_t lru_tail;
	uint64_t next_id;
	uint64_t seed;           /* flow_table_seed */
	struct flow_stats st;
};

static uint32_t round_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < (1u << 31))
		p <<= 1;
	return p;
}

/* Anonymous memory is zero pages until touched: the table's memory grows
 * with the flows actually tracked, not with the configured maximum. */
static int table_map(struct flow_table *t)
{
	size_t index_len = ((size_t)t->nbuckets * sizeof(*t->bucket) + 63) & ~(size_t)63;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* Whole pages: munmap takes only page-aligned addresses, and a tail
	 * left mapped past an unaligned end was never freed (a huge page
	 * backing it stayed resident: measured in fuzz_pipeline, which builds
	 * and frees a table per input, as explain does per file: +2 MiB each). */
	size_t len = (index_len + (size_t)t->capacity * sizeof(*t->e) + page - 1) & ~(page - 1);
	uint8_t *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t start;

	if (p == MAP_FAILED)
		return -1;
	start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	if ((uintptr_t)p + HUGE_PAGE > start)
		munmap((uint8_t *)start + len, (uintptr_t)p + HUGE_PAGE - start);
	/* Refused where THP is off: then it is 4 KiB pages, slower, still right. */
	(void)madvise((void *)start, len, MADV_HUGEPAGE);
	t->map = (void *)start;
	t->map_len = len;
	t->bucket = t->map;
	t->e = (struct flow *)((uint8_t *)t->map + index_len);
	return 0;
}

int flow_table_seed(struct flow_table *t, uint64_t seed)
{
	if (t->used) {
		errno = EBUSY;    /* the entries are filed under the old hash */
		return -1;
	}
	t->seed = seed;
	return 0;
}

struct flow_table *flow_table_new(uint32_t capacity)
{
	struct flow_table *t;

	if (capacity == 0 || capacity > (1u << 28)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nbuckets = round_pow2(capacity);
	t->capacity = capacity;
	if (table_map(t)) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->st.capacity = capacity;
	t->next_id = 1;
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	munmap(t->map, t->map_len);
	free(t);
}

static size_t addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* The port goes above the address word it is mixed with: XORed onto the
 * same bits (as it once was), every (address ^ x, port ^ x) would hash alike,
 * a family of colliding sources anyone could forge resets from. */
uint64_t flow_hash_endpoint(uint64_t seed, const uint8_t *addr, size_t alen, uint16_t port)
{
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ULL ^ ((uint64_t)port << 32);
	size_t i;

	for (i = 0; i < alen; i += 4) {
		uint32_t w;

		memcpy(&w, addr + i, 4);
		h = mix64(h ^ w);
	}
	return h;
}

/* Symmetric: both directions of a connection hash alike. */
static uint64_t hash_pkt(const struct flow_table *t, const struct tcp_packet *p)
{
	size_t alen = addr_len(p->family);
	uint64_t a = flow_hash_endpoint(t->seed, p->src, alen, p->sport);
	uint64_t b = flow_hash_endpoint(t->seed, p->dst, alen, p->dport);

	return mix64((a + b) ^ ((a ^ b) << 1) ^ p->family ^ ((uint64_t)p->tunnel_zone << 8));
}

/* Fixed-size compares the compiler inlines: this runs for every packet. */
static bool addr_eq(const uint8_t *a, const uint8_t *b, uint8_t family)
{
	uint64_t x[2], y[2];

	if (family == 4) {
		uint32_t u, v;

		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		return u == v;
	}
	memcpy(x, a, 16);
	memcpy(y, b, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* Which way pkt travels in f, or -1 if it is not f's packet. */
static int key_dir(const struct flow_key *k, const struct tcp_packet *p)
{
	if (k->family != p->family || k->zone != p->tunnel_zone)
		return -1;
	if (k->port[DIR_ORIG] == p->sport && k->port[DIR_RESP] == p->dport &&
	    addr_eq(k->addr[DIR_ORIG], p->src, p->family) &&
	    addr_eq(k->addr[DIR_RESP], p->dst, p->family))
		return DIR_ORIG;
	if (k->port[DIR_ORIG] == p->dport && k->port[DIR_RESP] == p->sport &&
	    addr_eq(k->addr[DIR_ORIG], p->dst, p->family) &&
	    addr_eq(k->addr[DIR_RESP], p->src, p->family))
		return DIR_RESP;
	return -1;
}

static struct flow *entry(struct flow_table *t, uint32_t ref)
{
	return ref ? &t->e[ref - 1] : NULL;
}

static uint32_t ref_of(const struct flow_table *t, const struct flow *f)
{
	return (uint32_t)(f - t->e) + 1;
}

static void lru_unlink(struct flow_table *t, struct flow *f)
{
	if (f->lru_prev)
		entry(t, f->lru_prev)->lru_next = f->lru_next;
	else
		t->lru_head = f->lru_next;
	if (f->lru_next)
		entry(t, f->lru_next)->lru_prev = f->lru_prev;
	else
		t->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = 0;
}

static void lru_append(struct flow_table *t, struct flow *f)
{
	uint32_t r = ref_of(t, f);

	f->lru_prev = t->lru_tail;
	f->lru_next = 0;
	if (t->lru_tail)
		entry(t, t->lru_tail)->lru_next = r;
	else
		t->lru_head = r;
	t->lru_tail = r;
}

/* The index slot a hash files its flows under. */
static uint32_t *index_slot(const struct flow_table *t, uint64_t hash)
{
	return &t->bucket[(uint32_t)hash & (t->nbuckets - 1)];
}

static uint32_t *slot_of_key(const struct flow_table *t, const struct flow_key *k)
{
	struct tcp_packet p;

	/* Hash through the same function as packets so the two always agree. */
	p.family = k->family;
	memcpy(p.src, k->addr[DIR_ORIG], sizeof(p.src));
	memcpy(p.dst, k->addr[DIR_RESP], sizeof(p.dst));
	p.sport = k->port[DIR_ORIG];
	p.dport = k->port[DIR_RESP];
	p.tunnel_zone = k->zone;
	return index_slot(t, hash_pkt(t, &p));
}

static void hash_unlink(struct flow_table *t, struct flow *f)
{
	uint32_t *link = slot_of_key(t, &f->key);
	uint32_t r = ref_of(t, f);

	while (*link && *link != r)
		link = &entry(t, *link)->hnext;
	if (*link)
		*link = f->hnext;
	f->hnext = 0;
}

static void release(struct flow_table *t, struct flow *f)
{
	hash_unlink(t, f);
	lru_unlink(t, f);
	f->in_use = 0;
	f->hnext = t->free_head;
	t->free_head = ref_of(t, f);
	t->st.active--;
}

static struct flow *alloc_entry(struct flow_table *t)
{
	struct flow *f;

	if (t->free_head) {
		f = entry(t, t->free_head);
		t->free_head = f->hnext;
		return f;
	}
	if (t->used < t->capacity)
		return &t->e[t->used++];
	/* Full: the least recently seen flow makes room. */
	f = entry(t, t->lru_head);
	release(t, f);
	t->st.evicted++;
	t->free_head = f->hnext;
	return f;
}

/* Who opened the connection, judged from the first packet seen of it. */
static bool sender_is_orig(const struct tcp_packet *p, bool *guessed)
{
	*guessed = false;
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN)
		return true;
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
		return false;
	/* Mid-stream: the side on the lower port is most likely the server. */
	*guessed = true;
	return p->sport >= p->dport;
}

static void flow_init(struct flow_table *t, struct flow *f, const struct tcp_packet *p,
		      uint64_t ts_us)
{
	bool guessed;
	bool fwd = sender_is_orig(p, &guessed);
	size_t alen = addr_len(p->family);
	uint32_t hnext = f->hnext;

	memset(f, 0, sizeof(*f));
	f->hnext = hnext;
	f->key.family = p->family;
	f->key.zone = p->tunnel_zone;
	memcpy(f->key.addr[DIR_ORIG], fwd ? p->src : p->dst, alen);
	memcpy(f->key.addr[DIR_RESP], fwd ? p->dst : p->src, alen);
	f->key.port[DIR_ORIG] = fwd ? p->sport : p->dport;
	f->key.port[DIR_RESP] = fwd ? p->dport : p->sport;
	f->orig_guessed = guessed;
	f->first_ts = f->last_ts = ts_us;
	f->id = mix64(t->next_id++ ^ hash_pkt(t, p) ^ ts_us) & FLOW_ID_MASK;
	f->in_use = 1;
	f->dir[0].wscale = f->dir[1].wscale = 0xff;
}

/* A guessed originator turns out wrong when the other side sends the SYN. */
static void flow_swap(struct flow *f)
{
	struct flow_dir d = f->dir[0];
	uint8_t a[16];
	uint16_t port = f->key.port[0];

	uint8_t last = f->rst_last[0];

	f->dir[0] = f->dir[1];
	f->dir[1] = d;
	f->rst_last[0] = f->rst_last[1];
	f->rst_last[1] = last;
	f->fin_retx = (uint8_t)(((f->fin_retx & 1) << 1) | ((f->fin_retx >> 1) & 1));
	memcpy(a, f->key.addr[0], sizeof(a));
	memcpy(f->key.addr[0], f->key.addr[1], sizeof(a));
	memcpy(f->key.addr[1], a, sizeof(a));
	f->key.port[0] = f->key.port[1];
	f->key.port[1] = port;
}

/* A SYN on a 4-tuple whose connection was reset or closed opens a new one. */
static bool reopens(const struct flow *f, const struct tcp_packet *p, int dir)
{
	const struct flow_dir *d = &f->dir[dir];
	bool closed = (f->dir[0].flags & DF_FIN) && (f->dir[1].flags & DF_FIN);
	bool reset = (f->dir[0].flags | f->dir[1].flags) & DF_RST;

	if ((p->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) != TCPF_SYN)
		return false;
	if (!(closed || reset))
		return false;
	/* A retransmission of the SYN that was refused is the same attempt. */
	return !((d->flags & DF_SYN) && d->isn == p->seq && !(f->dir[!dir].flags & DF_SYN));
}

uint32_t flow_hash(const struct flow_table *t, const struct tcp_packet *pkt)
{
	return (uint32_t)hash_pkt(t, pkt);
}

void flow_prefetch_slot(const struct flow_table *t, uint32_t hash)
{
	__builtin_prefetch(index_slot(t, hash));
}

void flow_prefetch_entry(const struct flow_table *t, uint32_t hash)
{
	uint32_t r = *index_slot(t, hash);
	const uint8_t *f;

	if (!r)
		return;
	/* The whole entry: the lookup reads its key, the classifier and the
	 * update the rest, and at 248 bytes it spans four or five lines. */
	f = (const uint8_t *)&t->e[r - 1];
	for (size_t off = 0; off < sizeof(struct flow); off += 64)
		__builtin_prefetch(f + off);
	__builtin_prefetch(f + sizeof(struct flow) - 1);
}

struct flow *flow_lookup(struct flow_table *t, const struct tcp_packet *pkt, uint64_t ts_us,
			 bool create, int *dir)
{
	uint32_t *slot = index_slot(t, hash_pkt(t, pkt));
	uint32_t r, walked = 0;
	struct flow *f;
	int d = -1;

	t->st.lookups++;
	for (r = *slot; r; r = f->hnext) {
		f = entry(t, r);
		walked++;
		d = key_dir(&f->key, pkt);
		if (d >= 0)
			break;
	}
	if (walked > t->st.longest_chain)
		t->st.longest_chain = walked;
	if (r) {
		bool reopen, move;

		f = entry(t, r);
		reopen = reopens(f, pkt, d);
		move = reopen || (ts_us >> LRU_EPOCH_SHIFT) != (f->last_ts >> LRU_EPOCH_SHIFT);
		if (move)
			lru_unlink(t, f);
		if (reopen) {
			uint8_t inc = f->incarnation;

			flow_init(t, f, pkt, ts_us);
			f->incarnation = (uint8_t)(inc + 1);
			d = DIR_ORIG;
		} else if (f->orig_guessed && (pkt->flags & TCPF_SYN)) {
			bool synack = pkt->flags & TCPF_ACK;

			if ((d == DIR_RESP && !synack) || (d == DIR_ORIG && synack)) {
				flow_swap(f);
				d = !d;
			}
			f->orig_guessed = 0;
		}
		if (move)
			lru_append(t, f);
		*dir = d;
		return f;
	}
	if (!create)
		return NULL;
	f = alloc_entry(t);
	flow_init(t, f, pkt, ts_us);
	f->hnext = *slot;
	*slot = ref_of(t, f);
	lru_append(t, f);
	t->st.created++;
	t->st.active++;
	*dir = key_dir(&f->key, pkt);
	return f;
}

static uint8_t sat_inc8(uint8_t v)
{
	return v == UINT8_MAX ? v : (uint8_t)(v + 1);
}

static uint16_t sat_inc16(uint16_t v)
{
	return v == UINT16_MAX ? v : (uint16_t)(v + 1);
}

/* A keepalive probe (or a zero-window probe): no new data, one byte (or none)
 * just below snd_nxt. */
static bool is_keepalive(const struct flow_dir *d, const struct tcp_packet *p)
{
	if (!(d->flags & DF_SEQ) || (p->flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)) ||
	    !(p->flags & TCPF_ACK) || p->payload_len > 1)
		return false;
	return p->seq == d->snd_nxt - 1;
}

void flow_update(struct flow *f, int dir, const struct tcp_packet *p, uint64_t ts_us)
{
	struct flow_dir *d = &f->dir[dir];
	const struct flow_dir *peer = &f->dir[!dir];
	/* Both sides ACKed, or (when only handshakes are seen) the peer answered
	 * this side's earlier SYN with a SYN/ACK. */
	bool synchronized = ((f->dir[0].flags & DF_ACK) && (f->dir[1].flags & DF_ACK)) ||
			    ((peer->flags & (DF_SYN | DF_ACK)) == (DF_SYN | DF_ACK));

	/* A FIN again, ending no further than what was sent: retransmitted. */
	if ((p->flags & TCPF_FIN) && (d->flags & DF_FIN) && (d->flags & DF_SEQ) &&
	    !(p->flags & TCPF_RST) && !seq_after(p->seq + tcp_seg_len(p), d->snd_nxt))
		f->fin_retx |= (uint8_t)(1u << dir);
	d->pkts++;
	d->last_ts = ts_us;
	if (ts_us > f->last_ts) {
		uint64_t gap_ms = (ts_us - f->last_ts) / 1000;

		f->idle_before_last_ms = gap_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)gap_ms;
		f->last_ts = ts_us;
	}
	d->flags |= DF_SEEN;

	if (p->flags & TCPF_RST) {
		/* A reset moves no sequence state and no TTL / IP ID baseline:
		 * a forged one must not poison what the next is judged by. */
		if ((d->flags & DF_RST) && p->seq != d->rst_seq)
			d->rst_seq_jumps = sat_inc8(d->rst_seq_jumps);
		d->flags |= DF_RST;
		d->rst_seq = p->seq;
		d->rst_ts = ts_us;
		d->rsts = sat_inc16(d->rsts);
		return;
	}

	if (d->pkts - d->rsts == 1) {
		d->ttl_first = d->ttl_min = d->ttl_max = p->ttl;
	} else {
		if (p->ttl < d->ttl_min)
			d->ttl_min = p->ttl;
		if (p->ttl > d->ttl_max)
			d->ttl_max = p->ttl;
	}
	d->ttl_last = p->ttl;
	d->ipid = p->ipid;
	if (p->opt.has_timestamps) {
		uint64_t at_ms = (ts_us > f->first_ts ? ts_us - f->first_ts : 0) / 1000 + 1;

		d->tsval = p->opt.tsval;
		d->tsval_ms = at_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)at_ms;
	}
	if (p->family == 4 && p->ipid == 0)
		d->ipid_zero = sat_inc8(d->ipid_zero);

	if (p->flags & TCPF_SYN) {
		if ((d->flags & DF_SYN) && d->isn != p->seq && synchronized)
			d->flags |= DF_SYN_RETX;
		d->isn = p->seq;
		d->flags |= DF_SYN;
		d->wscale = p->opt.has_wscale ? p->opt.wscale : 0xff;
		/* The first SYN/ACK answering the SYN that opened the flow: the
		 * round trip from here to the responder and back. */
		if (dir == DIR_RESP && (p->flags & TCPF_ACK) && !f->handshake_rtt_us &&
		    (f->dir[DIR_ORIG].flags & DF_SYN) && ts_us >= f->first_ts) {
			uint64_t rtt = ts_us - f->first_ts;

			f->handshake_rtt_us = rtt == 0 ? 1 : rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
		}
	}
	if (is_keepalive(d, p)) {
		/* The same segment probes a zero window: the peer's last
		 * window 0 says which (Linux's tcp_xmit_probe_skb sends both).
		 * The count is of the probes of the latest kind. */
		uint8_t bit = (uint8_t)(1u << dir);
		uint8_t zero = (peer->flags & DF_ACK) && peer->win == 0 ? bit : 0;

		if ((f->zero_window_probed & bit) != zero)
			d->keepalives = 0;
		f->zero_window_probed = (uint8_t)((f->zero_window_probed & ~bit) | zero);
		d->keepalives = sat_inc16(d->keepalives);
	} else {
		uint32_t end = p->seq + tcp_seg_len(p);

		if (!(d->flags & DF_SEQ) || seq_after(end, d->snd_nxt) ||
		    ((p->flags & TCPF_SYN) && (d->flags & DF_SYN_RETX)))
			d->snd_nxt = end;
		d->flags |= DF_SEQ;
		if (p->payload_len) {
			d->last_data_ts = ts_us;
			d->flags |= DF_DATA;
			d->data_bytes = d->data_bytes > UINT32_MAX - p->payload_len
					? UINT32_MAX : d->data_bytes + p->payload_len;
		}
	}
	if (p->flags & TCPF_ACK) {
		if (!(d->flags & DF_ACK) || seq_after(p->ack, d->ack))
			d->ack = p->ack;
		d->flags |= DF_ACK;
	}
	if ((p->flags & TCPF_FIN) && !(d->flags & DF_FIN)) {
		d->flags |= DF_FIN;
		d->fin_ts = ts_us;
	}
	d->win = p->window;
}

uint32_t flow_expire(struct flow_table *t, uint64_t now_us, uint64_t idle_us)
{
	uint32_t n = 0;

	while (t->lru_head) {
		struct flow *f = entry(t, t->lru_head);

		if (now_us < f->last_ts || now_us - f->last_ts <= idle_us)
			break;
		release(t, f);
		n++;
	}
	t->st.expired += n;
	return n;
}

void flow_table_stats(const struct flow_table *t, struct flow_stats *out)
{
	*out = t->st;
}

size_t flow_bytes_per_flow(void)
{
	/* One entry plus, at worst, two bucket slots (the index is rounded up
	 * to a power of two not above twice the capacity). */
	return sizeof(struct flow) + 2 * sizeof(uint32_t);
}

const char *flow_state_name(const struct flow *f)
{
	uint8_t o = f->dir[DIR_ORIG].flags, r = f->dir[DIR_RESP].flags;

	if ((o | r) & DF_RST)
		return "CLOSE";
	if ((o & DF_FIN) && (r & DF_FIN))
		return "TIME_WAIT";
	if ((o | r) & DF_FIN)
		return "FIN_WAIT";
	if ((o & DF_ACK) && (r & DF_ACK))
		return "ESTABLISHED";
	if (r & DF_SYN)
		return "SYN_RECV";
	if (o & DF_SYN)
		return "SYN_SENT";
	return (o | r) & DF_SEEN ? "ESTABLISHED" : "NONE";
}
