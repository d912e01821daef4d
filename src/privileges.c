/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "privileges.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <cap-ng.h>
#include <linux/capability.h>

/* Whether CAP_NET_ADMIN is the only capability permitted or inheritable
 * (an ambient CAP_NET_ADMIN stays: rstwatch executes nothing). */
static bool only_net_admin(void)
{
	unsigned c;

	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (c != CAP_NET_ADMIN && (capng_have_capability(CAPNG_PERMITTED, c) ||
					   capng_have_capability(CAPNG_INHERITABLE, c)))
			return false;
	return true;
}

int privileges_keep_net_admin(char *err, size_t errlen)
{
	bool bounding;

	capng_get_caps_process();
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN)) {
		snprintf(err, errlen, "needs CAP_NET_ADMIN: run it as root, or give the user "
			 "the capability (systemd: AmbientCapabilities=CAP_NET_ADMIN)");
		errno = EPERM;
		return -1;
	}
	/* Started with CAP_NET_ADMIN alone (systemd's CapabilityBoundingSet=
	 * and AmbientCapabilities=): nothing to drop, and no capset call for a
	 * system call filter to weigh. */
	if (!only_net_admin()) {
		/* Without CAP_SETPCAP the bounding set cannot shrink; it does not
		 * matter then: with no_new_privs nothing can be gained through it. */
		bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
		capng_clear(CAPNG_SELECT_ALL);
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN) ||
		    (bounding && capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, CAP_NET_ADMIN)) ||
		    capng_apply(bounding ? CAPNG_SELECT_ALL
					 : CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT)) {
			snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}
