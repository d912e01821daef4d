#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon's threads under ThreadSanitizer (issue 14 item 7): the queue and
# log-group readers write their counters while the metrics thread renders
# them, the control socket answers status, SIGHUP reopens the log. The
# counters were once plain fields read by /metrics as the nflog thread wrote
# them; TSan names any such pair of accesses. Here the TSan build
# (build/tsan/rstwatch) judges real refused connections, IPv4 and IPv6
# (resets queued, handshakes copied), while /metrics is scraped and status
# asked in a loop and the log is rotated; then: no TSan report, the numbers
# add up (stop_daemon), nothing waiting.
source "$(dirname "$0")/lib.sh"
RSTWATCH=build/tsan/rstwatch
need "$RSTWATCH" nft
topology_up
EV=$tmp/events.log
# halt_on_error=0: every report is written, the test fails on the first.
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1"
# TSan cannot start when the kernel randomises mmap with more bits than it
# knows (it says "unexpected memory mapping"): a skip, not a failure.
if ! "$RSTWATCH" --version >/dev/null 2>"$tmp/tsan-probe.err"; then
	skip "the TSan build does not start here: $(head -c 200 "$tmp/tsan-probe.err")"
fi

start_daemon d --rate-limit 0
bg load "$C" "$PY" -c '
import socket, sys, time
end = time.time() + 6
n = 0
while time.time() < end and n < 4000:
    for host in sys.argv[1:3]:
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.settimeout(2)
        try:
            s.connect((host, 7200 + n % 50))
        except OSError:
            pass
        s.close()
        n += 1
    time.sleep(0.002)
print(n)' "$S4" "$S6"
load=$bg_pid
scrapes=0 statuses=0
while kill -0 "$load" 2>/dev/null; do
	metrics >/dev/null && scrapes=$((scrapes + 1))
	in_ns "$G" "$RSTWATCH" status --control "$tmp/control" >/dev/null 2>&1 && statuses=$((statuses + 1))
	if [ $((scrapes % 20)) = 10 ]; then
		mv "$EV" "$tmp/d.$scrapes.log" && kill -HUP "$daemon"
	fi
done
wait "$load" || fail "the load generator failed"
connects=$(cat "$tmp/load.out")
[ "$scrapes" -ge 10 ] || fail "only $scrapes scrapes answered"
wait_for 5 none_waiting || fail "$(queue_waiting) packets still waiting"
resets=$(metric_sum rstwatch_resets_total)
[ "$resets" -ge "$connects" ] || fail "resets_total $resets for $connects refused connections"
kill -TERM "$daemon"
wait "$daemon" || fail "daemon exited with $? on SIGTERM"
if grep -q 'ThreadSanitizer' "$tmp/d.err"; then
	grep -m 3 -A 25 'WARNING: ThreadSanitizer' "$tmp/d.err"
	fail "ThreadSanitizer: $(grep -c 'WARNING: ThreadSanitizer' "$tmp/d.err") reports"
fi
logs=()
for f in $(ls -tr "$tmp"/d.[0-9]*.log 2>/dev/null); do logs+=("$f"); done
check_accounting d "${logs[@]}" "$EV"
ok "$connects refused connections, $scrapes scrapes, $statuses status answers, SIGHUPs: no TSan report"
