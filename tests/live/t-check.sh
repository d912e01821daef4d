#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch check: in a fresh network namespace as root it probes every
# feature, the conntrack glue line its help promises included; without
# CAP_NET_ADMIN (another user, or root with the capability dropped) it says
# that this is why, instead of the kernel's "Connection timed out".
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" setpriv capsh
ip netns add "$G" 2>/dev/null || skip "cannot create network namespaces"

out=$(in_ns "$G" "$RSTWATCH" check 2>&1); rc=$?
for line in 'nft queue' 'xt NFQUEUE rev 3' 'NFQUEUE bind' 'conntrack glue' 'ctnetlink' 'nflog'; do
	grep -q "^$line  " <<<"$out" || fail "check lacks its '$line' line: $out"
done
grep -qiE 'Connection timed out|Operation not permitted' <<<"$out" &&
	fail "check as root shows a raw errno: $out"
case $rc in
0) grep -q '^rstwatch run can work here$' <<<"$out" || fail "exit 0 without the verdict: $out" ;;
1) grep -q '^rstwatch run CANNOT work here$' <<<"$out" || fail "exit 1 without the verdict: $out" ;;
*) fail "check as root: exit $rc: $out" ;;
esac
ok "as root: every probe line, exit $rc"

for how in "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all" \
	   "capsh --drop=cap_net_admin --"; do
	if [ "${how%% *}" = capsh ]; then
		out=$(in_ns "$G" capsh --drop=cap_net_admin -- -c "$RSTWATCH check" 2>&1); rc=$?
	else
		# shellcheck disable=SC2086
		out=$(in_ns "$G" $how "$RSTWATCH" check 2>&1); rc=$?
	fi
	[ "$rc" = 1 ] || fail "check under $how: exit $rc, want 1: $out"
	grep -q 'lacks CAP_NET_ADMIN' <<<"$out" || fail "check under $how does not say why: $out"
	grep -qi 'timed out' <<<"$out" && fail "check under $how: $out"
	ok "${how%% *}: '$out'"
done
