#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/flush.sh [BINARY...]: how long `nft flush ruleset` leaves a gateway
# without rstwatch's table, for each daemon binary given (default: this
# tree's build/rstwatch): 20 flushes each in a namespace of its own, timed
# from the moment the flush command returns until `nft monitor tables` shows
# the table added again. By hand, as root.
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- build/rstwatch
for bin in "$@"; do
	ns=rstw-flush-$$
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" "$bin" run --log /dev/null --control none 2>/dev/null &
	pid=$!
	until ip netns exec "$ns" nft list table inet rstwatch >/dev/null 2>&1; do sleep 0.05; done
	printf '%s: ' "$bin"
	ip netns exec "$ns" /usr/bin/python3 - <<'PY'
import random, subprocess, time
mon = subprocess.Popen(["nft", "monitor", "tables"], stdout=subprocess.PIPE, text=True)
time.sleep(0.5)
gaps = []
for i in range(20):
    subprocess.run(["nft", "flush", "ruleset"], check=True)
    t = time.monotonic()
    while not mon.stdout.readline().startswith("add table inet rstwatch"):
        pass
    gaps.append((time.monotonic() - t) * 1e3)
    time.sleep(random.uniform(0.1, 0.5))
mon.kill()
gaps.sort()
print("table back %.1f ms (min) / %.1f ms (median) / %.1f ms (max) after the flush command "
      "returned, %d flushes" % (gaps[0], gaps[len(gaps) // 2], gaps[-1], len(gaps)))
PY
	kill "$pid"; wait "$pid" || true
	ip netns del "$ns"
done
