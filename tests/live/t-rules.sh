#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t-rules.sh: the rstwatch ruleset installer (rules/install.c) against a real
# kernel, each case in fresh network namespaces.
#  - the probe finds a queue statement and leaves nothing behind;
#  - install lists exactly as tests/live/expected/rules.nft;
#  - rules/rstwatch.nft, loaded with `nft -f`, lists the same (queue rule
#    aside: rstwatch adds that one itself), and so does `rules print` at
#    every level with three queues, so the file people read is the ruleset
#    that runs; the levels differ as they should (rst: resets only;
#    handshake: SYN/FIN copied, never queued, and the watch chains);
#  - a second install replaces the table; a failed install changes nothing;
#  - check tells intact / missing (nft flush ruleset) / altered;
#  - remove leaves no table; a foreign table is untouched throughout.
set -u
cd "$(dirname "$0")/../.."

TOOL=build/asan/live/rules_tool
EXPECTED=tests/live/expected/rules.nft
[ -x "$TOOL" ] || { echo "missing $TOOL: run make live"; exit 1; }
command -v nft >/dev/null || { echo "nft is not installed"; exit 77; }

tag=rstw-$$
NS_A=$tag-a NS_B=$tag-b NS_C=$tag-c
tmp=$(mktemp -d)

cleanup() {
	for ns in "$NS_A" "$NS_B" "$NS_C"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# The table as nft lists it, without counters (-s) or handles. nft warns on
# stderr that a table holding an xt target "is managed by iptables-nft";
# that goes to a file, shown if a comparison fails.
list_table() {
	in_ns "$1" nft -s list table inet rstwatch 2>>"$tmp/nft-stderr"
}

# The same without the queue rule, which only rstwatch adds.
without_queue() {
	grep -v 'queue num'
}

same() {
	local what=$1 want=$2 got=$3
	if ! diff -u "$want" "$got" >"$tmp/diff"; then
		echo "FAIL: $what"
		cat "$tmp/diff"
		echo "--- nft stderr:"
		cat "$tmp/nft-stderr" 2>/dev/null
		exit 1
	fi
	echo "ok: $what"
}

ip netns add "$NS_A" 2>/dev/null || { echo "cannot create network namespaces"; exit 77; }
ip netns add "$NS_B" || fail "ip netns add $NS_B"
ip netns add "$NS_C" || fail "ip netns add $NS_C"

# --- probe --------------------------------------------------------------
probe=$(in_ns "$NS_A" "$TOOL" probe) || fail "probe failed"
echo "probe: $probe"
case $probe in
*choose=none*) echo "kernel has neither nft_queue nor the xt NFQUEUE target"; exit 77 ;;
esac
[ -z "$(in_ns "$NS_A" nft list ruleset)" ] || fail "the probe left something behind"
echo "ok: the probe leaves no trace"

# --- a foreign table, present before and after everything ---------------
in_ns "$NS_A" nft -f - <<'EOF' || fail "loading the foreign table"
table inet other {
	chain input_filter {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter accept
	}
}
EOF
in_ns "$NS_A" nft -s list table inet other >"$tmp/other.before"

# --- install: exactly the expected listing -------------------------------
in_ns "$NS_A" "$TOOL" install || fail "install"
list_table "$NS_A" >"$tmp/installed"
same "install lists as $EXPECTED" "$EXPECTED" "$tmp/installed"

# --- rules/rstwatch.nft is the same ruleset --------------------------------
in_ns "$NS_B" nft -f rules/rstwatch.nft || fail "nft -f rules/rstwatch.nft"
list_table "$NS_B" >"$tmp/file"
without_queue <"$tmp/installed" >"$tmp/installed.noq"
same "rules/rstwatch.nft lists as the installed table" "$tmp/installed.noq" "$tmp/file"
grep -q 'queue num' "$tmp/installed" || fail "the installed table has no queue rule"
in_ns "$NS_B" nft delete table inet rstwatch

# The part of the file that is a comment must not drift either: the queue
# rule it shows is the one rstwatch adds.
want=$(sed -n 's/^[[:space:]]*# \(counter queue num .*\)$/\1/p' rules/rstwatch.nft)
got=$(grep 'queue num' "$tmp/installed" | sed 's/^[[:space:]]*//')
[ -n "$want" ] && [ "$want" = "$got" ] ||
	fail "rules/rstwatch.nft shows the queue rule as '$want', installed: '$got'"
echo "ok: the queue rule rules/rstwatch.nft shows is the installed one"

# --- rules print, at every level, loads and lists as install -------------
# Three queues: every per-worker rule three times, behind symhash mod 3.
# "watch", the old third level, is still taken and means handshake.
for level in rst handshake watch; do
	in_ns "$NS_C" "$TOOL" -l "$level" -q 3-5 -g 42 install || fail "install -l $level"
	list_table "$NS_C" | without_queue >"$tmp/inst.$level"
	list_table "$NS_C" | grep 'queue num' >"$tmp/queue.$level"
	"$TOOL" -l "$level" -q 3-5 -g 42 print >"$tmp/print.$level" || fail "print -l $level"
	in_ns "$NS_B" nft -f "$tmp/print.$level" || fail "nft -f (rules print -l $level)"
	list_table "$NS_B" >"$tmp/loaded.$level"
	in_ns "$NS_B" nft delete table inet rstwatch
	same "rules print -l $level lists as install -l $level" "$tmp/inst.$level" "$tmp/loaded.$level"
done
same "level watch is level handshake" "$tmp/inst.handshake" "$tmp/inst.watch"
cmp -s "$tmp/print.handshake" "$tmp/print.watch" || fail "rules print -l watch differs from -l handshake"
head -n 1 "$tmp/print.watch" | grep -q 'level handshake' || fail "print -l watch: $(head -n 1 "$tmp/print.watch")"

# rst: resets only. No copy of SYN/FIN, no watch chain, nothing goes to the
# batched copy chain; the new-flow reject reset is still copied at once.
grep -q 'fin,syn' "$tmp/inst.rst" && fail "level rst copies or diverts SYN/FIN"
grep -q '_watch' "$tmp/inst.rst" && fail "level rst has a watch chain"
grep -q 'goto copy ' "$tmp/inst.rst" && fail "level rst sends something to chain copy"
grep -q 'ct status ! confirmed goto copy_now' "$tmp/inst.rst" ||
	fail "level rst does not copy the new-flow reject reset"
# handshake: both watch chains, SYN/FIN copied (goto copy) on both hooks and
# never handed to divert; only resets jump to divert.
grep -q 'chain prerouting_watch {' "$tmp/inst.handshake" || fail "level handshake has no prerouting_watch chain"
grep -q 'chain output_watch {' "$tmp/inst.handshake" || fail "level handshake has no output_watch chain"
[ "$(grep -c 'tcp flags fin,syn goto copy comment' "$tmp/inst.handshake")" = 2 ] ||
	fail "level handshake does not copy SYN/FIN on both hooks"
grep 'jump divert' "$tmp/inst.handshake" | grep -qv 'tcp flags & rst == rst jump divert' &&
	fail "level handshake diverts something other than resets: $(grep 'jump divert' "$tmp/inst.handshake")"
# Every level: one queue rule per queue, each for one queue, behind symhash;
# one log group per queue, in copy, copy_now and the markers alike.
for level in rst handshake; do
	for k in 0 1 2; do
		grep -q "symhash mod 3 $k counter queue num $((3 + k)) bypass" "$tmp/queue.$level" ||
			fail "level $level: no queue rule for queue $((3 + k)): $(cat "$tmp/queue.$level")"
		[ "$(grep -c "symhash mod 3 $k \(limit .* \)\?log .*group $((42 + k))[ ]" "$tmp/inst.$level")" = 3 ] ||
			fail "level $level: log group $((42 + k)) not in copy, copy_now and divert"
	done
	[ "$(wc -l <"$tmp/queue.$level")" = 3 ] || fail "level $level: $(wc -l <"$tmp/queue.$level") queue rules"
	grep -q 'queue num [0-9]*-' "$tmp/queue.$level" && fail "level $level queues to a range"
done
echo "ok: levels differ as they should"

# --- a second install replaces, never duplicates --------------------------
in_ns "$NS_A" "$TOOL" install || fail "second install"
list_table "$NS_A" >"$tmp/installed2"
same "a second install lists the same (no duplicates)" "$EXPECTED" "$tmp/installed2"
n=$(in_ns "$NS_A" nft list tables | grep -c 'table inet rstwatch')
[ "$n" = 1 ] || fail "$n rstwatch tables after two installs"

# --- a failed install changes nothing -------------------------------------
# Ask for the implementation the kernel lacks, if it lacks one: its rule is
# refused in the middle of the batch, and the batch must abort as a whole.
case $probe in
*native_queue=ok*xt_nfqueue=ok*) echo "note: kernel has both queue statements, no failing install to try" ;;
*native_queue=ok*) bad=xt ;;
*) bad=native ;;
esac
if [ -n "${bad:-}" ]; then
	in_ns "$NS_A" "$TOOL" -i "$bad" -q 9 -l rst install 2>"$tmp/err" && fail "install -i $bad succeeded"
	echo "refused as expected: $(cat "$tmp/err")"
	list_table "$NS_A" >"$tmp/after-failure"
	same "a failed install leaves the table as it was" "$EXPECTED" "$tmp/after-failure"
fi

# --- check: intact, altered, missing --------------------------------------
out=$(in_ns "$NS_A" "$TOOL" check); rc=$?
[ "$rc" = 0 ] && [ "$out" = intact ] || fail "check after install: $out (rc $rc)"
out=$(in_ns "$NS_A" "$TOOL" -q 1 check); rc=$?
[ "$rc" = 4 ] || fail "check with another queue number: $out (rc $rc), want altered"
out=$(in_ns "$NS_A" "$TOOL" -l rst check); rc=$?
[ "$rc" = 4 ] || fail "check at another level: $out (rc $rc), want altered"
out=$(in_ns "$NS_A" "$TOOL" -l watch check); rc=$?
[ "$rc" = 0 ] || fail "check at level watch (= handshake): $out (rc $rc), want intact"
out=$(in_ns "$NS_A" "$TOOL" -q 7300-7301 check); rc=$?
[ "$rc" = 4 ] || fail "check for two queues against one: $out (rc $rc), want altered"
handle=$(in_ns "$NS_A" nft -a list chain inet rstwatch divert 2>/dev/null |
	sed -n 's/.*queue num.*# handle \([0-9]*\)$/\1/p')
[ -n "$handle" ] || fail "no handle for the queue rule"
in_ns "$NS_A" nft delete rule inet rstwatch divert handle "$handle" || fail "deleting the queue rule"
out=$(in_ns "$NS_A" "$TOOL" check); rc=$?
[ "$rc" = 4 ] && [ "$out" = altered ] || fail "check without the queue rule: $out (rc $rc)"
in_ns "$NS_A" nft flush ruleset
out=$(in_ns "$NS_A" "$TOOL" check); rc=$?
[ "$rc" = 3 ] && [ "$out" = missing ] || fail "check after nft flush ruleset: $out (rc $rc)"
in_ns "$NS_A" "$TOOL" install || fail "reinstall after flush"
out=$(in_ns "$NS_A" "$TOOL" check); rc=$?
[ "$rc" = 0 ] || fail "check after reinstall: $out (rc $rc)"
echo "ok: check tells intact, altered and missing"

# The flush took the foreign table too; put it back for the remove case.
in_ns "$NS_A" nft -f - <<'EOF' || fail "reloading the foreign table"
table inet other {
	chain input_filter {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter accept
	}
}
EOF

# --- remove: our table goes, the foreign one stays ------------------------
in_ns "$NS_A" "$TOOL" remove || fail "remove"
in_ns "$NS_A" nft list tables >"$tmp/tables"
echo "table inet other" >"$tmp/tables.want"
same "remove leaves only the foreign table" "$tmp/tables.want" "$tmp/tables"
in_ns "$NS_A" nft -s list table inet other >"$tmp/other.after"
same "the foreign table is untouched" "$tmp/other.before" "$tmp/other.after"
in_ns "$NS_A" "$TOOL" remove || fail "remove when already absent"
echo "ok: remove is idempotent"

echo "PASS"
