/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rstwatch run needs one capability, CAP_NET_ADMIN (netlink to nfnetlink,
 * ctnetlink and nftables, SO_RCVBUFFORCE). Started as root, it keeps only
 * that for the rest of its life; started as an unprivileged user with
 * CAP_NET_ADMIN (systemd's AmbientCapabilities=), it has nothing else to
 * drop. */
#ifndef RSTWATCH_PRIVILEGES_H
#define RSTWATCH_PRIVILEGES_H

#include <stddef.h>

/* Before any thread starts (capabilities are per thread; threads inherit
 * them): every capability but CAP_NET_ADMIN leaves the effective, permitted,
 * inheritable and ambient sets, and the bounding set where this process may
 * change it (CAP_SETPCAP); no_new_privs is set. -1 with a message in err
 * when CAP_NET_ADMIN is missing or the kernel refuses. */
int privileges_keep_net_admin(char *err, size_t errlen);

#endif
