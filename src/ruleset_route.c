/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the kernel would have sent the packet a reset answers: one
 * RTM_GETROUTE (what `ip route get DST from SRC iif IF` asks), so that an
 * oifname match is decided instead of followed both ways. Live only: a
 * capture's host is not this one. */
#include "ruleset_route.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "nlquery.h"

static int oif_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct rtmsg))
		if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*(uint32_t *)data = mnl_attr_get_u32(a);
	return *(uint32_t *)data ? MNL_CB_STOP : MNL_CB_OK;
}

int route_oifname(int family, const uint8_t *saddr, const uint8_t *daddr, uint32_t iif,
		  char name[IF_NAMESIZE])
{
	char buf[4096] __attribute__((aligned(4)));
	unsigned alen = family == 6 ? 16 : 4;
	uint32_t oif = 0;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family == 6 ? AF_INET6 : AF_INET;
	rtm->rtm_dst_len = (unsigned char)(8 * alen);
	mnl_attr_put(nlh, RTA_DST, alen, daddr);
	if (iif) {
		/* As it came in: the forwarding decision, not this host's own. */
		rtm->rtm_src_len = (unsigned char)(8 * alen);
		mnl_attr_put(nlh, RTA_SRC, alen, saddr);
		mnl_attr_put_u32(nlh, RTA_IIF, iif);
	}
	if (nl_query(NETLINK_ROUTE, buf, sizeof(buf), nlh, oif_cb, &oif, NL_QUERY_TIMEOUT_MS) < 0)
		return -1;
	return oif && if_indextoname(oif, name) ? 0 : -1;
}
