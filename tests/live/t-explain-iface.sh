#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch explain -i: live capture with libpcap on a host that is not a gateway.
#
# A client and a server namespace joined by a veth; nothing listens on the
# server. explain -i captures on the client's interface, with a filter that
# keeps port 7001 only. The client connects to ports 7002, then 7001, then
# 7001 over IPv6: the kernel refuses each with a real reset. Each event must
# be out while explain still runs (before the next connect), the 7002 reset
# must be filtered out, and SIGINT must end the capture with the summary
# (exactly those events by class) and exit 0. A missing interface is exit 2
# with libpcap's message.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, packet capture)"
command -v ip >/dev/null || skip "ip is not installed"
[ -x "$PY" ] || skip "$PY is not installed"
need "$RSTWATCH"

pair_up ex-c ex-s
in_ns "$C" ip addr add 192.0.2.1/24 dev ex-c && in_ns "$S" ip addr add 192.0.2.2/24 dev ex-s &&
in_ns "$C" ip addr add 2001:db8:200::1/64 dev ex-c nodad &&
in_ns "$S" ip addr add 2001:db8:200::2/64 dev ex-s nodad || fail "addresses"

# connect ADDR PORT: must be refused (ECONNREFUSED) within 3 s.
refused() {
	in_ns "$C" "$PY" - "$1" "$2" <<'PY'
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(3)
try:
    s.connect((addr, port))
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)
PY
}
events() { grep -c '"event_type":"rst"' "$tmp/explain.out"; }
has_events() { [ "$(events)" -ge "$1" ]; }

bg explain "$C" "$RSTWATCH" explain --json -i ex-c -f 'tcp port 7001'
ex=$bg_pid
wait_for 15 grep -q 'capturing on ex-c' "$tmp/explain.err" || fail "explain -i did not start"

refused 192.0.2.2 7002 || fail "port 7002 not refused"
refused 192.0.2.2 7001 || fail "port 7001 not refused"
wait_for 5 has_events 1 || fail "no event while capturing after the refused connect to 7001"
refused 2001:db8:200::2 7001 || fail "[2001:db8:200::2]:7001 not refused"
wait_for 5 has_events 2 || fail "no event for the IPv6 reset while capturing"
sleep 0.3
[ "$(events)" = 2 ] || fail "want 2 events (7002 filtered out), got $(events)"
grep -q '"src_ip":"192.0.2.2","src_port":7001,.*"class":"refused"' "$tmp/explain.out" ||
	fail "the IPv4 event is not a refused reset from 192.0.2.2:7001"
grep -q '"src_ip":"2001:db8:200::2","src_port":7001,.*"class":"refused"' "$tmp/explain.out" ||
	fail "the IPv6 event is not a refused reset from [2001:db8:200::2]:7001"
grep -q 'pcap_filename' "$tmp/explain.out" && fail "live events name a capture file"
ok "2 events while capturing, 7002 filtered out"

kill -INT "$ex"
wait "$ex"
rc=$?
[ "$rc" = 0 ] || fail "explain -i exited $rc on SIGINT, want 0"
grep -q '^summary: 2 resets in 1 capture ' "$tmp/explain.err" || fail "no summary after SIGINT"
grep -qE '^  refused +2$' "$tmp/explain.err" || fail "summary's refused count is not 2"
no_sanitizer_report explain
ok "SIGINT: summary with 2 refused, exit 0"

out=$(in_ns "$C" "$RSTWATCH" explain -i ex-nosuch 2>&1)
rc=$?
[ "$rc" = 2 ] && grep -q 'ex-nosuch: cannot capture: .*No such device' <<<"$out" ||
	fail "a missing interface: exit $rc, want 2 with libpcap's message: $out"
ok "missing interface: exit 2 with libpcap's message"
