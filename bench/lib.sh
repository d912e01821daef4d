# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared by bench/gwcost.sh and bench/nfq.sh (source it after setting BENCH,
# the script's name, and LOG, its log file): root and CPU checks, a scratch
# directory, processes and namespaces cleaned up on exit, and the three
# namespaces both measure through:
#
#   LEFT   LEFT_IF     198.51.100.2/24  --  GW_LEFT_IF 198.51.100.1/24  GW
#   GW     GW_RIGHT_IF 192.0.2.1/24     --  RIGHT_IF   192.0.2.2/24     RIGHT
#
# RIGHT owns all of 203.0.113.0/24 (a local route on its loopback), GW routes
# it there and forwards without reverse-path filtering: a script's floods and
# connections can use many addresses without configuring each.
source "$(dirname "${BASH_SOURCE[0]}")/../tests/live/poll.sh"

die() { echo "$BENCH: $*" >&2; exit 1; }
log() { echo "$*" >>"$LOG"; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, nftables, NFQUEUE, nflog)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs"

HZ=$(getconf CLK_TCK)
# cpu_ticks PID: utime + stime (clock ticks) of a process, all threads; 0
# without one.
cpu_ticks() {
	if [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}

tmp=$(mktemp -d "/tmp/$BENCH.XXXXXX")
pids=()
bench_ns=()

cleanup() {
	local p ns
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for ns in "${bench_ns[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bench_topology LEFT GW RIGHT LEFT_IF GW_LEFT_IF GW_RIGHT_IF RIGHT_IF: the
# namespaces and links above, up; the scripts add their own routes, sysctls
# and sinks. Output goes to $LOG.
bench_topology() {
	local left=$1 gw=$2 right=$3 lif=$4 glif=$5 grif=$6 rif=$7
	ip netns add "$left" && ip netns add "$gw" && ip netns add "$right" || die "ip netns add"
	bench_ns+=("$left" "$gw" "$right")
	{
		for ns in "$left" "$gw" "$right"; do ip -n "$ns" link set lo up; done
		ip link add "$lif" netns "$left" type veth peer name "$glif" netns "$gw"
		ip link add "$grif" netns "$gw" type veth peer name "$rif" netns "$right"
		ip -n "$left" link set "$lif" up && ip -n "$gw" link set "$glif" up
		ip -n "$gw" link set "$grif" up && ip -n "$right" link set "$rif" up
		ip -n "$left" addr add 198.51.100.2/24 dev "$lif"
		ip -n "$gw" addr add 198.51.100.1/24 dev "$glif"
		ip -n "$gw" addr add 192.0.2.1/24 dev "$grif"
		ip -n "$right" addr add 192.0.2.2/24 dev "$rif"
		ip -n "$right" route add local 203.0.113.0/24 dev lo
		ip -n "$gw" route add 203.0.113.0/24 via 192.0.2.2
		in_ns "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$glif.rp_filter=0"
	} >>"$LOG" 2>&1 || die "building the topology (see $LOG)"
}
