#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The NFQUEUE limit: what `rstwatch run` costs a gateway under a reset flood,
# next to a do-nothing consumer on the same transport and ruleset.
#
#   bench/nfq.sh        (ROUNDS=3 SECS=5 PROBES=2000 PROBE_RATE=1000 BG_RATE=20000)
#   ONLY="null8 rstw" bench/nfq.sh     a subset of the configurations
#   SCALING=0 bench/nfq.sh             skip the two-queue part
#   LATENCY=0 bench/nfq.sh             skip the latency probes: saturation only, so
#                                      more, shorter rounds fit (ROUNDS=20 SECS=2)
#   DUEL=1 bench/nfq.sh                instead: the duel (below) for ROUNDS rounds
#   DUEL=1 AGAINST=PATH bench/nfq.sh   the duel against another rstwatch build
#                                      instead of null_reader queue: an A/B test of a change
#   RSTWATCH=PATH bench/nfq.sh         measure that rstwatch binary (another build)
#   SHUFFLE=1 bench/nfq.sh             saturation floods visit the flows in a new
#                                      random order each pass (rst_flood --shuffle),
#                                      as real traffic does, instead of in order
#   PROFILE=rstw bench/nfq.sh          instead: profile one configuration under the
#                                      saturation flood (perf record -g on the
#                                      consumer, perf trace -s for its syscalls);
#                                      report in bench/out/nfq-perf-CFG.txt, the
#                                      samples in bench/out/nfq-perf-CFG.data
#
# Needs root. Builds rstwatch and the bench programs, creates three namespaces
# of its own (sender -> gateway -> receiver, TEST-NET addresses only, removed
# on exit by name), then runs ROUNDS alternating rounds over the configurations
#   noqueue   plain forwarding: no ruleset in the gateway
#   rules     table inet rstwatch loaded (`rstwatch rules install`), nothing bound
#             to the queue: the queue rule's bypass accepts (ruleset + conntrack cost)
#   null1     bench/null_reader queue, one verdict per packet (--batch 1)
#   null8     bench/null_reader queue, a batch verdict per 8 packets (rstwatch's default)
#   rstw      rstwatch run, defaults (conntrack lookups, JSON log to a file,
#             rate limit 20/s per source)
#   rstwnoct  rstwatch run --no-conntrack
#   rstwts    rstwatch run --arrival-stamps (only when named in ONLY: the cost
#             of the kernel stamping every packet)
# Every consumer: copy range 128, queue 7300, default receive buffer, and
# fail-open OFF (--no-fail-open), so that what the consumer cannot take is
# dropped and counted (queue_dropped / user_dropped) rather than waved
# through uncounted, which is what fail-open does (then the receiver would see
# the forwarding rate, not the consumer's). null_reader queue installs the very ruleset
# rstwatch installs (rules_install, same configuration).
#
# Per configuration and round:
#   saturation  rst_flood as fast as one core sends (pinned to CPU 0, the
#               consumer pinned to CPU 1) for SECS seconds, 4096 flows; the
#               receiver's nft counter gives delivered resets/s; the gateway's
#               /proc/net/netfilter/nfnetlink_queue gives queue_dropped and
#               user_dropped; /proc/PID/stat the consumer's CPU (utime+stime,
#               all threads) per delivered packet; /proc/stat the machine's idle.
#   light       PROBES single resets at PROBE_RATE/s, each stamped with its send
#               time; rst_sink in the receiver takes the kernel's receive stamp:
#               one-way latency p50/p99 (the consumer sleeps between probes).
#   loaded      the same probes while a background flood of BG_RATE resets/s
#               keeps the consumer busy (below every consumer's saturation, so
#               the probes measure a working, not an overrun, queue).
# Then (SCALING=1) saturation with two queues (--queue 7300-7301, one thread
# each; the kernel hashes each flow's addresses onto one) against one queue,
# for null_reader queue --batch 8 and rstwatch, consumers not pinned.
# The duel (DUEL=1): null_reader queue -b 8 and rstwatch run at the same time, both
# pinned to CPU 1, each bound to one of two queues the ruleset spreads flows
# over (`rstwatch rules install --queue 7300-7301`, both consumers --no-rules;
# the queues swap between rounds). Both are saturated, so the scheduler gives
# each half the core, and the packets each one handles measure its cost per
# packet under the very same conditions at the very same moment: the host's
# noise, which moves alternating rounds by 10-25%, hits both alike. What it
# cannot separate: host-wide costs one consumer causes (--arrival-stamps)
# land on both, and the two share one core's caches. With AGAINST=PATH the
# opponent is that rstwatch build (nflog group 7301): an A/B test precise to
# about a percent.
# Handled packets per queue come from /proc/net/netfilter/nfnetlink_queue
# (id_sequence counts packets handed to the socket and those it had no room
# for, user_dropped the latter).
# Medians of the rounds. Prints markdown tables to stdout and bench/out/nfq.md;
# raw per-round numbers in bench/out/nfq-raw.tsv, commands in bench/out/nfq.log.
# Not a test: numbers are compared side by side within one run, never against
# absolute thresholds.
set -u
cd "$(dirname "$0")/.." || exit 1

ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
PROBES=${PROBES:-2000}
PROBE_RATE=${PROBE_RATE:-1000}
BG_RATE=${BG_RATE:-20000}
FLOWS=${FLOWS:-4096}
ONLY=${ONLY:-noqueue rules null1 null8 rstw rstwnoct}
SCALING=${SCALING:-1}
LATENCY=${LATENCY:-1}
RSTW=${RSTWATCH:-build/rstwatch}
SHUFFLE_OPT=""
[ "${SHUFFLE:-0}" = 1 ] && SHUFFLE_OPT=--shuffle
OUT=bench/out
LOG=$OUT/nfq.log
RAW=$OUT/nfq-raw.tsv
MD=$OUT/nfq.md
if [ -n "${PROFILE:-}" ]; then    # keep the main run's files
	LOG=$OUT/nfq-perf.log
	RAW=$OUT/nfq-perf-raw.tsv
fi
BENCH=nfq
source bench/lib.sh
mkdir -p "$OUT"
: >"$LOG"
make -s build/rstwatch build/bench/rst_flood build/bench/rst_sink build/bench/null_reader \
	build/bench/flowmem >>"$LOG" 2>&1 || die "build failed (see $LOG)"
for t in nft ip taskset awk; do command -v "$t" >/dev/null || die "needs $t"; done

tag=nfqb-$$
S=$tag-snd G=$tag-gw R=$tag-rcv

# --- topology -------------------------------------------------------------
#   sender   snd0 198.51.100.2/24  --  gws0 198.51.100.1/24  gateway
#   gateway  gwr0 192.0.2.1/24     --  rcv0 192.0.2.2/24     receiver
#   gateway: 203.0.113.0/24 via 192.0.2.2 (static neighbour); the flood goes
#   198.51.100.10-249 -> 203.0.113.10-249; the receiver counts and drops it.
topology_up() {
	bench_topology "$S" "$G" "$R" snd0 gws0 gwr0 rcv0
	{
		ip -n "$G" neigh replace 192.0.2.2 lladdr "$(in_ns "$R" cat /sys/class/net/rcv0/address)" \
			dev gwr0 nud permanent
		# The receiver counts resets at the earliest hook and drops them (no TCP
		# stack work). Packet taps (rst_sink) see frames before this hook.
		in_ns "$R" nft -f - <<-'EOF'
			table inet sink {
				counter flood {}
				counter probe {}
				chain pre {
					type filter hook prerouting priority -500; policy accept;
					tcp flags & rst == rst tcp dport 7 counter name probe drop
					tcp flags & rst == rst counter name flood drop
				}
			}
		EOF
	} >>"$LOG" 2>&1 || die "building the topology (see $LOG)"
	GMAC=$(in_ns "$G" cat /sys/class/net/gws0/address)
}

# --- counters -------------------------------------------------------------
rcv_count() { in_ns "$R" nft list counter inet sink flood | awk '/packets/ { print $2 }'; }
gw_rx() { in_ns "$G" cat /sys/class/net/gws0/statistics/rx_packets; }
# Sums over the bound queues: queue_dropped user_dropped id_sequence.
nfq_proc() {
	in_ns "$G" awk '{ q += $6; u += $7; id += $8 } END { print q + 0, u + 0, id + 0 }' \
		/proc/net/netfilter/nfnetlink_queue
}
# The machine: total and idle jiffies.
sys_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat; }
# Per CPU: "cpuN user% sys% softirq% idle%" between two snapshots of /proc/stat.
cpu_snap() { grep '^cpu[0-9]' /proc/stat; }
cpu_split() {
	awk 'NR == FNR { for (i = 2; i <= NF; i++) a[$1, i] = $i; next }
		{ t = 0; for (i = 2; i <= NF; i++) { d[i] = $i - a[$1, i]; t += d[i] }
		  if (t > 0) printf "%s usr %.0f%% sys %.0f%% softirq %.0f%% idle %.0f%%; ", $1,
			(d[2] + d[3]) / t * 100, d[4] / t * 100, d[8] / t * 100, (d[5] + d[6]) / t * 100 }' "$1" "$2"
}
ct_count() { in_ns "$G" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0; }

# --- consumers ------------------------------------------------------------
CPID=""
# start_consumer CFG PIN: PIN is a CPU list for taskset, or "" for none.
start_consumer() {
	local cfg=$1 pin=$2 ready pre=()
	CPID=""
	[ -n "$pin" ] && pre=(taskset -c "$pin")
	case $cfg in
	noqueue) return 0 ;;
	rules)
		in_ns "$G" build/rstwatch rules install >>"$LOG" 2>&1 || die "rules install failed"
		return 0 ;;
	null1) set -- build/bench/null_reader queue -b 1 --no-fail-open; ready=ready ;;
	null8) set -- build/bench/null_reader queue -b 8 --no-fail-open; ready=ready ;;
	null8q2) set -- build/bench/null_reader queue -q 7300-7301 -b 8 --no-fail-open; ready=ready ;;
	rstw) set -- "$RSTW" run --no-fail-open --log "$tmp/events.log"; ready=running ;;
	rstwq2) set -- "$RSTW" run --queue 7300-7301 --no-fail-open --log "$tmp/events.log"
		ready=running ;;
	rstwnoct) set -- "$RSTW" run --no-conntrack --no-fail-open --log "$tmp/events.log"
		ready=running ;;
	rstwts) set -- "$RSTW" run --arrival-stamps --no-fail-open --log "$tmp/events.log"
		ready=running ;;
	*) die "unknown configuration $cfg" ;;
	esac
	log "[$cfg] ip netns exec $G ${pre[*]} $*"
	: >"$tmp/consumer.err"
	# ip netns exec and taskset exec: $! is the consumer itself.
	ip netns exec "$G" "${pre[@]}" "$@" >"$tmp/consumer.out" 2>"$tmp/consumer.err" &
	CPID=$!
	pids+=("$CPID")
	wait_for 10 grep -q "$ready" "$tmp/consumer.err" ||
		die "$cfg did not start: $(cat "$tmp/consumer.err")"
	wait_for 5 sh -c "ip netns exec $G nft list chain inet rstwatch divert 2>/dev/null | grep -qi queue" ||
		die "$cfg: no queue rule in the gateway"
}

stop_consumer() {
	local cfg=$1 i
	case $cfg in
	noqueue) return 0 ;;
	rules) in_ns "$G" build/rstwatch rules remove >>"$LOG" 2>&1; return 0 ;;
	esac
	kill -TERM "$CPID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	cat "$tmp/consumer.out" "$tmp/consumer.err" >>"$LOG"
	rm -f "$tmp/events.log"
	in_ns "$G" nft delete table inet rstwatch 2>/dev/null
	CPID=""
}

# --- measurements ---------------------------------------------------------
# Other work on this shared machine (builds, tests) skews a point: before each
# one, wait (up to QUIET_WAIT s) until the machine is idle enough over 0.5 s
# (< QUIET_BUSY % of all CPUs busy; our idle consumer costs nothing). Logged.
QUIET_BUSY=${QUIET_BUSY:-15}
QUIET_WAIT=${QUIET_WAIT:-60}
wait_quiet() {
	local deadline=$((SECONDS + QUIET_WAIT)) a b busy
	while :; do
		a=$(sys_ticks); sleep 0.5; b=$(sys_ticks)
		busy=$(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
			t = y[1] - x[1]; print (t > 0) ? int(100 - (y[2] - x[2]) / t * 100) : 0 }')
		[ "$busy" -lt "$QUIET_BUSY" ] && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "  (machine still ${busy}% busy after ${QUIET_WAIT} s: measuring anyway)"
			return 0
		fi
		log "  (machine ${busy}% busy with other work: waiting)"
		sleep 1
	done
}

# saturation CFG ROUND PART: one flood, one line into $RAW.
saturation() {
	local cfg=$1 round=$2 part=$3 c0 c1 r0 r1 q0 q1 u0 u1 s0 s1 ct out
	wait_quiet
	c0=$(rcv_count) r0=$(gw_rx) q0=$(nfq_proc) u0=$(cpu_ticks "$CPID") s0=$(sys_ticks)
	cpu_snap >"$tmp/cpu0"
	out=$(in_ns "$S" taskset -c 0 build/bench/rst_flood -i snd0 -d "$GMAC" -t "$SECS" -f "$FLOWS" $SHUFFLE_OPT)
	sleep 0.3    # what is still queued reaches the receiver
	cpu_snap >"$tmp/cpu1"
	c1=$(rcv_count) r1=$(gw_rx) q1=$(nfq_proc) u1=$(cpu_ticks "$CPID") s1=$(sys_ticks)
	ct=$(ct_count)
	log "[$cfg r$round $part] flood: $out; nfq before/after: $q0 / $q1; conntrack entries: $ct; $(cpu_split "$tmp/cpu0" "$tmp/cpu1")$([ -f "$tmp/events.log" ] && echo "event log: $(wc -l <"$tmp/events.log") lines so far")"
	# sent elapsed; counters; -> one tab-separated line
	echo "$out" | awk -v cfg="$cfg" -v round="$round" -v part="$part" -v c0="$c0" -v c1="$c1" \
		-v r0="$r0" -v r1="$r1" -v q0="$q0" -v q1="$q1" -v u0="$u0" -v u1="$u1" \
		-v s0="$s0" -v s1="$s1" -v hz="$HZ" -v ct="$ct" '
		{ sent = $2; el = $4 }
		END {
			split(q0, a, " "); split(q1, b, " "); split(s0, x, " "); split(s1, y, " ")
			deliv = c1 - c0
			qd = b[1] - a[1]; ud = b[2] - a[2]
			cpu = (u1 - u0) / hz
			idle = (y[2] - x[2]) / (y[1] - x[1]) * 100
			nspp = (deliv > 0) ? cpu * 1e9 / deliv : 0
			printf "sat\t%s\t%s\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\t%s\n",
				part, cfg, round, sent / el, (r1 - r0) / el, deliv / el, qd / el, ud / el,
				nspp, cpu / el * 100, idle, ct
		}' >>"$RAW"
}

# latency CFG ROUND MODE: MODE light or loaded.
latency() {
	local cfg=$1 round=$2 mode=$3 secs bgpid="" res
	secs=$(( (PROBES + PROBE_RATE - 1) / PROBE_RATE ))
	wait_quiet
	: >"$tmp/sink.err"
	ip netns exec "$R" build/bench/rst_sink -i rcv0 -n "$PROBES" -t $((secs + 5)) -s 50 \
		>"$tmp/sink.out" 2>"$tmp/sink.err" &
	local spid=$!
	pids+=("$spid")
	wait_for 5 grep -q ready "$tmp/sink.err" || die "rst_sink did not start: $(cat "$tmp/sink.err")"
	if [ "$mode" = loaded ]; then
		ip netns exec "$S" taskset -c 0 build/bench/rst_flood -i snd0 -d "$GMAC" -r "$BG_RATE" \
			-t $((secs + 2)) -f "$FLOWS" >"$tmp/bg.out" 2>&1 &
		bgpid=$!
		pids+=("$bgpid")
		sleep 0.5
	fi
	in_ns "$S" taskset -c 0 build/bench/rst_flood -i snd0 -d "$GMAC" --probe -r "$PROBE_RATE" \
		-n "$PROBES" -t $((secs + 2)) -f "$FLOWS" >"$tmp/probe.out" 2>&1
	wait "$spid"
	[ -n "$bgpid" ] && { kill -TERM "$bgpid" 2>/dev/null; wait "$bgpid"; }
	res=$(cat "$tmp/sink.out")
	log "[$cfg r$round $mode] probe: $(cat "$tmp/probe.out"); sink: $res"
	echo "$res" | awk -v cfg="$cfg" -v round="$round" -v mode="$mode" '
		{ for (i = 1; i < NF; i += 2) v[$i] = $(i + 1) }
		END { printf "lat\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mode, cfg, round,
			v["p50_us"], v["p90_us"], v["p99_us"], v["max_us"], v["lost"] }' >>"$RAW"
}

# --- run ------------------------------------------------------------------
topology_up
: >"$RAW"
log "nfq.sh: ROUNDS=$ROUNDS SECS=$SECS PROBES=$PROBES PROBE_RATE=$PROBE_RATE BG_RATE=$BG_RATE FLOWS=$FLOWS SHUFFLE=${SHUFFLE:-0}"
log "commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src nfq rules 2>/dev/null || echo ' (+ uncommitted changes in src/nfq/rules)'); rstwatch binary $RSTW"
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
log "kernel $(uname -r), $(nproc) CPUs: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"

name() {
	case $1 in
	noqueue) echo "no queue (plain forwarding)" ;;
	rules) echo "ruleset, no consumer (bypass)" ;;
	null1) echo "null_reader queue, verdict per packet" ;;
	null8) echo "null_reader queue, batch 8" ;;
	null8q2) echo "null_reader queue, batch 8, 2 queues" ;;
	rstw) echo "rstwatch run" ;;
	rstwq2) echo "rstwatch run, 2 queues" ;;
	rstwnoct) echo "rstwatch run --no-conntrack" ;;
	rstwts) echo "rstwatch run --arrival-stamps" ;;
	*) echo "$1" ;;
	esac
}

# profile CFG: perf record (call graphs) and a syscall summary of the consumer
# during one saturation flood each.
profile() {
	local cfg=$1 f=$OUT/nfq-perf-$1.txt ppid
	command -v perf >/dev/null || die "PROFILE needs perf (Debian: linux-perf)"
	start_consumer "$cfg" 1
	perf record -q -F 999 --call-graph dwarf,16384 -p "$CPID" -o "$tmp/perf.data" >>"$LOG" 2>&1 &
	ppid=$!
	pids+=("$ppid")
	sleep 0.5
	saturation "$cfg" 1 profile
	kill -INT "$ppid"; wait "$ppid"
	perf trace -s -p "$CPID" -o "$tmp/trace.txt" >>"$LOG" 2>&1 &
	ppid=$!
	pids+=("$ppid")
	sleep 0.5
	saturation "$cfg" 2 profile
	kill -INT "$ppid"; wait "$ppid"
	stop_consumer "$cfg"
	{
		echo "# $(name "$cfg") under a saturation flood (${SECS} s, $FLOWS flows), consumer pinned to CPU 1"
		echo "# sat lines: part cfg round offered arrived delivered qdrop/s udrop/s ns/pkt cpu% idle% ct"
		grep "^sat.profile.$cfg.[0-9]" "$RAW"
		echo
		echo "## perf report --no-children (self time by symbol)"
		perf report -i "$tmp/perf.data" --no-children --sort dso,sym --stdio -g none \
			--percent-limit 0.5 2>/dev/null | grep -v '^$'
		echo
		echo "## perf report --children (inclusive time, user-space call chains)"
		perf report -i "$tmp/perf.data" --children --sort sym --stdio -g none \
			--percent-limit 2 2>/dev/null | grep -v '^$'
		echo
		echo "## perf trace -s (syscalls during the second flood, perf trace running)"
		cat "$tmp/trace.txt"
	} >"$f"
	mv "$tmp/perf.data" "$OUT/nfq-perf-$cfg.data"
	echo "nfq.sh: profile in $f (perf report -i $OUT/nfq-perf-$cfg.data for more)" >&2
}

# queue_handled Q: packets queue Q handed to its consumer so far.
queue_handled() {
	in_ns "$G" awk -v q="$1" '$1 == q { print $8 - $7 }' /proc/net/netfilter/nfnetlink_queue
}

# duel ROUND: one line "duel ROUND null_pps rstw_pps null_ns rstw_ns" into $RAW.
duel() {
	local round=$1 qn=7301 qr=7300 opid rpid n0 n1 r0 r1 co0 co1 cr0 cr1 out p ready
	[ $((round % 2)) = 0 ] && { qn=7300; qr=7301; }
	in_ns "$G" build/rstwatch rules install --queue 7300-7301 >>"$LOG" 2>&1 ||
		die "rules install --queue 7300-7301 failed"
	: >"$tmp/duel-opponent.err"; : >"$tmp/duel-rstw.err"
	log "[duel r$round] ${AGAINST:-null_reader queue} on queue $qn, $RSTW on queue $qr, both on CPU 1"
	if [ -n "${AGAINST:-}" ]; then
		set -- "$AGAINST" run --queue "$qn" --nflog-group 7301 --no-rules --no-fail-open \
			--log "$tmp/events-against.log"
		ready=running
	else
		set -- build/bench/null_reader queue -q "$qn" -b 8 --no-fail-open --no-rules
		ready=ready
	fi
	ip netns exec "$G" taskset -c 1 "$@" >/dev/null 2>"$tmp/duel-opponent.err" &
	opid=$!
	ip netns exec "$G" taskset -c 1 "$RSTW" run --queue "$qr" --no-rules --no-fail-open \
		--log "$tmp/events.log" >/dev/null 2>"$tmp/duel-rstw.err" &
	rpid=$!
	pids+=("$opid" "$rpid")
	wait_for 10 grep -q "$ready" "$tmp/duel-opponent.err" || die "duel: $1: $(cat "$tmp/duel-opponent.err")"
	wait_for 10 grep -q running "$tmp/duel-rstw.err" || die "duel: rstwatch: $(cat "$tmp/duel-rstw.err")"
	wait_quiet
	n0=$(queue_handled "$qn") r0=$(queue_handled "$qr") co0=$(cpu_ticks "$opid") cr0=$(cpu_ticks "$rpid")
	out=$(in_ns "$S" taskset -c 0 build/bench/rst_flood -i snd0 -d "$GMAC" -t "$SECS" -f "$FLOWS" $SHUFFLE_OPT)
	sleep 0.3
	n1=$(queue_handled "$qn") r1=$(queue_handled "$qr") co1=$(cpu_ticks "$opid") cr1=$(cpu_ticks "$rpid")
	for p in "$opid" "$rpid"; do kill -TERM "$p" 2>/dev/null; done
	for p in "$opid" "$rpid"; do wait "$p" 2>/dev/null; done
	cat "$tmp/duel-opponent.err" "$tmp/duel-rstw.err" >>"$LOG"
	rm -f "$tmp/events.log" "$tmp/events-against.log"
	in_ns "$G" build/rstwatch rules remove >>"$LOG" 2>&1
	log "[duel r$round] flood: $out; handled: opponent $((n1 - n0)), rstwatch $((r1 - r0))"
	echo "$out" | awk -v round="$round" -v n="$((n1 - n0))" -v r="$((r1 - r0))" \
		-v co="$((co1 - co0))" -v cr="$((cr1 - cr0))" -v hz="$HZ" '
		{ el = $4 }
		END {
			printf "duel\t%s\t%.0f\t%.0f\t%.0f\t%.0f\n", round, n / el, r / el,
				(n > 0) ? co / hz * 1e9 / n : 0, (r > 0) ? cr / hz * 1e9 / r : 0
		}' >>"$RAW"
}

# duel_median FIELD [DIVISOR]: "median (min-max)" of a column of the duel
# lines; FIELD 0: rstwatch over null_reader queue, in percent.
duel_median() {
	awk -F'\t' -v f="$1" -v div="${2:-1}" '
		$1 == "duel" { v[n++] = f ? $f : $4 / $3 * 100 }
		END {
			if (!n) { print "-"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { s = v[i]; v[i] = v[j]; v[j] = s }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%.0f (%.0f-%.0f)\n", m / div, v[0] / div, v[n - 1] / div
		}' "$RAW"
}

if [ -n "${PROFILE:-}" ]; then
	for cfg in $PROFILE; do profile "$cfg"; done
	exit 0
fi
if [ "${DUEL:-0}" = 1 ]; then
	for round in $(seq "$ROUNDS"); do
		echo "nfq.sh: duel round $round/$ROUNDS" >&2
		duel "$round"
	done
	{
		opp=${AGAINST:-null_reader queue}
		echo "## Duel: $opp and $RSTW sharing CPU 1, one queue each"
		echo
		echo "$(date -u +%F), $(sed -n 's/^commit /commit /p' "$LOG" | head -1), kernel $(uname -r); $ROUNDS rounds of ${SECS} s floods,"
		echo "$FLOWS flows spread over the two queues; median (min-max) over the rounds."
		echo
		echo "| rstwatch / $opp, packets handled, % | $opp kpps | rstwatch kpps | $opp CPU ns/pkt | rstwatch CPU ns/pkt |"
		echo "|---:|---:|---:|---:|---:|"
		echo "| $(duel_median 0)% | $(duel_median 3 1000) | $(duel_median 4 1000) | $(duel_median 5) | $(duel_median 6) |"
	} | tee "$OUT/nfq-duel.md"
	exit 0
fi

for round in $(seq "$ROUNDS"); do
	for cfg in $ONLY; do
		echo "nfq.sh: round $round/$ROUNDS: $cfg" >&2
		start_consumer "$cfg" 1
		saturation "$cfg" "$round" main
		if [ "$LATENCY" = 1 ]; then
			latency "$cfg" "$round" light
			latency "$cfg" "$round" loaded
		fi
		stop_consumer "$cfg"
	done
	if [ "$SCALING" = 1 ]; then
		for cfg in null8 null8q2 rstw rstwq2; do
			echo "nfq.sh: round $round/$ROUNDS: scaling $cfg" >&2
			start_consumer "$cfg" ""
			saturation "$cfg" "$round" scaling
			stop_consumer "$cfg"
		done
	fi
done

log "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ---------------------------------------------------------------
# median TYPE PART CFG COLUMN (1-based among the values after round)
median() {
	awk -F'\t' -v t="$1" -v p="$2" -v c="$3" -v k="$4" '
		$1 == t && $2 == p && $3 == c { v[n++] = $(4 + k) }
		END {
			if (!n) { print "-"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { s = v[i]; v[i] = v[j]; v[j] = s }
			print (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
		}' "$RAW"
}
# paired CFG: delivered rate over null_reader queue b8's in the same round, as
# "median (min-max)" over the rounds: each pair ran close together in time, so
# the host's slower drifts cancel out of it.
paired() {
	awk -F'\t' -v c="$1" '
		$1 == "sat" && $2 == "main" && $3 == "null8" { n8[$4] = $7 }
		$1 == "sat" && $2 == "main" && $3 == c { d[$4] = $7 }
		END {
			for (r in d) if (n8[r] > 0) v[n++] = d[r] / n8[r] * 100
			if (!n) { print "-"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { s = v[i]; v[i] = v[j]; v[j] = s }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%.0f%% (%.0f-%.0f%%)\n", m, v[0], v[n - 1]
		}' "$RAW"
}
k() { awk -v x="$1" 'BEGIN { if (x == "-") print "-"; else printf "%.0f", x / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.0f%%", a / b * 100 }'; }
diffus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%+.1f", a - b }'; }

report() {
	local cfg null8 base_l base_h n8l n8h
	echo "## NFQUEUE: rstwatch against a do-nothing consumer"
	echo
	echo "$(date -u +%F), $(sed -n 's/^commit /commit /p' "$LOG" | head -1), kernel $(uname -r), $(nproc) vCPUs."
	echo "Median of $ROUNDS alternating rounds; saturation: ${SECS} s of rst_flood from one sender core"
	echo "(pinned to CPU 0; the consumer pinned to CPU 1), $FLOWS flows, copy range 128,"
	echo "fail-open off so the consumer's limit shows as drops. Rates in thousands of packets/s;"
	echo "*same round*: the ratio within each round (the two ran seconds apart), median (min-max)."
	echo
	null8=$(median sat main null8 3)
	echo "| configuration | offered kpps | at gateway kpps | delivered kpps | vs null_reader queue b8 | same round vs null_reader queue b8 | queue_dropped /s | user_dropped /s | consumer CPU ns/pkt | consumer CPU % | machine idle % |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for cfg in $ONLY; do
		local d
		d=$(median sat main "$cfg" 3)
		echo "| $(name "$cfg") | $(k "$(median sat main "$cfg" 1)") | $(k "$(median sat main "$cfg" 2)") | $(k "$d") | $(ratio "$d" "$null8") | $(paired "$cfg") | $(median sat main "$cfg" 4) | $(median sat main "$cfg" 5) | $(median sat main "$cfg" 6) | $(median sat main "$cfg" 7) | $(median sat main "$cfg" 8) |"
	done
	echo
	echo "Consumer CPU is utime+stime of the consumer process (all threads) over the flood; it"
	echo "includes the kernel work done in its syscalls (verdicts reinject and forward the packet),"
	echo "not the softirq work on the sender's core. Both cores are shared by the flood and the"
	echo "consumer: compare rows, not absolute numbers."
	echo
	base_l=$(median lat light noqueue 1) base_h=$(median lat loaded noqueue 1)
	n8l=$(median lat light null8 1) n8h=$(median lat loaded null8 1)
	echo "### Latency one reset gains crossing the gateway (one-way, microseconds)"
	echo
	echo "$PROBES probes at $PROBE_RATE/s (first 50 skipped), sender stamp (CLOCK_REALTIME before send) to the"
	echo "receiver's kernel receive stamp. *light*: probes only, the consumer sleeps in poll between them;"
	echo "*loaded*: probes during a background flood of $BG_RATE resets/s keeps the consumer working (below every consumer's saturation)."
	echo "*added* = p50 minus the no-queue p50 of the same mode."
	echo
	echo "| configuration | light p50 | light p99 | light added p50 | light vs null_reader queue b8 | loaded p50 | loaded p99 | loaded added p50 | loaded vs null_reader queue b8 | lost |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for cfg in $ONLY; do
		local l h
		l=$(median lat light "$cfg" 1) h=$(median lat loaded "$cfg" 1)
		echo "| $(name "$cfg") | $l | $(median lat light "$cfg" 3) | $(diffus "$l" "$base_l") | $(diffus "$l" "$n8l") | $h | $(median lat loaded "$cfg" 3) | $(diffus "$h" "$base_h") | $(diffus "$h" "$n8h") | $(median lat light "$cfg" 5)/$(median lat loaded "$cfg" 5) |"
	done
	if [ "$SCALING" = 1 ]; then
		echo
		echo "### Two queues (--queue 7300-7301, one thread each) against one"
		echo
		echo "Same flood; consumers not pinned (the scheduler places the threads), sender on CPU 0."
		echo
		echo "| configuration | delivered kpps | vs 1 queue | queue_dropped /s | user_dropped /s | consumer CPU ns/pkt | consumer CPU % | machine idle % |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|"
		for cfg in null8 null8q2 rstw rstwq2; do
			local d one
			d=$(median sat scaling "$cfg" 3)
			case $cfg in *q2) one=$(median sat scaling "${cfg%q2}" 3) ;; *) one=$d ;; esac
			echo "| $(name "$cfg") | $(k "$d") | $(ratio "$d" "$one") | $(median sat scaling "$cfg" 4) | $(median sat scaling "$cfg" 5) | $(median sat scaling "$cfg" 6) | $(median sat scaling "$cfg" 7) | $(median sat scaling "$cfg" 8) |"
		done
	fi
	echo
	echo "Gateway conntrack entries after the floods (max over points): $(awk -F'\t' '$1 == "sat" && $13 > m { m = $13 } END { print m + 0 }' "$RAW")"
	echo "(a lone reset is INVALID to conntrack and creates no entry)."
	echo
	echo "### Flow table (bench/flowmem: 1 million IPv4 flows inserted, then looked up)"
	echo
	echo "| flows | sizeof(struct flow) | bytes per flow (entry + index) | RSS growth per flow | inserts/s | lookups/s |"
	echo "|---:|---:|---:|---:|---:|---:|"
	build/bench/flowmem 1000000 | awk '{ v[$1] = $2 } END { printf "| %s | %s | %s | %s | %.2fM | %.2fM |\n",
		v["flows"], v["sizeof_flow"], v["bytes_per_flow"], v["rss_bytes_per_flow"],
		v["insert_per_s"] / 1e6, v["lookup_per_s"] / 1e6 }'
	echo
	echo "Commands: \`bench/nfq.sh\` (ROUNDS=$ROUNDS SECS=$SECS PROBES=$PROBES PROBE_RATE=$PROBE_RATE BG_RATE=$BG_RATE FLOWS=$FLOWS);"
	echo "every consumer's command line is in bench/out/nfq.log."
}
report | tee "$MD"
