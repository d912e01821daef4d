#!/usr/bin/env bash
# t-queue.sh: the queue transport (nfq/queue.c) and the ruleset working
# together on a real gateway. Three namespaces, client - gateway - server,
# IPv4 and IPv6 routed through the gateway; rstwatch's rules installed in the
# gateway with a range of two queues; tests/live/nfq_probe as the consumer.
#  A. a reset from a closed server port reaches the consumer, is accepted,
#     and the client is refused; both packets of the flow use one queue;
#  B. the gateway's own `reject with tcp reset` (forward and input hooks,
#     IPv4 and IPv6) still refuses the client while the consumer runs; the
#     reset is copied to the nflog group instead of queued; a reject of an
#     established flow is queued;
#  C. under a burst, accepted packets are answered in batches: fewer verdict
#     messages than packets (and exactly one per packet with batch size 1);
#     every packet is peeked before it is judged, the next one already peeked
#     while there is a backlog, and judged in arrival order (also in A, B, D);
#  D. a dropped packet is really dropped, in the middle of batched accepts;
#  E. overrunning a tiny receive buffer counts ENOBUFS and the consumer keeps
#     receiving afterwards (no stall);
#  F. with the consumer killed (-9), traffic flows on (bypass);
# and after every phase no packet waits in the kernel for a verdict.
source "$(dirname "$0")/lib.sh"

PROBE=build/asan/live/nfq_probe
TOOL=build/asan/live/rules_tool
GROUP=7300
need "$PROBE" "$TOOL"
command -v nft >/dev/null || skip "nft is not installed"

stat_of() { # stat_of FILE NAME: a counter from an nfq_probe stats line
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" 2>/dev/null | tail -n 1
}
stat_at_least() { # stat_at_least FILE NAME MIN (re-read at every poll)
	local v
	v=$(stat_of "$1" "$2")
	[ -n "$v" ] && [ "$v" -ge "$3" ]
}

start_consumer() { # start_consumer NAME ARGS...: nfq_probe on queues 0-1 in the gateway
	local name=$1
	shift
	bg "$name" "$G" "$PROBE" -q 0-1 -s "$tmp/$name.stats" "$@"
	consumer=$bg_pid
	wait_for 10 grep -qs '^ready' "$tmp/$name.out" || fail "consumer $name did not start"
}

stop_consumer() { # SIGTERM, and wait for its final stats line
	kill -TERM "$consumer"
	wait "$consumer" || fail "consumer exited with $?"
}

# contract_kept NAME: every packet the consumer judged was peeked first, one
# receive ahead at most, and judged in arrival order (nfqueue_peek).
contract_kept() {
	local p k e
	p=$(stat_of "$tmp/$1.stats" packets) k=$(stat_of "$tmp/$1.stats" peeked)
	e=$(stat_of "$tmp/$1.stats" contract_errors)
	[ "$e" = 0 ] || fail "$1: the transport broke the peek contract $e times"
	[ "$k" = "$p" ] || fail "$1: $k of $p packets peeked"
}

conn() { # conn HOST PORT [TIMEOUT]: prints refused|timeout|connected|reset
	in_ns "$C" "$PY" tests/live/peer.py connect "$@"
}

topology_up

probe=$(in_ns "$G" "$TOOL" probe) || fail "probe"
echo "probe: $probe"
case $probe in
*choose=none*) skip "kernel has neither nft_queue nor the xt NFQUEUE target" ;;
esac
in_ns "$G" "$TOOL" -q 0-1 -g "$GROUP" install || fail "installing the rules"

# The gateway's own firewall, in a table of its own.
in_ns "$G" nft -f - <<'EOF' || fail "loading the gateway firewall"
table inet fw {
	chain forward_filter {
		type filter hook forward priority filter; policy accept;
		tcp dport 7777 reject with tcp reset
		tcp dport 7779 ct state established reject with tcp reset
	}
	chain input_filter {
		type filter hook input priority filter; policy accept;
		tcp dport 7778 reject with tcp reset
	}
}
EOF
# Counts, on the server, the flood's resets per destination port.
in_ns "$S" nft -f - <<'EOF' || fail "loading the server counters"
table inet count {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		tcp flags & rst == rst tcp dport 9 counter
		tcp flags & rst == rst tcp dport 7781 counter
	}
}
EOF
server_count() { # resets the server received for a port
	in_ns "$S" nft list chain inet count pre |
		sed -n "s/.*dport $1 counter packets \([0-9]*\).*/\1/p"
}
server_at_least() { # server_at_least PORT MIN
	local v
	v=$(server_count "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

bg server "$S" "$PY" tests/live/peer.py serve 7779 8080
wait_for 10 grep -qs listening "$tmp/server.out" || fail "server did not listen"

# nflog copies, read by tcpdump (libpcap's nflog interface).
have_tcpdump=0 nflog_note=""
if command -v tcpdump >/dev/null; then
	bg nflog "$G" tcpdump -ni "nflog:$GROUP" -l
	wait_for 10 grep -qs 'listening on' "$tmp/nflog.err" || fail "tcpdump on nflog:$GROUP did not start"
	have_tcpdump=1 nflog_note=", copied to nflog"
fi

# --- A: a server's reset, seen and accepted -------------------------------
start_consumer main -t
for dst in 203.0.113.2 2001:db8:2::2; do
	r=$(conn "$dst" 9)
	[ "$r" = refused ] || fail "connect $dst:9: $r, want refused"
	wait_for 5 grep -q "hook=0 .* $dst\.9 > .* flags=RA verdict=accept" "$tmp/main.out" ||
		fail "the consumer did not see the reset from $dst:9"
	syn_q=$(grep " > $dst\.9 flags=S " "$tmp/main.out" | head -n 1 | sed 's/.*queue=\([0-9]*\).*/\1/')
	rst_q=$(grep " $dst\.9 > .* flags=RA" "$tmp/main.out" | head -n 1 | sed 's/.*queue=\([0-9]*\).*/\1/')
	[ -n "$syn_q" ] && [ "$syn_q" = "$rst_q" ] ||
		fail "SYN (queue $syn_q) and its reset (queue $rst_q) went to different queues"
	grep " $dst\.9 > .* flags=RA" "$tmp/main.out" | head -n 1 | grep -q "stamp=now" ||
		fail "the reset from $dst:9 came without a realtime arrival stamp (SO_TIMESTAMP)"
	ok "reset from $dst:9 queued (queue $rst_q, with its SYN), accepted, arrival-stamped; client refused"
done

# --- B: the gateway's own rejects still refuse ----------------------------
for target in 203.0.113.2:7777 2001:db8:2::2:7777 198.51.100.1:7778 2001:db8:1::1:7778; do
	host=${target%:*} port=${target##*:}
	r=$(conn "$host" "$port" 5)
	[ "$r" = refused ] || fail "connect $host:$port through the gateway's reject: $r, want refused"
	if grep -q " $host\.$port > .*flags=R" "$tmp/main.out"; then
		fail "the new-flow reject reset from $host:$port was queued"
	fi
	if [ "$have_tcpdump" = 1 ]; then
		wait_for 5 grep -q "$host\.$port > .*Flags \[R\.\]" "$tmp/nflog.out" ||
			fail "no nflog copy of the reset from $host:$port"
	fi
	ok "gateway reject for $host:$port: client refused, reset not queued$nflog_note"
done
[ "$have_tcpdump" = 1 ] || echo "note: tcpdump missing, nflog copies not checked"

r=$(conn 203.0.113.2 7779 5 send)
[ "$r" = reset ] || fail "data on an established flow rejected by the gateway: $r, want reset"
wait_for 5 grep -q "hook=3 .* 203\.0\.113\.2\.7779 > .* flags=R verdict=accept" "$tmp/main.out" ||
	fail "the reject of an established flow was not queued"
ok "gateway reject of an established flow: queued at output, client reset"

wait_for 5 none_waiting || fail "$(queue_waiting) packets still wait for a verdict"
stop_consumer
for k in errors parse_errors; do
	[ "$(stat_of "$tmp/main.stats" "$k")" = 0 ] || fail "main consumer: $k = $(stat_of "$tmp/main.stats" "$k")"
done
contract_kept main
ok "no packet left without a verdict; $(tail -n 1 "$tmp/main.out")"

# --- C: batched verdicts under a burst -------------------------------------
N=2000
burst() { # burst NAME BATCH: flood N resets, return when all were handled
	start_consumer "$1" -Q -T 20 -b "$2" -r 8388608 -m 65536
	in_ns "$C" "$PY" tests/live/flood.py 198.51.100.2 203.0.113.2 "$N" 9 || fail "flood"
	wait_for 30 stat_at_least "$tmp/$1.stats" packets "$N" ||
		fail "$1: consumer saw $(stat_of "$tmp/$1.stats" packets) of $N packets"
	wait_for 5 none_waiting || fail "$1: packets still wait for a verdict"
	stop_consumer
	[ "$(stat_of "$tmp/$1.stats" enobufs)" = 0 ] || fail "$1: overrun, the burst test is void"
	contract_kept "$1"
}
burst batch8 8
p=$(stat_of "$tmp/batch8.stats" packets) v=$(stat_of "$tmp/batch8.stats" verdict_msgs)
[ "$v" -lt "$p" ] || fail "batch 8: $v verdict messages for $p packets"
[ "$v" -ge $((p / 8)) ] || fail "batch 8: $v verdict messages for $p packets, fewer than possible"
# The slow consumer (-T) keeps a backlog: the next packet is nearly always
# there to be peeked before the current one is judged.
a=$(stat_of "$tmp/batch8.stats" ahead)
[ "$a" -ge $((p / 2)) ] || fail "batch 8: only $a of $p packets judged with the next one peeked"
ok "batch 8: $p packets answered with $v verdict messages; each peeked first, judged in order, $a with the next one already peeked"
burst batch1 1
p=$(stat_of "$tmp/batch1.stats" packets) v=$(stat_of "$tmp/batch1.stats" verdict_msgs)
[ "$v" = "$p" ] || fail "batch 1: $v verdict messages for $p packets"
ok "batch 1: $p packets, $v verdict messages"

# --- D: drops are real, also between batched accepts ----------------------
base9=$(server_count 9) base81=$(server_count 7781)
start_consumer drop -Q -T 20 -d 7781 -r 8388608 -m 65536
in_ns "$C" "$PY" tests/live/flood.py 198.51.100.2 203.0.113.2 "$N" 9,7781 || fail "flood"
wait_for 30 stat_at_least "$tmp/drop.stats" packets "$N" ||
	fail "drop: consumer saw $(stat_of "$tmp/drop.stats" packets) of $N packets"
half=$((N / 2))
wait_for 5 server_at_least 9 $((base9 + half)) ||
	fail "server got $(($(server_count 9) - base9)) of $half accepted resets"
r=$(conn 203.0.113.2 7781 2)
[ "$r" = timeout ] || fail "connect to a port whose packets the consumer drops: $r, want timeout"
wait_for 5 none_waiting || fail "drop: packets still wait for a verdict"
stop_consumer
got81=$(($(server_count 7781) - base81))
[ "$got81" = 0 ] || fail "$got81 dropped resets reached the server"
[ "$(stat_of "$tmp/drop.stats" enobufs)" = 0 ] || fail "drop: overrun, the test is void"
contract_kept drop
d=$(stat_of "$tmp/drop.stats" dropped)
[ "$d" -ge "$half" ] || fail "consumer dropped $d, want at least $half"
ok "drop: $d dropped, none reached the server; $half accepted ones did; the SYN to 7781 timed out"

# --- E: ENOBUFS counted, no stall ------------------------------------------
start_consumer tiny -r 4096 -T 500
in_ns "$C" "$PY" tests/live/flood.py 198.51.100.2 203.0.113.2 3000 9 || fail "flood"
wait_for 10 stat_at_least "$tmp/tiny.stats" enobufs 1 ||
	fail "no ENOBUFS counted with a 4 KiB receive buffer"
r=$(conn 2001:db8:2::2 7790 5)
[ "$r" = refused ] || fail "connect after the overrun: $r, want refused"
wait_for 20 grep -q "2001:db8:2::2\.7790 > .* flags=RA verdict=accept" "$tmp/tiny.out" ||
	fail "the consumer stalled after an overrun"
wait_for 20 none_waiting || fail "tiny: packets still wait for a verdict"
stop_consumer
ok "overrun: enobufs=$(stat_of "$tmp/tiny.stats" enobufs), and packets are still received after it"

# --- F: consumer killed, traffic flows (bypass) ----------------------------
start_consumer killed
kill -9 "$consumer"
wait "$consumer" 2>/dev/null
no_queue_bound() { [ -z "$(in_ns "$G" cat /proc/net/netfilter/nfnetlink_queue)" ]; }
wait_for 5 no_queue_bound ||
	fail "queues still bound after kill -9"
r=$(conn 203.0.113.2 9 5)
[ "$r" = refused ] || fail "closed port with no consumer: $r, want refused (bypass)"
r=$(conn 2001:db8:2::2 8080 5)
[ "$r" = connected ] || fail "open port with no consumer: $r, want connected (bypass)"
ok "no consumer: resets and handshakes pass (bypass)"

echo "PASS"
