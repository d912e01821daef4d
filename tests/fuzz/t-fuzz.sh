#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every libFuzzer target in build/fuzz/: first once over each saved input
# in tests/fuzz/regressions/<target>/ (all must pass), then fuzzes for a bounded
# time from tests/fuzz/seeds/<target>/ in a throwaway corpus. A crash is saved
# as a new regression input, printed, and fails the test.
#   FUZZ_SECONDS  total fuzzing time, split across targets (default 60)
# Exit: 0 pass, 1 fail, 77 skip (targets not built: they need clang).
set -u
cd "$(dirname "$0")/../.." || exit 1

if [ ! -x build/fuzz/fuzz_decode ]; then
	echo "skip: build/fuzz/fuzz_decode is not built (needs clang; run 'make fuzz')"
	exit 77
fi

targets=()
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] && targets+=("$bin")
done
total=${FUZZ_SECONDS:-60}
per_target=$((total / ${#targets[@]}))
[ "$per_target" -ge 1 ] || per_target=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints an input the way a regression file should be read: hex, 16 bytes a line.
show_input() {
	od -A d -t x1 -v "$1" | sed 's/^/    /'
}

fail=0
for bin in "${targets[@]}"; do
	name=$(basename "$bin")
	regressions=tests/fuzz/regressions/$name
	seeds=tests/fuzz/seeds/$name

	inputs=()
	for f in "$regressions"/*; do
		[ -f "$f" ] && inputs+=("$f")
	done
	if [ ${#inputs[@]} -gt 0 ]; then
		if ! "$bin" -artifact_prefix="$work/" "${inputs[@]}" >"$work/$name.replay.log" 2>&1; then
			echo "FAIL $name: a saved regression input crashes it"
			grep -E '^(Running:|==[0-9]+==ERROR|SUMMARY)' "$work/$name.replay.log" | tail -n 20
			fail=1
			continue
		fi
		echo "ok   $name: ${#inputs[@]} regression inputs"
	fi

	corpus=$work/$name.corpus
	artifacts=$work/$name.artifacts
	mkdir -p "$corpus" "$artifacts"
	[ -d "$seeds" ] && cp "$seeds"/* "$corpus"/ 2>/dev/null
	"$bin" -max_total_time="$per_target" -timeout=10 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$corpus" >"$work/$name.fuzz.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.fuzz.log")
	# slow-unit-* files are reports, not failures
	crashes=()
	for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
		[ -f "$f" ] && crashes+=("$f")
	done
	if [ ${#crashes[@]} -gt 0 ]; then
		mkdir -p "$regressions"
		for crash in "${crashes[@]}"; do
			saved=$regressions/$(basename "$crash")
			cp "$crash" "$saved"
			echo "FAIL $name: crash after ${runs:-?} runs, saved as $saved:"
			show_input "$saved"
		done
		grep -E '==[0-9]+==ERROR|runtime error|SUMMARY|^    #[0-9]' "$work/$name.fuzz.log" | head -n 30
		echo "reproduce: make $bin && $bin $regressions/<file>"
		fail=1
	elif [ "$rc" -ne 0 ]; then
		echo "FAIL $name: libFuzzer exited with $rc and left no input"
		tail -n 20 "$work/$name.fuzz.log"
		fail=1
	else
		echo "ok   $name: fuzzed ${per_target}s, ${runs:-?} runs, corpus $(ls "$corpus" | wc -l) inputs, no crash"
	fi
done
exit "$fail"
