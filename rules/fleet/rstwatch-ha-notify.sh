#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# keepalived's notify script for an rstwatch gateway pair (rules/fleet/
# keepalived.conf runs it from the directory of keepalived.conf):
#   rstwatch-ha-notify.sh primary|backup|fault
# It moves conntrack state with conntrackd; rstwatch itself needs no step:
# it runs on both gateways all the time, reads the entries (and the marks)
# conntrackd writes into the kernel, and judges what crosses its gateway.
# CONNTRACKD_CONF names conntrackd's configuration (its control socket);
# the default is Debian's.
conf=${CONNTRACKD_CONF:-/etc/conntrackd/conntrackd.conf}
ctd() {
	conntrackd -C "$conf" "$@" || echo "rstwatch-ha-notify: conntrackd $* failed" >&2
}

case $1 in
primary)
	# The peer's entries (kept in the external cache) into the kernel
	# table, so that the flows it carried go on here with their state and
	# their marks; then start over from the kernel's table and tell the
	# peer, when it comes back, what this gateway now holds.
	ctd -c
	ctd -f internal
	ctd -R
	ctd -B
	;;
backup)
	# Ask the new primary for its table; the flows this gateway carried
	# expire soon (PurgeTimeout) instead of lingering.
	ctd -n
	ctd -t
	;;
fault)
	ctd -t
	;;
*)
	echo "usage: $0 primary|backup|fault" >&2
	exit 2
	;;
esac
