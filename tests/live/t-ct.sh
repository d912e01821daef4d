#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# src/ct.c against the real conntrack table, IPv4 and IPv6.
#
# Two namespaces joined by a veth: a client and a server whose nft ruleset uses
# a `ct` expression (without one conntrack never runs there). For one real TCP
# connection per family, ct_probe (tests/live/ct_probe.c) must
#   - find the entry ESTABLISHED from either direction's tuple, with
#     reply_is_sender telling the two apart, counters and a start timestamp;
#   - update the mark only under rstwatch's mask: a bit set beforehand with
#     `conntrack -U --mark 1` survives, masked bits are replaced (checked
#     against `conntrack -L` too);
#   - report a missing tuple as present=0 (not an error) and a mark update of
#     it as ENOENT;
#   - see the entry in CLOSE with at most 10 s left after the client aborts,
#     and no entry at all after a refused connection (the kernel deletes it
#     as soon as the reset passes conntrack).
# The stable part of what it sees is diffed against tests/live/expected/ct.txt.
source "$(dirname "$0")/lib.sh"

PROBE=build/asan/live/ct_probe
PEER=tests/live/tcp_peer.py
EXPECTED=tests/live/expected/ct.txt

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
for tool in ip nft conntrack ss; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ -x "$PY" ] || skip "$PY is not installed"
need "$PROBE"

in_c() { in_ns "$C" "$@"; }
in_s() { in_ns "$S" "$@"; }

# field KEY LINE: the value of KEY=... in a ct_probe output line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }

# What of a ct_probe line is the same on every run (no id, timeout, times, bytes).
stable() { sed -E 's/ (timeout|id|start_ns|bytes)=[^ ]*//g' <<<"$1"; }

pair_up ct-c ct-s
in_c ip addr add 198.51.100.1/24 dev ct-c && in_s ip addr add 198.51.100.2/24 dev ct-s &&
in_c ip addr add 2001:db8:100::1/64 dev ct-c nodad &&
in_s ip addr add 2001:db8:100::2/64 dev ct-s nodad || fail "addresses"

# Accounting and timestamps are per namespace and must be on before the entry
# is created: the kernel attaches those extensions when it allocates it.
in_s sysctl -qw net.netfilter.nf_conntrack_acct=1 ||
	skip "no net.netfilter.nf_conntrack_acct (conntrack accounting)"
in_s sysctl -qw net.netfilter.nf_conntrack_timestamp=1 ||
	skip "no net.netfilter.nf_conntrack_timestamp"

in_s nft -f - <<'EOF' || skip "nft cannot load a ruleset with a ct expression"
table inet rstw_ct_test {
	chain in {
		type filter hook input priority 0;
		ct state established,related accept
	}
}
EOF

probe_err=$(in_s "$PROBE" get 192.0.2.1 1 192.0.2.2 2)
case $probe_err in
present=0) ;;
error=*) skip "ctnetlink unusable: $probe_err" ;;
*) fail "ct_probe on an empty table said: $probe_err" ;;
esac

OUT=$tmp/out

# record LABEL LINE: the stable part goes to the transcript diffed at the end.
record() { echo "$1: $(stable "$2")" >>"$OUT"; }

ct_mark_of() { # FAMILY SPORT: the decimal mark conntrack -L shows for the flow
	in_s conntrack -L -f "$1" -p tcp --orig-port-src "$2" 2>/dev/null |
		sed -n 's/.* mark=\([0-9]*\).*/\1/p'
}

established() { in_s ss -Htn state established "sport = :$1" | grep -q .; }
listening() { in_s ss -Hltn "sport = :$1" | grep -q .; }
probe_state_is() { [ "$(field state "$(in_s "$PROBE" get "${@:2}")")" = "$1" ]; }

run_family() {
	local fam=$1 cli=$2 srv=$3 sport=$4 dport=$5
	local line rc

	bg "server-$fam" "$S" "$PY" "$PEER" server "$srv" "$dport"
	wait_for 10 listening "$dport" || fail "$fam: server did not listen"
	bg "client-$fam" "$C" "$PY" "$PEER" client "$cli" "$sport" "$srv" "$dport" "$tmp/abort-$fam"
	wait_for 10 established "$dport" || fail "$fam: connection not established"

	# The reset could come from either end: both tuples find the entry.
	line=$(in_s "$PROBE" get "$cli" "$sport" "$srv" "$dport") || fail "$fam: get: $line"
	record "$fam get client->server" "$line"
	[ "$(field start_ns "$line")" -gt 0 ] || fail "$fam: no start timestamp: $line"
	[ "$(field bytes "$line")" != 0/0 ] || fail "$fam: no byte counts: $line"
	line=$(in_s "$PROBE" get "$srv" "$dport" "$cli" "$sport") || fail "$fam: get: $line"
	record "$fam get server->client" "$line"

	# A bit outside rstwatch's mask, owned by someone else, must survive.
	in_s conntrack -U -f "$fam" -p tcp --orig-port-src "$sport" --orig-port-dst "$dport" \
		--mark 1 >/dev/null 2>&1 || fail "$fam: conntrack -U --mark 1"
	[ "$(ct_mark_of "$fam" "$sport")" = 1 ] || fail "$fam: conntrack -U did not set mark 1"

	line=$(in_s "$PROBE" mark "$cli" "$sport" "$srv" "$dport" 0x00030000 0x00ff0000) ||
		fail "$fam: mark: $line"
	line=$(in_s "$PROBE" get "$cli" "$sport" "$srv" "$dport")
	record "$fam after mark 0x00030000/0x00ff0000" "$line"
	echo "$fam conntrack -L mark=$(ct_mark_of "$fam" "$sport")" >>"$OUT"

	# A second tag replaces only the masked bits, here through the reply tuple.
	line=$(in_s "$PROBE" mark "$srv" "$dport" "$cli" "$sport" 0x00050000 0x00ff0000) ||
		fail "$fam: mark: $line"
	line=$(in_s "$PROBE" get "$srv" "$dport" "$cli" "$sport")
	record "$fam after mark 0x00050000/0x00ff0000" "$line"
	echo "$fam conntrack -L mark=$(ct_mark_of "$fam" "$sport")" >>"$OUT"

	# No such flow: a fact for the lookup, ENOENT for the update.
	line=$(in_s "$PROBE" get "$cli" "$sport" "$srv" $((dport + 1)))
	rc=$?
	record "$fam get missing (rc=$rc)" "$line"
	line=$(in_s "$PROBE" mark "$cli" "$sport" "$srv" $((dport + 1)) 0x00030000 0x00ff0000 2>/dev/null)
	rc=$?
	record "$fam mark missing (rc=$rc)" "$line"

	# The client aborts: the assured entry stays, in CLOSE, for 10 s at most.
	touch "$tmp/abort-$fam"
	wait_for 10 probe_state_is CLOSE "$cli" "$sport" "$srv" "$dport" ||
		fail "$fam: entry never reached CLOSE"
	line=$(in_s "$PROBE" get "$cli" "$sport" "$srv" "$dport")
	record "$fam after client abort" "$line"
	[ "$(field timeout "$line")" -le 10 ] || fail "$fam: CLOSE entry lives too long: $line"

	# A refused connection leaves nothing: the reset deletes its entry.
	line=$(in_c "$PY" "$PEER" refuse "$cli" $((sport + 1)) "$srv" 7777)
	echo "$fam refused connect: $line" >>"$OUT"
	line=$(in_s "$PROBE" get "$cli" $((sport + 1)) "$srv" 7777)
	record "$fam get refused flow" "$line"
}

run_family ipv4 198.51.100.1 198.51.100.2 40001 8080
run_family ipv6 2001:db8:100::1 2001:db8:100::2 40001 8086

cat "$OUT"
diff -u "$EXPECTED" "$OUT" || fail "output differs from $EXPECTED"
echo "PASS"
