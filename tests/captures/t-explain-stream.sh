#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch explain - fed slowly through a pipe: events as their packets come (check_stream.py).
set -u
cd "$(dirname "$0")/../.."
bin=build/asan/rstwatch
[ -x "$bin" ] || { echo "skip: $bin not built (make build/asan/rstwatch)"; exit 77; }
exec /usr/bin/python3 tests/captures/check_stream.py "$bin"
