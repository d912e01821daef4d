#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nfq/nflog.c against the real nfnetlink_log, IPv4 and IPv6.
#
# A client and a server namespace joined by a veth. The server's firewall
# refuses port 7777 with `reject with tcp reset`; a raw-priority output chain
# copies every reset leaving the host to `log group 5` (and marks it, to carry
# a mark through the log), and a prerouting chain logs the SYNs to port 7777
# to the same group (kernel timestamp and input interface on that hook).
# nflog_probe (tests/live/nflog_probe.c) reads group 5 in the server
# namespace. For each connection attempt the client must be refused
# (ECONNREFUSED, not a timeout: logging must not hold the reset back) and the
# probe must see exactly the SYN and then that reset, on the output hook, with
# no loss. Two attempts per family: a duplicate or missing copy of the first
# shows up before the second. The whole round runs twice, the second time with
# a `ct` expression in the ruleset, as rstwatch's own ruleset will have
# (conntrack attaches an unconfirmed entry to these resets; design §1).
source "$(dirname "$0")/lib.sh"

PROBE=build/asan/live/nflog_probe
PEER=tests/live/tcp_peer.py
EXPECTED=tests/live/expected/nflog.txt
GROUP=5

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
for tool in ip nft; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ -x "$PY" ] || skip "$PY is not installed"
need "$PROBE"

in_c() { in_ns "$C" "$@"; }
in_s() { in_ns "$S" "$@"; }

pair_up nl-c nl-s
in_c ip addr add 192.0.2.1/24 dev nl-c && in_s ip addr add 192.0.2.2/24 dev nl-s &&
in_c ip addr add 2001:db8:200::1/64 dev nl-c nodad &&
in_s ip addr add 2001:db8:200::2/64 dev nl-s nodad || fail "addresses"

in_s nft -f - <<EOF || skip "nft cannot load reject + log rules (nft_reject, nft_log)"
table inet fw {
	chain in {
		type filter hook input priority 0;
		tcp dport 7777 reject with tcp reset
	}
}
table inet cp {
	chain out {
		type filter hook output priority -300;
		tcp flags & rst == rst meta mark set 0x2a log prefix "rst" group $GROUP
	}
	chain pre {
		type filter hook prerouting priority -300;
		tcp flags & syn == syn tcp dport 7777 log prefix "syn" group $GROUP
	}
}
EOF

OUT=$tmp/out

# A SYN's sequence number, IP ID and window are the client's choice: not part
# of what the test pins down.
stable() { sed -E '/ flags=S /s/ (seq|ipid|win)=[^ ]*//g'; }

probe_ready() { grep -qx ready "$1"; }

# run_round LABEL SPORT: one probe, two refused attempts per family.
run_round() {
	local label=$1 sport=$2 log=$tmp/probe-$1 pid rc attempt
	local -a attempts=(
		"192.0.2.1 $sport 192.0.2.2"
		"192.0.2.1 $((sport + 1)) 192.0.2.2"
		"2001:db8:200::1 $sport 2001:db8:200::2"
		"2001:db8:200::1 $((sport + 1)) 2001:db8:200::2"
	)

	: >"$log"
	in_s "$PROBE" "$GROUP" $((2 * ${#attempts[@]})) 10000 >"$log" 2>"$log.err" &
	pid=$!
	pids+=("$pid")
	if ! wait_for 10 probe_ready "$log"; then
		grep -q '^error=' "$log" && skip "nfnetlink_log unusable: $(head -n 1 "$log")"
		fail "$label: nflog_probe never became ready: $(cat "$log" "$log.err")"
	fi

	for attempt in "${attempts[@]}"; do
		set -- $attempt
		echo "$label client $1:$2 -> $3:7777: $(in_c "$PY" "$PEER" refuse "$1" "$2" "$3" 7777)" >>"$OUT"
	done

	wait "$pid"
	rc=$?
	[ -s "$log.err" ] && cat "$log.err"
	grep -v '^ready$' "$log" | stable | sed "s/^/$label /" >>"$OUT"
	[ "$rc" = 0 ] || fail "$label: nflog_probe exited with $rc"
}

run_round plain 40001

in_s nft -f - <<'EOF' || skip "nft cannot load a ct expression"
table inet ctuse {
	chain pre {
		type filter hook prerouting priority -150;
		ct state new counter
	}
}
EOF
run_round conntrack 40011

cat "$OUT"
diff -u "$EXPECTED" "$OUT" || fail "output differs from $EXPECTED"
echo "PASS"
