#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# /metrics as Prometheus users expect it (issue 13), against a running daemon:
#  A. before any reset: every rstwatch_resets_total class x origin x action
#     series is there at 0 (rate() needs a sample before the first reset), and
#     so is every class of rstwatch_events_suppressed_total;
#  B. process_* metrics as the client libraries export them, with sane values
#     (start time within this test's run, open fds, resident memory);
#  C. after real refused connections: resets_total counts them, the verdict
#     time histogram counted each queued reset once, buckets cumulative;
#  D. `promtool check metrics` accepts the page;
#  E. the example rules pass `promtool check rules` and `promtool test rules`,
#     and every expression of the Grafana dashboard is valid PromQL naming only
#     metrics the page has.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft
command -v promtool >/dev/null || skip "promtool not installed (apt-get install prometheus)"
topology_up
EV=$tmp/events.log
conn() { in_ns "$C" "$PY" tests/live/peer.py connect "$@"; }
t_start=$(date +%s)

start_daemon d --rate-limit 0
metrics >"$tmp/page0.txt" || fail "GET /metrics"

# --- A ----------------------------------------------------------------------
classes=11 origins=4
n=$(grep -c '^rstwatch_resets_total{' "$tmp/page0.txt")
[ "$n" = $((classes * origins * 2)) ] || fail "A: $n resets_total series at start, want $((classes * origins * 2))"
grep '^rstwatch_resets_total{' "$tmp/page0.txt" | grep -qv ' 0$' && fail "A: a reset counted before any"
[ "$(grep -c '^rstwatch_events_suppressed_total{class=' "$tmp/page0.txt")" = $classes ] ||
	fail "A: suppressed not by class"
ok "A: $n resets_total series and $classes suppressed series present at 0 before the first reset"

# --- B ----------------------------------------------------------------------
val() { awk -v m="$1" '$1 == m { print $2 }' "$tmp/page0.txt"; }
for m in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
	process_open_fds process_max_fds process_start_time_seconds; do
	[ -n "$(val $m)" ] || fail "B: no $m"
done
"$PY" - "$(val process_start_time_seconds)" "$t_start" "$(date +%s)" "$(val process_open_fds)" \
	"$(val process_resident_memory_bytes)" "$(ls /proc/"$daemon"/fd | wc -l)" <<'PY' || fail "B: process metrics not sane"
import sys
start, t0, now, fds, rss, fds_proc = map(float, sys.argv[1:])
assert t0 - 2 <= start <= now + 1, (start, t0, now)
assert abs(fds - fds_proc) <= 3, (fds, fds_proc)     # the scrape's own socket comes and goes
assert rss > 1 << 20, rss
PY
ok "B: process_* present: started $(val process_start_time_seconds), $(val process_open_fds) fds, RSS $(val process_resident_memory_bytes) B"

# --- C ----------------------------------------------------------------------
for i in 1 2 3; do
	r=$(conn $S4 7001); [ "$r" = refused ] || fail "C: connect: $r"
	r=$(conn $S6 7001); [ "$r" = refused ] || fail "C: connect: $r"
done
reported() { [ "$(grep -c '"event_type":"rst"' "$EV")" -ge 6 ]; }
wait_for 10 reported || fail "C: 6 refused connections, $(grep -c '"event_type":"rst"' "$EV") events"
metrics >"$tmp/page1.txt" || fail "GET /metrics"
resets=$(metric_sum 'rstwatch_resets_total{class="refused",origin="endpoint",action="accept"}' "$(cat "$tmp/page1.txt")")
[ "$resets" = 6 ] || fail "C: resets_total refused = $resets, want 6"
"$PY" - "$tmp/page1.txt" <<'PY' || fail "C: verdict time histogram wrong"
import re, sys
b, count = [], None
for line in open(sys.argv[1]):
    m = re.match(r'rstwatch_reset_verdict_seconds_bucket\{held="false",le="([^"]+)"\} (\d+)', line)
    if m:
        b.append((float(m.group(1)), int(m.group(2))))
    m = re.match(r'rstwatch_reset_verdict_seconds_count\{held="false"\} (\d+)', line)
    if m:
        count = int(m.group(1))
assert count == 6, count                           # each queued reset once
assert b[-1] == (float("inf"), 6), b
assert all(x[1] <= y[1] for x, y in zip(b, b[1:])), b   # cumulative
assert [x[0] for x in b] == sorted(x[0] for x in b), b
PY
ok "C: 6 refused resets counted; the verdict histogram counted 6, cumulative buckets"

# --- D ----------------------------------------------------------------------
promtool check metrics <"$tmp/page1.txt" >"$tmp/lint.out" 2>&1 || fail "D: promtool check metrics: $(cat "$tmp/lint.out")"
ok "D: promtool check metrics accepts the page"

# --- E ----------------------------------------------------------------------
promtool check rules rules/prometheus/rstwatch.rules.yml >"$tmp/rules.out" 2>&1 ||
	fail "E: promtool check rules: $(cat "$tmp/rules.out")"
(cd rules/prometheus && promtool test rules rstwatch.rules.test.yml) >"$tmp/rtest.out" 2>&1 ||
	fail "E: promtool test rules: $(cat "$tmp/rtest.out")"
# The dashboard's queries, Grafana's variables filled in, as recording rules:
# promtool parses each; every metric they name must be on the page.
"$PY" - rules/prometheus/rstwatch-dashboard.json "$tmp/page1.txt" "$tmp/dash.rules.yml" <<'PY' || fail "E: dashboard"
import json, re, sys
dash = json.load(open(sys.argv[1]))
names = {l.split("{")[0].split(" ")[0] for l in open(sys.argv[2]) if l[0] != "#"}
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
with open(sys.argv[3], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m").replace("$job", "rstwatch").replace("$instance", ".*")
        out.write(f"      - record: dashboard:q{i}\n        expr: {json.dumps(e)}\n")
        for m in re.findall(r"\b((?:rstwatch|process)_[a-z_]+)", e):
            assert m in names, f"dashboard names {m}, not on the page"
print(len(exprs))
PY
promtool check rules "$tmp/dash.rules.yml" >"$tmp/dash.out" 2>&1 || fail "E: dashboard PromQL: $(cat "$tmp/dash.out")"
ok "E: rules checked and unit-tested ($(grep -c SUCCESS "$tmp/rtest.out") suite); dashboard queries valid, every metric on the page"
stop_daemon d
