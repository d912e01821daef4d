#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What rstwatch costs the connections through a gateway that are never reset
# (issue 11): connection setup latency and the connection rate, against the
# same gateway with conntrack alone; then the copy path's own limit.
#
#   bench/gwcost.sh        (ROUNDS=3 IDLE="1 100 10000" RATE=500 COUNT=1500
#                           CONC=32 SECS=3 FLOOD_SECS=3)
#   ONLY="ct observe" bench/gwcost.sh      a subset of the configurations
#   COPYLIMIT=0 bench/gwcost.sh            skip the copy-path limit
#   MIXED=0 bench/gwcost.sh                skip the mixed-traffic part
#   CONNS=0 bench/gwcost.sh                only the copy-path limit
#   RSTWATCH=PATH bench/gwcost.sh          measure that rstwatch binary
#   NOMARKER=1 bench/gwcost.sh             the queued-reset limit without the
#                                          marker rule (replaced by a counter):
#                                          what the markers cost
#
# Needs root. Builds rstwatch and the bench programs, creates three namespaces
# of its own (client -> gateway -> server, TEST-NET addresses only, removed on
# exit by name):
#   client   cli0 198.51.100.2/24  --  gwc0 198.51.100.1/24  gateway
#   gateway  gws0 192.0.2.1/24     --  srv0 192.0.2.2/24     server
#   the server owns 203.0.113.0/24 (on lo) and serves on port 8080; clients
#   spread their connections over 203.0.113.2-9 (SRV), so that a run's tens of
#   thousands of connections do not meet their own 4-tuples in TIME-WAIT.
# Configurations of the gateway (alternating, the order rotated every round):
#   plain    plain forwarding: no ruleset, so no conntrack either
#   ct       a table whose only rules match `ct state`: conntrack runs, nothing
#            is copied or queued (the baseline rstwatch is compared with)
#   ctagain  the same as ct, measured as one more configuration: its ratios
#            to ct are the noise floor of every comparison in the run
#   observe  rstwatch run, defaults (observe mode, context handshake: SYN,
#            SYN/ACK and FIN copied to nflog, resets queued; conntrack
#            lookups, JSON log to a file)
#   enforce  rstwatch run --mode enforce (the same copies; resets queued and
#            judged, suspect ones held)
#   lognull  bench/null_reader log: rstwatch's ruleset and copy settings, a reader
#            that throws copies away (the limit of a copying observer)
#   hsqueue  the design before copies: SYN, FIN and resets queued (iptables
#            raw NFQUEUE, bypass) to bench/null_reader queue (-b 8, fail-open), which
#            accepts all: what queueing the handshake cost (design §8)
# Per configuration, idle level and round:
#   idle     IDLE long-lived connections opened through the gateway (after
#            the consumer started, so that rstwatch tracks them) and held
#   rss      the consumer's VmRSS with them open
#   latency  COUNT short connections at RATE/s (open loop): connect() to
#            established, and the whole exchange (64-byte request, 128-byte
#            answer, the server's FIN): p50 and p99 in microseconds
#   max      closed loop, CONC exchanges in flight for SECS: connections/s
#            (the machine is CPU-bound: client, server and gateway share it)
# The copy-path limit (COPYLIMIT=1), alternating rounds of:
#   copies   SYNs (bench/rst_flood --syn, one core, 4096 flows) flooded
#            through the gateway for FLOOD_SECS to null_reader log and to rstwatch:
#            copies received per second and copies lost (the kernel's
#            sequence gaps)
#   queued   resets flooded the same way to rstwatch (--no-fail-open, so
#            that the queue's limit shows): resets judged per second
# Mixed traffic (MIXED=1): rstwatch (observe) while MIXED_RATE resets/s
# (default 5000, paced, no conntrack entry: lookups answer "missing") cross
# the gateway with RATE connections/s: how many conntrack lookups are shed
# (design: only under a real backlog), and resets judged without their marker.
# Medians of the rounds; for connections also the paired ratios (each round's
# to ct in the same round: median and range) and each configuration's best
# round (noise only adds latency). Prints markdown tables to stdout and
# bench/out/gwcost.md; raw numbers in bench/out/gwcost-raw.tsv, commands and
# the consumers' output in bench/out/gwcost.log. Not a test: numbers are
# compared side by side within one run, never against absolute thresholds.
set -u
cd "$(dirname "$0")/.." || exit 1

ROUNDS=${ROUNDS:-3}
IDLE=${IDLE:-1 100 10000}
RATE=${RATE:-500}
COUNT=${COUNT:-1500}
CONC=${CONC:-32}
SECS=${SECS:-3}
FLOOD_SECS=${FLOOD_SECS:-3}
ONLY=${ONLY:-plain ct ctagain observe enforce lognull hsqueue}
COPYLIMIT=${COPYLIMIT:-1}
CONNS=${CONNS:-1}
RSTW=${RSTWATCH:-build/rstwatch}
OUT=bench/out
LOG=$OUT/gwcost.log
RAW=$OUT/gwcost-raw.tsv
MD=$OUT/gwcost.md
MPORT=9310
MIXED=${MIXED:-1}
MIXED_RATE=${MIXED_RATE:-5000}
MIXED_BATCH=${MIXED_BATCH:-1}
SRV=203.0.113.2-9

BENCH=gwcost
source bench/lib.sh
mkdir -p "$OUT"
: >"$LOG"
make -s build/rstwatch build/bench/conn_bench build/bench/null_reader \
	build/bench/rst_flood >>"$LOG" 2>&1 || die "build failed (see $LOG)"
for t in nft ip taskset awk sort; do command -v "$t" >/dev/null || die "needs $t"; done

tag=gwc-$$
C=$tag-cli G=$tag-gw S=$tag-srv

topology_up() {
	bench_topology "$C" "$G" "$S" cli0 gwc0 gws0 srv0
	{
		ip -n "$S" route add default via 192.0.2.1
		ip -n "$C" route add default via 198.51.100.1
		# Closed connections leave conntrack's TIME_WAIT entries (120 s):
		# rounds of thousands would fill the table and drop SYNs.
		in_ns "$G" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1 || true
		in_ns "$C" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
		in_ns "$S" sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
		# The floods (sources 198.51.100.10-249) end here, before TCP.
		in_ns "$S" nft -f - <<-'EOF'
			table inet sink {
				counter flood {}
				chain pre {
					type filter hook prerouting priority -500; policy accept;
					ip saddr 198.51.100.10-198.51.100.249 counter name flood drop
				}
			}
		EOF
	} >>"$LOG" 2>&1 || die "building the topology (see $LOG)"
	GMAC=$(in_ns "$G" cat /sys/class/net/gwc0/address)
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# metric NAME PAGE: the sum of NAME's series (0 if absent).
metric() { awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }' <<<"$2"; }
scrape() {
	in_ns "$G" bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" 2>/dev/null
}
nfq_judged() { in_ns "$G" awk '{ id += $8; u += $7 } END { print id - u + 0 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || echo 0; }

# --- the gateway's configurations -----------------------------------------
CPID=""
start_cfg() {
	local cfg=$1 ready="" pin=${2:-}
	local pre=()
	CPID=""
	[ -n "$pin" ] && pre=(taskset -c "$pin")
	case $cfg in
	plain) return 0 ;;
	ct|ctagain)
		in_ns "$G" nft -f - >>"$LOG" 2>&1 <<-'EOF' || die "ct table"
			table inet gwcost_ct {
				chain pre { type filter hook prerouting priority -300; ct state invalid counter; }
				chain out { type filter hook output priority -300; ct state invalid counter; }
			}
		EOF
		return 0 ;;
	observe|enforce|obsnofo)
		set -- "$RSTW" run --log "$tmp/events.log" --metrics "127.0.0.1:$MPORT"
		[ "$cfg" = enforce ] && set -- "$@" --mode enforce
		[ "$cfg" = obsnofo ] && set -- "$@" --no-fail-open
		ready=running ;;
	lognull) set -- build/bench/null_reader log; ready=ready ;;
	hsqueue)
		# iptables-nft: the xt NFQUEUE target works where nft_queue is
		# missing (README, Kernel facts).
		local chain f
		for chain in PREROUTING OUTPUT; do
			for f in SYN FIN RST; do
				in_ns "$G" iptables -t raw -A "$chain" -p tcp --tcp-flags "$f" "$f" \
					-j NFQUEUE --queue-num 7300 --queue-bypass >>"$LOG" 2>&1 ||
					die "hsqueue: iptables"
			done
		done
		set -- build/bench/null_reader queue -b 8 --no-rules; ready=ready ;;
	*) die "unknown configuration $cfg" ;;
	esac
	log "[$cfg] ip netns exec $G ${pre[*]} $*"
	: >"$tmp/consumer.err"
	ip netns exec "$G" "${pre[@]}" "$@" >"$tmp/consumer.out" 2>"$tmp/consumer.err" &
	CPID=$!
	pids+=("$CPID")
	wait_for 10 grep -q "$ready" "$tmp/consumer.err" ||
		die "$cfg did not start: $(cat "$tmp/consumer.err")"
}

stop_cfg() {
	local cfg=$1 i
	case $cfg in
	plain) return 0 ;;
	ct|ctagain) in_ns "$G" nft delete table inet gwcost_ct; return 0 ;;
	hsqueue) in_ns "$G" iptables -t raw -F; in_ns "$G" iptables -t raw -X ;;
	esac
	kill -TERM "$CPID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	{ echo "[$cfg] output:"; cat "$tmp/consumer.out" "$tmp/consumer.err"; } >>"$LOG"
	rm -f "$tmp/events.log"
	in_ns "$G" nft delete table inet rstwatch 2>/dev/null
	CPID=""
}

# --- one measurement: configuration x idle level --------------------------
HPID=""
hold_idle() {
	local n=$1
	: >"$tmp/hold.out"
	ip netns exec "$C" build/bench/conn_bench hold "$SRV" 8080 "$n" -t 600 \
		>"$tmp/hold.out" 2>"$tmp/hold.err" &
	HPID=$!
	pids+=("$HPID")
	wait_for 60 grep -q held "$tmp/hold.out" || die "could not hold $n connections: $(cat "$tmp/hold.err")"
}
srv_established() { in_ns "$S" ss -Htn state established '( sport = :8080 )' | wc -l; }
release_idle() {
	kill -TERM "$HPID" 2>/dev/null
	wait "$HPID" 2>/dev/null
	HPID=""
	# The server closes its side and the FINs cross the gateway before the
	# next configuration is measured.
	wait_for 30 sh -c "[ \$(ip netns exec $S ss -Htn state established '( sport = :8080 )' | wc -l) -lt 5 ]" ||
		log "idle connections still open: $(srv_established)"
	sleep 0.2
}

measure_conns() {
	local round=$1 cfg=$2 idle=$3 rss=- lat mx lost=- copies=-
	start_cfg "$cfg"
	hold_idle "$idle"
	[ -n "$CPID" ] && rss=$(rss_kb "$CPID")
	lat=$(in_ns "$C" build/bench/conn_bench rate "$SRV" 8080 -r "$RATE" -n "$COUNT" 2>>"$LOG") ||
		die "[$cfg] rate run failed"
	mx=$(in_ns "$C" build/bench/conn_bench max "$SRV" 8080 -c "$CONC" -s "$SECS" 2>>"$LOG") ||
		die "[$cfg] max run failed"
	case $cfg in observe|enforce)
		local page
		page=$(scrape)
		copies=$(metric rstwatch_nflog_packets_total "$page")
		lost=$(metric rstwatch_nflog_lost_total "$page") ;;
	esac
	release_idle
	stop_cfg "$cfg"
	# connect_p50 A connect_p99 B xchg_p50 C xchg_p99 D ok N errors E / per_s R ok N errors E
	set -- $lat
	local c50=$2 c99=$4 x50=$6 x99=$8 lerr=${12}
	set -- $mx
	local rate=$2 merr=$6
	printf 'conns\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$cfg" "$idle" \
		"$c50" "$c99" "$x50" "$x99" "$rate" "$rss" "$((lerr + merr))" "$copies" "$lost" >>"$RAW"
	log "round $round $cfg idle $idle: $lat | $mx | rss $rss copies $copies lost $lost"
}

# --- the copy path's limit --------------------------------------------------
flood() {   # flood KIND: rst_flood from the client for FLOOD_SECS, pinned to CPU 0
	local kind=$1 extra=()
	[ "$kind" = syn ] && extra=(--syn)
	in_ns "$C" taskset -c 0 build/bench/rst_flood -i cli0 -d "$GMAC" -t "$FLOOD_SECS" \
		-f 4096 "${extra[@]}"
}
measure_copies() {
	local round=$1 what=$2 sent out got lost page j0 j1 c0 c1
	case $what in
	nullcopies)
		start_cfg lognull 1
		c0=$(cpu_ticks "$CPID")
		sent=$(flood syn | awk '{ print $2 }')
		c1=$(cpu_ticks "$CPID")
		stop_cfg lognull
		out=$(grep "^copies" "$tmp/consumer.out")
		got=$(awk '{ print $2 }' <<<"$out") lost=$(awk '{ print $4 }' <<<"$out") ;;
	rstwcopies)
		start_cfg observe 1
		c0=$(cpu_ticks "$CPID")
		sent=$(flood syn | awk '{ print $2 }')
		c1=$(cpu_ticks "$CPID")
		sleep 0.3
		page=$(scrape)
		got=$(metric rstwatch_nflog_packets_total "$page")
		lost=$(metric rstwatch_nflog_lost_total "$page")
		stop_cfg observe ;;
	rstwqueued)
		start_cfg obsnofo 1
		if [ -n "${NOMARKER:-}" ]; then
			local h
			h=$(in_ns "$G" nft -a list chain inet rstwatch divert | awk '/rstwatch: queued/ { print $NF }')
			in_ns "$G" nft replace rule inet rstwatch divert handle "$h" counter
		fi
		j0=$(nfq_judged)
		c0=$(cpu_ticks "$CPID")
		sent=$(flood rst | awk '{ print $2 }')
		c1=$(cpu_ticks "$CPID")
		sleep 0.3
		j1=$(nfq_judged)
		scrape | grep -E '^rstwatch_(queue|nflog|ct_lookups|packets_decoded|holds)' >>"$LOG"
		got=$((j1 - j0)) lost=$((sent - got))
		stop_cfg obsnofo ;;
	esac
	# Packets per CPU-second of the consumer: what one thread could take
	# when the sender (one core) is the limit.
	local per_cpu
	per_cpu=$(awk -v g="$got" -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN { if (t > 0) printf "%.0f", g / (t / hz); else print "-" }')
	printf 'copies\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$what" "$sent" "$got" "$lost" "$per_cpu" >>"$RAW"
	log "round $round $what: sent $sent received $got lost $lost per-cpu-second $per_cpu"
}

# --- mixed traffic: are conntrack lookups shed without a real backlog? ------
measure_mixed() {
	local round=$1 page found missing shed err mm
	start_cfg observe
	in_ns "$C" build/bench/rst_flood -i cli0 -d "$GMAC" -t "$SECS" -r "$MIXED_RATE" -b "$MIXED_BATCH" -f 4096 \
		>>"$LOG" 2>&1 &
	local fpid=$!
	in_ns "$C" build/bench/conn_bench rate "$SRV" 8080 -r "$RATE" -n $((RATE * SECS)) >>"$LOG" 2>&1
	wait "$fpid"
	sleep 0.3
	page=$(scrape)
	found=$(metric 'rstwatch_ct_lookups_total{result="found"}' "$page")
	missing=$(metric 'rstwatch_ct_lookups_total{result="missing"}' "$page")
	shed=$(metric 'rstwatch_ct_lookups_total{result="shed"}' "$page")
	err=$(metric 'rstwatch_ct_lookups_total{result="error"}' "$page")
	mm=$(metric rstwatch_reset_markers_missing_total "$page")
	stop_cfg observe
	printf 'mixed\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$found" "$missing" "$shed" "$err" "$mm" >>"$RAW"
	log "round $round mixed: ct found $found missing $missing shed $shed error $err; markers missing $mm"
}

# --- report -------------------------------------------------------------------
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
col_median() {   # col_median KIND FIELD FILTER...: median of FIELD over matching rows
	local kind=$1 field=$2 cfg=$3 idle=${4:-}
	awk -F'\t' -v k="$kind" -v f="$field" -v c="$cfg" -v i="$idle" \
		'$1 == k && $3 == c && (i == "" || $4 == i) && $f != "-" { print $f }' "$RAW" | median
}
col_best() {     # col_best KIND FIELD CFG IDLE min|max: the best round's FIELD
	local kind=$1 field=$2 cfg=$3 idle=$4 how=$5
	awk -F'\t' -v k="$kind" -v f="$field" -v c="$cfg" -v i="$idle" \
		'$1 == k && $3 == c && $4 == i && $f != "-" { print $f }' "$RAW" |
		sort -n | if [ "$how" = min ]; then head -n 1; else tail -n 1; fi
}
# paired FIELD CFG IDLE: CFG's FIELD over ct's in the same round, the median
# of the rounds and their range. The rounds' noise moves both configurations
# of a round alike (other work on the 2 cores) far more than it moves one.
paired() {
	awk -F'\t' -v f="$1" -v c="$2" -v i="$3" '
		$1 == "conns" && $4 == i && $f != "-" && $3 == "ct" { ct[$2] = $f }
		$1 == "conns" && $4 == i && $f != "-" && $3 == c { v[$2] = $f }
		END { for (r in v) if (ct[r] > 0) print v[r] / ct[r] }' "$RAW" |
		sort -n | awk '{ v[NR] = $1 } END {
			if (NR) printf "x%.2f (%.2f-%.2f)", v[int((NR + 1) / 2)], v[1], v[NR]; else print "-" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-" && a != "") printf "x%.2f", a / b; else print "-" }'; }

report() {
	local idle cfg
	{
		if [ "$CONNS" = 1 ]; then
			echo "### Connections through the gateway (medians of $ROUNDS rounds; latency: $COUNT connections at $RATE/s; rate: $CONC in flight for $SECS s)"
			echo
			echo "| idle conns | config | connect p50 us | p99 | exchange p50 us | p99 | p50 vs ct | conn/s | vs ct | consumer RSS KiB | errors | copies lost |"
			echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
			for idle in $IDLE; do
				local ct50 ctrate
				ct50=$(col_median conns 5 ct "$idle")
				ctrate=$(col_median conns 9 ct "$idle")
				for cfg in $ONLY; do
					local c50 c99 x50 x99 rate rss err lost
					c50=$(col_median conns 5 "$cfg" "$idle") c99=$(col_median conns 6 "$cfg" "$idle")
					x50=$(col_median conns 7 "$cfg" "$idle") x99=$(col_median conns 8 "$cfg" "$idle")
					rate=$(col_median conns 9 "$cfg" "$idle") rss=$(col_median conns 10 "$cfg" "$idle")
					err=$(awk -F'\t' -v c="$cfg" -v i="$idle" '$1 == "conns" && $3 == c && $4 == i { s += $11 } END { print s + 0 }' "$RAW")
					lost=$(awk -F'\t' -v c="$cfg" -v i="$idle" '$1 == "conns" && $3 == c && $4 == i && $13 != "-" { s += $13; n++ } END { print n ? s : "-" }' "$RAW")
					echo "| $idle | $cfg | $c50 | $c99 | $x50 | $x99 | $(ratio "$c50" "$ct50") | $rate | $(ratio "$rate" "$ctrate") | $rss | $err | $lost |"
				done
			done
			echo
			# Other work on the cores only ever adds latency and takes
			# rate: each configuration's best round is the closest to
			# its own cost when the rounds' noise swamps the medians.
			echo "### Paired: each round's ratio to ct in the same round, median (range) of $ROUNDS rounds"
			echo
			echo "| idle conns | config | connect p50 vs ct | exchange p50 vs ct | conn/s vs ct |"
			echo "|---|---|---|---|---|"
			for idle in $IDLE; do
				for cfg in $ONLY; do
					[ "$cfg" = ct ] && continue
					echo "| $idle | $cfg | $(paired 5 "$cfg" "$idle") | $(paired 7 "$cfg" "$idle") | $(paired 9 "$cfg" "$idle") |"
				done
			done
			echo
			echo "### The same, best of $ROUNDS rounds (lowest p50s, highest rate)"
			echo
			echo "| idle conns | config | connect p50 us | exchange p50 us | p50 vs ct | conn/s | vs ct |"
			echo "|---|---|---|---|---|---|---|"
			for idle in $IDLE; do
				local ctb ctr
				ctb=$(col_best conns 5 ct "$idle" min) ctr=$(col_best conns 9 ct "$idle" max)
				for cfg in $ONLY; do
					local b50 bx br
					b50=$(col_best conns 5 "$cfg" "$idle" min) bx=$(col_best conns 7 "$cfg" "$idle" min)
					br=$(col_best conns 9 "$cfg" "$idle" max)
					echo "| $idle | $cfg | ${b50:--} | ${bx:--} | $(ratio "$b50" "$ctb") | ${br:--} | $(ratio "$br" "$ctr") |"
				done
			done
			echo
		fi
		if [ "$COPYLIMIT" = 1 ]; then
			echo "### The copy path's limit ($FLOOD_SECS s floods from one core, 4096 flows; medians of $ROUNDS rounds)"
			echo
			echo "| what | sent/s | received/s | lost | received per consumer CPU-second |"
			echo "|---|---|---|---|---|"
			local w
			for w in nullcopies rstwcopies rstwqueued; do
				local s g l c
				s=$(awk -F'\t' -v w="$w" '$1 == "copies" && $3 == w { print $4 }' "$RAW" | median)
				g=$(awk -F'\t' -v w="$w" '$1 == "copies" && $3 == w { print $5 }' "$RAW" | median)
				l=$(awk -F'\t' -v w="$w" '$1 == "copies" && $3 == w { print $6 }' "$RAW" | median)
				c=$(awk -F'\t' -v w="$w" '$1 == "copies" && $3 == w { print $7 }' "$RAW" | median)
				echo "| $w | $((s / FLOOD_SECS)) | $((g / FLOOD_SECS)) | $l | $c |"
			done
			echo
		fi
		if [ "$MIXED" = 1 ]; then
			echo "### Mixed traffic: $MIXED_RATE resets/s and $RATE connections/s for $SECS s (rstwatch observe; per round)"
			echo
			echo "| round | ct found | ct missing | ct shed | ct error | shed % | markers missing |"
			echo "|---|---|---|---|---|---|---|"
			awk -F'\t' '$1 == "mixed" { t = $3 + $4 + $5 + $6; printf "| %s | %s | %s | %s | %s | %.1f%% | %s |\n", $2, $3, $4, $5, $6, t ? 100 * $5 / t : 0, $7 }' "$RAW"
			echo
		fi
	} | tee "$MD"
}

# --- run ------------------------------------------------------------------------
topology_up
bg_serve() {
	ip netns exec "$S" build/bench/conn_bench serve 8080 -t 3600 >"$tmp/serve.out" 2>"$tmp/serve.err" &
	pids+=($!)
	wait_for 5 grep -q listening "$tmp/serve.err" || die "server did not listen"
}
bg_serve
: >"$RAW"
log "gwcost: ROUNDS=$ROUNDS IDLE='$IDLE' RATE=$RATE COUNT=$COUNT CONC=$CONC SECS=$SECS ONLY='$ONLY'"
log "kernel $(uname -r), $(nproc) CPUs, rstwatch $RSTW"
cfgs=($ONLY)
for round in $(seq "$ROUNDS"); do
	if [ "$CONNS" = 1 ]; then
		for idle in $IDLE; do
			# Rotate the order each round: no configuration always runs first.
			for k in $(seq 0 $((${#cfgs[@]} - 1))); do
				cfg=${cfgs[$(((k + round - 1) % ${#cfgs[@]}))]}
				echo "round $round/$ROUNDS idle $idle: $cfg" >&2
				measure_conns "$round" "$cfg" "$idle"
			done
		done
	fi
	if [ "$MIXED" = 1 ]; then
		echo "round $round/$ROUNDS mixed traffic" >&2
		measure_mixed "$round"
	fi
	if [ "$COPYLIMIT" = 1 ]; then
		for w in nullcopies rstwcopies rstwqueued; do
			echo "round $round/$ROUNDS copy limit: $w" >&2
			measure_copies "$round" "$w"
		done
	fi
done
report
