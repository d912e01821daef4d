#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The /metrics server under hostile and crowded clients (issue #14, 1). Until
# then one slow client froze the daemon's main thread: the ruleset watchdog
# waited on it (a flushed table came back after 43 s), idle connections
# delayed every scrape by 200 ms each, and a backlog of 16 lost scrapes:
#  A. 3 slow-loris clients (a byte every 50 ms, never ending the request) and
#     200 idle ones (each back 100 ms after it is closed): a scrape answers
#     within 1 s, five times over;
#  B. meanwhile `nft flush ruleset`: the table is back within 2 s;
#  C. meanwhile 1,500 scrapes at once: every one answered;
#  D. the daemon still judges (a refused connection is reported), SIGTERM
#     exits 0 with the clients still there, no sanitizer report.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft
topology_up
EV=$tmp/events.log
host=${METRICS_ADDR%:*} port=${METRICS_ADDR##*:}
abuse() { in_ns "$G" "$PY" tests/live/http_abuse.py "$host" "$port" "$@"; }
conn() { in_ns "$C" "$PY" tests/live/peer.py connect "$@"; }

start_daemon d --rate-limit 0
bg loris "$G" "$PY" tests/live/http_abuse.py "$host" "$port" slowloris 3
bg idle "$G" "$PY" tests/live/http_abuse.py "$host" "$port" idle 1000
wait_for 10 grep -q ready "$tmp/loris.out" || fail "slow-loris clients did not connect"
wait_for 10 grep -q ready "$tmp/idle.out" || fail "idle clients did not connect"
sleep 1    # the slow requests are well under way

# --- A ----------------------------------------------------------------------
worst=0
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	metrics >"$tmp/page.txt" || fail "A: scrape $i failed while slow and idle clients are connected"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -gt "$worst" ] && worst=$ms
	grep -q '^rstwatch_build_info' "$tmp/page.txt" || fail "A: scrape $i: no metrics in the page"
done
[ "$worst" -lt 1000 ] || fail "A: a scrape took $worst ms with slow and idle clients connected"
ok "A: 3 slow-loris and 1,000 idle clients: 5 scrapes, the slowest $worst ms"

# --- B ----------------------------------------------------------------------
in_ns "$G" nft flush ruleset
t0=$(date +%s%N)
has_table() { in_ns "$G" nft list table inet rstwatch >/dev/null 2>&1; }
wait_for 10 has_table || fail "B: table not reinstalled within 10 s of the flush"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -le 2000 ] || fail "B: the flushed table came back after $ms ms (want 2 s at most)"
ok "B: with those clients, nft flush ruleset: the table was back after $ms ms"

# --- C ----------------------------------------------------------------------
r=$(abuse burst 1500) || fail "C: burst client failed"
case $r in "answered 1500 of 1500 "*) ;; *) fail "C: 1,500 scrapes at once: $r" ;; esac
ok "C: 1,500 scrapes at once, with the slow and idle clients: $r"

# --- D ----------------------------------------------------------------------
r=$(conn $S4 7001) ; [ "$r" = refused ] || fail "D: connect to a closed port: $r"
wait_for 10 grep -q '"event_type":"rst".*"src_port":7001,' "$EV" || fail "D: the refused connection was not reported"
t0=$(date +%s%N)
stop_daemon d
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 2000 ] || fail "D: SIGTERM took $ms ms with the clients connected"
ok "D: still judging; SIGTERM with the clients connected: exit 0 after $ms ms"
no_sanitizer_report
echo "1 passed, 0 failed"
