#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The event log when its sink misbehaves (issue #14, 2-4). Until then a queue
# thread wrote its events itself: a pipe nobody read blocked it after 131
# packets (traffic passed unjudged) and held SIGTERM until the pipe drained;
# a full disk left half a line glued to the next; the file's mode followed
# the umask.
#  A. --log - into a pipe nobody reads (--log-buffer 65536): a burst of 2,000
#     resets is received and judged all the same (received + unseen = what
#     the kernel queued, resets_total = received), and a refused connection
#     after it too; the events that did not fit are dropped, counted
#     (rstwatch_events_dropped_total) and said on stderr; the events in the
#     pipe + dropped (+ those still waiting at exit, said on stderr) =
#     resets_total; SIGTERM exits 0 within a second, the pipe still unread;
#  B. a full file system (64 KiB tmpfs): what does not fit is dropped and
#     counted (reason error, stderr says why); once space returns, new events
#     are written, and the file holds whole JSON lines only; events + dropped
#     = resets_total;
#  C. umask 000: the event log is created 0640, and again after mv + SIGHUP.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft mount
topology_up
conn() { in_ns "$C" "$PY" tests/live/peer.py connect "$@"; }
quiet_queue() { wait_for 10 none_waiting || fail "$(queue_waiting) packets still waiting"; }
# json_counts FILE: "EVENTS LINES BAD": first events (rst, not amendments),
# lines, lines that are not one whole JSON object.
json_counts() {
	"$PY" -c '
import json, sys
ev = n = bad = 0
for line in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    n += 1
    try:
        e = json.loads(line)
    except ValueError:
        bad += 1
        continue
    if e.get("event_type") == "rst" and "amends" not in e:
        ev += 1
print(ev, n, bad)' "$1"
}
# late_events NAME: events the daemon said were still waiting at exit.
late_events() {
	sed -n 's/.* lines (\([0-9]*\) events) still waiting .*/\1/p' "$tmp/$1.err" | tail -n 1 |
		grep . || echo 0
}

# --- A ----------------------------------------------------------------------
mkfifo "$tmp/pipe"
exec 9<>"$tmp/pipe"      # open for reading (so the daemon's open succeeds), never read
ip netns exec "$G" "$RSTWATCH" run --log - --metrics "$METRICS_ADDR" --rate-limit 0 \
	--rate-limit-total 0 --log-buffer 65536 >"$tmp/pipe" 2>"$tmp/d1.err" &
daemon=$!
pids+=("$daemon")
wait_for 15 grep -q 'rstwatch: running' "$tmp/d1.err" || fail "A: daemon did not start"
in_ns "$C" "$PY" tests/live/flood.py $C4 $S4 2000 9 || fail "A: flood"
quiet_queue
r=$(conn $S4 7001) ; [ "$r" = refused ] || fail "A: connect to a closed port after the burst: $r"
quiet_queue
sleep 0.5
m=$(metrics) || fail "A: GET /metrics"
resets=$(metric_sum rstwatch_resets_total "$m")
qpkts=$(metric_sum 'rstwatch_queue_packets_total{queue="7300"}' "$m")
unseen=$(metric_sum rstwatch_queue_unseen_total "$m")
dropped=$(metric_sum rstwatch_events_dropped_total "$m")
k_queued=$(nfqueue_field 7300 8)
echo "A: kernel queued $k_queued; received $qpkts, unseen $unseen; resets_total $resets; events dropped $dropped"
[ $((qpkts + unseen)) = "$k_queued" ] ||
	fail "A: received $qpkts + unseen $unseen != $k_queued the kernel queued: the queue thread stopped reading"
[ "$resets" = "$qpkts" ] || fail "A: resets_total $resets != $qpkts received"
[ "$dropped" -gt 0 ] || fail "A: nothing dropped with the pipe unread: $(grep dropped <<<"$m")"
grep -q 'event log -: .* dropped so far' "$tmp/d1.err" || fail "A: no word of the dropped events on stderr"
[ "$(grep -c 'dropped so far' "$tmp/d1.err")" = 1 ] || fail "A: more than one line on stderr about the drops"
t0=$(date +%s%N)
kill -TERM "$daemon"
wait "$daemon" || fail "A: exit $? on SIGTERM with the pipe unread"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 1000 ] || fail "A: SIGTERM took $ms ms with the pipe unread"
no_sanitizer_report d1
timeout 1 cat <&9 >"$tmp/piped.txt"    # what the pipe holds (cat then waits: fd 9 writes too)
exec 9>&-
read -r written lines bad < <(json_counts "$tmp/piped.txt")
late=$(late_events d1)
[ "$bad" = 0 ] || fail "A: $bad of the $lines lines in the pipe are not whole JSON lines"
[ $((written + dropped + late)) = "$resets" ] ||
	fail "A: $written events in the pipe + $dropped dropped + $late at exit != resets_total $resets"
ok "A: pipe unread: all $qpkts received resets judged ($unseen unseen), $written events in the pipe + $dropped dropped + $late at exit = resets_total $resets; SIGTERM exit 0 in $ms ms"

# --- B ----------------------------------------------------------------------
mkdir "$tmp/small"
mount -t tmpfs -o size=64k rstwatch-small "$tmp/small" || skip "cannot mount a tmpfs"
cleanup_hooks+=('umount -l "$tmp/small"')
dd if=/dev/zero of="$tmp/small/filler" bs=1k count=40 status=none
EV=$tmp/small/events.log
start_daemon d2 --rate-limit 0 --rate-limit-total 0
in_ns "$C" "$PY" tests/live/flood.py $C4 $S4 300 9 || fail "B: flood"
quiet_queue
failed() { [ "$(metric_sum rstwatch_log_errors_total)" -gt 0 ]; }
wait_for 5 failed || fail "B: no log error counted on a full file system"
rm "$tmp/small/filler"
for p in 7002 7003 7004; do
	r=$(conn $S4 $p) ; [ "$r" = refused ] || fail "B: connect to a closed port: $r"
done
wait_for 5 grep -q '"src_port":7004,' "$EV" || fail "B: no event written once space returned"
quiet_queue
m=$(metrics) || fail "B: GET /metrics"
resets=$(metric_sum rstwatch_resets_total "$m")
dropped=$(metric_sum rstwatch_events_dropped_total "$m")
errors=$(metric_sum rstwatch_log_errors_total "$m")
stop_daemon d2
read -r written lines bad < <(json_counts "$EV")
late=$(late_events d2)
[ "$bad" = 0 ] || fail "B: $bad of the $lines lines are not whole JSON lines: $(grep -v '}$' "$EV" | head -c 300)"
[ "$(metric_sum 'rstwatch_events_dropped_total{reason="error"}' "$m")" -gt 0 ] ||
	fail "B: no event counted as dropped for an error"
grep -q 'because writing failed: No space left on device' "$tmp/d2.err" || fail "B: stderr does not say the disk is full"
[ $((written + dropped + late)) = "$resets" ] ||
	fail "B: $written events written + $dropped dropped + $late at exit != resets_total $resets"
ok "B: 64 KiB tmpfs: $lines whole JSON lines, $written events + $dropped dropped ($errors errors) = resets_total $resets"

# --- C ----------------------------------------------------------------------
mkdir "$tmp/perm"
EV=$tmp/perm/events.log
bg d3 "$G" sh -c 'umask 000; exec "$@"' sh "$RSTWATCH" run --log "$EV" --metrics "$METRICS_ADDR"
daemon=$bg_pid
wait_for 15 grep -q 'rstwatch: running' "$tmp/d3.err" || fail "C: daemon did not start"
mode=$(stat -c %a "$EV")
[ "$mode" = 640 ] || fail "C: with umask 000 the event log was created $mode, want 640"
mv "$EV" "$EV.1"
kill -HUP "$daemon"
wait_for 5 test -e "$EV" || fail "C: log not reopened after SIGHUP"
mode2=$(stat -c %a "$EV")
[ "$mode2" = 640 ] || fail "C: reopened after SIGHUP with umask 000: $mode2, want 640"
stop_daemon d3
ok "C: umask 000: the event log is created 0640, and again after mv + SIGHUP"
no_sanitizer_report
echo "1 passed, 0 failed"
