#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t-rulenames.sh: each reset the gateway's own firewall sends names the rule
# that sent it (issue 12). A real gateway ruleset (tests/live/rulenames.nft:
# two inet tables at the forward hook, priorities -10 and 0, an ip and an ip6
# table, named and interval sets, a concatenation, a verdict map with jump and
# goto, iifname/oifname, ct state, IPv4- and IPv6-only rules) and an
# iptables-nft REJECT --reject-with tcp-reset rule:
#  A. connections held open before the rules came, then sending (established
#     flows: queued resets), and new connections (their SYN refused: copied
#     resets), IPv4 and IPv6, to every rule: each event names its handle;
#  B. a rule replaced between two triggers is named as it is now;
#  C. a ct mark match the reset cannot tell: both candidates and why;
#  D. a flush of the ruleset: the watchdog reinstalls rstwatch's table at
#     once (change events, not a poll);
#  E. explain --ruleset on the gateway's capture names the same rules (the
#     oifname pair, which live the gateway's routes decide, as candidates).
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft iptables-nft tcpdump
topology_up

EV=$tmp/events.json
PORTS=9101,9102,9103,9104,9105,9106,9107,9108,9110,9111,9112,9113,9114,9115,9116,9117
bg server "$S" "$PY" tests/live/rule_traffic.py serve "$PORTS"
wait_for 5 grep -q serving "$tmp/server.out" || fail "server did not start"
bg capture "$G" tcpdump -i any -U -n -w "$tmp/gw.pcap" tcp
wait_for 5 grep -q listening "$tmp/capture.err" || fail "tcpdump did not start"

# A. established flows first, with no rule in the way (the daemon's own
# table turns conntrack on in the gateway: they have confirmed entries).
start_daemon rn
mkfifo "$tmp/go4" "$tmp/go6"
for f in 4 6; do
	addr=$S4; [ $f = 6 ] && addr=$S6
	ip netns exec "$C" "$PY" tests/live/rule_traffic.py hold "$addr" "$PORTS" \
		<"$tmp/go$f" >"$tmp/hold$f.out" 2>"$tmp/hold$f.err" &
	pids+=($!)
	exec {fd}>"$tmp/go$f"
	eval "go_fd$f=$fd"
done
wait_for 10 grep -q held "$tmp/hold4.out" || fail "IPv4 connections not held"
wait_for 10 grep -q held "$tmp/hold6.out" || fail "IPv6 connections not held"

in_ns "$G" nft -f tests/live/rulenames.nft || fail "loading the gateway ruleset"
in_ns "$G" nft add rule inet gwa forward tcp dport 9116 reject with tcp reset comment '"r-first"'
in_ns "$G" iptables-nft -A FORWARD -p tcp --dport 9114 -j REJECT --reject-with tcp-reset ||
	fail "iptables-nft rule"
sleep 0.5    # the daemon reads the ruleset again on the change events

for f in 4 6; do
	eval "echo go >&\$go_fd$f"
done
wait_for 20 grep -q done "$tmp/hold4.out" || fail "IPv4 held flows did not finish"
wait_for 20 grep -q done "$tmp/hold6.out" || fail "IPv6 held flows did not finish"
in_ns "$C" "$PY" tests/live/rule_traffic.py new $S4 "$PORTS" >"$tmp/new4.out"
in_ns "$C" "$PY" tests/live/rule_traffic.py new $S6 "$PORTS" >"$tmp/new6.out"
grep -q '9101 refused' "$tmp/new4.out" || fail "the gateway did not refuse 9101: $(cat "$tmp/new4.out")"
in_ns "$G" nft -j list ruleset >"$tmp/ruleset.json"
sleep 0.3
out=$("$PY" tests/live/check_rulenames.py "$tmp/ruleset.json" "$EV" live) ||
	fail "live names: $out"
ok "every rule named, new and established, IPv4 and IPv6 ($(grep -c '^ok' <<<"$out") rule/family pairs)"

# The text form, from the same daemon's log: a named rule's line.
"$PY" - "$EV" <<'PY' || fail "iptables rule not named with its iptables-save line"
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    r = e.get("rst", {}).get("rule") or {}
    if e.get("src_port") == 9114 and "--reject-with tcp-reset" in r.get("iptables", ""):
        sys.exit(0)
sys.exit(1)
PY
ok "the iptables-nft rule carries its iptables-save line"

# B. replaced between two triggers: named as it is now.
first=$("$PY" -c 'import json,sys
for o in json.load(open(sys.argv[1]))["nftables"]:
    r = o.get("rule")
    if r and r.get("comment") == "r-first": print(r["handle"])' "$tmp/ruleset.json")
[ -n "$first" ] || fail "no r-first rule"
in_ns "$G" nft replace rule inet gwa forward handle "$first" tcp dport 9116 reject with tcp reset \
	comment '"r-second"' || fail "nft replace rule"
sleep 0.5
in_ns "$C" "$PY" tests/live/rule_traffic.py new $S4 9116 >/dev/null
sleep 0.3
"$PY" - "$EV" <<'PY' || fail "the replaced rule is not named as it is now"
import json, sys
names = [e["rst"]["rule"].get("comment") for e in map(json.loads, open(sys.argv[1]))
         if e.get("src_port") == 9116 and "rule" in e.get("rst", {})]
print(names)
sys.exit(0 if names[:2] == ["r-first", "r-first"] and names[-1] == "r-second" else 1)
PY
ok "a rule replaced between two triggers is named as it is now"

# C. ct mark: the reset cannot tell it, so both rules are candidates.
"$PY" - "$EV" <<'PY' || fail "the ct mark case does not list its candidates"
import json, sys
for e in map(json.loads, open(sys.argv[1])):
    r = e.get("rst", {}).get("rule") or {}
    if e.get("src_port") == 9115:
        got = sorted(c.get("comment") for c in r.get("candidates", []))
        if got != ["r-catch", "r-ctmark"] or "ct mark" not in r.get("why", ""):
            print(r)
            sys.exit(1)
sys.exit(0)
PY
ok "an undecidable ct mark lists both candidates and why"

# D. a flush: the table is back at once, on the change event.
in_ns "$G" nft flush ruleset
wait_for 2 in_ns "$G" nft list table inet rstwatch >/dev/null 2>&1 ||
	fail "table not reinstalled within 2 s of a flush"
grep -q 'disappeared' "$EV" || fail "no engine line about the flush"
ok "flush: table reinstalled on the change event"

stop_daemon rn
kill -INT "$(pgrep -f "tcpdump -i any -U -n -w $tmp/gw.pcap")" 2>/dev/null
sleep 0.5

# E. offline: the capture and the saved ruleset name the same rules.
"$RSTWATCH" explain --json --ruleset "$tmp/ruleset.json" "$tmp/gw.pcap" >"$tmp/offline.json" \
	2>"$tmp/offline.err" || fail "explain --ruleset: $(head -c 3000 "$tmp/offline.err")"
out=$("$PY" tests/live/check_rulenames.py "$tmp/ruleset.json" "$tmp/offline.json" offline) ||
	fail "offline names: $out"
ok "explain --ruleset names the same rules"
no_sanitizer_report
echo "1 passed, 0 failed"
