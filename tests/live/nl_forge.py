# SPDX-License-Identifier: GPL-2.0-or-later
"""Forged netfilter netlink messages to a running rstwatch (run with Debian's /usr/bin/python3,
as root in the daemon's network namespace).
  nl_forge.py PID QUEUE GROUP
To every NETLINK_NETFILTER socket of process PID (found by inode in /proc/net/netlink),
from a socket of our own, with nlmsg_pid 0 in the headers as the kernel's have:
  - a queue packet message for QUEUE, packet id 2,000,000,000, a reset 192.0.2.66:4444 >
    192.0.2.77:5555 as payload;
  - an nflog packet message for GROUP, sequence number 1,294,967,296 more than any real
    one so far, the same reset as payload.
Prints "sent N to M sockets"."""
import os
import socket
import struct
import sys

pid, queue, group = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
NETLINK_NETFILTER = 12


def inodes_of(p):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % p):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (p, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            out.add(int(t[8:-1]))
    return out


def portids(p):
    mine = inodes_of(p)
    ids = []
    with open("/proc/net/netlink") as f:
        next(f)
        for line in f:
            col = line.split()
            # sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
            if int(col[1]) == NETLINK_NETFILTER and int(col[9]) in mine:
                ids.append(int(col[2]))
    return ids


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def reset():
    src, dst = socket.inet_aton("192.0.2.66"), socket.inet_aton("192.0.2.77")
    tcp = struct.pack("!HHIIBBHHH", 4444, 5555, 12345, 0, 5 << 4, 0x04, 0, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * (-len(a) % 4)


def message(subsys, res_id, attrs):
    body = struct.pack("=BBH", socket.AF_INET, 0, socket.htons(res_id)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), subsys << 8, 0, 0, 0) + body


pkt = reset()
NFQA_PACKET_HDR, NFQA_PAYLOAD = 1, 10
queued = message(3, queue, [attr(NFQA_PACKET_HDR, struct.pack("!IHB", 2000000000, 0x0800, 0)),
                            attr(NFQA_PAYLOAD, pkt)])
NFULA_PACKET_HDR, NFULA_PAYLOAD, NFULA_SEQ = 1, 9, 10
logged = message(4, group, [attr(NFULA_PACKET_HDR, struct.pack("!HBB", 0x0800, 0, 0)),
                            attr(NFULA_PAYLOAD, pkt),
                            attr(NFULA_SEQ, struct.pack("!I", 1294967296))])
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
ids = portids(pid)
n = 0
for portid in ids:
    for m in (queued, logged):
        try:
            s.sendto(m, (portid, 0))
            n += 1
        except OSError:
            pass
print("sent %d to %d sockets" % (n, len(ids)), flush=True)
