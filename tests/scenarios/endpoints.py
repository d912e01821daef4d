# SPDX-License-Identifier: GPL-2.0-or-later
"""Endpoints of the reset scenarios (run with Debian's /usr/bin/python3).
Each command plays one side of one scenario and prints the steps it reached, one
word per line, so the driver can wait for them; a step that needs the driver's go
waits for a file. Servers are dual-stack. Every wait has a deadline.

Servers:
  serve-unread PORT          accept one connection, wait for its request, close unread
  serve-closefirst PORT      accept one, answer its request, close first (FIN)
  serve-backlog PORT N       listen(N) and never accept
  serve-crash PORT GO        accept one, answer one request, then once GO exists
                             vanish: close with SO_LINGER {1,0} (the driver drops the RA)
Clients (HOST is the server's address):
  unread HOST PORT           send a request and wait: prints the outcome
  afterclose HOST PORT       request, read the answer to EOF, send more: prints the outcome
  overflow HOST PORT DIR     three connections A B C completed by data on the driver's
                             cue (files DIR/1..3), so C completes when A and B fill the
                             accept queue
  evil HOST PORT             one round, then a request starting "evil"
  giveup HOST PORT GO        one round, then once GO exists a request and at once an abort
  keepalive HOST PORT GO     one round, then once GO exists keepalive 1 s / 1 s / 2 probes
                             and wait for the kernel to give up
  halfopen HOST PORT GO      one round, then once GO exists another request
  synconflict HOST PORT SPORT GO1 GO2
                             one round from SPORT; at GO1 vanish (SO_LINGER {1,0}); at GO2
                             connect again from the same port
  timewait HOST PORT         one round, then close first and linger in TIME-WAIT
  finunacked HOST PORT GO    one round, then once GO exists close (FIN), wait 1 s for an
                             ACK that never comes (FIN retransmitted), then abort
  idle HOST PORT             one round, then silence until the server acts
  serve-idletimer PORT SECS  one round, then abort (SO_LINGER {1,0}) a client silent SECS
Clients of real servers (tests/scenarios/apps.sh):
  bigheader HOST PORT        an HTTP request with a 64 KiB header, sent whole: prints the
                             status line it got (if any), then the outcome
  get HOST PORT              one HTTP GET: the status line (if any), then the outcome
                             (after eof: the reset that follows, if one does)
  stall HOST PORT            GET /big with a 4 KiB receive buffer, then read nothing
                             (its window closes): prints stalled, then the outcome within
                             20 s (the server's send timeout, if it has one)
  redis-idle HOST PORT GO    PING; once GO exists (the server has closed the idle
                             connection) PING again: prints the outcome
  redis-kill HOST PORT       one victim connection (PING), a second one sends CLIENT KILL
                             for it; the victim PINGs again: prints the outcome
Outcomes: reset, timeout, eof, completed, refused.
Every wait has a deadline of 60 s (serve-backlog's listener: 150 s)."""
import errno
import os
import select
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # nothing left behind in tests/live
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "live"))
from peer import one_round  # noqa: E402 (the request/response of peer.py serve)

DEADLINE = time.monotonic() + 60
BACKLOG_EXTRA = 90     # serve-backlog's listener: 150 s
LINGER0 = struct.pack("ii", 1, 0)


def say(word):
    print(word, flush=True)


def wait_file(path):
    while not os.path.exists(path):
        if time.monotonic() > DEADLINE:
            sys.exit("deadline waiting for " + path)
        time.sleep(0.01)


def listener(port, backlog=8):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(backlog)
    s.settimeout(30)
    say("listening")
    return s


def client(host, port, sport=0, rcvbuf=0):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    if rcvbuf:  # before connect: the window it offers in its SYN is scaled for it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if ":" in host else "0.0.0.0", sport))
    s.settimeout(10)
    s.connect((host, port))
    return s


def ready(host, port, go, sport=0):
    """A connection that has done one round, once the driver says go."""
    s = client(host, port, sport)
    one_round(s)
    say("ready")
    wait_file(go)
    return s


def outcome(s):
    """Wait for what the peer does next; the word the driver checks."""
    try:
        return "eof" if not s.recv(4096) else "data"
    except ConnectionResetError:
        return "reset"
    except (TimeoutError, socket.timeout):
        return "timeout"
    except OSError as e:
        return "error-" + str(e.errno)


def error_event(s, secs=10):
    """Outcome of a socket that reads no more (at EOF, or not reading): wait up to
    secs for an error."""
    p = select.poll()
    p.register(s, 0)  # POLLERR and POLLHUP only
    if not p.poll(secs * 1000):
        return "timeout"
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    # A reset in CLOSE_WAIT reports EPIPE (tcp_reset()).
    return "reset" if err in (errno.ECONNRESET, errno.EPIPE) else "error-%d" % err


# --- servers -----------------------------------------------------------------

def srv_unread(port):
    c, _ = listener(port).accept()
    # Only once the request sits in the receive queue does close() find it unread.
    select.select([c], [], [], 10)
    c.close()
    say("closed")


def srv_closefirst(port):
    c, _ = listener(port).accept()
    c.settimeout(10)
    c.recv(4096)
    c.sendall(b"x" * 1000)
    c.close()
    say("closed")


def srv_backlog(port, n):
    s = listener(port, n)
    # Its close resets the connections still queued: it must outlast the
    # scenarios `make demo` plays after it in the same namespaces (80 s).
    time.sleep(max(0, DEADLINE + BACKLOG_EXTRA - time.monotonic()))
    s.close()


def srv_idletimer(port, secs):
    """An application's idle timer (as a proxy's): answers one round, then
    aborts the connection (SO_LINGER {1,0}) once its client was silent secs."""
    c, _ = listener(port).accept()
    c.settimeout(10)
    buf = b""
    while not buf.endswith(b"\n"):
        d = c.recv(100)
        if not d:
            return
        buf += d
    c.sendall(b"x" * 1000)
    if select.select([c], [], [], secs)[0]:
        say("client-spoke")
        return
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    c.close()
    say("idled-out")


def cli_idle(host, port):
    """One round, then silence until the server does something."""
    s = client(host, port)
    one_round(s)
    say(outcome(s))


def srv_crash(port, go):
    c, _ = listener(port).accept()
    c.settimeout(10)
    c.recv(4096)
    c.sendall(b"x" * 1000)
    say("served")
    wait_file(go)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    c.close()
    say("crashed")


# --- clients -----------------------------------------------------------------

def cli_unread(host, port):
    s = client(host, port)
    s.sendall(b"request the server never reads\n")
    say(outcome(s))


def cli_afterclose(host, port):
    s = client(host, port)
    s.sendall(b"more\n")
    while s.recv(4096):
        pass
    say("eof")
    # The server has closed; this data reaches a socket that no longer reads.
    s.sendall(b"late request\n")
    say(error_event(s))


def cli_overflow(host, port, d):
    a = client(host, port)
    b = client(host, port)
    say("ab")
    wait_file(d + "/1")
    a.sendall(b"a\n")      # A's data completes A: the accept queue holds 1
    wait_file(d + "/2")
    c = client(host, port)  # admitted: the queue is not full yet
    say("c")
    wait_file(d + "/3")
    b.sendall(b"b\n")      # B fills the queue (backlog 1 holds 2) ...
    wait_file(d + "/4")
    c.sendall(b"c\n")      # ... and C finds it full
    say(outcome(c))


def cli_keepalive(host, port, go):
    s = ready(host, port, go)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 2)
    say(outcome(s))


def cli_evil(host, port):
    s = client(host, port)
    one_round(s)
    s.sendall(b"evil request\n")
    say(outcome(s))


def cli_giveup(host, port, go):
    s = ready(host, port, go)
    s.sendall(b"more\n")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    s.close()
    say("aborted")


def cli_halfopen(host, port, go):
    s = ready(host, port, go)
    s.sendall(b"more\n")
    say(outcome(s))


def cli_synconflict(host, port, sport, go1, go2):
    s = ready(host, port, go1, sport)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    s.close()
    say("vanished")
    wait_file(go2)
    t = time.monotonic()
    s = client(host, port, sport)
    one_round(s)
    say("reconnected %.3f" % (time.monotonic() - t))


def cli_timewait(host, port):
    s = client(host, port)
    one_round(s)
    s.shutdown(socket.SHUT_WR)
    say(outcome(s))   # eof: the server closed too; this side is in TIME-WAIT
    s.close()


def cli_finunacked(host, port, go):
    s = ready(host, port, go)
    s.shutdown(socket.SHUT_WR)
    time.sleep(1.0)     # RTO 200 ms and more: the FIN goes out again, twice
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    s.close()
    say("aborted")


def status_then_outcome(s):
    """What an HTTP server answered (its status line, if any), then how it ended."""
    try:
        got = s.recv(4096)
    except ConnectionResetError:
        say("reset")
        return
    if got:
        say("status " + got.split(b"\r\n", 1)[0].decode(errors="replace"))
        end = outcome(s)
    else:
        end = "eof"
    say(end)
    if end == "eof":
        # Not closed in turn (its FIN would race the server's reset): the
        # server's reset, if one follows its FIN.
        say(error_event(s))


def cli_bigheader(host, port):
    s = client(host, port)
    req = (b"GET / HTTP/1.1\r\nHost: www.example.test\r\nX-Big: " + b"a" * 65536 +
           b"\r\n\r\n")
    try:
        s.sendall(req)
    except (ConnectionResetError, BrokenPipeError):
        pass    # the server closed before it took it all: its answer may be waiting
    status_then_outcome(s)


def cli_get(host, port):
    s = client(host, port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n")
    status_then_outcome(s)


def cli_stall(host, port):
    s = client(host, port, rcvbuf=4096)
    s.sendall(b"GET /big HTTP/1.1\r\nHost: www.example.test\r\n\r\n")
    say("stalled")
    say(error_event(s, 20))


def redis_ping(s):
    s.sendall(b"PING\r\n")
    return s.recv(64)


def cli_redis_idle(host, port, go):
    s = client(host, port)
    assert redis_ping(s) == b"+PONG\r\n"
    say("ready")
    wait_file(go)
    after_close(s)


def after_close(s):
    """A command to a server that has closed (its FIN read): the answer is its
    kernel's reset."""
    if s.recv(64):
        sys.exit("data instead of the server's FIN")
    try:
        s.sendall(b"PING\r\n")
    except (ConnectionResetError, BrokenPipeError):
        say("reset")
        return
    say(error_event(s))


def cli_redis_kill(host, port):
    victim = client(host, port)
    assert redis_ping(victim) == b"+PONG\r\n"
    killer = client(host, port)
    killer.sendall(b"CLIENT KILL TYPE normal SKIPME yes\r\n")
    say("killed " + killer.recv(64).decode().strip())
    after_close(victim)


cmd, a = sys.argv[1], sys.argv[2:]
{
    "serve-unread": lambda: srv_unread(int(a[0])),
    "serve-closefirst": lambda: srv_closefirst(int(a[0])),
    "serve-backlog": lambda: srv_backlog(int(a[0]), int(a[1])),
    "serve-crash": lambda: srv_crash(int(a[0]), a[1]),
    "serve-idletimer": lambda: srv_idletimer(int(a[0]), float(a[1])),
    "idle": lambda: cli_idle(a[0], int(a[1])),
    "unread": lambda: cli_unread(a[0], int(a[1])),
    "afterclose": lambda: cli_afterclose(a[0], int(a[1])),
    "overflow": lambda: cli_overflow(a[0], int(a[1]), a[2]),
    "keepalive": lambda: cli_keepalive(a[0], int(a[1]), a[2]),
    "evil": lambda: cli_evil(a[0], int(a[1])),
    "giveup": lambda: cli_giveup(a[0], int(a[1]), a[2]),
    "halfopen": lambda: cli_halfopen(a[0], int(a[1]), a[2]),
    "synconflict": lambda: cli_synconflict(a[0], int(a[1]), int(a[2]), a[3], a[4]),
    "timewait": lambda: cli_timewait(a[0], int(a[1])),
    "finunacked": lambda: cli_finunacked(a[0], int(a[1]), a[2]),
    "bigheader": lambda: cli_bigheader(a[0], int(a[1])),
    "get": lambda: cli_get(a[0], int(a[1])),
    "stall": lambda: cli_stall(a[0], int(a[1])),
    "redis-idle": lambda: cli_redis_idle(a[0], int(a[1]), a[2]),
    "redis-kill": lambda: cli_redis_kill(a[0], int(a[1])),
}[cmd]()
