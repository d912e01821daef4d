#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every reset class of design §3 made to happen for real between namespaces
# (IPv4 and IPv6), with `rstwatch run` on the gateway, judged against ground
# truth rstwatch did not produce: the endpoint kernels' tcp_send_reset reasons,
# and the scenario's own knowledge for resets no endpoint sent. `rstwatch
# explain` on the gateway's capture must agree with the daemon. Prints one line
# per reset and the confusion table (truth x live class); fails on any mismatch.
# ONLY="a b" runs only those (SCENARIO_OUT: where their artifacts go). SCENARIO_DAEMON_OPTS="..." adds daemon options to
# every scenario (by hand: e.g. --no-conntrack, which judges every reset as a
# shed conntrack lookup does). Scenarios: tests/scenarios/scenarios.sh;
# what the kernel says in each, and why: tests/scenarios/README.md.
set -u
cd "$(dirname "$0")/../.."
source tests/scenarios/scenarios.sh
out=${SCENARIO_OUT:-build/test-logs/scenarios}
rm -rf "$out"
mkdir -p "$out"
read -r -a names <<<"${ONLY:-${SCENARIOS[*]}}"
failed=0
for name in "${names[@]}"; do
	start=$SECONDS
	timeout --kill-after=5 60 tests/scenarios/run-one.sh "$name" "$out" >"$out/$name.log" 2>&1
	rc=$?
	case $rc in
	0) printf '%-12s ran in %2ds\n' "$name" $((SECONDS - start)) ;;
	77) tail -n 1 "$out/$name.log"; exit 77 ;;
	*) failed=1
	   printf '%-12s FAILED (rc=%d), log %s:\n' "$name" "$rc" "$out/$name.log"
	   tail -n 15 "$out/$name.log" | sed 's/^/    | /' ;;
	esac
done
echo
/usr/bin/python3 tests/scenarios/judge.py table "$out"/*.tsv || failed=1
exit $failed
