#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Corpus test of rstwatch: public captures from Zeek's and Suricata's test suites.

Run by tests/corpus/t-corpus.sh (which handles skips and the diff against the
committed table); usable alone:

    /usr/bin/python3 tests/corpus/agree.py --corpus DIR --rstwatch BIN \
        --explained tests/corpus/EXPLAINED.tsv --out build/corpus/AGREEMENT.md

For every capture it checks:
  1. counts: every reset packet (tshark -Y 'tcp.flags.reset==1') yields exactly one
     rstwatch event, and the events name the same 4-tuples, reset for reset;
     where the connection's first pure SYN is in the capture, rst.sender must be
     'client' exactly when the reset came from that SYN's sender;
  2. no sanitizer report or crash from the ASan/UBSan build; exit 1 (truncated
     capture) only where tshark also complains about the file;
  3. agreement with Zeek's conn_state/history (labels_per_conn.tsv): sender and stage,
     every disagreement explained in EXPLAINED.tsv (file, orig, resp, explanation),
     no stale explanation; an explanation starting 'BUG:' documents a known rstwatch
     bug and still fails the test until the bug is fixed (then the row goes stale).
It writes the table to --out and exits 0 when all holds, 1 otherwise.
Only the standard library is used (Debian's /usr/bin/python3).
"""

import argparse
import collections
import concurrent.futures
import csv
import ipaddress
import json
import os
import re
import subprocess
import sys

TSHARK_FILTER = "tcp.flags.reset==1"
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer"
                          r"|runtime error:|SUMMARY: \w+Sanitizer")
# The exit codes t-corpus.sh gives the sanitizers (ASan's default, 1, would look like
# rstwatch's "truncated capture").
SANITIZER_EXIT = {86, 87}

# ---------------------------------------------------------------- stages

STAGE_DOC = """\
Stage mapping (per reset for rstwatch, per connection for Zeek):

| stage | rstwatch event | Zeek conn_state |
|---|---|---|
| `REJ` (SYN answered by a reset) | class `refused` | `REJ` |
| `RSTOS0` (originator reset its own unanswered SYN) | evidence contains `own-syn-unanswered` | `RSTOS0` |
| `EST` (established or later: mid-stream, closing, closed) | every other event | `RSTO`, `RSTR`, `RSTRH` (the resetter had sent a SYN/ACK, so it was synchronized), `SF`, `S1`, `S2`, `S3`, `SH`, `SHR`, `OTH` (mid-stream traffic, no handshake seen) |

Zeek's `S0` (SYN, no reply, no reset) and `-` give no stage: only senders are compared.
A connection gets stage `-` when Zeek gives no stage, or when neither Zeek's history nor
rstwatch has a reset on it. Stage agrees (`Y`) when every rstwatch event of the
connection maps to Zeek's stage; a connection Zeek says was reset with no rstwatch event
is `N`.
"""

SENDER_DOC = """\
Sender: the true side of a reset is the endpoint whose address:port is the event's
`src`; Zeek's `orig` is the true originator. rstwatch's `rst.sender` must be `client`
when `src` is Zeek's orig and `server` when it is Zeek's resp (`unknown` never agrees).
Where Zeek gives a history, the set of sides that reset (from the events) must also equal
its reset letters (`R` = orig sent a reset, `r` = resp; Zeek records each letter once per
connection); without a history, Zeek's conn_state gives the side (`REJ`, `RSTR`, `RSTRH`
= resp; `RSTO`, `RSTOS0` = orig). Sender agrees (`Y`) when both hold.
"""

ZEEK_STAGE = {"REJ": "REJ", "RSTOS0": "RSTOS0"}
for _s in ("RSTO", "RSTR", "RSTRH", "SF", "S1", "S2", "S3", "SH", "SHR", "OTH"):
    ZEEK_STAGE[_s] = "EST"
ZEEK_STATE_SIDES = {"REJ": {"resp"}, "RSTR": {"resp"}, "RSTRH": {"resp"},
                    "RSTO": {"orig"}, "RSTOS0": {"orig"}}


def rst_stage(ev):
    r = ev["rst"]
    if r.get("class") == "refused":
        return "REJ"
    if "own-syn-unanswered" in (r.get("evidence") or []):
        return "RSTOS0"
    return "EST"


# ---------------------------------------------------------------- helpers

def norm_ip(s):
    try:
        return str(ipaddress.ip_address(s.strip().strip("[]")))
    except ValueError:
        return s.strip()


def parse_endpoint(s):
    """'1.2.3.4:80' or '2001:db8::1:80' -> (ip, port) ; '-' -> None"""
    s = s.strip()
    if s in ("", "-"):
        return None
    ip, _, port = s.rpartition(":")
    return (norm_ip(ip), int(port))


def ep_str(ep):
    ip, port = ep
    return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


def md(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


# ---------------------------------------------------------------- running tools

def run_tshark(path):
    """Reset packets according to tshark, in frame order: list of
    (frame, (src, sport, dst, dport), syn_sender) where syn_sender is the (ip, port) that
    sent the first pure SYN seen on that 4-tuple before the reset, or None.

    One tshark pass: the filter also lets pure SYNs through, and the resets are the
    frames with tcp.flags.reset set -- the same frames as -Y 'tcp.flags.reset==1'."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "%s || (tcp.flags.syn==1 && tcp.flags.ack==0)"
           % TSHARK_FILTER, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=l",
           "-e", "frame.number", "-e", "frame.protocols",
           "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
           "-e", "tcp.srcport", "-e", "tcp.dstport",
           "-e", "tcp.flags.reset", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, errors="replace")
    err = "\n".join(l for l in p.stderr.splitlines()
                    if l.strip() and "Running as user" not in l)
    resets, quoted, first_syn = [], 0, {}
    for line in p.stdout.splitlines():
        if not line.strip():
            continue
        f = line.split("\t")
        f += [""] * (11 - len(f))
        frame, protos, ip4s, ip4d, ip6s, ip6d, sport, dport, rst, syn, ack = f[:11]
        chain = protos.split(":")
        # a TCP header quoted inside an ICMP error is not a reset packet
        last_tcp = max(i for i, p_ in enumerate(chain) if p_ == "tcp") if "tcp" in chain else -1
        if any(p_ in ("icmp", "icmpv6") for p_ in chain[:last_tcp]):
            quoted += rst in ("1", "True")
            continue
        l3 = [p_ for p_ in chain[:last_tcp] if p_ in ("ip", "ipv6")]
        if l3 and l3[-1] == "ipv6":
            src, dst = ip6s, ip6d
        else:
            src, dst = ip4s, ip4d
        a, b = (norm_ip(src), int(sport or -1)), (norm_ip(dst), int(dport or -1))
        key = frozenset((a, b))
        if rst in ("1", "True"):
            resets.append((int(frame), a + b, first_syn.get(key)))
        elif syn in ("1", "True") and ack not in ("1", "True"):
            first_syn.setdefault(key, a)
    return {"rc": p.returncode, "err": err, "resets": resets, "quoted": quoted}


def run_rstwatch(binary, path):
    p = subprocess.run([binary, "explain", "--json", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, errors="replace")
    events, bad = [], []
    for line in p.stdout.splitlines():
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
            ev["_tuple"] = (norm_ip(ev["src_ip"]), int(ev["src_port"]),
                            norm_ip(ev["dest_ip"]), int(ev["dest_port"]))
            if not isinstance(ev["rst"]["class"], str) or not isinstance(ev["rst"]["sender"], str):
                raise ValueError("rst.class / rst.sender not strings")
            events.append(ev)
        except (ValueError, KeyError, TypeError) as e:
            bad.append("%s: %s" % (e, line[:200]))
    return {"rc": p.returncode, "err": p.stderr, "events": events, "bad": bad}


def check_file(name, ts, rw):
    """Returns (ok, per-file line, notes list for the table)."""
    problems, notes = [], []
    san = SANITIZER_RE.search(rw["err"])
    if san or rw["rc"] in SANITIZER_EXIT:
        problems.append("sanitizer report (rc=%d)" % rw["rc"])
    elif rw["rc"] < 0 or rw["rc"] >= 128:
        problems.append("crashed (rc=%d)" % rw["rc"])
    elif rw["rc"] == 1:
        if ts["rc"] != 0 or ts["err"]:
            notes.append("truncated capture (rstwatch exit 1; tshark agrees: %s)"
                         % strip_dirs((ts["err"].splitlines() or ["rc=%d" % ts["rc"]])[0])[:160])
        else:
            problems.append("rstwatch exit 1 (truncated) but tshark reads the file "
                            "without complaint: %s" % error_line(rw["err"]))
    elif rw["rc"] != 0:
        problems.append("rstwatch exit %d: %s" % (rw["rc"], error_line(rw["err"])))
    if rw["bad"]:
        problems.append("%d unparsable JSON line(s): %s" % (len(rw["bad"]), rw["bad"][0]))
    nt, nr = len(ts["resets"]), len(rw["events"])
    if nt != nr:
        problems.append("count mismatch: tshark %d reset(s), rstwatch %d event(s)" % (nt, nr))
    else:
        a = collections.Counter(t for _, t, _ in ts["resets"])
        b = collections.Counter(e["_tuple"] for e in rw["events"])
        if a != b:
            problems.append("4-tuples differ: tshark-only %s; rstwatch-only %s"
                            % (dict(a - b), dict(b - a)))
    # Where the SYN was seen, the originator is not a guess: the first pure SYN's
    # sender is the client (Zeek's rule too). Pair resets and events per 4-tuple in order.
    syn_checked = syn_ok = 0
    evq = collections.defaultdict(collections.deque)
    for e in rw["events"]:
        evq[e["_tuple"]].append(e)
    for frame, tup, syn_from in ts["resets"]:
        e = evq[tup].popleft() if evq[tup] else None
        if e is None or syn_from is None:
            continue
        want = "client" if tup[:2] == syn_from else "server"
        syn_checked += 1
        if e["rst"]["sender"] == want:
            syn_ok += 1
        else:
            problems.append("frame %d %s -> %s: the SYN came from %s, so sender should be "
                            "%s; rstwatch says %s (%s)" % (
                                frame, ep_str(tup[:2]), ep_str(tup[2:]), ep_str(syn_from),
                                want, e["rst"]["sender"], ",".join(e["rst"].get("evidence") or [])))
    if ts["quoted"]:
        notes.append("%d ICMP-quoted RST header(s) not counted" % ts["quoted"])
    line = "%-4s %s: tshark %d reset(s), rstwatch %d event(s), exit %d; SYN-seen senders %d/%d" % (
        "ok" if not problems else "FAIL", name, nt, nr, rw["rc"], syn_ok, syn_checked)
    for n in notes:
        line += "\n       note: " + n
    for p in problems:
        line += "\n       " + p
    if problems and rw["err"].strip():
        line += "\n       rstwatch stderr: " + " / ".join(
            l.strip() for l in rw["err"].strip().splitlines()[-6:])
    return (not problems), line, notes, problems, (syn_ok, syn_checked)


def error_line(s):
    """rstwatch's error message, without the capture's directory (the table must not
    depend on where the corpus is)."""
    ls = [l.strip() for l in s.splitlines() if l.strip() and not l.startswith((" ", "\t"))]
    ls = [l for l in ls if not l.startswith("summary:")] or ls
    if not ls:
        return "(no stderr)"
    return strip_dirs(ls[0])[:300]


def strip_dirs(s):
    return re.sub(r"[^\s\"']*/(?=[^/\s]+\.pcap)", "", s)


# ---------------------------------------------------------------- Zeek agreement

def zeek_rows(per_conn):
    rows = []
    for r in per_conn:
        if r["source_repo"] != "zeek/zeek" or r["proto"] != "tcp":
            continue
        if r["conn_state"] == "-" and r["history"] == "-":
            continue
        src = r["label_source"]
        row = dict(r)
        row["orig_ep"] = parse_endpoint(r["orig"])
        row["resp_ep"] = parse_endpoint(r["resp"])
        row["wild_orig_port"] = "[3tuple(" in src and "orig_p" not in src.split("[3tuple(")[1].split(")")[0]
        row["ids_note"] = ""
        if "[3tuple(" in src:
            row["ids_note"] = "Zeek names %s only; orig port matched as any" % (
                src.split("[3tuple(")[1].split(")")[0])
        elif "[no-ids" in src:
            row["ids_note"] = "Zeek's log has no ids; ids from the labeller (one row per TCP conn)"
        rows.append(row)
    return rows


def ep_match(ep, want, wild_port=False):
    if want is None:
        return True
    return ep[0] == want[0] and (wild_port or ep[1] == want[1])


def side_of(ev, row):
    """'orig' / 'resp' / None: which of Zeek's endpoints sent this event."""
    s, sp, d, dp = ev["_tuple"]
    src, dst = (s, sp), (d, dp)
    w = row["wild_orig_port"]
    if row["orig_ep"] is None and row["resp_ep"] is None:
        return None
    if ep_match(src, row["orig_ep"], w) and ep_match(dst, row["resp_ep"]):
        return "orig"
    if ep_match(src, row["resp_ep"]) and ep_match(dst, row["orig_ep"], w):
        return "resp"
    return None


def history_sides(h):
    if h in ("", "-"):
        return None
    s = set()
    if "R" in h:
        s.add("orig")
    if "r" in h:
        s.add("resp")
    return s


def assign_events(rows, events_by_file):
    """Each rstwatch event goes to one Zeek row of its file. Where Zeek logged several
    connections on one 4-tuple (it split the flow), an event goes to the row whose history
    has the reset letter of the event's true side; if none or several do, to the first
    such candidate in the label order (which then shows the disagreement)."""
    assigned = collections.defaultdict(list)
    unlabelled = collections.defaultdict(list)
    for fname, events in events_by_file.items():
        frows = [r for r in rows if r["file"] == fname]
        for ev in events:
            cands = [(r, side_of(ev, r)) for r in frows]
            cands = [(r, s) for r, s in cands if s is not None]
            if not cands:
                unlabelled[fname].append(ev)
                continue
            if len(cands) > 1:
                letter = {"orig": "R", "resp": "r"}
                fit = [(r, s) for r, s in cands if letter[s] in r["history"]]
                if fit:
                    cands = fit
            r, s = cands[0]
            assigned[id(r)].append((ev, s))
    return assigned, unlabelled


def judge_row(row, evs):
    """Returns dict with sender Y/N, stage Y/N/-, auto notes."""
    want = {"orig": "client", "resp": "server"}
    sender_ok = all(ev["rst"]["sender"] == want[s] for ev, s in evs)
    expected = history_sides(row["history"])
    if expected is None:
        expected = ZEEK_STATE_SIDES.get(row["conn_state"])
    got = {s for _, s in evs}
    if expected is not None and got != expected:
        sender_ok = False
    zstage = ZEEK_STAGE.get(row["conn_state"])
    zeek_reset = bool(expected) if expected is not None else False
    if zstage is None or (not evs and not zeek_reset):
        stage = "-"
    elif not evs:
        stage = "N"
    else:
        stage = "Y" if all(rst_stage(ev) == zstage for ev, _ in evs) else "N"
    notes = []
    if row["ids_note"]:
        notes.append(row["ids_note"])
    if any("orig-by-port" in (ev["rst"].get("evidence") or []) for ev, _ in evs):
        notes.append("rstwatch inferred the originator from the ports (no SYN seen)")
    return {"sender": "Y" if sender_ok else "N", "stage": stage, "notes": notes}


def event_cell(evs):
    if not evs:
        return "(none)"
    want = {"orig": "client", "resp": "server"}
    parts = []
    for ev, s in evs:
        p = "%s:%s" % (ev["rst"]["sender"], ev["rst"]["class"])
        if ev["rst"]["sender"] != want[s]:
            p += " (sent by %s)" % s
        parts.append(p)
    return ", ".join(parts)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--rstwatch", required=True)
    ap.add_argument("--explained", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=max(2, 2 * (os.cpu_count() or 1)))
    a = ap.parse_args()

    files = sorted(f for f in os.listdir(a.corpus)
                   if f.endswith(".pcap") or f.endswith(".pcapng"))
    if not files:
        print("no capture in %s" % a.corpus)
        return 1
    labels = {r["file"]: r for r in read_tsv(os.path.join(a.corpus, "LABELS.tsv"))}
    per_conn = read_tsv(os.path.join(a.corpus, "labels_per_conn.tsv"))
    failed = False

    # 1+2: counts and crashes, all files in parallel (tshark's start-up dominates)
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        ts_f = {f: pool.submit(run_tshark, os.path.join(a.corpus, f)) for f in files}
        rw_f = {f: pool.submit(run_rstwatch, a.rstwatch, os.path.join(a.corpus, f))
                for f in files}
        ts = {f: ts_f[f].result() for f in files}
        rw = {f: rw_f[f].result() for f in files}

    print("== counts: every reset packet (tshark) must yield exactly one rstwatch event")
    count_rows, n_ok = [], 0
    for f in files:
        ok, line, notes, problems, syn = check_file(f, ts[f], rw[f])
        print(line)
        n_ok += ok
        failed |= not ok
        count_rows.append((f, len(ts[f]["resets"]), len(rw[f]["events"]), rw[f]["rc"], syn,
                           ok, "; ".join(notes + problems)))
    n_ts = sum(len(ts[f]["resets"]) for f in files)
    n_rw = sum(len(rw[f]["events"]) for f in files)
    print("counts: %d/%d files match; %d reset packets (tshark), %d events (rstwatch)"
          % (n_ok, len(files), n_ts, n_rw))
    for f in files:
        want = labels.get(f, {}).get("n_rst")
        if want and want.isdigit() and int(want) != len(ts[f]["resets"]):
            print("note: LABELS.tsv says %s resets in %s, tshark finds %d"
                  % (want, f, len(ts[f]["resets"])))

    # 3: agreement with Zeek
    rows = zeek_rows(per_conn)
    for r in rows:
        if r["file"] not in rw:
            print("FAIL labels_per_conn.tsv names %s, which is not in the corpus" % r["file"])
            failed = True
    for r in rows:
        # No ids at all: the file's only connection with resets, orig = its SYN sender.
        if r["orig_ep"] is None and r["resp_ep"] is None and r["file"] in ts:
            conns = {frozenset([t[:2], t[2:]]): syn for _, t, syn in ts[r["file"]]["resets"]}
            if len(conns) == 1:
                (pair, syn), = conns.items()
                if syn is not None:
                    r["orig_ep"] = syn
                    r["resp_ep"] = next(iter(pair - {syn}), syn)
                    r["ids_note"] = ("Zeek gives no ids; matched to the capture's only "
                                     "connection with resets (orig = its SYN sender)")
    events_by_file = {f: rw[f]["events"] for f in files if any(r["file"] == f for r in rows)}
    assigned, unlabelled = assign_events(rows, events_by_file)

    explained = {}
    for e in read_tsv(a.explained):
        key = (e["file"], e["orig"], e["resp"])
        if key in explained:
            print("FAIL EXPLAINED.tsv has two rows for %s %s %s" % key)
            failed = True
        explained[key] = (e.get("explanation") or "").strip()
    used = set()

    table, n_sender, n_stage, n_stage_cmp, n_dis, n_expl, n_bug = [], 0, 0, 0, 0, 0, 0
    unexplained, bugs, n_with_reset = [], [], 0
    for r in rows:
        evs = assigned.get(id(r), [])
        j = judge_row(r, evs)
        n_with_reset += bool(evs) or bool(history_sides(r["history"])) \
            or bool(ZEEK_STATE_SIDES.get(r["conn_state"]))
        n_sender += j["sender"] == "Y"
        n_stage += j["stage"] == "Y"
        n_stage_cmp += j["stage"] != "-"
        key = (r["file"], r["orig"], r["resp"])
        expl = ""
        if j["sender"] == "N" or j["stage"] == "N":
            n_dis += 1
            if key in explained and explained[key]:
                used.add(key)
                expl = explained[key]
                n_expl += 1
                if expl.startswith("BUG:"):
                    n_bug += 1
                    bugs.append(key)
            else:
                unexplained.append((r, evs, j))
                expl = "**UNEXPLAINED**"
        else:
            expl = "; ".join(j["notes"])
        conn = "%s → %s" % (r["orig"], r["resp"])
        if r.get("n_records", "1") not in ("", "1"):
            conn += " (%s Zeek records)" % r["n_records"]
        table.append("| %s | %s | %s / %s | %s | %s | %s | %s |" % (
            md(r["file"]), md(conn), md(r["conn_state"]), md(r["history"]),
            md(event_cell(evs)), j["sender"], j["stage"], md(expl)))

    stale = [k for k, v in explained.items() if k not in used]

    # 4: the markdown table
    out = []
    out.append("# rstwatch on the external corpus: counts and agreement with Zeek")
    out.append("")
    out.append("Generated by `tests/corpus/t-corpus.sh` from `../shared/corpus/external` "
               "(`LABELS.tsv`, `labels_per_conn.tsv`, `SOURCES.md`). Do not edit: a change "
               "in rstwatch's output changes this file and fails the test until it is "
               "re-committed with `UPDATE=1 tests/corpus/t-corpus.sh`. Explanations come "
               "from `tests/corpus/EXPLAINED.tsv`.")
    out.append("")
    out.append("## 1. Agreement with Zeek's conn_state / history")
    out.append("")
    out.append("One line per row of `labels_per_conn.tsv` from zeek/zeek whose conn_state "
               "or history is not `-`. Events are rstwatch's, `sender:class` per reset in "
               "capture order.")
    out.append("")
    out.append(SENDER_DOC)
    out.append(STAGE_DOC)
    out.append("Where Zeek logged several connections on one 4-tuple, each event goes to "
               "the one whose history holds the reset letter of the event's true side.")
    out.append("")
    out.append("| file | connection (Zeek orig → resp) | Zeek conn_state / history | "
               "rstwatch events | sender agrees | stage agrees | explanation |")
    out.append("|---|---|---|---|---|---|---|")
    out.extend(table)
    out.append("")
    totals = ("**Totals: %d connections (%d with a reset in Zeek's label or rstwatch's "
              "events), %d agree on sender, %d agree on stage (of %d with a stage to "
              "compare), %d disagreements, %d explained (%d of them marked BUG), %d "
              "unexplained.**" % (len(rows), n_with_reset, n_sender, n_stage, n_stage_cmp,
                                  n_dis, n_expl, n_bug, len(unexplained)))
    out.append(totals)
    out.append("")

    out.append("## 2. Resets without a Zeek conn_state/history label (informational)")
    out.append("")
    out.append("Suricata-verify captures, Zeek captures whose baseline is not a conn.log, "
               "and resets on connections no Zeek row names. Only the counts and the "
               "absence of crashes are checked; the label is what the source test suite "
               "checks. Events: `src → dst sender:class` per reset.")
    out.append("")
    out.append("| file | label (source test suite) | rstwatch events |")
    out.append("|---|---|---|")
    zeek_labelled = {r["file"] for r in rows}
    for f in files:
        if f in zeek_labelled:
            evs = unlabelled.get(f, [])
            if not evs:
                continue
            lab = "resets on connections no Zeek row names"
        else:
            evs = rw[f]["events"]
            L = labels.get(f, {})
            lab = ("%s: %s" % (L["label_kind"], L.get("scenario", ""))) if L \
                else "(not in LABELS.tsv)"
            if L.get("label_kind", "").startswith("zeek other"):
                lab += " — Zeek: " + L.get("labels", "")
            elif "suricata" in L.get("label_kind", ""):
                evc = re.findall(r"\[stream-event:(\w+)\] count=(\d+)", L.get("labels", ""))
                if evc:
                    lab += " — Suricata expects stream-event " + ", ".join(
                        "%s ×%s" % (n, c) for n, c in evc)
        cell = "; ".join("%s → %s %s:%s" % (ep_str(e["_tuple"][:2]), ep_str(e["_tuple"][2:]),
                                             e["rst"]["sender"], e["rst"]["class"])
                         for e in evs) or "(none)"
        out.append("| %s | %s | %s |" % (md(f), md(lab), md(cell)))
    out.append("")

    out.append("## 3. Counts: reset packets (tshark `%s`) vs rstwatch events" % TSHARK_FILTER)
    out.append("")
    out.append("Every reset packet must yield exactly one event on the same 4-tuple; no "
               "sanitizer report or crash (ASan/UBSan build); exit 1 (truncated capture) only "
               "where tshark also complains. SYN-seen: resets on a 4-tuple whose first pure "
               "SYN is in the capture, whose sender must then be `client` exactly when it "
               "sent that SYN (ok/checked).")
    out.append("")
    out.append("| file | tshark resets | rstwatch events | rstwatch exit | SYN-seen senders | result |")
    out.append("|---|---|---|---|---|---|")
    for f, nt, nr, rc, syn, ok, note in count_rows:
        out.append("| %s | %d | %d | %d | %d/%d | %s |" % (
            md(f), nt, nr, rc, syn[0], syn[1],
            md(("ok" if ok else "FAIL") + (": " + note if note else ""))))
    out.append("")
    out.append("**Counts: %d/%d files match; %d reset packets, %d events; senders agree "
               "with the SYN on %d of %d resets whose SYN was seen.**"
               % (n_ok, len(files), n_ts, n_rw, sum(c[4][0] for c in count_rows),
                  sum(c[4][1] for c in count_rows)))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as fh:
        fh.write("\n".join(out) + "\n")

    print()
    print("== agreement with Zeek (table: %s)" % a.out)
    print(totals.strip("*"))
    for r, evs, j in unexplained:
        failed = True
        print("FAIL unexplained disagreement: %s %s -> %s Zeek %s/%s; rstwatch %s; "
              "sender %s stage %s" % (r["file"], r["orig"], r["resp"], r["conn_state"],
                                      r["history"], event_cell(evs), j["sender"], j["stage"]))
        print("     (add a row file<TAB>orig<TAB>resp<TAB>explanation to %s)" % a.explained)
    for k in stale:
        failed = True
        print("FAIL stale explanation in %s (no such disagreement now): %s %s %s"
              % (a.explained, *k))
    for k in bugs:
        failed = True
        print("FAIL known rstwatch bug still present: %s %s %s: %s"
              % (k[0], k[1], k[2], explained[k][:200] + ("..." if len(explained[k]) > 200 else "")))
    for f, nt, nr, rc, syn, ok, note in count_rows:
        if not ok:
            print("FAIL counts/crash: %s: tshark %d, rstwatch %d, exit %d: %s"
                  % (f, nt, nr, rc, note[:200]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
