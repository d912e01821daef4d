#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Corpus test: rstwatch on the public captures of ../shared/corpus/external (Zeek's and
# Suricata's test suites, labelled in LABELS.tsv / labels_per_conn.tsv).
#   - every reset packet (tshark) yields exactly one event, on the same 4-tuple;
#   - no sanitizer report or crash from build/asan/rstwatch;
#   - sender and stage agree with Zeek's conn_state/history, every disagreement explained
#     in tests/corpus/EXPLAINED.tsv (no stale explanation; 'BUG:' rows still fail);
#   - the table build/corpus/AGREEMENT.md equals the committed tests/corpus/AGREEMENT.md.
# UPDATE=1 tests/corpus/t-corpus.sh rewrites the committed table (review the diff, commit).
# Exit 0 pass, 77 skip (last line says why), anything else fail.
set -u
cd "$(dirname "$0")/../.." || exit 1

corpus=../shared/corpus/external
bin=${RSTWATCH:-build/asan/rstwatch}   # RSTWATCH=... to try the test itself on a doctored binary
py=/usr/bin/python3
out=build/corpus/AGREEMENT.md
committed=tests/corpus/AGREEMENT.md

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }

[ -d "$corpus" ] || skip "corpus not found at $corpus (clone shared/ beside the repo)"
[ -f "$corpus/LABELS.tsv" ] && [ -f "$corpus/labels_per_conn.tsv" ] \
	|| skip "corpus at $corpus has no LABELS.tsv / labels_per_conn.tsv"
command -v tshark >/dev/null 2>&1 || skip "tshark not installed (apt-get install tshark)"
[ -x "$py" ] || skip "$py not found (Debian's python3)"
[ -x "$bin" ] || die "$bin not built: make build/asan/rstwatch"

# Sanitizer reports must not look like rstwatch's own exit codes (1 = truncated capture).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86:abort_on_error=0"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1:exitcode=87"

mkdir -p build/corpus
"$py" tests/corpus/agree.py --corpus "$corpus" --rstwatch "$bin" \
	--explained tests/corpus/EXPLAINED.tsv --out "$out"
rc=$?
[ -s "$out" ] || die "agree.py wrote no table (exit $rc)"

echo
if [ "${UPDATE:-0}" = 1 ]; then
	if cmp -s "$out" "$committed"; then
		echo "UPDATE=1: $committed unchanged"
	else
		cp "$out" "$committed" && echo "UPDATE=1: rewrote $committed (review with git diff, then commit)"
	fi
elif [ ! -f "$committed" ]; then
	echo "FAIL: $committed missing: run UPDATE=1 $0 and commit it"
	rc=1
elif ! diff -u "$committed" "$out"; then
	echo "FAIL: rstwatch's corpus results changed: $out differs from $committed (diff above)."
	echo "      If the change is intended, run UPDATE=1 $0 and commit $committed."
	rc=1
else
	echo "table matches $committed"
fi
[ "$rc" -eq 0 ] && echo "PASS: corpus" || echo "FAIL: corpus (see above)"
exit "$rc"
