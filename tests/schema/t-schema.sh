#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every JSON line explain writes for the crafted captures and both public
# corpora validates against src/event.schema.json (tests/schema/eve.py, which
# also recomputes each community_id in Python); the live tests validate the
# daemon's logs the same way when they stop it (tests/live/lib.sh). And the
# schema rejects what it must: a line that breaks each promise fails.
set -u
cd "$(dirname "$0")/../.."
py=/usr/bin/python3
bin=build/rstwatch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }
"$py" -c 'import jsonschema' 2>/dev/null ||
	{ echo "skip: python3-jsonschema not installed (apt-get install python3-jsonschema)"; exit 77; }
rc=0

files=(tests/captures/pcap/*)
want=100    # the crafted captures' events; the corpora, beside the clone, add ~1,700
for d in ../shared/corpus/external ../shared/corpus/external2; do
	if [ -d "$d" ]; then
		files+=($(find "$d" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.trace' \) | sort))
		want=1000
	else
		echo "note: $d not found: the crafted captures only"
	fi
done
for f in "${files[@]}"; do
	"$bin" explain --json --quiet "$f" 2>/dev/null
done >"$tmp/all.json"
n=$(wc -l <"$tmp/all.json")
[ "$n" -gt "$want" ] || { echo "FAIL: only $n events from ${#files[@]} captures"; rc=1; }
"$py" tests/schema/eve.py check "$tmp/all.json" || rc=1
echo "explain: $n events from ${#files[@]} captures checked"

# Names are UTF-8 kept as they are; a byte that is not UTF-8 becomes U+FFFD.
name=$tmp/"capture-écoute-$(printf '\xff')-日本.pcap"
cp tests/captures/pcap/abort-v4.pcap "$name"
got=$("$bin" explain --json --quiet "$name" | "$py" -c 'import json, sys; print(json.loads(sys.stdin.readline())["pcap_filename"])')
want="$tmp/capture-écoute-"$'\uFFFD'"-日本.pcap"
if [ "$got" = "$want" ]; then echo "ok: pcap_filename keeps UTF-8, replaces the invalid byte"
else echo "FAIL: pcap_filename '$got', want '$want'"; rc=1; fi

# Each of these must fail: the schema is not a rubber stamp.
good=$(grep -m 1 '"src_ip":"[0-9.]*"' "$tmp/all.json")
bad() { # bad NAME PYTHON-EDIT: the good event edited must be rejected
	"$py" -c 'import json, sys
e = json.loads(sys.argv[1]); exec(sys.argv[2]); print(json.dumps(e))' "$good" "$2" >"$tmp/bad.json"
	if "$py" tests/schema/eve.py check "$tmp/bad.json" >/dev/null; then
		echo "FAIL: the schema accepts $1"; rc=1
	else
		echo "ok: rejects $1"
	fi
}
bad "a flow_id past 51 bits" 'e["flow_id"] = 2**51'
bad "src_ip \"*\"" 'e["src_ip"] = "*"'
bad "a line without timestamp" 'del e["timestamp"]'
bad "an unknown class" 'e["rst"]["class"] = "gremlins"'
bad "an unknown field" 'e["surprise"] = 1'
bad "a wrong community_id" 'e["community_id"] = "1:" + "A" * 27 + "="'
bad "an IPv4 reset with hoplimit" 'e["rst"]["hoplimit"] = 64'
bad "an all-sources summary with src_ip" 'e = {"timestamp": e["timestamp"], "event_type": "rst_suppressed", "src_ip": "192.0.2.1", "rst_suppressed": {"events": 3, "scope": "all-sources", "since": e["timestamp"]}}'
exit $rc
