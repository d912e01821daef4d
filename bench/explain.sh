#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Throughput and memory of `rstwatch explain` next to tshark and tcpdump.
#
#   bench/explain.sh            (ROUNDS=3 PACKETS=1000000 FLOWS=50000 by default)
#
# Builds rstwatch and the bench programs, generates the captures into bench/out/
# (kept and reused while newer than bench/gen_capture.c), then:
#   1. throughput: alternating rounds of
#        rstwatch explain --json F, rstwatch explain -q F,
#        tshark -n -r F -Y 'tcp.flags.reset==1', tcpdump -n -r F 'tcp[tcpflags] & tcp-rst != 0'
#      (all output to /dev/null); median wall time, packets/s, max RSS (GNU time);
#   2. memory against packets and flows: rstwatch (and tshark, tcpdump) on captures
#      of 250k/500k/1M packets with the same flows, and of 1M packets with more flows;
#   3. bench/flowmem: bytes per tracked flow and lookups/s of the flow table.
# Prints a markdown report to stdout and to bench/out/explain.md. Not a test.
set -u
cd "$(dirname "$0")/.." || exit 1

ROUNDS=${ROUNDS:-3}
PACKETS=${PACKETS:-1000000}
FLOWS=${FLOWS:-50000}
MEM_FLOWS=${MEM_FLOWS:-25000}
OUT=bench/out
LOG=$OUT/explain.log
TIME=/usr/bin/time

die() { echo "explain.sh: $*" >&2; exit 1; }

mkdir -p "$OUT"
: >"$LOG"
"$TIME" -f '%e %M' true 2>/dev/null || die "needs GNU time at $TIME (Debian package 'time')"
for t in tshark tcpdump; do command -v "$t" >/dev/null || die "needs $t"; done
make -s build/rstwatch build/bench/gen_capture build/bench/flowmem >>"$LOG" 2>&1 ||
	die "build failed (see $LOG)"

# capture PACKETS FLOWS: path of a generated capture, made if missing or older than
# bench/gen_capture.c (not the binary: it is relinked whenever the library changes).
capture() {
	local f=$OUT/capture-$1p-$2f.pcap
	if [ ! -s "$f" ] || [ ! -s "$f.txt" ] || [ bench/gen_capture.c -nt "$f" ]; then
		echo "explain.sh: generating $f" >&2
		build/bench/gen_capture "$f.tmp" "$1" "$2" >"$f.txt" 2>&1 ||
			die "gen_capture $1 $2 failed (see $f.txt)"
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

# measure NAME CMD...: one run, stdout to /dev/null; appends "wall_s rss_kb cpu_s" to
# $OUT/NAME.runs. Wall time from bash's microsecond clock (GNU time's %e has 10 ms
# steps); peak RSS and user+system CPU of the command from GNU time.
measure() {
	local name=$1 rc t0 t1
	shift
	t0=$EPOCHREALTIME
	"$TIME" -f '%M %U %S' -o "$OUT/.time" "$@" >/dev/null 2>>"$LOG"
	rc=$?
	t1=$EPOCHREALTIME
	# rstwatch exits 1 for a damaged capture; none of these should be.
	[ "$rc" = 0 ] || die "$name exited $rc: $*"
	tail -n 1 "$OUT/.time" | awk -v a="${t0/,/.}" -v b="${t1/,/.}" \
		'{ printf "%.3f %d %.2f\n", b - a, $1, $2 + $3 }' >>"$OUT/$name.runs"
}

# median COLUMN FILE
median() {
	awk -v c="$1" '{ print $c }' "$2" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

RST=build/rstwatch
TSHARK_FILTER='tcp.flags.reset==1'
TCPDUMP_FILTER='tcp[tcpflags] & tcp-rst != 0'
tools=(rstwatch-json rstwatch-q tshark tcpdump)
declare -A cmd_of=(
	[rstwatch-json]="rstwatch explain --json F"
	[rstwatch-q]="rstwatch explain -q F"  # -q drops the summary; the reset lines stay
	[tshark]="tshark -n -r F -Y '$TSHARK_FILTER'"
	[tcpdump]="tcpdump -n -r F '$TCPDUMP_FILTER'"
)

run_tool() { # TOOL FILE [EXTRA rstwatch args...]: the command, stdout to where the caller says
	local tool=$1 f=$2
	shift 2
	case $tool in
	rstwatch-json) "$RST" explain --json "$@" "$f" ;;
	rstwatch-q) "$RST" explain -q "$@" "$f" ;;
	tshark) tshark -n -r "$f" -Y "$TSHARK_FILTER" ;;
	tcpdump) tcpdump -n -r "$f" "$TCPDUMP_FILTER" ;;
	esac
}

timed() { # NAME TOOL FILE [EXTRA...]
	local name=$1 tool=$2 f=$3
	shift 3
	case $tool in
	rstwatch-json) measure "$name" "$RST" explain --json "$@" "$f" ;;
	rstwatch-q) measure "$name" "$RST" explain -q "$@" "$f" ;;
	tshark) measure "$name" tshark -n -r "$f" -Y "$TSHARK_FILTER" ;;
	tcpdump) measure "$name" tcpdump -n -r "$f" "$TCPDUMP_FILTER" ;;
	esac
}

main=$(capture "$PACKETS" "$FLOWS")

# Untimed pass: warms the page cache and counts what each tool reports.
declare -A found
for tool in "${tools[@]}"; do
	case $tool in
	rstwatch-q) found[$tool]=$("$RST" explain "$main" 2>>"$LOG" | sed -n 's/^summary: \([0-9]*\) reset.*/\1/p') ;;
	*) found[$tool]=$(run_tool "$tool" "$main" 2>>"$LOG" | wc -l) ;;
	esac
done

echo "explain.sh: $ROUNDS rounds on $main" >&2
for tool in "${tools[@]}"; do rm -f "$OUT/main-$tool.runs"; done
for ((r = 1; r <= ROUNDS; r++)); do
	for tool in "${tools[@]}"; do
		timed "main-$tool" "$tool" "$main"
	done
done

# Memory: packets grow at equal flows, then flows grow at equal packets.
mem_rows=()
for spec in "$((PACKETS / 4)) $MEM_FLOWS" "$((PACKETS / 2)) $MEM_FLOWS" "$PACKETS $MEM_FLOWS" \
	"$PACKETS $((MEM_FLOWS * 2))" "$PACKETS $((MEM_FLOWS * 4))" \
	"$PACKETS $((MEM_FLOWS * 4)) $MEM_FLOWS"; do
	read -r np nf mf <<<"$spec"
	f=$(capture "$np" "$nf")
	cat "$f" >/dev/null
	key="mem-$np-$nf-${mf:-def}"
	rm -f "$OUT/$key-"*.runs
	if [ -n "$mf" ]; then
		timed "$key-rstwatch" rstwatch-q "$f" --max-flows "$mf"
	else
		timed "$key-rstwatch" rstwatch-q "$f"
		timed "$key-tshark" tshark "$f"
		timed "$key-tcpdump" tcpdump "$f"
	fi
	mem_rows+=("$np $nf ${mf:-262144} $key")
done

build/bench/flowmem >"$OUT/flowmem.txt" 2>>"$LOG" || die "flowmem failed (see $OUT/flowmem.txt, $LOG)"
fm() { awk -v k="$1" '$1 == k { print $2 }' "$OUT/flowmem.txt"; }

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
pps() { awk -v p="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", p / s; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1f×", b / a; else print "-" }'; }

{
	fsize=$(stat -c %s "$main")
	gen=$(sed -n '1s/^gen_capture: [^:]*: //p' "$main.txt" 2>/dev/null)
	echo "## rstwatch explain: throughput and memory"
	echo
	echo "$(date -u '+%Y-%m-%d'), rstwatch $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(tshark --version 2>/dev/null | head -n 1 | cut -d' ' -f1-3), tcpdump $(tcpdump --version 2>/dev/null | awk 'NR == 1 { print $3 }') / $(tcpdump --version 2>/dev/null | awk 'NR == 2 { print $1, $3 }')."
	echo
	echo "Capture: \`build/bench/gen_capture F $PACKETS $FLOWS\`: ${gen:-$PACKETS packets, $FLOWS flows, $fsize bytes}; read from the page cache. Median of $ROUNDS alternating rounds, output to /dev/null; CPU and max RSS from GNU time. \`-q\` drops the summary only: the text line of every reset is still written."
	echo
	echo "| command | wall s | packets/s | CPU s (user+sys) | max RSS MB | resets reported | rstwatch -q packets/s ÷ its |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	tq=$(median 1 "$OUT/main-rstwatch-q.runs")
	for tool in "${tools[@]}"; do
		s=$(median 1 "$OUT/main-$tool.runs")
		m=$(median 2 "$OUT/main-$tool.runs")
		case $tool in rstwatch-*) rel="—" ;; *) rel=$(ratio "$tq" "$s") ;; esac
		c=$(median 3 "$OUT/main-$tool.runs")
		echo "| \`${cmd_of[$tool]}\` | $s | $(pps "$PACKETS" "$s") | $c | $(mb "$m") | ${found[$tool]} | $rel |"
	done
	tj=$(median 1 "$OUT/main-rstwatch-json.runs")
	ts=$(median 1 "$OUT/main-tshark.runs")
	td=$(median 1 "$OUT/main-tcpdump.runs")
	echo
	echo "rstwatch/tshark packets/s: $(ratio "$tj" "$ts") with --json, $(ratio "$tq" "$ts") with -q (aim: ≥ 5×). rstwatch/tcpdump: $(ratio "$tj" "$td") with --json, $(ratio "$tq" "$td") with -q."
	if [ "${found[tcpdump]}" != "${found[rstwatch-json]}" ]; then
		echo "tcpdump reports fewer resets: libpcap's \`tcp[tcpflags]\` reads the IPv4 TCP header only, so IPv6 resets do not match."
	fi
	echo
	echo "### Memory: grows with the flows tracked, not with the packets"
	echo
	echo "| packets | flows | --max-flows | rstwatch -q RSS MB | rstwatch packets/s | tshark RSS MB | tcpdump RSS MB |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for row in "${mem_rows[@]}"; do
		read -r np nf mf key <<<"$row"
		rs=$(median 1 "$OUT/$key-rstwatch.runs")
		rm_=$(median 2 "$OUT/$key-rstwatch.runs")
		if [ -f "$OUT/$key-tshark.runs" ]; then
			tsm=$(mb "$(median 2 "$OUT/$key-tshark.runs")")
			tdm=$(mb "$(median 2 "$OUT/$key-tcpdump.runs")")
		else
			tsm="—" tdm="—"
		fi
		echo "| $np | $nf | $mf | $(mb "$rm_") | $(pps "$np" "$rs") | $tsm | $tdm |"
	done
	echo
	echo "### Flow table (\`build/bench/flowmem\`: $(fm flows) IPv4 flows, capacity $(fm capacity))"
	echo
	echo "| measure | value |"
	echo "|---|---:|"
	echo "| sizeof(struct flow) | $(fm sizeof_flow) B |"
	echo "| flow_bytes_per_flow() (entry + index share) | $(fm bytes_per_flow) B |"
	echo "| RSS growth / flows (table created, flows inserted) | $(fm rss_bytes_per_flow) B (aim ≤ 256) |"
	echo "| RSS of the empty table (lazily mapped) | $(fm rss_table_kb) kB |"
	echo "| inserts (lookup creating + flow_update) | $(fm insert_per_s)/s |"
	echo "| lookups of existing flows, scattered order, half reversed | $(fm lookup_per_s)/s |"
} | tee "$OUT/explain.md"
rm -f "$OUT/.time"
