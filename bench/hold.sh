#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What holding costs (issue 10 §1): the latency a held reset gains, the
# memory, and the cap under a flood of suspect resets. By hand, as root:
#
#   bench/hold.sh            (N=50 GAP_MS=20 FLOOD=500)
#   RSTWATCH=PATH bench/hold.sh
#
# In the live tests' three namespaces (tests/live/lib.sh: client - gateway -
# server, TEST-NET addresses, removed on exit), rstwatch run --mode enforce
# with the default hold bounds (25-200 ms, 64 at once). The client opens
# N + N + FLOOD connections to the server and keeps them; then resets "from
# the server" are forged on the server's link, each on a connection of its
# own, claiming the server's address:
#   plain   N resets with the server's own TTL (64): not suspect, judged at
#           once (the queue's own round trip, the baseline);
#   held    N resets with TTL 40, GAP_MS apart: suspect, held; the server
#           stays silent, so each goes on at its deadline;
#   flood   FLOOD resets with TTL 40 in one burst: 64 held, the rest judged
#           at once (holds_total{outcome="full"}).
# Latency: on the gateway's tcpdump -i any capture, each reset's way out
# minus its way in (the kernel's stamps of both copies). Memory: the
# daemon's VmRSS before and after, and the hold table's size.
source "$(dirname "$0")/../tests/live/lib.sh"
N=${N:-50} GAP_MS=${GAP_MS:-20} FLOOD=${FLOOD:-500}
RSTWATCH=${RSTWATCH:-build/rstwatch}
make -s build/rstwatch >/dev/null || fail "make"
need "$RSTWATCH" tcpdump tshark
topology_up
ulimit -n 4096

total=$((2 * N + FLOOD))
EV=$tmp/events.json
gw_capture_start
start_daemon d --mode enforce --rate-limit 0
bg server "$S" "$PY" tests/live/peer.py serve 8190
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"
# The client: total connections, one round each (the flow's history: the
# server's TTL), their local ports in order, then it holds them.
bg conns "$C" "$PY" -c '
import socket, sys, time
sys.path.insert(0, "tests/live")
from peer import one_round
socks = []
for i in range(int(sys.argv[2])):
    s = socket.create_connection((sys.argv[1], 8190))
    one_round(s)
    socks.append(s)
    print(s.getsockname()[1], flush=True)
print("holding", flush=True)
time.sleep(120)' "$S4" "$total"
wait_for 60 grep -q holding "$tmp/conns.out" || fail "the client did not open $total connections"
mapfile -t ports < <(grep -v holding "$tmp/conns.out")
rss0=$(rss_kb "$daemon")

# forge TTL GAP_MS PORT...: one R per client port, from the server's address
# and port, TTL as given, GAP_MS apart (0: a burst).
forge() {
	local ttl=$1 gap=$2 list
	shift 2
	list=$(IFS=,; echo "$*")
	in_ns "$S" "$PY" tests/live/flood.py --sport 8190 --ttl "$ttl" --gap-ms "$gap" \
		"$S4" "$C4" $# "$list"
}
settled() {
	local m
	m=$(metrics) || return 1
	[ "$(metric_sum 'rstwatch_holds_total{outcome="taken"}' "$m")" = \
	  $(($(metric_sum 'rstwatch_holds_total{outcome="alive"}' "$m") +
	     $(metric_sum 'rstwatch_holds_total{outcome="deadline"}' "$m"))) ] && none_waiting
}
forge 64 "$GAP_MS" "${ports[@]:0:N}"
forge 40 "$GAP_MS" "${ports[@]:N:N}"
wait_for 30 settled || fail "the held resets did not settle"
rss1=$(rss_kb "$daemon")
forge 40 0 "${ports[@]:2*N:FLOOD}"
wait_for 30 settled || fail "the flood did not settle"
rss2=$(rss_kb "$daemon")
m=$(metrics) || fail "GET /metrics"
queued=$(nfqueue_field 7300 8)
gw_capture_stop
stop_daemon d

# Latency per reset: out copy minus in copy, by destination port.
tshark -r "$tmp/gw.pcap" -Y "tcp.flags.reset == 1 && tcp.srcport == 8190" \
	-T fields -e sll.pkttype -e tcp.dstport -e frame.time_epoch 2>/dev/null >"$tmp/rst.tsv"
"$PY" - "$tmp/rst.tsv" "$N" "$FLOOD" "${ports[@]}" <<-'PY'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
n, flood = int(sys.argv[2]), int(sys.argv[3])
ports = [int(p) for p in sys.argv[4:]]
inn, out = {}, {}
for kind, port, t in rows:
    (out if kind == "4" else inn).setdefault(int(port), float(t))
def summary(name, ps):
    d = sorted((out[p] - inn[p]) * 1e3 for p in ps if p in inn and p in out)
    lost = sum(1 for p in ps if p in inn and p not in out)
    if not d:
        print("%-6s no reset went through" % name)
        return
    q = lambda f: d[min(len(d) - 1, int(f * len(d)))]
    print("%-6s %4d through, %3d dropped: added latency ms  min %.3f  median %.3f  "
          "p90 %.3f  max %.3f" % (name, len(d), lost, d[0], q(0.5), q(0.9), d[-1]))
summary("plain", ports[:n])
summary("held", ports[n:2 * n])
summary("flood", ports[2 * n:2 * n + flood])
fl = sorted((out[p] - inn[p]) * 1e3 for p in ports[2 * n:] if p in inn and p in out)
print("flood: %d resets waited >= 20 ms (held, or behind the queue's backlog), %d under 5 ms"
      % (sum(1 for x in fl if x >= 20), sum(1 for x in fl if x < 5)))
PY
"$PY" - "$EV" "${ports[@]:2*N:FLOOD}" <<-'PY'
import json, sys
flood = {int(p) for p in sys.argv[2:]}
ev = [e for e in map(json.loads, open(sys.argv[1]))
      if e.get("event_type") == "rst" and e["src_port"] == 8190 and e["dest_port"] in flood]
shed = sum(1 for e in ev if "ct-shed:backlog" in e["rst"]["evidence"])
print("flood events: %d, %d of them judged with conntrack shed (queue backed up: no hold)"
      % (len(ev), shed))
PY
echo "holds_total: $(grep '^rstwatch_holds_total' <<<"$m" | tr '\n' ' ')"
echo "passed unjudged (fail-open): $(metric_sum rstwatch_queue_unseen_total "$m"); resets_total $(metric_sum rstwatch_resets_total "$m") of $total forged; the kernel queued $queued, rstwatch got $(metric_sum rstwatch_queue_packets_total "$m")"
cat >"$tmp/sz.c" <<-'C'
#include <stdio.h>
#include "hold.h"
int main(void) { printf("%zu %zu\n", sizeof(struct hold_table), sizeof(struct held_reset)); return 0; }
C
read -r table entry < <(cc -Isrc -o "$tmp/sz" "$tmp/sz.c" && "$tmp/sz") || fail "sizeof"
echo "memory: hold table $table bytes per queue thread ($entry per held reset, HOLD_MAX of them,"
echo "        allocated at start); VmRSS $rss0 KiB before, $rss1 after the held, $rss2 after the flood"
