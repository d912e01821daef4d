#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch_queue_unseen_total counts the tail of a burst that overran the
# queue socket (fail-open let it through unjudged) without waiting for a later
# packet to reveal the gap in the ids. The daemon is stopped (SIGSTOP) with a
# small receive buffer, a burst of 300 resets is diverted to it: the first
# fit in the buffer, every later one overruns it (numbered by the kernel, never
# delivered). After SIGCONT it reads what was buffered, and with nothing else
# arriving /metrics must already say: received + unseen = what the kernel
# numbered (the 8th field of /proc/net/netfilter/nfnetlink_queue), unseen > 0.
# Counting only the gaps between received ids said unseen 0 here. Then one
# more reset reveals the gap the old way: the counter does not move twice.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft
topology_up
EV=$tmp/events.log
kernel_numbered() {
	in_ns "$G" awk '$1 == 7300 { print $8 }' /proc/net/netfilter/nfnetlink_queue
}

start_daemon d --rate-limit 0 --rcvbuf 4096
kill -STOP "$daemon"
in_ns "$C" "$PY" tests/live/flood.py $C4 $S4 300 9 || fail "burst"
kill -CONT "$daemon"
wait_for 5 none_waiting || fail "$(queue_waiting) packets still waiting after SIGCONT"
numbered=$(kernel_numbered)
m=$(metrics) || fail "GET /metrics"
received=$(metric_sum rstwatch_queue_packets_total "$m")
unseen=$(metric_sum rstwatch_queue_unseen_total "$m")
[ "$numbered" -ge 300 ] || fail "the kernel numbered $numbered of 300 diverted resets"
[ "$unseen" -gt 0 ] || fail "unseen 0 with $received received of $numbered numbered (the buffer did not overrun?)"
[ $((received + unseen)) = "$numbered" ] ||
	fail "received $received + unseen $unseen != $numbered the kernel numbered"
ok "burst into a stopped daemon: received $received + unseen $unseen = $numbered numbered, before any later packet"

r=$(in_ns "$C" "$PY" tests/live/peer.py connect $S4 7001)
[ "$r" = refused ] || fail "connect to a closed port: $r"
settled() { [ "$(metric_sum rstwatch_queue_packets_total)" -gt "$received" ]; }
wait_for 5 settled || fail "the next reset was not received"
m=$(metrics) || fail "GET /metrics"
received2=$(metric_sum rstwatch_queue_packets_total "$m")
unseen2=$(metric_sum rstwatch_queue_unseen_total "$m")
[ $((received2 + unseen2)) = "$(kernel_numbered)" ] ||
	fail "after one more reset: received $received2 + unseen $unseen2 != $(kernel_numbered) numbered"
[ "$unseen2" = "$unseen" ] || fail "unseen moved from $unseen to $unseen2 when the gap was seen"
stop_daemon d
ok "one more reset: unseen stays $unseen2 (the gap it reveals was counted already)"
