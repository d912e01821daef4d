# SPDX-License-Identifier: GPL-2.0-or-later
"""explain --report: the HTML file is self-contained, escapes what comes from the capture,
and renders in headless Chromium: its script builds the timeline (one bar per class and
time bucket with resets), the screenshot is not blank, the console stays silent.
Usage: check_report.py RSTWATCH CHROMIUM"""
import html.parser
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

rstwatch, chromium = os.path.abspath(sys.argv[1]), sys.argv[2]
pcaps = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "captures", "pcap")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def png_colours(path):
    """Distinct RGB(A) pixels of an 8-bit truecolour PNG (what Chromium writes)."""
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n"
    off, idat, w = 8, b"", 0
    while off < len(d):
        n, kind = struct.unpack_from(">I4s", d, off)
        body = d[off + 8:off + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack_from(">IIBB", body)
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        off += 12 + n
    raw, stride, prev, colours = zlib.decompress(idat), w * bpp, bytearray(w * bpp), set()
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):          # PNG filters (RFC 2083 6.3)
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(line[i:i + bpp]) for i in range(0, stride, bpp * 7))
        prev = line
    return colours


class Elements(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


with tempfile.TemporaryDirectory() as tmp:
    # A file name that is markup: it must stay text everywhere in the report (the "/" of
    # "</script>" makes it a directory and a file).
    evil = "x<img src=x onerror=alert(1)>'\"&</script><!--.pcap"
    os.makedirs(os.path.join(tmp, os.path.dirname(evil)))
    shutil.copy(os.path.join(pcaps, "refused-v4.pcap"), os.path.join(tmp, evil))
    for f in ("tunnel-gre.pcap", "repeated-unknown-v4.pcap", "lookahead-window-v4.pcap"):
        shutil.copy(os.path.join(pcaps, f), tmp)
    report = os.path.join(tmp, "report.html")
    p = subprocess.run([rstwatch, "explain", "-q", "--report", report, evil, "tunnel-gre.pcap",
                        "repeated-unknown-v4.pcap", "lookahead-window-v4.pcap"], cwd=tmp,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or "Sanitizer" in p.stderr:
        fail(f"explain --report: exit {p.returncode}: {p.stderr}")
    page = open(report, encoding="utf-8").read()
    if "<img" in page or "alert(1)>" in page.replace("alert(1)&gt;", ""):
        fail("the file name's markup reached the page unescaped")
    if "x&lt;img src=x onerror=alert(1)&gt;&#39;&quot;&amp;&lt;/script&gt;&lt;!--.pcap" not in page:
        fail("the file name is not in the page as escaped text")
    if "\\u003cimg" not in page:
        fail("the file name is not in the script's data with < escaped")
    if re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page):
        fail("the page loads something from the network")
    el = Elements()
    el.feed(page)
    tags = [t for t, _ in el.tags]
    if tags.count("script") != 2 or "img" in tags or "link" in tags:
        fail(f"want exactly the data and the page script, no img/link: {tags}")
    rows = page.count("<tr>") - 2       # header rows of the two tables
    # 2 + 2 + 36 + 2 resets; classes refused, injected, unknown; flows: 2 + 1 + 36 + 2 > 20
    for want in ("42 resets in", "<td>refused</td><td class=\"n\">2</td>",
                 "<td>injected</td><td class=\"n\">4</td>",
                 "<td>unknown</td><td class=\"n\">36</td>", "<code>203.0.113.20</code> (36)",
                 "nothing listens on 203.0.113.20:7001", "(in gre 192.0.2.2 &gt; 192.0.2.1)"):
        if want not in page:
            fail(f"the report lacks {want!r}")

    url = "file://" + report
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--user-data-dir=" + os.path.join(tmp, "profile"), "--enable-logging=stderr",
             "--v=0"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", url], capture_output=True,
                         text=True, timeout=60)
    m = re.search(r'data-timeline-bars="(\d+)"', dom.stdout)
    bars = int(m.group(1)) if m else 0
    if bars == 0 or dom.stdout.count("<rect") != bars or 'id="timeline-svg"' not in dom.stdout:
        fail(f"the script did not build the timeline: {bars} bars, "
             f"{dom.stdout.count('<rect')} rects")
    if "x&lt;img src=x onerror=alert(1)&gt;" not in dom.stdout or "<img" in dom.stdout:
        fail("in the rendered page the file name is not plain text")
    for cls in ("refused (2)", "injected (4)", "unknown (36)"):
        if cls not in dom.stdout:
            fail(f"the legend lacks {cls}")
    shot = os.path.join(tmp, "shot.png")
    sh = subprocess.run([chromium, *flags, "--window-size=1100,900", "--screenshot=" + shot,
                         url], capture_output=True, text=True, timeout=60)
    console = [l for l in (dom.stderr + sh.stderr).splitlines() if ":CONSOLE" in l]
    if console:
        fail("console messages:\n" + "\n".join(console))
    if not os.path.exists(shot):
        fail(f"no screenshot: {sh.stderr[-500:]}")
    else:
        n = len(png_colours(shot))
        if n < 8:
            fail(f"the screenshot is blank ({n} colours)")
        else:
            print(f"ok   rendered: {bars} timeline bars, screenshot with {n} colours, "
                  f"no console message")

print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
