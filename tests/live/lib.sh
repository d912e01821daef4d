# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared by the live tests (source it): three network namespaces, client -
# gateway - server, IPv4 and IPv6 routed through the gateway, TEST-NET
# addresses only; cleanup by name on exit; polling with deadlines.
#
#   client  cg0  198.51.100.2/24   2001:db8:1::2/64
#   gateway gc0  198.51.100.1/24   2001:db8:1::1/64
#           gs0  203.0.113.1/24    2001:db8:2::1/64
#   server  sg0  203.0.113.2/24    2001:db8:2::2/64
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
source tests/live/poll.sh

PY=/usr/bin/python3
C4=198.51.100.2 G4C=198.51.100.1 G4S=203.0.113.1 S4=203.0.113.2
C6=2001:db8:1::2 G6C=2001:db8:1::1 G6S=2001:db8:2::1 S6=2001:db8:2::2
tag=rstw-$$
C=$tag-cli G=$tag-gw S=$tag-srv
tmp=$(mktemp -d)
pids=()
cleanup_hooks=()

cleanup() {
	local p h
	for h in "${cleanup_hooks[@]}"; do
		eval "$h" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	for ns in "$C" "$G" "$S"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP    # a suite timeout still cleans up

fail() {
	local f
	echo "FAIL: $*"
	for f in "$tmp"/*.out "$tmp"/*.err "$tmp"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $f (last 20 lines)"
		tail -n 20 "$f"
	done
	exit 1
}
ok() { echo "ok: $*"; }
skip() { echo "skip: $*"; exit 77; }

# bg NAME NS CMD...: run CMD in NS in the background, output in $tmp/NAME.out
# and .err; its pid (the command itself: ip netns exec execs it) in bg_pid.
bg() {
	local name=$1 ns=$2
	shift 2
	# The files exist before the job starts: a wait_for grep on them at once
	# finds nothing yet rather than no file.
	: >"$tmp/$name.out"
	: >"$tmp/$name.err"
	ip netns exec "$ns" "$@" >>"$tmp/$name.out" 2>>"$tmp/$name.err" &
	bg_pid=$!
	pids+=("$bg_pid")
}

need() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || command -v "$b" >/dev/null || fail "missing $b (run make check)"
	done
}

topology_up() {
	[ -x "$PY" ] || skip "needs Debian's $PY"
	ip netns add "$C" 2>/dev/null || skip "cannot create network namespaces"
	ip netns add "$G" && ip netns add "$S" || fail "ip netns add"
	{
		for ns in "$C" "$G" "$S"; do ip -n "$ns" link set lo up; done
		ip link add cg0 netns "$C" type veth peer name gc0 netns "$G"
		ip link add gs0 netns "$G" type veth peer name sg0 netns "$S"
		ip -n "$C" link set cg0 up && ip -n "$G" link set gc0 up
		ip -n "$G" link set gs0 up && ip -n "$S" link set sg0 up
		ip -n "$C" addr add $C4/24 dev cg0
		ip -n "$G" addr add $G4C/24 dev gc0
		ip -n "$G" addr add $G4S/24 dev gs0
		ip -n "$S" addr add $S4/24 dev sg0
		ip -n "$C" addr add $C6/64 dev cg0 nodad
		ip -n "$G" addr add $G6C/64 dev gc0 nodad
		ip -n "$G" addr add $G6S/64 dev gs0 nodad
		ip -n "$S" addr add $S6/64 dev sg0 nodad
		ip -n "$C" route add default via $G4C
		ip -n "$S" route add default via $G4S
		ip -n "$C" -6 route add default via $G6C
		ip -n "$S" -6 route add default via $G6S
		in_ns "$G" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	} || fail "building the topology"
	# Resolve every neighbour now, so no test's first packet waits on ARP/ND.
	local a
	for a in $S4 $S6; do
		in_ns "$C" "$PY" -c 'import socket,sys; a=sys.argv[1]; socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (a, 9))' $a
	done
	for a in $C4 $C6; do
		in_ns "$S" "$PY" -c 'import socket,sys; a=sys.argv[1]; socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (a, 9))' $a
	done
	neighbours_known() {
		[ "$(ip -n "$G" neigh show | grep -c lladdr)" -ge 4 ] &&
			[ "$(ip -n "$C" neigh show | grep -c lladdr)" -ge 2 ]
	}
	wait_for 10 neighbours_known || fail "neighbours not resolved: $(ip -n "$G" neigh show)"
}

# pair_up IF_C IF_S: only two namespaces, $C and $S, joined by one veth pair
# (IF_C in $C, IF_S in $S), loopbacks and links up, no addresses: for the
# tests of one kernel interface at a time (t-ct, t-nflog).
pair_up() {
	ip netns add "$C" 2>/dev/null || skip "cannot create network namespaces"
	ip netns add "$S" || fail "cannot create $S"
	ip link add name "$1" netns "$C" type veth peer name "$2" netns "$S" ||
		skip "cannot create a veth pair"
	{
		ip -n "$C" link set lo up && ip -n "$S" link set lo up &&
			ip -n "$C" link set "$1" up && ip -n "$S" link set "$2" up
	} || fail "links up"
}

# Packets queued in the gateway still waiting for a verdict.
queue_waiting() {
	in_ns "$G" awk '{ n += $3 } END { print n + 0 }' /proc/net/netfilter/nfnetlink_queue
}
none_waiting() { [ "$(queue_waiting)" = 0 ]; }

# forge_on PORT NAME (needs a peer.py server on PORT in $S): a paused request/response stream on PORT, then one reset
# forged in the server's name (TTL 40, exact seq). Leaves the client waiting
# for file $tmp/resume-NAME; the client's pid in client_NAME.
forge_on() {
	local port=$1 name=$2
	bg fg-$name "$S" "$PY" tests/live/forge.py sg0 "$port" 40 0 "$tmp/trigger-$name"
	local forger=$bg_pid
	wait_for 10 grep -q watching "$tmp/fg-$name.out" || fail "forger $name not watching"
	bg cl-$name "$C" "$PY" tests/live/peer.py rounds "$S4" "$port" 40 "$tmp/pause-$name" \
		"$tmp/resume-$name"
	eval "client_$name=$bg_pid"
	wait_for 10 grep -q armed "$tmp/fg-$name.out" || fail "forger $name never armed"
	touch "$tmp/pause-$name"
	wait_for 10 grep -q paused "$tmp/cl-$name.out" || fail "stream $name did not pause"
	touch "$tmp/trigger-$name"
	wait "$forger" || fail "forger $name: $(cat "$tmp/fg-$name.err")"
}

# --- the gateway's own capture -------------------------------------------------
# gw_capture_start: tcpdump -i any (LINUX_SLL2, what explain reads as a gateway
# capture) in the gateway, TCP and the end marker, into $tmp/gw.pcap. Without
# --immediate-mode: with it (libpcap 1.10.3, TPACKET_V3, -i any), runs lost
# packets in the middle of the capture one time in three.
gw_capture_start() {
	bg tcpdump "$G" tcpdump -i any -y LINUX_SLL2 -U -n -w "$tmp/gw.pcap" tcp or udp port 9
	gw_dump=$bg_pid
	wait_for 10 grep -q 'listening on' "$tmp/tcpdump.err" || fail "tcpdump did not start"
}

# gw_capture_stop: tcpdump drops what it has not written yet when it is
# stopped: stop it only once a datagram the client sends to the gateway after
# the last reset is in the file.
gw_capture_stop() {
	in_ns "$C" "$PY" -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(), (sys.argv[1], 9))' \
		"$G4C" "rstw-end-$$"
	wait_for 10 grep -q -a "rstw-end-$$" "$tmp/gw.pcap" || fail "the capture lags"
	kill -INT "$gw_dump"
	wait "$gw_dump"
}

# --- the daemon --------------------------------------------------------------
RSTWATCH=build/asan/rstwatch
METRICS_ADDR=127.0.0.1:9386

# start_daemon NAME ARGS...: `rstwatch run` (ASan/UBSan build) in the gateway,
# events to $EV (set it first), metrics on $METRICS_ADDR; waits until it says
# it runs and its table is loaded. Its pid in $daemon, stderr in $tmp/NAME.err.
start_daemon() {
	local name=$1
	shift
	bg "$name" "$G" "$RSTWATCH" run --log "$EV" --metrics "$METRICS_ADDR" --control "$tmp/control" "$@"
	daemon=$bg_pid
	wait_for 15 grep -q 'rstwatch: running' "$tmp/$name.err" || fail "daemon $name did not start"
	in_ns "$G" nft list table inet rstwatch >/dev/null || fail "no table after start"
}

# stop_daemon NAME: SIGTERM, exit 0 expected, then no sanitizer report, and
# a JSON event log ($EV) valid against the schema and adding up to the counts
# the daemon printed as it stopped (events + suppressed + dropped = resets,
# class by class): every live test that stops its daemon checks both.
# A daemon's log is $EV from its start: tests look at what is new in it with
# offsets, never by truncating it under the running daemon. A log rotated
# away (mv + SIGHUP) is named after NAME, older files first.
stop_daemon() {
	local name=$1
	shift
	kill -TERM "$daemon"
	wait "$daemon" || fail "daemon $name exited with $? on SIGTERM"
	no_sanitizer_report "$name"
	check_accounting "$name" "$@" "$EV"
}

# check_accounting NAME LOG...: as above, for a daemon NAME that has stopped
# and wrote the LOGs.
check_accounting() {
	local out name=$1
	shift
	[ -f "$1" ] || return 0                     # standard output or syslog
	[ ! -s "$1" ] || [ "$(head -c 1 "$1")" = "{" ] || return 0    # a text log
	out=$("$PY" tests/schema/eve.py account "$tmp/$name.err" "$@") || fail "daemon $name: $out"
	ok "daemon $name: $out"
}

# no_sanitizer_report NAME...: fail if ASan/UBSan/LSan wrote anything to
# $tmp/NAME.err (all of $tmp/*.err without a name). A sanitizer's exit code
# is lost when a test kills the process, so its stderr is the evidence.
no_sanitizer_report() {
	local f n
	local -a files=()
	if [ $# = 0 ]; then
		files=("$tmp"/*.err)
	else
		for n in "$@"; do files+=("$tmp/$n.err"); done
	fi
	for f in "${files[@]}"; do
		[ -s "$f" ] || continue
		if grep -q -e 'Sanitizer' -e 'runtime error' "$f"; then
			echo "--- sanitizer report in $f"
			grep -m 1 -A 30 -e 'Sanitizer' -e 'runtime error' "$f"
			fail "sanitizer report in $(basename "$f")"
		fi
	done
}

# metrics: the daemon's /metrics page.
metrics() {
	in_ns "$G" "$PY" -c 'import sys, urllib.request; print(urllib.request.urlopen("http://" + sys.argv[1] + "/metrics", timeout=3).read().decode())' "$METRICS_ADDR"
}

# metric_sum PATTERN [TEXT]: sum of the samples whose name{labels} starts with
# PATTERN (a fixed string), in TEXT or a fresh /metrics page; 0 if none.
metric_sum() {
	local text=${2-}
	[ -n "$text" ] || text=$(metrics) || fail "GET /metrics"
	awk -v p="$1" 'index($0, p) == 1 { n += $NF } END { printf "%d\n", n }' <<<"$text"
}

# The daemon's resident memory, KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# nfqueue_field QUEUE N: field N of the queue's line in the gateway's
# /proc/net/netfilter/nfnetlink_queue (3 waiting, 6 queue_dropped,
# 7 user_dropped, 8 id_sequence: packets the kernel queued since the bind).
nfqueue_field() {
	in_ns "$G" awk -v q="$1" -v f="$2" '$1 == q { print $f }' /proc/net/netfilter/nfnetlink_queue
}

# --- packet counters ---------------------------------------------------------
# counters_up NS HOOK MATCH...: in NS, a chain HOOK (prerouting or output) of
# table inet count at priority -350 (before rstwatch's raw chains) with one
# counter per MATCH, in order.
counters_up() {
	local ns=$1 hook=$2 m
	shift 2
	{
		echo "table inet count {"
		echo "chain $hook {"
		echo "type filter hook $hook priority -350; policy accept;"
		for m in "$@"; do echo "$m counter"; done
		echo "}"
		echo "}"
	} | in_ns "$ns" nft -f - || fail "counters in $ns ($hook)"
}

# counter_of NS HOOK N: packets counted by the N-th counter of that chain.
counter_of() {
	in_ns "$1" nft list chain inet count "$2" | grep -o 'counter packets [0-9]*' |
		sed -n "$3s/counter packets //p"
}
