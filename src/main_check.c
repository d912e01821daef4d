/* rstwatch check: which kernel features 'run' needs exist here. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ct.h"
#include "install.h"
#include "main.h"
#include "nflog.h"
#include "queue.h"

const char usage_check[] =
"usage: rstwatch check\n"
"\n"
"Probes this kernel (in the current network namespace) for what 'rstwatch run'\n"
"needs, says which fallback it will use, and exits 1 if it cannot work here:\n"
"  queue statement   nft 'queue' (nft_queue), else the xt NFQUEUE target through\n"
"                    nft_compat; one of them is required\n"
"  NFQUEUE           binding a queue (nfnetlink_queue); required\n"
"  conntrack glue    NFQA_CFG_F_CONNTRACK; without it ctnetlink is used (fine)\n"
"  ctnetlink         conntrack lookups and marks; without it no context, no tags\n"
"  nflog             the log group that copies this host's new-flow rejects\n"
"Needs CAP_NET_ADMIN.\n";

int cmd_check(int argc, char **argv)
{
	struct rules_probe p;
	struct nfqueue_config qc;
	struct nfqueue *q = NULL;
	struct nflog_reader *lr = NULL;
	struct nflog_config lc = { .group = 65000 };
	struct ct_handle *ct;
	enum rules_queue_impl impl;
	bool ok = true;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_check, stdout);
		return EXIT_OKAY;
	}
	if (rules_probe(&p)) {
		printf("nftables          cannot probe: %s\n", strerror(errno));
		return EXIT_PARTIAL;
	}
	printf("nft queue         %s\n", p.native_queue_err ? strerror(p.native_queue_err)
							 : "yes");
	printf("xt NFQUEUE rev 3  %s\n", p.xt_nfqueue_err ? strerror(p.xt_nfqueue_err) : "yes");
	impl = rules_probe_choose(&p);
	printf("  -> divert rule uses %s\n", impl == RULES_QUEUE_NATIVE ? "nft queue"
		: impl == RULES_QUEUE_XT ? "xt NFQUEUE (fallback)" : "NOTHING: cannot queue");
	if (impl == RULES_QUEUE_AUTO)
		ok = false;
	nfqueue_config_default(&qc, 65000);
	if (nfqueue_open(&q, &qc)) {
		printf("NFQUEUE bind      %s\n", strerror(errno));
		ok = false;
	} else {
		printf("NFQUEUE bind      yes (fail-open, GSO)\n");
		nfqueue_close(q);
	}
	ct = ct_open();
	if (!ct) {
		printf("ctnetlink         %s: no conntrack context, no marks\n", strerror(errno));
	} else {
		printf("ctnetlink         yes (conntrack context by GET, marks by CT_NEW + mask)\n");
		ct_close(ct);
	}
	if (nflog_open(&lr, &lc)) {
		printf("nflog             %s: new-flow firewall rejects will not be seen\n",
		       strerror(errno));
	} else {
		printf("nflog             yes\n");
		nflog_close(lr);
	}
	printf("%s\n", ok ? "rstwatch run can work here" : "rstwatch run CANNOT work here");
	return ok ? EXIT_OKAY : EXIT_PARTIAL;
}
