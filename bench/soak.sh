#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Soak (issue 14): `rstwatch run` (the optimised build) in the client -
# gateway - server namespaces of tests/live/lib.sh for SOAK_SECONDS (default
# 1800) under mixed traffic, sampled every second:
#   - short connections through the gateway (conn_bench rate, RATE/s, 300),
#   - refused connections, IPv4 and IPv6, 10/s (real resets, queued),
#   - a flood of FLOOD forged resets (flood.py) every minute,
#   - a scrape of /metrics every second (the sampler's own),
#   - mv + SIGHUP of the event log every minute, one `nft flush ruleset` at
#     half time.
# Writes build/bench/soak.tsv (second, RSS KiB, fds, threads, queue packets,
# verdicts, resets_total, unseen) and prints the first and last minutes; at the
# end SIGTERM, and the event logs (all rotations) must add up to the counts the
# daemon printed (tests/schema/eve.py account). Needs root. Run by hand.
source "$(dirname "$0")/../tests/live/lib.sh"
RSTWATCH=build/rstwatch
SECS=${SOAK_SECONDS:-1800} RATE=${RATE:-300} FLOOD=${FLOOD:-20000}
make -s build/rstwatch build/bench/conn_bench >/dev/null || fail "build"
need nft
topology_up
EV=$tmp/events.log
out=build/bench/soak.tsv
mkdir -p build/bench

bg server "$S" build/bench/conn_bench serve 8080 -t $((SECS + 60))
start_daemon soak
end=$((SECONDS + SECS))

bg conns "$C" bash -c "while [ \$SECONDS -lt $SECS ]; do build/bench/conn_bench rate $S4 8080 -r $RATE -n $((RATE * 10)) >/dev/null || sleep 1; done"
conns=$bg_pid
bg refused "$C" "$PY" -c '
import socket, sys, time
end = time.time() + float(sys.argv[3])
while time.time() < end:
    for host in sys.argv[1:3]:
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.settimeout(2)
        try:
            s.connect((host, 7001))
        except OSError:
            pass
        s.close()
    time.sleep(0.2)' "$S4" "$S6" "$SECS"
refused=$bg_pid
floods=()

rotations=()
printf 'second\trss_kb\tfds\tthreads\tqueue_packets\tverdicts\tresets\tunseen\n' >"$out"
flushed=0
for ((t = 1; SECONDS < end; t++)); do
	page=$(metrics 2>/dev/null) || page=
	printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(rss_kb "$daemon")" \
		"$(ls /proc/"$daemon"/fd | wc -l)" "$(ls /proc/"$daemon"/task | wc -l)" \
		"$(metric_sum rstwatch_queue_packets_total "$page")" \
		"$(metric_sum rstwatch_queue_verdicts_total "$page")" \
		"$(metric_sum rstwatch_resets_total "$page")" \
		"$(metric_sum rstwatch_queue_unseen_total "$page")" >>"$out"
	if ((t % 60 == 30)); then
		in_ns "$C" "$PY" tests/live/flood.py $C4 $S4 "$FLOOD" 9 &
		floods+=($!)
	fi
	if ((t % 60 == 0)); then
		mv "$EV" "$EV.$t" && rotations+=("$EV.$t")
		kill -HUP "$daemon"
	fi
	if ((flushed == 0 && SECONDS >= end - SECS / 2)); then
		in_ns "$G" nft flush ruleset
		flushed=$t
	fi
	kill -0 "$daemon" || fail "the daemon died at second $t"
	sleep 1
done
wait "$conns" "$refused" "${floods[@]}"
stop_daemon soak "${rotations[@]}"
echo "soak: ${SECS}s, ${#rotations[@]} log rotations, flush at second $flushed; $out"
head -n 2 "$out" | column -t
echo ...
awk -v n="$(wc -l <"$out")" 'NR == n' "$out" | column -t
awk -F'\t' 'NR > 1 && NR <= 61 { r0 += $2; f0 += $3; n0++ } NR > 1 { rss[NR] = $2; fd[NR] = $3; last = NR }
	END { for (i = last - 59; i <= last; i++) { r1 += rss[i]; f1 += fd[i]; n1++ }
	      printf "first minute: RSS %.0f KiB, %.1f fds; last minute: RSS %.0f KiB, %.1f fds\n", r0 / n0, f0 / n0, r1 / n1, f1 / n1 }' "$out"
