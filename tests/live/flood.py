# SPDX-License-Identifier: GPL-2.0-or-later
"""Raw TCP segments, IPv4, as fast as Python sends them (the live tests' flooder).
  flood.py [--sport P] [--ttl T] [--gap-ms G] SRC DST N PORTS [FLAGS]
N segments from SRC to DST, destination ports taken in turn from PORTS
(comma-separated), source port 30000 + i % 30000 (so up to 30000 flows; with
--sport, P for all), a random seq, flags RST by default (FLAGS: a number, e.g.
0x02 for SYN), the kernel's TTL (--ttl: T), as fast as it goes (--gap-ms: G
apart). Bounded by N: it never runs longer than it takes to send N packets."""
import random
import socket
import struct
import sys
import time

opts = {"--sport": None, "--ttl": None, "--gap-ms": None}
args = sys.argv[1:]
while args and args[0] in opts:
    opts[args[0]] = float(args[1]) if args[0] == "--gap-ms" else int(args[1])
    args = args[2:]
sys.argv[1:] = args
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ports = [int(p) for p in sys.argv[4].split(",")]
flags = int(sys.argv[5], 0) if len(sys.argv) > 5 else 0x04


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


sa, da = socket.inet_aton(src), socket.inet_aton(dst)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
if opts["--ttl"] is not None:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, opts["--ttl"])
for i in range(n):
    sport = opts["--sport"] if opts["--sport"] is not None else 30000 + i % 30000
    h = struct.pack("!HHIIBBHHH", sport, ports[i % len(ports)],
                    random.getrandbits(32), 0, 5 << 4, flags, 0, 0, 0)
    c = csum(sa + da + struct.pack("!BBH", 0, 6, len(h)) + h)
    s.sendto(h[:16] + struct.pack("!H", c) + h[18:], (dst, 0))
    if opts["--gap-ms"]:
        time.sleep(opts["--gap-ms"] / 1000)
