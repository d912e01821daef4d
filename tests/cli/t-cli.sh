#!/usr/bin/env bash
# The command line: every misuse is a clear message and exit 2, help texts are
# complete, config files are parsed with line numbers. No root needed.
set -u
cd "$(dirname "$0")/../.."
BIN=build/asan/rstwatch
[ -x "$BIN" ] || { echo "skip: $BIN not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect WANT_RC PATTERN CMD...: exit status and a pattern in stdout+stderr
expect() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ] || ! grep -qE -- "$pat" <<<"$out"; then
		echo "FAIL: $* -> rc=$rc (want $want), output lacks /$pat/:"
		sed 's/^/    | /' <<<"$out" | head -n 8
		failures=$((failures + 1))
	fi
}

expect 2 'usage: rstwatch COMMAND' "$BIN"
expect 0 'explain \[--json\] FILE' "$BIN" --help
expect 0 '^rstwatch [0-9]' "$BIN" version
expect 2 "unknown command 'frobnicate'" "$BIN" frobnicate
expect 0 'Exit status' "$BIN" explain --help
expect 0 'mark-mask MASK' "$BIN" run --help
expect 0 'mark-mask MASK' "$BIN" help rules
expect 0 'conntrack glue' "$BIN" check --help
expect 2 'no capture file given' "$BIN" explain
expect 2 'cannot read capture' "$BIN" explain /nonexistent.pcap
expect 2 "max-flows wants" "$BIN" explain --max-flows 0 x.pcap
expect 2 "idle-threshold wants" "$BIN" explain --idle-threshold -5 x.pcap
expect 2 "unrecognized option|invalid option" "$BIN" explain --bogus x.pcap
expect 2 "queue: invalid value '70000'" "$BIN" run --queue 70000
expect 2 "queue: invalid value '9-3'" "$BIN" run --queue 9-3
expect 2 "mode: invalid value 'paranoid'" "$BIN" run --mode paranoid
expect 2 "context: invalid value 'everything'" "$BIN" run --context everything
expect 2 "mark-mask: invalid value 'zz'" "$BIN" run --mark-mask zz
expect 2 "unexpected argument 'extra'" "$BIN" run extra
expect 2 "cannot read config" "$BIN" run --config "$tmp/none.conf"
printf 'queue = 7300\n\n# comment\nmode = enforce   # trailing comment\nno-rules = maybe\n' >"$tmp/a.conf"
expect 2 "a.conf:5: no-rules takes yes or no" "$BIN" run --config "$tmp/a.conf"
printf 'queue 7300\n' >"$tmp/b.conf"
expect 2 "b.conf:1: expected 'name = value'" "$BIN" run -F "$tmp/b.conf"
printf 'frobs = 3\n' >"$tmp/c.conf"
expect 2 "c.conf:1: unknown option 'frobs'" "$BIN" rules print --config "$tmp/c.conf"
# A valid file, overridden on the command line: rules print shows the result.
printf 'queue = 10-11\nnflog-group = 42\ncontext = rst\n' >"$tmp/d.conf"
expect 0 'level rst, queue 10-11, nflog group 42-43' "$BIN" rules print --config "$tmp/d.conf"
expect 0 'level rst, queue 12, nflog group 42' "$BIN" rules print --config "$tmp/d.conf" --queue 12
expect 2 "mark mask|mark-mask" "$BIN" rules print --mark-mask 0x1f
expect 2 "say print, install, remove or status" "$BIN" rules frob
expect 0 'queue 7300, nflog group 7300' "$BIN" rules print --config rules/rstwatch.conf

if [ "$failures" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$failures" -eq 0 ]
