#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch run with the one capability it needs (issue 14, 8):
#  A. started as root, every thread of the running daemon has only
#     CAP_NET_ADMIN (effective, permitted, bounding; nothing inheritable or
#     ambient) and no_new_privs, and everything still works: a reset reported,
#     a flushed table reinstalled, SIGHUP reopens a rotated log, /metrics
#     answers, SIGTERM removes the table and exits 0;
#  B. started as an unprivileged user (65534) with CAP_NET_ADMIN as an ambient
#     capability, as the systemd unit does: it runs and reports;
#  C. without CAP_NET_ADMIN it exits 1 at once, saying that is why.
source "$(dirname "$0")/lib.sh"
need "$RSTWATCH" nft setpriv
topology_up
conn() { in_ns "$C" "$PY" tests/live/peer.py connect "$@"; }
NET_ADMIN=0000000000001000    # 1 << CAP_NET_ADMIN (12)
caps_of() { # caps_of PID: "CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs" of every thread
	local t
	for t in /proc/"$1"/task/*; do
		awk '/^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):/ { printf "%s ", $2 } END { print "" }' "$t/status"
	done | sort -u
}
want="0000000000000000 $NET_ADMIN $NET_ADMIN $NET_ADMIN 0000000000000000 1 "

# --- A ----------------------------------------------------------------------
EV=$tmp/events.log
start_daemon root --rate-limit 0
threads=$(ls /proc/"$daemon"/task | wc -l)
got=$(caps_of "$daemon")
[ "$got" = "$want" ] || fail "A: capabilities of the daemon's $threads threads: '$got', want '$want'"
r=$(conn $S4 7001); [ "$r" = refused ] || fail "A: connect: $r"
wait_for 10 grep -q '"src_port":7001,' "$EV" || fail "A: no event"
in_ns "$G" nft flush ruleset
wait_for 5 in_ns "$G" nft list table inet rstwatch >/dev/null 2>&1 || fail "A: table not reinstalled without privileges"
mv "$EV" "$EV.1"
kill -HUP "$daemon"
wait_for 5 test -e "$EV" || fail "A: log not reopened after SIGHUP"
metrics | grep -q '^rstwatch_build_info' || fail "A: /metrics"
stop_daemon root "$EV.1"
in_ns "$G" nft list table inet rstwatch >/dev/null 2>&1 && fail "A: table left after SIGTERM"
ok "A: as root: $threads threads, each with only CAP_NET_ADMIN and no_new_privs; reported, reinstalled, reopened, served, removed"

# --- B ----------------------------------------------------------------------
mkdir "$tmp/nobody" && chown 65534:65534 "$tmp/nobody" && chmod 755 "$tmp"
EV=$tmp/nobody/events.log
bg nobody "$G" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin \
	--ambient-caps=+net_admin "$RSTWATCH" run --log "$EV" --metrics "$METRICS_ADDR" --rate-limit 0
daemon=$bg_pid
wait_for 15 grep -q 'rstwatch: running' "$tmp/nobody.err" || fail "B: did not start as user 65534: $(cat "$tmp/nobody.err")"
[ "$(awk '/^Uid:/ { print $2 }' /proc/"$daemon"/status)" = 65534 ] || fail "B: not running as 65534"
got=$(caps_of "$daemon" | awk '{ print $2, $3, $6 }')
[ "$got" = "$NET_ADMIN $NET_ADMIN 1" ] || fail "B: permitted, effective, no_new_privs: $got"
r=$(conn $S6 7001); [ "$r" = refused ] || fail "B: connect: $r"
wait_for 10 grep -q '"src_port":7001,' "$EV" || fail "B: no event as user 65534"
stop_daemon nobody
ok "B: as user 65534 with ambient CAP_NET_ADMIN: runs, reports, stops cleanly"

# --- C ----------------------------------------------------------------------
rc=0
in_ns "$G" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$RSTWATCH" run --log "$tmp/nobody/c.log" >/dev/null 2>"$tmp/nocap.txt" || rc=$?
[ "$rc" = 1 ] || fail "C: without CAP_NET_ADMIN exit $rc, want 1"
grep -q 'needs CAP_NET_ADMIN' "$tmp/nocap.txt" || fail "C: said: $(cat "$tmp/nocap.txt")"
no_sanitizer_report
ok "C: without CAP_NET_ADMIN: exit 1, '$(head -n 1 "$tmp/nocap.txt")'"
