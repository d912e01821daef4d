#include "capture.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

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

enum capture_result capture_explain(const char *path, struct pipeline *pl, capture_event_cb cb,
				    void *arg, struct capture_stats *st, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *data;
	enum capture_result res = CAPTURE_OK;
	pcap_t *pc;
	int linktype, rc;

	memset(st, 0, sizeof(*st));
	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s", ebuf[0] ? ebuf : "cannot open");
		return CAPTURE_UNREADABLE;
	}
	linktype = linktype_of(pc);
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct tcp_packet pkt;
		struct rst_event ev;
		enum decode_result dr;
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;

		st->frames++;
		dr = decode_frame(linktype, data, h->caplen, &pkt);
		st->by_result[dr]++;
		if (dr != DECODE_OK)
			continue;
		if (pipeline_packet(pl, &pkt, ts, NULL, &ev)) {
			st->resets++;
			if (cb(&ev, arg)) {
				res = CAPTURE_CALLBACK;
				break;
			}
		}
	}
	if (rc == PCAP_ERROR) {
		/* libpcap reports a cut record as an error after the good ones. */
		snprintf(err, errlen, "%s", pcap_geterr(pc));
		st->truncated = true;
		res = CAPTURE_TRUNCATED;
	}
	pcap_close(pc);
	return res;
}
