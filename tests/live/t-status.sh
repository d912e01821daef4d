#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch status asks the running daemon over its control socket:
#  A. no daemon: exit 1, "not running";
#  B. a daemon on a gateway: its pid, queues, mode, uptime; resets so far
#     agree with what happened (two refused connections) and with /metrics;
#  C. a second daemon given the same path (another namespace) leaves the first's
#     socket alone and says so; the first still answers;
#  D. SIGTERM removes the socket, and the directory it made for it: status
#     says not running again.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft
topology_up

EV=$tmp/events.log
CTL=$tmp/run/control    # its directory does not exist yet: the daemon makes it
status() { "$RSTWATCH" status --control "$CTL"; }
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$2"; }

# --- A ---------------------------------------------------------------------
out=$(status 2>&1); rc=$?
[ "$rc" = 1 ] || fail "status without a daemon: exit $rc, want 1: $out"
grep -q 'not running' <<<"$out" || fail "status without a daemon says: $out"
ok "A: no daemon: exit 1, '$out'"

# --- B ---------------------------------------------------------------------
bg server "$S" "$PY" tests/live/peer.py serve 8080
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"
start_daemon d1 --control "$CTL" --queue 7310-7311 --nflog-group 7320 --mode enforce \
	--rate-limit 0
out=$(status) || fail "status with a daemon running: exit $?"
[ "$(field pid "$out")" = "$daemon" ] || fail "status pid $(field pid "$out"), daemon is $daemon"
[ "$(field queues "$out")" = 7310-7311 ] || fail "status queues: $out"
[ "$(field nflog-groups "$out")" = 7320-7321 ] || fail "status nflog groups: $out"
[ "$(field mode "$out")" = enforce ] || fail "status mode: $out"
[ "$(field resets "$out")" = 0 ] || fail "resets before any traffic: $out"
[ "$(field version "$out")" = "$("$RSTWATCH" --version | cut -d' ' -f2)" ] || fail "version: $out"
for dst in $S4 $S6; do
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect $dst 7001)
	[ "$r" = refused ] || fail "connect to closed port on $dst: $r"
done
two_refused() { [ "$(grep -c '"class":"refused"' "$EV")" -ge 2 ]; }
wait_for 10 two_refused || fail "no events for the resets"
sleep 1.1    # uptime counts whole seconds
out=$(status) || fail "status after traffic: exit $?"
[ "$(field resets "$out")" = 2 ] || fail "status resets after two refused connections: $out"
grep -q '^resets-by-class:.* refused=2 ' <<<"$out" || fail "status by class: $out"
[ "$(field uptime-seconds "$out")" -ge 1 ] || fail "status uptime: $out"
m=$(metric_sum 'rstwatch_resets_total{')
[ "$m" = "$(field resets "$out")" ] || fail "status says $(field resets "$out") resets, /metrics $m"
ok "B: pid $daemon, queues, mode, uptime $(field uptime-seconds "$out") s, 2 resets (= /metrics)"

# --- C ---------------------------------------------------------------------
ip netns exec "$S" "$RSTWATCH" run --control "$CTL" --queue 7330 --nflog-group 7330 \
	--log "$tmp/second.log" >"$tmp/second.out" 2>"$tmp/second.err" &
second=$!
pids+=("$second")
wait_for 15 grep -q 'rstwatch: running' "$tmp/second.err" || fail "second daemon did not start"
grep -q "no control socket, 'rstwatch status' will not see this daemon: another rstwatch answers on $CTL" \
	"$tmp/second.err" || fail "second daemon did not say why it has no control socket"
kill -TERM "$second"; wait "$second" || fail "second daemon exited $? on SIGTERM"
out=$(status) || fail "first daemon's socket gone after the second stopped"
[ "$(field pid "$out")" = "$daemon" ] || fail "status now answers pid $(field pid "$out")"
ok "C: a second daemon left the first's control socket alone"

# --- D ---------------------------------------------------------------------
stop_daemon d1
[ ! -e "$CTL" ] || fail "control socket left behind after SIGTERM"
[ ! -e "${CTL%/*}" ] || fail "the directory the daemon made for its socket was left behind"
status >/dev/null 2>&1 && fail "status answered after the daemon stopped"
no_sanitizer_report
ok "D: SIGTERM removed the control socket"
