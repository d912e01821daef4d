#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Resets made by real servers, nginx, haproxy and redis-server (Debian
# packages nginx-light, haproxy and redis-server, in DEB_TEST), in the scenario suite's namespaces: each judged
# against its kernel's tcp_send_reset reason, live and offline, as
# t-scenarios.sh judges the others (tests/scenarios/apps.sh; artifacts in
# build/test-logs/apps). Exit 77 when a server is not installed.
set -u
cd "$(dirname "$0")/../.."
for b in nginx haproxy redis-server; do
	command -v "$b" >/dev/null || { echo "skip: $b not installed (make check installs DEB_TEST)"; exit 77; }
done
source tests/scenarios/scenarios.sh
SCENARIO_OUT=build/test-logs/apps ONLY="${ONLY:-${APPS[*]}}" exec tests/scenarios/t-scenarios.sh
