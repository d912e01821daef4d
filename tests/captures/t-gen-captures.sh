#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The committed captures are what gen.py produces (byte for byte, twice in a row), and tshark
# agrees with MANIFEST.tsv. Exit 0 pass, 1 fail, 77 skip (no scapy for /usr/bin/python3 or no tshark).
set -u
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
"$py" -c 'import scapy' 2>/dev/null || { echo "skip: /usr/bin/python3 has no scapy (apt install python3-scapy)"; exit 77; }
command -v tshark >/dev/null || { echo "skip: tshark is not installed"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sums() { (cd "$1" && sha256sum MANIFEST.tsv BADINPUT.tsv pcap/* | LC_ALL=C sort -k2); }

"$py" "$here/gen.py" --out "$tmp/a" >/dev/null || { echo "gen.py failed"; exit 1; }
"$py" "$here/gen.py" --out "$tmp/b" >/dev/null || { echo "gen.py failed"; exit 1; }
sums "$tmp/a" >"$tmp/a.sum"
sums "$tmp/b" >"$tmp/b.sum"
sums "$here" >"$tmp/here.sum"
if ! cmp -s "$tmp/a.sum" "$tmp/b.sum"; then
	echo "gen.py is not deterministic:"; diff "$tmp/a.sum" "$tmp/b.sum"; exit 1
fi
if ! cmp -s "$tmp/a.sum" "$tmp/here.sum"; then
	echo "committed captures differ from gen.py output (regenerate: $py $here/gen.py):"
	diff "$tmp/here.sum" "$tmp/a.sum"; exit 1
fi
echo "gen.py: deterministic, committed files up to date ($(wc -l <"$tmp/a.sum") files)"
"$here/check-manifest.sh"
