#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Record real kernel netlink messages as seeds for fuzz_netlink: run inside a
throwaway network namespace (netlink_seeds.sh makes one). Binds an NFQUEUE
queue and an nflog group with raw netlink sockets (every flag that adds
attributes), sends TCP over IPv4 and IPv6 loopback that nftables queues and
logs, dumps conntrack, and writes each datagram the kernel sends, prefixed by
fuzz_netlink's selector byte (0 queue, 1 log, 3 conntrack), to OUTDIR."""
import os
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
QUEUE, LOG, CT = 3, 4, 1
out = sys.argv[1]
queue_num = log_group = 7399


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * (-len(a) % 4)


def msg(subsys, mtype, family, res_id, attrs, flags=NLM_F_REQUEST | NLM_F_ACK):
    body = struct.pack("=BBH", family, 0, socket.htons(res_id)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (subsys << 8) | mtype, flags, 1, 0) + body


def request(s, m):
    s.send(m)
    reply = s.recv(65536)
    err = struct.unpack_from("=i", reply, 16)[0] if len(reply) >= 20 else 0
    if err:
        raise OSError(-err, os.strerror(-err))


def nl():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.settimeout(1)
    return s


saved = 0


def save(selector, data, what):
    global saved
    saved += 1
    with open(os.path.join(out, f"{what}-{saved:02d}"), "wb") as f:
        f.write(bytes([selector]) + data)


def drain(s, selector, what, n):
    for _ in range(n):
        try:
            save(selector, s.recv(65536), what)
        except socket.timeout:
            return


q = nl()
# NFQNL_MSG_CONFIG: CMD bind, PARAMS copy packet 0xffff, FLAGS all that add attributes.
request(q, msg(QUEUE, 2, socket.AF_UNSPEC, queue_num, [attr(1, struct.pack("=BBH", 1, 0, 0))]))
request(q, msg(QUEUE, 2, socket.AF_UNSPEC, queue_num, [attr(2, struct.pack("!IB", 0xffff, 2))]))
# Each flag that adds attributes, where this kernel has it (CONNTRACK needs
# the conntrack glue, SECCTX an LSM): EOPNOTSUPP otherwise.
for flag in (2, 4, 8, 16):    # CONNTRACK, GSO, UID_GID, SECCTX
    try:
        request(q, msg(QUEUE, 2, socket.AF_UNSPEC, queue_num,
                       [attr(5, struct.pack("!I", flag)), attr(4, struct.pack("!I", flag))]))
    except OSError:
        pass
lg = nl()
request(lg, msg(LOG, 1, socket.AF_UNSPEC, log_group, [attr(1, struct.pack("=B", 1))]))
request(lg, msg(LOG, 1, socket.AF_UNSPEC, log_group,
                [attr(2, struct.pack("!IBB", 0xffff, 2, 0)), attr(6, struct.pack("!H", 1 | 2))]))    # SEQ, SEQ_GLOBAL

listeners = []
for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.bind((host, 9103))
    ls.listen()
    listeners.append(ls)
    # Logged: a SYN to a closed port, and the reset that answers it.
    c = socket.socket(fam, socket.SOCK_STREAM)
    try:
        c.connect((host, 9102))
    except OSError:
        pass
    c.close()
    # Queued: a SYN (its connect waits for a verdict that never comes).
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect((host, 9101))
    except BlockingIOError:
        pass
    # Established, for conntrack's dump.
    e = socket.socket(fam, socket.SOCK_STREAM)
    e.connect((host, 9103))
    e.send(b"x" * 100)
drain(q, 0, "queue", 4)
drain(lg, 1, "log", 8)
ct = nl()
ct.send(msg(CT, 1, socket.AF_UNSPEC, 0, [], NLM_F_REQUEST | NLM_F_DUMP))
drain(ct, 3, "ct", 6)
# Damaged copies of each: cut short at an odd length, and the first
# attribute's length made odd (unaligned), as a broken kernel or a forger
# would send them.
for name in sorted(os.listdir(out)):
    with open(os.path.join(out, name), "rb") as f:
        data = f.read()
    with open(os.path.join(out, name + "-short"), "wb") as f:
        f.write(data[:len(data) - 3])
    first_attr = 1 + 16 + 4            # selector, nlmsghdr, nfgenmsg
    if len(data) >= first_attr + 4:
        alen = struct.unpack_from("=H", data, first_attr)[0]
        bad = bytearray(data)
        struct.pack_into("=H", bad, first_attr, alen - 1 if alen > 4 else alen + 1)
        with open(os.path.join(out, name + "-unaligned"), "wb") as f:
            f.write(bytes(bad))
print(f"{saved} datagrams saved in {out}, with damaged copies")
