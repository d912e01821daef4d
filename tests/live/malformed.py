# SPDX-License-Identifier: GPL-2.0-or-later
"""Malformed and odd TCP segments for the live tests, sent at layer 2 (AF_PACKET,
scapy) so that no kernel code on the sender fixes or refuses them.
  malformed.py IFACE DST_MAC SRC4 DST4 SRC6 DST6 COUNT
Each case is sent COUNT times; destination ports tell the cases apart:
  ihl4      9001  IPv4 IHL 4 (a 16-byte header), then a TCP RST
  doff3     9003  TCP RST with data offset 3 (a 12-byte TCP header)
  optlen    9004  TCP RST, data offset 6, one option whose length (10) runs past the header
  optzero   9005  TCP RST, data offset 6, an option of length 0 (a parser loop trap)
  rst1400   9006  a TCP RST carrying 1400 bytes of payload
  v6long    9007  IPv6, a 200-byte destination options header, then a TCP RST (the
                  default 128-byte copy ends inside the extension chain)
  v6hbhlate 9008  IPv6, destination options, then hop-by-hop (allowed first only), then TCP RST
  v6trunc   -     IPv6, a destination options header claiming 2048 bytes, packet ends
                  after 16: a truncated chain (flow label 0x12345 marks it)
Prints one line per case: NAME sent."""
import sys

from scapy.all import IP, IPv6, TCP, Ether, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, PadN, Raw, raw, sendp

iface, mac, s4, d4, s6, d6, count = sys.argv[1:8]
count = int(count)
SPORT = 40000


def tcp_rst(dport, **kw):
    return TCP(sport=SPORT, dport=dport, flags="R", seq=12345, window=0, **kw)


def v4_bytes(seg, ihl=None, proto=6):
    ip = IP(src=s4, dst=d4, ttl=64, proto=proto)
    b = bytearray(raw(ip / seg))
    if ihl is not None:
        b[0] = 0x40 | ihl
    return bytes(b)


def tcp_with(dport, doff, opts):
    """A TCP RST header with a forced data offset and raw option bytes."""
    t = bytearray(raw(tcp_rst(dport)))
    t[12] = doff << 4
    return bytes(t[:20]) + opts


cases = []
cases.append(("ihl4", v4_bytes(tcp_rst(9001), ihl=4)))
cases.append(("doff3", v4_bytes(Raw(tcp_with(9003, 3, b"")))))
cases.append(("optlen", v4_bytes(Raw(tcp_with(9004, 6, bytes([8, 10, 0, 0]))))))
cases.append(("optzero", v4_bytes(Raw(tcp_with(9005, 6, bytes([2, 0, 0, 0]))))))
cases.append(("rst1400", raw(IP(src=s4, dst=d4, ttl=64) / tcp_rst(9006) / Raw(b"x" * 1400))))
cases.append(("v6long", raw(IPv6(src=s6, dst=d6, hlim=64) /
                            IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 196)]) / tcp_rst(9007))))
cases.append(("v6hbhlate", raw(IPv6(src=s6, dst=d6, hlim=64) / IPv6ExtHdrDestOpt() /
                               IPv6ExtHdrHopByHop() / tcp_rst(9008))))
# Next header 60, header length 255 (2048 bytes), but only 16 bytes follow.
trunc = bytes([6, 255]) + b"\x01\x0c" + b"\0" * 12
cases.append(("v6trunc", raw(IPv6(src=s6, dst=d6, hlim=64, nh=60, fl=0x12345, plen=len(trunc)) /
                             Raw(trunc))))

for name, pkt in cases:
    v6 = pkt[0] >> 4 == 6
    frame = Ether(dst=mac, type=0x86DD if v6 else 0x0800) / Raw(pkt)
    sendp(frame, iface=iface, count=count, verbose=False)
    print(name, "sent", flush=True)
