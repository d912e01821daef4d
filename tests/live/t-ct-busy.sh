#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Conntrack failing under rstwatch the way it does on a busy gateway (issue 14):
# entries vanish between the packets rstwatch judges and its lookups and mark
# updates (`conntrack -D`, early drop when the table is full, a flush after a
# failover). Each is counted, none costs a verdict or a connection:
#  A. an entry deleted before its reset: the lookup says missing, the reset is
#     judged without conntrack and let through (the peer gets it);
#  C. churn: every TCP entry deleted 50 times a second while 120 connections
#     are refused and 40 aborted, IPv4 and IPv6: every connect ends (refused,
#     never a timeout: nothing blackholed), nothing is left waiting, each
#     reset had one lookup (found + missing + error + shed = resets_total),
#     every failure is named in rstwatch_ct_errors_total, and the event log
#     adds up (stop_daemon);
#  B. (last: its flow's late packets may bring resets of their own, copied,
#     not looked up) an entry deleted while its flow is watched: the update
#     that ends the watch finds it gone, counted as
#     rstwatch_ct_marks_total{result="gone"}, not as an error.
# A table at nf_conntrack_max cannot be made here: the limit is the init
# namespace's, shared with the host. Its effect on rstwatch is A's (no entry
# for a flow whose packets passed) and C's (entries dropped early).
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft conntrack
topology_up
EV=$tmp/events.log
conn() { in_ns "$C" "$PY" tests/live/peer.py connect "$@"; }
# events_on PORT PYTHON-CONDITION: how many reset events from or to PORT match.
events_on() { "$PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event_type") == "rst" and int(sys.argv[2]) in (e["src_port"], e["dest_port"]):
        n += bool(eval(sys.argv[3]))
print(n)' "$EV" "$@"; }
ct_gw() { in_ns "$G" conntrack "$@" 2>/dev/null; }

bg server "$S" "$PY" tests/live/peer.py serve 8190 8191
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"
start_daemon d --rate-limit 0 --watch-seconds 1

# --- A ----------------------------------------------------------------------
m=$(metrics) || fail "GET /metrics"
missing0=$(metric_sum 'rstwatch_ct_lookups_total{result="missing"}' "$m")
bg ab "$C" "$PY" tests/live/peer.py abort "$S4" 8190 40190 "$tmp/go-a"
wait_for 10 grep -q ready "$tmp/ab.out" || fail "A: the client did not connect: $(cat "$tmp/ab.err")"
ct_gw -D -p tcp --sport 40190 >/dev/null || fail "A: no conntrack entry to delete"
touch "$tmp/go-a"
wait_true 10 '[ "$(events_on 40190 True)" = 1 ]' || fail "A: no event for the abort reset"
none_waiting || fail "A: $(queue_waiting) packets waiting"
m=$(metrics) || fail "GET /metrics"
[ "$(metric_sum 'rstwatch_ct_lookups_total{result="missing"}' "$m")" = $((missing0 + 1)) ] ||
	fail "A: lookups missing $(metric_sum 'rstwatch_ct_lookups_total{result="missing"}' "$m"), want $((missing0 + 1))"
[ "$(events_on 40190 "e['action'] == 'accept' and not any(x.startswith('ct-state') for x in e['rst']['evidence'])")" = 1 ] ||
	fail "A: the event: $(grep 40190 "$EV")"
# The reset reached the server: its side of the connection is gone.
server_closed() { [ -z "$(in_ns "$S" ss -Htn state established "( sport = :8190 )")" ]; }
wait_for 5 server_closed ||
	fail "A: the server still has the connection: the reset never arrived"
ok "A: entry deleted before its reset: lookup missing, judged without it, let through"

# --- C ----------------------------------------------------------------------
m=$(metrics) || fail "GET /metrics"
resets0=$(metric_sum rstwatch_resets_total "$m")
lookups0=$(metric_sum rstwatch_ct_lookups_total "$m")
bg churn "$G" bash -c 'for _ in $(seq 1000); do conntrack -D -p tcp >/dev/null 2>&1; sleep 0.02; done'
churn=$bg_pid
bg refused "$C" "$PY" -c '
import socket, sys
out = {}
for i in range(60):
    for host in sys.argv[1:3]:
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.settimeout(3)
        try:
            s.connect((host, 7100 + i % 20))
            r = "connected"
        except ConnectionRefusedError:
            r = "refused"
        except OSError as e:
            r = type(e).__name__
        out[r] = out.get(r, 0) + 1
        s.close()
print(" ".join("%s=%d" % kv for kv in sorted(out.items())))' "$S4" "$S6"
refused=$bg_pid
aborts=()
for i in $(seq 0 39); do
	host=$S4; [ $((i % 2)) = 1 ] && host=$S6
	bg ab$i "$C" "$PY" tests/live/peer.py abort "$host" 8190 $((41000 + i)) "$tmp/go-c"
	aborts+=("$bg_pid")
done
all_ready() { [ "$(cat "$tmp"/ab[0-9]*.out 2>/dev/null | grep -c ready)" = 40 ]; }
wait_for 20 all_ready || fail "C: only $(cat "$tmp"/ab[0-9]*.out | grep -c ready) of 40 clients connected"
touch "$tmp/go-c"
wait "$refused" || fail "C: the refused connections failed: $(cat "$tmp/refused.err")"
for p in "${aborts[@]}"; do wait "$p" || fail "C: an aborting client failed"; done
kill "$churn" 2>/dev/null; wait "$churn" 2>/dev/null
[ "$(cat "$tmp/refused.out")" = "refused=120" ] ||
	fail "C: connects under churn ended $(cat "$tmp/refused.out"), want refused=120"
# C's resets are told by their ports (B's client may still answer a late
# segment with a reset of its own: counted, but not C's).
c_events() { "$PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    n += e.get("event_type") == "rst" and (7100 <= e["src_port"] < 7120 or 41000 <= e["src_port"] < 41040)
print(n)' "$EV"; }
wait_true 10 '[ "$(c_events)" -ge 160 ]' || fail "C: $(c_events) events for the 160 resets"
wait_for 5 none_waiting || fail "C: $(queue_waiting) packets still waiting"
[ "$(c_events)" = 160 ] || fail "C: $(c_events) events for 160 resets"
m=$(metrics) || fail "GET /metrics"
resets=$(metric_sum rstwatch_resets_total "$m")
lookups=$(metric_sum rstwatch_ct_lookups_total "$m")
[ $((resets - resets0)) -ge 160 ] || fail "C: resets_total up by $((resets - resets0)) for 160 resets"
[ $((lookups - lookups0)) = $((resets - resets0)) ] ||
	fail "C: $((lookups - lookups0)) lookups for $((resets - resets0)) resets: $(grep ct_lookups <<<"$m")"
lookup_errors=$(metric_sum 'rstwatch_ct_lookups_total{result="error"}' "$m")
named=$(metric_sum 'rstwatch_ct_errors_total{op="lookup"' "$m")
[ "$lookup_errors" = "$named" ] || fail "C: $lookup_errors lookup errors, $named named by errno"
[ "$(metric_sum 'rstwatch_ct_marks_total{result="error"}' "$m")" = "$(metric_sum 'rstwatch_ct_errors_total{op="mark"' "$m")" ] ||
	fail "C: mark errors not all named: $(grep ct_ <<<"$m")"
summary=$(grep -E '^rstwatch_ct_(lookups|marks)_total' <<<"$m" | sed 's/^rstwatch_ct_//' | tr '\n' ' ')
ok "C: 160 resets under churn, every connect refused or reset, none waiting, one lookup each: $summary"

# --- B ----------------------------------------------------------------------
forge_on 8191 b
forged_seen() { [ "$(events_on 8191 "e['rst']['origin'] == 'middlebox'")" -ge 1 ]; }
wait_for 5 forged_seen ||
	fail "B: no middlebox event for the forged reset: $(grep 8191 "$EV")"
ct_mark=$(ct_gw -L -p tcp --dport 8191 | grep -o 'mark=[0-9]*' | head -n 1)
[ -n "$ct_mark" ] && [ "$ct_mark" != mark=0 ] || fail "B: the watched flow is not marked ($ct_mark)"
gone0=$(metric_sum 'rstwatch_ct_marks_total{result="gone"}' "$(metrics)")
ct_gw -D -p tcp --dport 8191 >/dev/null || fail "B: no conntrack entry to delete"
gone_counted() { [ "$(metric_sum 'rstwatch_ct_marks_total{result="gone"}' "$(metrics)")" -gt "$gone0" ]; }
wait_for 5 gone_counted || fail "B: the watch's end did not count its entry gone: $(metrics | grep ct_marks)"
m=$(metrics) || fail "GET /metrics"
[ "$(metric_sum 'rstwatch_ct_marks_total{result="error"}' "$m")" = 0 ] ||
	fail "B: a vanished entry counted as a mark error: $(grep ct_marks <<<"$m")"
touch "$tmp/resume-b"
wait "$client_b"
ok "B: entry deleted while watched: the watch's end counted it gone, no error"

stop_daemon d
