#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every tracked source file (C, headers, shell, python, nft, the Makefile and
# every other script with a #! line) says its licence in its first two lines:
# SPDX-License-Identifier: GPL-2.0-or-later, as LICENSE gives it.
set -u
cd "$(dirname "$0")/../.."
command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1 ||
	{ echo "skip: not a git checkout (the tracked files are git's list)"; exit 77; }
grep -q 'GNU GENERAL PUBLIC LICENSE' LICENSE 2>/dev/null && grep -q 'Version 2, June 1991' LICENSE ||
	{ echo "FAIL: LICENSE is not the GPL version 2 text"; echo "0 passed, 1 failed"; exit 1; }
# One awk over the first two lines of every tracked file (a fork per file took
# seconds): prints "checked N", then each source file without the line.
result=$(git ls-files -z | xargs -0 awk '
	FNR == 1 {
		if (prev != "" && src && !ok) print "missing " prev
		prev = FILENAME; ok = 0
		src = FILENAME !~ /^tests\/[^\/]+\/expected\// &&
		      (FILENAME ~ /\.(c|h|sh|py|nft)$/ || FILENAME ~ /(^|\/)Makefile$/ || /^#!/)
		if (src) checked++
	}
	FNR <= 2 && /SPDX-License-Identifier: GPL-2.0-or-later/ { ok = 1 }
	FNR > 2 { nextfile }
	END {
		if (prev != "" && src && !ok) print "missing " prev
		print "checked " checked
	}')
checked=$(sed -n 's/^checked //p' <<<"$result")
mapfile -t missing < <(sed -n 's/^missing //p' <<<"$result")
echo "$checked source files checked"
if [ ${#missing[@]} -gt 0 ]; then
	printf 'FAIL: no SPDX line in the first two lines of %s\n' "${missing[@]}"
	echo "0 passed, 1 failed"
	exit 1
fi
[ "$checked" -ge 50 ] || { echo "FAIL: only $checked source files found"; exit 1; }
echo "1 passed, 0 failed"
