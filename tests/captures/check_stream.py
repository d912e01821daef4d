# SPDX-License-Identifier: GPL-2.0-or-later
"""rstwatch explain - over a pipe that a slow writer feeds record by record (as
`tcpdump -U -w - | rstwatch explain -` does): each event must be out before the next record
is written; a suspect reset's event waits for its look-ahead window, which closes in wall
time when nothing more comes; SIGINT on an open pipe prints the summary, exit 0.
Usage: check_stream.py RSTWATCH_BINARY"""
import json
import os
import select
import signal
import struct
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
rstwatch = os.path.abspath(sys.argv[1])
failures = []
# The ASan build answers in milliseconds; this leaves room for a loaded machine.
PROMPT_S = 1.5


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def manifest_frames(file):
    with open(os.path.join(here, "MANIFEST.tsv")) as f:
        next(f)
        return sorted(int(l.split("\t")[1]) for l in f if l.split("\t")[0] == file)


def pcap_chunks(path):
    """The file header, then one chunk per frame."""
    d = open(path, "rb").read()
    assert struct.unpack_from("<I", d)[0] == 0xA1B2C3D4
    chunks, off = [d[:24]], 24
    while off < len(d):
        caplen = struct.unpack_from("<IIII", d, off)[2]
        chunks.append(d[off:off + 16 + caplen])
        off += 16 + caplen
    return chunks


def pcapng_chunks(path):
    """Every block up to the first packet as one chunk, then one chunk per block; a
    packet block (EPB) is a frame."""
    d = open(path, "rb").read()
    blocks, off = [], 0
    while off < len(d):
        btype, blen = struct.unpack_from("<II", d, off)
        blocks.append((btype, d[off:off + blen]))
        off += blen
    first = next(i for i, (t, _) in enumerate(blocks) if t == 6)
    return [b"".join(b for _, b in blocks[:first])] + [b for _, b in blocks[first:]]


def lines_within(p, buf, seconds):
    """Complete stdout lines arriving within seconds (buf carries a partial line)."""
    out, end = [], time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return out
        r, _, _ = select.select([p.stdout], [], [], left)
        if not r:
            return out
        data = os.read(p.stdout.fileno(), 65536)
        if not data:
            return out
        buf[0] += data
        while b"\n" in buf[0]:
            line, buf[0] = buf[0].split(b"\n", 1)
            out.append(line)
        if out:
            return out


def start(*opts):
    return subprocess.Popen([rstwatch, "explain", "--json", *opts, "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def prompt_events(file, chunks):
    """Each reset's event arrives before the next frame is written."""
    resets = manifest_frames(file)
    p, buf, got = start(), [b""], 0
    p.stdin.write(chunks[0])
    p.stdin.flush()
    for frame, chunk in enumerate(chunks[1:], 1):
        p.stdin.write(chunk)
        p.stdin.flush()
        if frame in resets:
            lines = lines_within(p, buf, PROMPT_S)
            if len(lines) != 1:
                fail(f"{file}: frame {frame} (a reset) written, {len(lines)} events within "
                     f"{PROMPT_S} s, want 1 before the next frame")
            got += len(lines)
        else:
            time.sleep(0.05)            # a slow writer: the reader sees one frame at a time
    p.stdin.close()
    rest = p.stdout.read().splitlines()
    rc = p.wait(timeout=30)
    err = p.stderr.read().decode()
    if rc != 0 or rest or got != len(resets) or "Sanitizer" in err:
        fail(f"{file}: exit {rc}, {got} events while streaming + {len(rest)} at the end, "
             f"want {len(resets)} while streaming: {err}")
    else:
        print(f"ok   {file}: {got} events, each before the next frame was written")


def suspect_waits_wall_time():
    """lookahead-forged-silent-v4: the forged reset's event waits for its 2 s window;
    with nothing more written, wall time closes it."""
    file = "lookahead-forged-silent-v4.pcap"
    chunks = pcap_chunks(os.path.join(here, "pcap", file))
    frame = manifest_frames(file)[0]
    p, buf = start(), [b""]
    p.stdin.write(b"".join(chunks[:frame + 1]))
    p.stdin.flush()
    t0 = time.monotonic()
    early = lines_within(p, buf, 1.0)
    late = early or lines_within(p, buf, 4.0)
    waited = time.monotonic() - t0
    if early:
        fail(f"{file}: the suspect reset's event came at once, before its look-ahead window")
    elif len(late) != 1:
        fail(f"{file}: no event {waited:.1f} s after the suspect reset with the pipe quiet")
    else:
        ev = json.loads(late[0])
        print(f"ok   {file}: suspect reset's event after {waited:.1f} s of quiet pipe "
              f"({ev['rst']['class']})")
        if ev["rst"]["class"] != "firewall":
            fail(f"{file}: want firewall, got {ev['rst']['class']}")
    # SIGINT with the pipe still open: the summary, exit 0.
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "none (killed)"
    err = p.stderr.read().decode()
    if rc != 0 or "summary: 1 reset in 1 file" not in err:
        fail(f"{file}: SIGINT on an open pipe: exit {rc}, stderr {err!r}")
    else:
        print(f"ok   SIGINT on an open pipe: summary printed, exit 0")
    p.stdin.close()


prompt_events("refused-v4.pcap", pcap_chunks(os.path.join(here, "pcap", "refused-v4.pcap")))
prompt_events("linktype-ethernet.pcapng",
              pcapng_chunks(os.path.join(here, "pcap", "linktype-ethernet.pcapng")))
prompt_events("tunnel-vxlan.pcap", pcap_chunks(os.path.join(here, "pcap", "tunnel-vxlan.pcap")))
suspect_waits_wall_time()
print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
