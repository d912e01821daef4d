/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "capture_internal.h"
#include "pcapng.h"

/* The file's first 4 bytes decide the reader. */
#define MAGIC_LEN		4
static const uint8_t pcapng_magic[MAGIC_LEN] = { 0x0a, 0x0d, 0x0d, 0x0a };

/* First size of the pcapng block buffer; it grows to the largest block met,
 * at most PCAPNG_MAX_BLOCK. */
#define BLOCK_BUF_INITIAL	(64 * 1024)

/* libpcap hands out DLT_* values; the decoder speaks LINKTYPE_* (what the
 * file says). They differ only for raw IP on some platforms. */
int capture_linktype_of(pcap_t *pc)
{
	int dlt = pcap_datalink(pc);

	switch (dlt) {
	case DLT_RAW:
		return LINK_RAW;
#ifdef DLT_LOOP
	case DLT_LOOP:
		return LINK_LOOP;
#endif
	default:
		return dlt;
	}
}

int capture_dlt_of(int linktype)
{
	if (linktype == LINK_RAW)
		return DLT_RAW;
#ifdef DLT_LOOP
	if (linktype == LINK_LOOP)
		return DLT_LOOP;
#endif
	return linktype;
}

const char *capture_linktype_name(int linktype)
{
	const char *name = pcap_datalink_val_to_name(capture_dlt_of(linktype));

	return name ? name : "unknown";
}

static uint64_t monotonic_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

/* A decided event to the caller. */
static int emit(const struct rst_event *ev, void *arg)
{
	const struct feed *f = arg;
	struct rst_event named = *ev;

	f->st->resets++;
	named.pcap_filename = f->name;
	return f->cb(&named, f->arg);
}

static void count_unknown_linktype(struct capture_stats *st, int linktype)
{
	unsigned int i;

	for (i = 0; i < st->n_unknown_linktypes; i++) {
		if (st->unknown_linktypes[i].linktype == linktype) {
			st->unknown_linktypes[i].frames++;
			return;
		}
	}
	if (st->n_unknown_linktypes < CAPTURE_LINKTYPES_MAX) {
		st->unknown_linktypes[i].linktype = linktype;
		st->unknown_linktypes[i].frames = 1;
		st->n_unknown_linktypes++;
	}
}

static int stop(struct feed *f, enum capture_result why)
{
	f->stopped = true;
	f->why_stopped = why;
	return -1;
}

int feed_frame(struct feed *f, int linktype, const uint8_t *data, uint32_t caplen,
	       uint32_t wirelen, uint64_t ts_us, uint8_t dir)
{
	struct rst_context out = { .hook = HOOK_OUTPUT };
	const struct rst_context *ctx = NULL;
	struct tcp_packet pkt;
	enum decode_result dr;
	uint32_t in_ifindex;
	int rc;

	f->st->frames++;
	if (f->live) {
		f->last_ts_us = ts_us;
		f->last_read_us = monotonic_us();
	}
	if (f->filter && f->filter->expr) {
		rc = capture_filter_match(f->filter, linktype, data, caplen, wirelen, f->err,
					  f->errlen);
		if (rc < 0)
			return stop(f, CAPTURE_FILTER);
		if (rc == 0) {
			f->st->filtered++;
			return 0;
		}
	}
	dr = decode_frame(linktype, data, caplen, &pkt);
	f->st->by_result[dr]++;
	if (dr == DECODE_LINKTYPE)
		count_unknown_linktype(f->st, linktype);
	if (dr != DECODE_OK)
		return 0;
	f->st->tunnelled[pkt.tunnel.type]++;
	if (!pkt.link_dir && dir)
		pkt.link_dir = dir == 1 ? LINK_DIR_IN : LINK_DIR_OUT;
	if (pkt.link_dir) {
		if (!*f->copies && (*f->copies = malloc(sizeof(**f->copies))))
			copies_init(*f->copies);
		if (!*f->copies) {
			pkt.link_dir = LINK_DIR_UNKNOWN;   /* judged as without direction */
		} else if (copies_seen(*f->copies, &pkt, ts_us, &in_ifindex)) {
			/* Judged already, as it came in (or as the host sent it). */
			if ((pkt.flags & TCPF_RST) && pkt.link_dir == LINK_DIR_OUT &&
			    lookahead_copy(f->la, &pkt, pkt.link_ifindex, ts_us, emit, f))
				return stop(f, CAPTURE_CALLBACK);
			return 0;
		} else if (pkt.link_dir == LINK_DIR_OUT) {
			/* Sent, never received: this host made it. */
			out.src_is_local = copies_src_is_local(*f->copies, &pkt);
			ctx = &out;
		}
	}
	if (pipeline_packet_lookahead(f->pl, f->la, &pkt, ts_us, ctx, emit, f))
		return stop(f, CAPTURE_CALLBACK);
	return 0;
}

int feed_idle(struct feed *f)
{
	uint64_t now;

	if (!f->last_read_us || !f->la->n)
		return 0;
	now = f->last_ts_us + (monotonic_us() - f->last_read_us);
	return lookahead_advance(f->la, now, emit, f) ? stop(f, CAPTURE_CALLBACK) : 0;
}

void feed_begin(struct feed *f, struct lookahead *la, struct copies **copies)
{
	memset(f->st, 0, sizeof(*f->st));
	*copies = NULL;
	f->copies = copies;
	f->la = la;
	lookahead_init(la, LOOKAHEAD_MAX, LOOKAHEAD_WINDOW_US);
}

enum capture_result feed_end(struct feed *f, enum capture_result res)
{
	if (f->stopped)
		res = f->why_stopped;
	/* The capture's end (or the damage that ends it) closes every window. */
	if ((res == CAPTURE_OK || res == CAPTURE_TRUNCATED) && lookahead_flush(f->la, emit, f))
		res = CAPTURE_CALLBACK;
	f->st->lookahead = f->la->st;
	lookahead_free(f->la);
	f->st->copies = *f->copies ? (*f->copies)->merged : 0;
	free(*f->copies);
	*f->copies = NULL;
	return res;
}

/* ---- classic pcap: libpcap ---------------------------------------------- */

static enum capture_result read_pcap(FILE *fp, struct feed *f, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	enum capture_result res = CAPTURE_OK;
	pcap_t *pc;
	int linktype, rc;

	pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s", ebuf[0] ? ebuf : "cannot open");
		if (fp != stdin)
			fclose(fp);
		return CAPTURE_UNREADABLE;
	}
	linktype = capture_linktype_of(pc);
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;

		if (feed_frame(f, linktype, data, h->caplen, h->len, ts, 0)) {
			res = CAPTURE_CALLBACK;
			break;
		}
	}
	if (rc == PCAP_ERROR) {
		/* libpcap reports a cut record as an error after the good ones. */
		snprintf(err, errlen, "%s", pcap_geterr(pc));
		f->st->truncated = true;
		res = CAPTURE_TRUNCATED;
	}
	pcap_close(pc);		/* closes fp, unless it is stdin */
	return res;
}

/* ---- streams that cannot seek back ---------------------------------------
 * A pipe (`tcpdump -w - | rstwatch explain -`) is read through a stdio stream
 * of our own that first gives the bytes already peeked at. Its reads are
 * single read(2)s of what the pipe holds, never waits for a full stdio
 * buffer: each record reaches the reader as soon as it is written. Between
 * them it polls, so that a quiet pipe still closes look-ahead windows
 * (feed_idle) and a stop request ends the capture. */

/* How often a quiet live source looks at the clock and the stop flag. */
#define LIVE_TICK_MS 100

struct replay {
	int fd;
	struct feed *f;
	uint8_t head[MAGIC_LEN];
	size_t n, pos;
};

static bool stop_asked(const struct feed *f)
{
	return f->stopped || (f->stop && *f->stop);
}

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
	struct replay *rp = cookie;
	struct pollfd p = { .fd = rp->fd, .events = POLLIN };
	size_t k = 0;
	ssize_t got;
	int rc;

	while (rp->pos < rp->n && k < size)
		buf[k++] = (char)rp->head[rp->pos++];
	if (k)
		return (ssize_t)k;
	for (;;) {
		if (stop_asked(rp->f))
			return 0;		/* read as the end of the stream */
		rc = poll(&p, 1, LIVE_TICK_MS);
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc > 0) {
			got = read(rp->fd, buf, size);
			if (got >= 0 || errno != EINTR)
				return got;
		} else if (rc == 0 && feed_idle(rp->f)) {
			return 0;
		}
	}
}

static int replay_close(void *cookie)
{
	free(cookie);
	return 0;
}

/* fd's bytes as a stream; the first n of them, head, already read are given
 * again if replay. */
static FILE *stream_of(int fd, struct feed *f, const uint8_t *head, size_t n, bool replay)
{
	static const cookie_io_functions_t io = { .read = replay_read, .close = replay_close };
	struct replay *rp;
	FILE *out;

	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return NULL;
	rp->fd = fd;
	rp->f = f;
	memcpy(rp->head, head, n);
	rp->n = n;
	rp->pos = replay ? 0 : n;
	out = fopencookie(rp, "r", io);
	if (!out)
		free(rp);
	return out;
}

/* The first bytes of a pipe, read without stdio buffering anything beyond. */
static size_t read_head(int fd, uint8_t *head, size_t want)
{
	size_t n = 0;
	ssize_t got;

	while (n < want) {
		got = read(fd, head + n, want - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	return n;
}

/* ---- pcapng: our block reader ------------------------------------------- */

/* What was cut: the file ended after have of the want bytes of the block at
 * the reader's offset. */
static void describe_cut(const struct pcapng *r, const struct pcapng_block *blk, size_t have,
			 char *err, size_t errlen)
{
	if (have < PCAPNG_BLOCK_MIN)
		snprintf(err, errlen, "file ends %zu bytes into the block header at offset %llu "
			 "(a block has at least %u bytes)", have, (unsigned long long)r->offset,
			 PCAPNG_BLOCK_MIN);
	else
		snprintf(err, errlen, "file ends inside the %s (type 0x%08x) at offset %llu: "
			 "%zu of its %u bytes", pcapng_block_name(blk->type), blk->type,
			 (unsigned long long)r->offset, have, blk->len);
}

/* Streams fp block by block through one reusable buffer: memory grows with
 * the largest block, not with the number of packets. head holds the n bytes
 * already read. Before a valid Section Header Block the file is not a
 * capture (UNREADABLE); after it, any damage is TRUNCATED. */
static enum capture_result read_pcapng(FILE *fp, const uint8_t *head, size_t n,
				       struct feed *f, char *err, size_t errlen)
{
	enum capture_result res = CAPTURE_OK;
	struct pcapng r;
	struct pcapng_block blk;
	enum pcapng_status ps;
	size_t cap = BLOCK_BUF_INITIAL, have = n, got;
	uint8_t *buf;

	buf = malloc(cap);
	if (!buf) {
		snprintf(err, errlen, "cannot allocate %zu bytes: %s", cap, strerror(errno));
		return CAPTURE_UNREADABLE;
	}
	memcpy(buf, head, n);
	pcapng_init(&r);
	for (;;) {
		ps = pcapng_next(&r, buf, have, &blk, err, errlen);
		if (ps == PCAPNG_MORE) {
			if (blk.len > cap) {
				size_t ncap = cap * 2 > blk.len ? cap * 2 : blk.len;
				uint8_t *nbuf;

				if (ncap > PCAPNG_MAX_BLOCK)
					ncap = PCAPNG_MAX_BLOCK;
				nbuf = realloc(buf, ncap);
				if (!nbuf) {
					snprintf(err, errlen, "cannot allocate %zu bytes for the "
						 "block at offset %llu: %s", ncap,
						 (unsigned long long)r.offset, strerror(errno));
					res = CAPTURE_TRUNCATED;
					break;
				}
				buf = nbuf;
				cap = ncap;
			}
			got = fread(buf + have, 1, blk.len - have, fp);
			have += got;
			if (have == blk.len)
				continue;
			if (ferror(fp)) {
				snprintf(err, errlen, "read error at offset %llu: %s",
					 (unsigned long long)(r.offset + have), strerror(errno));
				res = CAPTURE_TRUNCATED;
			} else if (have == 0) {
				break;		/* the end, between two blocks */
			} else {
				describe_cut(&r, &blk, have, err, errlen);
				res = CAPTURE_TRUNCATED;
			}
			break;
		}
		if (ps == PCAPNG_NOT_PCAPNG) {
			res = CAPTURE_UNREADABLE;	/* err says why */
			break;
		}
		if (ps != PCAPNG_OK) {
			res = CAPTURE_TRUNCATED;
			break;
		}
		if (blk.is_packet && feed_frame(f, blk.linktype, blk.data, blk.caplen, blk.origlen,
						blk.ts_us, blk.dir)) {
			res = CAPTURE_CALLBACK;
			break;
		}
		have = 0;
	}
	if (res == CAPTURE_TRUNCATED) {
		if (!r.started) {
			/* Not even a section header: not a capture we can read. */
			char why[400];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "not a pcapng capture: %s", why);
			res = CAPTURE_UNREADABLE;
		} else {
			f->st->truncated = true;
		}
	}
	pcapng_free(&r);
	free(buf);
	if (fp != stdin)
		fclose(fp);
	return res;
}

/* A pipe (or another stream that cannot seek back): read live. */
static enum capture_result read_stream(FILE *fp, struct feed *f, char *err, size_t errlen)
{
	enum capture_result res;
	uint8_t head[MAGIC_LEN];
	bool ng;
	size_t n;
	FILE *s;

	f->live = true;
	n = read_head(fileno(fp), head, sizeof(head));
	ng = n == sizeof(head) && memcmp(head, pcapng_magic, sizeof(head)) == 0;
	s = stream_of(fileno(fp), f, head, n, !ng);
	if (!s) {
		snprintf(err, errlen, "cannot set up the stream reader: %s", strerror(errno));
		res = CAPTURE_UNREADABLE;
	} else {
		/* Both readers close s. */
		res = ng ? read_pcapng(s, head, n, f, err, errlen) : read_pcap(s, f, err, errlen);
	}
	if (fp != stdin)
		fclose(fp);
	return res;
}

/* Opens path and reads it with the reader its first bytes call for. */
static enum capture_result read_capture(const char *path, struct feed *f, char *err,
					size_t errlen)
{
	uint8_t head[MAGIC_LEN];
	FILE *fp;
	size_t n;

	fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!fp) {
		snprintf(err, errlen, "%s", strerror(errno));
		return CAPTURE_UNREADABLE;
	}
	if (lseek(fileno(fp), 0, SEEK_CUR) < 0 && errno == ESPIPE)
		return read_stream(fp, f, err, errlen);
	n = fread(head, 1, sizeof(head), fp);
	if (n == sizeof(head) && memcmp(head, pcapng_magic, sizeof(head)) == 0)
		return read_pcapng(fp, head, n, f, err, errlen);
	/* Classic pcap, or not a capture at all: libpcap says which. */
	if (fseeko(fp, 0, SEEK_SET)) {
		snprintf(err, errlen, "cannot reread the file header: %s", strerror(errno));
		if (fp != stdin)
			fclose(fp);
		return CAPTURE_UNREADABLE;
	}
	return read_pcap(fp, f, err, errlen);
}

enum capture_result capture_explain(const char *path, struct pipeline *pl,
				    const struct capture_opts *opts, capture_event_cb cb, void *arg,
				    struct capture_stats *st, char *err, size_t errlen)
{
	struct capture_filter filter = { .expr = opts ? opts->filter : NULL };
	struct feed f = { .pl = pl, .cb = cb, .arg = arg, .st = st, .name = path,
			  .filter = &filter, .err = err, .errlen = errlen,
			  .stop = opts ? opts->stop : NULL };
	struct lookahead la;
	struct copies *copies;
	enum capture_result res;

	feed_begin(&f, &la, &copies);
	res = read_capture(path, &f, err, errlen);
	if (f.live && f.stop && *f.stop && res == CAPTURE_TRUNCATED) {
		/* Stopped on request, perhaps inside a record: not damage. */
		st->truncated = false;
		res = CAPTURE_OK;
	}
	res = feed_end(&f, res);
	capture_filter_free(&filter);
	return res;
}
