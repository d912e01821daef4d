/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Netlink attribute helpers shared by the netfilter readers (ctnetlink,
 * nfnetlink_log): an attribute is kept in the table only if its payload has
 * the size its type promises, so later code only reads bytes that are there. */
#ifndef RSTWATCH_NLATTR_H
#define RSTWATCH_NLATTR_H

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <stdint.h>

static inline int nla_keep(const struct nlattr *attr, enum mnl_attr_data_type type,
			   const struct nlattr **tb)
{
	if (mnl_attr_validate(attr, type) == 0)
		tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static inline int nla_keep_len(const struct nlattr *attr, size_t len, const struct nlattr **tb)
{
	if (mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, len) == 0)
		tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

/* netfilter attributes carry integers in network byte order */
static inline uint32_t nla_get_be32(const struct nlattr *attr)
{
	return ntohl(mnl_attr_get_u32(attr));
}

#endif
