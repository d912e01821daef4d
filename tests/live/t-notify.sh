#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd Type=notify without libsystemd: rstwatch run sends READY=1 on
# $NOTIFY_SOCKET once its queue is bound and its table loaded, and STOPPING=1
# when SIGTERM arrives; SIGHUP reopens the log file (logrotate's move + HUP).
source "$(dirname "$0")/lib.sh"
BIN=build/asan/rstwatch
need "$BIN" nft
[ -x "$PY" ] || skip "needs Debian's $PY"
ip netns add "$G" 2>/dev/null || skip "cannot create network namespaces"
ip -n "$G" link set lo up

sock=$tmp/notify.sock
bg notify "$G" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
print("bound", flush=True)
while True:
    msg = s.recv(4096).decode()
    print(msg.replace("\n", " | "), flush=True)
    if "STOPPING=1" in msg:
        break
' "$sock"
wait_for 10 grep -q bound "$tmp/notify.out" || fail "notify listener did not start"

ip netns exec "$G" env NOTIFY_SOCKET="$sock" "$BIN" run --queue 7301 --nflog-group 7301 \
	--log "$tmp/events.log" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
daemon=$!
pids+=("$daemon")
wait_for 15 grep -q 'READY=1' "$tmp/notify.out" || fail "no READY=1"
in_ns "$G" nft list table inet rstwatch >/dev/null || fail "READY=1 before the table was loaded"
ok "READY=1 after the table is loaded"

mv "$tmp/events.log" "$tmp/events.log.1"
kill -HUP "$daemon"
wait_for 10 test -e "$tmp/events.log" || fail "SIGHUP did not reopen the log file"
kill -0 "$daemon" || fail "SIGHUP killed the daemon"
ok "SIGHUP reopened the moved log file"

kill -TERM "$daemon"
wait "$daemon" || fail "exit status $? after SIGTERM"
wait_for 10 grep -q 'STOPPING=1' "$tmp/notify.out" || fail "no STOPPING=1"
grep -qE 'Sanitizer|runtime error' "$tmp/daemon.err" && fail "sanitizer report"
ok "STOPPING=1 and exit 0 on SIGTERM"
echo "1 passed, 0 failed"
