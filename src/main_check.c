/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rstwatch check: which kernel features 'run' needs exist here. */
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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
"Needs CAP_NET_ADMIN: without it, it says so and exits 1.\n"
"\n"
"Exit status: 0 'run' can work here; 1 it cannot (or no CAP_NET_ADMIN);\n"
"2 bad usage.\n";

#define PROBE_QUEUE 65000

/* Is CAP_NET_ADMIN in this process's effective set? (capget: no libcap.) */
static bool have_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN);
}

/* The kernel's errno as the reason an operator can act on. */
static const char *probe_error(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return "not permitted (needs CAP_NET_ADMIN in this network namespace)";
	case ENOENT:
		return "not in this kernel (module not loaded, or not built)";
	case EOPNOTSUPP:
		return "not supported by this kernel";
	case EPROTONOSUPPORT:
	case EAFNOSUPPORT:
		return "netlink subsystem missing (module not loaded, or not built)";
	case EBUSY:
		return "in use by another program";
	case ETIMEDOUT:
		return "the kernel did not answer";
	default:
		return strerror(e);
	}
}

int cmd_check(int argc, char **argv)
{
	struct rules_probe p;
	struct nfqueue_config qc;
	struct nfqueue *q = NULL;
	struct nflog_reader *lr = NULL;
	struct nflog_config lc = { .group = PROBE_QUEUE };
	struct ct_handle *ct;
	enum rules_queue_impl impl;
	bool ok = true;

	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			fputs(usage_check, stdout);
			return EXIT_OKAY;
		}
		fprintf(stderr, "rstwatch check: unexpected argument '%s'\n", argv[1]);
		return usage_hint("check");
	}
	if (!have_net_admin()) {
		printf("rstwatch check: this process lacks CAP_NET_ADMIN, which every probe "
		       "(and 'rstwatch run') needs: run it as root\n");
		return EXIT_PARTIAL;
	}
	if (rules_probe(&p)) {
		printf("nftables          cannot probe: %s\n", probe_error(errno));
		return EXIT_PARTIAL;
	}
	printf("nft queue         %s\n", p.native_queue_err ? probe_error(p.native_queue_err)
							 : "yes");
	printf("xt NFQUEUE rev 3  %s\n", p.xt_nfqueue_err ? probe_error(p.xt_nfqueue_err)
							 : "yes");
	impl = rules_probe_choose(&p);
	printf("  -> divert rule uses %s\n", impl == RULES_QUEUE_NATIVE ? "nft queue"
		: impl == RULES_QUEUE_XT ? "xt NFQUEUE (fallback)" : "NOTHING: cannot queue");
	if (impl == RULES_QUEUE_AUTO)
		ok = false;
	nfqueue_config_default(&qc, PROBE_QUEUE);
	if (nfqueue_open(&q, &qc)) {
		printf("NFQUEUE bind      %s\n", probe_error(errno));
		ok = false;
	} else {
		printf("NFQUEUE bind      yes (fail-open, GSO)\n");
		nfqueue_close(q);
		qc.ct_glue = true;
		if (nfqueue_open(&q, &qc)) {
			printf("conntrack glue    %s: ctnetlink is used instead (fine)\n",
			       probe_error(errno));
		} else {
			printf("conntrack glue    yes (unused: ctnetlink gives context and marks)\n");
			nfqueue_close(q);
		}
	}
	ct = ct_open();
	if (!ct) {
		printf("ctnetlink         %s: no conntrack context, no marks\n",
		       probe_error(errno));
	} else {
		printf("ctnetlink         yes (conntrack context by GET, marks by CT_NEW + mask)\n");
		ct_close(ct);
	}
	if (nflog_open(&lr, &lc)) {
		printf("nflog             %s: new-flow firewall rejects will not be seen\n",
		       probe_error(errno));
	} else {
		printf("nflog             yes\n");
		nflog_close(lr);
	}
	printf("%s\n", ok ? "rstwatch run can work here" : "rstwatch run CANNOT work here");
	return ok ? EXIT_OKAY : EXIT_PARTIAL;
}
