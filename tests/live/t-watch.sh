#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The watch list keys a flow by its whole tuple (issue 14 item 7): a server
# address and port talking to two client addresses that use the same port are
# two flows. A reset forged into each in the server's name (TTL 40 where the
# server's packets come with 64: middlebox, watched) sets the watch bit on both
# conntrack entries, and when --watch-seconds is up both bits are cleared.
# When the list matched a reset by its source address and ports alone, the
# second watch only renewed the first, and the second flow's bit stayed set
# until conntrack forgot the flow: every packet of it copied meanwhile.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft conntrack
topology_up
C4B=198.51.100.3
in_ns "$C" ip addr add $C4B/24 dev cg0 || fail "second client address"
EV=$tmp/events.log
WATCH_BIT=0x00800000    # the top bit of the default --mark-mask 0x00ff0000
SPORT=42000

# mark_of CLIENT: the mark of CLIENT's flow to the server, as conntrack shows it.
mark_of() {
	in_ns "$G" conntrack -L -p tcp -s "$1" -d "$S4" --sport $SPORT --dport 8192 2>/dev/null |
		grep -o 'mark=[0-9]*' | head -n 1 | cut -d= -f2
}
watched() { local m; m=$(mark_of "$1"); [ -n "$m" ] && [ $((m & WATCH_BIT)) != 0 ]; }
unwatched() { local m; m=$(mark_of "$1"); [ -n "$m" ] && [ $((m & WATCH_BIT)) = 0 ]; }
middlebox_events() { grep -c "\"dest_ip\":\"$1\",\"dest_port\":$SPORT,.*\"origin\":\"middlebox\"" "$EV"; }

bg server "$S" "$PY" tests/live/peer.py serve 8192
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"
start_daemon d --rate-limit 0 --watch-seconds 3

# forge_into CLIENT N: a connection from CLIENT:$SPORT to $S4:8192, one round,
# then a reset forged in the server's name; the client closes once it is dead.
forge_into() {
	local src=$1 n=$2
	bg fg$n "$S" "$PY" tests/live/forge.py sg0 8192 40 0 "$tmp/trigger$n"
	local forger=$bg_pid
	wait_for 10 grep -q watching "$tmp/fg$n.out" || fail "forger $n not watching"
	bg cl$n "$C" "$PY" tests/live/peer.py abort "$S4" 8192 $SPORT "$tmp/go$n" "$src"
	local client=$bg_pid
	wait_for 10 grep -q ready "$tmp/cl$n.out" || fail "client $n: $(cat "$tmp/cl$n.err")"
	wait_for 10 grep -q armed "$tmp/fg$n.out" || fail "forger $n never armed"
	touch "$tmp/trigger$n"
	wait "$forger" || fail "forger $n: $(cat "$tmp/fg$n.err")"
	wait_true 5 '[ "$(middlebox_events "$src")" = 1 ]' || fail "no middlebox event towards $src: $(cat "$EV")"
	touch "$tmp/go$n"
	wait "$client"
}

t0=$SECONDS
forge_into "$C4" 1
forge_into "$C4B" 2
watched "$C4" && watched "$C4B" ||
	fail "watch bits after the forgeries: $C4 mark $(mark_of "$C4"), $C4B mark $(mark_of "$C4B")"
ok "two flows to $S4:8192 from $C4:$SPORT and $C4B:$SPORT: both watched"
wait_for 8 unwatched "$C4" || fail "the first flow's watch bit outlived --watch-seconds"
wait_for 3 unwatched "$C4B" ||
	fail "the second flow's watch bit stayed (mark $(mark_of "$C4B")) after the first's was cleared: one watch for two flows"
ok "both watch bits cleared after --watch-seconds ($((SECONDS - t0)) s from the first forgery)"
stop_daemon d
