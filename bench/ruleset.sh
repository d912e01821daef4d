#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/ruleset.sh [RULES] [ELEMENTS]: the ruleset model on a large gateway
# ruleset (default 20,000 rules in 200 chains reached by jump, a set of
# 100,000 addresses, a catch-all last), loaded by the real nft in a namespace
# of its own: the time nft takes to load and list it, what the model costs to
# build from the file and from the kernel (libnftables, as the daemon does),
# its memory, and one reset's lookup at several depths. By hand, as root.
set -eu
cd "$(dirname "$0")/.."
rules=${1:-20000} elements=${2:-100000}
ns=rstw-rsbench-$$
tmp=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
make -s build/bench/ruleset_bench
/usr/bin/python3 - "$rules" "$elements" >"$tmp/big.nft" <<'PY'
import sys
rules, elements = int(sys.argv[1]), int(sys.argv[2])
per = 100
print("table inet big {")
print("  set blocked { type ipv4_addr; elements = {")
print(",\n".join("    10.%d.%d.%d" % (1 + j // 65536, (j >> 8) & 255, j & 255)
                 for j in range(elements)))
print("  }; }")
for c in range(rules // per):
    print("  chain c%d {" % c)
    for k in range(per):
        i = c * per + k
        print("    ip saddr 10.0.%d.%d tcp dport %d reject with tcp reset comment \"r%d\""
              % (i >> 8, i & 255, 20000 + i, i))
    print("  }")
print("  chain forward {")
print("    type filter hook forward priority 0; policy accept;")
print("    ip saddr @blocked reject with tcp reset comment \"blocked\"")
for c in range(rules // per):
    print("    jump c%d" % c)
print("    tcp dport 9999 reject with tcp reset comment \"catch-all\"")
print("  }")
print("}")
PY
ip netns add "$ns"
t0=$(date +%s.%N)
ip netns exec "$ns" nft -f "$tmp/big.nft"
t1=$(date +%s.%N)
ip netns exec "$ns" nft -j list ruleset >"$tmp/big.json"
t2=$(date +%s.%N)
echo "nft -f: $(echo "$t1 - $t0" | bc) s; nft -j list ruleset: $(echo "$t2 - $t1" | bc) s," \
	"$(($(stat -c %s "$tmp/big.json") / 1024)) KiB of JSON"
echo "== from the file (explain --ruleset)"
build/bench/ruleset_bench "$tmp/big.json" 2000
echo "== from the kernel (the daemon: libnftables in the namespace)"
ip netns exec "$ns" build/bench/ruleset_bench kernel 2000
