# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile and crowded clients of rstwatch's /metrics (run with Debian's /usr/bin/python3).
  http_abuse.py HOST PORT slowloris N   N connections sending a request one byte every
                                        50 ms, never ending it; each reconnects when the
                                        server closes it; prints "ready" once all are open
  http_abuse.py HOST PORT idle N        N connections that send nothing; each reconnects
                                        100 ms after the server closes it; "ready"
  http_abuse.py HOST PORT burst N       N scrapes at once (all connected first, then all
                                        requests sent); prints "answered K of N in S s"
                                        (K: complete 200 answers with a metrics body)
slowloris and idle run until killed, at most 120 s; burst gives up after 30 s."""
import select
import socket
import sys
import time

host, port, mode, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
END = time.monotonic() + 120
REQ = b"GET /metrics HTTP/1.1\r\nHost: rstwatch\r\nX-Slow: " + b"a" * 4096


def opened():
    """A connection under way (non-blocking: a full backlog does not stop us)."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((host, port))
    return s


def hold(trickle):
    conns = {}          # fd -> [socket, bytes of REQ sent]
    p = select.poll()

    def dial():
        s = opened()
        conns[s.fileno()] = [s, 0]
        p.register(s, select.POLLIN)

    for _ in range(n):
        dial()
    print("ready", flush=True)
    redial = []         # times at which a closed connection comes back
    while time.monotonic() < END:
        now = time.monotonic()
        while redial and redial[0] <= now:
            redial.pop(0)
            try:
                dial()
            except OSError:
                redial.append(now + 0.1)
        for fd, _ in p.poll(50):    # readable: closed (or answered: it should not be)
            s = conns[fd][0]
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                p.unregister(fd)
                del conns[fd]
                s.close()
                redial.append(time.monotonic() + (0 if trickle else 0.1))
        if trickle:
            for c in conns.values():
                try:
                    c[0].send(REQ[c[1] % len(REQ):][:1])
                    c[1] += 1
                except OSError:
                    pass


def burst():
    p = select.poll()
    socks = {}          # fd -> [socket, answer so far, request sent]
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                          socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        socks[s.fileno()] = [s, b"", False]
        p.register(s, select.POLLOUT)
    start = time.monotonic()
    deadline = start + 30
    answered = 0
    while socks and time.monotonic() < deadline:
        for fd, ev in p.poll(500):
            c = socks[fd]
            if not c[2]:
                try:
                    c[0].send(b"GET /metrics HTTP/1.1\r\nHost: rstwatch\r\n\r\n")
                except OSError:
                    pass    # refused or reset: unanswered
                c[2] = True
                p.modify(fd, select.POLLIN)
                continue
            try:
                data = c[0].recv(65536)
            except OSError:
                data = b""
            if data:
                c[1] += data
                continue
            if c[1].startswith(b"HTTP/1.0 200") and b"rstwatch_build_info" in c[1]:
                answered += 1
            p.unregister(fd)
            c[0].close()
            del socks[fd]
    print("answered %d of %d in %.2f s" % (answered, n, time.monotonic() - start), flush=True)


if mode == "burst":
    burst()
else:
    hold(mode == "slowloris")
