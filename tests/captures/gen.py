#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Deterministic generator of the rstwatch test captures: one scenario per reset class.

Run with Debian's python (it has python3-scapy):   /usr/bin/python3 tests/captures/gen.py
Writes pcap/*.pcap(ng), MANIFEST.tsv and BADINPUT.tsv next to this file (or under --out DIR).
Everything is fixed (timestamps, ISNs, IP IDs, TS offsets, flow labels, payloads): two runs
give byte-identical files.

Capture point: the gateway's client-side interface.  Client packets are seen before the
gateway forwards them (TTL / hop limit 64); server packets after the gateway routed them
(63).  Endpoints are modelled on Linux 6.x:
  * SYN / SYN-ACK options: MSS, SACK-permitted, timestamps, NOP, window scale 7;
    later segments carry NOP NOP TS; TSval = per-host-pair offset + milliseconds.
  * IPv4: DF on everything an endpoint sends.  A connected socket numbers its packets from
    a random 16-bit base, +1 per packet (SYN included).  The SYN-ACK (sent for a request
    socket) and every reply built by the per-CPU control socket (stateless resets,
    TIME-WAIT ACKs) have IP ID 0.
  * stateless reset (tcp_v4/v6_send_reset): window 0, no options; if the trigger had ACK:
    flags R, seq = trigger.ack; else flags RA, seq 0, ack = trigger.seq + len (+1 SYN/FIN).
  * a socket's own reset (tcp_send_active_reset: abort, keepalive timeout, close with
    unread data): RA, seq = snd.nxt, ack = rcv.nxt, timestamps, the socket's IP ID counter,
    its usual window.
See README.md for the scenario list.
"""

import argparse
import hashlib
import ipaddress
import heapq
import os
import socket
import struct
import types
import sys
import zlib

try:
    from scapy.layers.inet import IP, TCP, UDP, ICMP
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr
    from scapy.layers.l2 import ARP
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    from scapy.packet import Raw
except ImportError:
    sys.exit("gen.py needs scapy: run it with /usr/bin/python3 (Debian package python3-scapy)")

T0 = 1767225600            # 2026-01-01T00:00:00Z; every capture starts here
M32 = 0xFFFFFFFF
MS = 1000                  # times below are integers in microseconds from T0
SEC = 1000000
RTT = 300                  # capture point -> server -> capture point
CLIENT_TURN = 40           # capture point -> client -> capture point
APP = 200                  # server application think time

ADDR = {4: ("198.51.100.10", "203.0.113.20"), 6: ("2001:db8:1::10", "2001:db8:2::20")}
MAC_CLIENT = bytes.fromhex("02000000000a")
MAC_GW = bytes.fromhex("020000000001")
MAC_SERVER = bytes.fromhex("020000000014")   # the server's router port, for -i any captures
TTL_C, TTL_S = 64, 63
# Linux initial windows: SYN / SYN-ACK, then the scaled values (wscale 7) of later segments
SYNWIN = {4: (64240, 65160), 6: (64800, 64800)}
WIN = {4: (502, 509), 6: (507, 507)}
MSS = {4: 1460, 6: 1440}
TSOPT = 12                 # NOP NOP TS on every established segment


def rnd(tag, bits=32):
    """A fixed 'random-looking' number derived from a name."""
    return int.from_bytes(hashlib.sha256(tag.encode()).digest()[:8], "big") & ((1 << bits) - 1)


def blob(tag, n):
    """n deterministic pseudo-random bytes (TLS records, binary protocol payloads)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s/%d" % (tag, i)).encode()).digest()
        i += 1
    return out[:n]


def after(a, b):
    return ((a - b) & M32) != 0 and ((a - b) & M32) < 0x80000000


# ---------------------------------------------------------------------------------------
# captures and their expected resets

class Capture:
    def __init__(self, name):
        self.name = name        # file name under pcap/
        self.recs = []          # dicts: t, l3 (or l2 payload), etype, dir ('c'/'s'), caplen
        self.rows = []          # MANIFEST rows

    def add(self, t, l3, d, etype=None, caplen=None):
        if self.recs:
            assert t >= self.recs[-1]["t"], (self.name, t)
        if etype is None:
            etype = 0x0800 if (l3[0] >> 4) == 4 else 0x86DD
        self.recs.append(dict(t=t, l3=l3, etype=etype, dir=d, caplen=caplen))
        return len(self.recs)

    def expect(self, frame, cls, sender, origin, desc):
        self.rows.append((self.name, frame, cls, sender, origin, desc))


class End:
    """One endpoint's TCP state, as much as the generator needs."""

    def __init__(self, fam, addr, port, ttl, isn, ipid, ts_off, label, win, synwin):
        self.fam, self.addr, self.port, self.ttl = fam, addr, port, ttl
        self.isn = isn & M32
        self.snd_nxt = self.isn
        self.rcv_nxt = 0
        self.ts_recent = 0
        self.ipid = ipid & 0xFFFF
        self.ts_off = ts_off & M32
        self.label = label & 0xFFFFF
        self.win, self.synwin = win, synwin
        self.alive = True

    def next_ipid(self):
        v = self.ipid
        self.ipid = (self.ipid + 1) & 0xFFFF
        return v


def ip_hdr(fam, src, dst, ttl, ipid=0, df=True, label=0):
    if fam == 4:
        return IP(src=src, dst=dst, ttl=ttl, id=ipid, flags="DF" if df else 0, tos=0)
    return IPv6(src=src, dst=dst, hlim=ttl, fl=label, tc=0)


class Conn:
    """A TCP connection between the client and the server of one capture."""

    def __init__(self, cap, fam, cport, sport, tag, c_isn=None, s_isn=None, c_ts=None,
                 s_ts=None):
        self.cap, self.fam = cap, fam
        ca, sa = ADDR[fam]
        # TS offsets are per address pair (secure_tcp_ts_off): one per host per capture
        self.c = End(fam, ca, cport, TTL_C, rnd(tag + "/cisn") if c_isn is None else c_isn,
                     rnd(tag + "/cid", 16), rnd(cap.name + "/cts") if c_ts is None else c_ts,
                     rnd(tag + "/cfl", 20), WIN[fam][0], SYNWIN[fam][0])
        self.s = End(fam, sa, sport, TTL_S, rnd(tag + "/sisn") if s_isn is None else s_isn,
                     rnd(tag + "/sid", 16), rnd(cap.name + "/sts") if s_ts is None else s_ts,
                     rnd(tag + "/sfl", 20), WIN[fam][1], SYNWIN[fam][1])
        self.tag = tag

    def end(self, side):
        return self.c if side == "c" else self.s

    def peer(self, side):
        return self.s if side == "c" else self.c

    def tsval(self, e, t):
        return (e.ts_off + t // MS) & M32

    def stateless_label(self, side):
        # control-socket replies get an auto flow label hashed from the flow keys
        return zlib.crc32(("%s/%s/rst" % (self.tag, side)).encode()) & 0xFFFFF

    def seg(self, t, side, flags, payload=b"", seq=None, ack=None, opts="ts", win=None,
            ipid=None, ttl=None, df=True, label=None, deliver=True, tsecr=None):
        e, p = self.end(side), self.peer(side)
        if seq is None:
            seq = e.snd_nxt
        if ack is None:
            ack = e.rcv_nxt if "A" in flags else 0
        tsv = self.tsval(e, t)
        if opts == "ts":
            options = [("NOP", None), ("NOP", None),
                       ("Timestamp", (tsv, e.ts_recent if tsecr is None else tsecr))]
        elif opts == "syn":
            ecr = e.ts_recent if "A" in flags else 0
            options = [("MSS", MSS[self.fam]), ("SAckOK", b""), ("Timestamp", (tsv, ecr)),
                       ("NOP", None), ("WScale", 7)]
        else:
            options = []
        if win is None:
            win = e.synwin if "S" in flags else e.win
        if ipid is None:
            ipid = e.next_ipid() if self.fam == 4 else 0
        if label is None:
            label = e.label
        hdr = ip_hdr(self.fam, e.addr, p.addr, e.ttl if ttl is None else ttl, ipid, df, label)
        tcp = TCP(sport=e.port, dport=p.port, seq=seq & M32, ack=ack & M32, flags=flags,
                  window=win, options=options)
        pkt = hdr / tcp / Raw(payload) if payload else hdr / tcp
        frame = self.cap.add(t, bytes(pkt), side)
        seglen = len(payload) + ("S" in flags) + ("F" in flags)
        end_seq = (seq + seglen) & M32
        if "R" not in flags and after(end_seq, e.snd_nxt):
            e.snd_nxt = end_seq
        if deliver and p.alive and "R" not in flags:
            if "S" in flags or seq == p.rcv_nxt:
                p.rcv_nxt = end_seq
            if opts in ("ts", "syn"):
                p.ts_recent = tsv
        return dict(frame=frame, seq=seq & M32, ack=ack & M32, flags=flags, len=len(payload),
                    end=end_seq, t=t)

    # the usual segments
    def syn(self, t, **kw):
        return self.seg(t, "c", "S", opts="syn", seq=self.c.isn, **kw)

    def synack(self, t, **kw):
        return self.seg(t, "s", "SA", opts="syn", ipid=0, seq=self.s.isn, **kw)

    def ack(self, t, side, **kw):
        return self.seg(t, side, "A", **kw)

    def data(self, t, side, payload, flags="PA", **kw):
        return self.seg(t, side, flags, payload=payload, **kw)

    def fin(self, t, side, **kw):
        return self.seg(t, side, "FA", **kw)

    def active_rst(self, t, side, **kw):
        """The socket's own reset: RA, seq = snd.nxt, ack = rcv.nxt, timestamps."""
        return self.seg(t, side, "RA", **kw)

    def stateless_rst(self, t, side, trig, **kw):
        """What tcp_v4/v6_send_reset builds for trigger segment trig."""
        if "A" in trig["flags"]:
            flags, seq, ack = "R", trig["ack"], 0
        else:
            flags = "RA"
            seq = 0
            ack = (trig["seq"] + trig["len"] + ("S" in trig["flags"]) + ("F" in trig["flags"])) & M32
        return self.seg(t, side, flags, seq=seq, ack=ack, opts=None, win=0, ipid=0,
                        label=self.stateless_label(side), deliver=False, **kw)

    def handshake(self, t):
        """SYN, SYN-ACK, ACK; returns the time of the ACK."""
        self.syn(t)
        self.synack(t + RTT)
        self.ack(t + RTT + CLIENT_TURN, "c")
        return t + RTT + CLIENT_TURN

    def send_stream(self, t, side, data, gap=12):
        """Split data into full-sized segments (MSS - timestamps), gap us apart."""
        mss = MSS[self.fam] - TSOPT
        segs = []
        for i in range(0, len(data), mss):
            chunk = data[i:i + mss]
            last = i + mss >= len(data)
            segs.append(self.data(t, side, chunk, flags="PA" if last else "A"))
            t += gap
        return segs, t - gap

    def request_response(self, t, req, resp):
        """Client request, server ACK, server response, client ACK. Returns the last time."""
        self.data(t, "c", req)
        t += RTT
        self.ack(t, "s")
        t += APP
        _, t = self.send_stream(t, "s", resp)
        t += CLIENT_TURN
        self.ack(t, "c")
        return t


def http_req(path="/index.html", host="www.example.test"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
            % (path, host)).encode()


def http_resp(n, tag):
    body = blob(tag, n).hex()[:n].encode()
    return (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def fam_name(name, fam):
    return "%s-v%d.pcap" % (name, fam)


# ---------------------------------------------------------------------------------------
# scenarios: each returns a list of Captures

def sc_refused(fam):
    cap = Capture(fam_name("refused", fam))
    c1 = Conn(cap, fam, 40001, 7001, cap.name + "/1")
    s = c1.syn(0)
    r = c1.stateless_rst(280, "s", s)
    cap.expect(r["frame"], "refused", "server", "endpoint",
               "RA seq 0 ack=SYN.seq+1, 280us after the SYN to closed port 7001 (NO_SOCKET)")
    # the application retries one second later with a new socket: new port, ISN, IP ID
    c2 = Conn(cap, fam, 40003, 7001, cap.name + "/2")
    s = c2.syn(SEC + 410)
    r = c2.stateless_rst(SEC + 410 + 270, "s", s)
    cap.expect(r["frame"], "refused", "server", "endpoint",
               "second connect() 1 s later from a new port, refused again the same way")
    return [cap]


def syn_conflict(fam, name, fast_retry, retry_note):
    cap = Capture(fam_name(name, fam))
    old = Conn(cap, fam, 40100, 7001, cap.name + "/old")
    t = old.handshake(0)
    t = old.request_response(t + 60, b"HELLO client=7 v=2\n" + blob("sc-req", 100),
                             blob("sc-resp", 800))
    t = old.request_response(t + 2 * SEC, b"PING 1\n", b"PONG 1\n")
    # the client host reboots silently; 30 s later the same port is reused with a new ISN
    new = Conn(cap, fam, 40100, 7001, cap.name + "/new", s_ts=old.s.ts_off,
               c_ts=rnd(cap.name + "/rebooted-cts"))
    t = 30 * SEC
    syn = new.syn(t)
    t += RTT
    # the server's old socket is ESTABLISHED: RFC 5961 challenge ACK with its old seq/ack
    chal = old.ack(t, "s", deliver=False)
    assert chal["seq"] == old.s.snd_nxt and chal["ack"] == old.s.rcv_nxt
    t += CLIENT_TURN
    r = new.stateless_rst(t, "c", chal)
    assert r["seq"] == old.s.rcv_nxt and r["flags"] == "R"
    cap.expect(r["frame"], "syn-conflict", "client", "endpoint",
               "R seq=challenge.ack from the rebooted client (SYN_SENT, bad ACK); "
               "SYN retried %s" % retry_note)
    # the exact-seq reset kills the server's old socket; the retried SYN now succeeds
    t = t + 8 * MS if fast_retry else syn["t"] + SEC
    new.syn(t)
    new.synack(t + RTT)
    new.ack(t + RTT + CLIENT_TURN, "c")
    new.request_response(t + RTT + CLIENT_TURN + 50,
                         b"HELLO client=7 v=2\n" + blob("sc-req2", 100), blob("sc-resp2", 800))
    return cap


def sc_syn_conflict(fam):
    # Linux >= 5.10 (commit "tcp: Reduce SYN resend delay if a suspicous ACK is received"):
    # a SYN_SENT socket that answers a bad ACK with a reset re-arms its retransmit timer to
    # TCP_TIMEOUT_MIN (2 jiffies: 8 ms at HZ=250), so the SYN comes back within ms.
    cap = syn_conflict(fam, "syn-conflict", True,
                       "8 ms after the reset (Linux >= 5.10: TCP_TIMEOUT_MIN at HZ=250)")
    # Older kernels (and the design notes) retry after the 1 s SYN RTO.
    cap2 = syn_conflict(fam, "syn-conflict-slowretry", False,
                        "1 s after the first SYN (initial SYN RTO, Linux < 5.10)")
    return [cap, cap2]


def sc_accept_overflow(fam):
    cap = Capture(fam_name("accept-overflow", fam))
    c = Conn(cap, fam, 40200, 80, cap.name)
    t = c.handshake(0)
    ack_frame = len(cap.recs)
    ack = dict(flags="A", ack=c.c.rcv_nxt)
    c.s.alive = False   # the listener dropped the request socket: no child was created
    t += 25
    d = c.data(t, "c", http_req())
    # the handshake-completing ACK met a full accept queue (tcp_abort_on_overflow=1):
    # the listener answers it with a reset (INVALID_SYN), and the request that was already
    # on its way meets no socket and gets the same stateless reset
    r1 = c.stateless_rst(RTT + CLIENT_TURN + RTT, "s", ack)
    assert r1["seq"] == (c.s.isn + 1) & M32
    cap.expect(r1["frame"], "accept-overflow", "server", "endpoint",
               "R seq=server ISN+1 answering the handshake-completing ACK (frame %d), "
               "accept queue full, nothing sent by the server after its SYN-ACK" % ack_frame)
    r2 = c.stateless_rst(RTT + CLIENT_TURN + 25 + RTT, "s", d)
    cap.expect(r2["frame"], "accept-overflow", "server", "endpoint",
               "same reset again, answering the client's first request already in flight")
    return [cap]


def sc_half_open(fam):
    cap = Capture(fam_name("half-open", fam))
    c = Conn(cap, fam, 40300, 7001, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, b"LOGIN user=ops\n", b"OK session=5f1c\n" + blob("ho1", 300))
    t = c.request_response(t + 3 * SEC, b"GET counters\n", blob("ho2", 2400))
    # the server restarts and forgets the connection without sending anything
    c.s.alive = False
    t = 20 * SEC + 123
    d = c.data(t, "c", b"GET counters\n")
    r = c.stateless_rst(t + RTT, "s", d)
    assert r["flags"] == "R" and r["seq"] == d["ack"]
    cap.expect(r["frame"], "half-open", "server", "endpoint",
               "stateless R seq=data.ack from the restarted server, 20 s into an established "
               "flow, no FIN from it")
    return [cap]


def sc_firewall(fam):
    cap = Capture(fam_name("firewall", fam))
    c = Conn(cap, fam, 40400, 80, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, http_req("/"), http_resp(3000, "fw1"))
    t += 2 * SEC
    # second request matches an IPS signature on the path: dropped, both sides reset
    d = c.data(t, "c", http_req("/cgi-bin/../../../../etc/passwd"))
    r = c.seg(t + 150, "s", "RA", seq=c.s.snd_nxt, ack=d["end"], opts=None, win=0, ipid=0,
              ttl=40, label=0, deliver=False)
    cap.expect(r["frame"], "firewall", "server", "middlebox",
               "RA claiming the server, TTL 40 where every server packet had 63, IP ID 0, "
               "window 0, no options, seq=server snd.nxt exactly (IPS on the path)")
    return [cap]


def sc_hops(fam):
    """How far away a forger sits (issue 12), and the server's TTL baseline carried to its
    other connections: a server 9 hops from the capture point (TTL 55), an IPS 3 hops
    away (a Linux box: 61) resetting in its name, once inside a connection and once
    rejecting a new connection's SYN, which only the server's other flow can judge."""
    cap = Capture(fam_name("hops", fam))

    def far(c):
        c.s.ttl = 55
        return c

    def ips_rst(c, t, seq, ack):
        return c.seg(t, "s", "RA", seq=seq, ack=ack, opts=None, win=0, ipid=0, ttl=61,
                     df=False, label=0, deliver=False)

    c = far(Conn(cap, fam, 40500, 443, cap.name + "/1"))
    t = c.handshake(0)
    t = c.request_response(t + 60, http_req("/"), http_resp(2000, "hops1"))
    t += 2 * MS
    d = c.data(t, "c", http_req("/admin/../../etc/shadow"))
    r = ips_rst(c, t + 100, c.s.snd_nxt, d["end"])
    cap.expect(r["frame"], "firewall", "server", "middlebox",
               "RA claiming the server, TTL 61 (3 hops from here, Linux) where the server's "
               "packets had 55 (9 hops), seq=server snd.nxt exactly: an IPS 3 hops away")
    # a new connection 1 s later: the same IPS rejects its SYN in the server's name, and
    # the server, which never got the SYN, says nothing
    c2 = far(Conn(cap, fam, 40501, 443, cap.name + "/2"))
    s = c2.syn(SEC)
    r = ips_rst(c2, SEC + 150, 0, s["end"])
    cap.expect(r["frame"], "firewall", "server", "middlebox",
               "RA seq 0 ack=SYN.seq+1 answering a new SYN, TTL 61 where the server's other "
               "connection had 55: a box 3 hops away rejected it (host baseline), not refused")
    # and the server's own refusal of a closed port, with its own TTL: refused
    c3 = far(Conn(cap, fam, 40502, 7001, cap.name + "/3"))
    s = c3.syn(2 * SEC)
    r = c3.stateless_rst(2 * SEC + 600, "s", s)
    cap.expect(r["frame"], "refused", "server", "endpoint",
               "RA seq 0 ack=SYN.seq+1 with the server's own TTL 55: nothing listens on 7001")
    return [cap]


def sc_time_wait(fam):
    cap = Capture(fam_name("time-wait", fam))
    c = Conn(cap, fam, 40500, 80, cap.name)
    t = c.handshake(0)
    c.data(t + 60, "c", http_req())
    t += 60 + RTT
    c.ack(t, "s")
    t += APP
    segs, t = c.send_stream(t, "s", http_resp(2000, "tw"))
    t += CLIENT_TURN
    c.ack(t, "c")
    # orderly close: client FIN first, server ACK, server FIN, client's last ACK
    t += 5 * MS
    c.fin(t, "c")
    t += RTT
    c.ack(t, "s")
    t += 150
    c.fin(t, "s")
    t += CLIENT_TURN
    c.ack(t, "c")
    c.s.alive = False     # LAST_ACK -> CLOSED: the server has no socket any more
    # one second later a duplicate of the server's first response segment arrives late
    t += SEC
    dup = cap.recs[segs[0]["frame"] - 1]
    cap.add(t, dup["l3"], "s")
    # the client in TIME_WAIT answers with an ACK (control socket: IP ID 0)
    t += CLIENT_TURN
    twack = c.seg(t, "c", "A", ipid=0, label=c.stateless_label("c"), deliver=False)
    # the server, closed, answers that ACK with a stateless reset: the TIME_WAIT is assassinated
    r = c.stateless_rst(t + RTT, "s", twack)
    assert r["seq"] == twack["ack"]
    cap.expect(r["frame"], "time-wait", "server", "endpoint",
               "R seq=ack of the TIME_WAIT client's ACK to a late duplicate, after FINs both "
               "ways (RFC 1337 assassination)")
    return [cap]


def sc_abort(fam):
    cap = Capture(fam_name("abort", fam))
    c = Conn(cap, fam, 40600, 7001, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, b"QUERY id=42\n", blob("ab1", 1800))
    t = c.request_response(t + 500 * MS, b"QUERY id=43\n", blob("ab2", 600))
    t += 2 * SEC
    r = c.active_rst(t, "c")
    assert r["seq"] == c.c.snd_nxt and r["ack"] == c.c.rcv_nxt
    cap.expect(r["frame"], "abort", "client", "endpoint",
               "RA seq=client snd.nxt ack=rcv.nxt, no FIN, all data both ways ACKed "
               "(close() with SO_LINGER {1,0})")
    return [cap]


def sc_idle(fam):
    out = []
    cap = Capture(fam_name("idle-timeout", fam))
    c = Conn(cap, fam, 40700, 7001, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, b"SUBSCRIBE feed=3\n", b"OK\n" + blob("it1", 200))
    # TCP_KEEPIDLE 60, TCP_KEEPINTVL 10, TCP_KEEPCNT 3; the server is gone (no answers)
    last_rx = t - CLIENT_TURN
    for i in range(3):
        c.seg(last_rx + 60 * SEC + i * 10 * SEC, "c", "A", seq=(c.c.snd_nxt - 1) & M32)
    r = c.active_rst(last_rx + 90 * SEC, "c")
    cap.expect(r["frame"], "idle-timeout", "client", "endpoint",
               "RA seq=snd.nxt 10 s after the 3rd unanswered keepalive probe "
               "(idle 60 s, intvl 10 s, cnt 3: TCP_KEEPALIVE_TIMEOUT)")
    out.append(cap)

    cap = Capture(fam_name("idle-gap", fam))
    c = Conn(cap, fam, 40750, 7001, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, b"QUERY id=1\n", blob("ig1", 900))
    t += 600 * SEC
    r = c.active_rst(t, "c")
    cap.expect(r["frame"], "idle-timeout", "client", "endpoint",
               "RA from the client after 600 s of silence, no keepalives "
               "(application idle timeout, gap > 300 s threshold)")
    out.append(cap)

    # haproxy's timeout http-keep-alive 3s with option nolinger: after one exchange the
    # client is silent; haproxy shuts the connection down (FIN) and at once closes it with
    # SO_LINGER {1,0}. In the second capture the client closes as it reads that FIN (curl,
    # a browser): its FIN acks the proxy's and crosses the reset, which does not ack it.
    for name, crossed in (("idle-timer-fin", False), ("idle-timer-fin-crossed", True)):
        cap = Capture(fam_name(name, fam))
        c = Conn(cap, fam, 40760 + crossed, 80, cap.name)
        t = c.handshake(0)
        t = c.request_response(t + 60, http_req("/"), http_resp(300, name))
        t += 3 * SEC
        c.fin(t, "s")
        if crossed:
            cfin = c.seg(t + CLIENT_TURN, "c", "FA", deliver=False)
        r = c.active_rst(t + 60, "s")
        if crossed:
            assert r["ack"] == (c.c.snd_nxt - 1) & M32
            # the client's FIN reaches no socket: the server's kernel answers it
            r2 = c.stateless_rst(t + CLIENT_TURN + RTT, "s", cfin)
        cap.expect(r["frame"], "idle-timeout", "server", "endpoint",
                   "FIN, then at once RA seq=snd.nxt after 3 s of the client's silence "
                   "(haproxy timeout http-keep-alive 3s, option nolinger; TCP_STATE)" +
                   ("; the client's FIN, closing on the proxy's, crossed the reset (its ack "
                    "is one below the FIN's end: never TIME-WAIT)" if crossed else ""))
        if crossed:
            cap.expect(r2["frame"], "idle-timeout", "server", "endpoint",
                       "R seq=the FIN's ack: the server's kernel answers the client's FIN, "
                       "which found no socket (NO_SOCKET), a consequence of its own reset")
        out.append(cap)
    return out


def sc_zero_window(fam):
    """A client that stops reading a download: its window closes, the server's probes are
    zero-window probes answered with window 0, and the server gives up (nginx send_timeout
    2 s with reset_timedout_connection on). Near miss: the client reads again, then goes
    away, and the server's keepalives are unanswered (an idle timeout)."""
    out = []

    def stall(c, t, tag):
        c.data(t, "c", http_req("/big"))
        t += RTT
        c.ack(t, "s")
        t += APP
        _, t = c.send_stream(t, "s", blob(tag, 8000))
        t += CLIENT_TURN
        c.ack(t, "c", win=0)          # receive buffer full: the application reads nothing
        return t

    cap = Capture(fam_name("zero-window", fam))
    c = Conn(cap, fam, 40770, 80, cap.name)
    t = stall(c, c.handshake(0) + 60, "zw1")
    probe = t
    for back in (200, 400, 800):      # tcp_probe_timer: RTO-based, doubling
        probe += back * MS
        c.seg(probe, "s", "A", seq=(c.s.snd_nxt - 1) & M32)   # tcp_xmit_probe_skb
        c.ack(probe + CLIENT_TURN, "c", win=0)
    r = c.active_rst(t + 2 * SEC, "s")
    assert r["seq"] == c.s.snd_nxt
    cap.expect(r["frame"], "abort", "server", "endpoint",
               "RA seq=server snd.nxt 2 s after the client's window closed, its 3 zero-window "
               "probes answered with window 0: a send timeout on a client that stopped reading "
               "(nginx send_timeout, reset_timedout_connection; TCP_STATE=abort)")
    out.append(cap)

    cap = Capture(fam_name("nearmiss-zero-window-reopened", fam))
    c = Conn(cap, fam, 40780, 80, cap.name)
    t = stall(c, c.handshake(0) + 60, "zw2")
    c.seg(t + 200 * MS, "s", "A", seq=(c.s.snd_nxt - 1) & M32)
    c.ack(t + 200 * MS + CLIENT_TURN, "c", win=0)
    t += 300 * MS
    c.ack(t, "c")                     # it read: a window update, then nothing more
    for i in range(3):                # TCP_KEEPIDLE 60, TCP_KEEPINTVL 10, TCP_KEEPCNT 3
        c.seg(t + 60 * SEC + i * 10 * SEC, "s", "A", seq=(c.s.snd_nxt - 1) & M32)
    r = c.active_rst(t + 90 * SEC, "s")
    cap.expect(r["frame"], "idle-timeout", "server", "endpoint",
               "near miss for the zero-window abort: the client's window reopened, then its "
               "peer went away; RA 10 s after the 3rd unanswered keepalive "
               "(TCP_KEEPALIVE_TIMEOUT)")
    out.append(cap)
    return out


def sc_unread(fam):
    out = []
    cap = Capture(fam_name("unread-data", fam))
    c = Conn(cap, fam, 40800, 80, cap.name)
    t = c.handshake(0)
    d = c.data(t + 60, "c", b"POST /upload HTTP/1.1\r\nHost: www.example.test\r\n"
               b"Content-Length: 180\r\n\r\n" + blob("ud", 90).hex().encode())
    t += 60 + RTT
    c.ack(t, "s")
    t += 2 * MS
    r = c.active_rst(t, "s")
    assert r["ack"] == d["end"]
    cap.expect(r["frame"], "unread-data", "server", "endpoint",
               "RA seq=server snd.nxt ack covering the request it ACKed but never read: "
               "closed with unread data (TCP_ABORT_ON_CLOSE)")
    out.append(cap)

    cap = Capture(fam_name("unread-afterclose", fam))
    c = Conn(cap, fam, 40850, 80, cap.name)
    t = c.handshake(0)
    c.data(t + 60, "c", http_req("/a"))
    t += 60 + RTT
    c.ack(t, "s")
    t += APP
    _, t = c.send_stream(t, "s", http_resp(1200, "uac"))
    t += 10
    c.fin(t, "s")                 # the server application close()s after its response
    t += CLIENT_TURN
    c.ack(t, "c")                 # ACKs response and FIN
    c.s.alive = False             # server: FIN_WAIT2 (orphan, timewait sock)
    t += 3 * MS
    d = c.data(t, "c", http_req("/b"))   # pipelined second request after the server's FIN
    r = c.stateless_rst(t + RTT, "s", d)
    assert r["flags"] == "R" and r["seq"] == c.s.snd_nxt
    cap.expect(r["frame"], "unread-data", "server", "endpoint",
               "R seq=data.ack (=server snd.nxt after its FIN) answering client data that "
               "arrived after the server's FIN (TCP_TIMEWAIT_SOCKET, FIN_WAIT2)")
    out.append(cap)

    # nginx with lingering_close off, a 24 KiB request header: it reads 1 KiB, answers
    # 400 and closes with the rest unread. Its receive window shrinks as the header piles
    # up unread (502 -> 358, x128); the close frees it, so its RA offers 500 again.
    cap = Capture(fam_name("unread-oversized", fam))
    c = Conn(cap, fam, 40870, 80, cap.name)
    t = c.handshake(0)
    mss = MSS[fam] - TSOPT
    big = b"GET / HTTP/1.1\r\nHost: www.example.test\r\nX-Big: " + b"a" * (24 * 1024)
    win = 502
    t += 60
    for i in range(0, len(big), mss):
        c.data(t, "c", big[i:i + mss], flags="A")
        t += 12
        if (i // mss) % 2:
            win -= 16
            c.ack(t + 20, "s", win=win)
            t += 20
    t += APP
    c.s.win = win                 # its answer still offers the shrunk window
    _, t = c.send_stream(t, "s", b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n"
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    t += CLIENT_TURN
    c.ack(t, "c")
    r = c.active_rst(t + 150, "s", win=500)
    cap.expect(r["frame"], "unread-data", "server", "endpoint",
               "RA seq=server snd.nxt right after its 400, window 500 where its last segment "
               "offered %d: the close freed the unread rest of the request "
               "(TCP_ABORT_ON_CLOSE; rst-window-opened)" % win)
    out.append(cap)
    return out


class Bulk:
    """The server sends data to the client as Linux would from a fresh connection: initial
    cwnd 10, slow start, full segments 12 us apart (1 Gbit/s); the client ACKs every second
    segment 40 us after it passes the capture point, acknowledging everything that passed
    at least 20 us before.  Extra events (forged resets...) run at their times."""

    def __init__(self, conn, t0, data):
        self.c = conn
        mss = MSS[conn.fam] - TSOPT
        self.chunks = [data[i:i + mss] for i in range(0, len(data), mss)]
        self.heap, self.n = [], 0
        self.seen = []            # (time, end seq) of server segments
        self.sent = self.acked = 0
        self.cwnd = 10
        self.last_ack = None
        self.wire = 0             # the server's link is busy until then
        while self.sent < min(self.cwnd, len(self.chunks)):
            self.push(t0 + 12 * self.sent, "seg", self.sent)
            self.sent += 1

    def push(self, t, kind, arg=None):
        heapq.heappush(self.heap, (t, self.n, kind, arg))
        self.n += 1

    def ack_value(self, t):
        ends = [(i, e) for i, (tm, e) in enumerate(self.seen) if tm <= t - 20]
        return ends[-1] if ends else (None, None)

    def run(self):
        t = 0
        while self.heap:
            t, _, kind, arg = heapq.heappop(self.heap)
            if kind == "seg":
                i = arg
                if t < self.wire:
                    self.push(self.wire, "seg", i)
                    continue
                self.wire = t + 12
                info = self.c.data(t, "s", self.chunks[i],
                                   flags="PA" if i == len(self.chunks) - 1 else "A")
                self.seen.append((t, info["end"]))
                if i % 2 == 1 or i == len(self.chunks) - 1:
                    self.push(t + CLIENT_TURN, "ack")
            elif kind == "ack":
                idx, ack = self.ack_value(t)
                if ack is None or ack == self.last_ack:
                    continue
                self.c.ack(t, "c", ack=ack)
                self.last_ack = ack
                newly = idx + 1 - self.acked
                self.acked = idx + 1
                self.cwnd += newly
                room = self.cwnd - (self.sent - self.acked)
                for j in range(room):
                    if self.sent >= len(self.chunks):
                        break
                    self.push(t + RTT + 12 * j, "seg", self.sent)
                    self.sent += 1
            elif kind == "call":
                arg(self, t)
        return t


def sc_injected(fam):
    out = []
    cap = Capture(fam_name("injected", fam))
    # server ISN close to 2^32: the transfer wraps the sequence space
    c = Conn(cap, fam, 40900, 443, cap.name, s_isn=0xFFFFE0C0)
    t = c.handshake(0)
    c.data(t + 60, "c", b"\x16\x03\x01\x02\x00" + blob("inj-ch", 512))
    t += 60 + RTT
    c.ack(t, "s")
    t += APP
    bulk = Bulk(c, t, blob("inj-resp", 24 * (MSS[fam] - TSOPT)))
    first = {}

    def forged1(b, tm):
        # forged reset: TTL 52, IP ID from nowhere, no DF, seq in window but not exact
        r = c.seg(tm, "s", "R", seq=(c.s.snd_nxt + 1000) & M32, ack=0, opts=None, win=0,
                  ipid=0x7B3E, ttl=52, df=False, label=0x2A71C, deliver=False)
        first.update(r)
        cap.expect(r["frame"], "injected", "server", "middlebox",
                   "forged R: TTL 52 vs server 63, IP ID 0x7b3e off the server's counter, no "
                   "DF, seq=snd.nxt+1000 (in window, not exact); the server keeps sending "
                   "(sender-alive-after-reset). "
                   "Origin middlebox: a seq inside the window means the forger saw the "
                   "connection, so it sits on the path")
        b.push(tm + CLIENT_TURN, "call", challenge)

    def challenge(b, tm):
        # RFC 5961: in-window reset with the wrong seq -> challenge ACK (a duplicate ACK)
        b.last_ack = b.ack_value(tm)[1]
        c.ack(tm, "c", ack=b.last_ack)

    def forged2(b, tm):
        r = c.seg(tm, "s", "R", seq=(first["seq"] + 20000) & M32, ack=0, opts=None, win=0,
                  ipid=0x1C95, ttl=52, df=False, label=0x2A71C, deliver=False)
        cap.expect(r["frame"], "injected", "server", "middlebox",
                   "second forged R 200 us later, seq jumped +20000 from the first "
                   "(RST_SEQ_CHANGE), data from the real server before and after it; the "
                   "client's challenge ACK is rate-limited (one per 500 ms); the server's data "
                   "after it ends beyond its seq (sender-alive-after-reset)")

    bulk.push(t + 4 * 12 + 5, "call", forged1)
    bulk.push(t + 4 * 12 + 205, "call", forged2)
    t = bulk.run()
    assert c.s.snd_nxt < 0x10000, "the transfer must wrap 2^32"
    t += 30 * MS
    c.fin(t, "c")
    t += RTT
    c.fin(t, "s")
    t += CLIENT_TURN
    c.ack(t, "c")
    out.append(cap)

    cap = Capture(fam_name("injected-blind", fam))
    c = Conn(cap, fam, 40950, 443, cap.name)
    t = c.handshake(0)
    c.data(t + 60, "c", b"\x16\x03\x01\x02\x00" + blob("blind-ch", 512))
    t += 60 + RTT
    c.ack(t, "s")
    t += APP
    bulk = Bulk(c, t, blob("blind-resp", 16 * (MSS[fam] - TSOPT)))

    def blind(k):
        def fn(b, tm):
            # a blind attacker sprays resets a window apart, far from the live sequence
            r = c.seg(tm, "s", "R", seq=(c.s.snd_nxt + 0x40000000 + k * 65536) & M32, ack=0,
                      opts=None, win=0, ipid=rnd("blind%d" % k, 16), ttl=47, df=False,
                      label=0, deliver=False)
            cap.expect(r["frame"], "injected", "server", "unknown",
                       "blind R #%d: seq snd.nxt+2^30+%d*65536, far outside the client's "
                       "window, TTL 47, random IP ID; ignored by the client, data continues"
                       % (k + 1, k))
        return fn

    for k in range(3):
        bulk.push(t + 5 * 12 + 3 + 7 * k, "call", blind(k))
    bulk.run()
    out.append(cap)
    return out


def sc_unknown(fam):
    cap = Capture(fam_name("unknown", fam))
    c = Conn(cap, fam, 41000, 443, cap.name)
    c.s.snd_nxt = 0x1C2D3E4F
    r = c.seg(0, "s", "R", opts=None, win=0, ipid=0, label=c.stateless_label("s"), deliver=False)
    cap.expect(r["frame"], "unknown", "server", "unknown",
               "a lone R with no flow history (capture started mid-stream); nothing to "
               "compare it with. Sender server only by the ports (443 vs ephemeral 41000), "
               "which rstwatch says as evidence orig-by-port")
    return [cap]


def sc_nearmiss(fam):
    out = []
    # server speaks first, 5 s after the handshake, then aborts: not accept-overflow
    cap = Capture(fam_name("nearmiss-late-server-reset", fam))
    c = Conn(cap, fam, 41100, 7001, cap.name)
    t = c.handshake(0)
    t += 5 * SEC
    c.data(t, "s", b"220 svc.example.test ready\r\n")
    t += CLIENT_TURN
    c.ack(t, "c")
    t += 2 * MS
    r = c.active_rst(t, "s")
    cap.expect(r["frame"], "abort", "server", "endpoint",
               "near-miss for accept-overflow: server RA 5 s after the handshake, after it sent "
               "data; seq=snd.nxt")
    out.append(cap)

    cap = Capture(fam_name("nearmiss-ttl-drift", fam))
    c = Conn(cap, fam, 41200, 7001, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, b"QUERY id=7\n", blob("ttl", 1500))
    t += SEC
    r = c.active_rst(t, "s", ttl=62)
    cap.expect(r["frame"], "abort", "server", "endpoint",
               "near-miss for firewall/injected: server RA with TTL 62 where it had 63 "
               "(1 hop, within tolerance), IP ID continues the server's counter, seq exact")
    out.append(cap)

    cap = Capture(fam_name("nearmiss-slow-refused", fam))
    c = Conn(cap, fam, 41300, 7001, cap.name)
    s = c.syn(0)
    for rto in (1, 3, 7):     # SYN retransmissions at 1, 3, 7 s (RTO 1, 2, 4 s)
        c.syn(rto * SEC)
    r = c.stateless_rst(12 * SEC, "s", s)
    cap.expect(r["frame"], "refused", "server", "endpoint",
               "slow refusal: RA seq 0 ack=ISN+1 5 s after the last SYN retransmission "
               "(12 s after the first): still refused, lower confidence")
    out.append(cap)

    cap = Capture(fam_name("nearmiss-shortgap", fam))
    c = Conn(cap, fam, 41400, 7001, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, b"QUERY id=9\n", blob("g60", 700))
    t += 1500 * MS
    r = c.active_rst(t, "c")
    cap.expect(r["frame"], "abort", "client", "endpoint",
               "near-miss for idle-timeout: client RA after only 1.5 s of silence, less than an "
               "unusual one (2 s, 1000 handshake round trips), no keepalives")
    out.append(cap)

    cap = Capture(fam_name("idle-timer-60s", fam))
    c = Conn(cap, fam, 41450, 7001, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, b"QUERY id=9\n", blob("g60", 700))
    t += 60 * SEC
    r = c.active_rst(t, "c")
    cap.expect(r["frame"], "idle-timeout", "client", "endpoint",
               "an application's idle timer (or keepalives of seconds): client RA after 60 s "
               "of silence with nothing outstanding, below the 300 s threshold but 60,000 "
               "handshake round trips")
    out.append(cap)

    cap = Capture(fam_name("nearmiss-halfclosed", fam))
    c = Conn(cap, fam, 41500, 7001, cap.name)
    t = c.handshake(0)
    t = c.request_response(t + 60, b"QUERY id=11\n", blob("hc", 400))
    t += 20 * MS
    c.fin(t, "c")
    t += RTT
    c.ack(t, "s")
    t += 3 * MS
    r = c.active_rst(t, "s")
    cap.expect(r["frame"], "abort", "server", "endpoint",
               "near-miss for time-wait: server RA after only the client's FIN (server never "
               "sent FIN), all data read")
    out.append(cap)
    return out


def sc_lookahead(fam):
    """Resets that may be forged, decided by what their claimed sender does after them
    (design §8, issue 10: rstwatch explain looks 2 s ahead in the capture)."""
    out = []
    mss = MSS[fam] - TSOPT

    def download(cap, port, tag, t0=0):
        c = Conn(cap, fam, port, 443, cap.name + tag)
        t = c.handshake(t0)
        c.data(t + 60, "c", b"\x16\x03\x01\x02\x00" + blob(cap.name + tag + "/ch", 512))
        t += 60 + RTT
        c.ack(t, "s")
        t += APP
        _, t = c.send_stream(t, "s", blob(cap.name + tag + "/1", 4 * mss))
        t += CLIENT_TURN
        c.ack(t, "c")
        return c, t

    def forge(c, t, seq, ttl=40, flags="RA"):
        """A box on the path resets in the server's name: TTL unlike the server's 63,
        IP ID 0, no DF, window 0, no options."""
        return c.seg(t, "s", flags, seq=seq, ack=c.s.rcv_nxt if "A" in flags else 0,
                     opts=None, win=0, ipid=0, ttl=ttl, df=False, label=0, deliver=False)

    def close(c, t):
        c.fin(t, "c")
        c.fin(t + RTT, "s")
        c.ack(t + RTT + CLIENT_TURN, "c")

    # the classic race: exact seq, foreign TTL, and the genuine server goes on sending.
    # Seen as it arrives at the gateway, which (rstwatch in enforce mode) held and dropped
    # it: the client never saw it, ACKs every byte and the connection closes normally.
    cap = Capture(fam_name("lookahead-forged-alive", fam))
    c, t = download(cap, 42000, "")
    r = forge(c, t + 100, c.s.snd_nxt)
    cap.expect(r["frame"], "injected", "server", "middlebox",
               "RA claiming the server, TTL 40 vs 63, seq=server snd.nxt exactly (a firewall "
               "by itself); the server sends 4 more segments 30 us later: its sender is alive "
               "after its 'reset' (sender-alive-after-reset)")
    _, t = c.send_stream(t + 130, "s", blob(cap.name + "/2", 4 * mss))
    t += CLIENT_TURN
    c.ack(t, "c")
    close(c, t + 5 * MS)
    out.append(cap)

    # the same forgery, and nothing from the server afterwards: an IPS that blocks the rest
    cap = Capture(fam_name("lookahead-forged-silent", fam))
    c, t = download(cap, 42100, "")
    r = forge(c, t + 100, c.s.snd_nxt)
    cap.expect(r["frame"], "firewall", "server", "middlebox",
               "the forgery of lookahead-forged-alive, but the server is silent afterwards "
               "(end of capture 5 s later): stays firewall, origin middlebox")
    cap.add(t + 5 * SEC, bytes(ip_hdr(fam, ADDR[fam][0], ADDR[fam][1], TTL_C, 0x4242)
                               / TCP(sport=42101, dport=443, seq=rnd(cap.name + "/syn"),
                                     flags="S", window=SYNWIN[fam][0])), "c")
    out.append(cap)

    # segments sent before a reset and seen after it are not the sender talking on
    cap = Capture(fam_name("lookahead-reordered", fam))
    c = Conn(cap, fam, 42200, 80, cap.name + "/endpoint")
    t = c.handshake(0)
    t = c.request_response(t + 60, http_req("/"), http_resp(1500, "la-ro1"))
    t += 2 * MS
    d = c.data(t, "c", b"POST /upload HTTP/1.1\r\nHost: www.example.test\r\n"
               b"Content-Length: 180\r\n\r\n" + blob("la-ro", 90).hex().encode())
    t += RTT
    # the server ACKs the request and closes with it unread at once: the RA leaves 15 us
    # after the ACK and overtakes it (two transmit queues)
    ack_seq, ack_ack, ack_id = c.s.snd_nxt, d["end"], c.s.next_ipid()
    r = c.seg(t + 15, "s", "RA", ack=d["end"])
    cap.expect(r["frame"], "unread-data", "server", "endpoint",
               "genuine RA seq=snd.nxt ack covering the unread request; the server's own pure "
               "ACK, sent 15 us before it, is seen 25 us after it: not the server alive")
    c.seg(t + 40, "s", "A", seq=ack_seq, ack=ack_ack, ipid=ack_id)
    # an IPS forwards the server's segment, then resets with the seq just past it; its
    # reset overtakes the segment. In the window but not at the client's rcv.nxt (the
    # segment is still on its way): the client answers with a challenge ACK (RFC 5961)
    # and takes the segment. The server is silent afterwards (the IPS drops the rest).
    c2, t = download(cap, 42201, "/ips", t + 10 * MS)
    dseg = dict(seq=c2.s.snd_nxt, payload=blob(cap.name + "/last", mss))
    r = forge(c2, t + 100, (dseg["seq"] + mss) & M32, ttl=40, flags="R")
    cap.expect(r["frame"], "injected", "server", "middlebox",
               "IPS reset, TTL 40, seq = end of the server segment it forwarded just before, "
               "which is seen 20 us after the reset (end = the reset's seq: not alive); "
               "server silent afterwards: injected (seq-not-next) without "
               "sender-alive-after-reset")
    c2.data(t + 120, "s", dseg["payload"], seq=dseg["seq"])
    c2.ack(t + 100 + CLIENT_TURN, "c", ack=dseg["seq"])    # the challenge ACK
    c2.ack(t + 120 + CLIENT_TURN, "c")
    out.append(cap)

    # the window is 2 s of capture time: a sender heard from 1 s after the reset proves it
    # forged, one heard only 3 s after does not. Both resets in the window (not exact): the
    # client answers each with a challenge ACK and carries on. The later-decided reset comes
    # first in the capture, and stays first in the output.
    cap = Capture(fam_name("lookahead-window", fam))
    late, t = download(cap, 42300, "/late")
    soon, t = download(cap, 42301, "/soon", t + 100)
    t0 = t + 100
    r = forge(late, t0, (late.s.snd_nxt + 3000) & M32, ttl=52, flags="R")
    cap.expect(r["frame"], "injected", "server", "middlebox",
               "forged R (TTL 52, seq snd.nxt+3000, in window); the server's next data comes "
               "3 s later, past the 2 s look-ahead: injected (seq-not-next), no "
               "sender-alive-after-reset")
    late.ack(t0 + CLIENT_TURN, "c")
    r = forge(soon, t0 + 200, (soon.s.snd_nxt + 3000) & M32, ttl=52, flags="R")
    cap.expect(r["frame"], "injected", "server", "middlebox",
               "the same forgery on a second connection; its server sends again 1 s later "
               "(3 segments, beyond the reset's seq): sender-alive-after-reset")
    soon.ack(t0 + 200 + CLIENT_TURN, "c")
    _, t = soon.send_stream(t0 + 200 + SEC, "s", blob(cap.name + "/soon/2", 3 * mss))
    soon.ack(t + CLIENT_TURN, "c")
    _, t = late.send_stream(t0 + 3 * SEC, "s", blob(cap.name + "/late/2", 3 * mss))
    late.ack(t + CLIENT_TURN, "c")
    out.append(cap)
    return out


# ---------------------------------------------------------------------------------------
# link layers and file formats

LINKTYPE = dict(null=0, ethernet=1, raw=101, loop=108, sll=113, ipv4=228, ipv6=229, sll2=276)


def ether(rec, tags=()):
    src, dst = (MAC_CLIENT, MAC_GW) if rec["dir"] == "c" else (MAC_GW, MAC_CLIENT)
    hdr = dst + src
    for tpid, vid in tags:
        hdr += struct.pack("!HH", tpid, vid)
    return hdr + struct.pack("!H", rec["etype"]) + rec["l3"]


def frame_bytes(rec, link):
    l3 = rec["l3"]
    if link == "ethernet":
        return ether(rec)
    if link == "vlan":
        return ether(rec, [(0x8100, 100)])
    if link == "qinq":
        return ether(rec, [(0x88A8, 200), (0x8100, 100)])
    assert rec["etype"] in (0x0800, 0x86DD), "non-IP packets only on Ethernet"
    if link in ("sll", "sll2"):
        # `tcpdump -i any` on the gateway: PACKET_HOST (0) for what arrived (the client's
        # packets on interface 2, the server's on interface 3), PACKET_OUTGOING (4) for what
        # the gateway forwarded to the client; address = the sender's MAC (sll_copies)
        ptype, mac, ifindex = rec.get("sll", (0, MAC_CLIENT, 2) if rec["dir"] == "c"
                                      else (4, MAC_GW, 2))
        if link == "sll":
            return (struct.pack("!HHH", ptype, 1, 6) + mac + b"\0\0" +
                    struct.pack("!H", rec["etype"]) + l3)
        return struct.pack("!HHIHBB", rec["etype"], 0, ifindex, 1, ptype, 6) + mac + b"\0\0" + l3
    if link == "null":
        return struct.pack("<I", 2 if rec["etype"] == 0x0800 else 24) + l3   # host order (LE file)
    if link == "loop":
        return struct.pack("!I", 2 if rec["etype"] == 0x0800 else 24) + l3
    if link in ("raw", "ipv4", "ipv6"):
        return l3
    raise ValueError(link)


def sll_copies(cap):
    """The capture as `tcpdump -i any` on the gateway records it: each of the server's
    packets twice, as it came in on the server-side interface (3, TTL or hop limit one
    more) and as it left to the client (2). Returns the records and the MANIFEST rows with
    their frame numbers moved: both copies of a server reset are listed, as tshark lists
    them; rstwatch judges them as one (copies 2)."""
    recs, new_frame = [], {}
    for i, rec in enumerate(cap.recs, 1):
        if rec["dir"] == "s":
            l3 = bytearray(rec["l3"])
            if rec["etype"] == 0x0800:
                l3[8] += 1
                ipv4_csum(l3)
            else:
                l3[7] += 1
            recs.append(dict(rec, l3=bytes(l3), sll=(0, MAC_SERVER, 3)))
        new_frame[i] = len(recs) + 1
        recs.append(rec)
    rows = []
    for r in cap.rows:
        f = new_frame[r[1]]
        rows.append(r[:1] + (f,) + r[2:])
        if cap.recs[r[1] - 1]["dir"] == "s":
            rows.append(r[:1] + (f - 1,) + r[2:])
    return types.SimpleNamespace(recs=recs, rows=rows, name=cap.name)


def link_dlt(link):
    return LINKTYPE.get(link, 1)     # vlan / qinq are Ethernet


def records(cap, link):
    out = []
    for rec in cap.recs:
        b = frame_bytes(rec, link)
        cut = b if rec["caplen"] is None else b[:rec["caplen"]]
        out.append((rec["t"], cut, len(b)))
    return out


def pcap_bytes(recs, dlt, snaplen=262144, nsec=False, big=False):
    e = ">" if big else "<"
    out = [struct.pack(e + "IHHiIII", 0xA1B23C4D if nsec else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, dlt)]
    for t, data, origlen in recs:
        sec, usec = divmod(t, SEC)
        out.append(struct.pack(e + "IIII", T0 + sec, usec * 1000 if nsec else usec, len(data),
                               origlen))
        out.append(data)
    return b"".join(out)


def pcapng_bytes(recs, dlt, snaplen=262144, dirs=None):
    """dirs: per record, the epb_flags direction (1 inbound, 2 outbound), or None."""
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def opt(code, val):
        return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                + opt(4, b"rstwatch tests/captures/gen.py") + opt(0, b""))
    idb = block(1, struct.pack("<HHI", dlt, 0, snaplen)
                + opt(2, b"gw-client") + opt(9, b"\x06") + opt(0, b""))
    out = [shb, idb]
    for i, (t, data, origlen) in enumerate(recs):
        ts = T0 * SEC + t
        body = struct.pack("<IIIII", 0, ts >> 32, ts & M32, len(data), origlen) + data
        if dirs:
            body += b"\0" * (-len(data) % 4) + opt(2, struct.pack("<I", dirs[i])) + opt(0, b"")
        out.append(block(6, body))
    return b"".join(out)


# ---------------------------------------------------------------------------------------
# bad and odd inputs

# ---- tunnels: the same packets inside GRE, ERSPAN, VXLAN, Geneve ------------------------
# Outer endpoints: tunnel A (the client's side) 192.0.2.1 / 2001:db8:ff::1, B 192.0.2.2 /
# 2001:db8:ff::2; client packets go A > B, server packets B > A.

def outer_ip(fam, rec, proto, payload):
    a, b = ("192.0.2.1", "192.0.2.2") if fam == 4 else ("2001:db8:ff::1", "2001:db8:ff::2")
    src, dst = (a, b) if rec["dir"] == "c" else (b, a)
    if fam == 4:
        h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64,
                                  proto, 0, socket.inet_pton(socket.AF_INET, src),
                                  socket.inet_pton(socket.AF_INET, dst)))
        ipv4_csum(h)
        return 0x0800, bytes(h) + payload
    h = struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64,
                    socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return 0x86DD, h + payload


def inner_ether(rec, vlan=None):
    tags = [(0x8100, vlan)] if vlan else []
    return ether(rec, tags)


def gre_hdr(proto, key=None, seq=None, csum=False):
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | \
        (0x1000 if seq is not None else 0)
    h = struct.pack("!HH", flags, proto)
    if csum:
        h += b"\0\0\0\0"        # checksum not verified by the decoders; reserved
    if key is not None:
        h += struct.pack("!I", key)
    if seq is not None:
        h += struct.pack("!I", seq)
    return h


def tunnel_payload(kind, rec, i):
    """(IP proto, payload after the outer IP header) carrying rec, the i-th record."""
    l3 = rec["l3"]
    if kind == "gre":
        return 47, gre_hdr(rec["etype"]) + l3
    if kind == "gre-key-seq-csum":
        return 47, gre_hdr(rec["etype"], key=42, seq=i, csum=True) + l3
    if kind == "gretap-vlan":
        return 47, gre_hdr(0x6558) + inner_ether(rec, 100)
    if kind == "erspan2":
        # ver 1, VLAN 0, session 7; index 0
        return 47, gre_hdr(0x88BE, seq=i) + struct.pack("!II", 0x10000007, 0) + inner_ether(rec)
    if kind == "erspan3":
        # ver 2, session 9; timestamp; SGT 0; P 0, FT 0 (Ethernet), O 0
        return 47, (gre_hdr(0x22EB, seq=i) + struct.pack("!IIHH", 0x20000009, i * 1000, 0, 0) +
                    inner_ether(rec))
    if kind in ("vxlan", "vxlan-key1", "vxlan-key2"):
        vni = {"vxlan": 5000, "vxlan-key1": 1, "vxlan-key2": 2}[kind]
        body = struct.pack("!II", 0x08000000, vni << 8) + inner_ether(rec)
        return 17, struct.pack("!HHHH", 50000 + i, 4789, 8 + len(body), 0) + body
    if kind == "geneve":
        body = struct.pack("!HHI", 0x0000, rec["etype"], 77 << 8) + l3
        return 17, struct.pack("!HHHH", 50000 + i, 6081, 8 + len(body), 0) + body
    raise ValueError(kind)


def tunnelled(cap, name, layers, outer_fam=4, kinds_of=None):
    """cap's packets inside layers (innermost first), outer IP of outer_fam; kinds_of(i)
    may pick the layers per record instead. Frames and MANIFEST rows keep their numbers."""
    recs = []
    for i, rec in enumerate(cap.recs, 1):
        r = dict(rec)
        for kind in (kinds_of(i, rec) if kinds_of else layers):
            proto, payload = tunnel_payload(kind, r, i)
            etype, l3 = outer_ip(outer_fam, r, proto, payload)
            r = dict(r, l3=l3, etype=etype, caplen=None)
        recs.append(r)
    return types.SimpleNamespace(recs=recs, rows=list(cap.rows), name=name)


def tunnel_captures(caps):
    by = {c.name: c for c in caps}
    out = [
        tunnelled(by["injected-v4.pcap"], "tunnel-gre.pcap", ["gre"]),
        tunnelled(by["refused-v4.pcap"], "tunnel-gre-key-seq-csum.pcap", ["gre-key-seq-csum"]),
        tunnelled(by["refused-v4.pcap"], "tunnel-gretap-vlan.pcap", ["gretap-vlan"]),
        tunnelled(by["refused-v4.pcap"], "tunnel-erspan2.pcap", ["erspan2"]),
        tunnelled(by["refused-v4.pcap"], "tunnel-erspan3.pcap", ["erspan3"]),
        tunnelled(by["abort-v6.pcap"], "tunnel-vxlan.pcap", ["vxlan"]),
        tunnelled(by["refused-v4.pcap"], "tunnel-geneve-ipv6.pcap", ["geneve"], outer_fam=6),
        tunnelled(by["refused-v4.pcap"], "tunnel-nested.pcap", ["gre", "vxlan"]),
    ]
    # The same inner connection split over two tunnels: the SYNs in VNI 1, the resets in
    # VNI 2. The resets are not those SYNs' answers as far as a capture can tell: each
    # tunnel is its own network, so they have no flow history there.
    ref = by["refused-v4.pcap"]
    split = tunnelled(ref, "tunnel-split.pcap", None,
                      kinds_of=lambda i, rec: ["vxlan-key2" if rec["dir"] == "s" else "vxlan-key1"])
    split.rows = [(r[0], r[1], "unknown", "server", "unknown",
                   "the RA of refused-v4, in VNI 2; its SYN went in VNI 1: another network, "
                   "no flow history (orig-by-port)") for r in ref.rows]
    out.append(split)
    return out


def sc_repeated():
    """Lone server resets, as a capture started mid-way through a storm shows them: 30 alike
    (443 to client ports 41000-41029, 10 ms apart), one from port 80, 5 more from 443. Text
    output collapses each run of alike ones after its first line; JSON keeps all 36."""
    cap = Capture("repeated-unknown-v4.pcap")
    t = 0
    for k, (port, n) in enumerate(((443, 30), (80, 1), (443, 5))):
        for i in range(n):
            c = Conn(cap, 4, 41000 + 100 * k + i, port, "%s/%d/%d" % (cap.name, k, i))
            c.s.snd_nxt = rnd("%s/%d/%d/seq" % (cap.name, k, i))
            r = c.seg(t, "s", "R", opts=None, win=0, ipid=0, label=c.stateless_label("s"),
                      deliver=False)
            cap.expect(r["frame"], "unknown", "server", "unknown",
                       "lone R from port %d, no flow history (run %d of alike resets)"
                       % (port, k + 1))
            t += 10000
    return cap


def sc_nontcp():
    cap = Capture("mixed-nontcp-v4.pcap")
    ca, sa = ADDR[4]
    gw = "198.51.100.1"
    cap.add(0, bytes(ARP(op=1, hwsrc="02:00:00:00:00:0a", psrc=ca, hwdst="00:00:00:00:00:00",
                         pdst=gw)), "c", etype=0x0806)
    cap.add(35, bytes(ARP(op=2, hwsrc="02:00:00:00:00:01", psrc=gw, hwdst="02:00:00:00:00:0a",
                          pdst=ca)), "s", etype=0x0806)
    dns = "203.0.113.53"
    q = DNS(id=0x3c1f, rd=1, qd=DNSQR(qname="svc.example.test", qtype="A"))
    cap.add(120, bytes(IP(src=ca, dst=dns, ttl=64, id=0x4d10, flags="DF")
                       / UDP(sport=53124, dport=53) / q), "c")
    a = DNS(id=0x3c1f, qr=1, rd=1, ra=1, qd=DNSQR(qname="svc.example.test", qtype="A"),
            an=DNSRR(rrname="svc.example.test", type="A", ttl=300, rdata=sa))
    cap.add(1900, bytes(IP(src=dns, dst=ca, ttl=63, id=0x0a2e, flags=0) / UDP(sport=53, dport=53124)
                        / a), "s")
    cap.add(2100, bytes(IP(src=ca, dst=sa, ttl=64, id=0x77f0, flags="DF")
                        / ICMP(type=8, id=0x1d2, seq=1) / Raw(blob("ping", 56))), "c")
    cap.add(2400, bytes(IP(src=sa, dst=ca, ttl=63, id=0x5ab3, flags=0)
                        / ICMP(type=0, id=0x1d2, seq=1) / Raw(blob("ping", 56))), "s")
    c6, _ = ADDR[6]
    cap.add(2600, bytes(IPv6(src=c6, dst="ff02::1:ff00:1", hlim=255, fl=0)
                        / ICMPv6ND_NS(tgt="2001:db8:1::1")
                        / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:0a")), "c")
    c = Conn(cap, 4, 41600, 7001, cap.name)
    s = c.syn(3000)
    r = c.stateless_rst(3280, "s", s)
    cap.expect(r["frame"], "refused", "server", "endpoint",
               "refused SYN among 7 non-TCP packets (2 ARP, 2 DNS/UDP, 2 ICMP echo, 1 ICMPv6 NS)")
    return cap


def corrupt_ip(l3, fn):
    b = bytearray(l3)
    fn(b)
    return bytes(b)


def ipv4_csum(b):
    ihl = (b[0] & 0xF) * 4 or 20
    b[10:12] = b"\0\0"
    s = sum(struct.unpack("!%dH" % (ihl // 2), bytes(b[:ihl])))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    b[10:12] = struct.pack("!H", ~s & 0xFFFF)


def tcp4_csum(b):
    """Recompute the TCP checksum of an IPv4 packet whose TCP header was edited."""
    ihl = (b[0] & 0xF) * 4
    seg = bytes(b[ihl:])
    seg = seg[:16] + b"\0\0" + seg[18:]
    data = bytes(b[12:20]) + struct.pack("!BBH", 0, 6, len(seg)) + seg
    data += b"\0" * (len(data) % 2)
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    b[ihl + 16:ihl + 18] = struct.pack("!H", ~s & 0xFFFF)


def sc_malformed():
    cap = Capture("malformed-mixed.pcap")
    c = Conn(cap, 4, 41700, 7001, cap.name)
    ca, sa = ADDR[4]
    t = c.handshake(0)
    notes = []

    # IPv4 header length 4 (16 bytes) on a reset-looking segment of the flow
    def ihl4(b):
        b[0] = 0x44
        ipv4_csum(b)
    rst = bytes(IP(src=sa, dst=ca, ttl=63, id=0, flags="DF")
                / TCP(sport=7001, dport=41700, seq=c.s.snd_nxt, flags="R", window=0))
    f = cap.add(t + 20, corrupt_ip(rst, ihl4), "s")
    notes.append((f, "IPv4 IHL 4"))
    t = t + 60
    c.data(t, "c", b"QUERY id=99\n")
    # TCP data offset 3 (12 bytes) on a reset-looking segment
    def doff3(b):
        b[32] = (3 << 4) | (b[32] & 0xF)
        tcp4_csum(b)
    rst = bytes(IP(src=sa, dst=ca, ttl=63, id=0, flags="DF")
                / TCP(sport=7001, dport=41700, seq=c.s.snd_nxt, flags="R", window=0))
    f = cap.add(t + 100, corrupt_ip(rst, doff3), "s")
    notes.append((f, "TCP data offset 3"))
    t += RTT
    c.ack(t, "s")
    # option running past the header: kind 8 (timestamps) claiming 40 bytes in a 12-byte area
    opt = bytes(IP(src=ca, dst=sa, ttl=64, id=0x1111, flags="DF")
                / TCP(sport=41700, dport=7001, seq=c.c.snd_nxt, ack=c.c.rcv_nxt, flags="A",
                      window=502, options=[("NOP", None), ("NOP", None), ("Timestamp", (1, 2))]))
    def optlen(b):
        b[20 + 20 + 3] = 40
        tcp4_csum(b)
    f = cap.add(t + 10, corrupt_ip(opt, optlen), "c")
    notes.append((f, "TCP option length 40 past a 32-byte header (not a reset)"))
    t += APP
    _, t = c.send_stream(t, "s", blob("mal-resp", 900))
    # IPv6 with a chain of 20 destination-options headers, then a TCP ACK
    c6a, c6s = ADDR[6]
    chain = IPv6(src=c6a, dst=c6s, hlim=64, fl=0x12345)
    inner = TCP(sport=41701, dport=7001, seq=1000, ack=2000, flags="A", window=507)
    for _ in range(20):
        inner = IPv6ExtHdrDestOpt() / inner
    f = cap.add(t + 5, bytes(chain / inner), "c")
    notes.append((f, "IPv6 chain of 20 destination-options headers (not a reset)"))
    # snaplen-truncated resets: 40 bytes kept of a 54 / 74-byte frame
    r4 = bytes(IP(src=sa, dst=ca, ttl=63, id=0, flags="DF")
               / TCP(sport=7001, dport=41700, seq=c.s.snd_nxt, flags="R", window=0))
    f = cap.add(t + 8, r4, "s", caplen=40)
    notes.append((f, "IPv4 reset cut to 40 captured bytes (flags not captured)"))
    r6 = bytes(IPv6(src=c6s, dst=c6a, hlim=63, fl=0x54321)
               / TCP(sport=7001, dport=41701, seq=2000, flags="R", window=0))
    f = cap.add(t + 9, r6, "s", caplen=40)
    notes.append((f, "IPv6 reset cut to 40 captured bytes (inside the IPv6 header)"))
    t += CLIENT_TURN
    c.ack(t, "c")
    t += SEC
    r = c.active_rst(t, "c")
    cap.expect(r["frame"], "abort", "client", "endpoint",
               "the one well-formed reset among malformed packets: client RA seq=snd.nxt, "
               "data both ways ACKed")
    cap.malformed = notes
    return cap


def truncated_capture():
    cap = Capture("truncated-mid-record.pcap")
    for i in range(4):
        c = Conn(cap, 4, 41800 + 2 * i, 7001, cap.name + "/%d" % i)
        s = c.syn(i * 200 * MS)
        r = c.stateless_rst(i * 200 * MS + 280, "s", s)
        if i < 3:
            cap.expect(r["frame"], "refused", "server", "endpoint",
                       "refused SYN #%d of a capture that is cut short (see BADINPUT.tsv)" % (i + 1))
    return cap


# ---------------------------------------------------------------------------------------

def self_check(cap):
    """Every MANIFEST frame must be a TCP reset sent by the expected side."""
    for (_, frame, cls, sender, origin, _) in cap.rows:
        rec = cap.recs[frame - 1]
        l3 = rec["l3"]
        if l3[0] >> 4 == 4:
            tcp = l3[(l3[0] & 0xF) * 4:]
            src = l3[12:16]
            client = bytes(map(int, ADDR[4][0].split(".")))
        else:
            tcp = l3[40:]
            src = l3[8:24]
            client = ipaddress.IPv6Address(ADDR[6][0]).packed
        assert tcp[13] & 0x04, (cap.name, frame, "not a reset")
        if sender != "unknown":
            assert (src == client) == (sender == "client"), (cap.name, frame, "sender")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                    help="directory receiving pcap/, MANIFEST.tsv, BADINPUT.tsv")
    args = ap.parse_args()
    pdir = os.path.join(args.out, "pcap")
    os.makedirs(pdir, exist_ok=True)

    files = {}        # name -> bytes
    rows = []

    def put(cap, data, name=None, rows_too=True):
        name = name or cap.name
        assert name not in files, name
        files[name] = data
        if rows_too:
            rows.extend((name,) + r[1:] for r in cap.rows)

    caps = []
    for sc in (sc_refused, sc_syn_conflict, sc_accept_overflow, sc_half_open, sc_firewall,
               sc_time_wait, sc_abort, sc_idle, sc_zero_window, sc_unread, sc_injected,
               sc_unknown, sc_nearmiss, sc_lookahead, sc_hops):
        for fam in (4, 6):
            caps.extend(sc(fam))
    for cap in caps:
        self_check(cap)
        put(cap, pcap_bytes(records(cap, "ethernet"), 1))

    # link-type and file-format variants of refused-v4 (and refused-v6 for DLT 229)
    ref4 = next(c for c in caps if c.name == "refused-v4.pcap")
    ref6 = next(c for c in caps if c.name == "refused-v6.pcap")
    for link in ("ethernet", "vlan", "qinq", "sll", "sll2", "raw", "null", "loop", "ipv4"):
        cap = sll_copies(ref4) if link in ("sll", "sll2") else ref4
        put(cap, pcap_bytes(records(cap, link), link_dlt(link)), "linktype-%s.pcap" % link)
    put(ref6, pcap_bytes(records(ref6, "ipv6"), LINKTYPE["ipv6"]), "linktype-ipv6.pcap")
    put(ref4, pcapng_bytes(records(ref4, "ethernet"), 1), "linktype-ethernet.pcapng")
    # the same -i any view as the cooked captures, told by pcapng epb_flags instead
    anyv = sll_copies(ref4)
    put(anyv, pcapng_bytes(records(anyv, "ethernet"), 1,
                           dirs=[1 if r.get("sll", (0,) if r["dir"] == "c" else (4,))[0] == 0
                                 else 2 for r in anyv.recs]), "direction-epb-flags.pcapng")
    put(ref4, pcap_bytes(records(ref4, "ethernet"), 1, nsec=True), "format-nsec.pcap")
    put(ref4, pcap_bytes(records(ref4, "ethernet"), 1, big=True), "format-bigendian.pcap")

    rep = sc_repeated()
    self_check(rep)
    put(rep, pcap_bytes(records(rep, "ethernet"), 1))
    for cap in tunnel_captures(caps):
        put(cap, pcap_bytes(records(cap, "ethernet"), 1))

    # odd and bad inputs
    nt = sc_nontcp()
    self_check(nt)
    put(nt, pcap_bytes(records(nt, "ethernet"), 1))
    mal = sc_malformed()
    self_check(mal)
    put(mal, pcap_bytes(records(mal, "ethernet"), 1))
    tr = truncated_capture()
    self_check(tr)
    whole = pcap_bytes(records(tr, "ethernet"), 1)
    # offsets of each record: 24-byte file header, 16-byte record headers
    offs, o = [], 24
    for _, data, _ in records(tr, "ethernet"):
        offs.append(o)
        o += 16 + len(data)
    put(tr, whole[:offs[7] + 16 + 30])                        # inside record 8's packet data
    put(tr, whole[:offs[6] + 9], "truncated-mid-header.pcap")  # inside record 7's header
    files["empty.pcap"] = b""
    files["not-a-pcap.txt"] = (b"This is not a packet capture.\n"
                               b"rstwatch must say so and exit with an error.\n")

    for name, data in sorted(files.items()):
        with open(os.path.join(pdir, name), "wb") as f:
            f.write(data)
    extra = sorted(set(os.listdir(pdir)) - set(files))
    for name in extra:
        print("warning: %s is not generated by gen.py" % os.path.join(pdir, name),
              file=sys.stderr)

    with open(os.path.join(args.out, "MANIFEST.tsv"), "w") as f:
        f.write("file\tframe\tclass\tsender\torigin\tdescription\n")
        for r in sorted(rows, key=lambda r: (r[0], r[1])):
            f.write("%s\t%d\t%s\t%s\t%s\t%s\n" % r)

    mal_frames = "; ".join("%d %s" % n for n in mal.malformed)
    nt_tcp = len(nt.recs) - 7
    bad = [
        ("empty.pcap", "unreadable", "0", "-",
         "0 bytes, no file header: error 'not a capture file' (or 'empty'), no events, exit 2"),
        ("not-a-pcap.txt", "unreadable", "0", "-",
         "text, bad magic: error 'not a capture file', no events, exit 2"),
        ("truncated-mid-record.pcap", "truncated", "3", "records=7 truncated=1",
         "7 whole records, then record 8 cut inside its packet data: 3 events (frames 2, 4, 6, "
         "refused), then says the capture is truncated (after record 7); no event for record 8, "
         "no crash; exit status non-zero suggested (1: partial read)"),
        ("truncated-mid-header.pcap", "truncated", "3", "records=6 truncated=1",
         "6 whole records, then 9 bytes of record 7's header: 3 events (frames 2, 4, 6, "
         "refused), then says the capture is truncated (after record 6); exit as above"),
        ("mixed-nontcp-v4.pcap", "ok", "1",
         "not_ip=2 not_tcp=5 tcp=%d (1-2 NOT_IP; 3-7 NOT_TCP)" % nt_tcp,
         "2 ARP (not IP); 2 DNS/UDP, 2 ICMP echo, 1 ICMPv6 NS (IP, not TCP); then SYN + RA: "
         "counts 7 non-TCP packets, 1 event (frame %d, refused), exit 0" % nt.rows[0][1]),
        ("malformed-mixed.pcap", "ok", "1",
         "4 MALFORMED; 6 MALFORMED; 8 OK with options.malformed; 10 OK or MALFORMED; "
         "11 TRUNCATED; 12 TRUNCATED",
         "frames %s. None of them yields an event (4 and 6 carry R but do not decode; 11 and 12 "
         "are resets cut before their flags); the option-overrun ACK decodes with its options "
         "flagged malformed; the 20-header IPv6 chain is legal but long: a decoder's extension "
         "header limit may refuse it. 1 event: the valid client RA (frame %d, abort), exit 0"
         % (mal_frames, mal.rows[0][1])),
    ]
    with open(os.path.join(args.out, "BADINPUT.tsv"), "w") as f:
        f.write("file\tkind\treset_events\tcounts\ttool_must\n")
        for b in bad:
            f.write("\t".join(b) + "\n")
    print("wrote %d files, %d MANIFEST rows" % (len(files), len(rows)))


if __name__ == "__main__":
    main()
