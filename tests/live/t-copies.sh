#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t-copies.sh: the shapes of the ruleset (rules/install.c) in a real kernel,
# with two queues (7300-7301) and so two log groups (7300-7301), installed
# by tests/live/rules_tool in the gateway of client - gateway - server:
#
#  (a) what is only observed is copied, never queued: a connection through
#      the gateway, opened and closed (FIN both ways), IPv4 and IPv6, with no
#      queue listener (bypass). It completes; its SYN, SYN/ACK and both FINs
#      arrive on one log group, each exactly once; the queue rules' counters
#      stay 0 and no queue exists in /proc/net/netfilter/nfnetlink_queue.
#  (b) the marker orders copies before the queue (design §8): with the
#      groups batching (queue threshold 64, flush timeout 60 s), a flow's
#      SYN and SYN/ACK copies stay in the kernel (the group's qlen in
#      /proc/net/netfilter/nfnetlink_log counts them, nothing is delivered)
#      until a reset of any flow of the same group passes chain divert. Its
#      marker copy (queue-threshold 1) then flushes the group: every gathered
#      copy, of every flow of that group, arrives in one datagram, in the
#      order the kernel made them, the marker last; the other group keeps
#      its copies. The probe owning group k also owns queue k (as a worker
#      of the daemon does): when the queued reset can be read, its marker is
#      already in the log socket (marker=yes). A lone copy with no reset
#      waits for the flush timeout (1 s, measured).
#  (c) one worker per flow: both directions of a flow (SYN, SYN/ACK, a reset
#      from the client, then a reset from the server for the same 5-tuple)
#      land in the same group k and the same queue 7300+k, and over the
#      flows both indexes are used.
#  rules_tool check says intact for the two-queue table, altered once a
#  marker or copy rule is deleted.
# Kernel lacking nft_log, nfnetlink_log, symhash or any queue statement: 77.
source "$(dirname "$0")/lib.sh"

TOOL=build/asan/live/rules_tool
PROBE=build/asan/live/nflog_probe
PEER=tests/live/peer.py
TCP=tests/live/tcp_peer.py
Q=7300 GRP=7300    # queues Q, Q+1 and groups GRP, GRP+1
PREFIX="rstwatch: queued"

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v nft >/dev/null || skip "nft is not installed"
command -v ss >/dev/null || skip "ss is not installed"
need "$TOOL" "$PROBE"

topology_up
probe=$(in_ns "$G" "$TOOL" probe) || fail "rules_tool probe"
case $probe in *choose=none*) skip "kernel has neither nft_queue nor the xt NFQUEUE target" ;; esac
in_ns "$G" "$TOOL" -q $Q-$((Q + 1)) -g $GRP install 2>"$tmp/install.err" || {
	grep -q 'No such file' "$tmp/install.err" && skip "kernel refuses the ruleset: $(cat "$tmp/install.err")"
	fail "install: $(cat "$tmp/install.err")"
}

# --- rules_tool check on the two-queue table -------------------------------
check_is() {
	local want=$1 what=$2 out
	out=$(in_ns "$G" "$TOOL" -q $Q-$((Q + 1)) -g $GRP check)
	[ "$out" = "$want" ] || fail "check $what: $out, want $want"
}
# delete_rule CHAIN PATTERN: delete the rule of CHAIN whose listing matches.
delete_rule() {
	local handle
	handle=$(in_ns "$G" nft -a list chain inet rstwatch "$1" 2>/dev/null | grep -e "$2" |
		sed -n 's/.*# handle \([0-9]*\)$/\1/p' | head -n 1)
	[ -n "$handle" ] || fail "no rule '$2' in chain $1"
	in_ns "$G" nft delete rule inet rstwatch "$1" handle "$handle" || fail "deleting '$2'"
}
check_is intact "after install"
delete_rule divert "symhash mod 2 1 limit rate .* log prefix"
check_is altered "without the marker of worker 1"
in_ns "$G" "$TOOL" -q $Q-$((Q + 1)) -g $GRP install || fail "reinstall"
check_is intact "after reinstall"
delete_rule copy "symhash mod 2 0 log group $GRP "
check_is altered "without the batched copy of worker 0"
in_ns "$G" "$TOOL" -q $Q-$((Q + 1)) -g $GRP install || fail "reinstall"
check_is intact "after the second reinstall"
ok "check: the two-queue table is intact; without one marker or copy rule, altered"

# The kernel's view of a log group: field 3 of its line is qlen, the copies
# gathered and not yet sent (net/netfilter/nfnetlink_log.c, seq_show).
qlen() { in_ns "$G" awk -v g="$1" '$1 == g { print $3 }' /proc/net/netfilter/nfnetlink_log; }
queue_rule_packets() {   # K: packets counted by the queue rule of worker K
	in_ns "$G" nft list chain inet rstwatch divert 2>/dev/null |
		sed -n "s/.*symhash mod 2 $1 counter packets \([0-9]*\) .*queue num.*/\1/p"
}
ready() {
	grep -q '^error=' "$tmp/$1.out" && skip "nfnetlink_log unusable: $(head -n 1 "$tmp/$1.out")"
	grep -qx ready "$tmp/$1.out"
}
# lines FILE PATTERN: how many lines of FILE match (a fixed string).
lines() { grep -cF -e "$2" "$1"; }
listening() { in_ns "$S" ss -Htln "sport = :$1" | grep -q .; }
not_listening() { ! listening "$1"; }
established() { in_ns "$C" ss -Htn state established "sport = :$1" | grep -q .; }

# ============================================================================
# (a) handshakes are copied, not queued (no queue listener, bypass)
# ============================================================================
bg copy0 "$G" "$PROBE" -d $GRP 0 30000
bg copy1 "$G" "$PROBE" -d $((GRP + 1)) 0 30000
copy_pids=("${pids[@]: -2}")
bg serve "$S" "$PY" "$PEER" serve 8001
serve_pid=$bg_pid
wait_for 10 ready copy0 && wait_for 10 ready copy1 || fail "nflog_probe not ready"
wait_for 10 grep -q listening "$tmp/serve.out" || fail "server not listening"

for dst in $S4 $S6; do
	out=$(in_ns "$C" "$PY" "$PEER" connect "$dst" 8001)
	[ "$out" = connected ] || fail "connect to $dst through the gateway: $out"
done
# Each connection: S, SA, FA from the client, FA from the server: 8 copies.
both_copies() { [ "$(cat "$tmp/copy0.out" "$tmp/copy1.out" | grep -c 'port=8001 ')" -ge 8 ]; }
wait_for 10 both_copies || fail "the handshake copies did not arrive"
kill -TERM "${copy_pids[@]}"
wait "${copy_pids[@]}" || fail "nflog_probe failed"
kill "$serve_pid"
cat "$tmp"/copy0.out "$tmp"/copy1.out | grep -v '^ready$' >"$tmp/copies.txt"
cat "$tmp/copies.txt"

for src in $C4 $C6; do
	flow=$(grep -F "src=$src " "$tmp/copies.txt" | head -n 1 | sed -n 's/.* sport=\([0-9]*\) .*/\1/p')
	[ -n "$flow" ] || fail "no copy from $src"
	grep -e "sport=$flow " -e "dport=$flow " "$tmp/copies.txt" | sed -n 's/.* flags=\([A-Z]*\) .*/\1/p' |
		tr '\n' ' ' >"$tmp/flags.$src"
	[ "$(cat "$tmp/flags.$src")" = "S SA FA FA " ] ||
		fail "copies of $src.$flow: $(cat "$tmp/flags.$src"), want S SA FA FA"
	# One group per flow, both directions.
	n0=$(grep -c -e "sport=$flow " -e "dport=$flow " "$tmp/copy0.out")
	n1=$(grep -c -e "sport=$flow " -e "dport=$flow " "$tmp/copy1.out")
	[ "$n0" = 0 ] || [ "$n1" = 0 ] || fail "$src.$flow split over both groups ($n0, $n1)"
	ok "$src: SYN, SYN/ACK and both FINs copied once each, all to group $((n0 ? GRP : GRP + 1))"
done
grep '^stats ' "$tmp/copies.txt" | grep -v ' enobufs=0 lost=0 parse_errors=0 ' && fail "copies lost"
grep -v '^stats ' "$tmp/copies.txt" | grep -v ' prefix=- ' && fail "a copy with a prefix (a marker without a reset?)"
for k in 0 1; do
	[ "$(queue_rule_packets $k)" = 0 ] || fail "queue rule $k counted $(queue_rule_packets $k) packets"
done
in_ns "$G" grep -q . /proc/net/netfilter/nfnetlink_queue && fail "a queue exists: $(in_ns "$G" cat /proc/net/netfilter/nfnetlink_queue)"
ok "the connections completed, no packet reached a queue rule (counters 0, no queue bound)"

# ============================================================================
# A lone copy waits for the flush timeout (1 s here) when no reset comes.
# ============================================================================
bg lone0 "$G" "$PROBE" -d -t 64 -f 100 $GRP 0 30000
bg lone1 "$G" "$PROBE" -d -t 64 -f 100 $((GRP + 1)) 0 30000
lone_pids=("${pids[@]: -2}")
wait_for 10 ready lone0 && wait_for 10 ready lone1 || fail "nflog_probe not ready"
# A SYN nothing answers, so no reset follows it: the client connects to an
# address nobody has (203.0.113.99, on the gateway's server side, where no
# neighbour answers), giving up before its first retransmission.
in_ns "$C" "$PY" "$PEER" connect 203.0.113.99 9 0.3 >/dev/null
lone_arrived() { grep -q 'dport=9 flags=S ' "$tmp/lone0.out" "$tmp/lone1.out"; }
wait_for 10 lone_arrived || fail "the lone SYN copy never arrived"
kill -TERM "${lone_pids[@]}"
wait "${lone_pids[@]}" || fail "nflog_probe failed"
line=$(grep -h 'dport=9 flags=S ' "$tmp/lone0.out" "$tmp/lone1.out" | head -n 1)
rx=$(sed -n 's/.* rx_us=\([0-9]*\) .*/\1/p' <<<"$line")
ts=$(sed -n 's/.* ts_us=\([0-9]*\)$/\1/p' <<<"$line")
held_ms=$(((rx - ts) / 1000))
echo "lone SYN copy: held $held_ms ms in the kernel"
[ "$held_ms" -ge 900 ] || fail "a lone copy was delivered after $held_ms ms, before the 1 s flush timeout"
ok "a lone copy waits for the group's flush timeout (held $held_ms ms)"

# ============================================================================
# (b) and (c): batching groups, one probe per worker owning group k and queue k
# ============================================================================
for k in 0 1; do
	bg w$k "$G" "$PROBE" -t 64 -f 6000 -Q $((Q + k)) $((GRP + k)) 0 120000
done
w_pids=("${pids[@]: -2}")
wait_for 10 ready w0 && wait_for 10 ready w1 || fail "worker probes not ready: $(cat "$tmp"/w?.err)"

# Flows until both groups hold a flow and one holds two (at most 16). Each
# flow: a one-shot server on port 8100+i, a client from port 41000+i that
# stays connected (IPv4 and IPv6 alternately). Which group a flow's copies
# went to: the group whose qlen grew by two (SYN and SYN/ACK; the client is
# established, so both passed the gateway).
declare -a fam_of grp_of
n_in=(0 0)
held=(0 0)
# open_flow I: flow I held open; sets grp_of[I] and counts its two copies.
open_flow() {
	local i=$1 src dst q0 q1 k
	if [ $((i % 2)) = 0 ]; then fam_of[i]=4 src=$C4 dst=$S4; else fam_of[i]=6 src=$C6 dst=$S6; fi
	bg srv$i "$S" "$PY" "$TCP" server "$dst" $((8100 + i))
	wait_for 10 listening $((8100 + i)) || fail "server $i not listening"
	bg cli$i "$C" "$PY" "$TCP" client "$src" $((41000 + i)) "$dst" $((8100 + i)) "$tmp/abort$i"
	wait_for 10 established $((41000 + i)) || fail "flow $i not established"
	q0=$(qlen $GRP) q1=$(qlen $((GRP + 1)))
	if [ "$q0" = $((held[0] + 2)) ] && [ "$q1" = "${held[1]}" ]; then
		grp_of[i]=0
	elif [ "$q1" = $((held[1] + 2)) ] && [ "$q0" = "${held[0]}" ]; then
		grp_of[i]=1
	else
		fail "flow $i: qlen $q0, $q1 after holding ${held[*]}: not two more copies in one group"
	fi
	k=${grp_of[i]}
	held[k]=$((held[k] + 2))
	n_in[k]=$((n_in[k] + 1))
}
i=0
while :; do
	[ "$i" -lt 16 ] || fail "16 flows and still not both groups used: ${n_in[*]}"
	open_flow $i
	i=$((i + 1))
	[ "${n_in[0]}" -ge 1 ] && [ "${n_in[1]}" -ge 1 ] && { [ "${n_in[0]}" -ge 2 ] || [ "${n_in[1]}" -ge 2 ]; } && break
done
n_flows=$i
echo "flows per group: ${n_in[*]} (groups hold ${held[*]} copies)"
for k in 0 1; do
	[ "$(grep -vc -e '^ready$' "$tmp/w$k.out")" = 0 ] ||
		fail "group $((GRP + k)) delivered copies before any reset: $(cat "$tmp/w$k.out")"
done
ok "the handshake copies of $n_flows flows are held in the kernel (qlen ${held[*]}), none delivered"

# The first group with two flows: its second flow's reset goes first, so it
# flushes the first flow's copies too.
first_with_two=0
[ "${n_in[0]}" -ge 2 ] || first_with_two=1
order=()
for ((j = 0; j < n_flows; j++)); do [ "${grp_of[j]}" = "$first_with_two" ] && order+=("$j"); done
order=("${order[1]}" "${order[0]}" "${order[@]:2}")
for ((j = 0; j < n_flows; j++)); do [ "${grp_of[j]}" != "$first_with_two" ] && order+=("$j"); done

addr_of() { if [ "${fam_of[$1]}" = 4 ]; then echo "$2"; else echo "$3"; fi; }
dgram_of() { sed -n 's/.* dgram=\([0-9]*\) .*/\1/p' <<<"$1"; }
field() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# reset_and_check I WHO: flow I ends with a reset from WHO (client: the
# established connection aborts; server: a new SYN on the same 5-tuple is
# refused), then what group k delivered is checked: one new datagram holding
# every copy gathered in the group since the last flush, in order, then the
# marker of this reset; and worker k's queue got the reset, after its marker.
reset_and_check() {
	local i=$1 who=$2 k=${grp_of[$1]} o=$((1 - ${grp_of[$1]})) before ob oq marker t0 d out n_new l
	local src dst sport=$((41000 + $1)) dport=$((8100 + $1)) oldest
	src=$(addr_of "$i" $C4 $C6) dst=$(addr_of "$i" $S4 $S6)
	before=$(grep -vc '^ready$' "$tmp/w$k.out")
	ob=$(grep -vc '^ready$' "$tmp/w$o.out")
	oq=$(qlen $((GRP + o)))
	t0=$(date +%s%6N)
	if [ "$who" = client ]; then
		# An abort (SO_LINGER 0) resets with RST|ACK.
		touch "$tmp/abort$i"
		marker="src=$src sport=$sport dst=$dst dport=$dport flags=RA "
	else
		out=$(in_ns "$C" "$PY" "$TCP" refuse "$src" "$sport" "$dst" "$dport")
		[ "$out" = ECONNREFUSED ] || fail "flow $i: refused connect ended $out"
		marker="src=$dst sport=$dport dst=$src dport=$sport flags=RA "
	fi
	has_queued() { grep '^queued ' "$tmp/w$k.out" | grep -qF -- "$marker"; }
	wait_for 10 has_queued || fail "flow $i ($who reset): not queued on $((Q + k))"
	grep '^queued ' "$tmp/w$k.out" | grep -F -- "$marker" | grep -q ' marker=yes$' ||
		fail "flow $i: the reset was readable on queue $((Q + k)) before its marker on group $((GRP + k))"
	# What group k delivered since: the copies it held, then the marker.
	tail -n +$((before + 2)) "$tmp/w$k.out" | grep -v '^queued ' >"$tmp/new"
	n_new=$(wc -l <"$tmp/new")
	tail -n 1 "$tmp/new" | grep -qF -- "prefix=$PREFIX " || fail "flow $i: the last copy is no marker: $(tail -n 1 "$tmp/new")"
	tail -n 1 "$tmp/new" | grep -qF -- "$marker" || fail "flow $i: the marker is another packet's: $(tail -n 1 "$tmp/new")"
	[ "$n_new" = $((held[k] + 1)) ] || fail "flow $i: group $((GRP + k)) delivered $n_new copies, held ${held[k]} + marker"
	d=$(dgram_of "$(head -n 1 "$tmp/new")")
	while read -r l; do
		[ "$(dgram_of "$l")" = "$d" ] || fail "flow $i: the flush came in more than one datagram: $(cat "$tmp/new")"
		[ "$(field rx_us "$l")" -ge "$t0" ] || fail "flow $i: a copy was delivered before the reset: $l"
	done <"$tmp/new"
	# In the order the kernel made them (the group's sequence numbers).
	sed -n 's/.* logseq=\([0-9]*\) .*/\1/p' "$tmp/new" | sort -n -c 2>/dev/null ||
		fail "flow $i: copies out of order: $(cat "$tmp/new")"
	[ "$(qlen $((GRP + k)))" = 0 ] || fail "flow $i: group $((GRP + k)) still holds $(qlen $((GRP + k)))"
	[ "$(qlen $((GRP + o)))" = "$oq" ] || fail "flow $i: the other group's qlen moved: $oq -> $(qlen $((GRP + o)))"
	[ "$(grep -vc '^ready$' "$tmp/w$o.out")" = "$ob" ] || fail "flow $i: the other group delivered"
	held[k]=0
	l=$(head -n 1 "$tmp/new")
	oldest=$((($(field rx_us "$l") - $(field ts_us "$l")) / 1000))
	echo "flow $i ($who reset) on worker $k: one datagram of $n_new copies, marker last, the oldest held $oldest ms; the reset queued after it"
	if [ "$who" = client ]; then
		wait_for 10 not_listening "$dport" || fail "server $i still listening after the reset"
	fi
}

first=1
for i in "${order[@]}"; do
	reset_and_check "$i" client
	if [ "$first" = 1 ]; then
		grep -q " sport=$((41000 + order[1])) .* flags=S " "$tmp/new" ||
			fail "the first flush lacks the SYN copy of flow ${order[1]}: $(cat "$tmp/new")"
		ok "a reset of one flow flushed the held copies of another flow of its group, before its marker; the other group kept its copies"
		first=0
	fi
	# The same 5-tuple, now refused by the server: its SYN is gathered, and
	# the server's reset (the other direction) flushes it, on the same worker.
	held[${grp_of[i]}]=1
	reset_and_check "$i" server
done
ok "every reset's marker flushed its group's copies, in order, before the reset could be read from the queue"

# Control: the same without the marker's queue-threshold 1. The marker is
# then gathered like any copy, nothing flushes the group, and the reset is
# readable on the queue while its flow's copies (and its marker) are still in
# the kernel: the ordering above is the marker's doing, not the sockets'.
for k in 0 1; do
	handle=$(in_ns "$G" nft -a list chain inet rstwatch divert 2>/dev/null |
		grep "symhash mod 2 $k limit rate .* log prefix" | sed -n 's/.*# handle \([0-9]*\)$/\1/p')
	[ -n "$handle" ] || fail "no marker rule for worker $k"
	in_ns "$G" nft replace rule inet rstwatch divert handle "$handle" \
		symhash mod 2 $k log prefix \"$PREFIX\" group $((GRP + k)) || fail "replacing marker $k"
done
c=$n_flows
open_flow $c
k=${grp_of[c]}
before=$(grep -vc '^ready$' "$tmp/w$k.out")
touch "$tmp/abort$c"
ctl_queued() { tail -n +$((before + 2)) "$tmp/w$k.out" | grep -q "^queued .* sport=$((41000 + c)) "; }
wait_for 10 ctl_queued || fail "control flow $c: reset not queued"
tail -n +$((before + 2)) "$tmp/w$k.out" | grep "^queued " | grep -q ' marker=no$' ||
	fail "control: the reset's marker was there without a flush: $(tail -n +$((before + 2)) "$tmp/w$k.out")"
[ "$(tail -n +$((before + 2)) "$tmp/w$k.out" | grep -vc '^queued ')" = 0 ] ||
	fail "control: group $((GRP + k)) delivered copies without a flushing marker"
[ "$(qlen $((GRP + k)))" = $((held[k] + 1)) ] ||
	fail "control: group $((GRP + k)) holds $(qlen $((GRP + k))), want ${held[k]} copies + the marker"
ok "control: without queue-threshold 1 on the marker the reset is read from queue $((Q + k)) while ${held[k]} copies and its marker still wait in the kernel"
echo "note: rules_tool check on the table with the weakened markers says $(in_ns "$G" "$TOOL" -q $Q-$((Q + 1)) -g $GRP check) (it counts rules per chain, it does not compare them)"

kill -TERM "${w_pids[@]}"
wait "${w_pids[@]}" || fail "worker probe failed: $(cat "$tmp"/w?.err)"
for k in 0 1; do
	grep '^stats ' "$tmp/w$k.out"
	grep '^stats ' "$tmp/w$k.out" | grep -q ' enobufs=0 lost=0 parse_errors=0 ' || fail "worker $k lost copies"
	# Only resets were queued.
	grep '^queued ' "$tmp/w$k.out" | grep -v ' flags=RA\? ' && fail "worker $k: a packet other than a reset was queued"
done

# (c) per flow: every copy and every queued packet, both directions, on one index.
# (The control flow's copies never left the kernel.)
for ((i = 0; i < n_flows; i++)); do
	k=${grp_of[i]} o=$((1 - ${grp_of[i]}))
	p="port=$((41000 + i)) "
	got=$(grep -F -- "$p" "$tmp/w$k.out" | grep -v '^queued ' | sed -n 's/.* flags=\([A-Z]*\) .*/\1/p' | tr '\n' ' ')
	[ "$got" = "S SA RA S RA " ] || fail "flow $i: copies on group $((GRP + k)): $got, want S SA RA S RA"
	[ "$(grep -cF -- "$p" "$tmp/w$o.out")" = 0 ] || fail "flow $i: something on the other worker"
	[ "$(grep '^queued ' "$tmp/w$k.out" | grep -F -- "$p" | grep -c " queue=$((Q + k)) ")" = 2 ] ||
		fail "flow $i: not both resets on queue $((Q + k))"
done
ok "(c) both directions of each flow on one group and one queue; both workers used"
for k in 0 1; do
	want=$((2 * n_in[k]))
	[ "$k" = "${grp_of[c]}" ] && want=$((want - 1))   # the control flow: one reset
	[ "$(queue_rule_packets $k)" = "$want" ] ||
		fail "queue rule $k counted $(queue_rule_packets $k), want $want"
done
ok "the queue rules counted only the resets"
no_sanitizer_report
echo "PASS"
