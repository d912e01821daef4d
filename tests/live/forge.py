# SPDX-License-Identifier: GPL-2.0-or-later
"""A box on the path forging a reset (run with Debian's /usr/bin/python3, as root).
  forge.py [--now] IFACE SERVER_PORT TTL SEQ_OFFSET TRIGGER
Watches IFACE for the server's data segments (source port SERVER_PORT) and, once
file TRIGGER exists (and the link has been quiet for 50 ms; with --now, at the
next server segment: mid-stream, while the server goes on talking), sends one reset in the server's name to the client: flags R,
seq = the server's snd.nxt + SEQ_OFFSET, TTL / hop limit TTL, as an Ethernet frame
built from the server's last one, so it enters the gateway like any packet of the
flow. Prints "watching" once it sees the link, "armed" at the first server data
segment, then what it sent. IPv4 and IPv6.
  forge.py --replay IFACE SERVER_PORT TRIGGER
Once TRIGGER exists, sends the server's last data segment again, as it was: the
old duplicate that makes a TIME-WAIT client answer (RFC 1337).
  forge.py --reject-syn IFACE SERVER_PORT TTL COUNT
A box on the path rejecting new connections in the server's name: answers each
SYN to SERVER_PORT it sees with RA seq 0, ack = SYN.seq + 1, TTL / hop limit TTL,
COUNT times, then exits (prints "watching", then one line per reset).
--to-mac MAC (first, before the mode): the forger is not on the link it watches
(it gets a mirror of it) and sends its frames to MAC, from its own interface's
address, instead of reusing the watched frames' Ethernet header."""
import os
import random
import socket
import struct
import sys
import time

to_mac = None
if sys.argv[1] == "--to-mac":
    to_mac = bytes.fromhex(sys.argv[2].replace(":", ""))
    del sys.argv[1:3]
now = sys.argv[1] == "--now"
if now:
    del sys.argv[1]
replay = sys.argv[1] == "--replay"
reject_syn = sys.argv[1] == "--reject-syn"
if replay:
    iface, server_port, trigger = sys.argv[2], int(sys.argv[3]), sys.argv[4]
elif reject_syn:
    iface, server_port, ttl, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
        int(sys.argv[5])
else:
    iface, server_port, ttl, offset, trigger = sys.argv[1], int(sys.argv[2]), \
        int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
s.bind((iface, 0))
s.settimeout(0.05)
print("watching", flush=True)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def with_tcp_csum(v, src, dst, seg):
    """seg (a TCP header and payload) with its checksum computed afresh."""
    seg = seg[:16] + b"\0\0" + seg[18:]
    if v == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    return seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]


def eth_for(frame):
    """The Ethernet header to send a frame like this one with."""
    if to_mac is None:
        return frame[:14]
    with open("/sys/class/net/%s/address" % iface) as f:
        own = bytes.fromhex(f.read().strip().replace(":", ""))
    return to_mac + own + frame[12:14]


def ip_tcp(v, src, dst, ttl, tcp):
    """An IPv4 or IPv6 header for tcp (whose checksum it completes), then tcp."""
    tcp = with_tcp_csum(v, src, dst, tcp)
    if v == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.randrange(1, 65535),
                         0, ttl, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, ttl, src, dst)
    return ip + tcp


def client_syn(frame):
    """(version, src, dst, sport, dport, seq) of a SYN to SERVER_PORT, else None."""
    if len(frame) < 54:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0800 and frame[23] == 6:
        v, src, dst, t = 4, frame[26:30], frame[30:34], 14 + (frame[14] & 0xf) * 4
    elif etype == 0x86DD and frame[20] == 6:
        v, src, dst, t = 6, frame[22:38], frame[38:54], 54
    else:
        return None
    if len(frame) < t + 14:
        return None
    sport, dport, seq = struct.unpack("!HHI", frame[t:t + 8])
    if dport != server_port or frame[t + 13] & 0x12 != 0x02:
        return None
    return v, src, dst, sport, dport, seq


if reject_syn:
    sent, deadline = 0, time.monotonic() + 60
    while sent < count:
        if time.monotonic() > deadline:
            sys.exit("deadline: %d of %d SYNs seen" % (sent, count))
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        syn = client_syn(frame)
        if not syn:
            continue
        v, src, dst, sport, dport, seq = syn
        tcp = struct.pack("!HHIIBBHHH", dport, sport, 0, (seq + 1) & 0xffffffff, 5 << 4,
                          0x14, 0, 0, 0)
        s.send(eth_for(frame) + ip_tcp(v, dst, src, ttl, tcp))
        sent += 1
        print(f"rejected SYN {sport} -> {dport} with RA ttl={ttl}", flush=True)
    sys.exit()


def server_data(frame):
    """(version, src, dst, sport, dport, next seq) of a server data segment, else None."""
    if len(frame) < 54:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0800 and frame[23] == 6:
        ihl = (frame[14] & 0xf) * 4
        payload = struct.unpack("!H", frame[16:18])[0] - ihl
        v, src, dst, t = 4, frame[26:30], frame[30:34], 14 + ihl
    elif etype == 0x86DD and frame[20] == 6:
        payload = struct.unpack("!H", frame[18:20])[0]
        v, src, dst, t = 6, frame[22:38], frame[38:54], 54
    else:
        return None
    sport, dport, seq = struct.unpack("!HHI", frame[t:t + 8])
    plen = payload - (frame[t + 12] >> 4) * 4
    if sport != server_port or plen <= 0:
        return None
    return v, src, dst, sport, dport, (seq + plen) & 0xffffffff


last = None
deadline = time.monotonic() + 60
while True:
    if time.monotonic() > deadline:
        sys.exit("deadline: trigger or server data never came")
    try:
        frame = s.recv(65535)
    except socket.timeout:
        # Send only once the socket is drained: the last segment is then the
        # server's newest, and its end is the client's rcv.nxt.
        if last and os.path.exists(trigger):
            break
        continue
    seg = server_data(frame)
    if seg:
        if not last:
            print("armed", flush=True)
        last, last_frame = seg, frame
        if now and os.path.exists(trigger):
            break

if replay:
    # A frame this host sent carries only a partial TCP checksum (veth offload):
    # complete it, or the client would discard the copy.
    if last[0] == 4:
        t = 14 + (last_frame[14] & 0xf) * 4
        end = 14 + struct.unpack("!H", last_frame[16:18])[0]
    else:
        t, end = 54, 54 + struct.unpack("!H", last_frame[18:20])[0]
    s.send(eth_for(last_frame) + last_frame[14:t] +
           with_tcp_csum(last[0], last[1], last[2], last_frame[t:end]))
    print(f"replayed a data segment ({last[3]} -> {last[4]})", flush=True)
    sys.exit()
v, src, dst, sport, dport, nxt = last
seq = (nxt + offset) & 0xffffffff
tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x04, 0, 0, 0)
s.send(eth_for(last_frame) + ip_tcp(v, src, dst, ttl, tcp))
print(f"forged R seq={seq} ttl={ttl} ({sport} -> {dport})", flush=True)
