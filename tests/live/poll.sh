# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Running in a namespace and waiting with a deadline: sourced by
# tests/live/lib.sh (the live tests) and bench/lib.sh (the benchmarks).

# in_ns NS CMD...: CMD in network namespace NS.
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds or time is up.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# wait_true SECONDS 'EXPRESSION': poll a shell expression, evaluated afresh
# each time, until it holds or time is up. For a condition on a command's
# output: `wait_for 5 [ "$(f)" = 1 ]` would run f once, before waiting.
wait_true() {
	local deadline=$((SECONDS + $1))
	until eval "$2"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}
