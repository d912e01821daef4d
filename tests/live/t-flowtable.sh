#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Resilience of rstwatch run (issue #5): a flow table far too small.
# --max-flows 4: a connection is established (its handshake seen), then ten
# refused connections push it out of the table (LRU eviction), then its
# client aborts it (SO_LINGER 0). For IPv4 and IPv6, with and without
# conntrack:
#  A. evictions are counted (rstwatch_flows_evicted_total), the table never
#     holds more than 4 flows, and the daemon survives;
#  B. the reset on the evicted flow is reported honestly: evidence
#     "no-flow-history", and either class unknown (no conntrack) or the
#     low-confidence class conntrack's state alone supports (< 0.5), never a
#     confident class made up from missing history;
#  C. control: with the default table the same abort is abort/client/endpoint
#     with the flow's history behind it.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft conntrack
topology_up
EV=$tmp/events.log
conn() { in_ns "$C" "$PY" tests/live/peer.py connect "$@"; }

bg server "$S" "$PY" tests/live/peer.py serve 8080
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"

# abort_after_eviction DST SPORT EVICT: establish from SPORT, then (if EVICT)
# ten refused connections, then abort; prints the reset's event.
abort_after_eviction() {
	local dst=$1 sport=$2 evict=$3 i
	rm -f "$tmp/go"
	bg abort "$C" "$PY" tests/live/peer.py abort "$dst" 8080 "$sport" "$tmp/go"
	local client=$bg_pid
	wait_for 10 grep -q ready "$tmp/abort.out" || fail "abort client did not connect ($dst)"
	if [ "$evict" = 1 ]; then
		for i in $(seq 7001 7010); do
			r=$(conn "$dst" $i) ; [ "$r" = refused ] || fail "connect $dst:$i: $r"
		done
	fi
	touch "$tmp/go"
	wait "$client" || fail "abort client failed"
	wait_for 10 grep -q "\"src_port\":$sport," "$EV" || fail "no event for the abort from $sport"
	grep "\"src_port\":$sport," "$EV" | "$PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)["rst"]
    print(r["class"], r["origin"], r["sender"], r["confidence"], ",".join(r["evidence"]))'
}

sport=45000
for ct in conntrack no-conntrack; do
	args=(--max-flows 4 --rate-limit 0)
	[ $ct = no-conntrack ] && args+=(--no-conntrack)
	: >"$EV"
	start_daemon "small-$ct" "${args[@]}"
	for dst in $S4 $S6; do
		sport=$((sport + 1))
		e=$(abort_after_eviction "$dst" $sport 1)
		echo "evicted, $ct, $dst: $e"
		set -- $e
		case $5 in *no-flow-history*) ;; *) fail "B: no 'no-flow-history' in the evidence ($ct, $dst): $e" ;; esac
		if [ $ct = no-conntrack ]; then
			[ "$1 $2" = "unknown unknown" ] || fail "B: without history or conntrack: $e, want unknown"
		else
			"$PY" -c 'import sys; sys.exit(float(sys.argv[1]) >= 0.5)' "$4" ||
				fail "B: confidence $4 without the flow's history ($dst): $e"
		fi
	done
	wait_true 5 '[ "$(metric_sum rstwatch_flows_evicted_total)" -gt 0 ]' || fail "A: no eviction counted"
	evicted=$(metric_sum rstwatch_flows_evicted_total)
	tracked=$(metric_sum rstwatch_flows_tracked)
	[ "$tracked" -le 8 ] || fail "A: $tracked flows tracked (4 per table)"
	kill -0 "$daemon" || fail "A: daemon died"
	stop_daemon "small-$ct"
	ok "A, B ($ct): $evicted evictions counted, $tracked tracked; resets on evicted flows honest"
done

: >"$EV"
start_daemon big --rate-limit 0
for dst in $S4 $S6; do
	sport=$((sport + 1))
	e=$(abort_after_eviction "$dst" $sport 1)
	echo "control, $dst: $e"
	case $e in "abort endpoint client "*) ;; *) fail "C: abort with a full history reported as: $e" ;; esac
	case $e in *no-flow-history*) fail "C: 'no-flow-history' with the history present: $e" ;; esac
done
[ "$(metric_sum rstwatch_flows_evicted_total)" = 0 ] || fail "C: evictions in a 262144-flow table"
stop_daemon big
ok "C: with room in the table the same aborts are abort/endpoint/client"
no_sanitizer_report
echo "1 passed, 0 failed"
