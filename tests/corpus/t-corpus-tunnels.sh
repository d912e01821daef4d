#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The public captures of ../shared/corpus/external2 that carry TCP inside GRE (Suricata's
# ERSPAN trace, Zeek's Aruba trace): every reset tshark finds is one rstwatch event, each
# naming its tunnel. Exit 0 pass, 77 skip, anything else fail.
set -u
cd "$(dirname "$0")/../.." || exit 1
corpus=../shared/corpus/external2
bin=build/asan/rstwatch
[ -d "$corpus" ] || { echo "skip: corpus not found at $corpus"; exit 77; }
command -v tshark >/dev/null || { echo "skip: tshark not installed"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }
fail=0
for spec in sv__bug-5437-02__input.pcap:erspan zeek__tunnels__gre-aruba.pcap:gre; do
	f=$corpus/${spec%%:*} type=${spec##*:}
	[ -f "$f" ] || { echo "skip: $f missing"; exit 77; }
	want=$(tshark -r "$f" -Y 'tcp.flags.reset==1' -T fields -e frame.number 2>/dev/null | grep -c .)
	out=$("$bin" explain --json "$f" 2>&1 >/dev/null)
	got=$("$bin" explain --json "$f" 2>/dev/null | grep -c "\"tunnel\":{\"type\":\"$type\"")
	if [ "$want" -gt 0 ] && [ "$got" = "$want" ] && ! grep -q Sanitizer <<<"$out"; then
		echo "ok   ${f##*/}: $got resets, each in $type (tshark: $want)"
	else
		echo "FAIL ${f##*/}: $got events in $type, tshark finds $want resets: $out"
		fail=1
	fi
done
exit $fail
