#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Forged netlink messages (issue #14, 6). A process with CAP_NET_ADMIN in the
# namespace can send to rstwatch's netlink port ids, and put the kernel's pid
# (0) in the headers: until then a forged queue packet was judged (a fake
# reset logged, a verdict sent for an invented id, rstwatch_queue_unseen_total
# up by ~2e9) and a forged nflog sequence number counted ~1.3e9 copies lost.
# Now only what the kernel sent (sockaddr_nl.nl_pid 0) is read:
#  A. forged queue and nflog packet messages to every netfilter socket of the
#     daemon: no event for them, unseen and lost unchanged, each counted in
#     rstwatch_netlink_foreign_total;
#  B. the daemon goes on judging real resets; SIGTERM exits 0.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft
topology_up
EV=$tmp/events.log
conn() { in_ns "$C" "$PY" tests/live/peer.py connect "$@"; }
has_port_event() { grep -q "\"event_type\":\"rst\".*\"src_port\":$1," "$EV"; }

start_daemon d --rate-limit 0
# A first reset and the copy of its SYN: the queue's ids and the log group's
# sequence numbers are known to the daemon from here on.
r=$(conn $S4 7001) ; [ "$r" = refused ] || fail "connect to a closed port: $r"
wait_for 10 has_port_event 7001 || fail "no event for the first reset"
m=$(metrics) || fail "GET /metrics"
unseen0=$(metric_sum rstwatch_queue_unseen_total "$m")
lost0=$(metric_sum rstwatch_nflog_lost_total "$m")

# --- A ----------------------------------------------------------------------
forged=$(in_ns "$G" "$PY" tests/live/nl_forge.py "$daemon" 7300 7300) || fail "A: forging failed"
case $forged in "sent "*" to "[3-9]" sockets"|"sent "*" to "[1-9][0-9]" sockets") ;;
*) fail "A: found fewer than 3 netfilter sockets of the daemon: $forged" ;; esac
# The next real reset reveals a gap in the queue's ids, if the forgery made one.
r=$(conn $S4 7002) ; [ "$r" = refused ] || fail "A: connect to a closed port: $r"
wait_for 10 has_port_event 7002 || fail "A: no event for a real reset after the forgery"
m=$(metrics) || fail "GET /metrics"
unseen=$(metric_sum rstwatch_queue_unseen_total "$m")
lost=$(metric_sum rstwatch_nflog_lost_total "$m")
foreign=$(metric_sum rstwatch_netlink_foreign_total "$m")
grep -q '"src_ip":"192.0.2.66"' "$EV" && fail "A: the forged reset was judged: $(grep 192.0.2.66 "$EV")"
[ "$unseen" = "$unseen0" ] || fail "A: rstwatch_queue_unseen_total went from $unseen0 to $unseen"
[ "$lost" = "$lost0" ] || fail "A: rstwatch_nflog_lost_total went from $lost0 to $lost"
[ "$foreign" -ge 2 ] || fail "A: only $foreign foreign messages counted ($forged)"
ok "A: $forged: no event, unseen $unseen, lost $lost unchanged; $foreign counted foreign"

# --- B ----------------------------------------------------------------------
r=$(conn $S6 7003) ; [ "$r" = refused ] || fail "B: connect to a closed port: $r"
wait_for 10 has_port_event 7003 || fail "B: no event for a real reset"
stop_daemon d
ok "B: still judging real resets; SIGTERM exit 0"
no_sanitizer_report
echo "1 passed, 0 failed"
