#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Traffic for t-rulenames.sh: real TCP connections through the gateway.

  rule_traffic.py serve PORTS          accept on [::] (IPv4 too) and read
  rule_traffic.py hold ADDR PORTS      connect to each port, say "held", wait
                                       for a line on stdin, then send on each
                                       (the gateway's rules now reject them:
                                       established flows), print what happened
  rule_traffic.py new ADDR PORTS       one new connection to each port, print
                                       "PORT refused" or "PORT connected"
PORTS: comma-separated. Bounded: every socket has a 3 s timeout."""
import select
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(ports):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", p))
        s.listen(64)
        socks.append(s)
    print("serving", flush=True)
    conns = []
    while True:
        r, _, _ = select.select(socks + conns, [], [], 1.0)
        for s in r:
            if s in socks:
                c, _ = s.accept()
                conns.append(c)
            else:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    conns.remove(s)
                    s.close()
                else:
                    try:
                        s.send(b"ok\n")
                    except OSError:
                        pass


def connect(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect((addr, port))
    return s


def hold(addr, ports):
    conns = [(p, connect(addr, p)) for p in ports]
    print("held", flush=True)
    sys.stdin.readline()
    for p, s in conns:
        try:
            s.send(b"after the rules came\n")
            s.recv(10)
            print(p, "answered", flush=True)
        except ConnectionResetError:
            print(p, "reset", flush=True)
        except OSError as e:
            print(p, "error", e, flush=True)
    print("done", flush=True)


def new(addr, ports):
    for p in ports:
        try:
            s = connect(addr, p)
            s.send(b"hello\n")
            s.recv(10)
            print(p, "connected", flush=True)
        except ConnectionRefusedError:
            print(p, "refused", flush=True)
        except ConnectionResetError:
            print(p, "reset", flush=True)
        except OSError as e:
            print(p, "error", e, flush=True)


def main():
    mode = sys.argv[1]
    if mode == "serve":
        serve([int(p) for p in sys.argv[2].split(",")])
    elif mode == "hold":
        hold(sys.argv[2], [int(p) for p in sys.argv[3].split(",")])
    else:
        new(sys.argv[2], [int(p) for p in sys.argv[3].split(",")])


if __name__ == "__main__":
    main()
