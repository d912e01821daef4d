# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared by the fleet tests (source it after lib.sh): two gateways side by
# side between one client LAN and one server LAN, a dedicated link between
# them (conntrackd), and a management LAN to a collector (rsyslog,
# Prometheus). The addresses are those of the samples in rules/fleet/, which
# the tests use as they are:
#
#   client     bridge lan   198.51.100.2/24   2001:db8:1::2/64
#   gw1/gw2    lan0         198.51.100.11/12  2001:db8:1::11/12
#              wan0         203.0.113.11/12   2001:db8:2::11/12
#              ha0          192.0.2.1/2 (/30, the pair's own veth)
#              mgmt0        192.0.2.11/12 (/29)
#   server     bridge wan   203.0.113.2/24    2001:db8:2::2/64
#   collector  bridge mgmt  192.0.2.10/29
#
# The virtual addresses (keepalived) are 198.51.100.1, 203.0.113.1,
# 2001:db8:1::1 and 2001:db8:2::1.
# Each gateway's rstwatch has its own control socket, event log and metrics
# address (its mgmt0 address, port 9386).
G1=$tag-gw1 G2=$tag-gw2 K=$tag-col
G=$G1
VIP_LAN=198.51.100.1 VIP_WAN=203.0.113.1 VIP6_LAN=2001:db8:1::1 VIP6_WAN=2001:db8:2::1
GW_LAN4=(- 198.51.100.11 198.51.100.12) GW_LAN6=(- 2001:db8:1::11 2001:db8:1::12)
GW_WAN4=(- 203.0.113.11 203.0.113.12) GW_WAN6=(- 2001:db8:2::11 2001:db8:2::12)
GW_MGMT=(- 192.0.2.11 192.0.2.12) GW_NS=(- "$G1" "$G2")
COLLECTOR=192.0.2.10
cleanup_hooks+=('ip netns del "$G2"; ip netns del "$K"')

# fleet_up: the namespaces and links above, forwarding on, no routes on the
# client and server yet (routes_via chooses the path).
fleet_up() {
	[ -x "$PY" ] || skip "needs Debian's $PY"
	ip netns add "$C" 2>/dev/null || skip "cannot create network namespaces"
	local ns n l
	for ns in "$G1" "$G2" "$S" "$K"; do ip netns add "$ns" || fail "ip netns add $ns"; done
	{
		for ns in "$C" "$G1" "$G2" "$S" "$K"; do ip -n "$ns" link set lo up; done
		ip -n "$C" link add lan type bridge && ip -n "$C" link set lan up
		ip -n "$S" link add wan type bridge && ip -n "$S" link set wan up
		ip -n "$K" link add mgmt type bridge && ip -n "$K" link set mgmt up
		for n in 1 2; do
			ns=${GW_NS[n]}
			ip link add lan0 netns "$ns" type veth peer name "gw$n" netns "$C"
			ip link add wan0 netns "$ns" type veth peer name "gw$n" netns "$S"
			ip link add mgmt0 netns "$ns" type veth peer name "gw$n" netns "$K"
			ip -n "$C" link set "gw$n" master lan up
			ip -n "$S" link set "gw$n" master wan up
			ip -n "$K" link set "gw$n" master mgmt up
			ip -n "$ns" addr add "${GW_LAN4[n]}/24" dev lan0
			ip -n "$ns" addr add "${GW_LAN6[n]}/64" dev lan0 nodad
			ip -n "$ns" addr add "${GW_WAN4[n]}/24" dev wan0
			ip -n "$ns" addr add "${GW_WAN6[n]}/64" dev wan0 nodad
			ip -n "$ns" addr add "${GW_MGMT[n]}/29" dev mgmt0
			for l in lan0 wan0 mgmt0; do ip -n "$ns" link set "$l" up; done
			in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		done
		ip link add ha0 netns "$G1" type veth peer name ha0 netns "$G2"
		ip -n "$G1" addr add 192.0.2.1/30 dev ha0 && ip -n "$G1" link set ha0 up
		ip -n "$G2" addr add 192.0.2.2/30 dev ha0 && ip -n "$G2" link set ha0 up
		ip -n "$C" addr add $C4/24 dev lan && ip -n "$C" addr add $C6/64 dev lan nodad
		ip -n "$S" addr add $S4/24 dev wan && ip -n "$S" addr add $S6/64 dev wan nodad
		ip -n "$K" addr add $COLLECTOR/29 dev mgmt
	} || fail "building the fleet topology"
}

# routes_via V4 V6: the client's and the server's default routes through
# gateway V4 for IPv4 and gateway V6 for IPv6 (1 or 2).
routes_via() {
	ip -n "$C" route replace default via "${GW_LAN4[$1]}" &&
		ip -n "$S" route replace default via "${GW_WAN4[$1]}" &&
		ip -n "$C" -6 route replace default via "${GW_LAN6[$2]}" &&
		ip -n "$S" -6 route replace default via "${GW_WAN6[$2]}" || fail "routes via $1/$2"
}

# gw_start N NAME ARGS...: `rstwatch run` (ASan build) in gateway N, events
# to $tmp/gwN.events unless ARGS name another --log, metrics on its mgmt0
# address; waits until it runs. Its pid in gw_pid[N].
declare -a gw_pid
gw_start() {
	local n=$1 name=$2
	shift 2
	local log=(--log "$tmp/gw$n.events")
	case " $* " in *" --log "*) log=() ;; esac
	bg "$name" "${GW_NS[n]}" "$RSTWATCH" run "${log[@]}" --metrics "${GW_MGMT[n]}:9386" \
		--control "$tmp/gw$n.control" "$@"
	gw_pid[n]=$bg_pid
	wait_for 15 grep -q 'rstwatch: running' "$tmp/$name.err" || fail "rstwatch $name (gw$n) did not start"
}

# gw_stop N NAME [LOG [ROTATED...]]: lib.sh's stop_daemon for gateway N
# (exit 0, no sanitizer report, the log, after the ROTATED files it wrote
# before, adding up to the counts it printed at exit).
gw_stop() {
	local n=$1 name=$2 log=${3:-$tmp/gw$1.events}
	shift $(($# < 3 ? $# : 3))
	daemon=${gw_pid[n]} EV=$log G=${GW_NS[n]} stop_daemon "$name" "$@"
}

# gw_metrics N: gateway N's /metrics page, as the collector fetches it.
gw_metrics() {
	in_ns "$K" "$PY" -c 'import sys, urllib.request; print(urllib.request.urlopen("http://" + sys.argv[1] + "/metrics", timeout=3).read().decode())' "${GW_MGMT[$1]}:9386"
}
