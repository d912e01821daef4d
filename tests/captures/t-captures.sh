#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch explain over the crafted captures (tests/captures/README.md), under ASan/UBSan.
set -u
cd "$(dirname "$0")/../.."
bin=build/asan/rstwatch
[ -x "$bin" ] || { echo "skip: $bin not built (make build/asan/rstwatch)"; exit 77; }
exec /usr/bin/python3 tests/captures/check_explain.py "$bin"
