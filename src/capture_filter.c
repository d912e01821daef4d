/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capture filters: libpcap compiles the expression (tcpdump's syntax) for
 * each link type a capture holds, and runs it on each frame. */
#include <stdio.h>
#include <string.h>

#include "capture_internal.h"

/* Filters are compiled for a frame of at most this many bytes. */
#define FILTER_SNAPLEN 262144

static int compile(int dlt, const char *expr, struct bpf_program *prog, char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(dlt, FILTER_SNAPLEN);
	int rc;

	if (!dead) {
		snprintf(err, errlen, "cannot set up a filter for link type %d", dlt);
		return -1;
	}
	rc = pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc)
		snprintf(err, errlen, "%s", pcap_geterr(dead));
	pcap_close(dead);
	return rc ? -1 : 0;
}

int capture_filter_check(const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (compile(DLT_EN10MB, expr, &prog, err, errlen))
		return -1;
	pcap_freecode(&prog);
	return 0;
}

int capture_filter_match(struct capture_filter *cf, int linktype, const uint8_t *data,
			 uint32_t caplen, uint32_t wirelen, char *err, size_t errlen)
{
	struct pcap_pkthdr h = { .caplen = caplen, .len = wirelen };
	char why[PCAP_ERRBUF_SIZE + 64];
	unsigned int i;

	for (i = 0; i < cf->n && cf->progs[i].linktype != linktype; i++)
		;
	if (i == cf->n) {
		if (cf->n == CAPTURE_LINKTYPES_MAX) {
			snprintf(err, errlen, "filter: more than %d link types in one capture",
				 CAPTURE_LINKTYPES_MAX);
			return -1;
		}
		if (compile(capture_dlt_of(linktype), cf->expr, &cf->progs[i].prog, why,
			    sizeof(why))) {
			snprintf(err, errlen, "filter '%s' does not apply to link type %d (%s): %s",
				 cf->expr, linktype, capture_linktype_name(linktype), why);
			return -1;
		}
		cf->progs[i].linktype = linktype;
		cf->n++;
	}
	return pcap_offline_filter(&cf->progs[i].prog, &h, data) != 0;
}

void capture_filter_free(struct capture_filter *cf)
{
	unsigned int i;

	for (i = 0; i < cf->n; i++)
		pcap_freecode(&cf->progs[i].prog);
	cf->n = 0;
}
