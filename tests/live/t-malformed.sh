#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Resilience of rstwatch run (issue #5): malformed packets sent live through
# the gateway (tests/live/malformed.py, scapy at layer 2 from the client):
# IPv4 IHL 4, TCP data offset 3, an option running past the header, an option
# of length 0, a reset carrying 1400 bytes, IPv6 with a 200-byte destination
# options header (the copy ends inside the chain), hop-by-hop after
# destination options, and a truncated extension chain. COUNT of each.
#  A. which of them reach the queue at all is measured: counters in the
#     gateway before rstwatch's chain, the kernel's own IP header error count;
#  B. what reaches the daemon is counted by decode result
#     (rstwatch_packets_decoded_total) as expected case by case;
#  C. every one the kernel forwards is accepted: the server counts it;
#  D. the 1400-byte reset is an event with payload_len 1400 and
#     "rst-with-data:1400"; the daemon is alive, answers /metrics, reports
#     a real reset afterwards, exits 0 on SIGTERM, no sanitizer report.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft conntrack
topology_up
EV=$tmp/events.log
COUNT=5
PORTS="9001 9003 9004 9005 9006 9007 9008"

# The same counters at the gateway (before rstwatch) and at the server: one
# per case, in the order of $PORTS, then the truncated chain.
matches=()
for p in $PORTS; do matches+=("tcp dport $p"); done
matches+=("ip6 flowlabel 0x12345")
counters_up "$G" prerouting "${matches[@]}"
counters_up "$S" prerouting "${matches[@]}"
count() { # count NS PORT|trunc
	local i=1 p
	for p in $PORTS trunc; do
		[ "$p" = "$2" ] && break
		i=$((i + 1))
	done
	counter_of "$1" prerouting $i
}
in_hdr_errors() { in_ns "$G" awk '/^Ip: [0-9]/ { print $5 }' /proc/net/snmp; }

start_daemon d --rate-limit 0
m0=$(metrics) || fail "GET /metrics"
hdr0=$(in_hdr_errors)
gwmac=$(ip -n "$G" -br link show gc0 | awk '{ print $3 }')
in_ns "$C" "$PY" tests/live/malformed.py cg0 "$gwmac" $C4 $S4 $C6 $S6 $COUNT >"$tmp/malformed.out" 2>"$tmp/malformed.err" ||
	fail "malformed.py: $(tail -n 3 "$tmp/malformed.err")"
[ "$(grep -c ' sent$' "$tmp/malformed.out")" = 8 ] || fail "malformed.py sent $(cat "$tmp/malformed.out")"

# C first: wait until the server has what it should get (ihl4 never passes ip_rcv).
server_has() { [ "$(count "$S" "$1")" -ge "$COUNT" ]; }
for p in 9003 9004 9005 9006 9007 9008 trunc; do
	wait_for 10 server_has $p || fail "C: server got $(count "$S" $p) of $COUNT for case $p"
done
wait_for 10 none_waiting || fail "$(queue_waiting) packets still waiting"

# --- A ----------------------------------------------------------------------
hdr=$(( $(in_hdr_errors) - hdr0 ))
line="reached the gateway's prerouting:"
for p in $PORTS trunc; do line="$line $p=$(count "$G" $p)"; done
echo "$line; Ip InHdrErrors +$hdr"
[ "$(count "$G" 9001)" = 0 ] || fail "A: an IHL 4 packet reached prerouting"
[ "$hdr" -ge "$COUNT" ] || fail "A: the kernel counted $hdr IP header errors for $COUNT IHL 4 packets"
ok "A: IHL 4 dropped by the kernel before netfilter (Ip InHdrErrors +$hdr); the rest reach prerouting"

# --- B ----------------------------------------------------------------------
m=$(metrics) || fail "GET /metrics"
delta() { echo $(( $(metric_sum "$1" "$m") - $(metric_sum "$1" "$m0") )); }
malformed=$(delta 'rstwatch_packets_decoded_total{result="malformed"}')
truncated=$(delta 'rstwatch_packets_decoded_total{result="truncated"}')
not_tcp=$(delta 'rstwatch_packets_decoded_total{result="not-tcp"}')
decoded_ok=$(delta 'rstwatch_packets_decoded_total{result="ok"}')
resets=$(delta rstwatch_resets_total)
echo "daemon: malformed +$malformed, truncated +$truncated, not_tcp +$not_tcp, ok +$decoded_ok, resets +$resets"
# doff 3 and hop-by-hop after destination options are malformed; the
# 200-byte chain is cut by the 128-byte copy (truncated); the truncated chain
# is not TCP to nftables, so it is never queued.
[ "$malformed" = $((2 * COUNT)) ] || fail "B: malformed +$malformed, want $((2 * COUNT)) (doff3, v6hbhlate)"
[ "$truncated" = "$COUNT" ] || fail "B: truncated +$truncated, want $COUNT (v6long)"
[ "$resets" = $((3 * COUNT)) ] || fail "B: resets +$resets, want $((3 * COUNT)) (optlen, optzero, rst1400)"
[ "$(count "$G" trunc)" -ge "$COUNT" ] || fail "B: the truncated chain did not reach the gateway"
ok "B: decode results counted: malformed $malformed, truncated $truncated; the option-length cases and the 1400-byte reset decoded as resets: $resets"

# --- C ----------------------------------------------------------------------
line="server got:"
for p in $PORTS trunc; do line="$line $p=$(count "$S" $p)"; done
ok "C: every packet the gateway forwards was accepted ($line)"

# --- D ----------------------------------------------------------------------
wait_for 5 grep -q '"dest_port":9006,' "$EV" || fail "D: no event for the 1400-byte reset"
grep '"dest_port":9006,' "$EV" | head -n 1 | grep -q '"payload_len":1400' || fail "D: payload_len: $(grep '"dest_port":9006,' "$EV" | head -n 1)"
grep '"dest_port":9006,' "$EV" | head -n 1 | grep -q 'rst-with-data:1400' || fail "D: no rst-with-data:1400 evidence"
kill -0 "$daemon" || fail "D: the daemon died"
r=$(in_ns "$C" "$PY" tests/live/peer.py connect $S4 7001) ; [ "$r" = refused ] || fail "D: connect: $r"
wait_for 10 grep -q '"src_port":7001,' "$EV" || fail "D: no event for a real reset afterwards"
stop_daemon d
no_sanitizer_report
ok "D: 1400-byte reset reported (payload_len 1400, rst-with-data:1400); daemon alive and reporting; clean exit"
echo "1 passed, 0 failed"
