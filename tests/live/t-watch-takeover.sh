#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t-watch-takeover.sh: a watch bit this rstwatch did not set is cleared all
# the same. The watch bit in a flow's conntrack mark makes the ruleset copy
# every packet of the flow to rstwatch; the daemon that set it clears it
# after --watch-seconds. A daemon killed meanwhile (kill -9; a clean stop
# too) leaves it set, and so does an HA peer that fails (conntrackd brings
# the mark over: t-fleet-ha.sh G). The daemon started next sees the flow's
# copies, takes the flow on its watch list and clears the bit when its
# --watch-seconds are over (before, nobody did, and the flow was copied for
# the rest of its life).
#  A. enforce mode drops a reset forged into a paused exchange (TTL 40) and
#     sets the watch bit; kill -9 leaves it set;
#  B. a new daemon: the exchange resumes and completes through it, and the
#     watch bit is gone within --watch-seconds (3) and a margin, the class and
#     dropped bits kept.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft conntrack
topology_up
EV=$tmp/events.log
WATCH=0x00800000

bg server "$S" "$PY" tests/live/peer.py serve 8081
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"
mark() {
	in_ns "$G" conntrack -L -p tcp --dport 8081 -d $S4 2>/dev/null |
		sed -n 's/.*mark=\([0-9]*\).*/\1/p' | head -n 1 | xargs -r printf '0x%08x\n'
}

# --- A ----------------------------------------------------------------------
start_daemon d1 --mode enforce --suppress firewall --rate-limit 0 --watch-seconds 3
bg forge "$S" "$PY" tests/live/forge.py sg0 8081 40 0 "$tmp/trigger"
forger=$bg_pid
bg rounds "$C" "$PY" tests/live/peer.py rounds $S4 8081 40 "$tmp/pause" "$tmp/resume"
client=$bg_pid
wait_for 10 grep -q armed "$tmp/forge.out" || fail "A: forger saw no server data"
touch "$tmp/pause"
wait_for 10 grep -q paused "$tmp/rounds.out" || fail "A: the exchange did not pause"
touch "$tmp/trigger"
wait "$forger" || fail "A: forger failed: $(cat "$tmp/forge.err")"
dropped() { grep -q '"action":"drop"' "$EV"; }
wait_for 10 dropped || fail "A: the forged reset was not dropped"
m=$(mark)
[ $((m & WATCH)) != 0 ] || fail "A: no watch bit after the drop: mark $m"
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
no_sanitizer_report d1
ok "A: forged reset dropped, mark $m (watch bit set); daemon killed"

# --- B ----------------------------------------------------------------------
: >"$EV"
start_daemon d2 --mode enforce --suppress firewall --rate-limit 0 --watch-seconds 3
[ "$(mark)" = "$m" ] || fail "B: the mark changed before the flow went on: $(mark)"
t0=$SECONDS
touch "$tmp/resume"
wait "$client"
[ "$(tail -n 1 "$tmp/rounds.out")" = "completed 40" ] || fail "B: the exchange: $(tail -n 1 "$tmp/rounds.out")"
unwatched() { [ $(($(mark) & WATCH)) = 0 ]; }
wait_for 8 unwatched || fail "B: the watch bit is still set $((SECONDS - t0)) s on: mark $(mark)"
[ "$(mark)" = "$(printf '0x%08x' $((m & ~WATCH)))" ] || fail "B: other bits changed: $(mark), was $m"
ok "B: the new daemon cleared the watch bit $((SECONDS - t0)) s after the flow went on (--watch-seconds 3): mark $(mark)"
stop_daemon d2
echo "1 passed, 0 failed"
