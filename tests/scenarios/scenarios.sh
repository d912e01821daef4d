# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The reset scenarios (tests/scenarios/README.md), shared by the suite
# (run-one.sh, one scenario per fresh topology) and `make demo` (tests/demo.sh,
# every scenario in one topology). Source it after tests/live/lib.sh, once the
# topology is up.
#
# A scenario NAME is a function sc_NAME FAMILY (4 or 6) that makes its resets
# happen between the namespaces, checks what the endpoints saw (fail otherwise)
# and leaves nothing behind but its sockets' kernel state. Beside it:
#   REASONS[NAME]   the class each tcp_send_reset reason means in this scenario:
#                   ground truth for resets an endpoint's kernel sent
#   NOKERNEL[NAME]  class/origin[/action] of the resets the scenario makes without
#                   any endpoint kernel (the gateway's reject, a forgery)
#   DAEMON[NAME]    extra `rstwatch run` options the scenario needs
#   CAPTION[NAME]   one line for the operator
# Each scenario owns one server port per family (sc_port), so resets, trace
# records and events are told apart by port alone.
#
# Trace markers: when SC_TRACE names a tracefs instance, a scenario that makes
# an endpoint silent (its packets dropped before they reach the gateway) writes
# "rstw silent-begin ADDR PORT" / "rstw silent-end ADDR PORT" around it, so the
# judge knows which of that endpoint's resets never reached the wire.
#
# Settings: SC_LOG (the daemon's log, to wait for its events), PORTBASE.

SCENARIOS=()
declare -A CAPTION REASONS NOKERNEL DAEMON
# scenario NAME REASONS NOKERNEL DAEMON CAPTION: register one, in playing order.
scenario() {
	SCENARIOS+=("$1")
	REASONS[$1]=$2 NOKERNEL[$1]=$3 DAEMON[$1]=$4 CAPTION[$1]=$5
}
scenario refused "NO_SOCKET=refused" "" "" \
	"connection to a closed port"
scenario abort "TCP_STATE=abort" "" "" \
	"the client aborts after an exchange (SO_LINGER {1,0})"
scenario giveup "TCP_STATE=abort" "" "" \
	"the client gives up on a server that stopped answering: its request unacknowledged, it aborts"
# The client closes while the server has gone mute: its FIN is sent again and
# never acknowledged, and it aborts (SO_LINGER {1,0} in FIN_WAIT1). Not data
# after close, not TIME-WAIT: it gave up.
scenario finunacked "TCP_STATE=abort" "" "" \
	"the client closes, the server is mute: its FIN unacknowledged, it aborts"
scenario unread "TCP_ABORT_ON_CLOSE=unread-data" "" "" \
	"the server closes with the client's request unread"
scenario afterclose "TCP_ABORT_ON_DATA=unread-data TCP_TIMEWAIT_SOCKET=unread-data" "" "" \
	"data arrives after the server closed"
scenario overflow "INVALID_SYN=accept-overflow" "" "" \
	"accept queue overflow (tcp_abort_on_overflow=1)"
scenario keepalive "TCP_KEEPALIVE_TIMEOUT=idle-timeout" "" "" \
	"keepalive timeout: the server stops answering"
# An application's idle timer (a proxy's): the server aborts a connection
# whose client said nothing for 3 s after an exchange; the kernel's reason is
# that of any SO_LINGER {1,0} close. Judged at the default --idle-threshold.
scenario apptimer "TCP_STATE=idle-timeout" "" "" \
	"an application idle timer: the server aborts a connection its client left silent for 3 s"
scenario halfopen "NO_SOCKET=half-open" "" "" \
	"half-open: the server crashed silently, then the client speaks"
scenario synconflict "TCP_INVALID_ACK_SEQUENCE=syn-conflict" "" "" \
	"SYN on a live 4-tuple: the client vanished and reconnects from the same port"
# The server's listener answers the TIME-WAIT ACK (TCP_FLAGS); with no
# listener left it would be NO_SOCKET.
scenario timewait "TCP_FLAGS=time-wait NO_SOCKET=time-wait" "" "" \
	"TIME-WAIT assassination: an old duplicate, the TIME-WAIT ACK, the server's reset"
scenario reject "" "firewall/local-firewall" "" \
	"the gateway's firewall rejects a new connection"
scenario rejectinput "" "firewall/local-firewall" "" \
	"the gateway's input chain rejects a connection to the gateway itself"
# After the gateway's reset or the forgery the client's kernel has forgotten
# the connection: the server's FIN when it closes meets NO_SOCKET. No restart:
# a consequence of the earlier reset, named by it and classed by its cause
# (answers-earlier-reset).
scenario rejectmid "NO_SOCKET=firewall" "firewall/local-firewall" "" \
	"the gateway's firewall rejects a request inside an established connection"
scenario forged "NO_SOCKET=firewall" "firewall/middlebox" "" \
	"a box on the path forges a reset (TTL 40, the server's is 64)"
# Observe mode never holds: the reset passes, and once the server is seen
# talking after it an amending event says injected. The client's kernel,
# which the forgery made forget the connection, answers the server's next
# chunks (NO_SOCKET).
scenario injectobs "NO_SOCKET=injected" "injected/middlebox" "" \
	"the mid-stream forgery in observe mode: passed at once, then amended to injected"
scenario enforce "" "firewall/middlebox/drop" "--mode enforce --suppress firewall" \
	"the paused-stream forgery in enforce mode with --suppress firewall: dropped at once, the connection survives"
# Enforce mode without --suppress: a suspect reset is held while its flow is
# watched. The server goes on sending after the forgery: forged, dropped.
scenario injected "" "injected/middlebox/drop" "--mode enforce" \
	"a box on the path forges a reset mid-stream, the server keeps sending: held, proven forged, dropped"
# ... and with the server silent after it, the held reset goes on at the
# deadline with the class it had.
scenario heldsilent "NO_SOCKET=firewall" "firewall/middlebox" "--mode enforce" \
	"the same forgery with the server silent after it: held, then let through at the deadline"

PORTBASE=${PORTBASE:-9100}
SC_TRACE=${SC_TRACE:-}
SC_LOG=${SC_LOG:-/dev/null}

# sc_port NAME FAMILY: the scenario's server port for that family (the
# scenarios' first, then the real servers' of apps.sh).
sc_port() {
	local i all=("${SCENARIOS[@]}" "${APPS[@]}")
	for i in "${!all[@]}"; do
		[ "${all[$i]}" = "$1" ] && { echo $((PORTBASE + 2 * i + ($2 == 6))); return; }
	done
	return 1
}

# sc_play NAME FAMILY: play one scenario. It finds SA and CA (the server's and
# the client's address) and p (its port) set.
sc_play() {
	if [ "$2" = 6 ]; then SA=$S6 CA=$C6; else SA=$S4 CA=$C4; fi
	p=$(sc_port "$1" "$2")
	"sc_$1" "$2"
}

EP=tests/scenarios/endpoints.py
trace_mark() { [ -z "$SC_TRACE" ] || echo "rstw $*" >"$SC_TRACE/trace_marker"; }

# silence NS ADDR PORT: drop every TCP packet NS sends from ADDR to or from
# PORT, before it leaves (the gateway never sees it); unsilence undoes it.
silence() {
	in_ns "$1" nft -f - <<-NFT || fail "silencing $2 in $1"
	table inet rstw_silent {
		chain out {
			type filter hook output priority filter; policy accept;
			tcp sport $3 drop
			tcp dport $3 drop
		}
	}
	NFT
	trace_mark silent-begin "$2" "$3"
}
unsilence() {
	in_ns "$1" nft delete table inet rstw_silent || fail "unsilencing $1"
	trace_mark silent-end "$2" "$3"
}

# logged PORT: how many resets of PORT the daemon has reported (JSON or text).
logged() { grep -c -E "(\"src_port\":|\"dest_port\":|[]0-9]:)$1[ ,]" "$SC_LOG"; }
logged_at_least() { [ "$(logged "$1")" -ge "$2" ]; }

# watches_settled: every suspect reset the daemon watched is decided.
watches_settled() {
	local m
	m=$(metrics) || return 1
	[ "$(metric_sum 'rstwatch_holds_total{outcome="taken"}' "$m")" = \
	  $(($(metric_sum 'rstwatch_holds_total{outcome="alive"}' "$m") +
	     $(metric_sum 'rstwatch_holds_total{outcome="deadline"}' "$m"))) ]
}

# no_conn NS PORT: NS holds no connection on PORT (listeners aside): whatever
# closing it made the kernel send has been sent.
no_conn() { [ -z "$(in_ns "$1" ss -Htan state all sport = :"$2" | grep -v LISTEN)" ]; }

# server NAME ARGS...: start a server in the server namespace, wait until it listens.
server() {
	local name=$1
	shift
	bg "$name" "$S" "$@"
	srv=$bg_pid
	wait_for 10 grep -s -q listening "$tmp/$name.out" || fail "$name did not listen"
}
stop_server() { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; }

# expect_out NAME WORD: wait for WORD on a line of NAME's output.
expect_out() {
	wait_for "${3:-10}" grep -s -q -x -- "$2" "$tmp/$1.out" ||
		fail "$1 did not reach '$2': $(tr '\n' ' ' <"$tmp/$1.out") $(tail -n 3 "$tmp/$1.err")"
}

sc_refused() {
	local r
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect "$SA" "$p" 3)
	[ "$r" = refused ] || fail "connect to a closed port on $SA: $r"
}

sc_abort() {
	server srv-abort$1 "$PY" tests/live/peer.py serve "$p"
	rm -f "$tmp/go"
	bg abort$1 "$C" "$PY" tests/live/peer.py abort "$SA" "$p" $((p + 10000)) "$tmp/go"
	expect_out abort$1 ready
	touch "$tmp/go"
	expect_out abort$1 aborted
	# Stopping the server before the client's reset has reached it closes
	# the server's side, whose FIN then draws a second, unscripted reset
	# from the client's stack (NO_SOCKET): seen once in make check.
	wait_for 10 no_conn "$S" "$p" || fail "the server still holds the connection"
	stop_server
}

# abort_mute_server FAMILY CLIENT: the client (an endpoints.py command) does
# one round, then the server goes silent (its packets dropped in its
# namespace) and the client acts and aborts; once rstwatch has reported it,
# the server may speak again.
abort_mute_server() {
	rm -f "$tmp/go"
	server srv-$2$1 "$PY" tests/live/peer.py serve "$p"
	bg $2$1 "$C" "$PY" "$EP" "$2" "$SA" "$p" "$tmp/go"
	expect_out $2$1 ready
	silence "$S" "$SA" "$p"
	touch "$tmp/go"
	expect_out $2$1 aborted
	wait_for 10 logged_at_least "$p" 1 || fail "rstwatch did not report the abort"
	unsilence "$S" "$SA" "$p"
	stop_server
}

# The client sends a request and aborts at once, its data unacknowledged:
# conntrack then runs the flow on its 300 s timer for unacknowledged data.
sc_giveup() { abort_mute_server "$1" giveup; }

# The client closes: its FIN is sent again, never acknowledged; it aborts.
sc_finunacked() { abort_mute_server "$1" finunacked; }

sc_unread() {
	server srv-unread$1 "$PY" "$EP" serve-unread "$p"
	bg unread$1 "$C" "$PY" "$EP" unread "$SA" "$p"
	expect_out unread$1 reset
	expect_out srv-unread$1 closed
}

sc_afterclose() {
	server srv-afterclose$1 "$PY" "$EP" serve-closefirst "$p"
	bg afterclose$1 "$C" "$PY" "$EP" afterclose "$SA" "$p"
	expect_out afterclose$1 eof
	expect_out afterclose$1 reset
}

# Listener backlog 1 (it holds two connections) that never accepts; the
# clients' handshake-completing ACKs are dropped, so each connection completes
# only when its first data arrives, on cue: A, then C's SYN is admitted, then
# B fills the queue and C overflows it. (No netem in this kernel to delay them.)
sc_overflow() {
	local d=$tmp/overflow$1
	in_ns "$S" sysctl -qw net.ipv4.tcp_abort_on_overflow=1 || fail "tcp_abort_on_overflow"
	in_ns "$C" nft -f - <<-NFT || fail "holding the handshake ACKs"
	table inet rstw_hold {
		chain out {
			type filter hook output priority filter; policy accept;
			tcp dport $p tcp flags == ack drop
		}
	}
	NFT
	server srv-overflow$1 "$PY" "$EP" serve-backlog "$p" 1
	mkdir -p "$d"
	bg overflow$1 "$C" "$PY" "$EP" overflow "$SA" "$p" "$d"
	expect_out overflow$1 ab
	accept_queue() { [ "$(in_ns "$S" ss -Hltn "sport = :$p" | awk '{ print $2 }')" = "$1" ]; }
	touch "$d/1"
	wait_for 10 accept_queue 1 || fail "A did not reach the accept queue"
	touch "$d/2"
	expect_out overflow$1 c
	touch "$d/3"
	wait_for 10 accept_queue 2 || fail "B did not reach the accept queue"
	touch "$d/4"
	expect_out overflow$1 reset
	in_ns "$C" nft delete table inet rstw_hold
	# The listener stays: closing it would reset A and B, still in its queue.
}

# The server's answers to the keepalive probes are dropped in its namespace:
# the client hears nothing for 1 s, probes twice, 1 s apart, and gives up.
sc_keepalive() {
	server srv-keepalive$1 "$PY" tests/live/peer.py serve "$p"
	rm -f "$tmp/go"
	bg keepalive$1 "$C" "$PY" "$EP" keepalive "$SA" "$p" "$tmp/go"
	expect_out keepalive$1 ready
	silence "$S" "$SA" "$p"
	touch "$tmp/go"
	expect_out keepalive$1 timeout 15
	unsilence "$S" "$SA" "$p"
	stop_server
}

sc_apptimer() {
	server srv-apptimer$1 "$PY" "$EP" serve-idletimer "$p" 3
	bg apptimer$1 "$C" "$PY" "$EP" idle "$SA" "$p"
	expect_out srv-apptimer$1 idled-out 15
	expect_out apptimer$1 reset
	stop_server
}

# The server vanishes without a word (its own reset dropped), then the
# client's next request reaches a host with no socket for it.
sc_halfopen() {
	rm -f "$tmp/crash" "$tmp/go"
	server srv-halfopen$1 "$PY" "$EP" serve-crash "$p" "$tmp/crash"
	bg halfopen$1 "$C" "$PY" "$EP" halfopen "$SA" "$p" "$tmp/go"
	expect_out halfopen$1 ready
	expect_out srv-halfopen$1 served
	silence "$S" "$SA" "$p"
	touch "$tmp/crash"
	expect_out srv-halfopen$1 crashed
	unsilence "$S" "$SA" "$p"
	touch "$tmp/go"
	expect_out halfopen$1 reset
}

# The client vanishes without a word (its own reset dropped) and connects
# again from the same port: its SYN meets the server's old connection.
sc_synconflict() {
	rm -f "$tmp/go1" "$tmp/go2"
	server srv-synconflict$1 "$PY" tests/live/peer.py serve "$p"
	bg synconflict$1 "$C" "$PY" "$EP" synconflict "$SA" "$p" $((p + 10000)) "$tmp/go1" "$tmp/go2"
	expect_out synconflict$1 ready
	silence "$C" "$CA" "$p"
	touch "$tmp/go1"
	expect_out synconflict$1 vanished
	unsilence "$C" "$CA" "$p"
	touch "$tmp/go2"
	wait_for 10 grep -q reconnected "$tmp/synconflict$1.out" ||
		fail "the client did not reconnect: $(cat "$tmp/synconflict$1.out" "$tmp/synconflict$1.err")"
	stop_server
}

# Client closes first and sits in TIME-WAIT; the server's socket is gone.
# An old duplicate of the server's data reaches the client, which ACKs it;
# the server's kernel answers that ACK with a reset, which kills the
# TIME-WAIT socket (RFC 1337; Linux's tcp_rfc1337 is 0).
sc_timewait() {
	rm -f "$tmp/dup"
	server srv-timewait$1 "$PY" tests/live/peer.py serve "$p"
	bg dup$1 "$S" "$PY" tests/live/forge.py --replay sg0 "$p" "$tmp/dup"
	local dup=$bg_pid
	expect_out dup$1 watching
	bg timewait$1 "$C" "$PY" "$EP" timewait "$SA" "$p"
	expect_out timewait$1 eof
	expect_out dup$1 armed
	tw() { [ -n "$(in_ns "$C" ss -Htan state time-wait dport = :"$p")" ]; }
	wait_for 10 tw || fail "the client is not in TIME-WAIT"
	wait_for 10 no_conn "$S" "$p" || fail "the server still holds the connection"
	touch "$tmp/dup"
	wait "$dup" || fail "replaying the duplicate failed: $(cat "$tmp/dup$1.err")"
	wait_for 10 eval '! tw' || fail "the TIME-WAIT socket survived the reset"
	stop_server
}

# gateway_reject MATCH...: the gateway's firewall rejects what matches, with
# a reset; gateway_unreject removes the rule.
gateway_reject() {
	in_ns "$G" nft -f - <<-NFT || fail "gateway firewall"
	table inet rstw_fw {
		chain forward {
			type filter hook forward priority filter; policy accept;
			$* reject with tcp reset
		}
	}
	NFT
}
gateway_unreject() { in_ns "$G" nft delete table inet rstw_fw || fail "removing the reject rule"; }

# A connection to the gateway's own address (as to its ssh), refused by its
# input chain.
sc_rejectinput() {
	local r ga=$G4C
	[ "$1" = 6 ] && ga=$G6C
	in_ns "$G" nft -f - <<-NFT || fail "gateway input firewall"
	table inet rstw_fw {
		chain input {
			type filter hook input priority filter; policy accept;
			tcp dport $p reject with tcp reset
		}
	}
	NFT
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect "$ga" "$p" 3)
	gateway_unreject
	[ "$r" = refused ] || fail "the gateway's input reject gave '$r', not refused"
}

sc_reject() {
	local r
	gateway_reject tcp dport "$p"
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect "$SA" "$p" 3)
	gateway_unreject
	[ "$r" = refused ] || fail "the gateway's reject gave '$r', not refused"
}

# An IPS-like rule: a request starting with "evil" is answered with a reset
# in the server's name. The server still holds the connection: its FIN, when
# it closes, meets a client kernel that forgot it (half-open).
sc_rejectmid() {
	server srv-rejectmid$1 "$PY" tests/live/peer.py serve "$p"
	gateway_reject tcp dport "$p" @ih,0,32 0x6576696c
	bg rejectmid$1 "$C" "$PY" "$EP" evil "$SA" "$p"
	expect_out rejectmid$1 reset
	gateway_unreject
	stop_server
	wait_for 10 no_conn "$S" "$p" || fail "the server's connection did not close"
}

# forge_reset FAMILY SCENARIO: a request/response stream; once it pauses, a
# box on the server's link forges the server's reset with TTL 40 and the exact
# seq; once rstwatch has judged it, the stream goes on. Result in forged_result.
forge_reset() {
	local n=$2$1
	rm -f "$tmp/pause" "$tmp/resume" "$tmp/trigger"
	server srv-$n "$PY" tests/live/peer.py serve "$p"
	bg forge-$n "$S" "$PY" tests/live/forge.py sg0 "$p" 40 0 "$tmp/trigger"
	local forger=$bg_pid
	bg $n "$C" "$PY" tests/live/peer.py rounds "$SA" "$p" 40 "$tmp/pause" "$tmp/resume"
	local client=$bg_pid before
	expect_out forge-$n armed
	touch "$tmp/pause"
	wait_for 10 grep -q paused "$tmp/$n.out" || fail "the stream did not pause"
	before=$(logged "$p")
	touch "$tmp/trigger"
	wait "$forger" || fail "forger failed: $(cat "$tmp/forge-$n.err")"
	# The verdict follows the event within one batch: wait for both.
	wait_for 10 logged_at_least "$p" $((before + 1)) || fail "rstwatch did not report the forged reset"
	wait_for 10 none_waiting || fail "the forged reset is still queued"
	touch "$tmp/resume"
	wait "$client"
	forged_result=$(tail -n 1 "$tmp/$n.out")
	# The server stays silent until the daemon's watch of the reset ended:
	# its FIN inside the watch would prove the reset forged (injected).
	wait_for 10 watches_settled || fail "the forged reset is still watched"
	# After a forged reset the server still holds the connection: closing it
	# sends a FIN that the client's kernel, which forgot it, answers (half-open).
	stop_server
	wait_for 10 no_conn "$S" "$p" || fail "the server's connection did not close"
}

sc_forged() {
	forge_reset "$1" forged
	case $forged_result in "reset after"*) ;;
	*) fail "observe mode: the forged reset did not reach the client: $forged_result" ;; esac
}

sc_enforce() {
	forge_reset "$1" enforce
	[ "$forged_result" = "completed 40" ] ||
		fail "enforce mode: the client did not survive the forged reset: $forged_result"
}

sc_heldsilent() {
	forge_reset "$1" heldsilent
	case $forged_result in "reset after"*) ;;
	*) fail "enforce mode, server silent: the held reset never reached the client: $forged_result" ;;
	esac
}

# stream_forge FAMILY SCENARIO: the server streams 300 chunks of 100 bytes,
# 2 ms apart; once half arrived, a box on the server's link forges the
# server's reset (TTL 40) at the server's next segment, while the stream goes
# on. Result in forged_result.
# stream_forge FAMILY NAME [GAP_MS]: the server streams 300 chunks GAP_MS
# (default 2) apart; halfway, forge.py forges its reset at its next chunk.
stream_forge() {
	local n=$2$1 gap=${3:-2}
	rm -f "$tmp/half"
	server srv-$n "$PY" tests/live/peer.py serve "$p"
	bg forge-$n "$S" "$PY" tests/live/forge.py --now sg0 "$p" 40 0 "$tmp/half"
	local forger=$bg_pid
	expect_out forge-$n watching
	bg $n "$C" "$PY" tests/live/peer.py stream "$SA" "$p" 300 "$tmp/half" "$gap"
	local client=$bg_pid
	wait "$forger" || fail "forger failed: $(cat "$tmp/forge-$n.err")"
	wait "$client"
	forged_result=$(tail -n 1 "$tmp/$n.out")
	wait_for 10 logged_at_least "$p" 1 || fail "rstwatch did not report the forged reset"
	wait_for 10 none_waiting || fail "the forged reset is still queued"
	stop_server
	wait_for 10 no_conn "$S" "$p" || fail "the server's connection did not close"
}

sc_injected() {
	stream_forge "$1" injected
	[ "$forged_result" = "completed 300" ] ||
		fail "enforce mode: the client did not get every byte past the forged reset: $forged_result"
}

# Observe mode: the forged reset waits in the queue for its verdict (accept)
# while the server's chunks are only copied: at 2 ms apart, on a busy host
# the next chunk overtook the reset, which then reached a client already past
# its seq and was dropped. 20 ms apart the reset arrives first.
sc_injectobs() {
	stream_forge "$1" injectobs 20
	case $forged_result in "reset after"*) ;;
	*) fail "observe mode: the forged reset did not reach the client: $forged_result" ;; esac
	# The amendment follows once the server's next chunk was seen.
	wait_for 10 grep -q -E ":$p[ ,].*(\"amends\"|AMENDS)" "$SC_LOG" || fail "no amending event: $(grep "$p" "$SC_LOG" | cut -c1-600)"
}

source tests/scenarios/apps.sh
