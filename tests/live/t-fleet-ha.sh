#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t-fleet-ha.sh: an HA pair of rstwatch gateways on the engines operators run
# for it (issue 16): conntrackd (FTFW over the pair's own link ha0) and
# keepalived (VRRPv3 moving 198.51.100.1, 203.0.113.1, 2001:db8:1::1 and
# 2001:db8:2::1, two instances in a sync group), both started here
# from the samples in rules/fleet/, rstwatch on both gateways in enforce mode
# (--suppress firewall). gw1 is primary; then it fails (its links go down,
# its keepalived and conntrackd are killed) and gw2 takes over.
#
#  A. keepalived: gw1 holds the four virtual addresses, gw2 is backup.
#  B. before the failover, on gw1: a reset forged on the path (TTL 40) into
#     flows F1, F3 and F5 (IPv6) is dropped; conntrack marks them with class
#     firewall, dropped and watch, over a bit outside the mask set
#     beforehand (0x00000001). conntrackd on gw2 holds the same marks
#     (conntrackd -e).
#  C. the failover: gw2 holds the addresses and its kernel table (conntrack
#     -L) the entries with every mark bit, foreign bit included; the time
#     from gw1's failure to the addresses on gw2 and to the entries there.
#  D. two streams, IPv4 and IPv6 (100-byte chunks every 20 ms for 10 s),
#     started 0.5 s before the failover arrive whole: rstwatch cut nothing
#     during the switch.
#  E. after the failover, F1 and F5 again: a reset forged into each is judged
#     on gw2 and dropped: the replicated watch bit had the ruleset copy their
#     packets, so gw2's rstwatch knew the server's TTL without the
#     handshake. Both exchanges complete.
#  F. F2 and F4, flows gw1 never judged: after the failover a reset forged
#     into F2, and the client's own abort of F4 (SO_LINGER 0), are judged by
#     gw2 from conntrack's state alone (no-flow-history); what it says is
#     printed (README, "Running a fleet", says what it can and cannot tell).
#  G. F3's watch bit, which gw2's rstwatch did not set, is cleared by gw2
#     once --watch-seconds pass (a watch bit nobody owned stayed set for the
#     flow's life before, copying every packet of it to rstwatch).
#  Every daemon stops cleanly; each rstwatch's log adds up to its counts.
# Missing conntrackd or keepalived: 77.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet.sh"
need "$RSTWATCH" nft conntrack
command -v conntrackd >/dev/null || skip "conntrackd not installed (apt-get install conntrackd)"
command -v keepalived >/dev/null || skip "keepalived not installed (apt-get install keepalived)"
fleet_up
ip -n "$C" route replace default via $VIP_LAN
ip -n "$S" route replace default via $VIP_WAN
ip -n "$C" -6 route replace default via $VIP6_LAN
ip -n "$S" -6 route replace default via $VIP6_WAN
# Long enough for gw1's watches to last until the failover, under load too.
WATCH_S=12
FOREIGN=0x00000001    # a bit outside the mask, as another tool would set

# The sample conntrackd.conf with this test's paths (and gw2's addresses);
# the diff proves nothing else changed.
ctd_conf() {
	local n=$1 f=$tmp/gw$1-conntrackd.conf
	sed -e "s|^\(\tLogFile\) /var/log/conntrackd.log$|\1 $tmp/gw$n-conntrackd.log|" \
		-e "s|^\(\tLockFile\) /var/lock/conntrack.lock$|\1 $tmp/gw$n-conntrackd.lock|" \
		-e "s|^\(\t\tPath\) /var/run/conntrackd.ctl$|\1 $tmp/gw$n-conntrackd.ctl|" \
		rules/fleet/conntrackd.conf >"$f"
	[ "$n" = 1 ] || sed -i -e 's/^\(\t\tIPv4_address\) 192.0.2.1$/\1 192.0.2.2/' \
		-e 's/^\(\t\tIPv4_Destination_Address\) 192.0.2.2$/\1 192.0.2.1/' "$f"
	local changed
	changed=$(diff rules/fleet/conntrackd.conf "$f" | grep -c '^>')
	[ "$changed" = $((n == 1 ? 3 : 5)) ] || fail "conntrackd.conf for gw$n: $changed lines changed"
}
ctd() { local n=$1; shift; in_ns "${GW_NS[n]}" conntrackd -C "$tmp/gw$n-conntrackd.conf" "$@"; }
declare -a ctd_pid ka_pid
for n in 1 2; do
	ctd_conf $n
	bg ctd$n "${GW_NS[n]}" conntrackd -C "$tmp/gw$n-conntrackd.conf"
	ctd_pid[n]=$bg_pid
done
ctd_ready() { ctd "$1" -s runtime >/dev/null 2>&1; }
wait_for 10 ctd_ready 1 && wait_for 10 ctd_ready 2 || fail "conntrackd did not start"

# keepalived: the sample as it is, its notify script beside it; pid files
# here; no syslog (-G), its log on stderr (-l). keepalived runs the script
# as root only if no one else can change it or a directory above it; in a
# tree that is not root's, the two files are taken byte for byte into a
# directory that is.
ka_dir=$PWD/rules/fleet
root_only() {    # root's, and writable by no one else (a sticky /tmp is)
	local p=$1 mode
	while :; do
		mode=0$(stat -c %a "$p")
		[ "$(stat -c %u "$p")" = 0 ] || return 1
		[ $((mode & 022)) = 0 ] || [ $((mode & 01000)) != 0 ] || return 1
		[ "$p" = / ] && return 0
		p=$(dirname "$p")
	done
}
if ! root_only "$ka_dir/rstwatch-ha-notify.sh"; then
	mkdir "$tmp/keepalived" && cp -p "$ka_dir/keepalived.conf" "$ka_dir/rstwatch-ha-notify.sh" "$tmp/keepalived/" &&
		chown -R 0:0 "$tmp/keepalived" && chmod 755 "$tmp/keepalived/rstwatch-ha-notify.sh" ||
		fail "A: cannot place the notify script where keepalived accepts it"
	ka_dir=$tmp/keepalived
fi
ka_start() {
	local n=$1
	bg ka$n "${GW_NS[n]}" env CONNTRACKD_CONF="$tmp/gw$n-conntrackd.conf" \
		keepalived -n -l -G -D -P -f "$ka_dir/keepalived.conf" -i gw$n \
		-p "$tmp/gw$n-keepalived.pid" -r "$tmp/gw$n-vrrp.pid" -c "$tmp/gw$n-checkers.pid"
	ka_pid[n]=$bg_pid
}
has_vip() {
	local a
	a=$(ip -n "${GW_NS[$1]}" addr show)
	grep -q "inet $VIP_LAN/24 .* lan0$" <<<"$a" && grep -q "inet $VIP_WAN/24 .* wan0$" <<<"$a" &&
		grep -q "inet6 $VIP6_LAN/64 " <<<"$a" && grep -q "inet6 $VIP6_WAN/64 " <<<"$a"
}
# gw1 first, so that it is the primary (nopreempt: whoever is up first).
ka_start 1
wait_for 15 has_vip 1 || fail "A: gw1 did not take the virtual addresses"
ka_start 2
wait_for 10 grep -q 'Entering BACKUP STATE' "$tmp/ka2.err" || fail "A: gw2 not backup"
has_vip 2 && fail "A: both gateways hold the virtual addresses"
ok "A: keepalived: gw1 primary with $VIP_LAN, $VIP_WAN, $VIP6_LAN and $VIP6_WAN, gw2 backup"

for n in 1 2; do
	gw_start $n rw$n --mode enforce --suppress firewall --rate-limit 0 --watch-seconds $WATCH_S
done
bg server "$S" "$PY" tests/live/peer.py serve 8081 8082 8083 8084 8085 8090
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"

# events N FILTER: the rst events of gateway N matching a python expression on e
events() {
	"$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event_type") == "rst" and eval(sys.argv[2]):
        print(e["src_port"], e["dest_port"], e["rst"]["class"], e["rst"]["origin"], e["action"],
              e.get("ct_mark", "-"), ",".join(e["rst"]["evidence"]))
' "$tmp/gw$1.events" "$2"
}
# ct_mark N PORT [FAMILY]: the mark of the flow to server port PORT in
# gateway N's kernel table (conntrack -L; ipv4 unless FAMILY), in hex
ct_mark() {
	in_ns "${GW_NS[$1]}" conntrack -L -f "${3:-ipv4}" -p tcp --dport "$2" 2>/dev/null |
		sed -n 's/.*mark=\([0-9]*\).*/\1/p' | head -n 1 | xargs -r printf '0x%08x\n'
}
# ext_mark PORT: the mark of that flow in gw2's conntrackd external cache
ext_mark() {
	ctd 2 -e ct 2>/dev/null | grep "dport=$1 " | head -n 1 |
		sed -n 's/.*mark=\([0-9]*\).*/\1/p' | xargs -r printf '0x%08x\n'
}

mark_replicated() { [ "$(ext_mark "$1")" = 0x00950001 ]; }

# rounds_start NAME PORT [DST]: a client of N request/response rounds to
# PORT (of $S4 unless DST) that pauses once $tmp/NAME.pause exists, until
# $tmp/NAME.resume does.
rounds_start() {
	bg "$1" "$C" "$PY" tests/live/peer.py rounds "${3:-$S4}" "$2" 40 "$tmp/$1.pause" "$tmp/$1.resume"
}
# The flows gw1 judges forged: F1 and F3 over IPv4, F5 over IPv6
# (NAME:PORT:FAMILY).
FORGED="F1:8081:ipv4 F3:8083:ipv4 F5:8085:ipv6"
flow_of() { IFS=: read -r name port fam <<<"$1"; dst=$S4; [ "$fam" = ipv4 ] || dst=$S6; }
# forge NAME PORT [--now]: a reset forged in the server's name (TTL 40) into
# the flow to PORT, once $tmp/NAME.trigger exists; its pid in forge_pid.
forge() {
	bg "$1-forge" "$S" "$PY" tests/live/forge.py ${3:-} wan "$2" 40 0 "$tmp/$1.trigger"
	forge_pid=$bg_pid
}
pause_flow() {
	[ "${2:-}" = unforged ] || wait_for 10 grep -q armed "$tmp/$1-forge.out" ||
		fail "forger of $1 saw no server data"
	touch "$tmp/$1.pause"
	wait_for 10 grep -q paused "$tmp/$1.out" || fail "$1 did not pause"
}

# --- B ----------------------------------------------------------------------
declare -A fpid
rep_ms=""
for f in $FORGED; do
	flow_of "$f"
	forge "$name" "$port"
	fpid[$name]=$forge_pid
	rounds_start "$name" "$port" "$dst"
	pause_flow "$name"
	in_ns "$G1" conntrack -U -f "$fam" -p tcp --dport "$port" --mark $((FOREIGN)) >/dev/null 2>&1 ||
		fail "B: could not set a foreign mark bit on $name"
	touch "$tmp/$name.trigger"
	wait "${fpid[$name]}" || fail "B: forger of $name failed: $(cat "$tmp/$name-forge.err")"
	wait_for 10 grep -q "\"dest_port\":$port,\|\"src_port\":$port," "$tmp/gw1.events" ||
		fail "B: gw1 logged no reset of $name"
	t_logged=$(date +%s%N)
	: "${t_first:=$t_logged}"
	wait_for 5 mark_replicated "$port" || fail "B: $name's mark in gw2's conntrackd cache is '$(ext_mark "$port")'"
	rep_ms+=" $name $((($(date +%s%N) - t_logged) / 1000000)) ms"
done
for f in $FORGED; do
	flow_of "$f"
	e=$(events 1 "e['src_port'] == $port")
	case $e in "$port "*" firewall middlebox drop "*) ;; *) fail "B: gw1 judged the forgery of $name: $e" ;; esac
	m=$(ct_mark 1 "$port" "$fam")
	# class firewall (code 6), dropped (bit 4), watch (bit 7), the foreign bit
	[ "$m" = 0x00950001 ] || fail "B: $name's mark on gw1 is $m, want 0x00950001"
	[ "$(ext_mark "$port")" = 0x00950001 ] || fail "B: $name's mark in gw2's conntrackd cache is '$(ext_mark "$port")'"
	[ -z "$(ct_mark 2 "$port" "$fam")" ] || fail "B: gw2's kernel holds $name before the failover"
done
# F2: established on gw1 too, but never reset there (no mark, not watched);
# F4 the same, for a genuine reset after the failover: the client aborts.
rounds_start F2 8082
pause_flow F2 unforged
bg F4 "$C" "$PY" tests/live/peer.py abort $S4 8084 45084 "$tmp/F4.go"
f4=$bg_pid
wait_for 10 grep -q ready "$tmp/F4.out" || fail "B: F4 did not connect"
ok "B: gw1 dropped the forgeries of F1, F3, F5 (IPv6); marks 0x00950001 (firewall, dropped, watch, foreign 0x1) in gw1's table and in gw2's conntrackd cache (seen there after the event:$rep_ms)"

# --- C ----------------------------------------------------------------------
# The stream starts now: a forger waits for a quiet link, which a stream
# never leaves it.
bg stream "$C" "$PY" tests/live/peer.py stream $S4 8090 500 "$tmp/stream.half" 20
stream=$bg_pid
bg stream6 "$C" "$PY" tests/live/peer.py stream $S6 8090 500 "$tmp/stream6.half" 20
stream6=$bg_pid
streaming() { [ "$(in_ns "$G1" conntrack -L -f "$1" -p tcp --dport 8090 2>/dev/null | grep -c ESTABLISHED)" = 1 ]; }
wait_for 5 streaming ipv4 && wait_for 5 streaming ipv6 || fail "C: the streams did not start"
# both in gw2's conntrackd cache (IPv6 entries travel over the IPv4 link)
in_cache() { [ "$(ctd 2 -e ct 2>/dev/null | grep -c 'dport=8090 ')" = 2 ]; }
wait_for 5 in_cache || fail "C: the streams are not in gw2's conntrackd cache: $(ctd 2 -e ct 2>&1 | grep 8090)"
sleep 0.5
t0=$(date +%s%N)
echo "    the failover $(( (t0 - t_first) / 1000000 )) ms after gw1 dropped the first forgery"
for l in lan0 wan0 ha0; do ip -n "$G1" link set "$l" down; done
kill -9 "${ka_pid[1]}" "${ctd_pid[1]}"
{ wait "${ka_pid[1]}" "${ctd_pid[1]}"; } 2>/dev/null
wait_for 10 has_vip 2 || fail "C: gw2 did not take the virtual addresses"
t_vip=$(date +%s%N)
committed() { [ -n "$(ct_mark 2 8081)" ] && [ -n "$(ct_mark 2 8083)" ] && [ -n "$(ct_mark 2 8085 ipv6)" ]; }
wait_for 10 committed || fail "C: gw2's kernel table never got F1/F3/F5 ($(ctd 2 -e ct 2>&1 | head -3))"
t_ct=$(date +%s%N)
for f in $FORGED; do
	flow_of "$f"
	m=$(ct_mark 2 "$port" "$fam")
	[ "$m" = 0x00950001 ] || fail "C: $name on gw2 after the commit: mark $m, want 0x00950001"
done
vip_ms=$(((t_vip - t0) / 1000000)) ct_ms=$(((t_ct - t0) / 1000000))
ok "C: gw2 primary ${vip_ms} ms after gw1 failed, F1/F3/F5 in its table ${ct_ms} ms after, marks 0x00950001 (every bit, foreign one too)"
grep -h 'ommit' "$tmp/gw2-conntrackd.log" | sed 's/^/    gw2 conntrackd: /'
# F3 goes on through gw2 (for G, at the end: its watch bit's time runs).
touch "$tmp/F3.resume"
t_f3=$SECONDS

# --- E ----------------------------------------------------------------------
for f in F1:8081 F5:8085; do
	name=${f%:*} port=${f#*:}
	forge "${name}b" "$port" --now
	touch "$tmp/${name}b.trigger" "$tmp/$name.resume"
	wait "$forge_pid" || fail "E: forger failed: $(cat "$tmp/${name}b-forge.err")"
	wait_for 10 grep -q "\"src_port\":$port," "$tmp/gw2.events" || fail "E: gw2 logged no reset of $name"
	e=$(events 2 "e['src_port'] == $port")
	echo "    gw2 on $name's forgery: $e"
	case $e in *" drop "*) ;; *) fail "E: gw2 let $name's forgery through: $e" ;; esac
	wait_for 20 grep -q 'completed\|reset after' "$tmp/$name.out" || fail "E: $name never ended"
	[ "$(tail -n 1 "$tmp/$name.out")" = "completed 40" ] ||
		fail "E: $name after the failover: $(tail -n 1 "$tmp/$name.out")"
done
ok "E: gw2 dropped a second forgery into F1 and F5 (IPv6), established on gw1 (no handshake seen); both completed"

# --- F ----------------------------------------------------------------------
forge F2 8082 --now
touch "$tmp/F2.trigger" "$tmp/F2.resume"
wait "$forge_pid" || fail "F: forger failed: $(cat "$tmp/F2-forge.err")"
wait_for 10 grep -q '"src_port":8082,' "$tmp/gw2.events" || fail "F: gw2 logged no reset of F2"
wait_for 20 grep -q 'completed\|reset after' "$tmp/F2.out" || fail "F: F2 never ended"
e=$(events 2 "e['src_port'] == 8082")
echo "    gw2 on F2's forgery: $e; F2: $(tail -n 1 "$tmp/F2.out")"
case $e in *no-flow-history*) ;; *) fail "F: gw2 claims history of F2: $e" ;; esac
touch "$tmp/F4.go"
wait "$f4" || fail "F: F4's client failed"
wait_for 10 grep -q '"dest_port":8084,' "$tmp/gw2.events" || fail "F: gw2 logged no reset of F4"
e4=$(events 2 "e['dest_port'] == 8084")
echo "    gw2 on F4's abort: $e4"
case $e4 in *no-flow-history*) ;; *) fail "F: gw2 claims history of F4: $e4" ;; esac
ok "F: gw2 without history of flows established on gw1: a forgery into F2: $e; the client's abort of F4: $e4"

# --- G ----------------------------------------------------------------------
wait_for 20 grep -q 'completed\|reset after' "$tmp/F3.out" || fail "G: F3 never ended"
[ "$(tail -n 1 "$tmp/F3.out")" = "completed 40" ] || fail "G: F3: $(tail -n 1 "$tmp/F3.out")"
watch_cleared() { [ "$(( $(ct_mark 2 8083) & 0x00800000 ))" = 0 ]; }
wait_for $((WATCH_S + 4)) watch_cleared || fail "G: F3's watch bit still set on gw2: $(ct_mark 2 8083)"
ok "G: F3 completed; its replicated watch bit cleared by gw2 $((SECONDS - t_f3)) s after F3 went on through it (--watch-seconds $WATCH_S; mark $(ct_mark 2 8083))"

# --- D ----------------------------------------------------------------------
wait "$stream" "$stream6"
for s in stream stream6; do
	[ "$(tail -n 1 "$tmp/$s.out")" = "completed 500" ] || fail "D: $s across the failover: $(cat "$tmp/$s.out")"
done
ok "D: the streams across the failover arrived whole (50000 bytes each; IPv4 $(grep -o 'longest silence .*' "$tmp/stream.out"), IPv6 $(grep -o 'longest silence .*' "$tmp/stream6.out"))"

for n in 1 2; do gw_stop $n rw$n; done
# keepalived first (its notify script talks to conntrackd), then conntrackd.
kill -TERM "${ka_pid[2]}" && wait "${ka_pid[2]}" || fail "keepalived on gw2 exited with $?"
kill -TERM "${ctd_pid[2]}" && wait "${ctd_pid[2]}"
no_sanitizer_report
echo "1 passed, 0 failed"
