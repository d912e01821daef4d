# SPDX-License-Identifier: GPL-2.0-or-later
"""The scenario suite's judge (Debian's /usr/bin/python3).

judge.py rows --scenario NAME --ports P4,P6 --reasons "REASON=class ..." \\
              --nokernel class/origin[/action] --wire N TRACE LIVE.json OFFLINE.json
  One TSV row per reset that crossed the gateway (OFFLINE.json: `rstwatch explain
  --json` on the gateway's ingress capture lists them all), with its ground truth,
  the live daemon's verdict (LIVE.json) and the offline one, and a verdict.
  Truth, never taken from rstwatch: the tcp:tcp_send_reset record (TRACE) of the
  endpoint kernel that sent the reset, its reason mapped to a class by --reasons;
  a reset no endpoint kernel sent gets --nokernel. Records written while the
  scenario held the sender silent ("rstw silent-begin ADDR PORT" markers) never
  reached the wire and are set aside.
judge.py table TSV...
  Per-reset lines, the confusion table (truth x live class), exit 1 on a failure.
"""
import argparse
import ipaddress
import json
import re
import sys

CLASSES = ["refused", "syn-conflict", "accept-overflow", "half-open", "firewall", "time-wait",
           "abort", "idle-timeout", "unread-data", "injected", "unknown"]
COLUMNS = ["scenario", "family", "src", "dst", "flags", "reason", "truth", "live",
           "live_origin", "action", "offline", "verdict", "note"]

# Where the offline view may legitimately differ from the live one:
# (scenario, live class, offline class) -> why.
JUSTIFIED = {
    ("enforce", "firewall", "injected"):
        "live, --suppress firewall dropped the reset at once, so the daemon had no reason to "
        "watch what the server did next; offline looks ahead and sees the server go on "
        "talking after it (the connection survived): forged, injected",
}

RECORD = re.compile(r"\s(\d+\.\d+): tcp_send_reset: .* src=(\S+) dest=(\S+) state=\S+ reason=(\S+)")
MARKER = re.compile(r"tracing_mark_write: rstw (silent-begin|silent-end) (\S+) (\d+)")


def address(text):
    """Canonical text of an address; a dual-stack socket's IPv4-mapped one as IPv4."""
    a = ipaddress.ip_address(text)
    return str(getattr(a, "ipv4_mapped", None) or a)


def endpoint(text):
    """'198.51.100.2:9101' or '[2001:db8::2]:9101' -> (address, port)."""
    addr, port = text.rsplit(":", 1)
    return address(addr.strip("[]")), int(port)


def tuple_of(e):
    return address(e["src_ip"]), e["src_port"], address(e["dest_ip"]), e["dest_port"]


def read_trace(path, ports):
    """Kernel resets of our ports, in order, each (tuple, reason, on_wire)."""
    silent, out = set(), []
    for line in open(path, errors="replace"):
        m = MARKER.search(line)
        if m:
            key = (address(m.group(2)), int(m.group(3)))
            (silent.add if m.group(1) == "silent-begin" else silent.discard)(key)
            continue
        m = RECORD.search(line)
        if not m:
            continue
        (sa, sp), (da, dp) = endpoint(m.group(2)), endpoint(m.group(3))
        if sp not in ports and dp not in ports:
            continue
        quiet = (sa, sp) in silent or (sa, dp) in silent
        out.append(((sa, sp, da, dp), m.group(4), not quiet))
    return out


def listener_of(rec, t):
    """A listener's reset (accept queue overflow) is traced with the listening
    socket's addresses, the wildcard and no peer: match it by source port."""
    return ipaddress.ip_address(rec[0]).is_unspecified and rec[1] == t[1]


def read_events(path):
    out = []
    for line in open(path):
        e = json.loads(line)
        if e.get("event_type") == "rst":
            out.append(e)
    return out


def rows(a):
    ports = {int(p) for p in a.ports.split(",")}
    reasons = dict(r.split("=") for r in a.reasons.split())
    nk = a.nokernel.split("/") if a.nokernel else None
    trace = read_trace(a.trace, ports)
    live = [e for e in read_events(a.live) if {e["src_port"], e["dest_port"]} & ports]
    wire = [e for e in read_events(a.offline) if {e["src_port"], e["dest_port"]} & ports]
    kernel = [t for t in trace if t[2]]
    out = []

    def row(fam, t, flags, reason, truth, lv, offline, verdict, note=""):
        out.append([a.scenario, fam, "%s:%d" % t[:2], "%s:%d" % t[2:], flags, reason, truth,
                    lv["rst"]["class"] if lv else "-", lv["rst"]["origin"] if lv else "-",
                    lv["action"] if lv else "-", offline, verdict, note])

    for w in wire:
        t = tuple_of(w)
        fam = "6" if ":" in t[0] else "4"
        # An amending event (live, observe mode) supersedes the first one.
        same = [e for e in live if tuple_of(e) == t and e["rst"]["seq"] == w["rst"]["seq"] and
                e["rst"]["flags"] == w["rst"]["flags"]]
        lv = same[-1] if same else None
        for e in same:
            live.remove(e)
        rec = next((k for k in kernel if k[0] == t or listener_of(k[0], t)), None)
        if rec:
            kernel.remove(rec)
            reason, origin, action = rec[1], "endpoint", "accept"
            truth = reasons.get(reason, "?" + reason)
        elif nk:
            reason, truth, origin = "-", nk[0], nk[1]
            action = nk[2] if len(nk) > 2 else "accept"
        else:
            reason, truth, origin, action = "-", "?no-sender", "-", "-"
        offline = w["rst"]["class"]
        note = ""
        if not lv:
            verdict = "FAIL:no-live-event"
        elif lv["rst"]["class"] != truth and not names(lv, truth):
            verdict = "FAIL:live-class"
        elif lv["rst"]["origin"] != origin:
            verdict = "FAIL:live-origin"
        elif lv["action"] != action:
            verdict = "FAIL:live-action"
        elif offline != truth and not names(w, truth):
            note = JUSTIFIED.get((a.scenario, lv["rst"]["class"], offline), "")
            verdict = "ok:offline-differs" if note else "FAIL:offline-class"
        elif lv["rst"]["class"] != truth or offline != truth:
            # What the wire cannot tell apart, the event says: the truth is
            # its other candidate (evidence could-be:CLASS).
            verdict, note = "ok:candidate", "the truth is the event's could-be candidate"
        else:
            verdict = "ok"
        row(fam, t, w["rst"]["flags"], reason, truth, lv, offline, verdict, note)
    for e in live:
        t = tuple_of(e)
        row("6" if ":" in t[0] else "4", t, e["rst"]["flags"], "-", "-", e, "-",
            "FAIL:live-event-not-on-wire")
    for t, reason, _ in kernel:
        row("6" if ":" in t[0] else "4", t, "-", reason, reasons.get(reason, "?" + reason), None,
            "-", "FAIL:kernel-reset-not-seen")
    explained = len(read_events(a.offline))
    if a.wire != explained:
        out.append([a.scenario, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-",
                    "FAIL:explain-missed", "the capture holds %d resets, explain reported %d"
                    % (a.wire, explained)])
    for r in out:
        print("\t".join(str(x) for x in r))


def names(event, cls):
    """The event names cls as the other candidate of a reset the wire cannot
    tell apart (evidence could-be:CLASS)."""
    return "could-be:" + cls in event["rst"]["evidence"]


def table(paths):
    rs = []
    for p in paths:
        for line in open(p):
            rs.append(dict(zip(COLUMNS, line.rstrip("\n").split("\t"))))
    print("%-12s %-4s %-40s %-26s %-15s %-15s %-15s %s" % (
        "scenario", "fam", "reset", "kernel reason", "truth", "live", "offline", "verdict"))
    for r in rs:
        print("%-12s %-4s %-40s %-26s %-15s %-15s %-15s %s" % (
            r["scenario"], "v" + r["family"], r["src"] + " > " + r["dst"] + " " + r["flags"],
            r["reason"], r["truth"], r["live"] + ("(drop)" if r["action"] == "drop" else ""),
            r["offline"], r["verdict"]))
        if r["note"]:
            print("%-12s   note: %s" % ("", r["note"]))
    truths = sorted({r["truth"] for r in rs}, key=lambda c: (c not in CLASSES, CLASSES.index(c)
                                                             if c in CLASSES else 0, c))
    cols = [c for c in CLASSES if any(c in (r["live"], r["truth"]) for r in rs)] + \
        sorted({r["live"] for r in rs} - set(CLASSES))
    print("\nconfusion table: rows = ground truth, columns = rstwatch run (live)")
    w = max([len(c) for c in cols] + [5]) + 1
    print("%-16s" % "truth \\ live" + "".join(c.rjust(w) for c in cols))
    for t in truths:
        print("%-16s" % t + "".join(str(sum(1 for r in rs if r["truth"] == t and r["live"] == c)
                                         or ".").rjust(w) for c in cols))
    bad = [r for r in rs if r["verdict"].startswith("FAIL")]
    print("\n%d resets, %d right live (%d as the event's other candidate), %d offline "
          "differences justified, %d failures" % (
              len(rs), sum(1 for r in rs if r["verdict"].startswith("ok")),
              sum(1 for r in rs if r["verdict"] == "ok:candidate"),
              sum(1 for r in rs if r["verdict"] == "ok:offline-differs"), len(bad)))
    return 1 if bad or not rs else 0


p = argparse.ArgumentParser()
sub = p.add_subparsers(dest="cmd", required=True)
r = sub.add_parser("rows")
r.add_argument("--scenario", required=True)
r.add_argument("--ports", required=True)
r.add_argument("--reasons", default="")
r.add_argument("--nokernel", default="")
r.add_argument("--wire", type=int, required=True)
r.add_argument("trace")
r.add_argument("live")
r.add_argument("offline")
t = sub.add_parser("table")
t.add_argument("tsv", nargs="+")
a = p.parse_args()
if a.cmd == "rows":
    rows(a)
else:
    sys.exit(table(a.tsv))
