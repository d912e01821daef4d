#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The hardened unit under a real systemd (issue 14 item 8): systemd booted as
# PID 1 of namespaces of its own (tests/live/systemd_boot.sh: its own network,
# private mounts, the host's writable trees hidden), with a target that wants
# rstwatch.service alone. UNIT, BINARY and CONFIG default to the repository's
# rules/rstwatch.service, build/rstwatch and rules/rstwatch.conf; the package
# test passes the installed ones. Checked:
#  A. Type=notify: the unit becomes active (READY=1) with its table loaded;
#  B. the process: a dynamic user (not root), CAP_NET_ADMIN alone (effective,
#     permitted, ambient, bounding), no_new_privs, a seccomp filter;
#  C. it judges: two refused connections on the namespace's loopback are two
#     events in /var/log/rstwatch/events.json (mode 0640, owned by the unit's
#     user), and /metrics counts them; `rstwatch status` answers on the
#     unit's control socket;
#  C2. a reject rule of the namespace's firewall is named in its reset's event,
#      the reset coming right after the rule and the address it answers on were
#      added (before rstwatch listened to address changes, it took the address
#      for a forwarded flow's for up to a second and found no reject);
#  D. systemctl reload (SIGHUP) reopens a log moved away;
#  E. systemctl stop: SIGTERM, exit 0, the table removed.
source "$(dirname "$0")/lib.sh"
UNIT=${UNIT:-rules/rstwatch.service}
BINARY=${BINARY:-build/rstwatch}
CONFIG=${CONFIG:-rules/rstwatch.conf}
[ "$(id -u)" = 0 ] || skip "needs root"
[ -x /lib/systemd/systemd ] || skip "systemd is not installed (apt-get install systemd)"
need "$BINARY" unshare nsenter
[ -f "$UNIT" ] && [ -f "$CONFIG" ] || fail "no $UNIT or $CONFIG"

unshare --pid --fork --mount --mount-proc --net --uts --ipc \
	tests/live/systemd_boot.sh "$(realpath "$BINARY")" "$(realpath "$UNIT")" "$(realpath "$CONFIG")" \
	>"$tmp/systemd.out" 2>&1 &
unshare_pid=$!
pids+=("$unshare_pid")
# Killing PID 1 of the namespaces (unshare's child) kills everything in them;
# the hook runs before unshare itself is killed, while the child is still its.
cleanup_hooks+=('pkill -9 -P "$unshare_pid"')
sd_pid() { pgrep -P "$unshare_pid" -x systemd | head -n 1; }
sd_started() { [ -n "$(sd_pid)" ]; }
wait_for 10 sd_started || fail "systemd did not start: $(cat "$tmp/systemd.out")"
sd=$(sd_pid)
in_sd() { nsenter -t "$sd" -m -p -n -u -i "$@"; }
unit_prop() { in_sd systemctl show rstwatch -p "$1" --value; }

# --- A ----------------------------------------------------------------------
booted() { case $(in_sd systemctl is-system-running 2>/dev/null) in running|degraded) true ;; *) false ;; esac; }
wait_for 20 booted || fail "A: systemd did not finish starting: $(in_sd systemctl is-system-running 2>&1)"
[ "$(unit_prop ActiveState)" = active ] ||
	fail "A: rstwatch.service is $(unit_prop ActiveState)/$(unit_prop SubState): $(in_sd systemctl status rstwatch --no-pager 2>&1 | tail -n 15)"
in_sd nft list table inet rstwatch >/dev/null || fail "A: active without its table"
ok "A: rstwatch.service active (Type=notify), table loaded"

# --- B ----------------------------------------------------------------------
main=$(unit_prop MainPID)
status=$(in_sd cat "/proc/$main/status") || fail "B: no process $main"
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$status"; }
uid=$(field Uid)
[ "$uid" != 0 ] && [ -n "$uid" ] || fail "B: runs as uid '$uid'"
for c in CapEff CapPrm CapAmb CapBnd; do
	[ "$(field $c)" = 0000000000001000 ] || fail "B: $c $(field $c), want CAP_NET_ADMIN alone (0x1000)"
done
[ "$(field NoNewPrivs)" = 1 ] || fail "B: NoNewPrivs $(field NoNewPrivs)"
[ "$(field Seccomp)" = 2 ] || fail "B: Seccomp $(field Seccomp), want 2 (a filter)"
ok "B: uid $uid, CAP_NET_ADMIN alone, no_new_privs, seccomp filter"

# --- C ----------------------------------------------------------------------
refuse() { in_sd "$PY" -c '
import socket, sys
for port in sys.argv[1:]:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", int(port)))
        sys.exit("connected to %s" % port)
    except ConnectionRefusedError:
        pass' "$@"; }
LOG=/var/log/rstwatch/events.json
rst_events() { in_sd cat "$1" 2>/dev/null | grep -c '"event_type":"rst"'; }
refuse 7001 7002 || fail "C: connections not refused"
wait_true 5 '[ "$(rst_events $LOG)" = 2 ]' || fail "C: $(rst_events $LOG) events in $LOG, want 2"
perm=$(in_sd stat -L -c '%a %u' $LOG)
[ "$perm" = "640 $uid" ] || fail "C: $LOG mode and owner '$perm', want '640 $uid'"
page=$(in_sd "$PY" -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9386/metrics", timeout=3).read().decode())') ||
	fail "C: GET /metrics"
[ "$(metric_sum rstwatch_resets_total "$page")" = 2 ] || fail "C: resets_total $(metric_sum rstwatch_resets_total "$page"), want 2"
in_sd /opt/rstwatch/rstwatch status --control /run/rstwatch/control >"$tmp/status.out" 2>&1 ||
	fail "C: rstwatch status: $(cat "$tmp/status.out")"
grep -q '^mode: observe' "$tmp/status.out" || fail "C: status said: $(cat "$tmp/status.out")"
ok "C: 2 refused connections, 2 events (mode 640), resets_total 2, status answers"

# C2: a reject rule of the namespace's own firewall: its reset is named by
# the rule (the daemon reads the ruleset with libnftables, as the unit's user).
in_sd nft -f - <<'EOF' || fail "C2: loading a reject rule"
table inet smoke_fw {
	chain input {
		type filter hook input priority 0;
		tcp dport 7009 reject with tcp reset comment "smoke"
	}
}
EOF
handle=$(in_sd nft -a list chain inet smoke_fw input | sed -n 's/.*dport 7009 .*# handle \([0-9]*\)$/\1/p')
[ -n "$handle" ] || fail "C2: no handle for the reject rule"
# From a client namespace behind a veth (on loopback a firewall's reset and a
# closed port's look alike): 192.0.2.1 in systemd's namespace, .2 outside.
in_sd ip netns add smoke-cli || fail "C2: ip netns add"
in_sd ip link add smoke0 type veth peer name smoke1 netns smoke-cli &&
	in_sd ip addr add 192.0.2.1/24 dev smoke0 && in_sd ip link set smoke0 up &&
	in_sd ip -n smoke-cli addr add 192.0.2.2/24 dev smoke1 &&
	in_sd ip -n smoke-cli link set smoke1 up && in_sd ip -n smoke-cli link set lo up ||
	fail "C2: the client's veth"
in_sd ip netns exec smoke-cli "$PY" -c '
import socket, sys, time
for _ in range(3):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("192.0.2.1", 7009))
        sys.exit("connected")
    except ConnectionRefusedError:
        sys.exit(0)
    except OSError:
        time.sleep(0.5)    # the link still coming up
sys.exit("no answer")' || fail "C2: connection from the client namespace not refused"
named() { in_sd cat $LOG | "$PY" -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    r = e.get("rst", {}).get("rule") if e.get("src_port") == 7009 else None
    if r and r.get("table") == "smoke_fw" and r.get("handle") == int(sys.argv[1]):
        sys.exit(0)
sys.exit(1)' "$handle"; }
wait_for 5 named || fail "C2: no event naming inet smoke_fw input handle $handle: $(in_sd grep -e 7009 -e engine $LOG)"
ok "C2: the namespace's reject rule named (inet smoke_fw input handle $handle)"

# --- D ----------------------------------------------------------------------
in_sd mv $LOG $LOG.1 || fail "D: mv"
in_sd systemctl reload rstwatch || fail "D: systemctl reload"
refuse 7003 || fail "D: connection not refused"
wait_true 5 '[ "$(rst_events $LOG)" = 1 ]' || fail "D: $(rst_events $LOG) events in the reopened log, want 1"
ok "D: reload reopened the log"

# --- E ----------------------------------------------------------------------
in_sd systemctl stop rstwatch || fail "E: systemctl stop"
[ "$(unit_prop Result)" = success ] && [ "$(unit_prop ExecMainStatus)" = 0 ] ||
	fail "E: stopped with result $(unit_prop Result), status $(unit_prop ExecMainStatus)"
in_sd nft list table inet rstwatch >/dev/null 2>&1 && fail "E: the table outlived the daemon"
ok "E: systemctl stop: exit 0, table removed"
