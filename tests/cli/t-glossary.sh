#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The evidence glossary (README.md, "Evidence glossary") names every evidence
# name the code can emit: the string literals the classifier, pipeline and
# worker add as evidence (the part before ':' or a printf conversion), and
# every name in the events `explain --json` gives for the test captures (what
# the code really emits). A name the glossary lacks fails the test; so does a
# glossary entry no code emits (a stale name).
set -u
cd "$(dirname "$0")/../.."
BIN=build/asan/rstwatch
[ -x "$BIN" ] || { echo "skip: $BIN not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

# From the source: literals in the calls that add evidence, and the constants
# such a call is given by name (static const char NAME[] = "...").
{
	grep -hE '(rst_evidence_add|add_evidence|[^_a-z]evidence)\(' src/*.c |
		grep -oE '"[^"]*"'
	grep -hE '(rst_evidence_add|add_evidence)\([^,]+, *[a-z_]+\)' src/*.c |
		sed -E 's/.*, *([a-z_]+)\).*/\1/' | sort -u | while read -r name; do
			grep -hE "char $name\[\] *= *\"" src/*.c | grep -oE '"[^"]*"'
		done
} | tr -d '"' | sed -E 's/[:%].*//' | grep -E '^[a-z]' | sort -u >"$tmp/source"
n=$(wc -l <"$tmp/source")
[ "$n" -ge 40 ] || bad "only $n evidence names found in src/: the extraction is broken"

# From real events.
for f in tests/captures/pcap/*; do
	"$BIN" explain --json -q "$f" 2>/dev/null
done | /usr/bin/python3 -c '
import json, sys
names = set()
for line in sys.stdin:
    e = json.loads(line)
    for ev in e.get("rst", {}).get("evidence", []):
        names.add(ev.split(":")[0])
print("\n".join(sorted(names)))' >"$tmp/events"
[ "$(wc -l <"$tmp/events")" -ge 20 ] || bad "the capture events hold only $(wc -l <"$tmp/events") names"

# The glossary: the first column of its table.
awk '/^## Evidence glossary/ { on = 1; next } /^## / { on = 0 } on' README.md |
	sed -nE 's/^\| `([a-z][a-z-]*)[^`]*` \|.*/\1/p' | sort -u >"$tmp/glossary"

missing=$(sort -u "$tmp/source" "$tmp/events" | comm -23 - "$tmp/glossary")
[ -z "$missing" ] || bad "evidence names the glossary lacks: $(echo $missing)"
stale=$(sort -u "$tmp/source" "$tmp/events" | comm -13 - "$tmp/glossary")
[ -z "$stale" ] || bad "glossary names no code emits: $(echo $stale)"
echo "$n names in the source, $(wc -l <"$tmp/events") in capture events, $(wc -l <"$tmp/glossary") in the glossary"

if [ "$failures" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$failures" -eq 0 ]
