#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "pcapng.h"

/* The file's first 4 bytes decide the reader. */
#define MAGIC_LEN		4
static const uint8_t pcapng_magic[MAGIC_LEN] = { 0x0a, 0x0d, 0x0d, 0x0a };

/* First size of the pcapng block buffer; it grows to the largest block met,
 * at most PCAPNG_MAX_BLOCK. */
#define BLOCK_BUF_INITIAL	(64 * 1024)

/* libpcap hands out DLT_* values; the decoder speaks LINKTYPE_* (what the
 * file says). They differ only for raw IP on some platforms. */
static int linktype_of(pcap_t *pc)
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

const char *capture_linktype_name(int linktype)
{
	const char *name;
	int dlt = linktype;

	if (linktype == LINK_RAW)
		dlt = DLT_RAW;
#ifdef DLT_LOOP
	else if (linktype == LINK_LOOP)
		dlt = DLT_LOOP;
#endif
	name = pcap_datalink_val_to_name(dlt);
	return name ? name : "unknown";
}

struct feed {
	struct pipeline *pl;
	struct lookahead *la;
	struct copies **copies;     /* allocated at the first packet whose direction is known */
	capture_event_cb cb;
	void *arg;
	struct capture_stats *st;
};

/* A decided event to the caller. */
static int emit(const struct rst_event *ev, void *arg)
{
	const struct feed *f = arg;

	f->st->resets++;
	return f->cb(ev, f->arg);
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

/* One captured frame through decode and the pipeline; dir is what the
 * capture's block says (pcapng epb_flags: 0, 1 in, 2 out). Non-zero: the
 * callback asked to stop. */
static int feed_frame(const struct feed *f, int linktype, const uint8_t *data, size_t caplen,
		      uint64_t ts_us, uint8_t dir)
{
	struct rst_context out = { .hook = HOOK_OUTPUT };
	const struct rst_context *ctx = NULL;
	struct tcp_packet pkt;
	enum decode_result dr;
	uint32_t in_ifindex;

	f->st->frames++;
	dr = decode_frame(linktype, data, caplen, &pkt);
	f->st->by_result[dr]++;
	if (dr == DECODE_LINKTYPE)
		count_unknown_linktype(f->st, linktype);
	if (dr != DECODE_OK)
		return 0;
	if (!pkt.link_dir && dir)
		pkt.link_dir = dir == 1 ? LINK_DIR_IN : LINK_DIR_OUT;
	if (pkt.link_dir) {
		if (!*f->copies && (*f->copies = malloc(sizeof(**f->copies))))
			copies_init(*f->copies);
		if (!*f->copies) {
			pkt.link_dir = LINK_DIR_UNKNOWN;   /* judged as without direction */
		} else if (copies_seen(*f->copies, &pkt, ts_us, &in_ifindex)) {
			/* Judged already, as it came in (or as the host sent it). */
			if ((pkt.flags & TCPF_RST) && pkt.link_dir == LINK_DIR_OUT)
				return lookahead_copy(f->la, &pkt, pkt.link_ifindex, ts_us, emit,
						      (void *)f) ? -1 : 0;
			return 0;
		} else if (pkt.link_dir == LINK_DIR_OUT) {
			/* Sent, never received: this host made it. */
			out.src_is_local = copies_src_is_local(*f->copies, &pkt);
			ctx = &out;
		}
	}
	return pipeline_packet_lookahead(f->pl, f->la, &pkt, ts_us, ctx, emit, (void *)f) ? -1 : 0;
}

/* ---- classic pcap: libpcap ---------------------------------------------- */

static enum capture_result read_pcap(FILE *fp, const struct feed *f, char *err, size_t errlen)
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
	linktype = linktype_of(pc);
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;

		if (feed_frame(f, linktype, data, h->caplen, ts, 0)) {
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

/* A stream that cannot seek back (a pipe) gives libpcap the bytes already
 * peeked at, then the rest. */
struct replay {
	FILE *fp;
	uint8_t head[MAGIC_LEN];
	size_t n, pos;
};

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
	struct replay *rp = cookie;
	size_t k = 0;

	while (rp->pos < rp->n && k < size)
		buf[k++] = (char)rp->head[rp->pos++];
	if (k < size)
		k += fread(buf + k, 1, size - k, rp->fp);
	if (k == 0 && ferror(rp->fp))
		return -1;
	return (ssize_t)k;
}

static int replay_close(void *cookie)
{
	struct replay *rp = cookie;

	if (rp->fp != stdin)
		fclose(rp->fp);
	free(rp);
	return 0;
}

/* fp positioned after the n peeked bytes, as a stream that starts at byte 0. */
static FILE *rewound(FILE *fp, const uint8_t *head, size_t n)
{
	static const cookie_io_functions_t io = { .read = replay_read, .close = replay_close };
	struct replay *rp;
	FILE *out;

	if (fseeko(fp, 0, SEEK_SET) == 0)
		return fp;
	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return NULL;
	rp->fp = fp;
	memcpy(rp->head, head, n);
	rp->n = n;
	out = fopencookie(rp, "r", io);
	if (!out)
		free(rp);
	return out;
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
				       const struct feed *f, char *err, size_t errlen)
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
		if (blk.is_packet &&
		    feed_frame(f, blk.linktype, blk.data, blk.caplen, blk.ts_us, blk.dir)) {
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

/* Opens path and reads it with the reader its first bytes call for. */
static enum capture_result read_capture(const char *path, const struct feed *f, char *err,
					size_t errlen)
{
	uint8_t head[MAGIC_LEN];
	FILE *fp, *pfp;
	size_t n;

	fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!fp) {
		snprintf(err, errlen, "%s", strerror(errno));
		return CAPTURE_UNREADABLE;
	}
	n = fread(head, 1, sizeof(head), fp);
	if (n == sizeof(head) && memcmp(head, pcapng_magic, sizeof(head)) == 0)
		return read_pcapng(fp, head, n, f, err, errlen);
	/* Classic pcap, or not a capture at all: libpcap says which. */
	pfp = rewound(fp, head, n);
	if (!pfp) {
		snprintf(err, errlen, "cannot reread the file header: %s", strerror(errno));
		if (fp != stdin)
			fclose(fp);
		return CAPTURE_UNREADABLE;
	}
	return read_pcap(pfp, f, err, errlen);
}

enum capture_result capture_explain(const char *path, struct pipeline *pl, capture_event_cb cb,
				    void *arg, struct capture_stats *st, char *err, size_t errlen)
{
	struct lookahead la;
	struct copies *copies = NULL;
	struct feed f = { .pl = pl, .la = &la, .copies = &copies, .cb = cb, .arg = arg, .st = st };
	enum capture_result res;

	memset(st, 0, sizeof(*st));
	lookahead_init(&la, LOOKAHEAD_MAX, LOOKAHEAD_WINDOW_US);
	res = read_capture(path, &f, err, errlen);
	/* The file's end (or the damage that ends it) closes every window. */
	if ((res == CAPTURE_OK || res == CAPTURE_TRUNCATED) && lookahead_flush(&la, emit, &f))
		res = CAPTURE_CALLBACK;
	st->lookahead = la.st;
	lookahead_free(&la);
	st->copies = copies ? copies->merged : 0;
	free(copies);
	return res;
}
