#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every test of rstwatch and prints one closing line "N passed, N failed, N skipped".
# A test is an executable that exits 0 (pass), 77 (skipped: it says why) or anything else (fail):
#   build/asan/tests/test_*     unit tests (cmocka, ASan/UBSan)
#   tests/*/t-*.sh              capture, corpus, fuzz and live tests (each cleans up after itself)
# TESTS='pattern' runs only the tests whose path matches the shell pattern.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0 skip=0 failed=()
logdir=build/test-logs
mkdir -p "$logdir"

run_one() {
	local t=$1 name log rc start
	name=${t#./}
	case "$name" in ${TESTS:-*}) ;; *) return ;; esac
	log="$logdir/$(echo "$name" | tr '/' '_').log"
	start=$SECONDS
	timeout --kill-after=10 "${TEST_TIMEOUT:-300}" "$t" >"$log" 2>&1 </dev/null
	rc=$?
	case $rc in
	0)  pass=$((pass + 1)); printf 'PASS %-45s %3ds\n' "$name" $((SECONDS - start)) ;;
	77) skip=$((skip + 1)); printf 'SKIP %-45s %s\n' "$name" "$(tail -n 1 "$log")" ;;
	*)  fail=$((fail + 1)); failed+=("$name")
	    printf 'FAIL %-45s rc=%d (log: %s)\n' "$name" "$rc" "$log"
	    # The reason first (lib.sh's fail prints it above its dumps), then the end.
	    head -n -25 "$log" | grep -m 3 '^FAIL:' | sed 's/^/    | /'
	    tail -n 25 "$log" | sed 's/^/    | /' ;;
	esac
}

for t in build/asan/tests/test_*; do [ -x "$t" ] && run_one "$t"; done
for t in tests/cli/t-*.sh tests/captures/t-*.sh tests/corpus/t-*.sh tests/schema/t-*.sh tests/fuzz/t-*.sh \
	 tests/live/t-*.sh tests/scenarios/t-*.sh; do
	[ -x "$t" ] && run_one "$t"
done

[ ${#failed[@]} -eq 0 ] || printf 'failed: %s\n' "${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
