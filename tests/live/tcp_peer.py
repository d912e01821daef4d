# SPDX-License-Identifier: GPL-2.0-or-later
# Plain TCP endpoints for the live tests, run with Debian's /usr/bin/python3.
#   server ADDR PORT                  accept one connection, hold it until the peer goes
#   client SRC SPORT DST DPORT FILE   connect, hold, abort with a reset once FILE exists
#   refuse SRC SPORT DST DPORT        connect once, print how it ended (ECONNREFUSED...)
# Every wait has a deadline, so a test that dies never leaves these behind for long.
import errno
import os
import socket
import struct
import sys
import time

HOLD_S = 60


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(addr, port):
    lsock = socket.socket(family(addr))
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(1)
    lsock.settimeout(HOLD_S)
    conn, _ = lsock.accept()
    conn.settimeout(HOLD_S)
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def client(src, sport, dst, dport, abort_file):
    sock = socket.socket(family(src))
    sock.bind((src, sport))
    sock.connect((dst, dport))
    deadline = time.monotonic() + HOLD_S
    while not os.path.exists(abort_file) and time.monotonic() < deadline:
        time.sleep(0.01)
    # SO_LINGER {on, 0}: close() sends a reset instead of a FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def refuse(src, sport, dst, dport):
    sock = socket.socket(family(src))
    sock.bind((src, sport))
    sock.settimeout(5)
    try:
        sock.connect((dst, dport))
        print("CONNECTED")
    except socket.timeout:
        print("TIMEOUT")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))


def main(argv):
    mode = argv[1]
    if mode == "server":
        server(argv[2], int(argv[3]))
    elif mode == "client":
        client(argv[2], int(argv[3]), argv[4], int(argv[5]), argv[6])
    elif mode == "refuse":
        refuse(argv[2], int(argv[3]), argv[4], int(argv[5]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv)
