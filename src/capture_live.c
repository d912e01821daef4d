/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Live capture from an interface with libpcap, for hosts that are not
 * gateways: the same classifier as for capture files, packets as they come. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "capture_internal.h"

/* Whole frames: a reset's payload may carry a diagnostic, and a tunnel's
 * inner headers come after the outer ones. */
#define LIVE_SNAPLEN 262144
/* How often a quiet interface looks at the clock (look-ahead windows) and the
 * stop flag: a signal interrupts poll() at once anyway. */
#define LIVE_POLL_MS 100

struct live {
	struct feed *f;
	pcap_t *pc;
	int linktype;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct live *lv = (struct live *)user;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;

	if (feed_frame(lv->f, lv->linktype, data, h->caplen, h->len, ts, 0))
		pcap_breakloop(lv->pc);
}

/* Opened, activated and filtered, or NULL with err. */
static pcap_t *open_live(const char *iface, const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	pcap_t *pc;
	int rc;

	pc = pcap_create(iface, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s", ebuf);
		return NULL;
	}
	/* Not promiscuous: a host's own connections are what it wants explained. */
	if (pcap_set_snaplen(pc, LIVE_SNAPLEN) || pcap_set_immediate_mode(pc, 1) ||
	    pcap_set_tstamp_precision(pc, PCAP_TSTAMP_PRECISION_MICRO)) {
		snprintf(err, errlen, "cannot set capture options: %s", pcap_geterr(pc));
		goto fail;
	}
	rc = pcap_activate(pc);
	if (rc < 0) {
		/* pcap_geterr is empty for some codes (no such device on older
		 * libpcap): the status text is the message then. */
		const char *why = pcap_geterr(pc), *status = pcap_statustostr(rc);

		if (*why && !strstr(why, status))
			snprintf(err, errlen, "%s: %s", status, why);
		else
			snprintf(err, errlen, "%s", *why ? why : status);
		goto fail;
	}
	if (filter) {
		if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN)) {
			snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
			goto fail;
		}
		rc = pcap_setfilter(pc, &prog);
		pcap_freecode(&prog);
		if (rc) {
			snprintf(err, errlen, "filter '%s': %s", filter, pcap_geterr(pc));
			goto fail;
		}
	}
	if (pcap_setnonblock(pc, 1, ebuf)) {
		snprintf(err, errlen, "%s", ebuf);
		goto fail;
	}
	return pc;
fail:
	pcap_close(pc);
	return NULL;
}

enum capture_result capture_live(const char *iface, struct pipeline *pl,
				 const struct capture_opts *opts, capture_event_cb cb, void *arg,
				 struct capture_stats *st, char *err, size_t errlen)
{
	struct feed f = { .pl = pl, .cb = cb, .arg = arg, .st = st, .live = true,
			  .err = err, .errlen = errlen, .stop = opts->stop };
	enum capture_result res = CAPTURE_OK;
	struct lookahead la;
	struct copies *copies;
	struct pcap_stat ps;
	struct pollfd p = { .events = POLLIN };
	struct live lv = { .f = &f };

	feed_begin(&f, &la, &copies);
	lv.pc = open_live(iface, opts->filter, err, errlen);
	if (!lv.pc)
		return feed_end(&f, CAPTURE_UNREADABLE);
	lv.linktype = capture_linktype_of(lv.pc);
	p.fd = pcap_get_selectable_fd(lv.pc);
	if (opts->ready)
		opts->ready(iface, lv.linktype, arg);
	while (!f.stopped && !(f.stop && *f.stop)) {
		if (poll(&p, 1, LIVE_POLL_MS) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			res = CAPTURE_TRUNCATED;
			break;
		}
		if (pcap_dispatch(lv.pc, -1, on_packet, (u_char *)&lv) == PCAP_ERROR) {
			snprintf(err, errlen, "%s", pcap_geterr(lv.pc));
			res = CAPTURE_TRUNCATED;
			break;
		}
		if (feed_idle(&f))
			break;
	}
	if (pcap_stats(lv.pc, &ps) == 0)
		st->dropped = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	pcap_close(lv.pc);
	return feed_end(&f, res);
}
