# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Resets made by real servers (Debian's nginx, haproxy, redis-server) in the
# server namespace, judged as the other scenarios are (tcp_send_reset reasons;
# README.md here). Sourced by scenarios.sh; run by t-apps.sh (not by `make
# demo`, which needs none of these packages). Each server runs in the
# foreground from a config of its own in $tmp, on the scenario's port, and is
# stopped by the scenario.

APPS=()
# app NAME REASONS CAPTION: register one (as scenario does, in APPS).
app() {
	APPS+=("$1")
	REASONS[$1]=$2 NOKERNEL[$1]="" DAEMON[$1]="" CAPTION[$1]=$3
}
# nginx answers a request whose header is too large for its buffers (400) and
# closes at once (lingering_close off) with the rest of the request unread:
# TCP_ABORT_ON_CLOSE; the client's data still in flight then meets nginx's
# listener (TCP_FLAGS), or no socket at all.
app nginxunread "TCP_ABORT_ON_CLOSE=unread-data TCP_FLAGS=unread-data NO_SOCKET=unread-data" \
	"nginx, lingering_close off: 400 to a 64 KiB header, closed with the rest unread"
# nginx `return 444` with reset_timedout_connection on: the request read
# whole, no answer, SO_LINGER {1,0}: an abort (TCP_STATE).
app nginx444 "TCP_STATE=abort" \
	"nginx return 444, reset_timedout_connection on: the request read, no answer, reset"
# nginx's send_timeout (2 s) with reset_timedout_connection on: a client
# that asked for a 4 MiB file and reads nothing shuts its window; nginx's
# writes stall, and 2 s later it closes with SO_LINGER {1,0} (TCP_STATE): an
# abort on a reader that stopped, not an idle timeout (its zero-window probes
# were answered).
app nginxstalled "TCP_STATE=abort" \
	"nginx send_timeout 2s, reset_timedout_connection on: a download its client stopped reading, reset"
# haproxy's keep-alive timeout (3 s) with `option nolinger`: after one
# request and its answer the client says nothing; haproxy shuts the
# connection down (FIN) and closes it with SO_LINGER {1,0} at once (TCP_STATE):
# a proxy's idle timer.
app haproxyidle "TCP_STATE=idle-timeout" \
	"haproxy timeout http-keep-alive 3s with option nolinger: FIN, then a reset, after 3 s of silence"
# redis `timeout 1` closes an idle client (FIN); the client's next command
# reaches a closed socket: data after close.
app redistimeout "TCP_ABORT_ON_DATA=unread-data TCP_TIMEWAIT_SOCKET=unread-data NO_SOCKET=unread-data" \
	"redis timeout 1: the idle client closed (FIN), its next command meets the closed socket"
# redis CLIENT KILL: the same, by another client's command.
app rediskill "TCP_ABORT_ON_DATA=unread-data TCP_TIMEWAIT_SOCKET=unread-data NO_SOCKET=unread-data" \
	"redis CLIENT KILL: the victim closed (FIN), its next command meets the closed socket"

# app_bg NAME CMD...: a real server in the server namespace, on $p; waits
# until it listens there. Its pid in srv (stop_server stops it).
app_bg() {
	local name=$1
	shift
	bg "$name" "$S" "$@"
	srv=$bg_pid
	wait_for 10 listening_on "$p" || fail "$name did not listen on $p: $(tail -n 3 "$tmp/$name.err")"
}
listening_on() { [ -n "$(in_ns "$S" ss -Hltn "sport = :$1")" ]; }

# nginx_up HTTP_SETTINGS LOCATION_BODY [LISTEN_PARAMETERS]: a foreground nginx
# of our own on port $p. Its directory $tmp/nginx-$p holds www/big, a 4 MiB
# file (a location body `root $tmp/nginx-$p/www;` serves it as /big): a
# download far larger than any socket buffer, for clients that stop reading.
nginx_up() {
	local conf=$tmp/nginx-$p.conf
	mkdir -p "$tmp/nginx-$p/www"
	head -c 4194304 /dev/zero >"$tmp/nginx-$p/www/big"
	cat >"$conf" <<-NGINX
	daemon off;
	master_process off;
	worker_processes 1;
	pid $tmp/nginx-$p/pid;
	error_log $tmp/nginx-$p/error.log;
	events { worker_connections 64; }
	http {
		access_log off;
		client_body_temp_path $tmp/nginx-$p;
		proxy_temp_path $tmp/nginx-$p;
		fastcgi_temp_path $tmp/nginx-$p;
		uwsgi_temp_path $tmp/nginx-$p;
		scgi_temp_path $tmp/nginx-$p;
		$1
		server {
			listen [::]:$p ipv6only=off${3:+ $3};
			location / { $2 }
		}
	}
	NGINX
	app_bg nginx-$p nginx -c "$conf" -p "$tmp/nginx-$p"
}

sc_nginxunread() {
	nginx_up "lingering_close off; client_header_buffer_size 1k; large_client_header_buffers 2 1k;" \
		'return 200 "ok\n";'
	bg bigheader$1 "$C" "$PY" "$EP" bigheader "$SA" "$p"
	expect_out bigheader$1 reset
	grep -q '^status HTTP/1.1 400' "$tmp/bigheader$1.out" ||
		fail "nginx did not answer 400: $(cat "$tmp/bigheader$1.out")"
	wait_for 10 no_conn "$S" "$p" || fail "nginx still holds the connection"
	stop_server
}

sc_nginx444() {
	nginx_up "reset_timedout_connection on;" "return 444;"
	bg get$1 "$C" "$PY" "$EP" get "$SA" "$p"
	expect_out get$1 reset
	wait_for 10 no_conn "$S" "$p" || fail "nginx still holds the connection"
	stop_server
}

sc_nginxstalled() {
	# A send buffer of its own, so that the stall comes after tens of KiB,
	# not after what the default autotuning would take.
	nginx_up "sendfile off; send_timeout 2s; reset_timedout_connection on;" \
		"root $tmp/nginx-$p/www;" "sndbuf=65536"
	bg stall$1 "$C" "$PY" "$EP" stall "$SA" "$p"
	expect_out stall$1 stalled
	expect_out stall$1 reset 20
	wait_for 10 no_conn "$S" "$p" || fail "nginx still holds the connection"
	stop_server
}

sc_haproxyidle() {
	local conf=$tmp/haproxy-$p.cfg
	cat >"$conf" <<-HAPROXY
	defaults
		mode http
		timeout connect 1s
		timeout client 10s
		timeout server 10s
		timeout http-keep-alive 3s
	frontend fe
		bind :::$p v4v6
		option nolinger
		http-request return status 200 content-type text/plain string ok
	HAPROXY
	app_bg haproxy-$p haproxy -db -f "$conf"
	bg get$1 "$C" "$PY" "$EP" get "$SA" "$p"
	expect_out get$1 reset 10
	grep -q '^status HTTP/1.1 200' "$tmp/get$1.out" ||
		fail "haproxy did not answer 200: $(cat "$tmp/get$1.out")"
	wait_for 10 no_conn "$S" "$p" || fail "haproxy still holds the connection"
	wait_for 10 logged_at_least "$p" 1 || fail "rstwatch did not report haproxy's reset"
	stop_server
}

redis_up() {
	mkdir -p "$tmp/redis-$p"
	app_bg redis-$p redis-server --port "$p" --bind "* -::*" --protected-mode no \
		--save "" --appendonly no --dir "$tmp/redis-$p" --daemonize no "$@"
}

sc_redistimeout() {
	redis_up --timeout 1
	rm -f "$tmp/go"
	bg redis-idle$1 "$C" "$PY" "$EP" redis-idle "$SA" "$p" "$tmp/go"
	expect_out redis-idle$1 ready
	# redis closes it within a second of its timeout (clientsCron, 10 Hz)
	wait_for 10 no_established "$p" || fail "redis did not close the idle client"
	touch "$tmp/go"
	expect_out redis-idle$1 reset
	stop_server
}

sc_rediskill() {
	redis_up
	bg redis-kill$1 "$C" "$PY" "$EP" redis-kill "$SA" "$p"
	expect_out redis-kill$1 reset
	stop_server
}

# no_established PORT: the server holds no established connection on PORT.
no_established() { [ -z "$(in_ns "$S" ss -Htn state established sport = :"$1")" ]; }
