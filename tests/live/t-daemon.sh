#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch run on a real gateway (client - gateway - server namespaces, IPv4
# and IPv6), checked from the outside:
#  A. resets a real connection produced are reported (refused, v4 and v6);
#  B. the gateway's own `reject with tcp reset` still refuses a new connection
#     (refused, not a timeout) and is reported firewall / local-firewall;
#  C. conntrack marks carry the class inside the mask; a bit set outside the
#     mask beforehand survives;
#  D. /metrics counts the resets;
#  E. a reset forged on the path (TTL 40 where the server's packets come with
#     64, exact seq) reaches the client in observe mode and kills its connection;
#  F. kill -9: traffic keeps flowing (bypass); a restart takes over;
#  G. nft flush ruleset under the daemon: it notices and reinstalls;
#  H. enforce mode (--suppress firewall) drops the forged reset, exact or with
#     a wrong in-window seq: the client's exchange completes;
#  I. SIGTERM: exit 0, no table left, no packet waiting for a verdict;
# and no ASan/UBSan report in any daemon's stderr.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft conntrack
topology_up

EV=$tmp/events.log
EV_FROM=0    # lines of $EV already looked at (log_mark)
events() { # events FILTER: compact JSON lines after EV_FROM matching a python expression on e
	"$PY" -c '
import json, sys
for n, line in enumerate(open(sys.argv[1])):
    if n < int(sys.argv[3]):
        continue
    e = json.loads(line)
    if e.get("event_type") == "rst" and eval(sys.argv[2]):
        print(e["src_ip"], e["src_port"], e["rst"]["class"], e["rst"]["sender"],
              e["rst"]["origin"], e["action"], e.get("ct_mark", "-"), e["rst"]["hook"])
' "$EV" "$1" "$EV_FROM"
}
# From now on look only at new lines (the daemon's log stays whole for its
# accounting at stop_daemon).
log_mark() { EV_FROM=$(wc -l <"$EV"); }
has_event() { [ -n "$(events "$1")" ]; }
conn() { in_ns "$C" "$PY" tests/live/peer.py connect "$@"; }

bg server "$S" "$PY" tests/live/peer.py serve 8080 8081 8082 8083
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"
gateway_firewall() {
	in_ns "$G" nft -f - <<'NFT' || fail "gateway firewall"
table inet fw {
	chain forward_filter {
		type filter hook forward priority filter; policy accept;
		tcp dport 7777 reject with tcp reset
	}
}
NFT
}
gateway_firewall
in_ns "$G" sysctl -qw net.netfilter.nf_conntrack_acct=1

start_daemon d1 --rate-limit 0

# --- A ---------------------------------------------------------------------
for dst in $S4 $S6; do
	r=$(conn $dst 7001) ; [ "$r" = refused ] || fail "connect to closed port on $dst: $r"
	wait_for 10 has_event "e['src_ip'] == '$dst' and e['src_port'] == 7001" ||
		fail "no event for the refused connection to $dst"
	e=$(events "e['src_ip'] == '$dst' and e['src_port'] == 7001")
	case $e in *" refused server endpoint accept "*) ;; *) fail "refused on $dst reported as: $e" ;; esac
done
ok "A: refused connections reported as refused/server/endpoint (IPv4, IPv6)"

# --- B ---------------------------------------------------------------------
for dst in $S4 $S6; do
	r=$(conn $dst 7777 3) ; [ "$r" = refused ] || fail "gateway reject to $dst:7777 gave '$r', not refused"
	wait_for 10 has_event "e['src_ip'] == '$dst' and e['src_port'] == 7777" ||
		fail "no event for the gateway's own reject ($dst)"
	e=$(events "e['src_ip'] == '$dst' and e['src_port'] == 7777")
	case $e in *" firewall server local-firewall accept "*) ;; *) fail "gateway reject on $dst reported as: $e" ;; esac
done
ok "B: the gateway's reject still refuses (not a timeout), reported firewall/local-firewall"

# --- C ---------------------------------------------------------------------
for dst in $S4 $S6; do
	rm -f "$tmp/go"
	bg abort "$C" "$PY" tests/live/peer.py abort $dst 8080 45000 "$tmp/go"
	wait_for 10 grep -q ready "$tmp/abort.out" || fail "abort client did not connect ($dst)"
	in_ns "$G" conntrack -U -p tcp --sport 45000 --dport 8080 -d $dst --mark 1 >/dev/null 2>&1 ||
		fail "could not set a mark outside the mask"
	touch "$tmp/go"
	wait_for 10 has_event "e['src_port'] == 45000 and e['dest_ip'] == '$dst'" || fail "no event for the abort ($dst)"
	e=$(events "e['src_port'] == 45000 and e['dest_ip'] == '$dst'")
	case $e in *" abort client endpoint accept 0x00070001 "*) ;; *) fail "abort on $dst reported as: $e" ;; esac
	mark=$(in_ns "$G" conntrack -L -p tcp --sport 45000 --dport 8080 -d $dst 2>/dev/null | sed -n 's/.*mark=\([0-9]*\).*/\1/p')
	[ "$mark" = $((0x00070001)) ] || fail "conntrack mark after abort on $dst is '$mark', want $((0x00070001))"
	wait "$bg_pid"
done
ok "C: ct mark 0x00070001: class abort (7) inside 0x00ff0000, outside bit 0x1 kept"

# --- D ---------------------------------------------------------------------
m=$(metrics) || fail "GET /metrics"
echo "$m" | grep -q 'rstwatch_resets_total{class="refused",origin="endpoint",action="accept"} 2' ||
	fail "metrics lack the two refused resets: $(echo "$m" | grep resets_total)"
echo "$m" | grep -q 'rstwatch_build_info{version=' || fail "no build_info"
echo "$m" | grep -q 'rstwatch_nfqueue_user_dropped_total{queue="7300"} 0' || fail "no user_dropped for queue 7300"
# A few resets, far below the markers' rate limit: each was judged after
# its own marker, so after every copy made before it.
[ "$(metric_sum rstwatch_reset_markers_missing_total "$m")" = 0 ] ||
	fail "resets judged without their marker: $(echo "$m" | grep markers_missing)"
ok "D: /metrics counts resets by class/origin/action, queue counters present, every reset judged after its marker"

# forged SERVER_ADDR OFFSET: a round-trip stream the forger resets after 3 rounds
forged() {
	local dst=$1 off=$2 name=f$RANDOM
	rm -f "$tmp/pause" "$tmp/resume" "$tmp/trigger"
	bg "$name-forge" "$S" "$PY" tests/live/forge.py sg0 8081 40 "$off" "$tmp/trigger"
	local forger=$bg_pid
	bg "$name" "$C" "$PY" tests/live/peer.py rounds "$dst" 8081 40 "$tmp/pause" "$tmp/resume"
	local client=$bg_pid
	wait_for 10 grep -q armed "$tmp/$name-forge.out" || fail "forger saw no server data ($dst)"
	touch "$tmp/pause"
	wait_for 10 grep -q paused "$tmp/$name.out" || fail "stream to $dst did not pause"
	touch "$tmp/trigger"
	wait "$forger" || fail "forger failed: $(cat "$tmp/$name-forge.err")"
	wait_for 10 has_event "e['src_ip'] == '$dst' and e['src_port'] == 8081" || fail "forged reset not reported"
	touch "$tmp/resume"
	wait "$client"
	forged_result=$(cat "$tmp/$name.out" | tail -n 1)
	forged_event=$(events "e['src_ip'] == '$dst' and e['src_port'] == 8081" | tail -n 1)
	log_mark    # the next forgery's events only
}

# --- E ---------------------------------------------------------------------
for dst in $S4 $S6; do
	forged $dst 0
	case $forged_event in *" firewall server middlebox accept "*) ;; *) fail "forged reset ($dst) reported as: $forged_event" ;; esac
	case $forged_result in "reset after"*) ;; *) fail "observe mode: the forged reset did not reach the client ($dst): $forged_result" ;; esac
done
ok "E: observe: forged reset (TTL 40 vs 64) reported firewall/middlebox and let through"

# --- F ---------------------------------------------------------------------
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
no_sanitizer_report d1
r=$(conn $S4 8080) ; [ "$r" = connected ] || fail "after kill -9, connect gave $r"
r=$(conn $S6 7001) ; [ "$r" = refused ] || fail "after kill -9, a reset did not pass: $r"
in_ns "$G" nft list table inet rstwatch >/dev/null || fail "table vanished with kill -9 (bypass untested)"
wait_for 5 none_waiting || fail "packets stuck after kill -9"
: >"$EV"
EV_FROM=0
start_daemon d2 --rate-limit 0
r=$(conn $S4 7001) ; [ "$r" = refused ] || fail "after restart: $r"
wait_for 10 has_event "e['src_port'] == 7001" || fail "restarted daemon reports nothing"
ok "F: kill -9 leaves traffic flowing (bypass); a restart takes over"

# --- G ---------------------------------------------------------------------
in_ns "$G" nft flush ruleset
wait_for 10 in_ns "$G" nft list table inet rstwatch >/dev/null 2>&1 || fail "table not reinstalled after flush"
wait_for 10 grep -q 'reinstalling' "$tmp/d2.err" || fail "reinstall not logged"
gateway_firewall
log_mark
r=$(conn $S6 7001) ; [ "$r" = refused ] || fail "after reinstall: $r"
wait_for 10 has_event "e['src_port'] == 7001" || fail "no event after reinstall"
m=$(metrics)
echo "$m" | grep -q 'rstwatch_rules_reinstalled_total [1-9]' || fail "reinstall not counted"
ok "G: nft flush ruleset noticed, logged, reinstalled, counted"
stop_daemon d2

# --- H ---------------------------------------------------------------------
: >"$EV"
EV_FROM=0
start_daemon d3 --rate-limit 0 --mode enforce --suppress firewall
for dst in $S4 $S6; do
	forged $dst 0
	case $forged_event in *" firewall server middlebox drop "*) ;; *) fail "enforce: forged reset ($dst) reported as: $forged_event" ;; esac
	case $forged_result in "completed 40") ;; *) fail "enforce: client did not survive ($dst): $forged_result" ;; esac
	# Data segments are not queued at context handshake, so the daemon cannot
	# tell this wrong-but-in-window seq from the exact one: TTL alone says
	# forged, which is firewall/middlebox (seq-unverified) in a partial view.
	forged $dst 1000
	case $forged_event in *" firewall server middlebox drop "*|*" injected server middlebox drop "*) ;;
	*) fail "enforce: in-window forged reset ($dst) reported as: $forged_event" ;; esac
	case $forged_result in "completed 40") ;; *) fail "enforce: client did not survive the injected reset ($dst): $forged_result" ;; esac
done
grep -q '"action":"drop","action_reason":"enforce: class in --suppress"' "$EV" ||
	fail "drops carry no reason"
ok "H: enforce drops the forged (firewall, suppressed) and injected resets; the client's exchange completes"

# --- I ---------------------------------------------------------------------
stop_daemon d3
in_ns "$G" nft list table inet rstwatch >/dev/null 2>&1 && fail "table left after SIGTERM"
in_ns "$G" nft list table inet fw >/dev/null 2>&1 || fail "SIGTERM removed a table that is not ours"
none_waiting || fail "packets left waiting after SIGTERM"
r=$(conn $S4 7001) ; [ "$r" = refused ] || fail "after SIGTERM: $r"
ok "I: SIGTERM: exit 0, table removed (other tables kept), nothing waiting"
no_sanitizer_report
echo "1 passed, 0 failed"
