#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
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

# Misuse is one line and a pointer to the help, never the whole help (issue 15).
# expect_short RC PATTERN CMD...: as expect, and at most two lines of output
expect_short() {
	local lines
	expect "$@"
	shift 2
	lines=$("$@" 2>&1 | wc -l)
	if [ "$lines" -gt 2 ]; then
		echo "FAIL: $* printed $lines lines, want the complaint and a 'Try' line"
		failures=$((failures + 1))
	fi
}
expect_short 2 "^Try 'rstwatch help'\.$" "$BIN"
expect 0 'explain \[OPTIONS\] FILE\.\.\.[|]-[|]-i IFACE' "$BIN" --help
expect 0 '^rstwatch [0-9]+\.[0-9]+\.[0-9]+$' "$BIN" version
expect 0 '^rstwatch [0-9]+\.[0-9]+\.[0-9]+$' "$BIN" --version
expect 0 '^rstwatch [0-9]+\.[0-9]+\.[0-9]+$' "$BIN" -V
expect_short 2 "unknown command 'frobnicate'" "$BIN" frobnicate
expect_short 2 "^rstwatch help: no command 'frob'" "$BIN" help frob
expect 0 'usage: rstwatch status' "$BIN" help status
expect 0 'usage: rstwatch COMMAND' "$BIN" help
expect_short 2 "^Try 'rstwatch help explain'\.$" "$BIN" explain
expect_short 2 "^Try 'rstwatch help explain'\.$" "$BIN" explain --bogus x.pcap
expect_short 2 "^rstwatch run: unknown option or missing value: '--bogus'" "$BIN" run --bogus
expect_short 2 "^rstwatch explain: unknown option or missing value: '--max-flows'" "$BIN" explain x.pcap --max-flows
expect_short 2 "^Try 'rstwatch help rules'\.$" "$BIN" rules print --bogus
expect_short 2 "^rstwatch check: unexpected argument 'now'" "$BIN" check now
expect_short 2 "^rstwatch status: unexpected argument 'x'" "$BIN" status x
expect 1 "no daemon answers on $tmp/none: No such file" "$BIN" status --control "$tmp/none"
# Values wrong only in combination or as a class list: exit 2 (the help's
# "bad usage or configuration"), before anything starts, also for rules.
expect_short 2 "^rstwatch run: mark mask 0x00000003 is not one run of at least 6 bits$" \
	"$BIN" run --mark-mask 0x3
expect_short 2 "^rstwatch run: --suppress: 'nonsense' is not a class$" "$BIN" run --suppress nonsense
expect_short 2 "^rstwatch rules: --suppress: 'nonsense' is not a class$" \
	"$BIN" rules print --suppress firewall,nonsense
expect_short 2 "^rstwatch run: --hold-min-ms 300 is above --hold-max-ms 200$" \
	"$BIN" run --hold-min-ms 300
printf 'suppress = nonsense\n' >"$tmp/sup.conf"
expect 2 "'nonsense' is not a class" "$BIN" run --config "$tmp/sup.conf"
expect 0 'Exit status' "$BIN" explain --help
expect 0 'mark-mask MASK' "$BIN" run --help
expect 0 'mark-mask MASK' "$BIN" help rules
expect 0 'conntrack glue' "$BIN" check --help
expect 2 'no capture file given' "$BIN" explain
expect 2 'cannot read capture' "$BIN" explain /nonexistent.pcap
expect 2 "max-flows wants" "$BIN" explain --max-flows 0 x.pcap
expect 2 "idle-threshold wants" "$BIN" explain --idle-threshold -5 x.pcap
expect 2 "^rstwatch explain: unknown option or missing value: '--bogus'" "$BIN" explain --bogus x.pcap
expect 0 'capture live from IFACE' "$BIN" explain --help
expect 2 "bad filter 'tcp port': .*" "$BIN" explain -f 'tcp port' tests/captures/pcap/refused-v4.pcap
expect 2 "-i reads an interface, not files \('x.pcap'\)" "$BIN" explain -i lo x.pcap
expect 2 "--report $tmp/no/such/dir/r.html: No such file or directory" "$BIN" explain --report "$tmp/no/such/dir/r.html" tests/captures/pcap/refused-v4.pcap
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

# Config files and values are bounded, numbers decimal (issue #14, 5).
# A comment longer than the line buffer was split and its tail parsed: this
# one set the queue (4199 bytes then 'queue = 9999').
{ printf '#%04198d' 0; printf 'queue = 9999\n'; } >"$tmp/long.conf"
expect 2 "long.conf:1: line of 4212 bytes, at most 4200 allowed" "$BIN" rules print --config "$tmp/long.conf"
# A directory read as an empty file; /dev/zero as an endless line.
expect 2 "config $tmp is not a regular file" "$BIN" rules print --config "$tmp"
expect 2 "config /dev/zero is not a regular file" timeout 10 "$BIN" rules print --config /dev/zero
head -c 1048577 /dev/zero | tr '\0' '#' >"$tmp/big.conf"
expect 2 "big.conf is larger than 1048576 bytes" "$BIN" rules print --config "$tmp/big.conf"
printf 'queue = 7300\0\n' >"$tmp/nul.conf"
expect 2 "nul.conf:1: NUL byte" "$BIN" rules print --config "$tmp/nul.conf"
# Over-long values: a message, not whatever the error buffer held.
long=$(printf '%05000d' 0)
expect 2 "^rstwatch: --log: value of 5000 bytes, at most 4095 allowed$" "$BIN" rules print --log "$long"
expect 2 "^rstwatch: --suppress: value of 5000 bytes, at most 255 allowed$" "$BIN" rules print --suppress "$long"
expect 2 "^rstwatch: --metrics: value of 5000 bytes, at most 127 allowed$" "$BIN" rules print --metrics "$long"
printf 'log = %s\n' "$(printf '%04100d' 0)" >"$tmp/longval.conf"
expect 2 "longval.conf:1: --log: value of 4100 bytes, at most 4095 allowed" "$BIN" rules print --config "$tmp/longval.conf"
# Numbers are decimal: 010 was 8 (strtoul base 0), 0x10 16.
expect 2 "nflog-group: invalid value '010': want a decimal number in 0..65535, no leading zeros" "$BIN" rules print --nflog-group 010
# (rules print, not run: an old binary that accepts these must not start.)
expect 2 "batch: invalid value '0x10'" "$BIN" rules print --batch 0x10
expect 2 "batch: invalid value ' 8'" "$BIN" rules print --batch ' 8'
expect 2 "batch: invalid value '\+8'" "$BIN" rules print --batch +8
expect 2 "queue: invalid value '07300'" "$BIN" rules print --queue 07300
expect 2 "queue: invalid value '7300- 7301'" "$BIN" rules print --queue '7300- 7301'
printf 'nflog-group = 010\n' >"$tmp/oct.conf"
expect 2 "oct.conf:1: --nflog-group: invalid value '010'" "$BIN" rules print --config "$tmp/oct.conf"
expect 0 'nflog group 7300' "$BIN" rules print --mark-mask 0x00ff0000
expect 2 "mark-mask: invalid value '0x1ffffffff'" "$BIN" rules print --mark-mask 0x1ffffffff
expect 0 'queue 8, nflog group 10' "$BIN" rules print --queue 8 --nflog-group 10
expect 2 "log-buffer: invalid value '1000': want a decimal number in 65536..1073741824" "$BIN" rules print --log-buffer 1000

if [ "$failures" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$failures" -eq 0 ]
