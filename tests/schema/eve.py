#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""rstwatch's JSON lines against src/event.schema.json, and a daemon's log
against the counts it printed when it stopped.

  eve.py check FILE...         every line of each FILE (JSON lines; '-' stdin)
  eve.py account STDERR LOG... the LOGs (one daemon's, in order) validated,
                               and their events add up to the
                               "rstwatch: stopped: ..." line in STDERR:
                               resets = events logged + suppressed + dropped,
                               and class by class when nothing was dropped.
Imported, validate_lines() is what the capture and corpus tests call.
Exit 0 when all is well, 1 with the first problems listed.
"""
import base64
import hashlib
import ipaddress
import json
import os
import re
import sys

import jsonschema

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                      "event.schema.json")
_validator = None


def validator():
    global _validator
    if _validator is None:
        with open(SCHEMA) as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema, format_checker=jsonschema.FormatChecker())
    return _validator


def community_id(src, dst, sport, dport, proto=6, seed=0):
    """Community ID v1 written again from the spec, in Python: an independent
    check of the C one on every event."""
    a, b = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if (a, sport) > (b, dport):
        a, b, sport, dport = b, a, dport, sport
    data = seed.to_bytes(2, "big") + a + b + bytes([proto, 0]) + \
        sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def validate_lines(lines, where):
    """The parsed events of lines (str); problems as a list of strings."""
    events, problems = [], []
    v = validator()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError as e:
            problems.append(f"{where}:{n}: not JSON ({e}): {line[:120]}")
            continue
        errs = sorted(v.iter_errors(ev), key=lambda e: list(e.absolute_path))
        for e in errs[:3]:
            path = "/".join(str(p) for p in e.absolute_path) or "(top)"
            problems.append(f"{where}:{n}: {path}: {e.message[:200]}")
        if not errs and ev["event_type"] == "rst":
            want = community_id(ev["src_ip"], ev["dest_ip"], ev["src_port"], ev["dest_port"])
            if ev["community_id"] != want:
                problems.append(f"{where}:{n}: community_id {ev['community_id']}, want {want}")
        events.append(ev)
    return events, problems


STOPPED = re.compile(r"rstwatch: stopped: resets (\d+) = events logged (\d+) \+ suppressed (\d+)"
                     r" \+ dropped (\d+); by class:(.*)")
CLASS = re.compile(r" ([a-z-]+) (\d+) \(suppressed (\d+)\)")


def account(stderr, logs):
    events, problems = [], []
    for path in logs:
        with open(path, errors="replace") as f:
            evs, p = validate_lines(f.read().splitlines(), path)
        events += evs
        problems += p
    log = " + ".join(logs)
    stopped = None
    with open(stderr, errors="replace") as f:
        for line in f:
            m = STOPPED.search(line)
            if m:
                stopped = m
    if not stopped:
        return problems + [f"{stderr}: no 'rstwatch: stopped:' line"]
    resets, logged, suppressed, dropped = (int(stopped.group(i)) for i in range(1, 5))
    by_class = {c: (int(n), int(s)) for c, n, s in CLASS.findall(stopped.group(5))}
    if resets != logged + suppressed + dropped:
        problems.append(f"stopped line does not add up: {stopped.group(0)}")
    if sum(n for n, _ in by_class.values()) != resets or \
            sum(s for _, s in by_class.values()) != suppressed:
        problems.append(f"stopped line's classes do not add up: {stopped.group(0)}")
    rst = [e for e in events if e.get("event_type") == "rst"]
    first = [e for e in rst if "amends" not in e]
    # An amendment gives its reset's final class, the one the counters hold.
    final = {(e["flow_id"], e["amends"]["timestamp"]): e["rst"]["class"]
             for e in rst if "amends" in e}
    seen = {}
    for e in first:
        cls = final.get((e["flow_id"], e["timestamp"]), e["rst"]["class"])
        seen[cls] = seen.get(cls, 0) + 1
    summarised = sum(e["rst_suppressed"]["events"] for e in events
                     if e.get("event_type") == "rst_suppressed")
    if len(first) != logged:
        problems.append(f"{log}: {len(first)} events, the daemon counted {logged} logged "
                        f"({resets} resets - {suppressed} suppressed - {dropped} dropped)")
    if summarised != suppressed:
        problems.append(f"{log}: summaries say {summarised} suppressed, the daemon {suppressed}")
    if dropped == 0:
        for cls in sorted(set(seen) | set(by_class)):
            n, s = by_class.get(cls, (0, 0))
            if seen.get(cls, 0) + s != n:
                problems.append(f"{log}: class {cls}: {seen.get(cls, 0)} events + {s} "
                                f"suppressed != {n} resets counted")
    return problems


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        problems, n = [], 0
        for path in argv[1:]:
            with (sys.stdin if path == "-" else open(path, errors="replace")) as f:
                evs, p = validate_lines(f.read().splitlines(), path)
            n += len(evs)
            problems += p
        if not problems:
            print(f"schema: {n} lines valid")
    elif len(argv) >= 3 and argv[0] == "account":
        problems = account(argv[1], argv[2:])
        if not problems:
            print(f"accounting: {' + '.join(argv[2:])} adds up to the daemon's counts")
    else:
        sys.stderr.write(__doc__)
        return 2
    for p in problems[:20]:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
