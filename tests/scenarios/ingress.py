# SPDX-License-Identifier: GPL-2.0-or-later
"""ingress.py IN.pcap OUT.pcap: the gateway's capture as rstwatch run sees it.
IN is `tcpdump -i any -y LINUX_SLL2`: a forwarded packet is in it twice, as it
came in and as it went out. OUT keeps every packet as it came in (the daemon's
prerouting view) and, of the outgoing ones, only those that never came in: the
packets the gateway made itself (its firewall's resets). Prints how many resets
OUT holds. Debian's /usr/bin/python3, no scapy needed."""
import collections
import struct
import sys

SLL2 = 276
OUTGOING = 4


def l3_key(pkt):
    """Addresses and the TCP segment without its checksum: what forwarding
    leaves alone. None for what is not TCP."""
    if pkt and pkt[0] >> 4 == 4 and len(pkt) >= 20 and pkt[9] == 6:
        t = (pkt[0] & 0xf) * 4
        return pkt[12:20] + pkt[t:t + 16] + pkt[t + 18:]
    if pkt and pkt[0] >> 4 == 6 and len(pkt) >= 40 and pkt[6] == 6:
        return pkt[8:40] + pkt[40:56] + pkt[58:]
    return None


def is_rst(pkt):
    t = (pkt[0] & 0xf) * 4 if pkt[0] >> 4 == 4 else 40
    return len(pkt) > t + 13 and pkt[t + 13] & 0x04


with open(sys.argv[1], "rb") as f:
    head = f.read(24)
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", head)
    if magic != 0xa1b2c3d4 or linktype != SLL2:
        sys.exit("expected a little-endian pcap of LINUX_SLL2 frames")
    came_in = collections.Counter()
    kept = []
    while True:
        rec = f.read(16)
        if len(rec) < 16:
            break
        incl = struct.unpack("<IIII", rec)[2]
        frame = f.read(incl)
        key = l3_key(frame[20:])
        if key is None:
            continue    # the driver's end-of-capture datagram
        if frame[10] != OUTGOING:
            came_in[key] += 1
        elif came_in[key]:
            came_in[key] -= 1
            continue
        kept.append((rec, frame))

with open(sys.argv[2], "wb") as f:
    f.write(head)
    for rec, frame in kept:
        f.write(rec + frame)
print(sum(1 for _, fr in kept if is_rst(fr[20:])))
