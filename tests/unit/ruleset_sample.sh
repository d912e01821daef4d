#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Remake ruleset_sample.json from ruleset_sample.nft with the real nft, in a
# network namespace of its own (root), plus one iptables-nft REJECT rule;
# ruleset_sample.txt is how nft prints it (test_ruleset checks our text of
# each rule against it).
set -eu
here=$(dirname "$0")
ns=rstw-rsample-$$
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" nft -f "$here/ruleset_sample.nft"
ip netns exec "$ns" iptables-nft -A INPUT -p tcp --dport 9140 -j REJECT --reject-with tcp-reset
ip netns exec "$ns" nft -j list ruleset > "$here/ruleset_sample.json"
ip netns exec "$ns" iptables-nft-save | grep -v '^#' > "$here/ruleset_sample.iptables"
ip netns exec "$ns" nft -a list ruleset 2>/dev/null > "$here/ruleset_sample.txt"
