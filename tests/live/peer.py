# SPDX-License-Identifier: GPL-2.0-or-later
"""TCP endpoints for the live tests (run with Debian's /usr/bin/python3).
  serve PORT...                       dual-stack server: a line "more" gets 1000 bytes back,
                                      a line "stream N [GAP_MS]" N chunks of 100 bytes, GAP_MS
                                      (default 2) apart
  connect HOST PORT [TIMEOUT [send]]  one connect (with send: then a line out and an answer
                                      awaited): prints refused|timeout|connected|reset
  rounds HOST PORT N PAUSE RESUME     N request/response rounds; when file PAUSE exists it
                                      prints "paused K" and waits for file RESUME; ends with
                                      "completed N" or "reset after K"
  stream HOST PORT N HALF [GAP_MS]    asks for a stream of N chunks GAP_MS apart, creates file HALF once
                                      half of it arrived; "completed N" (every byte, after a
                                      line "longest silence MS ms" between two receives) or
                                      "reset after K" (bytes)
  abort HOST PORT SPORT GO [SRC]      connect from SPORT (and address SRC), one round, print
                                      "ready", then on file GO close with SO_LINGER {1,0}: an
                                      abort reset
Every wait has a deadline: nothing here outlives a dead test by more than a minute."""
import os
import select
import socket
import struct
import sys
import time

DEADLINE = time.monotonic() + 60


def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def wait_file(path):
    while not os.path.exists(path):
        if time.monotonic() > DEADLINE:
            sys.exit("deadline waiting for " + path)
        time.sleep(0.02)


def serve(ports):
    socks = []
    for port in ports:
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", int(port)))
        s.listen(64)
        socks.append(s)
    print("listening", flush=True)
    conns = {}
    streams = {}   # socket -> [chunks still to send, gap (s), next send time]
    end = time.monotonic() + 120
    while time.monotonic() < end:
        wait = 1
        if streams:
            wait = max(0, min(v[2] for v in streams.values()) - time.monotonic())
        r, _, _ = select.select(socks + list(conns), [], [], wait)
        now = time.monotonic()
        for s in list(streams):
            # A server that talks on its own: after a forged reset its next
            # chunk follows within the gap, whatever the client does.
            v = streams[s]
            if now < v[2]:
                continue
            try:
                s.send(b"y" * 100)
                v[0] -= 1
            except OSError:
                v[0] = 0
            v[2] = now + v[1]
            if v[0] <= 0:
                del streams[s]
        for s in r:
            if s in socks:
                c, _ = s.accept()
                conns[c] = b""
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                del conns[s]
                streams.pop(s, None)
                s.close()
                continue
            conns[s] += data
            while b"\n" in conns[s]:
                line, conns[s] = conns[s].split(b"\n", 1)
                if line == b"more":
                    s.sendall(b"x" * 1000)
                elif line.startswith(b"stream "):
                    f = line.split()
                    gap_ms = int(f[2]) if len(f) > 2 else 2
                    streams[s] = [int(f[1]), gap_ms / 1000, 0]


def connect(host, port, timeout=3.0, send=False):
    s = socket.socket(fam(host))
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        if send:
            # wait for an answer, so a reset inside the connection shows
            s.sendall(b"hello\n")
            s.recv(16)
        print("connected")
    except ConnectionRefusedError:
        print("refused")
    except ConnectionResetError:
        print("reset")
    except socket.timeout:
        print("timeout")


def one_round(s):
    s.sendall(b"more\n")
    got = 0
    while got < 1000:
        d = s.recv(1000 - got)
        if not d:
            raise ConnectionResetError("closed")
        got += len(d)


def rounds(host, port, n, pause, resume):
    s = socket.create_connection((host, port), timeout=5)
    k = 0
    try:
        while k < n:
            if os.path.exists(pause) and not os.path.exists(resume):
                print("paused", k, flush=True)
                wait_file(resume)
            one_round(s)
            k += 1
            time.sleep(0.01)
        print("completed", k, flush=True)
    except (ConnectionResetError, BrokenPipeError, socket.timeout) as e:
        print("reset after", k, type(e).__name__, flush=True)


def stream(host, port, n, half, gap_ms=2):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"stream %d %d\n" % (n, gap_ms))
    got = 0
    last = silence = None
    try:
        while got < n * 100:
            d = s.recv(65536)
            if not d:
                raise ConnectionResetError("closed")
            now = time.monotonic()
            if last is not None and (silence is None or now - last > silence):
                silence = now - last
            last = now
            got += len(d)
            if got >= n * 50 and not os.path.exists(half):
                open(half, "w").close()
        print("longest silence %d ms" % ((silence or 0) * 1000), flush=True)
        print("completed", n, flush=True)
    except (ConnectionResetError, BrokenPipeError, socket.timeout) as e:
        print("reset after", got, type(e).__name__, flush=True)


def abort(host, port, sport, go, src=None):
    s = socket.socket(fam(host))
    s.bind((src or ("::" if ":" in host else "0.0.0.0"), sport))
    s.settimeout(5)
    s.connect((host, port))
    one_round(s)
    print("ready", flush=True)
    wait_file(go)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("aborted", flush=True)


def main(cmd, args):
    if cmd == "serve":
        serve(args)
    elif cmd == "connect":
        connect(args[0], int(args[1]), float(args[2]) if len(args) > 2 else 3.0,
            len(args) > 3 and args[3] == "send")
    elif cmd == "rounds":
        rounds(args[0], int(args[1]), int(args[2]), args[3], args[4])
    elif cmd == "stream":
        stream(args[0], int(args[1]), int(args[2]), args[3],
               int(args[4]) if len(args) > 4 else 2)
    elif cmd == "abort":
        abort(args[0], int(args[1]), int(args[2]), args[3], args[4] if len(args) > 4 else None)
    else:
        sys.exit("unknown command " + cmd)


# tests/scenarios/endpoints.py imports one_round from here.
if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
