#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# How far away a forger sits, for real: routed namespaces whose TTLs really
# decrement. The server sits 3 routers behind the gateway; a forger hangs off
# the first router (it gets a mirror of that router's two links, nft netdev
# dup, and sends its frames into it), so what it sends arrives 1 hop away.
#
#   client - gateway(rstwatch) - r1 - r2 - r3 - server
#                                 |
#                               forger
#
# Over IPv4 and IPv6, live (JSON events) and offline (explain, text, on the
# gateway's tcpdump -i any capture):
#  A. the forger resets an established connection in the server's name (exact
#     seq, TTL 64: a Linux box): firewall/middlebox, hops reset 1, sender 3,
#     and the text says "sent about 1 hop from here, SERVER is about 3 hops away";
#  B. a new connection to a port the server drops: the forger rejects its SYN
#     in the server's name. The flow has nothing of the server's; its host
#     baseline (from A's connection) has: firewall/middlebox, host-baseline,
#     not refused;
#  C. the server's own refusal of a closed port (its own TTL): refused.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft tcpdump
[ -x "$PY" ] || skip "needs Debian's $PY"
R1=$tag-r1 R2=$tag-r2 R3=$tag-r3 F=$tag-fg
cleanup_hooks+=("ip netns del $R1" "ip netns del $R2" "ip netns del $R3" "ip netns del $F")

# link NS_A IF_A ADDR4_A ADDR6_A NS_B IF_B ADDR4_B ADDR6_B: a veth pair, up, addressed.
link() {
	ip link add "$2" netns "$1" type veth peer name "$6" netns "$5" &&
		ip -n "$1" link set "$2" up && ip -n "$5" link set "$6" up &&
		ip -n "$1" addr add "$3" dev "$2" && ip -n "$1" addr add "$4" dev "$2" nodad &&
		ip -n "$5" addr add "$7" dev "$6" && ip -n "$5" addr add "$8" dev "$6" nodad
}
ip netns add "$C" 2>/dev/null || skip "cannot create network namespaces"
for ns in "$G" "$S" "$R1" "$R2" "$R3" "$F"; do ip netns add "$ns" || fail "ip netns add $ns"; done
{
	for ns in "$C" "$G" "$S" "$R1" "$R2" "$R3" "$F"; do ip -n "$ns" link set lo up; done
	link "$C" cg0 $C4/24 $C6/64 "$G" gc0 $G4C/24 $G6C/64
	link "$G" gr0 192.0.2.1/30 2001:db8:10::1/64 "$R1" r1g 192.0.2.2/30 2001:db8:10::2/64
	link "$R1" r1n 192.0.2.5/30 2001:db8:11::1/64 "$R2" r2a 192.0.2.6/30 2001:db8:11::2/64
	link "$R2" r2b 192.0.2.9/30 2001:db8:12::1/64 "$R3" r3a 192.0.2.10/30 2001:db8:12::2/64
	link "$R3" r3s $G4S/24 $G6S/64 "$S" sg0 $S4/24 $S6/64
	ip link add r1f netns "$R1" type veth peer name fr0 netns "$F"
	ip -n "$R1" link set r1f up && ip -n "$F" link set fr0 up
	ip -n "$C" route add default via $G4C && ip -n "$C" -6 route add default via $G6C
	ip -n "$G" route add 203.0.113.0/24 via 192.0.2.2
	ip -n "$G" -6 route add 2001:db8:2::/64 via 2001:db8:10::2
	ip -n "$R1" route add default via 192.0.2.1 && ip -n "$R1" -6 route add default via 2001:db8:10::1
	ip -n "$R1" route add 203.0.113.0/24 via 192.0.2.6
	ip -n "$R1" -6 route add 2001:db8:2::/64 via 2001:db8:11::2
	ip -n "$R2" route add default via 192.0.2.5 && ip -n "$R2" -6 route add default via 2001:db8:11::1
	ip -n "$R2" route add 203.0.113.0/24 via 192.0.2.10
	ip -n "$R2" -6 route add 2001:db8:2::/64 via 2001:db8:12::2
	ip -n "$R3" route add default via 192.0.2.9 && ip -n "$R3" -6 route add default via 2001:db8:12::1
	ip -n "$S" route add default via $G4S && ip -n "$S" -6 route add default via $G6S
	for ns in "$G" "$R1" "$R2" "$R3"; do
		in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
	# The forger's packets claim the server's address and come in on r1f.
	in_ns "$R1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.r1f.rp_filter=0
	# r1 mirrors both its path links to the forger.
	in_ns "$R1" nft -f - <<-NFT
	table netdev rstw_mirror {
		chain from_gw { type filter hook ingress device "r1g" priority 0; dup to "r1f"; }
		chain from_srv { type filter hook ingress device "r1n" priority 0; dup to "r1f"; }
	}
	NFT
} || fail "building the routed topology"
R1MAC=$(in_ns "$R1" cat /sys/class/net/r1f/address) || fail "r1f's address"
# Resolve every neighbour on the path now, both ways, so no first packet waits
# on ARP/ND.
udp_to() {
	in_ns "$1" "$PY" -c 'import socket,sys; a=sys.argv[1]; socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (a, 9))' "$2"
}
for a in $S4 $S6; do udp_to "$C" $a; done
for a in $C4 $C6; do udp_to "$S" $a; done

gw_capture_start
EV=$tmp/events.json
start_daemon d --rate-limit 0

PA=$((21000 + $$ % 4000)) PB=$((PA + 1)) PC=$((PA + 2))
bg server "$S" "$PY" tests/live/peer.py serve $PA
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"
# B's port: the server drops SYNs (a filtered port), so only the forger answers.
in_ns "$S" nft add table inet rstw_drop &&
	in_ns "$S" nft add chain inet rstw_drop in '{ type filter hook input priority 0; }' &&
	in_ns "$S" nft add rule inet rstw_drop in tcp dport $PB drop || fail "server's drop rule"

# event PORT FAMILY PYEXPR: the rst event from the server's PORT in that family
# (the first), tested by PYEXPR over e; prints the event when it fails.
event_ok() {
	"$PY" - "$EV" "$1" "$2" "$3" <<-'PYEOF'
	import json, sys
	log, port, fam, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
	evs = [e for e in map(json.loads, open(log)) if e.get("event_type") == "rst" and
	       e["src_port"] == port and (":" in e["src_ip"]) == (fam == "6")]
	if not evs or not eval("(" + expr + ")", {"e": evs[0]}):
	    print(evs[0] if evs else "no event from port %d (IPv%s)" % (port, fam))
	    sys.exit(1)
	PYEOF
}

for fam in 4 6; do
	if [ $fam = 6 ]; then SA=$S6; else SA=$S4; fi
	# --- A: mid-stream, the forger 1 hop away, the server 3 -------------------
	rm -f "$tmp/trig" "$tmp/pause" "$tmp/resume"
	bg forger-a$fam "$F" "$PY" tests/live/forge.py --to-mac "$R1MAC" fr0 $PA 64 0 "$tmp/trig"
	forger=$bg_pid
	wait_for 10 grep -q watching "$tmp/forger-a$fam.out" || fail "A$fam: forger not watching"
	bg client-a$fam "$C" "$PY" tests/live/peer.py rounds "$SA" $PA 40 "$tmp/pause" "$tmp/resume"
	client=$bg_pid
	wait_for 10 grep -q armed "$tmp/forger-a$fam.out" || fail "A$fam: the forger saw no server data"
	touch "$tmp/pause"
	wait_for 10 grep -q paused "$tmp/client-a$fam.out" || fail "A$fam: stream did not pause"
	touch "$tmp/trig"
	wait "$forger" || fail "A$fam: forger: $(cat "$tmp/forger-a$fam.err")"
	touch "$tmp/resume"
	wait "$client"
	case $(tail -n 1 "$tmp/client-a$fam.out") in "reset after"*) ;;
	*) fail "A$fam: the forged reset never reached the client: $(cat "$tmp/client-a$fam.out")" ;;
	esac
	wait_for 10 event_ok $PA $fam True >/dev/null || fail "A$fam: no event"
	out=$(event_ok $PA $fam 'e["rst"]["class"] == "firewall" and e["rst"]["origin"] == "middlebox"
		and e["rst"]["hops"] == {"reset": 1, "reset_initial_ttl": 64, "sender": 3,
		"sender_initial_ttl": 64} and e["rst"]["expected_ttl"] == 61') ||
		fail "A$fam: want firewall/middlebox, 1 hop vs 3: $out"
	ok "A$fam: the forgery 1 hop away, for a server 3 hops away: firewall/middlebox, hops 1 vs 3"

	# --- B: a new connection's SYN rejected by the forger in the server's name --
	bg forger-b$fam "$F" "$PY" tests/live/forge.py --to-mac "$R1MAC" --reject-syn fr0 $PB 64 1
	forger=$bg_pid
	wait_for 10 grep -q watching "$tmp/forger-b$fam.out" || fail "B$fam: forger not watching"
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect "$SA" $PB 3)
	wait "$forger" || fail "B$fam: forger: $(cat "$tmp/forger-b$fam.err")"
	[ "$r" = refused ] || fail "B$fam: the client's connect: $r (want refused by the forger)"
	wait_for 10 event_ok $PB $fam True >/dev/null || fail "B$fam: no event"
	out=$(event_ok $PB $fam 'e["rst"]["class"] == "firewall" and e["rst"]["origin"] == "middlebox"
		and "host-baseline" in e["rst"]["evidence"] and "ttl-mismatch:61/63" in e["rst"]["evidence"]
		and e["rst"]["hops"]["reset"] == 1 and e["rst"]["hops"]["sender"] == 3') ||
		fail "B$fam: want firewall/middlebox from the host baseline: $out"
	ok "B$fam: a SYN rejected 1 hop away in the name of a server 3 hops away: firewall/middlebox (host-baseline), not refused"

	# --- C: the server's own refusal ---------------------------------------------
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect "$SA" $PC 3)
	[ "$r" = refused ] || fail "C$fam: connect to a closed port: $r"
	wait_for 10 event_ok $PC $fam True >/dev/null || fail "C$fam: no event"
	out=$(event_ok $PC $fam 'e["rst"]["class"] == "refused" and e["rst"]["origin"] == "endpoint"
		and "hops" not in e["rst"] and e["rst"]["expected_ttl"] == 61') ||
		fail "C$fam: want refused: $out"
	ok "C$fam: the server's own refusal, its own TTL: refused"
done

# Offline, on the gateway's own capture: the same verdicts, and the text line.
gw_capture_stop
stop_daemon d
"$RSTWATCH" explain --no-collapse "$tmp/gw.pcap" >"$tmp/explain.out" 2>"$tmp/explain.err" ||
	fail "explain: $(cat "$tmp/explain.err")"
for fam in 4 6; do
	if [ $fam = 6 ]; then SA=$S6 ep="\[$S6\]"; else SA=$S4 ep=$S4; fi
	grep -E "^[0-9-]+ [0-9:.]+ $ep:$PA > .* firewall \(server, middlebox, .*sent about 1 hop from here, $SA is about 3 hops away" \
		"$tmp/explain.out" >/dev/null || fail "explain A$fam: $(grep "$PA" "$tmp/explain.out")"
	grep -E "^[0-9-]+ [0-9:.]+ $ep:$PB > .* firewall \(server, middlebox, .*sent about 1 hop from here, $SA is about 3 hops away.*host-baseline" \
		"$tmp/explain.out" >/dev/null || fail "explain B$fam: $(grep "$PB" "$tmp/explain.out")"
	grep -E "^[0-9-]+ [0-9:.]+ $ep:$PC > .* refused \(server, endpoint" "$tmp/explain.out" >/dev/null ||
		fail "explain C$fam: $(grep "$PC" "$tmp/explain.out")"
done
ok "explain on the gateway's capture: the same classes, and the text says 1 hop vs 3"
