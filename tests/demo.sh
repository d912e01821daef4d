#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: what an operator sees on a real gateway. Three network namespaces
# (client - gateway - server, TEST-NET addresses), `rstwatch run` on the
# gateway, and every reset cause of tests/scenarios played in turn, IPv4 then
# IPv6: the plain-English line of each reset as it arrives, then a summary by
# class and the daemon's metrics. Everything is deleted on exit.
# DEMO_PAUSE=seconds between scenarios (default 1).
if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root (network namespaces, nftables, NFQUEUE): sudo make demo" >&2
	exit 2
fi
source "$(dirname "$0")/live/lib.sh"
source tests/scenarios/scenarios.sh
RSTWATCH=build/rstwatch
need "$RSTWATCH" nft ss
topology_up
EV=$tmp/rstwatch.log SC_LOG=$tmp/rstwatch.log
: >"$EV"
# Each line as the daemon writes it, indented under the scenario's caption.
tail -n 0 --pid=$$ -f "$EV" | sed -u 's/^/    /' &
pids+=($!)

# The keepalive scenario compresses Linux's 7200 s / 75 s x 9 into 1 s / 1 s x 2,
# so the idle threshold is scaled with it (default 300 s).
run_args=(--format text --idle-threshold 2)
echo "rstwatch run ${run_args[*]}   (in the gateway namespace)"
dname=observe
start_daemon $dname "${run_args[@]}" 2>/dev/null   # nft's warnings about the xt target

# settled PORT4 PORT6: the daemon's lines for the scenario stopped coming.
settled() {
	local n m
	n=$(($(logged "$1") + $(logged "$2")))
	sleep 0.3
	m=$(($(logged "$1") + $(logged "$2")))
	[ "$n" = "$m" ] && [ "$m" -gt 0 ]
}

for name in "${SCENARIOS[@]}"; do
	if [ -n "${DAEMON[$name]}" ]; then
		[ -n "${observe_metrics:-}" ] || observe_metrics=$(metrics)
		stop_daemon $dname
		echo
		echo "rstwatch run ${run_args[*]} ${DAEMON[$name]}   (restarted)"
		read -r -a extra <<<"${DAEMON[$name]}"
		dname=$name
		start_daemon $dname "${run_args[@]}" "${extra[@]}" 2>/dev/null
	fi
	echo
	echo "== ${CAPTION[$name]}"
	for fam in 4 6; do
		sc_play "$name" $fam
	done
	wait_for 5 settled "$(sc_port "$name" 4)" "$(sc_port "$name" 6)"
	sleep "${DEMO_PAUSE:-1}"
done

echo
echo "== summary by class (all the lines above)"
awk '$4 == ">" { n[$7]++ } END { for (c in n) printf "%6d  %s\n", n[c], c }' "$EV" | sort -k2
echo
echo "== metrics (GET /metrics): resets by class, origin and action; the queue"
filter() {
	grep -E '^rstwatch_(resets_total|queue_packets_total|queue_verdicts_total|nfqueue_)' |
		grep -v ' 0$'
}
echo "-- the observing daemon, before the restart:"
filter <<<"${observe_metrics:-$(metrics)}"
echo "-- the last enforcing daemon:"
metrics | filter
stop_daemon $dname
echo
echo "demo done: namespaces, rules and processes are removed on exit"
