# SPDX-License-Identifier: GPL-2.0-or-later
"""rstwatch explain over the crafted captures, judged three ways:
1. every reset in MANIFEST.tsv gets one event with the manifest's class, sender, origin
   (one event with "copies": N stands for N captured copies of one reset);
2. the whole JSON output equals expected/<file>.json (UPDATE=1 rewrites those);
3. the bad inputs of BADINPUT.tsv give the exit status and messages they must.
Usage: check_explain.py RSTWATCH_BINARY"""
import json
import os
import struct
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
rstwatch = os.path.abspath(sys.argv[1])
update = os.environ.get("UPDATE") == "1"
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def explain(path, *opts):
    # Run beside the file, so that pcap_filename in the expected output is its bare name.
    p = subprocess.run([rstwatch, "explain", *opts, os.path.basename(path)], capture_output=True,
                       text=True, timeout=60, cwd=os.path.dirname(path))
    if "Sanitizer" in p.stderr or "runtime error" in p.stderr:
        fail(f"{os.path.basename(path)}: sanitizer report:\n{p.stderr}")
    return p


manifest = {}
with open(os.path.join(here, "MANIFEST.tsv")) as f:
    next(f)
    for line in f:
        file, frame, cls, sender, origin, _ = line.rstrip("\n").split("\t", 5)
        manifest.setdefault(file, []).append((int(frame), cls, sender, origin))

badinput = {}
with open(os.path.join(here, "BADINPUT.tsv")) as f:
    next(f)
    for line in f:
        fields = line.rstrip("\n").split("\t")
        badinput[fields[0]] = fields[1]

os.makedirs(os.path.join(here, "expected"), exist_ok=True)
checked = 0
for file in sorted(manifest):
    path = os.path.join(here, "pcap", file)
    p = explain(path, "--json")
    want_rc = 1 if badinput.get(file) == "truncated" else 0
    if p.returncode != want_rc:
        fail(f"{file}: exit {p.returncode}, want {want_rc}: {p.stderr.strip()}")
    events = [json.loads(line) for line in p.stdout.splitlines()]
    # An event of a capture that records direction stands for every captured copy of
    # its reset (a forwarded one: in and out), each a MANIFEST row (tshark lists both).
    events = [ev for ev in events for _ in range(ev.get("copies", 1))]
    rows = sorted(manifest[file])
    if len(events) != len(rows):
        fail(f"{file}: {len(events)} events, manifest has {len(rows)} resets")
        continue
    for ev, (frame, cls, sender, origin) in zip(events, rows):
        got = (ev["rst"]["class"], ev["rst"]["sender"], ev["rst"]["origin"])
        if got != (cls, sender, origin):
            fail(f"{file} frame {frame}: got {' '.join(got)}, want {cls} {sender} {origin} "
                 f"(evidence {','.join(ev['rst']['evidence'])})")
        if ev["event_type"] != "rst" or ev["proto"] != "TCP" or not ev["rst"]["evidence"]:
            fail(f"{file} frame {frame}: envelope incomplete: {ev}")
        checked += 1
    exp = os.path.join(here, "expected", file + ".json")
    if update:
        with open(exp, "w") as f:
            f.write(p.stdout)
    elif not os.path.exists(exp) or open(exp).read() != p.stdout:
        diff = subprocess.run(["diff", "-u", exp, "-"], input=p.stdout, capture_output=True,
                              text=True).stdout
        fail(f"{file}: JSON differs from expected/{file}.json (UPDATE=1 to accept):\n{diff}")

# Bad inputs.
for file, kind in sorted(badinput.items()):
    path = os.path.join(here, "pcap", file)
    p = explain(path)
    if kind == "unreadable":
        if p.returncode != 2 or "cannot read capture" not in p.stderr or p.stdout.count(" > "):
            fail(f"{file}: want exit 2 and 'cannot read capture', got {p.returncode}: "
                 f"{p.stderr.strip()}")
    elif kind == "truncated":
        if p.returncode != 1 or "truncated after" not in p.stderr or "3 resets" not in p.stdout:
            fail(f"{file}: want 3 resets, then 'truncated', exit 1; got {p.returncode}: "
                 f"{p.stdout} {p.stderr}")
    elif file.startswith("mixed-nontcp"):
        if p.returncode != 0 or "2 not-ip" not in p.stdout or "5 not-tcp" not in p.stdout:
            fail(f"{file}: non-TCP packets not counted as BADINPUT.tsv says: {p.stdout}")
    elif file.startswith("malformed"):
        if p.returncode != 0 or "1 reset " not in p.stdout or "malformed" not in p.stdout \
                or "truncated" not in p.stdout:
            fail(f"{file}: malformed packets not counted, or not 1 event: {p.stdout}")

# A link type rstwatch cannot decode (147, LINKTYPE_USER0) in a pcap and in a pcapng file:
# a warning naming it on stderr and exit 1 (a partial answer), even beside a good file.
with tempfile.TemporaryDirectory() as tmp:
    ref = open(os.path.join(here, "pcap", "refused-v4.pcap"), "rb").read()
    user0_pcap = os.path.join(tmp, "user0.pcap")
    with open(user0_pcap, "wb") as f:
        f.write(ref[:20] + struct.pack("<I", 147) + ref[24:])
    ng = bytearray(open(os.path.join(here, "pcap", "linktype-ethernet.pcapng"), "rb").read())
    shb_len = struct.unpack_from("<I", ng, 4)[0]
    assert struct.unpack_from("<IIH", ng, shb_len) == (1, struct.unpack_from("<I", ng, shb_len + 4)[0], 1)
    struct.pack_into("<H", ng, shb_len + 8, 147)          # the IDB's link type
    user0_pcapng = os.path.join(tmp, "user0.pcapng")
    with open(user0_pcapng, "wb") as f:
        f.write(ng)
    good = os.path.join(here, "pcap", "refused-v4.pcap")
    for path in (user0_pcap, user0_pcapng):
        name = os.path.basename(path)
        p = subprocess.run([rstwatch, "explain", "--json", path, good], capture_output=True,
                           text=True, timeout=60)
        want = f"{path}: 4 frames of link type 147 (unknown) cannot be decoded"
        if p.returncode != 1 or want not in p.stderr:
            fail(f"{name}: want exit 1 and '{want}', got {p.returncode}: {p.stderr.strip()}")
        if len(p.stdout.splitlines()) != 2:
            fail(f"{name} + refused-v4.pcap: want the good file's 2 events, got:\n{p.stdout}")

# The plain-English line says what to do next.
p = explain(os.path.join(here, "pcap", "refused-v4.pcap"))
if "nothing listens on 203.0.113.20:7001" not in p.stdout or "refused" not in p.stdout:
    fail("refused-v4 text output lacks its troubleshooting step:\n" + p.stdout)
p = subprocess.run([rstwatch, "explain", "--max-flows", "0", "x"], capture_output=True, text=True)
if p.returncode != 2 or "--max-flows" not in p.stderr:
    fail("a bad flag value is not a clear usage error")

# Capture filters (-f): tcpdump's syntax, compiled for each file's link type; '-' too.
pc = lambda f: os.path.join(here, "pcap", f)
def n_events(p):
    return len(p.stdout.splitlines())
for file, flt, want in (("refused-v4.pcap", "host 203.0.113.20", 2),
                        ("refused-v4.pcap", "host 192.0.2.99", 0),
                        ("linktype-raw.pcap", "tcp port 7001", 2),          # DLT_RAW
                        ("linktype-sll2.pcap", "port 7001", 2),
                        ("direction-epb-flags.pcapng", "port 7001", 2),
                        ("tunnel-gre-key-seq-csum.pcap", "proto gre", 2),   # outer headers
                        ("tunnel-gre-key-seq-csum.pcap", "tcp", 0)):
    p = explain(pc(file), "--json", "-f", flt)
    if p.returncode != 0 or n_events(p) != want:
        fail(f"{file} -f '{flt}': exit {p.returncode}, {n_events(p)} events, want {want}: "
             f"{p.stderr.strip()}")
p = explain(pc("refused-v4.pcap"), "-f", "host 192.0.2.99")
if "4 left out by the filter" not in p.stdout:
    fail(f"-f: frames left out are not counted: {p.stdout}")
p = explain(pc("refused-v4.pcap"), "-f", "hots 192.0.2.99")
if p.returncode != 2 or "bad filter 'hots 192.0.2.99'" not in p.stderr or "syntax error" not in p.stderr:
    fail(f"a bad filter: exit {p.returncode}, want 2 with pcap's message: {p.stderr.strip()}")
p = explain(pc("linktype-raw.pcap"), "-f", "ether host 02:00:00:00:00:01")
if p.returncode != 2 or "does not apply to link type 101" not in p.stderr:
    fail(f"a filter the link type cannot take: exit {p.returncode}: {p.stderr.strip()}")
p = subprocess.run([rstwatch, "explain", "--json", "-f", "src port 7001 or dst port 7001", "-"],
                   input=open(pc("refused-v4.pcap"), "rb").read(), capture_output=True,
                   timeout=60)
if p.returncode != 0 or len(p.stdout.splitlines()) != 2:
    fail(f"-f on a pipe: exit {p.returncode}, {len(p.stdout.splitlines())} events, want 2")

# Alike resets collapse in text (first line, then '^ N more alike'); JSON keeps each one;
# the summary counts every reset; top senders per class.
file = "repeated-unknown-v4.pcap"
text = explain(pc(file)).stdout.splitlines()
js = explain(pc(file), "--json").stdout.splitlines()
events = [l for l in text if " > " in l]
more = [int(l.split()[1]) for l in text if l.startswith("  ^ ")]
want_more = ["  ^ 29 more alike until 2026-01-01 00:00:00.290000 (ports 41000-41029)",
             "  ^ 4 more alike until 2026-01-01 00:00:00.350000 (ports 41200-41204)"]
if len(js) != 36 or len(events) != 3 or [l for l in text if l.startswith("  ^ ")] != want_more:
    fail(f"{file}: want 36 JSON events, 3 text lines + {want_more}; got {len(js)}, "
         f"{len(events)}:\n" + "\n".join(text))
if len(events) + sum(more) != 36 or "  unknown          36" not in text or \
        "   from 203.0.113.20 (36)" not in text:
    fail(f"{file}: lines and counts do not add up to the summary's 36:\n" + "\n".join(text))
if sum(" > " in l for l in explain(pc(file), "--no-collapse").stdout.splitlines()) != 36:
    fail(f"{file}: --no-collapse does not print one line per reset")
p = subprocess.run([rstwatch, "explain", pc("refused-v4.pcap"), pc("refused-v6.pcap")],
                   capture_output=True, text=True, timeout=60)
if "   from 203.0.113.20 (2), 2001:db8:2::20 (2)" not in p.stdout.splitlines():
    fail(f"top senders per class missing or wrong:\n{p.stdout}")
# pcap_filename tells several files apart.
p = subprocess.run([rstwatch, "explain", "--json", "refused-v4.pcap", "abort-v4.pcap"],
                   capture_output=True, text=True, timeout=60, cwd=os.path.join(here, "pcap"))
names = [json.loads(l)["pcap_filename"] for l in p.stdout.splitlines()]
if names != ["refused-v4.pcap"] * 2 + ["abort-v4.pcap"]:
    fail(f"pcap_filename: {names}")

print(f"{checked} resets checked in {len(manifest)} captures, {len(badinput)} bad inputs")
print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
