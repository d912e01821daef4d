#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-one.sh NAME OUTDIR: one scenario of scenarios.sh, IPv4 then IPv6, in fresh
# namespaces, with `rstwatch run` in the gateway, the gateway's traffic captured
# and the endpoints' tcp:tcp_send_reset records traced. Writes OUTDIR/NAME.tsv,
# one row per reset (judge.py), and keeps what it was judged from: NAME.any.pcap
# (the capture), NAME.pcap (its ingress view), NAME.trace, NAME.live.json and
# NAME.offline.json.
# Exit 0 when it ran (the rows say whether rstwatch was right), 77 when the
# kernel lacks something (the last line says what), 1 when the scenario failed.
source "$(dirname "$0")/../live/lib.sh"
source tests/scenarios/scenarios.sh
name=$1 out=$2
[ -n "${CAPTION[$name]+x}" ] || fail "no scenario $name"
need "$RSTWATCH" nft tcpdump ss
# Ports of their own per run, so tcp_send_reset records (global, not per
# namespace) of a concurrent run never mix with ours.
PORTBASE=$((20000 + ($$ % 400) * 50))

# --- ground truth: the endpoints' kernels say why they reset ----------------
T=/sys/kernel/tracing
mountpoint -q $T || mount -t tracefs nodev $T 2>/dev/null || skip "cannot mount tracefs on $T"
[ -d $T/events/tcp/tcp_send_reset ] || skip "kernel has no tcp:tcp_send_reset tracepoint"
grep -q 'reason' $T/events/tcp/tcp_send_reset/format ||
	skip "tcp:tcp_send_reset carries no reason (kernel older than 6.10)"
SC_TRACE=$T/instances/rstw-$$
mkdir "$SC_TRACE" || skip "cannot create a trace instance"
cleanup_hooks+=("rmdir $SC_TRACE")
echo 1 >"$SC_TRACE/events/tcp/tcp_send_reset/enable" || fail "enabling tcp_send_reset"

topology_up

# --- the gateway: capture, then the daemon -----------------------------------
gw_capture_start
SC_LOG=$tmp/events.json EV=$tmp/events.json
read -r -a extra <<<"${DAEMON[$name]:-} ${SCENARIO_DAEMON_OPTS:-}"
start_daemon daemon --format json --rate-limit 0 "${extra[@]}"

for fam in 4 6; do
	trace_mark scenario "$name" "$fam"
	sc_play "$name" $fam
done

# --- collect ------------------------------------------------------------------
gw_capture_stop
cp "$tmp/gw.pcap" "$out/$name.any.pcap"
wire=$("$PY" tests/scenarios/ingress.py "$out/$name.any.pcap" "$out/$name.pcap") || fail "ingress.py"
reported() { grep -c '"event_type":"rst"' "$SC_LOG"; }
all_reported() { [ "$(reported)" -ge "$wire" ]; }
# Short of that, the judge names each reset the daemon missed.
wait_for 10 all_reported || echo "rstwatch reported $(reported) of $wire resets"
stop_daemon daemon
# Offline judges the gateway's own `tcpdump -i any` capture: each forwarded
# packet in it twice, the gateway's own only outgoing (ingress.py's one-copy
# file gives the count to expect).
"$RSTWATCH" explain --json "$out/$name.any.pcap" >"$out/$name.offline.json" \
	2>"$tmp/explain.err" || fail "rstwatch explain failed"
echo 0 >"$SC_TRACE/events/tcp/tcp_send_reset/enable"
cp "$SC_TRACE/trace" "$out/$name.trace"
cp "$SC_LOG" "$out/$name.live.json"
"$PY" tests/scenarios/judge.py rows --scenario "$name" \
	--ports "$(sc_port "$name" 4),$(sc_port "$name" 6)" \
	--reasons "${REASONS[$name]}" --nokernel "${NOKERNEL[$name]:-}" --wire "$wire" \
	"$out/$name.trace" "$out/$name.live.json" "$out/$name.offline.json" >"$out/$name.tsv" ||
	fail "judge.py"
cat "$out/$name.tsv"
