#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Held verdicts in the live daemon (enforce mode), checked from the outside:
#  A. a suspect reset (forged on the path: TTL 40 where the server's packets
#     come with 64) is held while the server is silent: it waits in the
#     kernel's queue (one packet waiting), and no event is written yet;
#  B. SIGTERM while it is held: it is let through (the client's connection
#     dies of it), its event says accept with the class it had, the daemon
#     exits 0 within a few seconds, nothing is left waiting;
#  C. --hold-count 1: a second suspect reset while one is held is judged at
#     once (holds_total{full}), the first goes on at its deadline; every
#     reset is counted once: events + suppressed + dropped == resets_total;
#  D. the deadline (--hold-max-ms): a held reset goes on by itself.
# The scenario suite plays the forgeries that the hold proves (tests/scenarios
# injected, injectobs); this test is about every held packet getting exactly
# one verdict. No ASan/UBSan report in any daemon's stderr.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft conntrack
topology_up

EV=$tmp/events.log
count_events() { "$PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    n += e.get("event_type") == "rst" and e["src_port"] == int(sys.argv[2]) and eval(sys.argv[3])
print(n)' "$EV" "$@"; }
accepted_once() { [ "$(count_events "$1" "e['action'] == 'accept'")" = 1 ]; }

bg server "$S" "$PY" tests/live/peer.py serve 8180 8181 8182 8183
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"

# --- A, B: held, then SIGTERM ----------------------------------------------
start_daemon d1 --mode enforce --rate-limit 0 --hold-min-ms 8000 --hold-max-ms 8000
forge_on 8180 a
wait_true 5 '[ "$(queue_waiting)" = 1 ]' || fail "A: the suspect reset is not held (waiting: $(queue_waiting))"
sleep_until=$((SECONDS + 1))
# Held means no verdict yet, so no event either; give it a moment to be sure.
while [ $SECONDS -lt $sleep_until ]; do [ "$(count_events 8180 True)" = 0 ] || break; done
[ "$(count_events 8180 True)" = 0 ] || fail "A: an event was written for a reset still held"
ok "A: the suspect reset waits in the queue, no event yet"

t0=$SECONDS
kill -TERM "$daemon"
wait "$daemon"; rc=$?
[ "$rc" = 0 ] || fail "B: daemon exited $rc on SIGTERM while holding"
[ $((SECONDS - t0)) -le 3 ] || fail "B: SIGTERM took $((SECONDS - t0)) s while holding"
none_waiting || fail "B: $(queue_waiting) packets still waiting after the daemon stopped"
[ "$(count_events 8180 "e['action'] == 'accept' and e['rst']['origin'] == 'middlebox'")" = 1 ] ||
	fail "B: the released reset's event: $(grep 8180 "$EV")"
touch "$tmp/resume-a"
wait "$client_a"
case $(tail -n 1 "$tmp/cl-a.out") in "reset after"*) ;;
*) fail "B: the reset held at SIGTERM never reached the client: $(cat "$tmp/cl-a.out")" ;; esac
no_sanitizer_report d1
check_accounting d1 "$EV"    # the reset released at SIGTERM is counted and logged once
ok "B: SIGTERM let the held reset through (exit 0 in $((SECONDS - t0)) s), event logged, none waiting"

# --- C, D: the count cap and the deadline ----------------------------------
EV=$tmp/events2.log
start_daemon d2 --mode enforce --rate-limit 0 --hold-count 1 --hold-min-ms 3000 \
	--hold-max-ms 3000
forge_on 8181 c1
wait_true 5 '[ "$(queue_waiting)" = 1 ]' || fail "C: the first suspect reset is not held"
forge_on 8182 c2
wait_for 5 accepted_once 8182 ||
	fail "C: the second suspect reset was not judged at once with the hold full"
[ "$(queue_waiting)" = 1 ] || fail "C: $(queue_waiting) waiting, want the first reset alone"
[ "$(count_events 8181 True)" = 0 ] || fail "C: the first reset was decided before its deadline"
m=$(metrics) || fail "GET /metrics"
[ "$(metric_sum 'rstwatch_holds_total{outcome="full"}' "$m")" = 1 ] || fail "C: holds full: $m"
ok "C: with the hold full, the next suspect reset is judged at once"
# D: the deadline lets the first one through by itself.
wait_for 10 none_waiting || fail "D: the held reset outlived its deadline"
wait_for 5 accepted_once 8181 || fail "D: no event at the deadline"
touch "$tmp/resume-c1" "$tmp/resume-c2"
wait "$client_c1" "$client_c2"
for n in c1 c2; do
	case $(tail -n 1 "$tmp/cl-$n.out") in "reset after"*) ;;
	*) fail "D: stream $n survived a reset that was let through: $(cat "$tmp/cl-$n.out")" ;; esac
done
# Every reset counted once, when its 2 s watch ended: the two forged, and the
# client's answers to the server's later packets, if any came.
settled() {
	local m
	m=$(metrics) || return 1
	[ "$(metric_sum 'rstwatch_holds_total{outcome="deadline"}' "$m")" = 2 ]
}
wait_for 10 settled || fail "D: the watches did not end: $(metrics | grep holds_total)"
m=$(metrics) || fail "GET /metrics"
resets=$(metric_sum rstwatch_resets_total "$m")
suppressed=$(metric_sum rstwatch_events_suppressed_total "$m")
dropped=$(metric_sum rstwatch_events_dropped_total "$m")
events=$(grep -c '"event_type":"rst"' "$EV")
amended=$(grep -c '"amends"' "$EV")
[ "$resets" = $((events - amended + suppressed + dropped)) ] ||
	fail "D: resets_total $resets != events $events - amendments $amended + suppressed $suppressed + dropped $dropped"
[ "$(metric_sum 'rstwatch_holds_total{outcome="taken"}' "$m")" = 2 ] &&
[ "$(metric_sum 'rstwatch_holds_total{outcome="held"}' "$m")" = 1 ] || fail "D: holds: $m"
stop_daemon d2
ok "D: the deadline let the held reset through; resets_total $resets = events $events - amendments $amended + suppressed $suppressed + dropped $dropped"
