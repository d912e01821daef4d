#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerates tests/fuzz/seeds/fuzz_netlink/ from a real kernel (root): a
# throwaway namespace, loopback TCP queued and logged by nftables, conntrack
# with accounting and timestamps on. Run by hand; the seeds are committed.
set -eu
cd "$(dirname "$0")/../.."
ns=rstw-seeds-$$
out=tests/fuzz/seeds/fuzz_netlink
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" sysctl -q net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_timestamp=1 || true
ip netns exec "$ns" nft -f - <<'NFT'
table inet seeds {
	chain out {
		type filter hook output priority 0; policy accept;
		ct state new tcp dport 9103 counter
		tcp dport 9102 log prefix "seed " group 7399
		tcp sport 9102 log prefix "seed rst " group 7399
	}
}
NFT
# The queue through the xt target: nft's own queue statement needs nft_queue,
# which not every kernel has (rstwatch check says which).
for ipt in iptables ip6tables; do
	ip netns exec "$ns" $ipt -A OUTPUT -p tcp --dport 9101 -j NFQUEUE --queue-num 7399 --queue-bypass
done
rm -rf "$out" && mkdir -p "$out"
ip netns exec "$ns" /usr/bin/python3 tests/fuzz/netlink_seeds.py "$out"
