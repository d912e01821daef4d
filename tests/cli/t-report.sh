#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# explain --report rendered in headless Chromium (check_report.py). Installs Debian's
# chromium when run as root and it is missing; exit 77 if it cannot.
set -u
cd "$(dirname "$0")/../.."
bin=build/asan/rstwatch
[ -x "$bin" ] || { echo "skip: $bin not built (make build/asan/rstwatch)"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 not installed"; exit 77; }
if ! command -v chromium >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "skip: chromium not installed (apt-get install chromium)"; exit 77; }
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends chromium; } >/dev/null 2>&1 ||
		{ echo "skip: cannot install chromium (apt-get failed)"; exit 77; }
fi
exec /usr/bin/python3 tests/cli/check_report.py "$bin" "$(command -v chromium)"
