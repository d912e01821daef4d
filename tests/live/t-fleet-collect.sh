#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# t-fleet-collect.sh: events and metrics of two rstwatch gateways collected
# centrally on the engines operators run for it (issue 16), started here from
# the samples in rules/fleet/: IPv4 crosses gw1, IPv6 gw2; each gateway runs
# rstwatch (observe mode) and rsyslog (its own host name, rsyslog-gateway.conf:
# imfile on the event log, omrelp); a collector namespace runs
# rsyslog (rsyslog-collector.conf) and Debian's Prometheus (prometheus.yml,
# scraping both gateways every second, with rstwatch.rules.yml and
# fleet.rules.yml).
#
#  A. events: every line of both gateways' logs (moved away and reopened
#     once, as logrotate does) reaches the collector's file
#     exactly once, as {"host":"gwN","event":EVENT}, EVENT byte for byte the
#     line the gateway logged, host the gateway that logged it; also the
#     lines logged while the collector was gone (its link down, its rsyslog
#     killed) until a new one started.
#  B. metrics: Prometheus' HTTP API answers sum by (class)
#     (rstwatch_resets_total) with the events both gateways logged, class by
#     class (and by gateway, through the sample's gateway label).
#  C. the fleet alert RstwatchForgedResetsOnSeveralGateways passes its
#     promtool unit test and fires in the live server once a reset forged on
#     the path reaches each gateway.
# Missing rsyslog, rsyslog-relp or prometheus: 77.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet.sh"
need "$RSTWATCH" nft
command -v rsyslogd >/dev/null || skip "rsyslog not installed (apt-get install rsyslog)"
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so ] || [ -n "$(find /usr/lib -name omrelp.so 2>/dev/null)" ] ||
	skip "rsyslog's RELP modules not installed (apt-get install rsyslog-relp)"
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	skip "prometheus not installed (apt-get install prometheus)"
fleet_up
routes_via 1 2

# sample NAME OUT SED...: rules/fleet/NAME with the SED expressions applied,
# into OUT; exactly CHANGED lines may differ (the paths, the intervals).
sample() {
	local name=$1 out=$2 changed=$3
	shift 3
	sed "$@" "rules/fleet/$name" >"$out"
	local n
	n=$(diff "rules/fleet/$name" "$out" | grep -c '^>')
	[ "$n" = "$changed" ] || fail "$name: $n lines changed, want $changed"
}

# --- rsyslog: the collector, then one per gateway, each with its host name -
mkdir -p "$tmp/col" "$tmp/col-work"
sample rsyslog-collector.conf "$tmp/col/collect.conf" 1 -e "s|/var/log/rstwatch/|$tmp/col/|"
printf 'global(workDirectory="%s")\ninclude(file="%s")\n' "$tmp/col-work" "$tmp/col/collect.conf" \
	>"$tmp/col/rsyslog.conf"
# rsyslogd NAME NS HOST CONF: rsyslogd in its own UTS namespace named HOST
rsyslog_start() {
	bg "$1" "$2" unshare --uts sh -c 'hostname "$1" && exec rsyslogd -n -f "$2" -i "$3"' \
		- "$3" "$4" "$tmp/$1.pid"
}
rsyslog_start rs-col "$K" collector "$tmp/col/rsyslog.conf"
rs_col=$bg_pid
listening() { in_ns "$K" ss -ltn | grep -q "$COLLECTOR:2514 "; }
wait_for 10 listening || fail "collector rsyslog does not listen"
declare -a rs_gw
for n in 1 2; do
	mkdir -p "$tmp/gw$n" "$tmp/gw$n-work"
	sample rsyslog-gateway.conf "$tmp/gw$n/ship.conf" 1 -e "s|/var/log/rstwatch/|$tmp/gw$n/|"
	printf 'global(workDirectory="%s")\ninclude(file="%s")\n' "$tmp/gw$n-work" "$tmp/gw$n/ship.conf" \
		>"$tmp/gw$n/rsyslog.conf"
	gw_start $n rw$n --log "$tmp/gw$n/events.json" --rate-limit 0
	rsyslog_start rs-gw$n "${GW_NS[n]}" gw$n "$tmp/gw$n/rsyslog.conf"
	rs_gw[n]=$bg_pid
done

# --- Prometheus in the collector ------------------------------------------
mkdir -p "$tmp/prom"
sample prometheus.yml "$tmp/prom/prometheus.yml" 2 -e 's/^\(  [a-z_]*_interval:\) 15s$/\1 1s/'
ln -s "$PWD/rules/prometheus/rstwatch.rules.yml" "$PWD/rules/fleet/fleet.rules.yml" "$tmp/prom/"
promtool check config "$tmp/prom/prometheus.yml" >"$tmp/promcheck.out" 2>&1 ||
	fail "promtool check config: $(cat "$tmp/promcheck.out")"
bg prometheus "$K" prometheus --config.file="$tmp/prom/prometheus.yml" \
	--storage.tsdb.path="$tmp/prom/data" --web.listen-address="$COLLECTOR:9090"
prom=$bg_pid
# promql EXPR: the API's answer, one "LABELS VALUE" line per sample
promql() {
	in_ns "$K" "$PY" - "$COLLECTOR:9090" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://%s/api/v1/query?%s" % (sys.argv[1], urllib.parse.urlencode({"query": sys.argv[2]}))
r = json.load(urllib.request.urlopen(url, timeout=3))
assert r["status"] == "success", r
for s in sorted(r["data"]["result"], key=lambda s: sorted(s["metric"].items())):
    labels = ",".join("%s=%s" % kv for kv in sorted(s["metric"].items()))
    print(labels, s["value"][1])
PY
}
both_up() { [ "$(promql 'sum(up{job="rstwatch"})' 2>/dev/null | awk '{ print $NF }')" = 2 ]; }
wait_for 30 both_up || fail "Prometheus does not scrape both gateways: $(promql 'up' 2>&1)"
ok "Prometheus scrapes both gateways (up == 1 each)"

# --- traffic: refused connections and one forgery on the path, per gateway -
bg server "$S" "$PY" tests/live/peer.py serve 8081
wait_for 10 grep -q listening "$tmp/server.out" || fail "server did not listen"
for i in 1 2 3 4 5 6; do
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect $S4 7001); [ "$r" = refused ] || fail "connect: $r"
done
for i in 1 2 3 4; do
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect $S6 7001); [ "$r" = refused ] || fail "connect: $r"
done
# forged DST: a stream of rounds to DST:8081 that a box on the server's side
# resets (TTL 40) while it is paused
forged() {
	local name=f$1
	bg "$name-forge" "$S" "$PY" tests/live/forge.py wan 8081 40 0 "$tmp/$name.trigger"
	local forger=$bg_pid
	bg "$name" "$C" "$PY" tests/live/peer.py rounds "$2" 8081 40 "$tmp/$name.pause" "$tmp/$name.resume"
	wait_for 10 grep -q armed "$tmp/$name-forge.out" || fail "forger saw no server data ($2)"
	touch "$tmp/$name.pause"
	wait_for 10 grep -q paused "$tmp/$name.out" || fail "rounds to $2 did not pause"
	touch "$tmp/$name.trigger"
	wait "$forger" || fail "forger failed: $(cat "$tmp/$name-forge.err")"
	touch "$tmp/$name.resume"
	wait_for 10 grep -q 'reset after' "$tmp/$name.out" || fail "the forged reset did not reach the client ($2)"
}
forged 1 $S4
forged 2 $S6
has_middlebox() { grep -q '"origin":"middlebox"' "$tmp/gw$1/events.json"; }
wait_for 10 has_middlebox 1 && wait_for 10 has_middlebox 2 || fail "a forgery was not logged as middlebox"
sleep 0.5    # the client's and server's own answers to the forgery, if any

# --- A ----------------------------------------------------------------------
# gw_log N: gateway N's whole event log, the part logrotate moved away first
gw_log() { cat "$tmp/gw$1/events.json.1" "$tmp/gw$1/events.json" 2>/dev/null; }
# logrotate's way (rules/rstwatch.logrotate): move the file, SIGHUP; imfile
# finishes the old file and follows the new one.
for n in 1 2; do
	mv "$tmp/gw$n/events.json" "$tmp/gw$n/events.json.1"
	kill -HUP "${gw_pid[n]}"
done
for n in 1 2; do wait_for 5 test -e "$tmp/gw$n/events.json" || fail "A: gw$n did not reopen its log"; done
for a in $S4 $S6; do
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect $a 7003); [ "$r" = refused ] || fail "connect: $r"
done
rotated() { grep -q '"src_port":7003,' "$tmp/gw$1/events.json"; }
wait_for 10 rotated 1 && wait_for 10 rotated 2 || fail "A: no event in the new logs"
# The collector crashes (its link goes, then its rsyslog is killed: nothing
# tells the gateways) while both gateways log more; a new one starts once
# the link is back: the gateways send again what it never acknowledged.
in_tcp() { in_ns "$K" ss -tn state established "( sport = :2514 )" | grep -c "$COLLECTOR:2514"; }
wait_true 10 '[ "$(in_tcp)" = 2 ]' || fail "A: the gateways are not connected to the collector"
for n in 1 2; do ip -n "$K" link set gw$n down; done
kill -9 "$rs_col"
wait "$rs_col" 2>/dev/null
for i in 1 2 3; do
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect $S4 7002); [ "$r" = refused ] || fail "connect: $r"
	r=$(in_ns "$C" "$PY" tests/live/peer.py connect $S6 7002); [ "$r" = refused ] || fail "connect: $r"
done
logged_during() { [ "$(grep -c '"src_port":7002,' "$tmp/gw$1/events.json")" = 3 ]; }
wait_for 10 logged_during 1 && wait_for 10 logged_during 2 || fail "A: the refusals during the outage not logged"
sleep 0.5
for n in 1 2; do ip -n "$K" link set gw$n up; done
rsyslog_start rs-col2 "$K" collector "$tmp/col/rsyslog.conf"
rs_col=$bg_pid
rst_lines() { gw_log "$1" | grep -c '"event_type":"rst"'; }
want=$(($(rst_lines 1) + $(rst_lines 2)))
arrived() { [ "$(grep -c '"event_type":"rst"' "$tmp/col/fleet.json" 2>/dev/null)" -ge "$want" ]; }
wait_for 25 arrived || fail "A: $(grep -c . "$tmp/col/fleet.json" 2>/dev/null) of $want events at the collector"
sleep 1.5    # a duplicate would come now
"$PY" - "$tmp/col/fleet.json" <(gw_log 1) <(gw_log 2) <<'PY' || fail "A: the collected events differ"
import collections, json, sys
got = collections.Counter()
for line in open(sys.argv[1]):
    o = json.loads(line)                   # every collected line is JSON
    assert list(o) == ["host", "event"], line
    prefix, event = '{"host":%s,"event":' % json.dumps(o["host"]), line[:-1]
    assert event.startswith(prefix) and event.endswith("}"), line
    got[(o["host"], event[len(prefix):-1])] += 1  # the event's text as it came
sent = collections.Counter()
for host, path in (("gw1", sys.argv[2]), ("gw2", sys.argv[3])):
    for line in open(path):
        sent[(host, line[:-1])] += 1
assert got == sent, ("missing", list((sent - got).items())[:3], "extra", list((got - sent).items())[:3])
assert all(n == 1 for n in got.values()), "a duplicate"
by_host = collections.Counter(h for h, _ in got)
rst = collections.Counter(h for h, e in got if json.loads(e)["event_type"] == "rst")
print(" ".join("%s: %d lines (%d rst)" % (h, by_host[h], rst[h]) for h in sorted(by_host)))
PY
collected=$("$PY" -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["host"] for l in open(sys.argv[1]))
print(", ".join("%s %d" % kv for kv in sorted(c.items())))' "$tmp/col/fleet.json")
ok "A: every line of both gateways' logs at the collector once, byte for byte, with its host ($collected lines; 3 of each logged while the collector was gone)"

# --- B ----------------------------------------------------------------------
# The events by class (and by gateway and class), from the gateways' logs
logged() {
	"$PY" - "$1" <(gw_log 1) <(gw_log 2) <<'PY'
import collections, json, sys
c = collections.Counter()
for gw, path in (("gw1", sys.argv[2]), ("gw2", sys.argv[3])):
    for line in open(path):
        e = json.loads(line)
        if e["event_type"] == "rst" and "amends" not in e:
            c[(("class=" + e["rst"]["class"]) if sys.argv[1] == "class" else
               "class=%s,gateway=%s" % (e["rst"]["class"], gw))] += 1
for k in sorted(c):
    print(k, c[k])
PY
}
# Every class is a series from the start: keep those with resets.
nonzero() { promql "$1" | awk '$2 != "0"'; }
# Both read afresh at each look: a reset judged meanwhile (the gateways' own
# connections to the collector) reaches the log and the next scrape.
scraped() {
	want_class=$(logged class) want_gw=$(logged gateway)
	[ "$(nonzero 'sum by (class) (rstwatch_resets_total)')" = "$want_class" ] &&
		[ "$(nonzero 'sum by (gateway, class) (rstwatch_resets_total)')" = "$want_gw" ]
}
wait_for 10 scraped || fail "B: Prometheus says
$(nonzero 'sum by (gateway, class) (rstwatch_resets_total)')
the logs say
$want_gw"
ok "B: sum by (class) (rstwatch_resets_total) in Prometheus = the events logged: $(echo $want_class)"
echo "    by gateway: $(echo $want_gw)"

# --- C ----------------------------------------------------------------------
(cd rules/fleet && promtool test rules fleet.rules.test.yml) >"$tmp/rtest.out" 2>&1 ||
	fail "C: promtool test rules: $(cat "$tmp/rtest.out")"
firing() {
	in_ns "$K" "$PY" - "$COLLECTOR:9090" <<'PY'
import json, sys, urllib.request
r = json.load(urllib.request.urlopen("http://%s/api/v1/alerts" % sys.argv[1], timeout=3))
for a in r["data"]["alerts"]:
    if a["labels"]["alertname"] == "RstwatchForgedResetsOnSeveralGateways" and a["state"] == "firing":
        print(a["annotations"]["summary"])
PY
}
fires() { [ -n "$(firing)" ]; }
wait_for 10 fires || fail "C: the fleet alert does not fire: $(promql 'ALERTS' 2>&1)"
ok "C: RstwatchForgedResetsOnSeveralGateways passes promtool test rules and fires live: $(firing)"

# --- stop: rstwatch first (its logs add up), then rsyslog, then Prometheus -
for n in 1 2; do gw_stop $n rw$n "$tmp/gw$n/events.json" "$tmp/gw$n/events.json.1"; done
for p in "${rs_gw[1]}" "${rs_gw[2]}" "$rs_col" "$prom"; do
	kill -TERM "$p" && wait "$p" || fail "pid $p exited with $? on SIGTERM"
done
no_sanitizer_report rw1 rw2
echo "1 passed, 0 failed"
