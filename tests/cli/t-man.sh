#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages: lint-clean roff (groff -ww and mandoc -Tlint say nothing),
# and they cannot drift from the program: each command's options as its
# --help lists them (long names, and the short letter beside one) are exactly
# those its section of rstwatch(8) documents, and rstwatch.conf(5) names every
# option of run a config file can set. No root needed.
set -u
cd "$(dirname "$0")/../.."
BIN=build/asan/rstwatch
[ -x "$BIN" ] || { echo "skip: $BIN not built"; exit 77; }
command -v groff >/dev/null || { echo "skip: no groff (groff-base)"; exit 77; }
command -v mandoc >/dev/null || { echo "skip: no mandoc"; exit 77; }
MAN8=rules/man/rstwatch.8 MAN5=rules/man/rstwatch.conf.5
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

for page in "$MAN8" "$MAN5"; do
	out=$(groff -man -ww -z "$page" 2>&1) || bad "groff -ww on $page exits $?"
	[ -z "$out" ] || bad "groff -ww on $page: $out"
	out=$(mandoc -Tlint -W warning "$page" 2>&1) || bad "mandoc -Tlint on $page exits $?"
	[ -z "$out" ] || bad "mandoc -Tlint on $page: $out"
done

# help_opts CMD: "-x --long" or "--long" for each option line of CMD's help.
help_opts() {
	"$BIN" help "$1" | sed -nE 's/^ +(-([A-Za-z]), )?(--[a-z][a-z-]*).*/\2 \3/p' |
		sed -E 's/^([A-Za-z]) /-\1 /; s/^ //' | sort -u
}
# man_opts SECTION: the same, from the tagged paragraphs of that section of rstwatch(8).
man_opts() {
	awk -v sec="$1" '/^\.SH / { on = ($0 == ".SH " sec) } on && /^\.TP/ { tag = 1; next }
		on && tag { print; tag = 0 }' "$MAN8" | sed 's/\\-/-/g' |
		sed -nE 's/^\.B[IR]? +(-([A-Za-z]) ", " )?(--[a-z][a-z-]*).*/\2 \3/p' |
		sed -E 's/^([A-Za-z]) /-\1 /; s/^ //' | sort -u
}
for pair in "explain:OPTIONS OF EXPLAIN" "run:OPTIONS OF RUN AND RULES" "status:OPTIONS OF STATUS"; do
	cmd=${pair%%:*} sec=${pair#*:}
	h=$(help_opts "$cmd") m=$(man_opts "$sec")
	[ -n "$h" ] || bad "no options found in 'rstwatch help $cmd'"
	d=$(diff <(echo "$h") <(echo "$m")) ||
		bad "$cmd: --help (<) and rstwatch(8) '$sec' (>) differ:"$'\n'"$d"
done
# Every command the main help lists has its paragraph in COMMANDS.
for cmd in $("$BIN" --help | sed -nE 's/^  ([a-z]+)[ ,].*/\1/p'); do
	awk '/^\.SH COMMANDS/ { on = 1; next } /^\.SH/ { on = 0 } on' "$MAN8" |
		grep -qE "^\.BR? $cmd( |$)" || bad "rstwatch(8) COMMANDS lacks '$cmd'"
done
# rstwatch.conf(5): every option of run but config and help, as "name = ...".
for name in $(help_opts run | sed -E 's/^-. //; s/^--//'); do
	case $name in config|help) continue ;; esac
	grep -qE "^\.B[IR]? \"?$name( |\")" "$MAN5" || bad "rstwatch.conf(5) lacks '$name'"
done
# The versions the pages name are the program's.
v=$("$BIN" --version | cut -d' ' -f2)
for page in "$MAN8" "$MAN5"; do
	grep -q "^\.TH .* \"rstwatch $v\"" "$page" || bad "$page does not say rstwatch $v"
done

if [ "$failures" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$failures" -eq 0 ]
